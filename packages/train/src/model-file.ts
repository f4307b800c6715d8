// A model file is one safetensors file: the weights (parameters and buffers such as
// BatchNorm running statistics) as F32 tensors, and in its metadata the architecture (the
// model's registry spec), the input shape, and optional preprocessing, each as JSON text.
//
//   __metadata__: { format: "minibatch/1", model: "<spec JSON>", inputShape: "[28,28,1]",
//                   preprocessing?: "<JSON>", classes?: "10", … }
import type { Module } from '@minibatch/layers';
import { modelFromConfig, modelToConfig } from '@minibatch/layers';
import { parseJson, type Registry } from '@minibatch/registry';
import { FormatError, decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { estimateTrainingMemory, formatBytes } from './sizes.js';

export const MODEL_FORMAT = 'minibatch/1';

export interface ModelExtras {
  /** Preprocessing fitted on the training data (any JSON), stored beside the weights. */
  preprocessing?: unknown;
  /** Anything else worth keeping (data set name, class names, metrics): JSON values. */
  info?: Record<string, unknown>;
}

export interface LoadedModel extends ModelExtras {
  model: Module;
  inputShape: number[];
  /** A line worth showing the user (e.g. that the file carries no checksum), or undefined. */
  notice?: string;
}

/** The bytes of a model file (works in the browser too), with a checksum of header and weights. */
export function encodeModel(model: Module, inputShape: readonly number[], extras: ModelExtras = {}): Uint8Array {
  model.build(inputShape);
  const metadata: Record<string, string> = {
    format: MODEL_FORMAT,
    model: JSON.stringify(modelToConfig(model)),
    inputShape: JSON.stringify(inputShape),
  };
  if (extras.preprocessing !== undefined) metadata.preprocessing = JSON.stringify(extras.preprocessing);
  if (extras.info !== undefined) metadata.info = JSON.stringify(extras.info);
  return encodeSafetensors(model.stateDict(), metadata);
}

/** A metadata entry parsed as bounded JSON, or a FormatError naming the file and the key. */
function metadataJson(metadata: Record<string, string>, key: string, source: string): unknown {
  try {
    return parseJson(metadata[key], { source: key });
  } catch (error) {
    throw new FormatError(`${source}: metadata '${key}' is not valid JSON (${(error as Error).message.replace(`${key}: `, '')})`);
  }
}

/**
 * Rebuilds a model from the bytes of a model file, resolving layers through `registry`. The
 * file is checked whole (format, checksum, architecture, every weight) before a model is
 * returned; every error names `source` and what is wrong.
 */
export function decodeModel(bytes: Uint8Array, registry: Registry, source = 'model file'): LoadedModel {
  const { tensors, metadata, checksum } = decodeSafetensors(bytes, source);
  if (metadata.format !== MODEL_FORMAT || metadata.model === undefined || metadata.inputShape === undefined) {
    throw new FormatError(
      `${source}: not a minibatch model file (metadata format is ${JSON.stringify(metadata.format)}, expected "${MODEL_FORMAT}"); ` +
        'a bare safetensors file of weights can be loaded with decodeSafetensors() and module.loadStateDict()',
    );
  }
  const inputShape = metadataJson(metadata, 'inputShape', source);
  if (!Array.isArray(inputShape) || inputShape.length === 0 || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new FormatError(`${source}: metadata 'inputShape' must be a list of positive integers, got ${metadata.inputShape.slice(0, 80)}`);
  }
  const spec = metadataJson(metadata, 'model', source);
  let model: Module;
  try {
    model = modelFromConfig(registry, spec as never);
  } catch (error) {
    throw new FormatError(`${source}: the architecture in its metadata is not one this registry can build: ${(error as Error).message}`, { cause: error });
  }
  // Sized from shapes before anything is allocated: metadata that claims an input of 10⁹
  // features must not make a model of 10⁹ weights that the file cannot hold.
  const held = Object.values(tensors).reduce((n, t) => n + t.data.length * 4, 0);
  let needed: number;
  try {
    needed = estimateTrainingMemory(model, inputShape, 1).weightBytes;
  } catch (error) {
    model.dispose();
    throw new FormatError(`${source}: the architecture in its metadata does not take its input shape [${inputShape.join(', ')}]: ${(error as Error).message}`, { cause: error });
  }
  if (needed > held) {
    model.dispose();
    throw new FormatError(`${source}: the architecture in its metadata needs ${formatBytes(needed)} of weights for input [${inputShape.join(', ')}], the file holds ${formatBytes(held)}; its metadata does not describe its weights`);
  }
  try {
    model.build(inputShape);
    model.loadStateDict(tensors);
  } catch (error) {
    model.dispose();
    throw new FormatError(`${source}: the weights do not fit the architecture: ${(error as Error).message}`, { cause: error });
  }
  model.eval();
  const loaded: LoadedModel = { model, inputShape };
  try {
    if (metadata.preprocessing !== undefined) loaded.preprocessing = metadataJson(metadata, 'preprocessing', source);
    if (metadata.info !== undefined) loaded.info = metadataJson(metadata, 'info', source) as Record<string, unknown>;
  } catch (error) {
    model.dispose();
    throw error;
  }
  if (checksum === 'absent') loaded.notice = `${source} carries no checksum (written before minibatch checked files); it was loaded without verifying its bytes`;
  return loaded;
}
