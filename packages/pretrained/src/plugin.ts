// The plugin (registry kind 'format', one entry per model format) and the two entry points,
// load() and inspect(), that pick a file's format by name or by looking at it.
import type { Module } from '@minibatch/layers';
import { definePlugin, define, z, type Plugin, type PluginEntry, type Registry } from '@minibatch/registry';
import { FormatError, defaultRegistry } from '@minibatch/train';
import type { ModelFiles } from './files.js';
import type { Inspection, ModelFormat } from './format.js';
import { ConstantOp, constantOpSchema } from './onnx/layers.js';
import { onnxFormat } from './onnx/format.js';
import { safetensorsFormat } from './safetensors.js';
import { tfjsLayersFormat, tfjsWeightsFormat } from './tfjs/format.js';

/** The built-in formats, in the order detection tries them. */
export const FORMATS: readonly ModelFormat[] = [tfjsLayersFormat, tfjsWeightsFormat, onnxFormat, safetensorsFormat];

export const formatEntries: PluginEntry[] = FORMATS.map((f) => define('format', f.name, z.strictObject({}), () => f, f.description));

/** Layers imported graphs use beyond @minibatch/layers (ONNX ops with a constant operand). */
export const pretrainedLayerEntries: PluginEntry[] = [
  define('layer', 'constantOp', constantOpSchema, (c) => new ConstantOp(c), 'x op c with a constant c (ONNX Add/Sub/Mul/Div with an initializer)'),
];

/**
 * Everything this package registers: the model formats (kind 'format') and the layers of
 * imported graphs.
 *
 * @example
 * const registry = defaultRegistry().use(pretrained);
 */
export const pretrained: Plugin = definePlugin('@minibatch/pretrained', [...formatEntries, ...pretrainedLayerEntries]);

/** A registry with every plugin a run config can name, and the model formats. */
export function pretrainedRegistry(): Registry {
  return defaultRegistry().use(pretrained);
}

export interface LoadOptions {
  /** The format's registry name ('tfjs-layers', 'onnx', …); default: recognized from the files. */
  format?: string;
  /** Resolves formats and layers. Default: pretrainedRegistry(). */
  registry?: Registry;
}

/** The format of `files`: the one named, or the first registered format that recognizes them. */
export function formatOf(files: ModelFiles, options: LoadOptions = {}): ModelFormat {
  const registry = options.registry ?? pretrainedRegistry();
  if (options.format !== undefined) return registry.create<ModelFormat>('format', options.format);
  const names = registry.list('format');
  for (const name of names) {
    const format = registry.create<ModelFormat>('format', name);
    if (format.detect(files)) return format;
  }
  throw new FormatError(`${files.name}: not a model file of a known format (${names.join(', ')}); name one with { format }`);
}

/**
 * Imports a model file onto an ordinary Module — built, in eval mode, with the source's layer
 * names as node names — that trains, saves (saveModel) and exports like any other.
 *
 * @example
 * const model = load(modelFiles({ 'model.json': json, 'group1-shard1of1.bin': shard }));
 * model.summary();
 */
export function load(files: ModelFiles, options: LoadOptions = {}): Module {
  const registry = options.registry ?? pretrainedRegistry();
  return formatOf(files, { ...options, registry }).load(files, registry);
}

/** Describes a model file without importing it: format, layers, parameters, input shape, quantization. */
export function inspect(files: ModelFiles, options: LoadOptions = {}): Inspection {
  const registry = options.registry ?? pretrainedRegistry();
  return formatOf(files, { ...options, registry }).inspect(files, registry);
}
