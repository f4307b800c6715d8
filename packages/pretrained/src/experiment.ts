// One fine-tuning config → one run: a pretrained network cut at a named layer, optional input
// layers before it (resize, rescale), a new head, data, and stages — typically a linear probe
// on cached features (backbone frozen), then fine-tuning the top of the backbone at a fraction
// of the head's learning rate. What `minibatch finetune` runs.
import { Rng } from '@minibatch/core';
import { toBatchTransform } from '@minibatch/augment';
import type { Dataset } from '@minibatch/data';
import { Sequential, layerFromSpec, layerSpecSchema, modelFromConfig, modelToConfig, type Module } from '@minibatch/layers';
import type { Optimizer } from '@minibatch/optimizers';
import { checkNesting, createAt, parseConfig, parseJson, z, type Registry } from '@minibatch/registry';
import {
  ConfigError, checkDataset, dataConfigSchema, evaluate, inFile, loadConfigData, makeAugmentation, makePreprocessing, metricsSchema, namedSchema,
  type DataSource, type EpochLogs, type MetricName, type Splits,
} from '@minibatch/train';
import { cut, findLayer, finetune, freeze, unfreeze } from './finetune.js';
import { pretrainedRegistry } from './plugin.js';

const stageSchema = z.strictObject({
  epochs: z.number().int().positive(),
  /** What trains: the head only (the backbone frozen), everything, or the backbone from a named layer on. */
  train: z.union([z.enum(['head', 'all']), z.strictObject({ from: z.string().min(1) })]).default('head'),
  optimizer: namedSchema,
  /** The backbone's learning rate as a fraction of the head's (the optimizer's lr). */
  backboneLr: z.number().positive().max(1).default(1),
  /** Apply the config's "augment" pipeline in this stage (a stage without it can train on cached features). */
  augment: z.boolean().default(true),
  /** Train the head on features computed once ('auto': when the backbone is frozen and nothing is augmented). */
  cache: z.union([z.literal('auto'), z.boolean()]).default('auto'),
  /**
   * Keep the backbone's BatchNorm layers frozen when the rest thaws (default): they go on
   * normalizing with the statistics they were trained with, instead of a few-sample batch's —
   * which would shift every feature the head has learned to read (Keras's advice for fine-tuning).
   */
  freezeBatchNorm: z.boolean().default(true),
});

export const finetuneConfigSchema = z.strictObject({
  pretrained: z.strictObject({
    /** The model file: a path (relative to the config's folder) or a package path ('nsfwjs/dist/models/…'). */
    file: z.string().min(1),
    /** The format's registry name; default: recognized from the file. */
    format: z.string().optional(),
    /** The layer to cut at: the new head goes on its output. */
    cut: z.string().min(1),
    /**
     * 'random': the same architecture with freshly drawn weights (the baseline transfer is
     * measured against); its BatchNorm layers start from zero/one statistics with momentum 0.9.
     */
    weights: z.enum(['pretrained', 'random']).default('pretrained'),
  }),
  /** Layers before the backbone, applied to every sample (resizing, rescaling): part of the frozen trunk. */
  input: z.array(layerSpecSchema).default([]),
  head: z.array(layerSpecSchema).min(1),
  data: dataConfigSchema,
  preprocessing: z.array(namedSchema).default([]),
  augment: z.array(namedSchema).default([]),
  stages: z.array(stageSchema).min(1),
  batchSize: z.number().int().positive().default(32),
  seed: z.number().int().default(0),
  metrics: metricsSchema,
});

export type FinetuneConfig = z.output<typeof finetuneConfigSchema>;

/**
 * BatchNorm momentum of a network trained from scratch here. A pretrained file's (0.999 in
 * Keras's MobileNetV2) suits a million ImageNet steps; in the few hundred of a few-label run the
 * running statistics would stay near their start, and evaluation would see a different network.
 */
const FROM_SCRATCH_MOMENTUM = 0.9;

