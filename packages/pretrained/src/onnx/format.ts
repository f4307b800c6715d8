// ONNX as a model format: import (onto a Graph, NHWC), inspection, and detection by name or by
// the protobuf fields an ONNX model starts with.
import type { Module } from '@minibatch/layers';
import type { Registry } from '@minibatch/registry';
import { countOf, type Inspection, type ModelFormat } from '../format.js';
import type { ModelFiles } from '../files.js';
import { ONNX_OPS, importOnnx } from './import.js';
import { decodeOnnx } from './proto.js';

/** Field 1 (ir_version, varint) first, as every ONNX writer emits it. */
function looksLikeOnnx(bytes: Uint8Array): boolean {
  return bytes.length > 8 && bytes[0] === 0x08 && bytes[1] > 0 && bytes[1] < 20;
}

export const onnxFormat: ModelFormat = {
  kind: 'format',
  name: 'onnx',
  description: 'ONNX model (.onnx, weights inside): CNN graphs imported NCHW → NHWC, weights transposed once',
  detect: (files) => /\.onnx$/i.test(files.name) || looksLikeOnnx(files.bytes),
  load(files: ModelFiles, registry: Registry): Module {
    return importOnnx(files.bytes, registry, files.name);
  },
  inspect(files: ModelFiles): Inspection {
    const model = decodeOnnx(files.bytes, files.name);
    const graph = model.graph!;
    const initial = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', (t.dims ?? []).map(Number)]));
    const input = (graph.input ?? []).find((v) => !initial.has(v.name));
    const dims = input?.type?.tensor_type?.shape?.dim?.slice(1).map((d) => Number(d.dim_value ?? 0)) ?? [];
    const known = dims.length > 0 && dims.every((d) => d > 0);
    const ops = (graph.node ?? []).map((n) => n.op_type);
    const unsupported = [...new Set(ops.filter((op) => !(ONNX_OPS as readonly string[]).includes(op)))];
    return {
      format: 'onnx',
      layers: (graph.node ?? []).map((n, i) => ({
        name: n.name || n.output?.[0] || `node_${i}`, type: n.op_type,
        parameters: countOf((n.input ?? []).filter((x) => initial.has(x)).map((x) => initial.get(x)!)),
      })),
      parameters: countOf([...initial.values()]),
      inputShape: known ? (dims.length === 3 ? [dims[1], dims[2], dims[0]] : dims) : null,
      quantization: [...new Set((graph.initializer ?? []).map((t) => ({ 1: 'float32', 10: 'float16', 11: 'float64', 7: 'int64', 6: 'int32', 2: 'uint8', 3: 'int8' })[t.data_type ?? 1] ?? `type ${t.data_type}`))].sort(),
      preprocessing: null,
      ...(unsupported.length > 0 ? { unsupported } : {}),
    };
  },
};
