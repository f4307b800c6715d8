// One config → one run. experiment(config) resolves every name the config uses (model, loss,
// optimizer, regularization, augmentation, preprocessing) before any data is loaded, so a typo
// fails fast; then it loads and preprocesses the data, fits data-dependent augmentation and
// builds the model from the run's seed. The CLI, search, lab and demo all run configs this way.
import { ArgumentError, Rng, ShapeError, engine } from '@minibatch/core';
import { compose, toBatchTransform, type Augmentation } from '@minibatch/augment';
import {
  center, grayToRgb, loadFashionMnist, loadMnistSplit, pca, pipeline, scale, standardize, trainTestSplit, zca,
  type CenterOptions, type Dataset, type PcaOptions, type Preprocessor, type ScaleOptions, type StandardizeOptions, type ZcaOptions,
} from '@minibatch/data';
import { modelFromConfig, type Loss, type Module } from '@minibatch/layers';
import type { Optimizer } from '@minibatch/optimizers';
import { RegistryError, createAt, locate, parseConfig, z, type Registry } from '@minibatch/registry';
import { ConfigError, INPUT_SHAPES, defaultRegistry, inFile, parseRunConfig, type RunConfig } from './config.js';
import { evaluate, fit, fitAsync, type Callbacks, type FitOptions, type History, type MetricName, type ParameterConstraint, type PenaltyTerm } from './fit.js';
import type { TrainingState } from './checkpoint.js';
import { WeightAverage } from './average.js';
import { Snapshots } from './snapshots.js';
import { checkDataset } from './checks.js';
import type { MonitorOptions } from './monitors.js';
import { estimateTrainingMemory, formatBytes } from './sizes.js';

/** The splits of a run: training, optional per-epoch validation, and the test split. */
export interface Splits {
  train: Dataset;
  validation?: Dataset;
  test: Dataset;
}

/** Where a run's data comes from: the config's `data` section (and the seed) to its splits. */
export type DataSource = (data: RunConfig['data'], seed: number) => Splits;

/**
 * The default data source: MNIST from the `mnist` package, or Fashion-MNIST from its IDX files
 * (Node). `limit` keeps a stratified subset of the training split; `validation` holds out a
 * stratified fraction of what remains.
 */
export function loadConfigData(data: RunConfig['data'], seed: number): Splits {
  const { train, test } = data.name === 'mnist' ? loadMnistSplit({ testCount: data.testCount }) : loadFashionMnist();
  return splitConfigData(train, test, data, seed);
}

/** Applies the config's `limit` and `validation` to already loaded splits (for other data sources). */
export function splitConfigData(train: Dataset, test: Dataset, data: RunConfig['data'], seed: number): Splits {
  let kept = train;
  if (data.limit !== undefined && data.limit < kept.count) kept = trainTestSplit(kept, { testCount: kept.count - data.limit, seed, stratified: true }).train;
  if (data.validation > 0) {
    const split = trainTestSplit(kept, { testFraction: data.validation, seed, stratified: true });
    return { train: split.train, validation: split.test, test };
  }
  return { train: kept, test };
}

const per = z.enum(['feature', 'channel', 'global']);
/** The preprocessing steps a config can name, each with a strict schema for its config. */
const PREPROCESSORS: Record<string, { schema: z.ZodType<Record<string, unknown>>; make: (config: never) => Preprocessor }> = {
  scale: { schema: z.strictObject({ max: z.number().positive().optional() }), make: (c: ScaleOptions) => scale(c) },
  center: { schema: z.strictObject({ per: per.optional() }), make: (c: CenterOptions) => center(c) },
  standardize: { schema: z.strictObject({ per: per.optional(), epsilon: z.number().positive().optional() }), make: (c: StandardizeOptions) => standardize(c) },
  pca: {
    schema: z.strictObject({ components: z.number().int().positive(), whiten: z.boolean().optional(), epsilon: z.number().positive().optional() }),
    make: (c: PcaOptions) => pca(c),
  },
  zca: { schema: z.strictObject({ epsilon: z.number().positive().optional() }), make: (c: ZcaOptions) => zca(c) },
  grayToRgb: { schema: z.strictObject({}), make: () => grayToRgb() },
};

/** The preprocessing pipeline of a config (unfitted), or null when there is none. */
export function makePreprocessing(steps: RunConfig['preprocessing']): Preprocessor | null {
  if (steps.length === 0) return null;
  return pipeline(steps.map(({ name, config }, i) => {
    const step = PREPROCESSORS[name];
    if (step === undefined) {
      const near = Object.keys(PREPROCESSORS).find((k) => k.toLowerCase() === name.toLowerCase());
      throw new RegistryError('unknown-name', `unknown preprocessing '${name}'${near ? ` — did you mean '${near}'?` : ''}; known: ${Object.keys(PREPROCESSORS).join(', ')}`, { path: ['preprocessing', i, 'name'] });
    }
    const parsed = locate(['preprocessing', i, 'config'], () => parseConfig('preprocessing', name, step.schema, config));
    return step.make(parsed as never);
  }));
}

