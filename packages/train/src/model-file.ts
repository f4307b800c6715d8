// A model file is one safetensors file: the weights (parameters and buffers such as
// BatchNorm running statistics) as F32 tensors, and in its metadata the architecture (the
// model's registry spec), the input shape, and optional preprocessing, each as JSON text.
//
//   __metadata__: { format: "minibatch/1", model: "<spec JSON>", inputShape: "[28,28,1]",
//                   preprocessing?: "<JSON>", classes?: "10", … }
import type { Module } from '@minibatch/layers';
import { modelFromConfig, modelToConfig } from '@minibatch/layers';
import type { Registry } from '@minibatch/registry';
import { FormatError, decodeSafetensors, encodeSafetensors } from './safetensors.js';

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
}

/** The bytes of a model file (works in the browser too). */
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

/** Rebuilds a model from the bytes of a model file, resolving layers through `registry`. */
export function decodeModel(bytes: Uint8Array, registry: Registry, source = 'model file'): LoadedModel {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  if (metadata.format !== MODEL_FORMAT || metadata.model === undefined || metadata.inputShape === undefined) {
    throw new FormatError(
      `${source}: not a minibatch model file (metadata format is ${JSON.stringify(metadata.format)}, expected "${MODEL_FORMAT}"); ` +
        'a bare safetensors file of weights can be loaded with decodeSafetensors() and module.loadStateDict()',
    );
  }
  const inputShape = JSON.parse(metadata.inputShape) as number[];
  const model = modelFromConfig(registry, JSON.parse(metadata.model));
  model.build(inputShape);
  model.loadStateDict(tensors);
  model.eval();
  const loaded: LoadedModel = { model, inputShape };
  if (metadata.preprocessing !== undefined) loaded.preprocessing = JSON.parse(metadata.preprocessing);
  if (metadata.info !== undefined) loaded.info = JSON.parse(metadata.info);
  return loaded;
}
