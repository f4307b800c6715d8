// The monitors: each diagnosis is provoked by a run that has the problem, and stays silent on a
// healthy run; the figures behind them are checked against direct computation.
import { describe, expect, it } from 'vitest';
import { blobs } from './blobs.js';
import { Rng, randn, tensor } from '@minibatch/core';
import { DataLoader, type Dataset } from '@minibatch/data';
import { layers, losses, modelFromConfig, type Module } from '@minibatch/layers';
import { Adam, SGD } from '@minibatch/optimizers';
import { regularizers } from '@minibatch/regularizers';
import { createRegistry } from '@minibatch/registry';
import { diagnose, fit, layerActivity, parameterHealth, snapshotParameters, trainStep, type MonitorRecord } from '../src/index.js';

const registry = createRegistry().use(layers).use(regularizers);


/** Trains `steps` steps of SGD at `lr`; returns the losses and the last step's health. */
function train(model: Module, data: Dataset, lr: number, steps: number) {
  model.build(data.shape, new Rng(1));
  model.train();
  const optimizer = new SGD(model.trainableParameters(), { lr });
  const loader = new DataLoader(data, { batchSize: 32, seed: 2 });
  const seen: number[] = [];
  let health = parameterHealth(model);
  while (seen.length < steps) {
    for (const batch of loader) {
      const before = snapshotParameters(model);
      seen.push(trainStep(model, batch, { loss: losses.softmaxCrossEntropy(), optimizer }).loss);
      health = parameterHealth(model, before);
      if (seen.length === steps) break;
    }
  }
  optimizer.dispose();
  return { losses: seen, health };
}

const mlp = (activation: string, extra: Record<string, unknown> = {}) => modelFromConfig(registry, [
  { name: 'dense', config: { units: 32, activation, ...extra } },
  { name: 'dense', config: { units: 4 } },
]);

