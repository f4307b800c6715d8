// The named optimizers: each is a recipe (defaults, checks, the chain it builds), an optax-
// style function returning that chain, and a PyTorch-style class over the Optimizer wrapper.
import { Optimizer, type OptimizerRecipe, type ParamsArg } from './optimizer.js';
import { type ScheduleConfig, type ScheduleLike, scheduleConfig, toSchedule } from './schedules.js';
import { type GradientTransformation, chain, identity } from './transform.js';
import {
  addDecayedWeights, clipByGlobalNorm, clipByValue, scaleByAdagrad, scaleByAdam, scaleByLearningRate, scaleByRms, trace,
} from './transforms.js';
import * as v from './validate.js';

/** Options every named optimizer has. */
export interface CommonOptions {
  /** Learning rate: a number ≥ 0 or a schedule of the step. */
  lr: ScheduleLike;
  /** L2 penalty added to the gradient (for AdamW: decoupled decay). */
  weightDecay: number;
  /** Clip the group's gradients to this global norm first. */
  clipNorm?: number;
  /** Clip each gradient element to [−clipValue, clipValue] first. */
  clipValue?: number;
}

/** `momentum` (and Adam's `beta1`) may follow a schedule of the step, e.g. oneCycleMomentum. */
export interface SGDOptions extends CommonOptions { momentum: ScheduleLike; dampening: number; nesterov: boolean }
export interface AdamOptions extends CommonOptions {
  beta1: ScheduleLike;
  beta2: number;
  eps: number;
  /** Bias-correct the moments (default true, Kingma & Ba 2015 §3); false steps with the raw m / (√v + eps). */
  biasCorrection: boolean;
}
export type AdamWOptions = AdamOptions;
export interface RMSpropOptions extends CommonOptions { decay: number; eps: number; momentum: number; centered: boolean }
export interface AdagradOptions extends CommonOptions { eps: number; initialAccumulatorValue: number }

type Checks<O> = { [K in keyof O]-?: (owner: string, value: unknown) => O[K] };

/** A coefficient in [0, 1): a number, or a schedule of the step (each value checked when used). */
const unitOrSchedule = (parameter: string) => (owner: string, x: unknown): ScheduleLike => (typeof x === 'function' ? (x as ScheduleLike) : v.unitInterval(owner, parameter, x));

const common: Checks<CommonOptions> = {
  lr: (owner, x) => (toSchedule(owner, 'learning rate', x), x as ScheduleLike),
  weightDecay: (owner, x) => v.nonNegative(owner, 'weightDecay', x),
  clipNorm: (owner, x) => (x === undefined ? undefined : v.positive(owner, 'clipNorm', x)),
  clipValue: (owner, x) => (x === undefined ? undefined : v.positive(owner, 'clipValue', x)),
};

/** Clipping links, always present (identity when off) so toggling them keeps the state's shape. */
function clips(o: CommonOptions): GradientTransformation[] {
  return [o.clipNorm === undefined ? identity() : clipByGlobalNorm(o.clipNorm), o.clipValue === undefined ? identity() : clipByValue(o.clipValue)];
}

function recipe<O extends CommonOptions>(name: string, defaults: O, checks: Checks<O>, links: (o: O) => GradientTransformation[],
  together?: (o: O, owner: string) => void): OptimizerRecipe<O> {
  const keys = Object.keys(checks);
  return {
    name,
    defaults: Object.freeze({ ...defaults }),
    validate(options, owner) {
      if (options === null || typeof options !== 'object') throw new v.HyperParameterError(owner, 'options', options, 'an object');
      v.knownKeys(owner, options, keys);
      const merged = { ...defaults, ...options } as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const value = (checks as Record<string, (owner: string, value: unknown) => unknown>)[key](owner, merged[key]);
        if (value !== undefined) out[key] = value;
      }
      together?.(out as O, owner);
      return out as O;
    },
    build: (o) => chain(...links(o)),
    config(o) {
      const out: Record<string, unknown> = { ...(o as Record<string, unknown>), lr: scheduleConfig(o.lr, name) as ScheduleConfig };
      // Other scheduled options (momentum, beta1) are saved as schedule specs too.
      for (const [key, value] of Object.entries(out)) if (typeof value === 'function') out[key] = scheduleConfig(value as ScheduleLike, `${name}.${key}`);
      for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
      return out;
    },
  };
}

