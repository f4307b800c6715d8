// Registry entries: every optimizer (kind 'optimizer') and schedule (kind 'schedule') with a
// zod schema for its config. Nothing is registered on import: `createRegistry().use(optimizers)`.
import { type PluginEntry, type Registry, RegistryError, createAt, define, definePlugin, specSchema, z } from '@minibatch/registry';
import { LBFGS, LBFGS_DEFAULTS } from './lbfgs.js';
import { NEWTON_DEFAULTS, Newton } from './newton.js';
import { Adagrad, Adam, AdamW, RMSprop, SGD, adagradRecipe, adamRecipe, adamwRecipe, rmspropRecipe, sgdRecipe } from './optimizers.js';
import * as s from './schedules.js';

/** A number, or the spec of a registered schedule: { kind: 'schedule', name, config }. */
const scheduleLike = z.union([z.number().nonnegative(), specSchema]);

/** Builds a nested schedule spec through the registry (so user-registered schedules work too). */
function resolve(value: number | z.output<typeof specSchema>, registry: Registry, owner: string): s.ScheduleLike {
  if (typeof value === 'number') return value;
  if (value.kind !== 'schedule') {
    throw new RegistryError('invalid-config', `invalid config for ${owner}: a learning rate or schedule must be a number or a spec of kind 'schedule', got kind '${value.kind}'`);
  }
  const made = createAt<unknown>(registry, 'schedule', value.name, value.config, ['lr']);
  if (typeof made !== 'function') throw new RegistryError('invalid-config', `invalid config for ${owner}: schedule '${value.name}' did not make a function of the step`);
  return made as s.Schedule;
}

const nonNeg = (d: number) => z.number().nonnegative().default(d);
const unit = (d: number) => z.number().min(0).lt(1).default(d);
/** A coefficient in [0, 1) or a schedule spec for it (momentum, beta1: oneCycleMomentum). */
const unitOrSchedule = (d: number) => z.union([z.number().min(0).lt(1), specSchema]).default(d);
const common = (lr: number, weightDecay: number) => ({
  lr: scheduleLike.default(lr),
  weightDecay: nonNeg(weightDecay),
  clipNorm: z.number().positive().optional(),
  clipValue: z.number().positive().optional(),
});

const sgd = define(
  'optimizer', 'sgd',
  z.strictObject({
    ...common(sgdRecipe.defaults.lr as number, 0),
    momentum: unitOrSchedule(0),
    dampening: unit(0),
    nesterov: z.boolean().default(false),
  }),
  (c, r) => new SGD(undefined, { ...c, lr: resolve(c.lr, r, "optimizer 'sgd'"), momentum: resolve(c.momentum, r, "optimizer 'sgd' momentum") }),
  'stochastic gradient descent, with optional momentum / Nesterov momentum and L2 weight decay',
);

const adamShape = (wd: number, lr: number) => ({
  ...common(lr, wd), beta1: unitOrSchedule(0.9), beta2: unit(0.999), eps: nonNeg(1e-8), biasCorrection: z.boolean().default(true),
});

const adam = define(
  'optimizer', 'adam', z.strictObject(adamShape(0, adamRecipe.defaults.lr as number)),
  (c, r) => new Adam(undefined, { ...c, lr: resolve(c.lr, r, "optimizer 'adam'"), beta1: resolve(c.beta1, r, "optimizer 'adam' beta1") }),
  'Adam (Kingma & Ba 2015), bias-corrected unless biasCorrection is false; weightDecay is L2 in the gradient',
);

const adamw = define(
  'optimizer', 'adamw', z.strictObject(adamShape(adamwRecipe.defaults.weightDecay, adamwRecipe.defaults.lr as number)),
  (c, r) => new AdamW(undefined, { ...c, lr: resolve(c.lr, r, "optimizer 'adamw'"), beta1: resolve(c.beta1, r, "optimizer 'adamw' beta1") }),
  'AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019)',
);

const rmsprop = define(
  'optimizer', 'rmsprop',
  z.strictObject({ ...common(rmspropRecipe.defaults.lr as number, 0), decay: unit(0.99), eps: nonNeg(1e-8), momentum: unit(0), centered: z.boolean().default(false) }),
  (c, r) => new RMSprop(undefined, { ...c, lr: resolve(c.lr, r, "optimizer 'rmsprop'") }),
  'RMSProp (Hinton, lecture 6e), optionally centered and with momentum',
);

const adagrad = define(
  'optimizer', 'adagrad',
  z.strictObject({ ...common(adagradRecipe.defaults.lr as number, 0), eps: nonNeg(1e-10), initialAccumulatorValue: nonNeg(0) }),
  (c, r) => new Adagrad(undefined, { ...c, lr: resolve(c.lr, r, "optimizer 'adagrad'") }),
  'AdaGrad (Duchi et al. 2011)',
);

const lbfgs = define(
  'optimizer', 'lbfgs',
  z.strictObject({
    lr: z.number().positive().default(LBFGS_DEFAULTS.lr),
    maxIter: z.number().int().positive().default(LBFGS_DEFAULTS.maxIter),
    maxEval: z.number().int().positive().optional(),
    toleranceGrad: nonNeg(LBFGS_DEFAULTS.toleranceGrad),
    toleranceChange: nonNeg(LBFGS_DEFAULTS.toleranceChange),
    historySize: z.number().int().positive().default(LBFGS_DEFAULTS.historySize),
    lineSearch: z.enum(['strongWolfe', 'backtracking', 'none']).default(LBFGS_DEFAULTS.lineSearch),
  }),
  (c) => new LBFGS(undefined, c),
  'L-BFGS for full-batch problems: history size m, strong-Wolfe or backtracking line search; step(closure)',
);

