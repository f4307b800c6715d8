// The optimizer race: every optimizer of @minibatch/optimizers on the same network, the same
// initial weights and the same batches, stepped in turn; and on 2-D test functions (a ravine,
// Rosenbrock's valley, a saddle), where each one's path is drawn over the function's contours.
import { Rng, add, keep, mul, noGrad, scope, square, sub, tensor, type Tensor } from '@minibatch/core';
import { DataLoader, subset, type Dataset } from '@minibatch/data';
import { losses, modelFromConfig, type Module } from '@minibatch/layers';
import { Adagrad, Adam, LBFGS, RMSprop, SGD, type Optimizer } from '@minibatch/optimizers';
import { defaultRegistry, trainStep } from '@minibatch/train';
import { loadData } from './data.js';
import { SliceLoop } from './loop.js';

type Post = (message: Record<string, unknown>) => void;

export const RACERS = ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam', 'lbfgs'] as const;
export type Racer = (typeof RACERS)[number];

/** One optimizer over `params`; L-BFGS steps with a closure, the others with the gradients already there. */
interface Stepper {
  step(loss: () => Tensor): number;
  dispose(): void;
}

function stepper(name: Racer, lr: number, params: Tensor[]): Stepper {
  if (name === 'lbfgs') {
    const opt = new LBFGS(params, { lr, maxIter: 1, historySize: 10, lineSearch: 'strongWolfe' });
    return {
      step: (loss) => opt.step(() => {
        const l = loss();
        l.backward();
        return l;
      }),
      dispose: () => opt.dispose(),
    };
  }
  const opt: Optimizer<object> = {
    sgd: () => new SGD(params, { lr }),
    momentum: () => new SGD(params, { lr, momentum: 0.9 }),
    nesterov: () => new SGD(params, { lr, momentum: 0.9, nesterov: true }),
    adagrad: () => new Adagrad(params, { lr }),
    rmsprop: () => new RMSprop(params, { lr }),
    adam: () => new Adam(params, { lr }),
  }[name]();
  return {
    step: (loss) => scope(() => {
      opt.zeroGrad();
      const l = loss();
      l.backward();
      opt.step();
      return l.item();
    }),
    dispose: () => opt.dispose(),
  };
}

let loop: SliceLoop | null = null;
let cleanup: (() => void) | null = null;

export function stopRace(): void {
  loop?.stop();
  loop = null;
  cleanup?.();
  cleanup = null;
}

/**
 * The network race: an MLP on 2,000 MNIST digits, batches of 64; L-BFGS, a full-batch method
 * (its line search needs the same function each time), steps on a fixed batch of 1,024.
 */
export async function startNetworkRace(options: { lrs: Record<Racer, number>; steps: number }, post: Post): Promise<void> {
  stopRace();
  const { train } = await loadData('mnist');
  const data: Dataset = subset(train, Int32Array.from({ length: 2000 }, (_, i) => i));
  const registry = defaultRegistry();
  const spec = [{ name: 'flatten' }, { name: 'dense', config: { units: 64, activation: 'relu' } }, { name: 'dense', config: { units: 10 } }];
  const loss = losses.softmaxCrossEntropy();
  const fullBatch = subset(data, Int32Array.from({ length: 1024 }, (_, i) => i));
  const fullX = keep(tensor(fullBatch.x, [fullBatch.count, ...fullBatch.shape]));
  const racers = RACERS.map((name) => {
    const model: Module = modelFromConfig(registry, spec);
    model.build(data.shape, new Rng(1)); // the same initial weights for everyone
    model.train();
    const opt = stepper(name, options.lrs[name], model.trainableParameters());
    const loader = new DataLoader(data, { batchSize: 64, seed: 1 });
    return { name, model, opt, batches: loader.stream(), step: 0, losses: [] as number[] };
  });
  cleanup = () => {
    for (const r of racers) {
      r.opt.dispose();
      r.model.dispose();
    }
    fullX.dispose();
  };
  let turn = 0;
  loop = new SliceLoop(
    () => {
      const r = racers[turn % racers.length];
      turn++;
      if (r.step >= options.steps) return racers.some((o) => o.step < options.steps);
      let value: number;
      if (r.name === 'lbfgs') {
        value = r.opt.step(() => loss(r.model.forward(fullX), fullBatch.y));
      } else {
        const batch = r.batches.next().value;
        value = r.opt.step(() => loss(r.model.forward(batch.x), batch.y));
      }
      r.step++;
      r.losses.push(value);
      return true;
    },
    () => {
      const update: Record<string, number[]> = {};
      for (const r of racers) update[r.name] = r.losses.splice(0);
      post({ type: 'race:losses', losses: update, done: !loop?.running });
    },
    (error) => post({ type: 'race:failed', message: error instanceof Error ? error.message : String(error) }),
  );
  loop.start();
}

