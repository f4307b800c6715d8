/**
 * @minibatch/optimizers — SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW and L-BFGS
 * as composable gradient transforms with plain-data state, a PyTorch-like Optimizer with
 * parameter groups, learning-rate schedules and gradient clipping. No side effects on import.
 */
export { HyperParameterError } from './validate.js';
export {
  type TransformState, type SavedState, type SavedTensor, type SaveOptions,
  saveState, loadState, checkState, stateTensors, disposeState,
} from './state.js';
export { type GradientTransformation, type StateOf, type EmptyState, chain, identity, applyUpdates } from './transform.js';
export {
  scaleByAdam, trace, scaleByRms, scaleByAdagrad, addDecayedWeights, scale, scaleByLearningRate, scaleBySchedule,
  clipByValue, clipByGlobalNorm, globalNorm,
  type ScaleByAdamOptions, type AdamState, type TraceOptions, type TraceState, type ScaleByRmsOptions, type RmsState,
  type ScaleByAdagradOptions, type AdagradState, type CountState,
} from './transforms.js';
export {
  type Schedule, type ScheduleLike, type NamedSchedule, type ScheduleConfig, type PlateauSchedule, type PlateauState,
  constant, stepDecay, multiStep, exponential, inverseTime, polynomial, cosine, cosineWarmRestarts, cyclic, oneCycle, oneCycleMomentum,
  linearWarmup, reduceOnPlateau, scheduleConfig,
  type StepDecayOptions, type MultiStepOptions, type ExponentialOptions, type InverseTimeOptions, type PolynomialOptions,
  type CosineOptions, type CosineWarmRestartsOptions, type CyclicOptions, type OneCycleOptions, type OneCycleMomentumOptions, type LinearWarmupOptions,
  type ReduceOnPlateauOptions,
} from './schedules.js';
export { Optimizer, type ParamGroup, type ParamsArg, type Group, type OptimizerRecipe, type OptimizerStateDict } from './optimizer.js';
export {
  SGD, Adam, AdamW, RMSprop, Adagrad, sgd, adam, adamw, rmsprop, adagrad,
  sgdRecipe, adamRecipe, adamwRecipe, rmspropRecipe, adagradRecipe,
  type CommonOptions, type SGDOptions, type AdamOptions, type AdamWOptions, type RMSpropOptions, type AdagradOptions,
} from './optimizers.js';
export { LBFGS, LBFGS_DEFAULTS, type LBFGSOptions, type LBFGSState, type Closure } from './lbfgs.js';
export { Newton, NEWTON_DEFAULTS, HESSIAN_STEP, hessian, type NewtonOptions, type NewtonState, type HessianEstimate } from './newton.js';
export { optimizers } from './plugin.js';
