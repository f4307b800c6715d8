// Shared test helpers: gradient checks, seeded inputs, comparisons, and the tfjs reference.
import { expect } from 'vitest';
import { Rng, type Tensor, gradcheck, randn, scope, tensor, type GradcheckOptions } from '@minibatch/core';
import { createRegistry } from '@minibatch/registry';
import { layers, type Module } from '../src/index.js';

export const registry = createRegistry().use(layers);

/** Gradient check of `fn` at `inputs`; prints the failures so a red test says where. */
export function check(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): void {
  const result = scope(() => gradcheck(fn, inputs, options));
  if (!result.ok) console.error(result.failures);
  expect(result.ok).toBe(true);
}

/** Gradient check of a layer w.r.t. its input and every parameter. */
export function checkLayer(layer: Module, x: Tensor, options: GradcheckOptions = {}): void {
  scope(() => layer.forward(x)); // build
  expect(x.requiresGrad).toBe(true);
  check((input) => layer.forward(input), [x, ...layer.parameters()], options);
}

/** Normal draws pushed at least `gap` away from 0, so kinks at 0 are not crossed by the difference step. */
export function awayFromZero(shape: number[], rng: Rng, gap = 0.1): Tensor {
  const t = randn(shape, { rng });
  const v = t.view();
  for (let i = 0; i < v.length; i++) v[i] = Math.sign(v[i] || 1) * (gap + Math.abs(v[i]));
  return t.setRequiresGrad();
}

let tfPromise: Promise<typeof import('@tensorflow/tfjs-core')> | null = null;

/** tfjs-core on its CPU backend: the independent reference implementation. */
export function tfjs(): Promise<typeof import('@tensorflow/tfjs-core')> {
  tfPromise ??= (async () => {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    return tf;
  })();
  return tfPromise;
}

/** Plain JS arrays from a tensor, in float64. */

export { distinct, expectClose, values } from '../../../test-support/numeric.js';
