// The safetensors format (used by Hugging Face and readable by PyTorch): an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype, shape and byte
// range, then the raw little-endian data. minibatch writes float32 ("F32") tensors and keeps
// the model's architecture and preprocessing as JSON strings in "__metadata__", with a CRC-32
// checksum of the header and data, so a corrupted file is refused instead of loading wrong
// weights. Reading follows the format's strict rules: every byte of the data section belongs
// to exactly one tensor, in order.
import { parseJson } from '@minibatch/registry';

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

/** The element types read: float32, and float16 / bfloat16 (widened to float32 on load). */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';
const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export interface SafetensorsFile {
  tensors: Record<string, NamedArray>;
  metadata: Record<string, string>;
  /** 'verified' when the file carried a minibatch checksum and it matched; 'absent' for files without one. */
  checksum: 'verified' | 'absent';
  /** Each tensor's dtype as stored. */
  dtypes: Record<string, SafetensorsDtype>;
}

export class FormatError extends Error {
  override readonly name = 'FormatError';
}

/** The metadata key of minibatch's checksum: "crc32:1a2b3c4d". */
export const CHECKSUM_KEY = 'checksum';
/** Largest header read (the reference implementation's limit). */
const MAX_HEADER = 100_000_000;

// ------------------------------------------------------------------ CRC-32 (IEEE, as zip and PNG)

// Slicing-by-8 (Intel's method): eight tables, eight bytes per step — about 4× the byte-wise
// loop, which mattered once every epoch's checkpoint (megabytes of optimizer state) is summed.
const CRC_TABLES = (() => {
  const tables = Array.from({ length: 8 }, () => new Int32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[0][n] = c;
  }
  for (let n = 0; n < 256; n++) for (let t = 1; t < 8; t++) tables[t][n] = (tables[t - 1][n] >>> 8) ^ tables[0][tables[t - 1][n] & 0xff];
  return tables;
})();

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** CRC-32 (IEEE) of the parts in order. */
export function crc32(parts: readonly Uint8Array[]): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES;
  let c = ~0;
  for (const bytes of parts) {
    const n = bytes.length;
    let i = 0;
    for (; i + 8 <= n; i += 8) {
      const a = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
      c = t7[a & 0xff] ^ t6[(a >>> 8) & 0xff] ^ t5[(a >>> 16) & 0xff] ^ t4[a >>> 24] ^ t3[bytes[i + 4]] ^ t2[bytes[i + 5]] ^ t1[bytes[i + 6]] ^ t0[bytes[i + 7]];
    }
    for (; i < n; i++) c = t0[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  }
  return ~c >>> 0;
}

interface Entry {
  dtype: SafetensorsDtype;
  shape: number[];
  offsets: [number, number];
}

/**
 * What the checksum covers besides the data: every tensor's name, dtype, shape and offsets and
 * every metadata entry but the checksum, in sorted order, so it does not depend on how the
 * JSON header is spaced or ordered.
 */
function canonicalHeader(entries: Record<string, Entry>, metadata: Record<string, string>): Uint8Array {
  const lines = Object.keys(entries).sort().map((name) => {
    const e = entries[name];
    return `tensor ${JSON.stringify(name)} ${e.dtype} [${e.shape.join(',')}] ${e.offsets[0]}-${e.offsets[1]}`;
  });
  for (const key of Object.keys(metadata).sort()) if (key !== CHECKSUM_KEY) lines.push(`meta ${JSON.stringify(key)} ${JSON.stringify(metadata[key])}`);
  return new TextEncoder().encode(lines.join('\n'));
}

function checksumOf(entries: Record<string, Entry>, metadata: Record<string, string>, data: Uint8Array): string {
  return `crc32:${crc32([canonicalHeader(entries, metadata), data]).toString(16).padStart(8, '0')}`;
}

// ------------------------------------------------------------------ encode

/**
 * Encodes float32 tensors (and string metadata) as safetensors bytes. With `checksum` (the
 * default) the metadata gets a CRC-32 of header and data, verified by decodeSafetensors.
 */
export function encodeSafetensors(tensors: Record<string, NamedArray>, metadata: Record<string, string> = {}, options: { checksum?: boolean } = {}): Uint8Array {
  const entries: Record<string, Entry> = {};
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const { shape, data } = tensors[name];
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length) {
      throw new FormatError(`safetensors: tensor '${name}' has shape [${shape.join(', ')}] (${count} values) but ${data.length} values`);
    }
    entries[name] = { dtype: 'F32', shape: [...shape], offsets: [offset, offset + data.length * 4] };
    offset += data.length * 4;
  }
  const body = new Uint8Array(offset);
  const le = new DataView(body.buffer);
  for (const name of names) {
    const { data } = tensors[name];
    const at = entries[name].offsets[0];
    // safetensors is little-endian, as is every machine minibatch runs on: copy the bytes.
    if (LITTLE_ENDIAN) body.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    else for (let i = 0; i < data.length; i++) le.setFloat32(at + i * 4, data[i], true);
  }
  const meta: Record<string, string> = { ...metadata };
  delete meta[CHECKSUM_KEY];
  if (options.checksum ?? true) meta[CHECKSUM_KEY] = checksumOf(entries, meta, body);
  const header: Record<string, unknown> = {};
  if (Object.keys(meta).length > 0) header.__metadata__ = meta;
  for (const name of names) header[name] = { dtype: 'F32', shape: entries[name].shape, data_offsets: entries[name].offsets };
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(body, 8 + headerBytes.length);
  return out;
}

