// The run config: one JSON document naming the data set, preprocessing, model layers, loss,
// optimizer, schedule, regularization and augmentation by registry name. The CLI, the search,
// the lab and the demo all read it here, so a config means the same run everywhere.
import { augmentations } from '@minibatch/augment';
import { ensembles } from './ensemble.js';
import { layers } from '@minibatch/layers';
import { optimizers } from '@minibatch/optimizers';
import { RegistryError, checkNesting, createRegistry, describeIssues, formatPath, parseJson, z, type JsonPath, type Registry } from '@minibatch/registry';
import { regularizers } from '@minibatch/regularizers';

export const DATASETS = ['mnist', 'fashion-mnist'] as const;
export type DatasetName = (typeof DATASETS)[number];

/** Per-sample shape of each named data set, before preprocessing. */
export const INPUT_SHAPES: Record<DatasetName, number[]> = { mnist: [28, 28, 1], 'fashion-mnist': [28, 28, 1] };

/** A plugin by name, with its config: { "name": "adam", "config": { "lr": 0.001 } }. */
export const namedSchema = z.strictObject({ name: z.string(), config: z.record(z.string(), z.unknown()).default({}) });
const named = namedSchema;

/** Metrics reported beside the loss: 'accuracy', or 'topK' (e.g. 'top5'). */
export const metricsSchema = z
  .array(z.string().regex(/^(accuracy|top[1-9]\d*)$/, { error: (issue) => `unknown metric '${String(issue.input)}' — known: 'accuracy', 'topK' (e.g. 'top5')` }))
  .default(['accuracy']);

/** The "data" section: which data set, and how it is split. */
export const dataConfigSchema = z.strictObject({
  name: z.enum(DATASETS),
  /** Fraction of the training split held out for per-epoch validation (0: none). */
  validation: z.number().min(0).lt(1).default(0),
  /** MNIST only: samples held out as the test split (of the 10,000). */
  testCount: z.number().int().positive().default(2000),
  /** Use only the first N training samples (a stratified subset; quick runs, few-label experiments). */
  limit: z.number().int().positive().optional(),
});

export const runConfigSchema = z.strictObject({
  data: dataConfigSchema,
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
  /**
   * The order of the training data: 'epoch' (when absent) reshuffles every epoch, 'once'
   * shuffles once for the whole run, false keeps the data set's order (FitOptions.shuffle).
   * No default value: an absent field stays absent, so the config of a checkpoint made before
   * the field existed still matches (resume compares configs).
   */
  shuffle: z.literal(['epoch', 'once', false]).optional(),
  metrics: metricsSchema,
  /** Keep a running average of the weights, evaluated as a model of its own (WeightAverage). */
  average: z.strictObject({
    kind: z.enum(['ema', 'polyak']).default('ema'),
    /** The EMA's decay, in (0, 1). */
    decay: z.number().gt(0).lt(1).default(0.999),
    /** Steps before averaging starts. */
    start: z.number().int().min(0).default(0),
  }).optional(),
  /** A snapshot ensemble: the weights at the end of each learning-rate cycle, the last `count` averaged (Snapshots). */
  snapshots: z.strictObject({ count: z.number().int().min(2) }).optional(),
});

export type RunConfig = z.output<typeof runConfigSchema>;

/** A config that cannot run as written: the message names the field, the value and what is allowed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A registry of every plugin a run config can name: layers, optimizers, augmentations, regularizers. */
export function defaultRegistry(): Registry {
  return createRegistry().use(layers).use(optimizers).use(augmentations).use(regularizers).use(ensembles);
}

/** The most layers a config may hold, counting those inside containers: far beyond any real network, far below what exhausts memory. */
export const MAX_LAYERS = 10_000;

/**
 * Parses and validates a config (JSON text or a parsed value), naming every bad field by its
 * path. Text is bounded (size and nesting, @minibatch/registry's parseJson) and so is the
 * number of layers, so a hostile file is a clear error, never a stack overflow or a full heap.
 *
 * @example
 * const config = parseRunConfig(await readFile('examples/mnist-mlp.json', 'utf8'), 'examples/mnist-mlp.json');
 */
export function parseRunConfig(input: unknown, source = 'config'): RunConfig {
  const raw = inFile(source, () => {
    if (typeof input === 'string') return parseJson(input, { source });
    checkNesting(input, { source });
    return input;
  });
  const result = runConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const lines = describeIssues(result.error.issues, (path) => keysOf(path)).map((issue) => `  - ${formatPath(issue.path)}: ${issue.text}`);
    throw new ConfigError(`${source}: invalid config\n${lines.join('\n')}`);
  }
  const layers = countLayers(result.data.model, ['model']);
  if (layers.count > MAX_LAYERS) {
    throw new ConfigError(`${source}: the model has more than ${MAX_LAYERS.toLocaleString('en-US')} layers (counted up to ${formatPath(layers.at)}); a config this large is not a network minibatch can train`);
  }
  return result.data;
}

/** The keys the run config allows at a path, for did-you-mean. */
function keysOf(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(runConfigSchema.shape);
  if (path.length === 1 && path[0] === 'data') return Object.keys(dataConfigSchema.shape);
  return ['name', 'config'];
}

/** Counts layer specs: the model's entries and, inside each spec's config, any array of further specs. Stops past MAX_LAYERS. */
function countLayers(specs: readonly unknown[], path: JsonPath): { count: number; at: JsonPath } {
  let count = 0;
  let at: JsonPath = path;
  const stack: [unknown, JsonPath][] = specs.map((s, i) => [s, [...path, i]]);
  while (stack.length > 0 && count <= MAX_LAYERS) {
    const [spec, where] = stack.pop()!;
    count++;
    at = where;
    const config = (spec as { config?: unknown } | null)?.config;
    if (config === null || typeof config !== 'object') continue;
    for (const [key, value] of Object.entries(config)) {
      if (Array.isArray(value) && value.every((v) => typeof v === 'string' || (v !== null && typeof v === 'object' && 'name' in v))) {
        value.forEach((v, i) => stack.push([v, [...where, 'config', key, i]]));
      }
    }
  }
  return { count, at };
}

/**
 * Runs `fn`; a config or registry error it throws becomes a ConfigError that names `source`
 * (the file), so every message about a config starts with where the config came from.
 */
export function inFile<T>(source: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof RegistryError || error instanceof ConfigError) {
      throw error.message.startsWith(`${source}: `) ? new ConfigError(error.message, { cause: error }) : new ConfigError(`${source}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
