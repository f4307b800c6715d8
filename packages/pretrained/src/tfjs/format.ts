// The TF.js formats: layers models (model.json with a Keras topology and a weights manifest)
// and bare weights manifests (`*-weights_manifest.json`, or a graph model's manifest, whose
// topology minibatch does not execute: its weights load by name into a module defined in code).
import type { Module } from '@minibatch/layers';
import type { Registry } from '@minibatch/registry';
import { FormatError } from '@minibatch/train';
import { countOf, type Inspection, type ModelFormat } from '../format.js';
import { jsonOf, looksLikeJson, type ModelFiles } from '../files.js';
import { KERAS_CLASSES, applyKerasWeights, kerasGraph, modelConfigOf } from './layers-model.js';
import { checkManifest, decodeWeights, type DecodedWeight, type WeightGroup } from './weights.js';

/** A TF.js model.json: its topology (a Keras model config, or a GraphDef) and its weights manifest. */
interface ModelJson {
  modelTopology?: unknown;
  weightsManifest?: unknown;
  format?: string;
}

function modelJsonOf(files: ModelFiles): ModelJson {
  const json = jsonOf(files);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new FormatError(`${files.name}: a TF.js model.json is a JSON object { modelTopology, weightsManifest }`);
  return json as ModelJson;
}

/** The manifest of a model.json, or of a bare manifest file (a JSON list of groups). */
function manifestOf(files: ModelFiles): WeightGroup[] {
  const json = jsonOf(files);
  const manifest = Array.isArray(json) ? json : (json as ModelJson | null)?.weightsManifest;
  if (manifest === undefined) throw new FormatError(`${files.name}: no weightsManifest`);
  return checkManifest(manifest, files.name);
}

/**
 * Every weight of a TF.js manifest, decoded to float32 (uint8/uint16 dequantized, float16
 * widened), shards read through `files.sibling`.
 *
 * @example
 * const weights = readTfjsWeights(modelFiles({ 'm-weights_manifest.json': manifest, 'm.bin': shard }));
 */
export function readTfjsWeights(files: ModelFiles): Map<string, DecodedWeight> {
  return decodeWeights(manifestOf(files), (path) => files.sibling(path), files.name);
}

function isKerasModel(json: ModelJson): boolean {
  const t = json.modelTopology as { model_config?: unknown; class_name?: unknown } | undefined;
  return t !== undefined && t !== null && (t.model_config !== undefined || typeof t.class_name === 'string');
}

function quantizationOf(groups: WeightGroup[]): string[] {
  return [...new Set(groups.flatMap((g) => g.weights.map((w) => w.quantization?.dtype ?? w.dtype)))].sort();
}

export const tfjsLayersFormat: ModelFormat = {
  kind: 'format',
  name: 'tfjs-layers',
  description: 'TF.js layers model: model.json with a Keras topology (Sequential or functional) and binary weight shards',
  detect: (files) => looksLikeJson(files.bytes) && (() => {
    try {
      return isKerasModel(modelJsonOf(files));
    } catch {
      return false;
    }
  })(),
  load(files: ModelFiles, registry: Registry): Module {
    const json = modelJsonOf(files);
    const imported = kerasGraph(modelConfigOf(json.modelTopology, files.name), registry, files.name);
    try {
      applyKerasWeights(imported, readTfjsWeights(files), files.name);
    } catch (error) {
      imported.model.dispose();
      throw error;
    }
    return imported.model;
  },
  inspect(files: ModelFiles): Inspection {
    const json = modelJsonOf(files);
    const config = modelConfigOf(json.modelTopology, files.name);
    const groups = manifestOf(files);
    const cfg = config.config as { layers?: { name?: string; class_name?: string; config?: { name?: string; batch_input_shape?: unknown; scale?: unknown; offset?: unknown } }[] } | unknown[];
    const layers = (Array.isArray(cfg) ? cfg : cfg.layers ?? []) as { name?: string; class_name?: string; config?: Record<string, unknown> }[];
    const stored = new Map(groups.flatMap((g) => g.weights).map((w) => [w.name, w]));
    const rows = layers.map((l) => {
      const name = String(l.name ?? l.config?.name);
      const own = [...stored.values()].filter((w) => w.name.startsWith(`${name}/`) || w.name.includes(`/${name}/`));
      return { name, type: String(l.class_name), parameters: countOf(own.map((w) => w.shape)) };
    });
    const input = layers.map((l) => l.config?.batch_input_shape).find(Array.isArray) as number[] | undefined;
    const first = layers.find((l) => l.class_name !== 'InputLayer');
    const unsupported = [...new Set(layers.map((l) => String(l.class_name)).filter((c) => !(KERAS_CLASSES as readonly string[]).includes(c)))];
    return {
      format: 'tfjs-layers',
      layers: rows,
      parameters: countOf([...stored.values()].map((w) => w.shape)),
      inputShape: input ? input.slice(1) : null,
      quantization: quantizationOf(groups),
      preprocessing: first?.class_name === 'Rescaling' ? `x · ${String(first.config?.scale)} + ${String(first.config?.offset ?? 0)} (a Rescaling layer)` : null,
      ...(unsupported.length > 0 ? { unsupported } : {}),
    };
  },
};

export const tfjsWeightsFormat: ModelFormat = {
  kind: 'format',
  name: 'tfjs-weights',
  description: 'TF.js weights manifest without a Keras topology (a *-weights_manifest.json, or a graph model): weights by name, for a module defined in code',
  detect: (files) => looksLikeJson(files.bytes) && (() => {
    try {
      const json = jsonOf(files);
      return Array.isArray(json) || ((json as ModelJson).weightsManifest !== undefined && !isKerasModel(json as ModelJson));
    } catch {
      return false;
    }
  })(),
  load(files: ModelFiles): Module {
    throw new FormatError(
      `${files.name}: a weights manifest holds weights only, no architecture; define the network in code and load them into it: ` +
        'loadWeights(model, readTfjsWeights(files), { map }) (see @minibatch/pretrained\'s faceExpressionNet for an example)',
    );
  },
  inspect(files: ModelFiles): Inspection {
    const groups = manifestOf(files);
    const weights = groups.flatMap((g) => g.weights);
    return {
      format: 'tfjs-weights',
      layers: weights.map((w) => ({ name: w.name, type: 'tensor', parameters: countOf([w.shape]), shape: w.shape })),
      parameters: countOf(weights.map((w) => w.shape)),
      inputShape: null,
      quantization: quantizationOf(groups),
      preprocessing: null,
    };
  },
};
