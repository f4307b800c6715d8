// Train/validation/test splits and k-fold indices, seeded by core's Rng. Stratified versions
// keep each class's share in every part (largest-remainder rounding: each class gets
// ⌊share⌋ or ⌈share⌉ of its samples in a part).
import { ArgumentError, Rng } from '@minibatch/core';
import { subset, type Dataset } from './dataset.js';

export interface SplitOptions {
  /** Share of the samples in the test part, in (0, 1). Default 0.2 when no testCount. */
  testFraction?: number;
  /** Number of test samples (instead of testFraction). */
  testCount?: number;
  /** Seed of the shuffle. Default 0. */
  seed?: number;
  /** Keep the class proportions in both parts (needs labels). Default false. */
  stratified?: boolean;
}

export interface SplitIndices {
  train: Int32Array;
  test: Int32Array;
}

function resolveCount(n: number, fraction: number | undefined, count: number | undefined, what: string, fallback?: number): number {
  if (fraction !== undefined && count !== undefined) {
    throw new ArgumentError(`${what}: give ${what}Fraction or ${what}Count, not both (got ${fraction} and ${count})`);
  }
  if (count !== undefined) {
    if (!Number.isInteger(count) || count < 1 || count >= n) {
      throw new ArgumentError(`${what}Count must be an integer in [1, ${n - 1}] for ${n} samples, got ${count}`);
    }
    return count;
  }
  const f = fraction ?? fallback;
  if (f === undefined) throw new ArgumentError(`${what}: give ${what}Fraction or ${what}Count`);
  if (!(f > 0 && f < 1)) throw new ArgumentError(`${what}Fraction must be in (0, 1), got ${f}`);
  const c = Math.round(f * n);
  if (c < 1 || c >= n) {
    throw new ArgumentError(`${what}Fraction ${f} of ${n} samples gives ${c} ${what} samples; it must leave at least one sample on each side`);
  }
  return c;
}

function checkLabels(n: number, labels: ArrayLike<number> | undefined, what: string): ArrayLike<number> {
  if (labels === undefined) throw new ArgumentError(`${what}: stratified needs labels (one per sample)`);
  if (labels.length !== n) throw new ArgumentError(`${what}: ${labels.length} labels for ${n} samples`);
  return labels;
}

/** Indices grouped by label, in ascending label order. */
function groups(labels: ArrayLike<number>): number[][] {
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!Number.isInteger(l)) throw new ArgumentError(`stratified split: label ${l} at ${i} is not an integer class index`);
    let g = byLabel.get(l);
    if (g === undefined) byLabel.set(l, (g = []));
    g.push(i);
  }
  return [...byLabel.keys()].sort((a, b) => a - b).map((l) => byLabel.get(l)!);
}

/** Splits `total` over groups of the given sizes in proportion, by largest remainder. */
function allocate(sizes: readonly number[], total: number): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  const exact = sizes.map((s) => (s * total) / n);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((_, i) => i).sort((a, b) => exact[b] - Math.floor(exact[b]) - (exact[a] - Math.floor(exact[a])) || a - b);
  for (const i of order) {
    if (left === 0) break;
    out[i]++;
    left--;
  }
  return out;
}

/** Picks `count` of `pool` (stratified by labels or not); returns [picked, rest], both shuffled. */
function pick(pool: readonly number[], count: number, rng: Rng, labels: ArrayLike<number> | null): [Int32Array, Int32Array] {
  const picked: number[] = [];
  const rest: number[] = [];
  if (labels === null) {
    const order = rng.shuffle(pool.slice());
    picked.push(...order.slice(0, count));
    rest.push(...order.slice(count));
  } else {
    const byClass = groups(pool.map((i) => labels[i])).map((g) => g.map((j) => pool[j]));
    const quota = allocate(byClass.map((g) => g.length), count);
    byClass.forEach((g, c) => {
      rng.shuffle(g);
      for (let i = 0; i < g.length; i++) (i < quota[c] ? picked : rest).push(g[i]);
    });
    rng.shuffle(picked);
    rng.shuffle(rest);
  }
  return [Int32Array.from(picked), Int32Array.from(rest)];
}

/**
 * Train and test indices for n samples, each part in shuffled order.
 *
 * @example
 * const { train, test } = splitIndices(10, { testCount: 2, seed: 1 }); // 8 and 2 indices
 */
export function splitIndices(n: number, options: SplitOptions & { labels?: ArrayLike<number> } = {}): SplitIndices {
  if (!Number.isInteger(n) || n < 2) throw new ArgumentError(`splitIndices: need an integer n ≥ 2 samples, got ${n}`);
  const testCount = resolveCount(n, options.testFraction, options.testCount, 'test', 0.2);
  const labels = options.stratified === true ? checkLabels(n, options.labels, 'splitIndices') : null;
  const rng = new Rng(options.seed ?? 0);
  const [test, train] = pick(Array.from({ length: n }, (_, i) => i), testCount, rng, labels);
  return { train, test };
}

