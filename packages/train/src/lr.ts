// Choosing the learning rate, two ways the lectures teach:
// - the LR range test (Smith 2017): train a few hundred steps with the learning rate growing
//   exponentially, and read the smoothed loss against it — the loss falls fastest a little
//   below where it bottoms out;
// - LeCun's Efficient BackProp §5: the best rate for gradient descent is about 1/λmax, the
//   Hessian's largest eigenvalue, found by power iteration on Hessian-vector products (here
//   central differences of gradients).
// Both leave the model's weights, buffers and mode as they found them.
import { ArgumentError, Rng, noGrad, scope, tensor, type Tensor } from '@minibatch/core';
import { DataLoader, type Dataset } from '@minibatch/data';
import type { Loss, Module, Target } from '@minibatch/layers';
import type { Optimizer } from '@minibatch/optimizers';
import { trainStep } from './fit.js';

export interface LrFindOptions {
  /** The loss to minimize. */
  loss: Loss;
  /** An optimizer with no parameter groups yet (a fresh one from the registry); its learning rate is driven by the sweep. */
  optimizer: Optimizer<object>;
  /** First and last learning rate of the sweep (default 1e-7 and 10). */
  start?: number;
  end?: number;
  /** Steps of the sweep (default 200; it stops early when the loss diverges). */
  steps?: number;
  batchSize?: number;
  seed?: number;
  /** The exponential moving average's β for the smoothed loss (default 0.98, bias-corrected). */
  smoothing?: number;
  /** Stop when the smoothed loss exceeds this many times its minimum (default 4). */
  divergence?: number;
}

export interface LrFindResult {
  lrs: number[];
  losses: number[];
  smoothed: number[];
  /** Where the smoothed loss falls fastest against log(lr). */
  steepest: number;
  /** Where the smoothed loss is lowest. */
  minimum: number;
  /** The rate to train with: minimum / 10 (the usual reading: a decade below the bottom). */
  suggestion: number;
  /** Why the sweep ended. */
  stopped: 'diverged' | 'end';
}

const positive = (name: string, v: number) => {
  if (!(Number.isFinite(v) && v > 0)) throw new ArgumentError(`lrFind: ${name} must be a positive number, got ${v}`);
};

/** The model's weights, buffers and mode as they are now; the function puts them back. */
export function holdState(model: Module): () => void {
  const saved = [...model.namedParameters(), ...model.namedBuffers()].map(([, t]) => [t, t.data().slice()] as const);
  const training = model.training;
  return () => {
    for (const [t, values] of saved) t.assign(tensor(values, t.shape));
    model.train(training);
  };
}

/**
 * The LR range test: `steps` steps of training with the learning rate growing exponentially
 * from `start` to `end`; the model is restored afterwards.
 *
 * @example
 * const found = lrFind(model, train, { loss: losses.softmaxCrossEntropy(), optimizer: new Adam() });
 * console.log(found.suggestion);
 */
