// The run config: a JSON file naming the data set, preprocessing, model layers, loss,
// optimizer and schedule by registry name. Validated here so a bad config gets one message
// naming the field, the value, and what is allowed.
import { augmentations } from '@minibatch/augment';
import { loadFashionMnist, loadMnistSplit, pipeline, preprocessorFromJSON, scale, center, standardize, pca, zca, trainTestSplit, type Dataset, type Preprocessor } from '@minibatch/data';
import { layers } from '@minibatch/layers';
import { optimizers } from '@minibatch/optimizers';
import { createRegistry, z, type Registry } from '@minibatch/registry';
import { regularizers } from '@minibatch/regularizers';
import type { ParameterConstraint, PenaltyTerm } from '@minibatch/train';

export const DATASETS = ['mnist', 'fashion-mnist'] as const;
export type DatasetName = (typeof DATASETS)[number];

const named = z.strictObject({ name: z.string(), config: z.record(z.string(), z.unknown()).default({}) });

export const runConfigSchema = z.strictObject({
  data: z.strictObject({
    name: z.enum(DATASETS),
    /** Fraction of the training split held out for per-epoch validation (0: none). */
    validation: z.number().min(0).lt(1).default(0),
    /** MNIST only: samples held out as the test split (of the 10,000). */
    testCount: z.number().int().positive().default(2000),
    /** Use only the first N training samples (quick runs). */
    limit: z.number().int().positive().optional(),
  }),
  preprocessing: z.array(named).default([]),
  /** Augmentations (@minibatch/augment, by name) applied to training batches only, in order. */
  augment: z.array(named).default([]),
  model: z.array(z.unknown()).min(1),
  loss: named.default({ name: 'softmaxCrossEntropy', config: {} }),
  optimizer: named.default({ name: 'sgd', config: { lr: 0.01 } }),
  /**
   * Weight penalties added to the training loss (l1, l2, elasticNet) and constraints applied
   * after each optimizer step (maxNorm, nonNegative), by name (@minibatch/regularizers).
   */
  regularization: z.array(named).default([]),
  epochs: z.number().int().positive().default(10),
  batchSize: z.number().int().positive().default(64),
  seed: z.number().int().default(0),
  metrics: z.array(z.string()).default(['accuracy']),
});

export type RunConfig = z.output<typeof runConfigSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The registry of every plugin the CLI knows. */
export function cliRegistry(): Registry {
  return createRegistry().use(layers).use(optimizers).use(augmentations).use(regularizers);
}

/** The config's "regularization" list, resolved (names and configs checked) before any data is loaded. */
export function makeRegularization(steps: RunConfig['regularization'], registry: Registry): (PenaltyTerm | ParameterConstraint)[] {
  return steps.map(({ name, config }, i) => {
    try {
      return registry.fromJSON<PenaltyTerm | ParameterConstraint>({ kind: 'regularizer', name, config });
    } catch (error) {
      throw new ConfigError(`regularization.${i}: ${(error as Error).message}`);
    }
  });
}

/** Parses and validates a config (JSON text), naming every bad field. */
export function parseConfig(text: string, source: string): RunConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${source}: not valid JSON (${(error as Error).message})`);
  }
  const result = runConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
      let value: unknown = raw;
      for (const key of issue.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
      const got = value === undefined ? 'nothing' : JSON.stringify(value);
      return `  - ${path}: ${issue.message} (got ${got})`;
    });
    throw new ConfigError(`${source}: invalid config\n${lines.join('\n')}`);
  }
  return result.data;
}

export const INPUT_SHAPES: Record<DatasetName, number[]> = { mnist: [28, 28, 1], 'fashion-mnist': [28, 28, 1] };

export interface Splits {
  train: Dataset;
  validation?: Dataset;
  test: Dataset;
}

/** Loads the named data set and splits it as the config says. */
export function loadData(data: RunConfig['data'], seed: number): Splits {
  let { train, test } = data.name === 'mnist' ? loadMnistSplit({ testCount: data.testCount }) : loadFashionMnist();
  if (data.limit !== undefined && data.limit < train.count) train = trainTestSplit(train, { testCount: train.count - data.limit, seed, stratified: true }).train;
  if (data.validation > 0) {
    const split = trainTestSplit(train, { testFraction: data.validation, seed, stratified: true });
    return { train: split.train, validation: split.test, test };
  }
  return { train, test };
}

const PREPROCESSORS: Record<string, (config: Record<string, unknown>) => Preprocessor> = {
  scale: (c) => scale(c),
  center: (c) => center(c),
  standardize: (c) => standardize(c),
  pca: (c) => pca(c as never),
  zca: (c) => zca(c),
};

/** The preprocessing pipeline of a config (unfitted). */
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

export { preprocessorFromJSON };
