/**
 * @minibatch/regularizers — weight penalties (L1, L2, elastic net), constraints (max-norm,
 * non-negativity), dropout, spatial dropout, DropConnect, stochastic depth and fractional
 * max pooling. Importing registers nothing: apps call `createRegistry().use(regularizers)`.
 */
export { WeightPenalty, l1, l2, elasticNet, isPenalty, totalPenalty, l1Schema, l2Schema, elasticNetSchema } from './penalties.js';
export type { PenaltyName, PenaltyLike, L1Config, L2Config, ElasticNetConfig } from './penalties.js';
export { MaxNorm, NonNegative, maxNorm, nonNegative, isConstraint, applyConstraints, maxNormSchema, nonNegativeSchema } from './constraints.js';
export type { Constraint, ConstraintLike, MaxNormConfig, NonNegativeConfig } from './constraints.js';
export { Dropout, SpatialDropout, dropoutSchema } from './dropout.js';
export type { DropoutConfig } from './dropout.js';
export { DropConnect, DropConnectConv2d, dropConnectSchema, dropConnectConv2dSchema } from './dropconnect.js';
export type { DropConnectConfig, DropConnectConv2dConfig } from './dropconnect.js';
export { StochasticDepth, linearDepthRates, stochasticDepthSchema } from './stochastic-depth.js';
export type { StochasticDepthConfig, StochasticDepthOptions } from './stochastic-depth.js';
export {
  FractionalMaxPool2d, fractionalMaxPool2dSchema, fractionalRegions, fractionalOutputSize, regionMaxPool2d,
} from './fractional-pool.js';
export type { FractionalMaxPool2dConfig, Region, SequenceOptions } from './fractional-pool.js';
export { bernoulliMask, maskMultiply, isStochastic, maskStates, loadMaskStates } from './masks.js';
export type { Stochastic } from './masks.js';
export { matchesPath, selectParameters } from './util.js';
export type { Selection } from './util.js';
export { regularizers, regularizerEntries, regularizerLayerEntries } from './plugin.js';
