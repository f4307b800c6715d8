// The links optimizers are made of. Each update rule is one fused kernel
// (core/assembly/optim.ts): it reads the gradient and the state once, writes the state in
// place and the update once. A link runs its kernel over all tensors in one parallel call
// (core's inRanges), so a step wakes the worker threads once per link, not once per tensor.
import { ArgumentError, Tensor, Unary, empty, full, inRanges, keep, zeros, type KernelName } from '@minibatch/core';
import { type Schedule, type ScheduleLike, toSchedule } from './schedules.js';
import { EMPTY, type EmptyState, type GradientTransformation, applyUpdates, checkSameStructure } from './transform.js';
import * as v from './validate.js';

const zerosLike = (params: readonly Tensor[]): Tensor[] => params.map((p) => keep(zeros(p.shape)));

/**
 * A new tensor per update from an elementwise kernel run over all of them at once;
 * `args(i, at, count, out)` gives the kernel's arguments for `count` elements of tensor i
 * from byte offset `at` (added to every pointer).
 */
function mapInRanges(kernel: KernelName, updates: readonly Tensor[],
  args: (i: number, at: number, count: number, out: Tensor) => number[]): Tensor[] {
  const outs = updates.map((u) => empty(u.shape));
  if (updates.length > 0) {
    inRanges(updates[0].engine, kernel, updates.map((u, i) => ({ size: u.size, args: (start: number, count: number) => args(i, start * 4, count, outs[i]) })));
  }
  return outs;
}

function checkState(owner: string, state: readonly Tensor[], updates: readonly Tensor[]): void {
  checkSameStructure(owner, state, updates);
}

function nextCount(owner: string, count: unknown): number {
  if (!Number.isInteger(count) || (count as number) < 0) throw new ArgumentError(`${owner}: the state's count must be an integer ≥ 0, got ${String(count)} — pass the state from init() or the last update()`);
  return (count as number) + 1;
}

// ---------------------------------------------------------------- Adam

export interface ScaleByAdamOptions {
  beta1?: number | Schedule;
  beta2?: number;
  eps?: number;
  /** Divide the moments by 1 − β^t (default true); false uses the raw moments m / (√v + eps). */
  biasCorrection?: boolean;
}
export type AdamState = { count: number; mu: Tensor[]; nu: Tensor[] };

/**
 * Adam's direction m̂ / (√v̂ + eps) with bias-corrected moments (Kingma & Ba 2015, alg. 1).
 * Follow it with scaleByLearningRate(lr). With biasCorrection false it is m / (√v + eps): the
 * moments start at zero, so step t is scaled by (1 − β1^t) / √(1 − β2^t) (§3), ≈ 3.16 at the
 * first step with the default betas, → 1 as t grows.
 */
export function scaleByAdam(options: ScaleByAdamOptions = {}): GradientTransformation<AdamState> {
  const beta1At = unitSchedule('scaleByAdam', 'beta1', options.beta1 ?? 0.9);
  const beta2 = v.unitInterval('scaleByAdam', 'beta2', options.beta2 ?? 0.999);
  const eps = v.nonNegative('scaleByAdam', 'eps', options.eps ?? 1e-8);
  const biasCorrection = v.boolean('scaleByAdam', 'biasCorrection', options.biasCorrection ?? true);
  return {
    name: 'scaleByAdam',
    init: (params) => ({ count: 0, mu: zerosLike(params), nu: zerosLike(params) }),
    update(updates, state) {
      checkState('scaleByAdam', state.mu, updates);
      const t = nextCount('scaleByAdam', state.count);
      // With a scheduled β1 the bias correction uses the current β1, as torch's Adam does under OneCycleLR.
      const beta1 = beta1At(state.count);
      const c1 = biasCorrection ? 1 / (1 - beta1 ** t) : 1;
      const c2 = biasCorrection ? 1 / Math.sqrt(1 - beta2 ** t) : 1;
      const out = mapInRanges('adamUpdate', updates, (i, at, n, o) =>
        [n, updates[i].ptr + at, state.mu[i].ptr + at, state.nu[i].ptr + at, o.ptr + at, beta1, 1 - beta1, beta2, 1 - beta2, c1, c2, eps]);
      return [out, { count: t, mu: state.mu, nu: state.nu }];
    },
  };
}

// ---------------------------------------------------------------- momentum

export interface TraceOptions { decay: number | Schedule; nesterov?: boolean; dampening?: number }
export type TraceState = { count: number; trace: Tensor[] };

/**
 * Momentum as torch.optim.SGD keeps it: buf = decay·buf + (1 − dampening)·g (buf = g on
 * the first step), update = buf, or g + decay·buf with Nesterov (Sutskever et al. 2013).
 */
