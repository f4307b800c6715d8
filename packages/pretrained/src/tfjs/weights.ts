// TF.js weights manifests: groups of weights, each group's binary shards concatenated in
// manifest order, then each weight's bytes in turn — float32, int32, or quantized (uint8 /
// uint16 as q·scale + min, float16 widened). See TF.js's io/weights_loader and
// io/io_utils (decodeWeights); this is an independent reading of that format.
import { FormatError, float16Value } from '@minibatch/train';

/** A weight as stored: name, shape, dtype and, when quantized, how. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

export interface WeightGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** A decoded weight: float32 values (int32 weights converted), its shape, and how it was stored. */
export interface DecodedWeight {
  shape: number[];
  data: Float32Array;
  /** 'float32', 'int32', 'uint8', 'uint16' or 'float16': the stored form. */
  stored: string;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Checks a parsed `weightsManifest` (a list of groups), naming the source and the bad entry. */
export function checkManifest(manifest: unknown, source: string): WeightGroup[] {
  const fail = (what: string): never => {
    throw new FormatError(`${source}: ${what}`);
  };
  if (!Array.isArray(manifest)) fail('the weights manifest must be a list of groups { paths, weights }');
  return (manifest as unknown[]).map((group, g) => {
    const { paths, weights } = (group ?? {}) as { paths?: unknown; weights?: unknown };
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string' && p.length > 0)) fail(`group ${g}: paths must be a list of shard file names`);
    if (!Array.isArray(weights)) fail(`group ${g}: weights must be a list of { name, shape, dtype }`);
    const specs = (weights as unknown[]).map((w, i) => {
      const { name, shape, dtype, quantization } = (w ?? {}) as Record<string, unknown>;
      const where = `group ${g}, weight ${typeof name === 'string' ? `'${name}'` : i}`;
      if (typeof name !== 'string' || name === '') fail(`${where}: name must be a non-empty string`);
      if (!Array.isArray(shape) || !shape.every(isCount)) fail(`${where}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
      if (dtype !== 'float32' && dtype !== 'int32') fail(`${where}: dtype ${JSON.stringify(dtype)} is not supported (float32 or int32)`);
      const spec: WeightSpec = { name: name as string, shape: shape as number[], dtype: dtype as 'float32' | 'int32' };
      if (quantization !== undefined) {
        const q = quantization as Record<string, unknown>;
        if (q === null || typeof q !== 'object' || !['uint8', 'uint16', 'float16'].includes(q.dtype as string)) {
          fail(`${where}: quantization dtype ${JSON.stringify(q?.dtype)} is not supported (uint8, uint16, float16)`);
        }
        if (q.dtype !== 'float16' && !(typeof q.scale === 'number' && Number.isFinite(q.scale) && typeof q.min === 'number' && Number.isFinite(q.min))) {
          fail(`${where}: ${q.dtype} quantization needs finite numbers scale and min`);
        }
        spec.quantization = { dtype: q.dtype as 'uint8' | 'uint16' | 'float16', ...(q.dtype !== 'float16' ? { scale: q.scale as number, min: q.min as number } : {}) };
      }
      return spec;
    });
    return { paths: paths as string[], weights: specs };
  });
}

/** Bytes per stored element of a weight. */
function elementBytes(w: WeightSpec): number {
  return w.quantization === undefined ? 4 : w.quantization.dtype === 'uint8' ? 1 : 2;
}

/**
 * Decodes every weight of a manifest. `shard(path)` gives the bytes of one shard file (named
 * as in the manifest); a group's shards are concatenated in order and must hold exactly the
 * bytes its weights need.
 */
export function decodeWeights(groups: readonly WeightGroup[], shard: (path: string) => Uint8Array, source: string): Map<string, DecodedWeight> {
  const out = new Map<string, DecodedWeight>();
  groups.forEach((group, g) => {
    const parts = group.paths.map((p) => shard(p));
    const total = parts.reduce((n, p) => n + p.length, 0);
    const need = group.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * elementBytes(w), 0);
    if (total !== need) {
      throw new FormatError(`${source}: group ${g} (${group.paths.join(', ')}): the manifest's weights need ${need} bytes but the shards hold ${total}${total < need ? ' (a shard is truncated or missing)' : ''}`);
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    const view = new DataView(bytes.buffer);
    let offset = 0;
    for (const w of group.weights) {
      if (out.has(w.name)) throw new FormatError(`${source}: weight '${w.name}' appears twice in the manifest`);
      const count = w.shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(count);
      const q = w.quantization;
      if (q === undefined) {
        for (let i = 0; i < count; i++) data[i] = w.dtype === 'int32' ? view.getInt32(offset + i * 4, true) : view.getFloat32(offset + i * 4, true);
      } else if (q.dtype === 'float16') {
        for (let i = 0; i < count; i++) data[i] = float16Value(view.getUint16(offset + i * 2, true));
      } else {
        // Affine dequantization: value = q·scale + min (TF.js quantizes to [min, max] in 2^bits steps).
        const { scale, min } = q as { scale: number; min: number };
        if (q.dtype === 'uint8') for (let i = 0; i < count; i++) data[i] = bytes[offset + i] * scale + min;
        else for (let i = 0; i < count; i++) data[i] = view.getUint16(offset + i * 2, true) * scale + min;
      }
      out.set(w.name, { shape: [...w.shape], data, stored: q?.dtype ?? w.dtype });
      offset += count * elementBytes(w);
    }
  });
  return out;
}