/** A model config with every BatchNorm layer's momentum set, at any depth. */
function withBatchNormMomentum<T>(spec: T, momentum: number): T {
  if (Array.isArray(spec)) return spec.map((s) => withBatchNormMomentum(s, momentum)) as T;
  if (spec === null || typeof spec !== 'object') return spec;
  const entries = Object.entries(spec).map(([k, v]) => [k, withBatchNormMomentum(v, momentum)]);
  const out = Object.fromEntries(entries) as Record<string, unknown>;
  if (out.name === 'batchNorm') out.config = { ...(out.config as object), momentum };
  return out as T;
}

/** Parses and checks a fine-tuning config (JSON text or a value); errors name the file and the path. */
export function parseFinetuneConfig(input: unknown, source = 'config'): FinetuneConfig {
  return inFile(source, () => {
    const raw = typeof input === 'string' ? parseJson(input, { source }) : (checkNesting(input, { source }), input);
    return parseConfig('config', 'finetune', finetuneConfigSchema, raw);
  });
}

export interface FinetuneRunOptions {
  /** Loads the pretrained file (Node: loadFile from @minibatch/pretrained/node). */
  load: (file: string, format: string | undefined) => Module | Promise<Module>;
  registry?: Registry;
  data?: DataSource;
  /** Called after each epoch of each stage. */
  onEpochEnd?: (stage: number, logs: EpochLogs) => void;
  source?: string;
}

export interface FinetuneResult {
  /** The whole model: the trunk (input layers and cut backbone) then the head. */
  model: Sequential;
  stages: { epochs: EpochLogs[]; cached: boolean; test: { loss: number; accuracy: number } }[];
  data: Splits;
  /** The fitted preprocessing, for a model file. */
  preprocessing: unknown;
}

/** The parts of a fine-tuning config built before any work: layers, augmentation, preprocessing. */
export interface ResolvedFinetune {
  inputLayers: Module[];
  head: Module[];
  augmentation: ReturnType<typeof makeAugmentation>;
  pre: ReturnType<typeof makePreprocessing>;
}

/**
 * Resolves every name of a fine-tuning config and checks each stage's optimizer — everything
 * that can be refused before the pretrained file or the data is read. Errors name the file and
 * the JSON path; the layers it returns are unbuilt (nothing to free).
 */
export function resolveFinetune(config: FinetuneConfig, registry: Registry = pretrainedRegistry(), source = 'config'): ResolvedFinetune {
  return inFile(source, () => {
    const resolved = {
      inputLayers: config.input.map((s, i) => layerFromSpec(registry, s, ['input', i])),
      head: config.head.map((s, i) => layerFromSpec(registry, s, ['head', i])),
      augmentation: makeAugmentation(config.augment, registry),
      pre: makePreprocessing(config.preprocessing),
    };
    // A bad stage 2 must not cost stage 1's training.
    config.stages.forEach((stage, i) => {
      const optimizer = createAt<Optimizer<object>>(registry, 'optimizer', stage.optimizer.name, stage.optimizer.config, ['stages', i, 'optimizer']);
      const lr = (optimizer.defaults as { lr?: unknown }).lr;
      optimizer.dispose();
      if (stage.backboneLr !== 1 && typeof lr !== 'number') throw new ConfigError(`stages[${i}].backboneLr needs a number as the optimizer's lr (a schedule cannot be scaled)`);
    });
    return resolved;
  });
}

