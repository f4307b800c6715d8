// Each update rule against its published formula, computed here by hand in float64 for five
// steps on a 5-element parameter (four SIMD lanes and a scalar tail) whose gradient
// a·x + b depends on the point, so every piece of optimizer state matters.
import { Tensor, tensor } from '@minibatch/core';
import { describe, expect, it } from 'vitest';
import {
  Adagrad, Adam, AdamW, Optimizer, RMSprop, SGD, addDecayedWeights, applyUpdates, chain, clipByGlobalNorm, clipByValue,
  scale, scaleByAdam, scaleByLearningRate, stepDecay, type GradientTransformation,
} from '../src/index.js';
import { expectClose, maxAbsDiff, param, quadGrad, quadratic, train, type Steppable } from './helpers.js';

const X0 = [0.5, -1.5, 2.0, 0.25, -0.75];
const A = [1, 2, 0.5, 3, 1.5];
const B = [0.1, -0.2, 0.3, 0, -0.4];
const STEPS = 5;

/** Runs `make([x])` for STEPS steps and checks x after each against `reference(x, g, t)` (t from 1). */
function checkRule(make: (params: Tensor[]) => Steppable, reference: (x: number[], g: number[], t: number) => number[], rtol = 1e-5): number[][] {
  const x = param(X0);
  const opt = make([x]);
  let ref = X0.slice();
  const trajectory: number[][] = [];
  for (let t = 1; t <= STEPS; t++) {
    train(opt, () => quadratic(x, A, B));
    ref = reference(ref, quadGrad(ref, A, B), t);
    expectClose(x.data(), ref, rtol, 1e-6);
    trajectory.push(Array.from(x.data()));
  }
  (opt as unknown as { dispose(): void }).dispose();
  x.dispose();
  return trajectory;
}

describe('SGD', () => {
  it('plain: x ← x − lr·g', () => {
    const lr = 0.1;
    checkRule((p) => new SGD(p, { lr }), (x, g) => x.map((xi, i) => xi - lr * g[i]));
  });

  it('momentum (Polyak; Sutskever et al. 2013 form): v ← μv + g, x ← x − lr·v', () => {
    const lr = 0.05, mu = 0.9;
    let v = X0.map(() => 0);
    checkRule((p) => new SGD(p, { lr, momentum: mu }), (x, g) => {
      v = v.map((vi, i) => mu * vi + g[i]);
      return x.map((xi, i) => xi - lr * v[i]);
    });
  });

  it('momentum with dampening: v ← μv + (1 − d)·g, but v = g on the first step (torch)', () => {
    const lr = 0.05, mu = 0.8, d = 0.3;
    let v = X0.map(() => 0);
    checkRule((p) => new SGD(p, { lr, momentum: mu, dampening: d }), (x, g, t) => {
      v = v.map((vi, i) => (t === 1 ? g[i] : mu * vi + (1 - d) * g[i]));
      return x.map((xi, i) => xi - lr * v[i]);
    });
  });

  it("Nesterov, CS231n's form: v' = v, v ← μv − lr·g, x ← x − μv' + (1 + μ)v", () => {
    const lr = 0.05, mu = 0.9;
    let v = X0.map(() => 0);
    checkRule((p) => new SGD(p, { lr, momentum: mu, nesterov: true }), (x, g) => {
      const prev = v;
      v = v.map((vi, i) => mu * vi - lr * g[i]);
      return x.map((xi, i) => xi - mu * prev[i] + (1 + mu) * v[i]);
    });
  });

  it("Nesterov is the look-ahead: v ← μv − lr·∇f(φ + μv), φ ← φ + v, and the optimizer holds x = φ + μv", () => {
    const lr = 0.05, mu = 0.9;
    let phi = X0.slice();
    let v = X0.map(() => 0);
    checkRule((p) => new SGD(p, { lr, momentum: mu, nesterov: true }), () => {
      const ahead = phi.map((f, i) => f + mu * v[i]);
      const g = quadGrad(ahead, A, B);
      v = v.map((vi, i) => mu * vi - lr * g[i]);
      phi = phi.map((f, i) => f + v[i]);
      return phi.map((f, i) => f + mu * v[i]);
    });
  });

  it('L2 weight decay adds wd·x to the gradient', () => {
    const lr = 0.1, wd = 0.05;
    checkRule((p) => new SGD(p, { lr, weightDecay: wd }), (x, g) => x.map((xi, i) => xi - lr * (g[i] + wd * xi)));
  });
});

