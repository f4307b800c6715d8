// Scheduled momentum and β1: each step uses the schedule's value at that step (checked against
// the update rule written out by hand), one-cycle's momentum runs high → low → high, and the
// schedules go through configs and saved optimizers.
import { describe, expect, it } from 'vitest';
import { keep, scope, sum, mul, tensor } from '@minibatch/core';
import { createRegistry } from '@minibatch/registry';
import { Adam, SGD, constant, oneCycle, oneCycleMomentum, optimizers } from '../src/index.js';

/** Steps an optimizer on f(w) = Σ c·w (gradient c) and returns the weights after each step. */
function walk(make: (w: ReturnType<typeof tensor>) => { step(): void; zeroGrad(): void }, steps: number): number[][] {
  const w = keep(tensor([1, -2, 0.5]).setRequiresGrad());
  const opt = make(w);
  const out: number[][] = [];
  for (let t = 0; t < steps; t++) {
    scope(() => {
      opt.zeroGrad();
      sum(mul(w, tensor([0.3, -0.1, 0.7]))).backward();
      opt.step();
    });
    out.push(Array.from(w.data()));
  }
  w.dispose();
  return out;
}

describe('scheduled momentum and beta1', () => {
  it('SGD: v ← μ(t)·v + g, w ← w − lr·v, with μ(t) from the schedule at step t', () => {
    const mu = oneCycleMomentum({ steps: 10 });
    const got = walk((w) => new SGD([w], { lr: 0.1, momentum: mu }), 10);
    const g = [0.3, -0.1, 0.7];
    let w = [1, -2, 0.5];
    let v = [0, 0, 0];
    got.forEach((row, t) => {
      v = v.map((vi, i) => (t === 0 ? g[i] : mu(t) * vi + g[i]));
      w = w.map((wi, i) => wi - 0.1 * v[i]);
      row.forEach((x, i) => expect(x).toBeCloseTo(w[i], 5));
    });
    // A constant schedule is the plain number.
    expect(walk((x) => new SGD([x], { lr: 0.1, momentum: constant(0.9) }), 5)).toEqual(walk((x) => new SGD([x], { lr: 0.1, momentum: 0.9 }), 5));
  });

  it('Adam: β1(t) from the schedule, bias-corrected with the current β1 (as torch)', () => {
    const b1 = oneCycleMomentum({ steps: 8, low: 0.8, high: 0.95 });
    const got = walk((w) => new Adam([w], { lr: 0.01, beta1: b1 }), 8);
    const g = [0.3, -0.1, 0.7];
    let w = [1, -2, 0.5];
    let m = [0, 0, 0];
    let u = [0, 0, 0];
    got.forEach((row, t) => {
      const beta1 = b1(t);
      m = m.map((mi, i) => beta1 * mi + (1 - beta1) * g[i]);
      u = u.map((ui, i) => 0.999 * ui + 0.001 * g[i] * g[i]);
      w = w.map((wi, i) => wi - 0.01 * (m[i] / (1 - beta1 ** (t + 1))) / (Math.sqrt(u[i] / (1 - 0.999 ** (t + 1))) + 1e-8));
      row.forEach((x, i) => expect(x).toBeCloseTo(w[i], 4));
    });
  });

  it('one-cycle momentum mirrors one-cycle\'s rate: high at the ends, low at the rate\'s peak', () => {
    const steps = 100;
    const mu = oneCycleMomentum({ steps, pctStart: 0.3 });
    const lr = oneCycle({ max: 1, steps, pctStart: 0.3 });
    expect(mu(0)).toBeCloseTo(0.95, 10);
    expect(mu(29)).toBeCloseTo(0.85, 10);
    expect(mu(99)).toBeCloseTo(0.95, 10);
    const peak = Array.from({ length: steps }, (_, t) => lr(t)).indexOf(1);
    expect(Array.from({ length: steps }, (_, t) => mu(t)).indexOf(0.85)).toBe(peak);
    expect(() => oneCycleMomentum({ steps, low: 0.96, high: 0.95 })).toThrow(/low/);
  });

  it('from a config, and back: momentum and beta1 schedules are specs like the learning rate\'s', () => {
    const registry = createRegistry().use(optimizers);
    const spec = { kind: 'schedule', name: 'oneCycleMomentum', config: { steps: 50 } };
    const sgd = registry.fromJSON<SGD>({ kind: 'optimizer', name: 'sgd', config: { lr: 0.1, momentum: spec, nesterov: true } });
    expect(sgd.getConfig().momentum).toEqual({ kind: 'schedule', name: 'oneCycleMomentum', config: { steps: 50, pctStart: 0.3, low: 0.85, high: 0.95, anneal: 'cos' } });
    const adam = registry.fromJSON<Adam>({ kind: 'optimizer', name: 'adam', config: { beta1: spec } });
    expect((adam.getConfig().beta1 as { name: string }).name).toBe('oneCycleMomentum');
    expect(() => registry.fromJSON({ kind: 'optimizer', name: 'sgd', config: { momentum: 1.5 } })).toThrow(/momentum/);
    expect(() => walk((w) => new SGD([w], { lr: 0.1, momentum: () => 1.2 }), 1)).toThrow(/momentum at step 0/);
  });
});
