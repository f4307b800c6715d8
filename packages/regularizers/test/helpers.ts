// Shared test helpers: gradient checks that print where they fail, seeded inputs, comparisons.
import { expect } from 'vitest';
import { Rng, type Tensor, gradcheck, randn, scope, tensor, type GradcheckOptions } from '@minibatch/core';
import { layers } from '@minibatch/layers';
import { createRegistry } from '@minibatch/registry';
import { regularizers } from '../src/index.js';

export const registry = createRegistry().use(layers).use(regularizers);

/** Gradient check of `fn` at `inputs`; prints the failures so a red test says where. */
export function check(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): void {
  const result = scope(() => gradcheck(fn, inputs, options));
  if (!result.ok) console.error(result.failures);
  expect(result.ok).toBe(true);
}

export const input = (shape: number[], rng: Rng): Tensor => randn(shape, { rng }).setRequiresGrad();

/** Distinct values on a 0.1 grid in random order: no two within the difference step (for max). */
export function distinct(shape: number[], rng: Rng, offset = 0.05): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = rng.shuffle(Array.from({ length: n }, (_, i) => (i - Math.floor(n / 2)) * 0.1 + offset));
  return tensor(values, shape).setRequiresGrad();
}

/** Asserts |a − b| ≤ atol + rtol·|b| elementwise, reporting the worst index. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(excess <= worstExcess) || Number.isNaN(actual[i])) {
      worstExcess = Number.isNaN(actual[i]) ? Infinity : excess;
      worst = i;
    }
  }
  if (worst >= 0) expect.fail(`index ${worst}: got ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
}

/** Plain numbers of a tensor. */
export const values = (t: Tensor): number[] => Array.from(t.data());
