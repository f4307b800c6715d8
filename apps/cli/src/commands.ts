// The commands of `minibatch`: train, eval, summary. Each returns its exit code and writes
// to the streams it is given, so tests run them in-process.
import { readFile } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import { Rng, engine } from '@minibatch/core';
import type { Dataset, Preprocessor } from '@minibatch/data';
import { Module, modelFromConfig } from '@minibatch/layers';
import type { Optimizer } from '@minibatch/optimizers';
import { evaluate, fit, type EpochLogs } from '@minibatch/train';
import { loadModel, saveModel } from '@minibatch/train/node';
import { toBatchTransform } from '@minibatch/augment';
import { checkImageShape, fitAugmentation, makeAugmentation } from './augment.js';
import { ConfigError, INPUT_SHAPES, cliRegistry, loadData, makePreprocessing, makeRegularization, parseConfig, preprocessorFromJSON, type DatasetName, type RunConfig } from './config.js';

export interface Io {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream;
}

async function readConfig(path: string): Promise<RunConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  return parseConfig(text, path);
}

function buildModel(config: RunConfig): Module {
  const registry = cliRegistry();
  const model = modelFromConfig(registry, config.model as never);
  return model;
}

const fmt = (v: number | undefined, digits = 4): string => (v === undefined ? '-' : v.toFixed(digits));

function epochLine(logs: EpochLogs, epochs: number): string {
  const parts = [`epoch ${logs.epoch}/${epochs}`, `loss ${fmt(logs.loss)}`];
  if (logs.penalty !== undefined) parts.push(`penalty ${fmt(logs.penalty)}`);
  if (logs.accuracy !== undefined) parts.push(`acc ${fmt(logs.accuracy)}`);
  if (logs.val_loss !== undefined) parts.push(`val_loss ${fmt(logs.val_loss)}`, `val_acc ${fmt(logs.val_accuracy)}`);
  parts.push(`${Math.round(logs.samples_per_s)} samples/s`, `${logs.seconds.toFixed(1)} s`);
  return parts.join('  ');
}

export interface TrainArgs {
  config: string;
  epochs?: number;
  seed?: number;
  out?: string;
  json?: boolean;
}

/** `minibatch train <config.json> [--epochs N] [--seed S] [--out model.safetensors] [--json]` */
export async function trainCommand(args: TrainArgs, io: Io): Promise<number> {
  const config = await readConfig(args.config);
  if (args.epochs !== undefined) config.epochs = args.epochs;
  if (args.seed !== undefined) config.seed = args.seed;
  const registry = cliRegistry();
  // Everything named in the config is resolved before the (slower) data loading, so a typo fails fast.
  const model = buildModel(config);
  const augmentation = makeAugmentation(config.augment, registry);
  const regularization = makeRegularization(config.regularization, registry);
  const pre = makePreprocessing(config.preprocessing);
  const splits = loadData(config.data, config.seed);
  const prepared = applyPreprocessing(pre, splits.train, splits.validation, splits.test);
  // Augmentation runs on training batches only, after the preprocessing (evaluate() has no transform).
  if (augmentation !== null) {
    checkImageShape(prepared.train.shape);
    fitAugmentation(augmentation, prepared.train);
  }
  model.build(prepared.train.shape, new Rng(config.seed));
  const optimizer = registry.fromJSON<Optimizer<object>>({ kind: 'optimizer', name: config.optimizer.name, config: config.optimizer.config });
  const loss = registry.fromJSON<never>({ kind: 'loss', name: config.loss.name, config: config.loss.config });
  const json = args.json === true;
  const tty = !json && io.out.isTTY === true;
  const batchesPerEpoch = Math.ceil(prepared.train.count / config.batchSize);
  let bar: cliProgress.SingleBar | null = null;
  let seen = 0;
  let lossSum = 0;
  let epochStart = 0;
  if (!json) {
    const e = engine();
    io.out.write(`training on ${prepared.train.count} samples of ${config.data.name}${prepared.validation ? `, validating on ${prepared.validation.count}` : ''}` +
      ` (${e.build} kernels, ${e.threads} thread${e.threads === 1 ? '' : 's'})\n`);
  }
  fit(model, prepared.train, {
    epochs: config.epochs,
    batchSize: config.batchSize,
    seed: config.seed,
    loss,
    optimizer,
    metrics: config.metrics as never,
    validation: prepared.validation,
    registry,
    regularization,
    transform: augmentation === null ? undefined : toBatchTransform(augmentation, { classes: prepared.train.classes }),
    callbacks: {
      onBatchEnd: (b) => {
        if (!tty) return;
        if (b.batch === 0) {
          bar = new cliProgress.SingleBar({
            format: `epoch ${b.epoch}/${config.epochs} {bar} {percentage}% | loss {loss} | {rate} samples/s`,
            stream: io.out as NodeJS.WritableStream, hideCursor: true, clearOnComplete: true,
          }, cliProgress.Presets.shades_classic);
          bar.start(batchesPerEpoch, 0, { loss: '-', rate: '-' });
          seen = 0;
          lossSum = 0;
          epochStart = performance.now();
        }
        seen += b.size;
        lossSum += b.loss * b.size;
        const rate = Math.round(seen / ((performance.now() - epochStart) / 1000));
        bar?.update(b.batch + 1, { loss: (lossSum / seen).toFixed(4), rate });
      },
      onEpochEnd: (logs) => {
        (bar as cliProgress.SingleBar | null)?.stop();
        bar = null;
        if (json) {
          const record: Record<string, number> = { epoch: logs.epoch, loss: logs.loss, samples_per_s: logs.samples_per_s };
          if (logs.penalty !== undefined) record.penalty = logs.penalty;
          if (logs.accuracy !== undefined) record.accuracy = logs.accuracy;
          if (logs.val_loss !== undefined) Object.assign(record, { val_loss: logs.val_loss, val_accuracy: logs.val_accuracy });
          io.out.write(`${JSON.stringify(record)}\n`);
        } else {
          io.out.write(`${epochLine(logs, config.epochs)}\n`);
        }
      },
    },
  });
  const test = evaluate(model, prepared.test, { loss, metrics: ['accuracy'] });
  if (json) io.out.write(`${JSON.stringify({ final: true, test_loss: test.loss, test_accuracy: test.accuracy })}\n`);
  else io.out.write(`test loss ${fmt(test.loss)}  test accuracy ${(test.accuracy * 100).toFixed(2)}% (${prepared.test.count} samples)\n`);
  if (args.out !== undefined) {
    await saveModel(args.out, model, prepared.train.shape, {
      preprocessing: pre?.toJSON(),
      info: { data: config.data, loss: config.loss, test_accuracy: test.accuracy, originalShape: splits.train.shape },
    });
    if (!json) io.out.write(`saved ${args.out}\n`);
  }
  model.dispose();
  return 0;
}