/** A 2-D test function of the lectures' pictures, on tensors (so the same code draws its contours). */
export interface Surface {
  title: string;
  f: (x: Tensor, y: Tensor) => Tensor;
  start: [number, number];
  x: [number, number];
  y: [number, number];
}

export const SURFACES: Record<string, Surface> = {
  // An elongated bowl: steep across, shallow along — plain SGD zig-zags, momentum cuts through.
  ravine: { title: 'ravine: 0.05x² + 2y²', f: (x, y) => add(mul(square(x), 0.05), mul(square(y), 2)), start: [-4.5, 1], x: [-5, 5], y: [-2, 2] },
  rosenbrock: {
    title: "Rosenbrock's valley: (1 − x)² + 100(y − x²)²",
    f: (x, y) => add(square(sub(1, x)), mul(square(sub(y, square(x))), 100)),
    start: [-1.5, 2.5], x: [-2, 2], y: [-1, 3],
  },
  // x² − y² + y⁴/4: a saddle at the origin with minima at y = ±√2; starting almost on the
  // ridge, SGD creeps away from it and the adaptive methods escape fast.
  saddle: { title: 'saddle: x² − y² + y⁴/4', f: (x, y) => add(sub(square(x), square(y)), mul(square(square(y)), 0.25)), start: [1.8, 1e-3], x: [-2, 2], y: [-2, 2] },
};

/** The function's values on a grid (row 0 at the top, y falling), for the contour image. */
export function surfaceGrid(name: string, size: number): { values: Float32Array; size: number } {
  const s = SURFACES[name];
  const xs = Array.from({ length: size }, (_, i) => s.x[0] + ((i + 0.5) / size) * (s.x[1] - s.x[0]));
  const ys = Array.from({ length: size }, (_, j) => s.y[1] - ((j + 0.5) / size) * (s.y[1] - s.y[0]));
  const values = noGrad(() => scope(() => s.f(tensor(xs, [1, size]), tensor(ys, [size, 1])).data().slice()));
  return { values, size };
}

/** Every optimizer's path on a surface, `steps` steps each, from the same start. */
export function surfacePaths(name: string, options: { lrs: Record<Racer, number>; steps: number }): Record<string, [number, number][]> {
  const s = SURFACES[name];
  const paths: Record<string, [number, number][]> = {};
  for (const racer of RACERS) {
    const x = keep(tensor([s.start[0]]).setRequiresGrad());
    const y = keep(tensor([s.start[1]]).setRequiresGrad());
    const opt = stepper(racer, options.lrs[racer], [x, y]);
    const path: [number, number][] = [[s.start[0], s.start[1]]];
    try {
      for (let t = 0; t < options.steps; t++) {
        opt.step(() => s.f(x, y));
        const p: [number, number] = [x.item(), y.item()];
        if (!Number.isFinite(p[0]) || !Number.isFinite(p[1]) || Math.abs(p[0]) > 1e6 || Math.abs(p[1]) > 1e6) break; // diverged: the path ends
        path.push(p);
      }
    } finally {
      opt.dispose();
      x.dispose();
      y.dispose();
    }
    paths[racer] = path;
  }
  return paths;
}