/** The pipeline of a config's "augment" list, or null when there is none. */
export function makeAugmentation(steps: RunConfig['augment'], registry: Registry): Augmentation | null {
  if (steps.length === 0) return null;
  return compose(steps.map(({ name, config }, i) => createAt<Augmentation>(registry, 'augmentation', name, config, ['augment', i])));
}

/** The config's "regularization" list, resolved (names and configs checked). */
export function makeRegularization(steps: RunConfig['regularization'], registry: Registry): (PenaltyTerm | ParameterConstraint)[] {
  return steps.map(({ name, config }, i) => createAt<PenaltyTerm | ParameterConstraint>(registry, 'regularizer', name, config, ['regularization', i]));
}

/** The config's model, created through `registry` (not built: no weights yet). */
export function buildModel(config: RunConfig, registry: Registry = defaultRegistry()): Module {
  return modelFromConfig(registry, config.model as never, ['model']);
}

/** The per-sample shape the model sees: the data set's, after the config's preprocessing. */
export function modelInputShape(config: RunConfig): number[] {
  const raw = INPUT_SHAPES[config.data.name];
  return makePreprocessing(config.preprocessing)?.outputShape(raw) ?? raw;
}

/** Checks that (preprocessed) samples are images [height, width, channels], as augmentations need. */
export function checkImageShape(shape: readonly number[]): void {
  if (shape.length !== 3) {
    throw new ConfigError(
      `augment: the augmentations need image samples [height, width, channels], but the preprocessing makes samples of shape [${shape.join(', ')}]; ` +
        'remove "augment", or use preprocessing that keeps the image shape (scale, center, standardize)',
    );
  }
}

/** Every part of a run config, resolved by name (nothing built, no data loaded). */
export interface ResolvedRun {
  model: Module;
  loss: Loss;
  optimizer: Optimizer<object>;
  augmentation: Augmentation | null;
  regularization: (PenaltyTerm | ParameterConstraint)[];
  /** Unfitted. */
  preprocessing: Preprocessor | null;
  /** The per-sample shape the model sees (after preprocessing). */
  inputShape: number[];
}

/**
 * Resolves every name of a config and checks that one training step fits in `memoryLimit`
 * bytes, before any data is loaded or memory taken. Errors name the config path
 * (`model[3].config.units`) and say what to change.
 */
