// Shared test helpers: gradient checks that print where they fail, seeded inputs, comparisons.
import { expect } from 'vitest';
import { Rng, type Tensor, gradcheck, randn, scope, type GradcheckOptions } from '@minibatch/core';
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


export { distinct, expectClose, values } from '../../../test-support/numeric.js';
