// Shared by the ops: shape arithmetic (axes, strides, broadcasting, dimension merging) and
// splitting a kernel call over the engine's threads.
import type { Engine } from '../engine.js';
import { ArgumentError, ShapeError, fmtShape } from '../errors.js';
import { MAX_PARTS, type KernelName } from '../pool.js';
import { Tensor, empty } from '../tensor.js';

/** Floats a part should at least touch: below that, waking a worker costs more than it saves. */
const MIN_PART_FLOATS = 1 << 16;
/** Ranges per thread in inRanges, at most: more even out a thread that starts late, fewer cost less to hand out. */
const RANGES_PER_THREAD = 4;
/** Parts per thread in inParts: 2, or 1 where each part needs a big workspace of its own (a GEMM's packing buffers). */
const PARTS_PER_THREAD = 2;
const BIG_SCRATCH_BYTES = 1 << 18;

/**
 * Runs `kernel` over `units` independent units (images, groups of images), in parts of
 * whole units that the engine's threads take in turn (a few per thread, so one that starts
 * late takes fewer): `part` gives the arguments for `count` units from unit `first`, with
 * its own `scratchBytes` of workspace at `scratch`. The parts write disjoint memory and
 * compute what one call would, so the result is the same for any number of threads.
 */
export function inParts(e: Engine, kernel: KernelName, units: number, floatsPerUnit: number,
  part: (first: number, count: number, scratch: number) => number[], scratchBytes = 0): void {
  if (units === 0) return;
  const perThread = scratchBytes > BIG_SCRATCH_BYTES ? 1 : PARTS_PER_THREAD;
  const count = Math.max(1, Math.min(e.threads === 1 ? 1 : e.threads * perThread, units, Math.floor((units * floatsPerUnit) / MIN_PART_FLOATS)));
  const step = Math.ceil(units / count);
  const bytes = Math.ceil(scratchBytes / 64) * 64;
  const scratch = bytes > 0 ? e.scratch(bytes * Math.ceil(units / step)) : 0;
  const parts: number[][] = [];
  for (let first = 0, p = 0; first < units; first += step, p++) parts.push(part(first, Math.min(step, units - first), scratch + p * bytes));
  e.parallel(kernel, parts);
}

/** Elements a range of inRanges should at least have (an optimizer update of 16k floats takes about 10 µs). */
const MIN_RANGE_FLOATS = 1 << 14;

/** One array for inRanges: its length, and the kernel's arguments for its elements [start, start + count). */
export interface RangeJob {
  size: number;
  args: (start: number, count: number) => number[];
}

/**
 * Runs an elementwise `kernel` over several arrays in one parallel call: their elements are
 * cut into ranges of about equal length (a range never spans two arrays), which the engine's
 * threads take in turn. An optimizer's update of all parameters so wakes the workers once per
 * step, not once per tensor. Elementwise kernels compute each element alone, so the result
 * does not depend on the cut.
 *
 * @example
 * inRanges(engine(), 'axpby', params.map((p, i) => ({
 *   size: p.size, args: (start, count) => [count, 1, updates[i].ptr + 4 * start, 1, p.ptr + 4 * start, p.ptr + 4 * start],
 * })));
 */
export function inRanges(e: Engine, kernel: KernelName, jobs: readonly RangeJob[]): void {
  let total = 0;
  for (const job of jobs) total += job.size;
  const count = Math.min(e.threads * RANGES_PER_THREAD, Math.floor(total / MIN_RANGE_FLOATS));
  if (e.threads === 1 || count < 2) {
    const fn = e.kernels[kernel] as (...a: number[]) => unknown;
    for (const job of jobs) if (job.size > 0) fn(...job.args(0, job.size));
    return;
  }
  const length = Math.ceil(total / count / 16) * 16; // whole 64-byte lines
  const parts: number[][] = [];
  for (const job of jobs) {
    for (let start = 0; start < job.size; start += length) parts.push(job.args(start, Math.min(length, job.size - start)));
  }
  for (let i = 0; i < parts.length; i += MAX_PARTS) e.parallel(kernel, parts.slice(i, i + MAX_PARTS));
}

export type TensorLike = Tensor | number;

/** A number becomes a one-element tensor (freed with the current scope). */
export function asTensor(x: TensorLike): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x !== 'number') throw new ArgumentError(`expected a Tensor or a number, got ${typeof x}`);
  const t = empty([]);
  t.engine.kernels.fill(t.ptr, 1, x);
  return t;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Normalizes a possibly negative axis, naming the op when it is out of range. */
export function normAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new ArgumentError(`${op}: axis ${axis} is out of range for a tensor of rank ${rank} (valid: ${-rank} … ${rank - 1})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Sorted, unique, normalized axes; undefined means all axes. */
export function normAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = (typeof axes === 'number' ? [axes] : axes).map((a) => normAxis(op, a, rank));
  const unique = [...new Set(list)].sort((a, b) => a - b);
  if (unique.length !== list.length) throw new ArgumentError(`${op}: repeated axis in [${list.join(', ')}]`);
  return unique;
}

/** The broadcast shape of a and b (numpy rules), or a ShapeError naming the op. */
export function broadcastShape(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together (dimension ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Element strides of `shape` read as `outShape` (0 along broadcast dimensions). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = contiguousStrides(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, i) => (i < offset || shape[i - offset] === 1 ? 0 : own[i - offset]));
}

/**
 * Merges adjacent dimensions that every strided operand walks contiguously, and drops
 * size-1 dimensions, so kernels get few, long rows. Always returns at least one dimension.
 */
export function mergeDims(shape: readonly number[], strides: readonly (readonly number[])[]): [number[], number[][]] {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[i] * shape[i])) {
      outShape[last] *= shape[i];
      strides.forEach((s, k) => (outStrides[k][last] = s[i]));
    } else {
      outShape.push(shape[i]);
      strides.forEach((s, k) => outStrides[k].push(s[i]));
    }
  }
  if (outShape.length === 0) return [[1], strides.map(() => [1])];
  return [outShape, outStrides];
}

export function checkFinitePositiveInt(op: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new ArgumentError(`${op}: ${name} must be a positive integer, got ${value}`);
  }
}
