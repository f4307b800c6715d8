// Helpers shared by the transforms: config parsing, ranges, image-shape checks, and passing
// small per-sample arrays to the kernels through engine memory.
import { ArgumentError, ShapeError, Tensor, engine, type Rng } from '@minibatch/core';
import { createRegistry, define, z } from '@minibatch/registry';

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Validates a config with a transform's zod schema when it is constructed directly; the
 * registry words the error, so it reads the same as `registry.create(...)`'s
 * ("invalid config for augmentation 'flip':\n  - p: expected a number ≤ 1, got 2").
 */
export function parseConfig<S extends z.ZodType>(name: string, schema: S, config: unknown): z.output<S> {
  const parsed = schema.safeParse(config ?? {});
  if (parsed.success) return parsed.data;
  return createRegistry().register(define('augmentation', name, schema, (c) => c)).create<z.output<S>>('augmentation', name, config ?? {});
}

/** A JSON copy without undefined fields (what getConfig() returns). */
export function jsonClone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

// ---------------------------------------------------------------- schemas

export const probability = z.number().min(0).max(1);
/** A number v (meaning [−v, v] or [1 − v, 1 + v], by transform) or an explicit [low, high]. */
export const rangeLike = (min = -Infinity) =>
  z.union([z.number().min(Math.max(min, 0)), z.tuple([z.number().min(min), z.number().min(min)])]).refine(
    (v) => typeof v === 'number' || v[0] <= v[1],
    { message: 'a range [low, high] needs low ≤ high' },
  );
export const interval = z.tuple([z.number(), z.number()]).refine((v) => v[0] <= v[1], { message: 'needs low ≤ high' });
export const borderMode = z.enum(['constant', 'reflect', 'edge']);
export type BorderMode = z.output<typeof borderMode>;
export const BORDER_CODE: Record<BorderMode, number> = { constant: 0, reflect: 1, edge: 2 };
export const sizeLike = z.union([z.number().int().positive(), z.tuple([z.number().int().positive(), z.number().int().positive()])]);

export type Range = readonly [number, number];

/** v → [center − v, center + v] (a factor range is clamped at 0); a pair stays as it is. */
export function symmetric(v: number | Range, center = 0, floor = -Infinity): [number, number] {
  return typeof v === 'number' ? [Math.max(center - v, floor), center + v] : [v[0], v[1]];
}

export function sizePair(v: number | readonly [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

export function uniform(rng: Rng, [lo, hi]: Range): number {
  return lo === hi ? lo : lo + (hi - lo) * rng.uniform();
}

/** Whether this sample is transformed: one draw, unless p is 0 or 1. */
export function chance(rng: Rng, p: number): boolean {
  return p >= 1 ? true : p <= 0 ? false : rng.uniform() < p;
}

// ---------------------------------------------------------------- images

export interface ImageDims {
  n: number;
  h: number;
  w: number;
  c: number;
}

/** The NHWC dimensions of a batch of images, or a ShapeError naming the transform. */
export function dims(op: string, x: Tensor): ImageDims {
  if (!(x instanceof Tensor)) throw new ArgumentError(`${op}: expected a Tensor of images, got ${typeof x}`);
  if (x.rank !== 4) {
    throw new ShapeError(
      `${op}: expects images [batch, height, width, channels] (NHWC), got shape ${fmtShape(x.shape)}` +
        (x.rank === 3 ? ` — for grayscale, add a channel axis: x.reshape([${[...x.shape, 1].join(', ')}])` : ''),
    );
  }
  if (x.engine !== engine()) throw new ArgumentError(`${op}: the images live in another engine than the current one (useEngine)`);
  const [n, h, w, c] = x.shape;
  return { n, h, w, c };
}

type HostArray = Float32Array | Int32Array;

/**
 * Copies small host arrays (per-sample parameters) into engine memory, runs `fn` with their
 * byte offsets, and frees them. Kernel arguments never outlive the call.
 */
export function withArrays(arrays: readonly HostArray[], fn: (ptrs: number[]) => void): void {
  const e = engine();
  const blocks: [number, number][] = [];
  try {
    for (const a of arrays) {
      const bytes = Math.max(4, a.length * 4);
      const ptr = e.alloc(bytes);
      blocks.push([ptr, bytes]);
      if (a instanceof Float32Array) e.f32(ptr, a.length).set(a);
      else e.i32(ptr, a.length).set(a);
    }
    fn(blocks.map(([ptr]) => ptr));
  } finally {
    for (const [ptr, bytes] of blocks) e.free(ptr, bytes);
  }
}

export function checkInt(op: string, name: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new ArgumentError(`${op}: ${name} must be an integer in [${lo}, ${hi}], got ${v}`);
}

export function checkFinite(op: string, name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new ArgumentError(`${op}: ${name} must be finite numbers, got ${values[i]} at position ${i}`);
  }
}
