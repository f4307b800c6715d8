// Creating tensors: from values, constant fills, and seeded random draws.
import { ArgumentError, ShapeError, fmtShape } from './errors.js';
import { Rng } from './rng.js';
import { Tensor, empty, sizeOf, type NestedArray } from './tensor.js';

function flatten(values: NestedArray, shape: number[], out: number[], depth: number): void {
  if (Array.isArray(values)) {
    if (shape.length === depth) shape.push(values.length);
    else if (shape[depth] !== values.length) {
      throw new ShapeError(`tensor: ragged nested array (dimension ${depth} has lengths ${shape[depth]} and ${values.length})`);
    }
    for (const v of values) flatten(v, shape, out, depth + 1);
  } else {
    if (depth !== shape.length) throw new ShapeError('tensor: ragged nested array (a number where an array was expected)');
    out.push(values);
  }
}

/**
 * A tensor from numbers: nested arrays (shape inferred), or flat values with a shape.
 *
 * @example
 * tensor([[1, 2], [3, 4]]);              // shape [2, 2]
 * tensor(new Float32Array(6), [2, 3]);
 */
export function tensor(values: NestedArray | ArrayLike<number>, shape?: readonly number[]): Tensor {
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (typeof values === 'number' || Array.isArray(values)) {
    const out: number[] = [];
    inferred = [];
    flatten(values as NestedArray, inferred, out, 0);
    flat = out;
  } else {
    flat = values;
    inferred = [values.length];
  }
  const finalShape = shape ?? inferred;
  if (sizeOf(finalShape) !== flat.length) {
    throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${fmtShape(finalShape)} (${sizeOf(finalShape)} elements)`);
  }
  const t = empty(finalShape);
  t.view().set(flat);
  return t;
}

/** A tensor filled with one value. */
export function full(shape: readonly number[], value: number): Tensor {
  const t = empty(shape);
  t.engine.kernels.fill(t.ptr, t.size, value);
  return t;
}

export const zeros = (shape: readonly number[]): Tensor => full(shape, 0);
export const ones = (shape: readonly number[]): Tensor => full(shape, 1);

export interface RandomOptions {
  /** A generator to draw from (advances it), or a seed for a fresh one. Default seed 0. */
  rng?: Rng;
  seed?: number;
}

function pickRng(options: RandomOptions): Rng {
  if (options.rng !== undefined && options.seed !== undefined) throw new ArgumentError('random: give rng or seed, not both');
  return options.rng ?? new Rng(options.seed ?? 0);
}

/** Normal draws N(mean, std²) from the seeded generator. */
export function randn(shape: readonly number[], options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const { mean = 0, std = 1 } = options;
  if (!(std >= 0) || !Number.isFinite(mean)) throw new ArgumentError(`randn: needs a finite mean and std ≥ 0, got mean ${mean}, std ${std}`);
  const rng = pickRng(options);
  const values = new Float32Array(sizeOf(shape));
  for (let i = 0; i < values.length; i++) values[i] = mean + std * rng.normal();
  return tensor(values, shape);
}

/** Uniform draws in [low, high) from the seeded generator. */
export function rand(shape: readonly number[], options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const { low = 0, high = 1 } = options;
  if (!(high >= low) || !Number.isFinite(low) || !Number.isFinite(high)) {
    throw new ArgumentError(`rand: needs finite low ≤ high, got low ${low}, high ${high}`);
  }
  const rng = pickRng(options);
  const values = new Float32Array(sizeOf(shape));
  for (let i = 0; i < values.length; i++) values[i] = low + (high - low) * rng.uniform();
  return tensor(values, shape);
}
