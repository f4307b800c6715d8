// Convergence on functions with known minima: a quadratic bowl, an ill-conditioned quadratic
// (condition number 100) and the Rosenbrock valley.
import { Tensor } from '@minibatch/core';
import { describe, expect, it } from 'vitest';
import { Adagrad, Adam, AdamW, LBFGS, RMSprop, SGD, cosine } from '../src/index.js';
import { bowl, param, rosenbrock, train, type Steppable } from './helpers.js';

const distance = (x: Tensor, c: number[]): number => Math.max(...Array.from(x.data(), (v, i) => Math.abs(v - c[i])));

describe('a quadratic bowl ½ Σ aᵢ(xᵢ − cᵢ)²: every optimizer gets within 1e-6 of the minimum', () => {
  const A = [1, 2, 1.5, 0.8, 1.2];
  const C = [1, -2, 0.5, 0.25, -0.75];
  const X0 = [-1, 1, 2, -0.5, 0.5];
  // The adaptive methods take steps of ≈ lr whatever the gradient, so they need a learning
  // rate that decays to settle; that is what schedules are for.
  const cases: [string, (p: Tensor[]) => Steppable, number][] = [
    ['sgd', (p) => new SGD(p, { lr: 0.3 }), 200],
    ['momentum', (p) => new SGD(p, { lr: 0.1, momentum: 0.5 }), 200],
    ['nesterov', (p) => new SGD(p, { lr: 0.1, momentum: 0.5, nesterov: true }), 200],
    ['adagrad', (p) => new Adagrad(p, { lr: 1 }), 500],
    ['rmsprop', (p) => new RMSprop(p, { lr: cosine({ initial: 0.05, steps: 1000 }) }), 1000],
    ['rmsprop centered + momentum', (p) => new RMSprop(p, { lr: cosine({ initial: 0.02, steps: 1000 }), centered: true, momentum: 0.5 }), 1000],
    ['adam', (p) => new Adam(p, { lr: cosine({ initial: 0.1, steps: 1000 }) }), 1000],
    ['adamw', (p) => new AdamW(p, { lr: cosine({ initial: 0.1, steps: 1000 }), weightDecay: 0 }), 1000],
  ];
  for (const [name, make, steps] of cases) {
    it(`${name} in ${steps} steps`, () => {
      const x = param(X0);
      const opt = make([x]);
      train(opt, () => bowl(x, A, C), steps);
      expect(distance(x, C)).toBeLessThan(1e-6);
      (opt as unknown as { dispose(): void }).dispose();
      x.dispose();
    });
  }

  it('l-bfgs in one step() of a few iterations', () => {
    const x = param(X0);
    const opt = new LBFGS([x], { maxIter: 50, toleranceChange: 0, toleranceGrad: 1e-9 });
    opt.step(() => {
      const l = bowl(x, A, C);
      l.backward();
      return l;
    });
    expect(distance(x, C)).toBeLessThan(1e-6);
    expect(opt.state.nIter).toBeLessThan(20);
    opt.dispose();
    x.dispose();
  });
});

describe('an ill-conditioned quadratic ½(x₁² + 100·x₂²), condition number 100', () => {
  const BUDGET = 100;
  const finalLoss = (make: (p: Tensor[]) => Steppable): number => {
    const x = param([1, 1]);
    const opt = make([x]);
    train(opt, () => bowl(x, [1, 100], [0, 0]), BUDGET);
    const [a, b] = x.data();
    (opt as unknown as { dispose(): void }).dispose();
    x.dispose();
    return 0.5 * (a * a + 100 * b * b);
  };
  // Plain SGD must keep lr < 2/100 to stay stable on the steep axis, and then crawls along
  // the flat one at (1 − lr)^t: give it its largest stable rate.
  const sgd = finalLoss((p) => new SGD(p, { lr: 0.019 }));

  it(`plain SGD at its largest stable learning rate is still far off after ${BUDGET} steps`, () => {
    expect(sgd).toBeGreaterThan(1e-3);
  });

  it('momentum beats plain SGD in the same budget', () => {
    // Same learning rate, the textbook μ = 0.9.
    expect(finalLoss((p) => new SGD(p, { lr: 0.019, momentum: 0.9 }))).toBeLessThan(sgd / 5);
    // Heavy ball tuned to the condition number κ: lr = 4/(√L + √μ)², μ = ((√κ − 1)/(√κ + 1))² (Polyak 1964).
    expect(finalLoss((p) => new SGD(p, { lr: 4 / 121, momentum: (9 / 11) ** 2 }))).toBeLessThan(sgd * 1e-6);
    // Nesterov needs lr·L < 2(1 + μ)/(1 + 2μ) to be stable, so it runs at lr = 1/L.
    expect(finalLoss((p) => new SGD(p, { lr: 0.01, momentum: 0.9, nesterov: true }))).toBeLessThan(sgd / 1000);
  });

  it('Adam beats plain SGD in the same budget', () => {
    expect(finalLoss((p) => new Adam(p, { lr: 0.1 }))).toBeLessThan(sgd / 10);
  });
});

describe('Rosenbrock (1 − x)² + 100(y − x²)² from (−1.2, 1)', () => {
  const near = (x: Tensor, y: Tensor): number => Math.max(Math.abs(x.item() - 1), Math.abs(y.item() - 1));

  it('Adam gets within 1e-3 of (1, 1)', () => {
    const x = param([-1.2]), y = param([1]);
    const opt = new Adam([x, y], { lr: cosine({ initial: 0.02, steps: 8000, final: 1e-5 }) });
    train(opt, () => rosenbrock(x, y), 8000);
    expect(near(x, y)).toBeLessThan(1e-3);
    opt.dispose();
  });

  for (const lineSearch of ['strongWolfe', 'backtracking'] as const) {
    it(`L-BFGS (${lineSearch}) gets within 1e-3 of (1, 1) in under 100 iterations`, () => {
      const x = param([-1.2]), y = param([1]);
      const opt = new LBFGS([x, y], { maxIter: 99, maxEval: 1000, historySize: 10, lineSearch });
      opt.step(() => {
        const l = rosenbrock(x, y);
        l.backward();
        return l;
      });
      expect(near(x, y)).toBeLessThan(1e-3);
      expect(opt.state.nIter).toBeLessThan(100);
      opt.dispose();
    });
  }
});
