// Fuzzing the readers of files users get from elsewhere (fast-check, seeded): random bytes and
// mutations of real files — bit flips, truncation, length fields set huge or to zero, other
// type codes, NaN and Infinity, stray quotes and delimiters. Each input either reads, giving a
// data set whose numbers are finite, or throws a DataError that names the file; never an
// internal RangeError or TypeError, never more than a bounded time. FUZZ_RUNS scales the
// number of cases (`pnpm fuzz` runs 50× more); FUZZ_SEED replays another sequence.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError, idxToDataset, readCsv, readIdx } from '../src/index.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const SEED = Number(process.env.FUZZ_SEED ?? 18);
/** A case that takes longer than this is a hang for our purposes. */
const CASE_MS = 1000;

/** The property shared by every reader: a result, or a DataError naming the source — in bounded time. */
function readsOrRefuses<T>(read: () => T, source: string, check: (value: T) => void = () => undefined): void {
  const started = performance.now();
  try {
    check(read());
  } catch (error) {
    if (!(error instanceof DataError)) throw new Error(`not a DataError: ${(error as Error).name}: ${(error as Error).message}`, { cause: error });
    expect((error as Error).message).toContain(source);
  }
  expect(performance.now() - started).toBeLessThan(CASE_MS);
}

/** An IDX file: magic 00 00 <type> <rank>, big-endian dimensions, then the values. */
function idx(code: number, shape: number[], body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + body.length);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(body, 4 + 4 * shape.length);
  return out;
}

// Real-shaped files: 5 images of 4×4 (uint8), 5 labels, and a float32 matrix.
const images = idx(0x08, [5, 4, 4], Uint8Array.from({ length: 80 }, (_, i) => (i * 37) % 256));
const labels = idx(0x08, [5], Uint8Array.from([3, 1, 4, 1, 5]));
const floats = idx(0x0d, [3, 2], new Uint8Array(new Float32Array([1.5, -2, 0, 3.25, 1e-3, 7]).buffer).reverse());

const HUGE = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 65536];

/** Mutations of a file's bytes: a byte set, a bit flipped, cut short, a dimension set huge or zero, the type or rank byte changed. */
const mutated = (good: Uint8Array) => fc.oneof(
  fc.tuple(fc.nat(good.length - 1), fc.nat(255)).map(([i, v]) => { const b = good.slice(); b[i] = v; return b; }),
  fc.tuple(fc.nat(good.length * 8 - 1)).map(([bit]) => { const b = good.slice(); b[bit >> 3] ^= 1 << (bit & 7); return b; }),
  fc.nat(good.length).map((n) => good.slice(0, n)),
  fc.tuple(fc.nat(good[3] - 1), fc.constantFrom(...HUGE)).map(([d, v]) => { const b = good.slice(); new DataView(b.buffer).setUint32(4 + 4 * d, v); return b; }),
  fc.constantFrom(0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x00, 0x0a, 0xff).map((t) => { const b = good.slice(); b[2] = t; return b; }),
  fc.nat(255).map((r) => { const b = good.slice(); b[3] = r; return b; }),
  fc.uint8Array({ maxLength: 64 }).map((tail) => Uint8Array.from([...good, ...tail])),
);