describe('monitors', () => {
  it('describe each layer: mean, std and histogram as computed directly, dead units after a ReLU', () => {
    const model = modelFromConfig(registry, [{ name: 'dense', config: { units: 6, activation: 'relu', seed: 3 } }, { name: 'tanh' }]);
    model.build([5], new Rng(1));
    const x = randn([40, 5], { rng: new Rng(4) });
    const [dense, tanh] = layerActivity(model, x, { bins: 10 });
    const h = model.forward(x).data();
    const direct = Array.from(h);
    const mean = direct.reduce((a, b) => a + b, 0) / direct.length;
    expect(tanh.mean).toBeCloseTo(mean, 6);
    expect(tanh.std).toBeCloseTo(Math.sqrt(direct.reduce((a, b) => a + (b - mean) ** 2, 0) / direct.length), 6);
    expect(tanh.histogram.counts.reduce((a, b) => a + b, 0)).toBe(240);
    expect(tanh.histogram.edges).toHaveLength(11);
    expect(tanh.activation).toBe('tanh');
    expect(tanh.dead).toBeNull();
    expect(dense.activation).toBe('relu');
    expect(dense.dead).toBeGreaterThanOrEqual(0);
    expect(dense.shape).toEqual([6]);
    model.dispose();
  });

  it('a big layer output is summarized from an even sample of at most 65,536 values; dead units from all of them', () => {
    const model = modelFromConfig(registry, [{ name: 'dense', config: { units: 1000, activation: 'relu', seed: 4 } }]);
    model.build([10], new Rng(1));
    const x = randn([300, 10], { rng: new Rng(5) });
    const [a] = layerActivity(model, x);
    const direct = Array.from(model.forward(x).data());
    const mean = direct.reduce((s, v) => s + v, 0) / direct.length;
    expect(a.histogram.counts.reduce((s, c) => s + c, 0)).toBeLessThanOrEqual(65536);
    expect(Math.abs(a.mean - mean)).toBeLessThan(0.05 * mean);
    const alive = new Set(direct.flatMap((v, i) => (v > 0 ? [i % 1000] : [])));
    expect(a.dead).toBeCloseTo(1 - alive.size / 1000, 10);
    model.dispose();
  });

  it('a healthy run: updates near 1e-3 of the weights, nothing to report', () => {
    const model = mlp('relu');
    const { losses: l, health } = train(model, blobs(256, 1), 0.02, 120);
    const kernels = health.filter((p) => p.shape.length === 2);
    for (const p of kernels) {
      expect(p.updateRatio).toBeGreaterThan(1e-4);
      expect(p.updateRatio).toBeLessThan(1e-2);
      expect(p.gradNorm).toBeGreaterThan(0);
    }
    const x = tensor(blobs(64, 2).x, [64, 8]);
    expect(diagnose({ losses: l, parameters: health, activity: layerActivity(model, x) })).toEqual([]);
    model.dispose();
  });

  it('a learning rate far too high: the loss explodes and the updates are too large', () => {
    const model = mlp('relu');
    const { losses: l, health } = train(model, blobs(256, 1, 5), 30, 40);
    const found = diagnose({ losses: l, parameters: health });
    expect(found.map((d) => d.message).join('\n')).toMatch(/learning rate too high: the loss rose|the loss became (NaN|Infinity).*lower the learning rate 10×|too high/);
    model.dispose();
  });

  it('a learning rate far too low: updates too small, the loss does not fall', () => {
    const model = mlp('relu');
    const { losses: l, health } = train(model, blobs(256, 1), 1e-6, 120);
    const messages = diagnose({ losses: l, parameters: health }).map((d) => d.message).join('\n');
    expect(messages).toMatch(/the learning rate is likely ~\d+× too low/);
    expect(messages).toMatch(/has not fallen in 120 steps/);
    model.dispose();
  });

  it('dead ReLUs: biases started far below zero', () => {
    const model = mlp('relu', { biasInitializer: { name: 'constant', config: { value: -20 } } });
    model.build([8], new Rng(1));
    const [first] = layerActivity(model, tensor(blobs(64, 2).x, [64, 8]));
    expect(first.dead).toBe(1);
    expect(diagnose({ activity: [first] })[0].message).toMatch(/100% of the units never fire \(dead ReLUs\).*He init/);
    model.dispose();
  });

  it('weights that get no gradient are named as such, not as a learning rate too low', () => {
    const model = mlp('relu', { biasInitializer: { name: 'constant', config: { value: -20 } } });
    const { health } = train(model, blobs(64, 1), 0.01, 2);
    const first = health.find((p) => p.shape.length === 2)!;
    expect(first.gradNorm).toBe(0);
    const messages = diagnose({ parameters: health }).filter((d) => d.subject === first.name).map((d) => d.message);
    expect(messages).toEqual([expect.stringMatching(/gets no gradient at all: the units it feeds are dead/)]);
    model.dispose();
  });

  it('saturated tanh: unscaled inputs', () => {
    const model = mlp('tanh');
    model.build([8], new Rng(1));
    const [first] = layerActivity(model, tensor(blobs(64, 2, 100).x, [64, 8]));
    expect(first.saturated).toBeGreaterThan(0.5);
    expect(diagnose({ activity: [first] })[0].message).toMatch(/tanh outputs are saturated.*normalize the inputs.*scaledTanh/);
    model.dispose();
  });

  it('vanishing activations: a deep tanh net with Gaussian(0.01) weights', () => {
    const spec = Array.from({ length: 6 }, () => ({ name: 'dense', config: { units: 64, activation: 'tanh', kernelInitializer: { name: 'gaussian', config: { std: 0.01 } } } }));
    const model = modelFromConfig(registry, spec);
    model.build([64], new Rng(1));
    const activity = layerActivity(model, randn([100, 64], { rng: new Rng(2) }));
    expect(activity[5].std).toBeLessThan(1e-3);
    expect(diagnose({ activity }).some((d) => d.subject === activity[5].label && /vanished.*Xavier/.test(d.message))).toBe(true);
    model.dispose();
  });

  it('NaN and Infinity: the statistics are of the finite values, and the first layer that has them is named', () => {
    const model = modelFromConfig(registry, [{ name: 'dense', config: { units: 4, activation: 'relu', seed: 1 } }, { name: 'dense', config: { units: 3, seed: 2 } }]);
    model.build([2], new Rng(1));
    const x = tensor([[1, 2], [Infinity, 0], [0.5, -1]]);
    const activity = layerActivity(model, x);
    expect(activity[0].nonFinite).toBeGreaterThan(0);
    expect(Number.isFinite(activity[0].mean)).toBe(true);
    expect(activity[0].histogram.counts.reduce((a, b) => a + b, 0)).toBe(Math.round(12 * (1 - activity[0].nonFinite)));
    const found = diagnose({ activity }).filter((d) => /NaN or Infinity/.test(d.message));
    expect(found).toHaveLength(1);
    expect(found[0].subject).toBe(activity[0].label);
    model.dispose();
  });

  it('overfitting: training accuracy far above validation', () => {
    expect(diagnose({ accuracy: { train: 0.99, validation: 0.8 } })[0].message).toMatch(/overfitting: training accuracy 99% against 80%/);
    expect(diagnose({ accuracy: { train: 0.95, validation: 0.93 } })).toEqual([]);
  });

  it('underfitting: both accuracies less than halfway from chance', () => {
    expect(diagnose({ accuracy: { train: 0.3, validation: 0.28, classes: 10 } })[0].message).toMatch(/underfitting: training accuracy 30% and validation 28%.*bigger model, more epochs/);
    expect(diagnose({ accuracy: { train: 0.7, validation: 0.68, classes: 10 } })).toEqual([]);
  });
});