describe('AdaGrad (Duchi et al. 2011)', () => {
  it('accumulates squared gradients: G ← G + g², x ← x − lr·g / (√G + eps)', () => {
    const lr = 0.1, eps = 1e-10;
    let G = X0.map(() => 0);
    checkRule((p) => new Adagrad(p, { lr, eps }), (x, g) => {
      G = G.map((s, i) => s + g[i] * g[i]);
      return x.map((xi, i) => xi - (lr * g[i]) / (Math.sqrt(G[i]) + eps));
    });
  });

  it('starts the accumulator at initialAccumulatorValue', () => {
    const lr = 0.1, eps = 1e-10, init = 0.5;
    let G = X0.map(() => init);
    checkRule((p) => new Adagrad(p, { lr, eps, initialAccumulatorValue: init }), (x, g) => {
      G = G.map((s, i) => s + g[i] * g[i]);
      return x.map((xi, i) => xi - (lr * g[i]) / (Math.sqrt(G[i]) + eps));
    });
  });
});

describe('RMSProp (Hinton, lecture 6e)', () => {
  it('decays its cache: c ← ρc + (1 − ρ)g², x ← x − lr·g / (√c + eps)', () => {
    const lr = 0.01, rho = 0.9, eps = 1e-8;
    let c = X0.map(() => 0);
    checkRule((p) => new RMSprop(p, { lr, decay: rho, eps }), (x, g) => {
      c = c.map((ci, i) => rho * ci + (1 - rho) * g[i] * g[i]);
      return x.map((xi, i) => xi - (lr * g[i]) / (Math.sqrt(c[i]) + eps));
    });
  });

  it('centered (Graves 2013) divides by √(c − ḡ²) with ḡ ← ρḡ + (1 − ρ)g; momentum accumulates', () => {
    const lr = 0.01, rho = 0.9, eps = 1e-8, mu = 0.5;
    let c = X0.map(() => 0), avg = X0.map(() => 0), buf = X0.map(() => 0);
    checkRule((p) => new RMSprop(p, { lr, decay: rho, eps, centered: true, momentum: mu }), (x, g) => {
      c = c.map((ci, i) => rho * ci + (1 - rho) * g[i] * g[i]);
      avg = avg.map((ai, i) => rho * ai + (1 - rho) * g[i]);
      buf = buf.map((bi, i) => mu * bi + g[i] / (Math.sqrt(c[i] - avg[i] * avg[i]) + eps));
      return x.map((xi, i) => xi - lr * buf[i]);
    }, 1e-4); // √(c − ḡ²) cancels digits in float32
  });
});

describe('Adam (Kingma & Ba 2015, algorithm 1)', () => {
  const lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const adamRef = (wdL2 = 0, wdDecoupled = 0) => {
    let m = X0.map(() => 0), v = X0.map(() => 0);
    return (x: number[], g0: number[], t: number): number[] => {
      const g = g0.map((gi, i) => gi + wdL2 * x[i]);
      m = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]);
      v = v.map((vi, i) => b2 * vi + (1 - b2) * g[i] * g[i]);
      const mHat = m.map((mi) => mi / (1 - b1 ** t));
      const vHat = v.map((vi) => vi / (1 - b2 ** t));
      return x.map((xi, i) => xi - lr * (mHat[i] / (Math.sqrt(vHat[i]) + eps) + wdDecoupled * xi));
    };
  };

  it('bias-corrected moments: m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), x ← x − lr·m̂/(√v̂ + eps)', () => {
    checkRule((p) => new Adam(p, { lr, beta1: b1, beta2: b2, eps }), adamRef());
  });

  it('with bias correction the first step moves every coordinate by lr (without it, by ≈ lr·0.1/√0.001)', () => {
    const x = param(X0);
    const opt = new Adam([x], { lr });
    train(opt, () => quadratic(x, A, B));
    const moved = Array.from(x.data(), (xi, i) => Math.abs(xi - X0[i]));
    expectClose(moved, X0.map(() => lr), 1e-5);
    opt.dispose();
    x.dispose();
  });

  it('defaults are the literature\'s: lr 1e-3, β₁ 0.9, β₂ 0.999, eps 1e-8', () => {
    expect(new Adam().defaults).toMatchObject({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
  });

  it("weightDecay in Adam is L2 in the gradient (g + wd·x goes through the moments)", () => {
    checkRule((p) => new Adam(p, { lr, weightDecay: 0.1 }), adamRef(0.1, 0));
  });

  it('AdamW decays decoupled: x ← x − lr·(m̂/(√v̂ + eps) + wd·x), and differs from L2', () => {
    const wd = 0.1;
    const decoupled = checkRule((p) => new AdamW(p, { lr, weightDecay: wd }), adamRef(0, wd));
    const l2 = checkRule((p) => new Adam(p, { lr, weightDecay: wd }), adamRef(wd, 0));
    expect(maxAbsDiff(decoupled[STEPS - 1], l2[STEPS - 1])).toBeGreaterThan(1e-3);
  });
});