describe('IDX reader (fuzz)', () => {
  it('random bytes: read or refused, naming the file', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => readsOrRefuses(() => readIdx(bytes, 'random.idx'), 'random.idx')), { seed: SEED, numRuns: RUNS });
  });

  it('mutations of real files: read or refused; what reads has the size its header says', () => {
    for (const [name, good] of [['images.idx', images], ['labels.idx', labels], ['floats.idx', floats]] as const) {
      fc.assert(fc.property(mutated(good), (bytes) => readsOrRefuses(() => readIdx(bytes, name), name, (a) => {
        expect(a.data.length).toBe(a.shape.reduce((p, d) => p * d, 1));
      })), { seed: SEED, numRuns: RUNS });
    }
  });

  it('image and label files of any pairing: a data set of finite values in [0, 1], or refused naming the pair', () => {
    const pick = fc.oneof(mutated(images), mutated(labels), fc.constant(images), fc.constant(labels), fc.constant(floats));
    fc.assert(fc.property(pick, pick, (a, b) => readsOrRefuses(() => idxToDataset(readIdx(a, 'x.idx'), readIdx(b, 'y.idx'), { name: 'pair' }), '', (ds) => {
      for (const v of ds.x) expect(Number.isFinite(v)).toBe(true);
      for (const y of ds.y) expect(y >= 0 && y < ds.classes).toBe(true);
    })), { seed: SEED, numRuns: RUNS });
  });

  it('NaN, Infinity or a float beyond float32 in the images, a negative label: refused at the boundary, naming the sample', () => {
    // Two 2-feature samples as big-endian float64.
    const images64 = (values: number[]) => idx(0x0e, [2, 2], new Uint8Array(values.flatMap((v) => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, v);
      return [...b];
    })));
    const two = idx(0x08, [2], Uint8Array.from([0, 1]));
    for (const [bad, shown] of [[NaN, 'NaN'], [Infinity, 'Infinity'], [1e300, 'Infinity']] as const) {
      expect(() => idxToDataset(readIdx(images64([0.5, 0.25, 1, bad])), readIdx(two), { name: 'f.idx' })).toThrow(new RegExp(`^f\\.idx: sample 1 has ${shown} at feature 1 \\(float64 images\\)`));
    }
    expect(() => idxToDataset(readIdx(images), readIdx(idx(0x09, [5], Uint8Array.from([0, 1, 2, 0xff, 3]))), { name: 'l.idx' })).toThrow(/^l\.idx: sample 3 has the label -1; labels are class indices/);
  });

  it('regression: a header claiming 2^32 − 1 items per dimension is refused before any allocation', () => {
    const claim = idx(0x0d, [0xffffffff, 0xffffffff, 0xffffffff], new Uint8Array(8));
    expect(() => readIdx(claim, 'claim.idx')).toThrow(DataError);
    expect(() => readIdx(claim, 'claim.idx')).toThrow(/claim\.idx/);
  });
});

const CSV = 'x1,x2,x3,label\n0.5,1.5,-2,cat\n2,3e2,.5,dog\n1,1,1,cat\n-0,4,+7,bird\n';
/** Pieces CSV text is made of, and the ones that break it. */
const TOKEN = fc.constantFrom('0', '1', '-2.5', '3e8', '1e39', 'NaN', 'Infinity', '-Infinity', ',', ',', '\n', '\r\n', '"', '""', ' ', 'a', 'label', '.', 'e', '-', '+', '\t', ';', '1.2.3', '0x10', '');

describe('CSV reader (fuzz)', () => {
  const finite = (ds: ReturnType<typeof readCsv>) => {
    for (const v of ds.x) expect(Number.isFinite(v)).toBe(true);
    expect(ds.y.length).toBe(ds.count);
    for (const y of ds.y) expect(y >= 0 && y < ds.classes).toBe(true);
  };

  it('text of CSV pieces in any order: finite features and labels, or refused naming the file', () => {
    fc.assert(fc.property(fc.array(TOKEN, { maxLength: 60 }), fc.constantFrom<number | string>(-1, 0, 2, 'label', 9), (tokens, labelColumn) =>
      readsOrRefuses(() => readCsv(tokens.join(''), { name: 'pieces.csv', labelColumn }), 'pieces.csv', finite)), { seed: SEED, numRuns: RUNS });
  });

  it('mutations of a real CSV: a character replaced, inserted, deleted, the text cut short', () => {
    const edit = fc.oneof(
      fc.tuple(fc.nat(CSV.length - 1), TOKEN).map(([i, t]) => CSV.slice(0, i) + t + CSV.slice(i + 1)),
      fc.tuple(fc.nat(CSV.length), TOKEN).map(([i, t]) => CSV.slice(0, i) + t + CSV.slice(i)),
      fc.tuple(fc.nat(CSV.length - 1), fc.nat(5)).map(([i, n]) => CSV.slice(0, i) + CSV.slice(i + n)),
      fc.nat(CSV.length).map((n) => CSV.slice(0, n)),
    );
    fc.assert(fc.property(fc.array(edit, { minLength: 1, maxLength: 1 }).map((a) => a[0]), fc.constantFrom<number | string>(-1, 'label', 0), (text, labelColumn) =>
      readsOrRefuses(() => readCsv(text, { name: 'real.csv', labelColumn }), 'real.csv', finite)), { seed: SEED, numRuns: RUNS });
  });

  it('random unicode text: refused (or read) naming the file', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200, unit: 'binary' }), (text) => readsOrRefuses(() => readCsv(text, { name: 'noise.csv' }), 'noise.csv', finite)), { seed: SEED, numRuns: RUNS });
  });
});
