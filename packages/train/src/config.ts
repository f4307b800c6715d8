// The run config: one JSON document naming the data set, preprocessing, model layers, loss,
// optimizer, schedule, regularization and augmentation by registry name. The CLI, the search,
// the lab and the demo all read it here, so a config means the same run everywhere.
import { augmentations } from '@minibatch/augment';
import { layers } from '@minibatch/layers';
import { optimizers } from '@minibatch/optimizers';
import { createRegistry, z, type Registry } from '@minibatch/registry';
import { regularizers } from '@minibatch/regularizers';

export const DATASETS = ['mnist', 'fashion-mnist'] as const;
export type DatasetName = (typeof DATASETS)[number];

/** Per-sample shape of each named data set, before preprocessing. */
export const INPUT_SHAPES: Record<DatasetName, number[]> = { mnist: [28, 28, 1], 'fashion-mnist': [28, 28, 1] };

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

/** A config that cannot run as written: the message names the field, the value and what is allowed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A registry of every plugin a run config can name: layers, optimizers, augmentations, regularizers. */
export function defaultRegistry(): Registry {
  return createRegistry().use(layers).use(optimizers).use(augmentations).use(regularizers);
}

/**
 * Parses and validates a config (JSON text or a parsed value), naming every bad field.
 *
 * @example
 * const config = parseRunConfig(await readFile('examples/mnist-mlp.json', 'utf8'), 'examples/mnist-mlp.json');
 */
export function parseRunConfig(input: unknown, source = 'config'): RunConfig {
  let raw = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch (error) {
      throw new ConfigError(`${source}: not valid JSON (${(error as Error).message})`);
    }
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
