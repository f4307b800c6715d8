// Shared test problems. Losses are built from core ops and differentiated by autograd, so
// the optimizers are tested the way a training loop drives them.
import { Tensor, add, keep, mul, scope, square, sub, sum, tensor } from '@minibatch/core';
import { expect } from 'vitest';

export interface Steppable {
  step(): void;
  zeroGrad(): void;
}

/** A parameter: a kept leaf tensor that requires gradients. */
export const param = (values: number[]): Tensor => keep(tensor(values).setRequiresGrad());

/** One training step: gradients of loss() into .grad, optimizer step, zeroGrad. */
export function train(opt: Steppable, loss: () => Tensor, steps = 1): void {
  for (let i = 0; i < steps; i++) {
    scope(() => loss().backward());
    opt.step();
    opt.zeroGrad();
  }
}

/** f(x) = Σ aᵢ/2 · xᵢ² + bᵢ·xᵢ, so ∇f = a·x + b: a gradient that depends on where we are. */
export function quadratic(x: Tensor, a: number[], b: number[]): Tensor {
  return add(sum(mul(square(x), tensor(a.map((v) => v / 2)))), sum(mul(x, tensor(b))));
}
export const quadGrad = (x: number[], a: number[], b: number[]): number[] => x.map((xi, i) => a[i] * xi + b[i]);

/** ½ Σ aᵢ (xᵢ − cᵢ)²: a bowl with its minimum at c. */
export function bowl(x: Tensor, a: number[], c: number[]): Tensor {
  return mul(sum(mul(square(sub(x, tensor(c))), tensor(a))), 0.5);
}

/** Rosenbrock (1 − x)² + 100 (y − x²)², minimum 0 at (1, 1). */
export function rosenbrock(x: Tensor, y: Tensor): Tensor {
  return add(sum(square(sub(1, x))), mul(sum(square(sub(y, square(x)))), 100));
}

/** Elementwise closeness in relative and absolute terms, with the index in the message. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-7): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tol = atol + rtol * Math.abs(expected[i]);
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`element ${i}: got ${actual[i]}, expected ${expected[i]} (tolerance ${tol})`);
    }
  }
}

export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