/** Runs a fine-tuning config: stage after stage, the test split evaluated after each. */
export async function runFinetune(input: FinetuneConfig | unknown, options: FinetuneRunOptions): Promise<FinetuneResult> {
  const source = options.source ?? 'config';
  const config = parseFinetuneConfig(input, source);
  const registry = options.registry ?? pretrainedRegistry();
  const { inputLayers, head, augmentation, pre } = resolveFinetune(config, registry, source);
  const pretrained = await options.load(config.pretrained.file, config.pretrained.format);
  // What holds loaded weights, freed if anything below fails: the whole file, then the cut.
  let backbone: Module = pretrained;
  try {
    backbone = inFile(source, () => {
      try {
        return cut(pretrained, config.pretrained.cut);
      } catch (error) {
        throw new ConfigError(`pretrained.cut: ${(error as Error).message}`);
      }
    });
    disposeUnused(pretrained, backbone);
    if (config.pretrained.weights === 'random') {
      // The same layers from their config: weights drawn from the seed, BatchNorm statistics reset.
      const fresh = modelFromConfig(registry, withBatchNormMomentum(modelToConfig(backbone), FROM_SCRATCH_MOMENTUM));
      fresh.setTrainable(true);
      backbone.dispose();
      backbone = fresh;
    }
    config.stages.forEach(({ train }, i) => {
      if (typeof train !== 'object') return;
      try {
        findLayer(backbone, train.from);
      } catch (error) {
        throw new ConfigError(`${source}: stages[${i}].train.from: ${(error as Error).message}`);
      }
    });
    const trunk = new Sequential([...inputLayers, backbone]);
    const model = new Sequential([trunk, ...head]);
    const raw = (options.data ?? loadConfigData)(config.data, config.seed);
    const fitted = pre === null ? null : pre.fit(raw.train);
    const prepare = (d: Dataset): Dataset => (fitted === null ? d : fitted.transform(d));
    const data: Splits = { train: prepare(raw.train), test: prepare(raw.test), ...(raw.validation ? { validation: prepare(raw.validation) } : {}) };
    inFile(source, () => {
      try {
        model.build(data.train.shape, new Rng(config.seed));
      } catch (error) {
        throw new ConfigError(`the head does not fit: ${(error as Error).message}`);
      }
    });
    checkDataset(model, data.train, 'the training data');
    augmentation?.fit?.({ x: data.train.x, shape: data.train.shape });
    const stages: FinetuneResult['stages'] = [];
    for (const [i, stage] of config.stages.entries()) {
      freeze(trunk);
      if (stage.train === 'all') unfreeze(trunk);
      else if (typeof stage.train === 'object') unfreeze(backbone, { from: stage.train.from });
      if (stage.freezeBatchNorm) freeze(trunk, (l) => l.module.name === 'batchNorm');
      const optimizer = createAt<Optimizer<object>>(registry, 'optimizer', stage.optimizer.name, stage.optimizer.config, ['stages', i, 'optimizer']);
      const lr = (optimizer.defaults as { lr?: unknown }).lr;
      const backboneParams = trunk.trainableParameters();
      if (backboneParams.length > 0) {
        optimizer.addParamGroup({ params: backboneParams, name: 'backbone', ...(stage.backboneLr !== 1 ? { lr: (lr as number) * stage.backboneLr } : {}) } as never);
      }
      optimizer.addParamGroup({ params: head.flatMap((l) => l.trainableParameters()), name: 'head' } as never);
      let history: ReturnType<typeof finetune>;
      try {
        history = finetune(model, data.train, {
          epochs: stage.epochs, batchSize: config.batchSize, seed: config.seed + i, optimizer, registry,
          metrics: config.metrics as MetricName[], validation: data.validation, cache: stage.cache,
          transform: augmentation === null || !stage.augment ? undefined : toBatchTransform(augmentation, { classes: data.train.classes }),
          callbacks: { onEpochEnd: (logs) => options.onEpochEnd?.(i, logs) },
        });
      } finally {
        optimizer.dispose();
      }
      const test = evaluate(model, data.test, { metrics: ['accuracy'] });
      stages.push({ epochs: history.epochs, cached: history.cached, test: { loss: test.loss, accuracy: test.accuracy } });
    }
    return { model, stages, data, preprocessing: fitted?.toJSON() };
  } catch (error) {
    backbone.dispose();
    for (const layer of [...inputLayers, ...head]) layer.dispose();
    throw error;
  }
}

/** Frees the weights and buffers of `whole` that `part` (a cut of it) does not share. */
function disposeUnused(whole: Module, part: Module): void {
  const used = new Set([...part.parameters(), ...part.namedBuffers().map(([, t]) => t)]);
  for (const t of [...whole.parameters(), ...whole.namedBuffers().map(([, t]) => t)]) if (!used.has(t)) t.dispose();
}