export const sgdRecipe = recipe<SGDOptions>(
  'sgd',
  { lr: 0.01, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 },
  {
    ...common,
    momentum: unitOrSchedule('momentum'),
    dampening: (owner, x) => v.unitInterval(owner, 'dampening', x),
    nesterov: (owner, x) => v.boolean(owner, 'nesterov', x),
  },
  (o) => [
    ...clips(o),
    addDecayedWeights(o.weightDecay),
    ...(typeof o.momentum !== 'number' || o.momentum > 0 ? [trace({ decay: o.momentum, nesterov: o.nesterov, dampening: o.dampening })] : []),
    scaleByLearningRate(o.lr),
  ],
  (o, owner) => {
    if (o.nesterov && (o.momentum === 0 || o.dampening !== 0)) {
      throw new v.HyperParameterError(owner, 'nesterov', true, `momentum > 0 and dampening 0 for Nesterov momentum (got momentum ${o.momentum}, dampening ${o.dampening})`);
    }
  },
);

const adamChecks: Checks<AdamOptions> = {
  ...common,
  beta1: unitOrSchedule('beta1'),
  beta2: (owner, x) => v.unitInterval(owner, 'beta2', x),
  eps: (owner, x) => v.nonNegative(owner, 'eps', x),
  biasCorrection: (owner, x) => v.boolean(owner, 'biasCorrection', x),
};

export const adamRecipe = recipe<AdamOptions>(
  'adam',
  { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, biasCorrection: true, weightDecay: 0 },
  adamChecks,
  (o) => [...clips(o), addDecayedWeights(o.weightDecay), scaleByAdam(o), scaleByLearningRate(o.lr)],
);

export const adamwRecipe = recipe<AdamWOptions>(
  'adamw',
  { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, biasCorrection: true, weightDecay: 0.01 },
  adamChecks,
  // Decoupled: the decay joins after Adam's scaling (Loshchilov & Hutter 2019, alg. 2).
  (o) => [...clips(o), scaleByAdam(o), addDecayedWeights(o.weightDecay), scaleByLearningRate(o.lr)],
);

export const rmspropRecipe = recipe<RMSpropOptions>(
  'rmsprop',
  { lr: 0.01, decay: 0.99, eps: 1e-8, momentum: 0, centered: false, weightDecay: 0 },
  {
    ...common,
    decay: (owner, x) => v.unitInterval(owner, 'decay', x),
    eps: (owner, x) => v.nonNegative(owner, 'eps', x),
    momentum: (owner, x) => v.unitInterval(owner, 'momentum', x),
    centered: (owner, x) => v.boolean(owner, 'centered', x),
  },
  (o) => [...clips(o), addDecayedWeights(o.weightDecay), scaleByRms(o), scaleByLearningRate(o.lr)],
);

export const adagradRecipe = recipe<AdagradOptions>(
  'adagrad',
  { lr: 0.01, eps: 1e-10, initialAccumulatorValue: 0, weightDecay: 0 },
  {
    ...common,
    eps: (owner, x) => v.nonNegative(owner, 'eps', x),
    initialAccumulatorValue: (owner, x) => v.nonNegative(owner, 'initialAccumulatorValue', x),
  },
  (o) => [...clips(o), addDecayedWeights(o.weightDecay), scaleByAdagrad(o), scaleByLearningRate(o.lr)],
);

// ---------------------------------------------------------------- optax style: options -> transform