describe('fit with monitors', () => {
  const net = () => modelFromConfig(registry, [
    { name: 'dense', config: { units: 16, seed: 1 } },
    { name: 'batchNorm' },
    { name: 'relu' },
    { name: 'dropout', config: { rate: 0.3 } },
    { name: 'dense', config: { units: 4, seed: 2 } },
  ]);
  const run = (monitors: boolean) => {
    const model = net();
    const records: MonitorRecord[] = [];
    const history = fit(model, blobs(200, 1), {
      epochs: 3, batchSize: 32, seed: 5, validation: blobs(64, 2), optimizer: new Adam(undefined, { lr: 0.01 }),
      ...(monitors ? { monitors: { every: 5 }, callbacks: { onMonitor: (r: MonitorRecord) => void records.push(r) } } : {}),
    });
    const weights = model.parameters().map((p) => Array.from(p.data()));
    model.dispose();
    return { history: history.epochs.map((e) => [e.loss, e.val_loss]), weights, records };
  };

  it('watches every N steps without changing the run (BatchNorm statistics, dropout draws)', () => {
    const watched = run(true);
    const plain = run(false);
    expect(watched.history).toEqual(plain.history);
    expect(watched.weights).toEqual(plain.weights);
    // 7 batches per epoch, 21 steps: steps 0, 5, 10, 15, 20.
    expect(watched.records.map((r) => r.step)).toEqual([0, 5, 10, 15, 20]);
    const last = watched.records[4];
    expect(last.epoch).toBe(3);
    expect(last.activity.map((a) => a.label)).toHaveLength(5);
    expect(last.parameters.filter((p) => p.updateRatio !== null)).toHaveLength(6);
    expect(last.batchNorm).toHaveLength(1);
    expect(last.batchNorm[0].path).toBe('1');
    expect(last.batchNorm[0].runningVar).toBeGreaterThan(0);
    expect(last.batchNorm[0].gamma).toBeGreaterThan(0);
    expect(Number.isFinite(last.loss)).toBe(true);
  });

  it('a healthy Adam run has nothing to report, even at its first step (whose update is ±lr everywhere)', () => {
    const model = mlp('relu');
    const found: string[] = [];
    fit(model, blobs(256, 1), {
      epochs: 2, batchSize: 32, seed: 1, optimizer: new Adam(undefined, { lr: 1e-3 }), monitors: { every: 4 },
      callbacks: { onMonitor: (r) => found.push(...r.diagnoses.map((d) => d.message)) },
    });
    expect(found).toEqual([]);
    model.dispose();
  });

  it('diagnoses reach onMonitor, and a watched layer that does not exist is named with a did-you-mean', () => {
    const model = mlp('relu');
    const found: string[] = [];
    try {
      fit(model, blobs(256, 1), {
        epochs: 3, batchSize: 32, seed: 1, optimizer: new SGD(undefined, { lr: 3 }), monitors: { every: 2 },
        callbacks: { onMonitor: (r) => found.push(...r.diagnoses.map((d) => d.message)) },
      });
    } catch (error) {
      expect((error as Error).message).toMatch(/the learning rate is probably too high/); // fit stops a diverged run
    }
    expect(found.join('\n')).toMatch(/too high|became (NaN|Infinity)|never fire/);
    const other = mlp('relu');
    expect(() => fit(other, blobs(64, 1), { epochs: 1, optimizer: new SGD(undefined, { lr: 0.1 }), monitors: { layers: ['dens 0'] } }))
      .toThrow(/monitors.layers: no layer 'dens 0' — did you mean 'dense 0'\?/);
    expect(() => fit(other, blobs(64, 1), { epochs: 1, optimizer: new SGD(undefined, { lr: 0.1 }), monitors: { every: 0 } })).toThrow(/monitors.every must be a positive integer, got 0/);
    model.dispose();
    other.dispose();
  });
});
