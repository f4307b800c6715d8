// `minibatch finetune` and `minibatch inspect`: pretrained networks from the command line,
// a thin shell over @minibatch/pretrained.
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { engine } from '@minibatch/core';
import { parseFinetuneConfig, runFinetune, type Inspection } from '@minibatch/pretrained';
import { inspectFile, loadFile, resolveModelPath } from '@minibatch/pretrained/node';
import { JSON_LIMITS } from '@minibatch/registry';
import { ConfigError, formatBytes, type EpochLogs } from '@minibatch/train';
import { FileError, checkOutputs, saveModel } from '@minibatch/train/node';
import type { Io } from './commands.js';

const fmt = (v: number | undefined, digits = 4): string => (v === undefined ? '-' : v.toFixed(digits));

export interface FinetuneArgs {
  config: string;
  /** Train on this many samples (overrides data.limit). */
  limit?: number;
  seed?: number;
  out?: string;
  json?: boolean;
}

/** `minibatch finetune <config.json> [--out model.safetensors] [--json]`: stage after stage, the test split after each. */
export async function finetuneCommand(args: FinetuneArgs, io: Io): Promise<number> {
  let text: string;
  try {
    const { size } = await stat(args.config);
    if (size > JSON_LIMITS.maxBytes) throw new ConfigError(`${args.config}: ${formatBytes(size)} is more than the ${formatBytes(JSON_LIMITS.maxBytes)} a config may have`);
    text = await readFile(args.config, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new FileError(`cannot read config ${args.config}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const base = dirname(args.config);
  const json = args.json === true;
  if (args.limit !== undefined && args.limit < 1) throw new ConfigError(`--limit must be at least 1, got ${args.limit}`);
  const config = parseFinetuneConfig(text, args.config);
  if (args.limit !== undefined) config.data.limit = args.limit;
  if (args.seed !== undefined) config.seed = args.seed;
  let modelPath = '';
  const result = await runFinetune(config, {
    source: args.config,
    load: async (file, format) => {
      modelPath = resolveModelPath(file, base);
      await checkOutputs({ '--out': args.out }, [args.config, modelPath]);
      if (!json) io.out.write(`pretrained ${modelPath} (${engine().build} kernels, ${engine().threads} thread${engine().threads === 1 ? '' : 's'})\n`);
      return loadFile(modelPath, format === undefined ? {} : { format });
    },
    onEpochEnd: (stage, logs: EpochLogs) => {
      if (json) io.out.write(`${JSON.stringify({ stage: stage + 1, epoch: logs.epoch, loss: logs.loss, accuracy: logs.accuracy, val_loss: logs.val_loss, val_accuracy: logs.val_accuracy, samples_per_s: logs.samples_per_s })}\n`);
      else io.out.write(`stage ${stage + 1} epoch ${logs.epoch}  loss ${fmt(logs.loss)}  acc ${fmt(logs.accuracy)}${logs.val_loss !== undefined ? `  val_acc ${fmt(logs.val_accuracy)}` : ''}  ${Math.round(logs.samples_per_s)} samples/s\n`);
    },
  });
  result.stages.forEach((s, i) => {
    if (json) io.out.write(`${JSON.stringify({ stage: i + 1, final: true, cached: s.cached, test_loss: s.test.loss, test_accuracy: s.test.accuracy })}\n`);
    else io.out.write(`stage ${i + 1}${s.cached ? ' (cached features)' : ''}: test loss ${fmt(s.test.loss)}  test accuracy ${(s.test.accuracy * 100).toFixed(2)}% (${result.data.test.count} samples)\n`);
  });
  if (args.out !== undefined) {
    const last = result.stages[result.stages.length - 1];
    await saveModel(args.out, result.model, result.data.train.shape, {
      ...(result.preprocessing !== undefined ? { preprocessing: result.preprocessing } : {}),
      info: { pretrained: modelPath, data: config.data, test_accuracy: last.test.accuracy },
    });
    if (!json) io.out.write(`saved ${args.out}\n`);
  }
  result.model.dispose();
  return 0;
}

/** `minibatch inspect <model file> [--json]`: format, layers, shapes, parameters, quantization, preprocessing. */
export async function inspectCommand(args: { model: string; json?: boolean }, io: Io): Promise<number> {
  const info: Inspection = await inspectFile(args.model);
  if (args.json) {
    io.out.write(`${JSON.stringify({ format: info.format, layers: info.layers, parameters: info.parameters, inputShape: info.inputShape, quantization: info.quantization, preprocessing: info.preprocessing, ...(info.unsupported ? { unsupported: info.unsupported } : {}) })}\n`);
    return 0;
  }
  const lines = [
    `${args.model}`,
    `format         ${info.format}`,
    `input          ${info.inputShape === null ? 'not stated in the file' : `[batch, ${info.inputShape.join(', ')}]`}`,
    `parameters     ${info.parameters.toLocaleString('en-US')} stored values (weights and buffers)`,
    `stored as      ${info.quantization.join(', ')}`,
    `preprocessing  ${info.preprocessing ?? 'not stated in the file'}`,
    ...(info.unsupported ? [`not importable ${info.unsupported.join(', ')}`] : []),
    '',
  ];
  const rows = info.layers.map((l) => [l.name, l.type, l.shape ? `[${l.shape.join(', ')}]` : '', l.parameters.toLocaleString('en-US')]);
  const header = ['name', info.layers.some((l) => l.type === 'tensor') ? 'kind' : 'type', 'shape', 'parameters'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2].padEnd(widths[2])}  ${r[3].padStart(widths[3])}`.trimEnd();
  io.out.write(`${[...lines, line(header), ...rows.map(line)].join('\n')}\n`);
  return 0;
}