/**
 * Splits a data set into train and test parts (copies, in shuffled order).
 *
 * @example
 * const { train, test } = trainTestSplit(ds, { testFraction: 0.2, seed: 0, stratified: true });
 */
export function trainTestSplit(dataset: Dataset, options: SplitOptions = {}): { train: Dataset; test: Dataset } {
  const { train, test } = splitIndices(dataset.count, { ...options, labels: dataset.y });
  return { train: subset(dataset, train), test: subset(dataset, test) };
}

export interface ThreeWaySplitOptions extends SplitOptions {
  /** Share of all samples in the validation part. Default 0.1 when no valCount. */
  valFraction?: number;
  valCount?: number;
}

/** Train, validation and test indices: test is drawn first, then validation from the rest. */
export function splitIndices3(n: number, options: ThreeWaySplitOptions & { labels?: ArrayLike<number> } = {}): { train: Int32Array; val: Int32Array; test: Int32Array } {
  if (!Number.isInteger(n) || n < 3) throw new ArgumentError(`trainValTestSplit: need an integer n ≥ 3 samples, got ${n}`);
  const testCount = resolveCount(n, options.testFraction, options.testCount, 'test', 0.2);
  const valCount = resolveCount(n, options.valFraction, options.valCount, 'val', 0.1);
  if (testCount + valCount >= n) {
    throw new ArgumentError(`trainValTestSplit: ${testCount} test + ${valCount} validation samples leave none of ${n} for training`);
  }
  const labels = options.stratified === true ? checkLabels(n, options.labels, 'trainValTestSplit') : null;
  const rng = new Rng(options.seed ?? 0);
  const [test, rest] = pick(Array.from({ length: n }, (_, i) => i), testCount, rng, labels);
  const [val, train] = pick(Array.from(rest), valCount, rng, labels);
  return { train, val, test };
}

/**
 * Splits a data set into train, validation and test parts (copies, in shuffled order).
 *
 * @example
 * const { train, val, test } = trainValTestSplit(ds, { valFraction: 0.1, testFraction: 0.2, stratified: true });
 */
export function trainValTestSplit(dataset: Dataset, options: ThreeWaySplitOptions = {}): { train: Dataset; val: Dataset; test: Dataset } {
  const { train, val, test } = splitIndices3(dataset.count, { ...options, labels: dataset.y });
  return { train: subset(dataset, train), val: subset(dataset, val), test: subset(dataset, test) };
}

export interface KFoldOptions {
  /** Seed of the shuffle. Default 0. */
  seed?: number;
  /** Shuffle before cutting into folds (default true); false gives contiguous folds. */
  shuffle?: boolean;
  /** Give every fold the same class proportions (needs labels). Default false. */
  stratified?: boolean;
  labels?: ArrayLike<number>;
}

export interface Fold {
  /** Indices to train on (all other folds), ascending. */
  train: Int32Array;
  /** Indices of this fold, to validate on, ascending. */
  val: Int32Array;
}

/**
 * k-fold cross-validation indices: k folds that partition 0…n−1 (sizes differ by at most
 * one); fold i validates on its own indices and trains on the rest. Stratified folds deal
 * each class's shuffled samples round-robin, so every fold holds ⌊n_c/k⌋ or ⌈n_c/k⌉ of class c.
 *
 * @example
 * for (const { train, val } of kFold(100, 5, { seed: 0 })) { ... }  // 80 / 20 each time
 */
export function kFold(n: number, k: number, options: KFoldOptions = {}): Fold[] {
  if (!Number.isInteger(n) || n < 2) throw new ArgumentError(`kFold: need an integer n ≥ 2 samples, got ${n}`);
  if (!Number.isInteger(k) || k < 2 || k > n) throw new ArgumentError(`kFold: k must be an integer in [2, ${n}] for ${n} samples, got ${k}`);
  const rng = new Rng(options.seed ?? 0);
  const shuffle = options.shuffle ?? true;
  const fold = new Int32Array(n);
  if (options.stratified === true) {
    const labels = checkLabels(n, options.labels, 'kFold');
    let p = 0;
    for (const g of groups(labels)) {
      if (shuffle) rng.shuffle(g);
      for (const i of g) fold[i] = p++ % k;
    }
  } else {
    const order = Array.from({ length: n }, (_, i) => i);
    if (shuffle) rng.shuffle(order);
    const base = Math.floor(n / k);
    const extra = n % k;
    let p = 0;
    for (let f = 0; f < k; f++) {
      const size = base + (f < extra ? 1 : 0);
      for (let j = 0; j < size; j++) fold[order[p++]] = f;
    }
  }
  return Array.from({ length: k }, (_, f) => {
    const train: number[] = [];
    const val: number[] = [];
    for (let i = 0; i < n; i++) (fold[i] === f ? val : train).push(i);
    return { train: Int32Array.from(train), val: Int32Array.from(val) };
  });
}