export function lrFind(model: Module, data: Dataset, options: LrFindOptions): LrFindResult {
  const { start = 1e-7, end = 10, steps = 200, batchSize = 64, seed = 0, smoothing = 0.98, divergence = 4 } = options;
  positive('start', start);
  positive('end', end);
  if (!(end > start)) throw new ArgumentError(`lrFind: the range is empty: end (${end}) must be above start (${start})`);
  if (!Number.isInteger(steps) || steps < 10) throw new ArgumentError(`lrFind: steps must be an integer ≥ 10, got ${steps}`);
  if (!(smoothing >= 0 && smoothing < 1)) throw new ArgumentError(`lrFind: smoothing must be in [0, 1), got ${smoothing}`);
  if (!(divergence > 1)) throw new ArgumentError(`lrFind: divergence must be above 1, got ${divergence}`);
  if (options.optimizer.groups.length > 0) throw new ArgumentError('lrFind: give an optimizer without parameter groups; the sweep adds the model\'s, with its own learning rate');
  model.build(data.shape, new Rng(seed));
  const restore = holdState(model);
  const rate = (i: number) => start * (end / start) ** (i / (steps - 1));
  // The sweep drives the learning rate: a schedule of the step.
  options.optimizer.addParamGroup({ params: model.trainableParameters(), lr: (step: number) => rate(Math.min(step, steps - 1)) } as never);
  const loader = new DataLoader(data, { batchSize, seed, shuffle: true });
  const batches = loader.stream();
  const result: LrFindResult = { lrs: [], losses: [], smoothed: [], steepest: NaN, minimum: NaN, suggestion: NaN, stopped: 'end' };
  let average = 0;
  let best = Infinity;
  model.train();
  try {
    for (let i = 0; i < steps; i++) {
      const { loss } = trainStep(model, batches.next().value, { loss: options.loss, optimizer: options.optimizer });
      if (!Number.isFinite(loss)) {
        result.stopped = 'diverged';
        break;
      }
      average = smoothing * average + (1 - smoothing) * loss;
      const smooth = average / (1 - smoothing ** (i + 1));
      result.lrs.push(rate(i));
      result.losses.push(loss);
      result.smoothed.push(smooth);
      best = Math.min(best, smooth);
      if (i > 10 && smooth > divergence * best) {
        result.stopped = 'diverged';
        break;
      }
    }
  } finally {
    batches.return(undefined as never); // frees the last batch
    restore();
  }
  if (result.smoothed.length < 10) {
    throw new ArgumentError(`lrFind: the loss diverged after ${result.smoothed.length} steps, at a learning rate of ${result.lrs.at(-1) ?? start}; start the sweep lower`);
  }
  const s = result.smoothed;
  const low = s.indexOf(Math.min(...s));
  result.minimum = result.lrs[low];
  // Steepest descent: the most negative slope of the smoothed loss against log(lr), before the minimum.
  let steepest = 1;
  let slope = Infinity;
  for (let i = 1; i <= Math.max(1, low); i++) {
    const d = (s[i] - s[i - 1]) / Math.log(result.lrs[i] / result.lrs[i - 1]);
    if (d < slope) [slope, steepest] = [d, i];
  }
  result.steepest = result.lrs[steepest];
  result.suggestion = result.minimum / 10;
  return result;
}

export interface EigenOptions {
  /**
   * Which curvature: 'gaussNewton' (default), Jᵀ·H_out·J — the Hessian without the terms of
   * the network's own second derivatives, positive semi-definite, and what Efficient BackProp
   * §5 recommends; or 'hessian', from finite differences of gradients, which is exact only for
   * smooth networks: a ReLU's kink crossed by the difference step reads as a curvature of
   * order 1/ε, and the power iteration finds those.
   */
  curvature?: 'gaussNewton' | 'hessian';
  /** Power iterations at most (default 30). */
  iterations?: number;
  /** Stop when λ changes by less than this fraction (default 1e-3). */
  tolerance?: number;
  /** The finite-difference step along the unit vector (default 1e-3). */
  epsilon?: number;
  seed?: number;
}

export interface EigenResult {
  /** The curvature's largest eigenvalue at the current weights, on this batch. */
  eigenvalue: number;
  /** LeCun's learning rate for gradient descent: 1 / λmax. */
  lr: number;
  /** λ after each iteration. */
  history: number[];
  converged: boolean;
}

/**
 * The largest eigenvalue of the loss's curvature with respect to the trainable parameters, on
 * one batch, by power iteration: v ← Cv/‖Cv‖. The model runs in eval mode (dropout off,
 * BatchNorm on its running statistics), so the loss is one fixed function; the weights are put
 * back exactly. For the Gauss-Newton product Cv = Jᵀ·H_out·(Jv): Jv is a central difference of
 * the outputs (continuous even across ReLU kinks), H_out·u a central difference of the loss's
 * gradient with respect to the outputs (smooth for cross-entropy and squared error), and Jᵀ one
 * backward pass.
 *
 * @example
 * const { eigenvalue, lr } = largestEigenvalue(model, x, y, losses.softmaxCrossEntropy());
 */
