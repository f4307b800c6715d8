// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a 4-byte
// magic number — two zero bytes, a type code, the number of dimensions — then one big-endian
// uint32 per dimension, then the values, big-endian, in row-major order.
import { createDataset, type Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { builtin, maybeBuiltin } from './node.js';

export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** The contents of one IDX file. */
export interface IdxArray {
  type: IdxType;
  shape: number[];
  data: IdxData;
}

const TYPES: Record<number, { type: IdxType; bytes: number }> = {
  0x08: { type: 'uint8', bytes: 1 },
  0x09: { type: 'int8', bytes: 1 },
  0x0b: { type: 'int16', bytes: 2 },
  0x0c: { type: 'int32', bytes: 4 },
  0x0d: { type: 'float32', bytes: 4 },
  0x0e: { type: 'float64', bytes: 8 },
};

const hex = (v: number, digits: number): string => `0x${v.toString(16).padStart(digits, '0')}`;

/** True when the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompresses gzip bytes with node:zlib. */
export function gunzip(bytes: Uint8Array, name = 'gzip data'): Uint8Array {
  const zlib = maybeBuiltin('node:zlib');
  if (zlib === undefined) {
    throw new DataError('bad-format', `${name} is gzip-compressed and node:zlib is not available here; decompress it first (DecompressionStream('gzip') in a browser)`);
  }
  try {
    return zlib.gunzipSync(bytes);
  } catch (error) {
    throw new DataError('truncated', `${name}: gzip data is corrupt or truncated (${(error as Error).message})`);
  }
}

/**
 * Parses an IDX file (gzip-compressed bytes are decompressed first, in Node). `name` labels
 * the errors, which say what was expected and what came: a wrong magic number, an unknown
 * type code, a truncated header or body, or bytes left over after the data.
 *
 * @example
 * const { type, shape, data } = readIdx(bytes);  // 'uint8', [60000, 28, 28], Uint8Array
 */
export function readIdx(bytes: Uint8Array, name = 'IDX data'): IdxArray {
  if (isGzip(bytes)) bytes = gunzip(bytes, name);
  if (bytes.length < 4) {
    throw new DataError('truncated', `${name}: ${bytes.length} bytes is too short for an IDX file (the header alone is at least 8 bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const spec = TYPES[bytes[2]];
  if (bytes[0] !== 0 || bytes[1] !== 0 || spec === undefined || bytes[3] === 0) {
    throw new DataError(
      'bad-format',
      `${name}: bad magic number ${hex(magic, 8)} — an IDX file starts with 00 00, a type code ` +
        `(08 uint8, 09 int8, 0b int16, 0c int32, 0d float32, 0e float64) and the number of dimensions ` +
        `(MNIST images: 0x00000803, labels: 0x00000801). Is this an IDX file?`,
    );
  }
  const rank = bytes[3];
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new DataError('truncated', `${name}: truncated header — ${rank} dimensions need ${headerBytes} header bytes, the file has ${bytes.length}`);
  }
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i));
  const count = shape.reduce((a, b) => a * b, 1);
  const dataBytes = count * spec.bytes;
  const have = bytes.length - headerBytes;
  if (have < dataBytes) {
    throw new DataError(
      'truncated',
      `${name}: truncated — shape [${shape.join(', ')}] of ${spec.type} needs ${dataBytes} bytes of data, the file has ${have} ` +
        `(${Math.floor(have / (dataBytes / Math.max(1, shape[0])))} of ${shape[0]} complete items); download or copy it again`,
    );
  }
  if (have > dataBytes) {
    throw new DataError('bad-format', `${name}: ${have - dataBytes} bytes after the data of shape [${shape.join(', ')}] (${spec.type}); the header does not describe this file`);
  }
  return { type: spec.type, shape, data: decode(view, headerBytes, count, spec.type) };
}

function decode(view: DataView, at: number, count: number, type: IdxType): IdxData {
  switch (type) {
    case 'uint8':
      return new Uint8Array(view.buffer, view.byteOffset + at, count).slice();
    case 'int8':
      return new Int8Array(view.buffer, view.byteOffset + at, count).slice();
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(at + 2 * i);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(at + 4 * i);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(at + 4 * i);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(at + 8 * i);
      return out;
    }
  }
}

/** Reads and parses an IDX file; gzip is detected by the .gz suffix or the gzip magic number. */
export function readIdxFile(path: string): IdxArray {
  const fs = builtin('node:fs', 'readIdxFile');
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (error) {
    throw new DataError('not-found', `readIdxFile: cannot read ${path}: ${(error as Error).message}`);
  }
  if (path.endsWith('.gz') && !isGzip(bytes)) {
    throw new DataError('bad-format', `${path}: the name ends in .gz but the file does not start with the gzip magic number 1f 8b`);
  }
  return readIdx(bytes, path);
}

export interface IdxDatasetOptions {
  /** Scale uint8 pixels to [0, 1] (÷255). Default true; false keeps 0…255. */
  normalize?: boolean;
  /** Number of classes; default max(label) + 1. */
  classes?: number;
  classNames?: readonly string[];
  name?: string;
}

/**
 * A Dataset from parsed IDX images [n, h, w] (or [n, h, w, c], or [n, features]) and labels
 * [n]. Images become NHWC float32 samples of shape [h, w, 1] (or [h, w, c], [features]).
 */
export function idxToDataset(images: IdxArray, labels: IdxArray, options: IdxDatasetOptions = {}): Dataset {
  const what = options.name ?? 'IDX data set';
  if (images.shape.length < 2 || images.shape.length > 4) {
    throw new DataError('mismatch', `${what}: images must be [n, h, w], [n, h, w, c] or [n, features], got shape [${images.shape.join(', ')}]`);
  }
  if (labels.shape.length !== 1 && !(labels.shape.length === 2 && labels.shape[1] === 1)) {
    throw new DataError('mismatch', `${what}: labels must be [n], got shape [${labels.shape.join(', ')}]`);
  }
  if (labels.type === 'float32' || labels.type === 'float64') {
    throw new DataError('mismatch', `${what}: labels must be integers, got ${labels.type}`);
  }
  const n = images.shape[0];
  if (labels.shape[0] !== n) {
    throw new DataError(
      'mismatch',
      `${what}: dimension mismatch — the images have ${n} samples [${images.shape.join(', ')}] but the labels have ${labels.shape[0]}; ` +
        'are these files of the same split (train with train, t10k with t10k)?',
    );
  }
  const shape = images.shape.length === 3 ? [images.shape[1], images.shape[2], 1] : images.shape.slice(1);
  const normalize = options.normalize ?? true;
  const scale = normalize && images.type === 'uint8' ? 1 / 255 : 1;
  const x = new Float32Array(images.data.length);
  const src = images.data;
  for (let i = 0; i < x.length; i++) x[i] = src[i] * scale;
  // Checked here, at the boundary, so that training never meets them: float files may hold
  // NaN or ±Infinity (or values beyond float32), signed label files negative labels.
  const size = x.length / Math.max(1, n);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new DataError('bad-format', `${what}: sample ${Math.floor(i / size)} has ${x[i]} at feature ${i % size} (${images.type} images); the images must be finite numbers`);
    }
  }
  const y = Int32Array.from(labels.data as ArrayLike<number>);
  const negative = y.findIndex((v) => v < 0);
  if (negative >= 0) throw new DataError('bad-format', `${what}: sample ${negative} has the label ${y[negative]}; labels are class indices 0, 1, …`);
  return createDataset(x, y, shape, options);
}

/** Loads an images file and a labels file (IDX, gzip or not) as one Dataset. */
export function loadIdxDataset(imagesPath: string, labelsPath: string, options: IdxDatasetOptions = {}): Dataset {
  return idxToDataset(readIdxFile(imagesPath), readIdxFile(labelsPath), { name: `${imagesPath} + ${labelsPath}`, ...options });
}