const newton = define(
  'optimizer', 'newton',
  z.strictObject({
    damping: nonNeg(NEWTON_DEFAULTS.damping),
    maxParams: z.number().int().positive().default(NEWTON_DEFAULTS.maxParams),
    lr: z.number().positive().default(NEWTON_DEFAULTS.lr),
  }),
  (c) => new Newton(undefined, c),
  "Newton's method with Levenberg–Marquardt damping for small models (finite-difference Hessian, at most maxParams parameters); step(closure)",
);

// ---------------------------------------------------------------- schedules

const int = (min: number) => z.number().int().min(min);
const gamma = (d: number) => z.number().gt(0).max(1).default(d);

const schedules: PluginEntry[] = [
  define('schedule', 'constant', z.strictObject({ value: z.number().nonnegative() }), (c) => s.constant(c.value), 'the same value at every step'),
  define('schedule', 'stepDecay', z.strictObject({ initial: z.number().nonnegative(), stepSize: int(1), gamma: gamma(0.1) }), (c) => s.stepDecay(c),
    'initial · gamma^⌊t / stepSize⌋'),
  define('schedule', 'multiStep', z.strictObject({ initial: z.number().nonnegative(), milestones: z.array(int(0)), gamma: gamma(0.1) }), (c) => s.multiStep(c),
    'initial · gamma^(milestones passed)'),
  define('schedule', 'exponential',
    z.strictObject({ initial: z.number().nonnegative(), gamma: z.number().gt(0).max(1), decaySteps: int(1).default(1), staircase: z.boolean().default(false) }),
    (c) => s.exponential(c), 'initial · gamma^(t / decaySteps)'),
  define('schedule', 'inverseTime',
    z.strictObject({ initial: z.number().nonnegative(), decayRate: z.number().nonnegative(), decaySteps: int(1).default(1), staircase: z.boolean().default(false) }),
    (c) => s.inverseTime(c), '1/t decay: initial / (1 + decayRate · t / decaySteps)'),
  define('schedule', 'polynomial',
    z.strictObject({ initial: z.number().nonnegative(), steps: int(1), final: nonNeg(0), power: z.number().positive().default(1) }),
    (c) => s.polynomial(c), 'polynomial decay from initial to final over steps'),
  define('schedule', 'cosine', z.strictObject({ initial: z.number().nonnegative(), steps: int(1), final: nonNeg(0) }), (c) => s.cosine(c),
    'cosine annealing from initial to final over steps'),
  define('schedule', 'cosineWarmRestarts',
    z.strictObject({ initial: z.number().nonnegative(), period: int(1), periodMult: int(1).default(1), final: nonNeg(0) }),
    (c) => s.cosineWarmRestarts(c), 'SGDR: cosine annealing with warm restarts, period multiplied by periodMult'),
  define('schedule', 'cyclic',
    z.strictObject({
      low: z.number().nonnegative(), high: z.number().nonnegative(), stepSize: int(1),
      mode: z.enum(['triangular', 'triangular2', 'expRange']).default('triangular'), gamma: gamma(1),
    }),
    (c) => s.cyclic(c), 'cyclical learning rate (triangular, triangular2, expRange)'),
  define('schedule', 'oneCycle',
    z.strictObject({
      max: z.number().positive(), steps: int(2), pctStart: z.number().gt(0).lt(1).default(0.3),
      divFactor: z.number().positive().default(25), finalDivFactor: z.number().positive().default(1e4), anneal: z.enum(['cos', 'linear']).default('cos'),
    }),
    (c) => s.oneCycle(c), 'one-cycle policy: up to max at pctStart, then down far below the start'),
  define('schedule', 'oneCycleMomentum',
    z.strictObject({
      steps: int(2), pctStart: z.number().gt(0).lt(1).default(0.3), low: z.number().min(0).lt(1).default(0.85), high: z.number().min(0).lt(1).default(0.95),
      anneal: z.enum(['cos', 'linear']).default('cos'),
    }),
    (c) => s.oneCycleMomentum(c), "one-cycle momentum (or Adam's beta1): high → low while the rate warms up, then back to high"),
  define('schedule', 'linearWarmup',
    z.strictObject({ schedule: scheduleLike, warmupSteps: int(0), start: nonNeg(0) }),
    (c, r) => s.linearWarmup({ ...c, schedule: resolve(c.schedule, r, "schedule 'linearWarmup'") }), 'linear warmup in front of any schedule'),
  define('schedule', 'reduceOnPlateau',
    z.strictObject({
      schedule: scheduleLike.default(1), mode: z.enum(['min', 'max']).default('min'), factor: z.number().gt(0).lt(1).default(0.1),
      patience: int(0).default(10), threshold: nonNeg(1e-4), thresholdMode: z.enum(['rel', 'abs']).default('rel'),
      cooldown: int(0).default(0), minValue: nonNeg(0),
    }),
    (c, r) => s.reduceOnPlateau({ ...c, schedule: resolve(c.schedule, r, "schedule 'reduceOnPlateau'") }),
    'scales a schedule down when a reported metric stops improving'),
];

/**
 * Every optimizer and learning-rate schedule of this package, for `registry.use(optimizers)`.
 *
 * @example
 * const registry = createRegistry().use(optimizers);
 * const opt = registry.create<Adam>('optimizer', 'adam', { lr: { kind: 'schedule', name: 'cosine', config: { initial: 1e-3, steps: 1000 } } });
 * opt.addParamGroup(params);
 */
export const optimizers = definePlugin('@minibatch/optimizers', [sgd, adam, adamw, rmsprop, adagrad, lbfgs, newton, ...schedules]);
