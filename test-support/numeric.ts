// Shared numeric test helpers (layers, regularizers, …).
import { type Rng, type Tensor, tensor } from '@minibatch/core';
import { expect } from 'vitest';

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

export const values = (t: Tensor): number[] => Array.from(t.data());
