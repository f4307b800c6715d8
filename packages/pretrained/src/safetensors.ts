// safetensors as a model format: minibatch's own model files load whole (architecture in the
// metadata); any other safetensors file (Hugging Face, PyTorch's save_file) holds weights by
// name, which loadWeights() maps onto a module defined in code. The reader is @minibatch/train's,
// with the format's strict header rules (offsets, sizes, F32/F16/BF16).
import type { Module } from '@minibatch/layers';
import type { Registry } from '@minibatch/registry';
import { FormatError, MODEL_FORMAT, decodeModel, decodeSafetensors } from '@minibatch/train';
import { countOf, type Inspection, type ModelFormat } from './format.js';
import type { ModelFiles } from './files.js';
import type { NamedWeight } from './weights.js';

/** The tensors of any safetensors file, by name (F16/BF16 widened to float32). */
export function readSafetensors(files: ModelFiles): Map<string, NamedWeight> {
  return new Map(Object.entries(decodeSafetensors(files.bytes, files.name).tensors));
}

/** An 8-byte little-endian header length, then a JSON object. */
function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return n >= 2n && n <= BigInt(bytes.length - 8) && bytes[8] === 0x7b;
}

export const safetensorsFormat: ModelFormat = {
  kind: 'format',
  name: 'safetensors',
  description: 'safetensors: minibatch model files load whole; other files hold weights by name (loadWeights)',
  detect: (files) => /\.safetensors$/i.test(files.name) || looksLikeSafetensors(files.bytes),
  load(files: ModelFiles, registry: Registry): Module {
    const { metadata } = decodeSafetensors(files.bytes, files.name);
    if (metadata.format !== MODEL_FORMAT) {
      throw new FormatError(`${files.name}: a safetensors file without a minibatch architecture holds weights only; define the network in code and load them: loadWeights(model, readSafetensors(files), { map })`);
    }
    return decodeModel(files.bytes, registry, files.name).model;
  },
  inspect(files: ModelFiles, registry: Registry): Inspection {
    const file = decodeSafetensors(files.bytes, files.name);
    const shapes = Object.values(file.tensors).map((t) => t.shape);
    const quantization = [...new Set(Object.values(file.dtypes))].sort();
    if (file.metadata.format === MODEL_FORMAT) {
      const { model, inputShape } = decodeModel(files.bytes, registry, files.name);
      try {
        const state = new Map(Object.entries(file.tensors));
        const rows = model.layerTable(inputShape).filter((r) => r.leaf);
        return {
          format: 'safetensors (minibatch model)',
          layers: rows.map((r) => ({
            name: r.path, type: r.module.name, shape: r.outputShape,
            parameters: countOf([...state].filter(([k]) => k.startsWith(`${r.path}.`)).map(([, t]) => t.shape)),
          })),
          parameters: countOf(shapes),
          inputShape,
          quantization,
          preprocessing: file.metadata.preprocessing ?? null,
        };
      } finally {
        model.dispose();
      }
    }
    return {
      format: 'safetensors',
      layers: Object.entries(file.tensors).map(([name, t]) => ({ name, type: 'tensor', parameters: countOf([t.shape]), shape: t.shape })),
      parameters: countOf(shapes),
      inputShape: null,
      quantization,
      preprocessing: null,
    };
  },
};
