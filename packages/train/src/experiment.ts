// One config → one run. experiment(config) resolves every name the config uses (model, loss,
// optimizer, regularization, augmentation, preprocessing) before any data is loaded, so a typo
// fails fast; then it loads and preprocesses the data, fits data-dependent augmentation and
// builds the model from the run's seed. The CLI, search, lab and demo all run configs this way.
import { Rng } from '@minibatch/core';
import { compose, toBatchTransform, type Augmentation } from '@minibatch/augment';
import {
  center, loadFashionMnist, loadMnistSplit, pca, pipeline, scale, standardize, trainTestSplit, zca, type Dataset, type Preprocessor,
} from '@minibatch/data';
import { modelFromConfig, type Loss, type Module } from '@minibatch/layers';
import type { Optimizer } from '@minibatch/optimizers';
import type { Registry } from '@minibatch/registry';
import { ConfigError, INPUT_SHAPES, defaultRegistry, parseRunConfig, type RunConfig } from './config.js';
import { evaluate, fit, type Callbacks, type History, type MetricName, type ParameterConstraint, type PenaltyTerm } from './fit.js';

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

const PREPROCESSORS: Record<string, (config: Record<string, unknown>) => Preprocessor> = {
  scale: (c) => scale(c),
  center: (c) => center(c),
  standardize: (c) => standardize(c),
  pca: (c) => pca(c as never),
  zca: (c) => zca(c),
};

/** The preprocessing pipeline of a config (unfitted), or null when there is none. */
export function makePreprocessing(steps: RunConfig['preprocessing']): Preprocessor | null {
  if (steps.length === 0) return null;
  return pipeline(steps.map(({ name, config }, i) => {
    const make = PREPROCESSORS[name];
    if (make === undefined) {
      throw new ConfigError(`preprocessing.${i}.name: unknown preprocessing '${name}' — known: ${Object.keys(PREPROCESSORS).join(', ')}`);
    }
    return make(config);
  }));
}

/** The pipeline of a config's "augment" list, or null when there is none. */
export function makeAugmentation(steps: RunConfig['augment'], registry: Registry): Augmentation | null {
  if (steps.length === 0) return null;
  return compose(steps.map(({ name, config }, i) => {
    try {
      return registry.fromJSON<Augmentation>({ kind: 'augmentation', name, config });
    } catch (error) {
      throw new ConfigError(`augment.${i}: ${(error as Error).message}`);
    }
  }));
}

/** The config's "regularization" list, resolved (names and configs checked). */
export function makeRegularization(steps: RunConfig['regularization'], registry: Registry): (PenaltyTerm | ParameterConstraint)[] {
  return steps.map(({ name, config }, i) => {
    try {
      return registry.fromJSON<PenaltyTerm | ParameterConstraint>({ kind: 'regularizer', name, config });
    } catch (error) {
      throw new ConfigError(`regularization.${i}: ${(error as Error).message}`);
    }
  });
}

/** The config's model, created through `registry` (not built: no weights yet). */
export function buildModel(config: RunConfig, registry: Registry = defaultRegistry()): Module {
  return modelFromConfig(registry, config.model as never);
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

export interface ExperimentOptions {
  /** Resolves every name in the config. Default: defaultRegistry(). */
  registry?: Registry;
  /** Where the data comes from. Default: loadConfigData (MNIST / Fashion-MNIST in Node). */
  data?: DataSource;
}

export interface RunOptions {
  callbacks?: Callbacks | readonly Callbacks[];
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
  /** Loss and accuracy on the test split. */
  test(): { loss: number; accuracy: number };
  /** What a model file keeps beside the weights, so `eval` can reproduce the test. */
  extras(testAccuracy?: number): { preprocessing?: unknown; info: Record<string, unknown> };
  /** Frees the model's weights and the optimizer's state. */
  dispose(): void;
}

/**
 * Makes a config runnable.
 *
 * @example
 * const run = experiment(parseRunConfig(text, 'mnist-mlp.json'));
 * const history = run.run({ callbacks: { onEpochEnd: (logs) => console.log(logs) } });
 * console.log(run.test().accuracy);
 */
export function experiment(input: RunConfig | unknown, options: ExperimentOptions = {}): Experiment {
  const config = parseRunConfig(input);
  const registry = options.registry ?? defaultRegistry();
  // Every name resolves before the (slower) data loading, so a typo fails fast.
  const model = buildModel(config, registry);
  const augmentation = makeAugmentation(config.augment, registry);
  const regularization = makeRegularization(config.regularization, registry);
  const pre = makePreprocessing(config.preprocessing);
  const optimizer = registry.fromJSON<Optimizer<object>>({ kind: 'optimizer', name: config.optimizer.name, config: config.optimizer.config });
  const loss = registry.fromJSON<Loss>({ kind: 'loss', name: config.loss.name, config: config.loss.config });
  const raw = (options.data ?? loadConfigData)(config.data, config.seed);
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
  return {
    config, registry, model, loss, optimizer, augmentation, regularization, preprocessing: fitted, data, rawShape: raw.train.shape,
    run: (runOptions = {}) => fit(model, data.train, {
      epochs: config.epochs,
      batchSize: config.batchSize,
      seed: config.seed,
      loss,
      optimizer,
      metrics: config.metrics as MetricName[],
      validation: data.validation,
      registry,
      regularization,
      transform: augmentation === null ? undefined : toBatchTransform(augmentation, { classes: data.train.classes }),
      callbacks: runOptions.callbacks,
    }),
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
