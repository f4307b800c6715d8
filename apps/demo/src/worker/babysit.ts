// Babysitting: a network trains while @minibatch/train's monitors watch it — the update/weight
// ratio of every layer, each layer's activations, dead ReLUs — and diagnose() says in words what
// is wrong; and the lectures' weight-initialization experiment on a deep network.
import { Rng, randn, scope } from '@minibatch/core';
import { DataLoader, createDataset } from '@minibatch/data';
import { losses, modelFromConfig, type Module } from '@minibatch/layers';
import { SGD } from '@minibatch/optimizers';
import { Monitor, defaultRegistry, diagnose, layerActivity, trainStep, type MonitorRecord } from '@minibatch/train';
import { loadData } from './data.js';
import { SliceLoop } from './loop.js';

type Post = (message: Record<string, unknown>) => void;

export interface WatchOptions {
  activation: 'relu' | 'tanh' | 'sigmoid';
  init: 'gaussian' | 'xavierNormal' | 'heNormal';
  lr: number;
  /** Scale the inputs ([0, 1] pixels) by this factor — 255 shows what unnormalized inputs do. */
  inputScale: number;
}

/** Every how many steps the monitors look (they cost a forward pass and a copy of the weights). */
const EVERY = 20;

let loop: SliceLoop | null = null;
let cleanup: (() => void) | null = null;

export function stopWatching(): void {
  loop?.stop();
  loop = null;
  cleanup?.();
  cleanup = null;
}

function initializer(init: WatchOptions['init']): unknown {
  return init === 'gaussian' ? { name: 'gaussian', config: { std: 0.01 } } : init;
}

export async function startWatching(options: WatchOptions, post: Post): Promise<void> {
  stopWatching();
  const { train, test } = await loadData('mnist');
  const scale = (x: Float32Array) => (options.inputScale === 1 ? x : x.map((v) => v * options.inputScale));
  const data = createDataset(scale(train.x), train.y, train.shape, { classes: train.classes });
  const probe = createDataset(scale(test.x.slice(0, 256 * 784)), test.y.slice(0, 256), test.shape, { classes: test.classes });
  const model: Module = modelFromConfig(defaultRegistry(), [
    { name: 'flatten' },
    ...[0, 1, 2].map(() => ({ name: 'dense', config: { units: 128, activation: options.activation, kernelInitializer: initializer(options.init) } })),
    { name: 'dense', config: { units: 10 } },
  ]);
  model.build(train.shape, new Rng(1));
  model.train();
  const optimizer = new SGD(model.trainableParameters(), { lr: options.lr, momentum: 0.9 });
  const loader = new DataLoader(data, { batchSize: 64, seed: 1 });
  // fit()'s own watcher: weights copied before a watched step, the probe's activations after it.
  const monitor = new Monitor({ every: EVERY, bins: 24 }, data, probe);
  const batches = loader.stream();
  let step = 0;
  let latest: MonitorRecord | null = null;
  let pending: number[] = [];
  cleanup = () => {
    optimizer.dispose();
    model.dispose();
  };
  loop = new SliceLoop(
    () => {
      const batch = batches.next().value;
      const watched = monitor.before(model, step);
      const { loss } = trainStep(model, batch, { loss: losses.softmaxCrossEntropy(), optimizer });
      monitor.record(loss);
      if (watched) latest = monitor.after(model, step, 1);
      step++;
      pending.push(loss);
      if (!Number.isFinite(loss)) return false; // the diagnoses name it; the run stops
      return step < 3000;
    },
    () => {
      if (latest === null) return;
      post({
        type: 'babysit:update', step, losses: pending, done: !loop?.running,
        layers: latest.activity.map((a) => ({
          label: a.label, activation: a.activation, mean: a.mean, std: a.std, dead: a.dead, saturated: a.saturated, nonFinite: a.nonFinite, histogram: a.histogram,
        })),
        parameters: latest.parameters.filter((p) => p.shape.length === 2).map((p) => ({ name: p.name, ratio: p.updateRatio, norm: p.norm, gradNorm: p.gradNorm })),
        diagnoses: latest.diagnoses,
      });
      pending = [];
    },
    (error) => post({ type: 'babysit:failed', message: error instanceof Error ? error.message : String(error) }),
    120,
  );
  loop.start();
}

/**
 * The initialization experiment: 10 layers of 256 units, unit-Gaussian inputs, and each
 * layer's activations under the chosen init — small Gaussians make them vanish with depth,
 * Xavier keeps tanh alive, He keeps ReLU alive.
 */
export function initExperiment(options: { activation: 'relu' | 'tanh'; init: WatchOptions['init'] }): Record<string, unknown> {
  const model = modelFromConfig(defaultRegistry(), Array.from({ length: 10 }, () => ({
    name: 'dense', config: { units: 256, activation: options.activation, useBias: false, kernelInitializer: initializer(options.init) },
  })));
  try {
    model.build([256], new Rng(7));
    const activity = scope(() => layerActivity(model, randn([500, 256], { rng: new Rng(8) }), { bins: 30 }));
    return {
      layers: activity.map((a) => ({ label: `layer ${a.index + 1}`, mean: a.mean, std: a.std, histogram: a.histogram })),
      diagnoses: diagnose({ activity }),
    };
  } finally {
    model.dispose();
  }
}