function applyPreprocessing(pre: Preprocessor | null, train: Dataset, validation: Dataset | undefined, test: Dataset) {
  if (pre === null) return { train, validation, test };
  const fitted = pre.fit(train);
  return { train: fitted.transform(train), validation: validation && fitted.transform(validation), test: fitted.transform(test) };
}

export interface EvalArgs {
  model: string;
  data?: string;
  json?: boolean;
}

/** `minibatch eval <model.safetensors> [--data mnist|fashion-mnist]`: test-split loss and accuracy. */
export async function evalCommand(args: EvalArgs, io: Io): Promise<number> {
  const registry = cliRegistry();
  const loaded = await loadModel(args.model, registry);
  const info = (loaded.info ?? {}) as { data?: RunConfig['data']; loss?: RunConfig['loss'] };
  const name = (args.data ?? info.data?.name) as DatasetName | undefined;
  if (name === undefined || !(name in INPUT_SHAPES)) {
    throw new ConfigError(`eval: which data? pass --data ${Object.keys(INPUT_SHAPES).join('|')} (the model file does not name one)`);
  }
  const dataConfig = { validation: 0, testCount: 2000, ...(info.data ?? {}), name, limit: undefined };
  const { test } = loadData(dataConfig, 0);
  const pre = loaded.preprocessing !== undefined ? preprocessorFromJSON(loaded.preprocessing as never) : null;
  const data = pre === null ? test : pre.transform(test);
  const loss = info.loss ? registry.fromJSON<never>({ kind: 'loss', ...info.loss }) : undefined;
  const result = evaluate(loaded.model, data, { loss, metrics: ['accuracy'] });
  if (args.json) io.out.write(`${JSON.stringify({ data: name, samples: data.count, test_loss: result.loss, test_accuracy: result.accuracy })}\n`);
  else io.out.write(`${name} test split (${data.count} samples): loss ${fmt(result.loss)}  accuracy ${(result.accuracy * 100).toFixed(2)}%\n`);
  loaded.model.dispose();
  return 0;
}

/** `minibatch summary <config.json>`: the model's layers, output shapes and parameter counts. */
export async function summaryCommand(args: { config: string }, io: Io): Promise<number> {
  const config = await readConfig(args.config);
  const model = buildModel(config);
  const shape = makePreprocessing(config.preprocessing)?.outputShape(INPUT_SHAPES[config.data.name]) ?? INPUT_SHAPES[config.data.name];
  io.out.write(`${model.summary(shape)}\n`);
  model.dispose();
  return 0;
}
