// @minibatch/train: the fit loop, evaluation, metrics, and model files.
export { fit, evaluate, predict } from './fit.js';
export type {
  FitOptions, EvaluateOptions, PredictOptions, History, EpochLogs, BatchLogs, Callbacks, MetricName, PenaltyTerm, ParameterConstraint,
} from './fit.js';
export { correctCount, topKCount } from './metrics.js';
export { encodeSafetensors, decodeSafetensors, FormatError } from './safetensors.js';
export type { NamedArray, SafetensorsFile } from './safetensors.js';
export { encodeModel, decodeModel, MODEL_FORMAT } from './model-file.js';
export type { ModelExtras, LoadedModel } from './model-file.js';