describe('transforms', () => {
  it('chain threads updates through its links and returns the tuple of their states', () => {
    const x = param([1, 2]);
    const tx = chain(scaleByAdam(), addDecayedWeights(0.5), scaleByLearningRate(0.1));
    let state = tx.init([x]);
    expect(state).toHaveLength(3);
    expect(state[0].count).toBe(0);
    const g = tensor([0.3, -0.4]);
    const [updates, next] = tx.update([g], state, [x]);
    state = next;
    expect(state[0].count).toBe(1);
    expect(state[2].count).toBe(1);
    // adam's first direction is sign(g); then + 0.5·x; then · −0.1
    expectClose(updates[0].data(), [-0.1 * (1 + 0.5), -0.1 * (-1 + 1)], 1e-5, 1e-6);
    expect(Array.from(g.data())).toEqual([0.30000001192092896, -0.4000000059604645]); // inputs untouched
    applyUpdates([x], updates);
    expectClose(x.data(), [1 - 0.15, 2], 1e-6);
    for (const t of [x, g, ...updates, ...state[0].mu, ...state[0].nu]) t.dispose();
  });

  it('updateAndApply (a last link that only scales adds straight into the parameters) ends bit for bit where update() + applyUpdates() do', () => {
    // 1,037 elements per tensor (SIMD body and scalar tail), values far apart in magnitude.
    const values = (seed: number, n = 1037) => Array.from({ length: n }, (_, i) => Math.sin(seed * 7.3 + i * 1.7) * 10 ** ((i % 7) - 3));
    const txs: GradientTransformation[] = [
      chain(scaleByAdam(), scaleByLearningRate(0.01)),
      chain(addDecayedWeights(0.1), scaleByAdam({ biasCorrection: false }), scaleByLearningRate(stepDecay({ initial: 0.3, stepSize: 2, gamma: 0.5 }))),
      chain(clipByValue(0.5), scale(-0.37)),
      scaleByLearningRate(1e-3),
    ];
    for (const [k, tx] of txs.entries()) {
      expect(tx.updateAndApply, `transform ${k}`).toBeTypeOf('function');
      const fused = [param(values(k)), param(values(k + 1).slice(0, 9))];
      const plain = fused.map((p) => param(Array.from(p.data())));
      let [sf, sp] = [tx.init(fused), tx.init(plain)];
      for (let step = 0; step < 4; step++) {
        const grads = [tensor(values(step + 10)), tensor(values(step + 20, 9))];
        sf = tx.updateAndApply!(grads, sf, fused);
        const [updates, next] = tx.update(grads, sp, plain);
        sp = next;
        applyUpdates(plain, updates);
        fused.forEach((p, i) => expect(new Uint32Array(p.data().buffer), `transform ${k}, step ${step}, tensor ${i}`).toEqual(new Uint32Array(plain[i].data().buffer)));
        for (const t of [...grads, ...updates]) t.dispose();
      }
      expect(JSON.stringify(sf, (key, v) => (v instanceof Tensor ? Array.from(v.data()) : v))).toBe(JSON.stringify(sp, (key, v) => (v instanceof Tensor ? Array.from(v.data()) : v)));
      for (const t of [...fused, ...plain]) t.dispose();
    }
    // A chain whose last link does not only scale has no fused path: Optimizer.step uses update() + applyUpdates().
    expect(chain(scaleByLearningRate(0.1), scaleByAdam()).updateAndApply).toBeUndefined();
  });

  it('clipByGlobalNorm scales all updates by maxNorm/‖g‖ only when above the limit', () => {
    const tx = clipByGlobalNorm(1);
    const a = tensor([3]), b = tensor([0, 4]);
    const [[ca, cb]] = tx.update([a, b], tx.init([a, b]));
    expectClose([...ca.data(), ...cb.data()], [0.6, 0, 0.8], 1e-6);
    const [[sa]] = clipByGlobalNorm(10).update([a], {});
    expect(Array.from(sa.data())).toEqual([3]);
  });

  it('clipByValue clamps each element', () => {
    const g = tensor([-3, 0.5, 2, -0.25, 7]);
    const [[c]] = clipByValue(1).update([g], {});
    expect(Array.from(c.data())).toEqual([-1, 0.5, 1, -0.25, 1]);
  });

  it('scaleByLearningRate reads its schedule at the step count (0, 1, 2, …)', () => {
    const tx = scaleByLearningRate(stepDecay({ initial: 1, stepSize: 2, gamma: 0.5 }));
    let state = tx.init([]);
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [[u], s] = tx.update([tensor([1])], state);
      state = s;
      seen.push(-u.item());
    }
    expect(seen).toEqual([1, 1, 0.5, 0.5, 0.25]);
  });
});

