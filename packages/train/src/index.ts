// @minibatch/train: the fit loop, evaluation, metrics, and model files.
export { fit, evaluate, predict, trainStep, learningRate } from './fit.js';
export type {
  FitOptions, EvaluateOptions, PredictOptions, History, EpochLogs, BatchLogs, Callbacks, MetricName, PenaltyTerm, ParameterConstraint, StepParts, StepResult,
} from './fit.js';
export { correctCount, topKCount } from './metrics.js';
export { encodeSafetensors, decodeSafetensors, float16Value, FormatError } from './safetensors.js';
export type { NamedArray, SafetensorsFile } from './safetensors.js';
export { encodeModel, decodeModel, MODEL_FORMAT } from './model-file.js';
export type { ModelExtras, LoadedModel } from './model-file.js';
export { runConfigSchema, dataConfigSchema, namedSchema, metricsSchema, parseRunConfig, defaultRegistry, inFile, ConfigError, DATASETS, INPUT_SHAPES, MAX_LAYERS } from './config.js';
export type { RunConfig, DatasetName } from './config.js';
export {
  experiment, resolveRun, loadConfigData, splitConfigData, makePreprocessing, makeAugmentation, makeRegularization, buildModel, modelInputShape, checkImageShape,
} from './experiment.js';
export type { Experiment, ExperimentOptions, ResolvedRun, RunOptions, Splits, DataSource } from './experiment.js';
export { checkDataset } from './checks.js';
export { estimateTrainingMemory, formatBytes, parseBytes } from './sizes.js';
export type { MemoryEstimate } from './sizes.js';
export { layerActivity, snapshotParameters, parameterHealth, batchNormStats, diagnose, Monitor } from './monitors.js';
export type { LayerActivity, ParameterHealth, BatchNormStats, Diagnosis, Histogram, MonitorOptions, MonitorRecord } from './monitors.js';
export { lrFind, largestEigenvalue } from './lr.js';
export type { LrFindOptions, LrFindResult, EigenOptions, EigenResult } from './lr.js';
export { logCallbacks, logLine, readLog, LOG_KINDS } from './log.js';
export type { LogRecord, ReadLog } from './log.js';
export { reportFigures, reportDiagnoses, smoothed } from './figures.js';
export type { Figure, ReportedDiagnosis } from './figures.js';
export { sanityChecks } from './sanity.js';
export type { Check, SanityOptions } from './sanity.js';
export { fitAsync } from './fit.js';
export { encodeCheckpoint, decodeCheckpoint, configChanges, CHECKPOINT_FORMAT } from './checkpoint.js';
export type { Checkpoint, TrainingState, RunPosition } from './checkpoint.js';
export { Ensemble, ensembleSchema, ensembles } from './ensemble.js';
export { WeightAverage } from './average.js';
export type { AverageOptions, AverageState } from './average.js';
export { Snapshots, cycleEnds } from './snapshots.js';