export function resolveRun(config: RunConfig, registry: Registry = defaultRegistry(), memoryLimit?: number): ResolvedRun {
  const model = buildModel(config, registry);
  try {
    const inputShape = modelInputShape(config);
    const run: ResolvedRun = {
      model,
      augmentation: makeAugmentation(config.augment, registry),
      regularization: makeRegularization(config.regularization, registry),
      preprocessing: makePreprocessing(config.preprocessing),
      optimizer: createAt<Optimizer<object>>(registry, 'optimizer', config.optimizer.name, config.optimizer.config, ['optimizer']),
      loss: createAt<Loss>(registry, 'loss', config.loss.name, config.loss.config, ['loss']),
      inputShape,
    };
    checkShapes(model, inputShape);
    checkMemory(config, model, inputShape, memoryLimit ?? engine().maxBytes);
    return run;
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** 'model[1]' for a top-level layer; 'model[0] (block.1)' inside a container. */
function configPath(rowPath: string): string {
  const [top, ...rest] = rowPath.split('.');
  return `model[${top}]${rest.length > 0 ? ` (${rest.join('.')})` : ''}`;
}

/** Follows the sample shape through the model's layers, naming the first layer it does not fit. */
function checkShapes(model: Module, inputShape: number[]): void {
  let shape = inputShape;
  model.children().forEach(([name, layer]) => {
    try {
      shape = layer.outputShape(shape);
    } catch (error) {
      if (!(error instanceof ShapeError)) throw error;
      throw new ConfigError(`model[${name}] (${layer.name}) does not fit its input [${shape.join(', ')}]: ${error.message}`);
    }
  });
}

function checkMemory(config: RunConfig, model: Module, inputShape: number[], limit: number): void {
  const est = estimateTrainingMemory(model, inputShape, config.batchSize, config.optimizer.name);
  if (est.totalBytes <= limit) return;
  const fixed = est.weightBytes + est.stateBytes;
  const lines = [
    `one training step needs about ${formatBytes(est.totalBytes)} — weights ${formatBytes(est.weightBytes)} (${est.parameters.toLocaleString('en-US')} parameters), ` +
      `gradients and ${config.optimizer.name} state ${formatBytes(est.stateBytes)}, activations at batch size ${config.batchSize} ${formatBytes(est.activationBytes)} — ` +
      `but the engine can hold at most ${formatBytes(limit)}.`,
  ];
  if (fixed * 2 > limit && est.largestParams !== null) {
    lines.push(`The weights alone are too large: ${configPath(est.largestParams.path)} ${est.largestParams.label.replace(/^\S+ /, '')} has ${est.largestParams.params.toLocaleString('en-US')} parameters; make it smaller.`);
    // A layer's weights often grow from an earlier layer's huge output (filters: 10¹²): name it too.
    if (est.activationBytes > limit && est.largestOutput !== null && est.largestOutput.path !== est.largestParams.path) {
      lines.push(`The activations are too large as well: ${configPath(est.largestOutput.path)} ${est.largestOutput.label.replace(/^\S+ /, '')} outputs [${est.largestOutput.outputShape.join(', ')}] per sample.`);
    }
  } else if (est.largestOutput !== null) {
    const fits = Math.floor((limit - fixed) / est.bytesPerSample);
    lines.push(`The largest activations come from ${configPath(est.largestOutput.path)} ${est.largestOutput.label.replace(/^\S+ /, '')}, output [${est.largestOutput.outputShape.join(', ')}] per sample; ` +
      (fits >= 1 ? `lower batchSize to ${fits} or less, or make that layer smaller.` : 'make that layer smaller.'));
  }
  throw new ConfigError(lines.join('\n'));
}

export interface ExperimentOptions {
  /** Resolves every name in the config. Default: defaultRegistry(). */
  registry?: Registry;
  /** Where the data comes from. Default: loadConfigData (MNIST / Fashion-MNIST in Node). */
  data?: DataSource;
  /** The most bytes one training step may use. Default: all the engine can hold. */
  memoryLimit?: number;
  /** Where the config came from (a file name), named by every error about it. */
  source?: string;
}

export interface RunOptions {
  callbacks?: Callbacks | readonly Callbacks[];
  /** Watch the run (fit's monitors): records and diagnoses go to the callbacks' onMonitor. */
  monitors?: MonitorOptions | true;
  /** fit's checkpointing: the state after every epoch or N steps, and when shouldStop stops the run. */
  checkpoint?: FitOptions['checkpoint'];
  shouldStop?: () => boolean;
  /** Continue from a checkpointed state. */
  resume?: TrainingState;
}

/** A config made runnable: every part resolved, the data loaded and preprocessed, the model built. */
export interface Experiment {
  readonly config: RunConfig;
  readonly registry: Registry;
  readonly model: Module;
  readonly loss: Loss;
  readonly optimizer: Optimizer<object>;
  readonly augmentation: Augmentation | null;
  readonly regularization: readonly (PenaltyTerm | ParameterConstraint)[];
  /** The preprocessing, fitted on the training split (null when the config has none). */
  readonly preprocessing: Preprocessor | null;
  /** The splits as the model sees them (after preprocessing). */
  readonly data: Splits;
  /** The training split's sample shape before preprocessing. */
  readonly rawShape: readonly number[];
  /** Trains for the config's epochs. */
  run(options?: RunOptions): History;
  /** run(), letting the event loop in between steps (so a signal handler can set shouldStop). */
  runAsync(options?: RunOptions): Promise<History>;
  /** Loss and accuracy on the test split. */
  test(): { loss: number; accuracy: number };
  /** The snapshot collector, when the config asks for a snapshot ensemble (`snapshots`). */
  readonly snapshots: Snapshots | null;
  /** Loss and accuracy of the snapshot ensemble on the test split, and each snapshot's accuracy (null without `snapshots`). */
  testSnapshots(): { loss: number; accuracy: number; members: number[] } | null;
  /** The running weight average, when the config asks for one (`average`). */
  readonly average: WeightAverage | null;
  /** Loss and accuracy of the averaged weights on the test split (null without `average`). */
  testAverage(): { loss: number; accuracy: number } | null;
  /** What a model file keeps beside the weights, so `eval` can reproduce the test. */
  extras(testAccuracy?: number): { preprocessing?: unknown; info: Record<string, unknown> };
  /** Frees the model's weights and the optimizer's state. */
  dispose(): void;
}

/**
 * Makes a config runnable: resolveRun() (names, sizes), then the data, the fitted
 * preprocessing and augmentation, and the model built from the run's seed.
 *
 * @example
 * const run = experiment(parseRunConfig(text, 'mnist-mlp.json'));
 * const history = run.run({ callbacks: { onEpochEnd: (logs) => console.log(logs) } });
 * console.log(run.test().accuracy);
 */
export function experiment(input: RunConfig | unknown, options: ExperimentOptions = {}): Experiment {
  const source = options.source ?? 'config';
  const config = parseRunConfig(input, source);
  const registry = options.registry ?? defaultRegistry();
  const { model, augmentation, regularization, preprocessing: pre, optimizer, loss } = inFile(source, () => resolveRun(config, registry, options.memoryLimit));
  let raw: Splits;
  try {
    raw = (options.data ?? loadConfigData)(config.data, config.seed);
  } catch (error) {
    model.dispose();
    // A split the data cannot make (a validation fraction of one sample) is a config error.
    if (error instanceof ArgumentError) throw new ConfigError(`${source}: data: ${error.message}`, { cause: error });
    throw error;
  }
  const fitted = pre === null ? null : pre.fit(raw.train);
  const prepare = (d: Dataset): Dataset => (fitted === null ? d : fitted.transform(d));
  const data: Splits = { train: prepare(raw.train), test: prepare(raw.test) };
  if (raw.validation !== undefined) data.validation = prepare(raw.validation);
  // Augmentation runs on training batches only, after the preprocessing (evaluate() has no transform).
  if (augmentation !== null) {
    checkImageShape(data.train.shape);
    augmentation.fit?.({ x: data.train.x, shape: data.train.shape });
  }
  model.build(data.train.shape, new Rng(config.seed));
  try {
    checkDataset(model, data.train, 'the training data');
    if (data.validation !== undefined) checkDataset(model, data.validation, 'the validation data');
    checkDataset(model, data.test, 'the test data');
  } catch (error) {
    model.dispose();
    throw error;
  }
  const average = config.average === undefined ? null : new WeightAverage(model, config.average);
  let snapshots: Snapshots | null = null;
  if (config.snapshots !== undefined) {
    const steps = config.epochs * Math.ceil(data.train.count / config.batchSize);
    try {
      snapshots = new Snapshots(model, optimizer, { count: config.snapshots.count, steps });
    } catch (error) {
      model.dispose();
      throw new ConfigError(`${source}: snapshots.count: ${(error as Error).message.replace(/^snapshots: /, '')}`);
    }
  }
  const fitOptions = (runOptions: RunOptions): FitOptions => ({
    ...(average !== null ? { average } : {}),
    epochs: config.epochs,
    batchSize: config.batchSize,
    seed: config.seed,
    shuffle: config.shuffle ?? 'epoch',
    loss,
    optimizer,
    metrics: config.metrics as MetricName[],
    validation: data.validation,
    registry,
    regularization,
    transform: augmentation === null ? undefined : toBatchTransform(augmentation, { classes: data.train.classes }),
    callbacks: runOptions.callbacks,
    ...(snapshots !== null ? { snapshots } : {}),
    ...(runOptions.monitors !== undefined ? { monitors: runOptions.monitors } : {}),
    ...(runOptions.checkpoint !== undefined ? { checkpoint: runOptions.checkpoint } : {}),
    ...(runOptions.shouldStop !== undefined ? { shouldStop: runOptions.shouldStop } : {}),
    ...(runOptions.resume !== undefined ? { resume: runOptions.resume } : {}),
  });
  return {
    config, registry, model, loss, optimizer, augmentation, regularization, preprocessing: fitted, data, rawShape: raw.train.shape,
    run: (runOptions = {}) => fit(model, data.train, fitOptions(runOptions)),
    runAsync: (runOptions = {}) => fitAsync(model, data.train, fitOptions(runOptions)),
    snapshots,
    testSnapshots: () => {
      if (snapshots === null || snapshots.taken < 2) return null;
      const ensemble = snapshots.ensemble(registry);
      try {
        const result = evaluate(ensemble, data.test, { loss, metrics: ['accuracy'] });
        // Each snapshot alone, to see whether the ensemble beats its best member.
        const members = ensemble.members.map((m) => evaluate(m, data.test, { loss, metrics: ['accuracy'] }).accuracy);
        return { loss: result.loss, accuracy: result.accuracy, members };
      } finally {
        ensemble.dispose();
      }
    },
    average,
    testAverage: () => {
      if (average === null || average.count === 0) return null;
      const averaged = average.averaged(registry, data.train);
      try {
        const result = evaluate(averaged, data.test, { loss, metrics: ['accuracy'] });
        return { loss: result.loss, accuracy: result.accuracy };
      } finally {
        averaged.dispose();
      }
    },
    test: () => {
      const result = evaluate(model, data.test, { loss, metrics: ['accuracy'] });
      return { loss: result.loss, accuracy: result.accuracy };
    },
    extras: (testAccuracy) => ({
      ...(fitted !== null ? { preprocessing: fitted.toJSON() } : {}),
      info: { data: config.data, loss: config.loss, ...(testAccuracy !== undefined ? { test_accuracy: testAccuracy } : {}), originalShape: raw.train.shape },
    }),
    dispose: () => {
      optimizer.dispose();
      model.dispose();
    },
  };
}