const transformOf = <O extends CommonOptions>(r: OptimizerRecipe<O>, options: Partial<O>): GradientTransformation => r.build(r.validate(options, r.name));

/** SGD (+ momentum, Nesterov, L2 weight decay) as one transform. */
export const sgd = (options: Partial<SGDOptions> = {}): GradientTransformation => transformOf(sgdRecipe, options);
/** Adam as one transform: chain(addDecayedWeights(wd), scaleByAdam(…), scaleByLearningRate(lr)). */
export const adam = (options: Partial<AdamOptions> = {}): GradientTransformation => transformOf(adamRecipe, options);
/** AdamW as one transform: chain(scaleByAdam(…), addDecayedWeights(wd), scaleByLearningRate(lr)). */
export const adamw = (options: Partial<AdamWOptions> = {}): GradientTransformation => transformOf(adamwRecipe, options);
export const rmsprop = (options: Partial<RMSpropOptions> = {}): GradientTransformation => transformOf(rmspropRecipe, options);
export const adagrad = (options: Partial<AdagradOptions> = {}): GradientTransformation => transformOf(adagradRecipe, options);

// ---------------------------------------------------------------- PyTorch style classes

type Args<O extends object> = [ParamsArg<O> | Partial<O> | undefined, Partial<O> | undefined];

function params<O extends object>(a: Args<O>[0]): ParamsArg<O> | undefined {
  return Array.isArray(a) ? (a as ParamsArg<O>) : undefined;
}
function opts<O extends object>(a: Args<O>[0], b: Args<O>[1]): Partial<O> {
  return Array.isArray(a) || a === undefined ? (b ?? {}) : (a as Partial<O>);
}

/**
 * Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay.
 *
 * @example
 * const opt = new SGD(params, { lr: 0.1, momentum: 0.9, nesterov: true });
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(options?: Partial<SGDOptions>);
  constructor(params: ParamsArg<SGDOptions> | undefined, options?: Partial<SGDOptions>);
  constructor(a?: Args<SGDOptions>[0], b?: Partial<SGDOptions>) {
    super(params(a), sgdRecipe, opts(a, b));
  }
}

/** Adam (Kingma & Ba 2015); `weightDecay` is L2 in the gradient, as in torch.optim.Adam. */
export class Adam extends Optimizer<AdamOptions> {
  constructor(options?: Partial<AdamOptions>);
  constructor(params: ParamsArg<AdamOptions> | undefined, options?: Partial<AdamOptions>);
  constructor(a?: Args<AdamOptions>[0], b?: Partial<AdamOptions>) {
    super(params(a), adamRecipe, opts(a, b));
  }
}

/** AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019), default weightDecay 0.01. */
export class AdamW extends Optimizer<AdamWOptions> {
  constructor(options?: Partial<AdamWOptions>);
  constructor(params: ParamsArg<AdamWOptions> | undefined, options?: Partial<AdamWOptions>);
  constructor(a?: Args<AdamWOptions>[0], b?: Partial<AdamWOptions>) {
    super(params(a), adamwRecipe, opts(a, b));
  }
}

/** RMSProp (Hinton, lecture 6e), optionally centered and with momentum. */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(options?: Partial<RMSpropOptions>);
  constructor(params: ParamsArg<RMSpropOptions> | undefined, options?: Partial<RMSpropOptions>);
  constructor(a?: Args<RMSpropOptions>[0], b?: Partial<RMSpropOptions>) {
    super(params(a), rmspropRecipe, opts(a, b));
  }
}

/** AdaGrad (Duchi et al. 2011). */
export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(options?: Partial<AdagradOptions>);
  constructor(params: ParamsArg<AdagradOptions> | undefined, options?: Partial<AdagradOptions>);
  constructor(a?: Args<AdagradOptions>[0], b?: Partial<AdagradOptions>) {
    super(params(a), adagradRecipe, opts(a, b));
  }
}
