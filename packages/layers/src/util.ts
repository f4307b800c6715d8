// Small helpers shared by the layers: shape formatting and checks, config parsing for
// direct construction, and the conv/pool output-size arithmetic.
import { ShapeError } from '@minibatch/core';
import { z } from '@minibatch/registry';

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Checks that `shape` is a list of positive integers (a per-sample shape, no batch). */
export function checkShape(where: string, shape: readonly number[]): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ShapeError(`${where}: the input shape must be a list of positive integers without the batch dimension, got ${JSON.stringify(shape)}`);
  }
  return shape.slice();
}

export { parseConfig } from '@minibatch/registry';

/** A JSON copy without undefined fields (what getConfig() returns). */
export function jsonClone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export type Pair = [number, number];

export function pair(v: number | readonly number[]): Pair {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

export type PaddingConfig = 'valid' | 'same' | number | [[number, number], [number, number]];

/** Zod pieces shared by the layer schemas. */
export const positiveInt = z.number().int().positive();
export const intPair = z.union([positiveInt, z.tuple([positiveInt, positiveInt])], {
  error: 'a positive integer or a pair of them, [height, width]',
});
export const paddingSchema = z.union([
  z.enum(['valid', 'same']),
  z.number().int().min(0),
  z.tuple([z.tuple([z.number().int().min(0), z.number().int().min(0)]), z.tuple([z.number().int().min(0), z.number().int().min(0)])]),
], { error: "'valid', 'same', an integer ≥ 0, or [[top, bottom], [left, right]]" });
/** A named thing with an optional config: 'heNormal' or { name: 'gaussian', config: { std: 0.02 } }. */
export const namedSpec = z.union([
  z.string().min(1),
  z.strictObject({ kind: z.string().optional(), name: z.string().min(1), config: z.record(z.string(), z.unknown()).optional() }),
], { error: 'a name, or { "name": …, "config": { … } }' });
export type NamedSpec = z.output<typeof namedSpec>;

export function specName(spec: NamedSpec): string {
  return typeof spec === 'string' ? spec : spec.name;
}

export function specConfig(spec: NamedSpec): Record<string, unknown> {
  return typeof spec === 'string' ? {} : (spec.config ?? {});
}

/** Config fields every layer with a kernel and a bias shares (Dense, Conv2d and their variants). */
export const weightedLayerFields = {
  /** An activation name or { name, config }; none means linear. */
  activation: namedSpec.nullable().optional(),
  useBias: z.boolean().default(true),
  /** Default: by activation (heNormal for ReLU-family, lecunNormal for scaledTanh/maxout, xavierUniform otherwise). */
  kernelInitializer: namedSpec.optional(),
  biasInitializer: namedSpec.default('zeros'),
  seed: z.number().int().optional(),
  label: z.string().optional(),
};
