import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, idxToDataset, loadIdxDataset, readIdx, readIdxFile } from '../src/index.js';

const CODES = { uint8: [0x08, 1], int8: [0x09, 1], int16: [0x0b, 2], int32: [0x0c, 4], float32: [0x0d, 4], float64: [0x0e, 8] } as const;

/** Builds an IDX file by hand: magic 00 00 <type> <rank>, big-endian dimensions, big-endian values. */
function idxBytes(type: keyof typeof CODES, shape: number[], values: number[]): Uint8Array {
  const [code, size] = CODES[type];
  const out = new Uint8Array(4 + 4 * shape.length + values.length * size);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  let at = 4 + 4 * shape.length;
  for (const v of values) {
    if (type === 'uint8') view.setUint8(at, v);
    else if (type === 'int8') view.setInt8(at, v);
    else if (type === 'int16') view.setInt16(at, v);
    else if (type === 'int32') view.setInt32(at, v);
    else if (type === 'float32') view.setFloat32(at, v);
    else view.setFloat64(at, v);
    at += size;
  }
  return out;
}

/** Three 2×2 "images" with pixel values i·10 + k and labels 2, 0, 1. */
const images = idxBytes('uint8', [3, 2, 2], Array.from({ length: 12 }, (_, k) => Math.floor(k / 4) * 10 + (k % 4)));
const labels = idxBytes('uint8', [3], [2, 0, 1]);

const dir = mkdtempSync(join(tmpdir(), 'minibatch-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readIdx', () => {
  it('reads the header and the values of every type (big-endian)', () => {
    const u8 = readIdx(images);
    expect(u8.type).toBe('uint8');
    expect(u8.shape).toEqual([3, 2, 2]);
    expect(Array.from(u8.data)).toEqual([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
    expect(readIdx(idxBytes('int8', [3], [-1, 0, 127])).data).toEqual(Int8Array.from([-1, 0, 127]));
    expect(readIdx(idxBytes('int16', [2], [-300, 258])).data).toEqual(Int16Array.from([-300, 258]));
    const i32 = readIdx(idxBytes('int32', [2, 2], [1, -2, 70000, 2 ** 31 - 1]));
    expect(i32).toEqual({ type: 'int32', shape: [2, 2], data: Int32Array.from([1, -2, 70000, 2 ** 31 - 1]) });
    expect(readIdx(idxBytes('float32', [2], [0.5, -1.25])).data).toEqual(Float32Array.from([0.5, -1.25]));
    expect(readIdx(idxBytes('float64', [1], [Math.PI])).data).toEqual(Float64Array.from([Math.PI]));
  });

  it('decompresses gzip bytes', () => {
    const parsed = readIdx(gzipSync(images));
    expect(parsed.shape).toEqual([3, 2, 2]);
    expect(parsed.data[5]).toBe(11);
  });

  it('rejects a bad magic number, naming it', () => {
    const bad = images.slice();
    bad[0] = 0x12;
    expect(() => readIdx(bad, 'x.idx')).toThrow(/x\.idx: bad magic number 0x12000803/);
    const unknownType = images.slice();
    unknownType[2] = 0x07;
    expect(() => readIdx(unknownType)).toThrow(/bad magic number 0x00000703/);
    expect(() => readIdx(new TextEncoder().encode('hello, world'))).toThrow(DataError);
  });

  it('rejects a truncated header or body, and bytes left over', () => {
    expect(() => readIdx(images.subarray(0, 2))).toThrow(/too short for an IDX file/);
    expect(() => readIdx(images.subarray(0, 10))).toThrow(/truncated header — 3 dimensions need 16 header bytes, the file has 10/);
    expect(() => readIdx(images.subarray(0, images.length - 5))).toThrow(/truncated — shape \[3, 2, 2\] of uint8 needs 12 bytes of data, the file has 7 \(1 of 3 complete items\)/);
    const gz = gzipSync(images);
    expect(() => readIdx(gz.subarray(0, gz.length - 8))).toThrow(/gzip data is corrupt or truncated/);
    const extra = new Uint8Array(images.length + 3);
    extra.set(images);
    expect(() => readIdx(extra)).toThrow(/3 bytes after the data/);
    try {
      readIdx(images.subarray(0, 20));
    } catch (error) {
      expect((error as DataError).code).toBe('truncated');
    }
  });
});

describe('IDX files and data sets', () => {
  it('reads files, gzip detected by .gz or by the magic number', () => {
    writeFileSync(join(dir, 'plain-images'), images);
    writeFileSync(join(dir, 'labels.gz'), gzipSync(labels));
    writeFileSync(join(dir, 'sneaky-gzip'), gzipSync(images));
    expect(readIdxFile(join(dir, 'plain-images')).shape).toEqual([3, 2, 2]);
    expect(Array.from(readIdxFile(join(dir, 'labels.gz')).data)).toEqual([2, 0, 1]);
    expect(readIdxFile(join(dir, 'sneaky-gzip')).data[11]).toBe(23);
    writeFileSync(join(dir, 'not-really.gz'), images);
    expect(() => readIdxFile(join(dir, 'not-really.gz'))).toThrow(/ends in \.gz but the file does not start with the gzip magic/);
    expect(() => readIdxFile(join(dir, 'missing'))).toThrow(/cannot read .*missing/);
  });

  it('builds an NHWC float32 data set in [0, 1]', () => {
    writeFileSync(join(dir, 'images.gz'), gzipSync(images));
    const ds = loadIdxDataset(join(dir, 'images.gz'), join(dir, 'labels.gz'));
    expect(ds.shape).toEqual([2, 2, 1]);
    expect(ds.count).toBe(3);
    expect(ds.classes).toBe(3);
    expect(Array.from(ds.y)).toEqual([2, 0, 1]);
    expect(ds.x[5]).toBeCloseTo(11 / 255, 7);
    const raw = idxToDataset(readIdx(images), readIdx(labels), { normalize: false });
    expect(raw.x[11]).toBe(23);
  });

  it('rejects images and labels of different counts', () => {
    const twoLabels = readIdx(idxBytes('uint8', [2], [0, 1]));
    expect(() => idxToDataset(readIdx(images), twoLabels)).toThrow(/dimension mismatch — the images have 3 samples \[3, 2, 2\] but the labels have 2/);
    expect(() => idxToDataset(readIdx(images), readIdx(images))).toThrow(/labels must be \[n\]/);
    expect(() => idxToDataset(readIdx(labels), readIdx(labels))).toThrow(/images must be/);
  });
});