export function trace(options: TraceOptions): GradientTransformation<TraceState> {
  // The decay may follow a schedule of the step (one-cycle's momentum); each value is checked when used.
  const decayAt = unitSchedule('trace', 'momentum', options.decay);
  const nesterov = v.boolean('trace', 'nesterov', options.nesterov ?? false);
  const dampening = v.unitInterval('trace', 'dampening', options.dampening ?? 0);
  if (nesterov && ((typeof options.decay === 'number' && options.decay === 0) || dampening !== 0)) {
    throw new v.HyperParameterError('trace', 'nesterov', nesterov, `momentum > 0 and dampening 0 for Nesterov momentum (got momentum ${String(options.decay)}, dampening ${dampening})`);
  }
  return {
    name: 'trace',
    init: (params) => ({ count: 0, trace: zerosLike(params) }),
    update(updates, state) {
      checkState('trace', state.trace, updates);
      const k = state.count === 0 ? 1 : 1 - dampening;
      const decay = decayAt(state.count);
      const out = mapInRanges('momentumUpdate', updates, (i, at, n, o) =>
        [n, updates[i].ptr + at, state.trace[i].ptr + at, o.ptr + at, decay, k, nesterov ? 1 : 0]);
      return [out, { count: nextCount('trace', state.count), trace: state.trace }];
    },
  };
}

/** A coefficient in [0, 1) given as a number or a schedule of the step (checked at each step it is used). */
function unitSchedule(owner: string, parameter: string, value: unknown): (step: number) => number {
  if (typeof value === 'function') return (step) => v.unitInterval(owner, `${parameter} at step ${step}`, (value as (t: number) => number)(step));
  const fixed = v.unitInterval(owner, parameter, value);
  return () => fixed;
}

// ---------------------------------------------------------------- RMSProp

export interface ScaleByRmsOptions { decay?: number; eps?: number; centered?: boolean; momentum?: number }
export type RmsState = { nu: Tensor[]; mean: Tensor[]; momentum: Tensor[] };

/**
 * RMSProp's direction (Hinton, lecture 6e; the form of torch.optim.RMSprop): g / (√v + eps)
 * with v a decaying mean of g²; `centered` divides by the standard deviation instead
 * (Graves 2013); `momentum` > 0 accumulates the directions.
 */
export function scaleByRms(options: ScaleByRmsOptions = {}): GradientTransformation<RmsState> {
  const decay = v.unitInterval('scaleByRms', 'decay', options.decay ?? 0.99);
  const eps = v.nonNegative('scaleByRms', 'eps', options.eps ?? 1e-8);
  const centered = v.boolean('scaleByRms', 'centered', options.centered ?? false);
  const momentum = v.unitInterval('scaleByRms', 'momentum', options.momentum ?? 0);
  return {
    name: 'scaleByRms',
    init: (params) => ({ nu: zerosLike(params), mean: centered ? zerosLike(params) : [], momentum: momentum > 0 ? zerosLike(params) : [] }),
    update(updates, state) {
      checkState('scaleByRms', state.nu, updates);
      if (centered) checkState('scaleByRms', state.mean, updates);
      if (momentum > 0) checkState('scaleByRms', state.momentum, updates);
      const out = mapInRanges('rmspropUpdate', updates, (i, at, n, o) => [n, updates[i].ptr + at, state.nu[i].ptr + at,
        centered ? state.mean[i].ptr + at : 0, momentum > 0 ? state.momentum[i].ptr + at : 0, o.ptr + at,
        decay, 1 - decay, eps, momentum, centered ? 1 : 0, momentum > 0 ? 1 : 0]);
      return [out, { nu: state.nu, mean: state.mean, momentum: state.momentum }];
    },
  };
}

// ---------------------------------------------------------------- AdaGrad

export interface ScaleByAdagradOptions { eps?: number; initialAccumulatorValue?: number }
export type AdagradState = { sum: Tensor[] };

/** AdaGrad's direction g / (√Σg² + eps) (Duchi et al. 2011; the form of torch.optim.Adagrad). */
export function scaleByAdagrad(options: ScaleByAdagradOptions = {}): GradientTransformation<AdagradState> {
  const eps = v.nonNegative('scaleByAdagrad', 'eps', options.eps ?? 1e-10);
  const initial = v.nonNegative('scaleByAdagrad', 'initialAccumulatorValue', options.initialAccumulatorValue ?? 0);
  return {
    name: 'scaleByAdagrad',
    init: (params) => ({ sum: params.map((p) => keep(full(p.shape, initial))) }),
    update(updates, state) {
      checkState('scaleByAdagrad', state.sum, updates);
      const out = mapInRanges('adagradUpdate', updates, (i, at, n, o) => [n, updates[i].ptr + at, state.sum[i].ptr + at, o.ptr + at, eps]);
      return [out, { sum: state.sum }];
    },
  };
}