export function largestEigenvalue(model: Module, x: Tensor, target: Target, loss: Loss, options: EigenOptions = {}): EigenResult {
  const { curvature = 'gaussNewton', iterations = 30, tolerance = 1e-3, epsilon = 1e-3, seed = 0 } = options;
  if (curvature !== 'gaussNewton' && curvature !== 'hessian') throw new ArgumentError(`largestEigenvalue: curvature must be 'gaussNewton' or 'hessian', got '${String(curvature)}'`);
  if (!Number.isInteger(iterations) || iterations < 1) throw new ArgumentError(`largestEigenvalue: iterations must be a positive integer, got ${iterations}`);
  if (!(epsilon > 0)) throw new ArgumentError(`largestEigenvalue: epsilon must be positive, got ${epsilon}`);
  const params = model.trainableParameters();
  if (params.length === 0) throw new ArgumentError('largestEigenvalue: the model has no trainable parameters');
  const origin = params.map((p) => p.data().slice());
  const n = origin.reduce((a, w) => a + w.length, 0);
  const training = model.training;
  model.eval();
  /** Sets the weights to origin + t·v (from the origin each time: no drift). */
  const setWeights = (v: Float64Array | null, t: number) => {
    let at = 0;
    params.forEach((p, k) => {
      const w = new Float32Array(origin[k].length);
      for (let i = 0; i < w.length; i++) w[i] = origin[k][i] + (v === null ? 0 : t * v[at + i]);
      p.assign(tensor(w, p.shape));
      at += w.length;
    });
  };
  /** The parameters' gradients of `backward()` run on what `objective` returns, flattened. */
  const gradients = (objective: () => { backward: (seed?: Tensor) => void }, seedGrad?: Float32Array, shape?: number[]): Float64Array => {
    for (const p of params) p.zeroGrad();
    scope(() => {
      const out = objective();
      if (seedGrad === undefined) out.backward();
      else out.backward(tensor(seedGrad, shape!));
    });
    const g = new Float64Array(n);
    let at = 0;
    for (const p of params) {
      const d = p.grad === null ? new Float32Array(p.size) : p.grad.data();
      for (let i = 0; i < d.length; i++) g[at + i] = d[i];
      at += p.size;
    }
    return g;
  };
  const outputsAt = (v: Float64Array, t: number): Float32Array => {
    setWeights(v, t);
    return noGrad(() => scope(() => model.forward(x).data().slice()));
  };
  /** ∇_outputs L at the given outputs. */
  const outputGradient = (values: Float32Array, shape: number[]): Float32Array =>
    scope(() => {
      const o = tensor(values, shape).setRequiresGrad();
      loss(o, target).backward();
      return o.grad!.data().slice();
    });
  const product = (v: Float64Array): Float64Array => {
    if (curvature === 'hessian') {
      setWeights(v, epsilon);
      const plus = gradients(() => loss(model.forward(x), target));
      setWeights(v, -epsilon);
      const minus = gradients(() => loss(model.forward(x), target));
      return plus.map((g, i) => (g - minus[i]) / (2 * epsilon));
    }
    const plus = outputsAt(v, epsilon);
    const minus = outputsAt(v, -epsilon);
    setWeights(null, 0);
    const shape = noGrad(() => scope(() => model.forward(x).shape.slice()));
    const base = noGrad(() => scope(() => model.forward(x).data().slice()));
    const jv = plus.map((p, i) => (p - minus[i]) / (2 * epsilon));
    // H_out·(Jv): a central difference of the output gradient, with a step scaled to Jv.
    const scale = Math.sqrt(jv.reduce((a, e) => a + e * e, 0)) || 1;
    const t = epsilon / scale;
    const up = outputGradient(base.map((b, i) => b + t * jv[i]), shape);
    const down = outputGradient(base.map((b, i) => b - t * jv[i]), shape);
    const hu = up.map((u, i) => (u - down[i]) / (2 * t));
    return gradients(() => model.forward(x), hu, shape);
  };
  const rng = new Rng(seed);
  const normalize = (u: Float64Array) => {
    const norm = Math.sqrt(u.reduce((a, b) => a + b * b, 0));
    return norm === 0 ? null : u.map((e) => e / norm);
  };
  let v = normalize(Float64Array.from({ length: n }, () => rng.normal()))!;
  const history: number[] = [];
  let converged = false;
  try {
    for (let k = 0; k < iterations; k++) {
      const cv = product(v);
      const lambda = cv.reduce((a, h, i) => a + h * v[i], 0);
      history.push(lambda);
      const next = normalize(cv);
      if (next === null) break; // Cv = 0: the loss is flat along v
      v = next;
      if (k > 0 && Math.abs(lambda - history[k - 1]) <= tolerance * Math.abs(lambda)) {
        converged = true;
        break;
      }
    }
  } finally {
    noGrad(() => params.forEach((p, k) => p.assign(tensor(origin[k], p.shape))));
    for (const p of params) p.zeroGrad();
    model.train(training);
  }
  const eigenvalue = history.at(-1) ?? 0;
  return { eigenvalue, lr: eigenvalue > 0 ? 1 / eigenvalue : NaN, history, converged };
}
