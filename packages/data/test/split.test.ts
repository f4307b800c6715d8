import { describe, expect, it } from 'vitest';
import { classCounts, createDataset, kFold, splitIndices, splitIndices3, subset, trainTestSplit, trainValTestSplit, type Dataset } from '../src/index.js';

/** Imbalanced labels: 500 of class 0, 300 of class 1, 150 of class 2, 50 of class 3, grouped. */
function imbalanced(): Dataset {
  const sizes = [500, 300, 150, 50];
  const y = Int32Array.from(sizes.flatMap((s, c) => new Array<number>(s).fill(c)));
  const x = Float32Array.from(y, (_, i) => i); // feature = original index, to trace copies
  return createDataset(x, y, [1]);
}

const sorted = (a: ArrayLike<number>): number[] => Array.from(a).sort((p, q) => p - q);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('splits', () => {
  it('trainTestSplit: disjoint parts that cover the data, copied with their labels', () => {
    const ds = imbalanced();
    const { train, test } = trainTestSplit(ds, { testFraction: 0.2, seed: 1 });
    expect(train.count).toBe(800);
    expect(test.count).toBe(200);
    const ids = [...train.x, ...test.x];
    expect(sorted(ids)).toEqual(range(1000));
    for (const part of [train, test]) part.y.forEach((c, i) => expect(ds.y[part.x[i]]).toBe(c));
  });

  it('stratified splits keep the class proportions exactly (to one sample)', () => {
    const ds = imbalanced();
    const { train, test } = trainTestSplit(ds, { testCount: 100, seed: 2, stratified: true });
    expect(classCounts(test)).toEqual([50, 30, 15, 5]);
    expect(classCounts(train)).toEqual([450, 270, 135, 45]);
    // Uneven shares round to within one sample per class, and add up.
    const odd = splitIndices(1000, { testCount: 333, seed: 3, stratified: true, labels: ds.y });
    const counts = classCounts({ y: Int32Array.from(odd.test, (i) => ds.y[i]), classes: 4 });
    expect(counts.reduce((a, b) => a + b)).toBe(333);
    [500, 300, 150, 50].forEach((size, c) => expect(Math.abs(counts[c] - (size * 333) / 1000)).toBeLessThan(1));
  });

  it('an unstratified split of the same data does not keep the proportions exactly', () => {
    const ds = imbalanced();
    const off = [0, 1, 2, 3, 4].some((seed) => {
      const { test } = trainTestSplit(ds, { testCount: 100, seed });
      return classCounts(test).join() !== '50,30,15,5';
    });
    expect(off).toBe(true);
  });

  it('is deterministic per seed, different across seeds, and shuffled', () => {
    const a = splitIndices(100, { testFraction: 0.3, seed: 9 });
    const b = splitIndices(100, { testFraction: 0.3, seed: 9 });
    const c = splitIndices(100, { testFraction: 0.3, seed: 10 });
    expect(Array.from(a.test)).toEqual(Array.from(b.test));
    expect(Array.from(a.test)).not.toEqual(Array.from(c.test));
    expect(Array.from(a.train)).not.toEqual(sorted(a.train));
  });

  it('trainValTestSplit: three disjoint stratified parts', () => {
    const ds = imbalanced();
    const { train, val, test } = trainValTestSplit(ds, { valFraction: 0.1, testFraction: 0.2, seed: 4, stratified: true });
    expect([train.count, val.count, test.count]).toEqual([700, 100, 200]);
    expect(sorted([...train.x, ...val.x, ...test.x])).toEqual(range(1000));
    expect(classCounts(test)).toEqual([100, 60, 30, 10]);
    expect(classCounts(val)).toEqual([50, 30, 15, 5]);
    const idx = splitIndices3(10, { valCount: 2, testCount: 3, seed: 0 });
    expect([idx.train.length, idx.val.length, idx.test.length]).toEqual([5, 2, 3]);
  });

  it('rejects impossible sizes with the numbers', () => {
    expect(() => splitIndices(10, { testCount: 10 })).toThrow(/testCount must be an integer in \[1, 9\] for 10 samples, got 10/);
    expect(() => splitIndices(10, { testFraction: 1.5 })).toThrow(/testFraction must be in \(0, 1\), got 1.5/);
    expect(() => splitIndices(10, { testFraction: 0.01 })).toThrow(/gives 0 test samples/);
    expect(() => splitIndices(10, { testFraction: 0.2, testCount: 2 })).toThrow(/not both/);
    expect(() => splitIndices(10, { stratified: true })).toThrow(/stratified needs labels/);
    expect(() => trainValTestSplit(imbalanced(), { valFraction: 0.5, testFraction: 0.5 })).toThrow(/leave none/);
  });
});

describe('kFold', () => {
  it('folds partition the indices; each trains on the rest', () => {
    const folds = kFold(23, 5, { seed: 1 });
    expect(folds).toHaveLength(5);
    expect(folds.map((f) => f.val.length)).toEqual([5, 5, 5, 4, 4]);
    expect(sorted(folds.flatMap((f) => Array.from(f.val)))).toEqual(range(23));
    for (const f of folds) {
      expect(sorted([...f.train, ...f.val])).toEqual(range(23));
      expect(f.train.length + f.val.length).toBe(23);
    }
    expect(Array.from(folds[0].val)).toEqual(sorted(folds[0].val));
  });

  it('is seeded and shuffled; shuffle: false gives contiguous folds', () => {
    expect(kFold(20, 4, { seed: 3 }).map((f) => Array.from(f.val))).toEqual(kFold(20, 4, { seed: 3 }).map((f) => Array.from(f.val)));
    expect(kFold(20, 4, { seed: 3 })[0].val).not.toEqual(kFold(20, 4, { seed: 4 })[0].val);
    expect(Array.from(kFold(20, 4, { shuffle: false })[1].val)).toEqual([5, 6, 7, 8, 9]);
  });

  it('stratified folds give every fold the same class mix', () => {
    const ds = imbalanced();
    const folds = kFold(ds.count, 5, { seed: 2, stratified: true, labels: ds.y });
    expect(sorted(folds.flatMap((f) => Array.from(f.val)))).toEqual(range(1000));
    for (const f of folds) expect(classCounts(subset(ds, f.val))).toEqual([100, 60, 30, 10]);
    const uneven = kFold(ds.count, 3, { seed: 2, stratified: true, labels: ds.y });
    for (const f of uneven) {
      const counts = classCounts(subset(ds, f.val));
      [500, 300, 150, 50].forEach((size, c) => expect(Math.abs(counts[c] - size / 3)).toBeLessThan(1));
    }
  });

  it('rejects a bad k', () => {
    expect(() => kFold(10, 1)).toThrow(/k must be an integer in \[2, 10\] for 10 samples, got 1/);
    expect(() => kFold(3, 4)).toThrow(/got 4/);
    expect(() => kFold(10, 2, { stratified: true })).toThrow(/labels/);
  });
});