// ---------------------------------------------------------------- weight decay, scaling

/**
 * updates + weightDecay · params. Before an adaptive link it is L2 regularization in the
 * gradient (torch Adam's weight_decay); after it, decoupled weight decay (AdamW, Loshchilov
 * & Hutter 2019).
 */
export function addDecayedWeights(weightDecay: number): GradientTransformation<EmptyState> {
  const wd = v.nonNegative('addDecayedWeights', 'weightDecay', weightDecay);
  return {
    name: 'addDecayedWeights',
    init: () => EMPTY,
    update(updates, state, params) {
      if (params === undefined) throw new ArgumentError('addDecayedWeights: update() needs the parameters (its third argument)');
      checkSameStructure('addDecayedWeights', params, updates);
      if (wd === 0) return [updates.slice(), state];
      return [mapInRanges('axpby', updates, (i, at, n, o) => [n, 1, updates[i].ptr + at, wd, params[i].ptr + at, o.ptr + at]), state];
    },
  };
}

/** Each update times `factor` (in float32, as mul(u, factor) computes it). */
function scaled(updates: readonly Tensor[], factor: number): Tensor[] {
  return mapInRanges('unary', updates, (i, at, n, o) => [Unary.Scale, updates[i].ptr + at, o.ptr + at, n, factor]);
}

/** updates · factor. */
export function scale(factor: number): GradientTransformation<EmptyState> {
  if (!Number.isFinite(factor)) throw new v.HyperParameterError('scale', 'factor', factor, 'a finite number');
  return {
    name: 'scale',
    init: () => EMPTY,
    update: (updates, state) => [scaled(updates, factor), state],
    updateAndApply(updates, state, params) {
      applyUpdates(params, updates, factor);
      return state;
    },
  };
}

export type CountState = { count: number };

function scheduled(owner: string, schedule: Schedule, sign: number): GradientTransformation<CountState> {
  /** The factor of this step, and the next state. */
  const factor = (state: CountState): [number, CountState] => {
    const next = nextCount(owner, state.count);
    const value = schedule(state.count);
    if (!Number.isFinite(value) || value < 0) {
      throw new v.HyperParameterError(owner, `learning rate at step ${state.count}`, value, 'a finite number ≥ 0 from the schedule');
    }
    return [sign * value, { count: next }];
  };
  return {
    name: owner,
    init: () => ({ count: 0 }),
    update(updates, state) {
      const [f, next] = factor(state);
      return [scaled(updates, f), next];
    },
    // The descent step's last pass: params += f · updates, without the scaled copy.
    updateAndApply(updates, state, params) {
      const [f, next] = factor(state);
      applyUpdates(params, updates, f);
      return next;
    },
  };
}

/** updates · −lr(step): the descent step. `lr` is a number or a schedule of the step count. */
export function scaleByLearningRate(lr: ScheduleLike): GradientTransformation<CountState> {
  return scheduled('scaleByLearningRate', toSchedule('scaleByLearningRate', 'learning rate', lr), -1);
}

/** updates · schedule(step), no sign flip. */
export function scaleBySchedule(schedule: ScheduleLike): GradientTransformation<CountState> {
  return scheduled('scaleBySchedule', toSchedule('scaleBySchedule', 'schedule', schedule), 1);
}

// ---------------------------------------------------------------- clipping

/** Each element clipped to [−maxDelta, maxDelta] (clipping by value). */
export function clipByValue(maxDelta: number): GradientTransformation<EmptyState> {
  const limit = v.positive('clipByValue', 'maxDelta', maxDelta);
  return {
    name: 'clipByValue',
    init: () => EMPTY,
    update(updates, state) {
      return [mapInRanges('clipByValue', updates, (i, at, n, o) => [n, updates[i].ptr + at, o.ptr + at, -limit, limit]), state];
    },
  };
}

/** √(Σ‖tᵢ‖²) over all tensors, accumulated in float64. */
export function globalNorm(tensors: readonly Tensor[]): number {
  let sq = 0;
  for (const t of tensors) sq += t.engine.kernels.dotF64(t.size, t.ptr, t.ptr);
  return Math.sqrt(sq);
}

/**
 * When the global norm of all updates exceeds maxNorm, scales them all by maxNorm / norm
 * (Pascanu et al. 2013), keeping their direction.
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation<EmptyState> {
  const limit = v.positive('clipByGlobalNorm', 'maxNorm', maxNorm);
  return {
    name: 'clipByGlobalNorm',
    init: () => EMPTY,
    update(updates, state) {
      const norm = globalNorm(updates);
      if (!(norm > limit)) return [updates.slice(), state];
      const factor = limit / norm;
      return [scaled(updates, factor), state];
    },
  };
}
