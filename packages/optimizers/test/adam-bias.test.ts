// Adam with and without the bias correction of its moments (Kingma & Ba 2015, §3), against
// the paper's formulas computed here in float64, on a 5-element parameter (four SIMD lanes
// and a scalar tail) whose gradient a·x + b depends on the point.
import type { Tensor } from '@minibatch/core';
import { createRegistry } from '@minibatch/registry';
import { describe, expect, it } from 'vitest';
import { Adam, AdamW, Optimizer, chain, optimizers, scaleByAdam, scaleByLearningRate } from '../src/index.js';
import { expectClose, param, quadGrad, quadratic, train, type Steppable } from './helpers.js';

const X0 = [0.5, -1.5, 2.0, 0.25, -0.75];
const A = [1, 2, 0.5, 3, 1.5];
const B = [0.1, -0.2, 0.3, 0, -0.4];
const STEPS = 8;
const lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8;

/**
 * Algorithm 1 of the paper in float64: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²; with the
 * correction x ← x − lr·m̂/(√v̂ + eps), m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ); without it, m and v
 * themselves. `decoupled` is AdamW's weight decay, lr·wd·x beside the step.
 */
function adamReference(biasCorrection: boolean, decoupled = 0): (x: number[], g: number[], t: number) => number[] {
  let m = X0.map(() => 0);
  let v = X0.map(() => 0);
  return (x, g, t) => {
    m = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]);
    v = v.map((vi, i) => b2 * vi + (1 - b2) * g[i] * g[i]);
    const c1 = biasCorrection ? 1 - b1 ** t : 1;
    const c2 = biasCorrection ? 1 - b2 ** t : 1;
    return x.map((xi, i) => xi - lr * ((m[i] / c1) / (Math.sqrt(v[i] / c2) + eps) + decoupled * xi));
  };
}

/** Steps `make([x])` STEPS times, checking x after each step against the reference, elementwise within 1e-5 relative. */
function checkAgainst(make: (params: Tensor[]) => Steppable, reference: (x: number[], g: number[], t: number) => number[]): number[] {
  const x = param(X0);
  const opt = make([x]);
  let expected = X0.slice();
  for (let t = 1; t <= STEPS; t++) {
    train(opt, () => quadratic(x, A, B));
    expected = reference(expected, quadGrad(expected, A, B), t);
    expectClose(x.data(), expected, 1e-5, 1e-7);
  }
  const final = Array.from(x.data());
  (opt as unknown as { dispose(): void }).dispose();
  x.dispose();
  return final;
}

/** |Δx| per element after one step of `opt` over x = X0. */
function firstStep(make: (params: Tensor[]) => Steppable): number[] {
  const x = param(X0);
  const opt = make([x]);
  train(opt, () => quadratic(x, A, B));
  const moved = Array.from(x.data(), (xi, i) => Math.abs(xi - X0[i]));
  (opt as unknown as { dispose(): void }).dispose();
  x.dispose();
  return moved;
}

describe('Adam biasCorrection', () => {
  it('follows the paper with the correction and without it, step after step (Adam and AdamW)', () => {
    const corrected = checkAgainst((p) => new Adam(p, { lr, beta1: b1, beta2: b2, eps, biasCorrection: true }), adamReference(true));
    const raw = checkAgainst((p) => new Adam(p, { lr, beta1: b1, beta2: b2, eps, biasCorrection: false }), adamReference(false));
    expect(raw).not.toEqual(corrected);
    checkAgainst((p) => new AdamW(p, { lr, weightDecay: 0.1, biasCorrection: true }), adamReference(true, 0.1));
    checkAgainst((p) => new AdamW(p, { lr, weightDecay: 0.1, biasCorrection: false }), adamReference(false, 0.1));
    // The transform itself, chained by hand.
    checkAgainst((p) => new Optimizer(p, chain(scaleByAdam({ biasCorrection: false }), scaleByLearningRate(lr))), adamReference(false));
  });

  it('the first step: lr per element with the correction (|m̂/√v̂| = 1), lr·(1 − β₁)/√(1 − β₂) ≈ 3.16·lr without', () => {
    expectClose(firstStep((p) => new Adam(p, { lr })), X0.map(() => lr), 1e-5);
    const raw = firstStep((p) => new Adam(p, { lr, biasCorrection: false }));
    const factor = (1 - b1) / Math.sqrt(1 - b2);
    expect(factor).toBeCloseTo(3.1623, 4);
    expectClose(raw, X0.map(() => lr * factor), 1e-5);
  });

  it('is on by default, for Adam, AdamW and scaleByAdam', () => {
    expect(new Adam().defaults.biasCorrection).toBe(true);
    expect(new AdamW().defaults.biasCorrection).toBe(true);
    expect(new Adam().getConfig().biasCorrection).toBe(true);
    const byDefault = firstStep((p) => new Optimizer(p, chain(scaleByAdam(), scaleByLearningRate(lr))));
    expectClose(byDefault, X0.map(() => lr), 1e-5);
  });

  it('refuses a value that is not a boolean, naming it', () => {
    const x = param([1, 2]);
    expect(() => new Adam([x], { biasCorrection: 'no' as never })).toThrow(/adam: invalid biasCorrection: "no" — expected true or false/);
    expect(() => new AdamW([x], { biasCorrection: 0 as never })).toThrow(/adamw: invalid biasCorrection: 0 — expected true or false/);
    expect(() => scaleByAdam({ biasCorrection: 'yes' as never })).toThrow(/scaleByAdam: invalid biasCorrection: "yes" — expected true or false/);
    const opt = new Adam([x]);
    expect(() => opt.setGroupOptions(0, { biasCorrection: 1 as never })).toThrow(/invalid biasCorrection: 1/);
    opt.dispose();
    x.dispose();
  });

  it('the registry makes adam and adamw without it, and saves the choice', () => {
    const registry = createRegistry().use(optimizers);
    for (const name of ['adam', 'adamw'] as const) {
      const opt = registry.create<Adam>('optimizer', name, { lr, biasCorrection: false, weightDecay: 0 });
      expect(opt.defaults.biasCorrection).toBe(false);
      expect(registry.serialize(opt)).toMatchObject({ kind: 'optimizer', name, config: { biasCorrection: false } });
      const again = registry.fromJSON<Adam>(registry.serialize(opt));
      expect(again.defaults.biasCorrection).toBe(false);
      const moved = firstStep((p) => (again.addParamGroup(p), again));
      expectClose(moved, X0.map(() => lr * (1 - b1) / Math.sqrt(1 - b2)), 1e-5);
      expect(registry.create<Adam>('optimizer', name).defaults.biasCorrection).toBe(true);
      expect(() => registry.create('optimizer', name, { biasCorrection: 'false' })).toThrow(/biasCorrection/);
      opt.dispose();
    }
  });
});