describe('Optimizer and parameter groups', () => {
  it('each group has its own learning rate; frozen groups do not move', () => {
    const a = param([1, 1]), b = param([1, 1]), c = param([1, 1]);
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.5 }, { params: [c], frozen: true }], { lr: 0.1 });
    train(opt, () => quadratic(a, [1, 1], [0, 0]).add(quadratic(b, [1, 1], [0, 0])).add(quadratic(c, [1, 1], [0, 0])));
    expectClose(a.data(), [0.9, 0.9], 1e-6);
    expectClose(b.data(), [0.5, 0.5], 1e-6);
    expect(Array.from(c.data())).toEqual([1, 1]);
    expect(opt.groups.map((g) => g.state === null)).toEqual([false, false, true]);
    opt.dispose();
  });

  it('setGroupOptions changes the learning rate and keeps the moments', () => {
    const x = param([1, -1]);
    const opt = new Adam([x], { lr: 0.1 });
    train(opt, () => quadratic(x, [1, 1], [0, 0]), 3);
    const mu = Array.from((opt.groups[0].state as { mu: Tensor[] }[])[3].mu[0].data());
    opt.setGroupOptions(0, { lr: 0.01 });
    expect(opt.groups[0].options.lr).toBe(0.01);
    expect(Array.from((opt.groups[0].state as { mu: Tensor[] }[])[3].mu[0].data())).toEqual(mu);
    expect(() => new SGD([x], { lr: 0.1 }).setGroupOptions(0, { momentum: 0.9 })).toThrow(/change the shape of the optimizer state/);
    opt.dispose();
  });

  it('unfreezing a group starts its state; a parameter without a gradient counts as zero', () => {
    const a = param([2]), b = param([2]);
    const opt = new SGD([{ params: [a] }, { params: [b], frozen: true }], { lr: 0.5, momentum: 0.5 });
    opt.setGroupOptions(1, { frozen: false });
    train(opt, () => quadratic(a, [1], [0])); // b gets no gradient
    expect(a.item()).toBe(1);
    expect(b.item()).toBe(2);
    opt.dispose();
  });

  it('a hand-built transform drives the same wrapper', () => {
    const x = param([1, 2, 3]);
    const opt = new Optimizer([x], chain(scaleByAdam(), scaleByLearningRate(0.1)));
    train(opt, () => quadratic(x, [1, 1, 1], [0, 0, 0]));
    expectClose(x.data(), [0.9, 1.9, 2.9], 1e-5);
    expect(() => opt.getConfig()).toThrow(/no config/);
    opt.dispose();
  });
});