// ------------------------------------------------------------------ decode

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** float16 bits → their value (IEEE 754 half precision: subnormals, infinities, NaN). */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Decodes safetensors bytes, checking every rule of the format: the header is a JSON object;
 * each tensor has a dtype minibatch reads (F32, F16, BF16), a shape of non-negative integers
 * and integer offsets whose span is exactly its size; the tensors tile the data section in
 * order with no gap or overlap; metadata values are strings; and a minibatch checksum, when
 * present, matches. Every error is a FormatError naming `source` and the tensor.
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): SafetensorsFile {
  const fail = (what: string): never => {
    throw new FormatError(`${source}: ${what}`);
  };
  if (!(bytes instanceof Uint8Array)) fail(`expected the file's bytes (a Uint8Array), got ${typeof bytes}`);
  if (bytes.length < 8) fail(`too short to be a safetensors file (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength < 2n || headerLength > BigInt(Math.min(bytes.length - 8, MAX_HEADER))) {
    fail(`header length ${headerLength} does not fit the file (${bytes.length} bytes) — not a safetensors file, or truncated`);
  }
  const dataStart = 8 + Number(headerLength);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    fail('the header is not UTF-8 text');
  }
  let header: unknown;
  try {
    header = parseJson(text, { source: 'header', maxBytes: MAX_HEADER });
  } catch (error) {
    fail(`the header is not valid JSON (${(error as Error).message.replace(/^header: /, '')})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail(`the header must be a JSON object, got ${header === null ? 'null' : Array.isArray(header) ? 'an array' : typeof header}`);
  const metadata: Record<string, string> = {};
  const rawMeta = (header as Record<string, unknown>).__metadata__;
  if (rawMeta !== undefined) {
    if (rawMeta === null || typeof rawMeta !== 'object' || Array.isArray(rawMeta)) fail('__metadata__ must be an object of strings');
    for (const [key, value] of Object.entries(rawMeta as Record<string, unknown>)) {
      if (typeof value !== 'string') fail(`metadata '${key}' is ${value === null ? 'null' : typeof value}; metadata values must be strings`);
      metadata[key] = value as string;
    }
  }
  const entries: Record<string, Entry> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const bad = (what: string): never => fail(`tensor '${name}': ${what}`);
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) bad('expected { dtype, shape, data_offsets }');
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) bad(`dtype ${JSON.stringify(dtype)} is not one minibatch reads (F32, F16, BF16)`);
    if (!Array.isArray(shape) || !shape.every(isCount)) bad(`shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
      bad(`data_offsets must be [begin, end] with integers 0 ≤ begin ≤ end, got ${JSON.stringify(offsets)}`);
    }
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const [begin, end] = offsets as [number, number];
    const size = count * DTYPE_BYTES[dtype as SafetensorsDtype];
    if (end - begin !== size) bad(`shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${size} bytes, but data_offsets [${begin}, ${end}] span ${end - begin}`);
    entries[name] = { dtype: dtype as SafetensorsDtype, shape: [...(shape as number[])], offsets: [begin, end] };
  }
  // The tensors must tile the data section exactly, in order.
  const dataLength = bytes.length - dataStart;
  let next = 0;
  for (const [name, e] of Object.entries(entries).sort((a, b) => a[1].offsets[0] - b[1].offsets[0] || a[1].offsets[1] - b[1].offsets[1])) {
    if (e.offsets[0] !== next) {
      fail(e.offsets[0] < next
        ? `tensor '${name}' at bytes [${e.offsets[0]}, ${e.offsets[1]}) overlaps the tensor before it (which ends at ${next})`
        : `tensor '${name}' starts at byte ${e.offsets[0]}, leaving bytes [${next}, ${e.offsets[0]}) that belong to no tensor`);
    }
    next = e.offsets[1];
  }
  if (next !== dataLength) {
    fail(next > dataLength ? `the tensors need ${next} data bytes but the file has ${dataLength} (truncated?)` : `${dataLength - next} bytes after the last tensor belong to no tensor`);
  }
  const data = bytes.subarray(dataStart);
  let checksum: SafetensorsFile['checksum'] = 'absent';
  if (metadata[CHECKSUM_KEY] !== undefined) {
    const actual = checksumOf(entries, metadata, data);
    if (actual !== metadata[CHECKSUM_KEY]) fail(`corrupted: checksum mismatch (the file says ${metadata[CHECKSUM_KEY]}, its contents give ${actual})`);
    checksum = 'verified';
  }
  const tensors: Record<string, NamedArray> = {};
  const dtypes: Record<string, SafetensorsDtype> = {};
  for (const [name, e] of Object.entries(entries)) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(count);
    const le = new DataView(bytes.buffer, bytes.byteOffset + dataStart + e.offsets[0], e.offsets[1] - e.offsets[0]);
    if (e.dtype === 'F32') for (let i = 0; i < count; i++) out[i] = le.getFloat32(i * 4, true);
    else if (e.dtype === 'F16') for (let i = 0; i < count; i++) out[i] = float16Value(le.getUint16(i * 2, true));
    else {
      const widen = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        widen.setUint32(0, le.getUint16(i * 2, true) << 16);
        out[i] = widen.getFloat32(0);
      }
    }
    tensors[name] = { shape: e.shape, data: out };
    dtypes[name] = e.dtype;
  }
  return { tensors, metadata, checksum, dtypes };
}
