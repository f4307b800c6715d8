// Newton with Levenberg–Marquardt damping: its finite-difference Hessian against analytic
// ones computed here in float64 (a quadratic, softmax regression), its steps against A⁻¹b
// and against gradient descent, the damping on Rosenbrock, and the size guard.
import { Rng, Tensor, add, keep, matmul, mul, reshape, scope, softmaxCrossEntropy, square, sub, sum, tensor } from '@minibatch/core';
import { createRegistry } from '@minibatch/registry';
import { describe, expect, it } from 'vitest';
import { HyperParameterError, NEWTON_DEFAULTS, Newton, SGD, hessian, optimizers } from '../src/index.js';
import { param, rosenbrock } from './helpers.js';

type Matrix = Float64Array;

/** A symmetric positive definite n×n matrix with eigenvalues log-spaced in [1, cond], float32-exact. */
function spd(n: number, cond: number, rng: Rng): Matrix {
  // Random orthogonal Q: Gram–Schmidt (twice, for float64 orthogonality) of a Gaussian matrix.
  const q: number[][] = [];
  for (let k = 0; k < n; k++) {
    const col = Array.from({ length: n }, () => rng.normal());
    for (let pass = 0; pass < 2; pass++) {
      for (const u of q) {
        const d = u.reduce((s, x, i) => s + x * col[i], 0);
        for (let i = 0; i < n; i++) col[i] -= d * u[i];
      }
    }
    const norm = Math.hypot(...col);
    q.push(col.map((x) => x / norm));
  }
  const eig = Array.from({ length: n }, (_, k) => cond ** (k / (n - 1)));
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[k][i] * eig[k] * q[k][j];
      A[i * n + j] = A[j * n + i] = Math.fround(s);
    }
  }
  return A;
}

/** x = A⁻¹b by Gaussian elimination with partial pivoting, float64 (independent of the optimizer's Cholesky). */
function solve(A: Matrix, b: ArrayLike<number>): Float64Array {
  const n = b.length;
  const M = Float64Array.from(A);
  const x = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]) > Math.abs(M[piv * n + c])) piv = r;
    for (let k = 0; k < n; k++) [M[c * n + k], M[piv * n + k]] = [M[piv * n + k], M[c * n + k]];
    [x[c], x[piv]] = [x[piv], x[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r * n + c] / M[c * n + c];
      for (let k = c; k < n; k++) M[r * n + k] -= f * M[c * n + k];
      x[r] -= f * x[c];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r];
    for (let k = r + 1; k < n; k++) s -= M[r * n + k] * x[k];
    x[r] = s / M[r * n + r];
  }
  return x;
}

const closureOf = (loss: () => Tensor) => () => {
  const l = loss();
  l.backward();
  return l;
};
const norm = (a: ArrayLike<number>): number => Math.sqrt(Array.from(a).reduce((s, x) => s + x * x, 0));
const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => norm(Array.from(a, (x, i) => x - b[i])) / norm(b);

/** ½ xᵀAx − bᵀx with A float32-exact. */
function quadraticProblem(n: number, cond: number, seed: number) {
  const rng = new Rng(seed);
  const A = spd(n, cond, rng);
  const b = Array.from({ length: n }, () => Math.fround(rng.normal()));
  const At = keep(tensor(Array.from(A), [n, n]));
  const bt = keep(tensor(b));
  const x = param(Array.from({ length: n }, () => rng.normal()));
  const loss = () => sub(mul(sum(mul(x, reshape(matmul(At, reshape(x, [n, 1])), [n]))), 0.5), sum(mul(bt, x)));
  return { A, b, x, loss, dispose: () => [At, bt, x].forEach((t) => t.dispose()) };
}

/**
 * Softmax regression with L2 on every parameter: mean cross-entropy of X·W + b plus
 * ½·l2·(‖W‖² + ‖b‖²). Parameters W [features, classes] then b [classes].
 */
function softmaxProblem(samples: number, features: number, classes: number, l2: number, seed: number) {
  const rng = new Rng(seed);
  const X = Array.from({ length: samples * features }, () => Math.fround(rng.normal()));
  const trueW = Array.from({ length: features * classes }, () => rng.normal());
  // Labels from a linear model with noise, so the classes overlap and the minimum is finite.
  const labels = Array.from({ length: samples }, (_, s) => {
    let best = 0, bestScore = -Infinity;
    for (let c = 0; c < classes; c++) {
      let z = rng.normal();
      for (let f = 0; f < features; f++) z += X[s * features + f] * trueW[f * classes + c];
      if (z > bestScore) [best, bestScore] = [c, z];
    }
    return best;
  });
  const Xt = keep(tensor(X, [samples, features]));
  const W = keep(tensor(Array.from({ length: features * classes }, () => 0.1 * rng.normal()), [features, classes]).setRequiresGrad());
  const b = keep(tensor(new Array(classes).fill(0), [classes]).setRequiresGrad());
  const loss = () => add(softmaxCrossEntropy(add(matmul(Xt, W), b), labels), mul(add(sum(square(W)), sum(square(b))), 0.5 * l2));

  /** The analytic Hessian at the current W, b in float64: (1/N) Σ (diag p − ppᵀ) ⊗ x̃x̃ᵀ + l2·I, x̃ = [x, 1]. */
  /** Sample s as x̃ = [x, 1] and its class probabilities at the current W, b (float64). */
  const sample = (s: number): { xt: number[]; p: number[] } => {
    const w = W.data(), bb = b.data();
    const xt = [...X.slice(s * features, (s + 1) * features), 1];
    const z = Array.from({ length: classes }, (_, c) => bb[c] + xt.slice(0, features).reduce((acc, xf, f) => acc + xf * w[f * classes + c], 0));
    const zMax = Math.max(...z);
    const e = z.map((v) => Math.exp(v - zMax));
    const total = e.reduce((x, y) => x + y, 0);
    return { xt, p: e.map((v) => v / total) };
  };
  const exactHessian = (): Float64Array => {
    const m = (features + 1) * classes; // b is row `features` of an extended W
    const H = new Float64Array(m * m);
    for (let s = 0; s < samples; s++) {
      const { xt, p } = sample(s);
      for (let f = 0; f <= features; f++) {
        for (let c = 0; c < classes; c++) {
          for (let f2 = 0; f2 <= features; f2++) {
            for (let c2 = 0; c2 < classes; c2++) {
              const curv = (c === c2 ? p[c] : 0) - p[c] * p[c2];
              H[(f * classes + c) * m + f2 * classes + c2] += (xt[f] * xt[f2] * curv) / samples;
            }
          }
        }
      }
    }
    for (let i = 0; i < m; i++) H[i * m + i] += l2;
    return H;
  };
  /** The exact gradient's largest component (float64), to measure convergence. */
  const gradMax = (): number => {
    const w = W.data(), bb = b.data();
    const g = new Float64Array((features + 1) * classes);
    for (let s = 0; s < samples; s++) {
      const { xt, p } = sample(s);
      for (let f = 0; f <= features; f++) {
        for (let c = 0; c < classes; c++) g[f * classes + c] += (xt[f] * (p[c] - (labels[s] === c ? 1 : 0))) / samples;
      }
    }
    for (let f = 0; f < features; f++) for (let c = 0; c < classes; c++) g[f * classes + c] += l2 * w[f * classes + c];
    for (let c = 0; c < classes; c++) g[features * classes + c] += l2 * bb[c];
    return Math.max(...Array.from(g, Math.abs));
  };
  /** Böhning's (1992) bound on the curvature anywhere: ½·λmax((1/N)·X̃ᵀX̃) + l2. */
  const lipschitz = (): number => {
    const m = features + 1;
    const G = new Float64Array(m * m);
    for (let s = 0; s < samples; s++) {
      const xt = [...X.slice(s * features, (s + 1) * features), 1];
      for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) G[i * m + j] += (xt[i] * xt[j]) / samples;
    }
    return 0.5 * powerIteration(G) + l2;
  };
  return { W, b, loss, exactHessian, gradMax, lipschitz, n: (features + 1) * classes, dispose: () => [Xt, W, b].forEach((t) => t.dispose()) };
}

describe('newton on a convex quadratic ½xᵀAx − bᵀx (n = 20, condition 100)', () => {
  it('estimates A as its Hessian, and restores the parameters bit for bit', () => {
    const q = quadraticProblem(20, 100, 7);
    const before = q.x.data();
    const est = hessian([q.x], closureOf(q.loss));
    expect(est.evaluations).toBe(41);
    expect(Array.from(q.x.data())).toEqual(Array.from(before));
    expect(relDiff(est.hessian, q.A)).toBeLessThan(1e-4);
    for (let i = 0; i < 20; i++) for (let j = 0; j < i; j++) expect(est.hessian[i * 20 + j]).toBe(est.hessian[j * 20 + i]);
    q.dispose();
  });

  it('lands on A⁻¹b in one undamped step', () => {
    for (const start of ['origin', 'random'] as const) {
      const q = quadraticProblem(20, 100, 7);
      if (start === 'origin') q.x.view().fill(0);
      const opt = new Newton([q.x], { damping: 0 });
      const loss0 = scope(() => q.loss().item());
      expect(opt.step(closureOf(q.loss))).toBe(loss0);
      // From N(0, 1) the gradient is large (|Ax − b| ≈ 100), so its float32 rounding, ε·|g|/h in
      // the Hessian, times the condition number, leaves ≈ 1e-3; from the origin it is ≈ 1e-5.
      expect(relDiff(q.x.data(), solve(q.A, q.b))).toBeLessThan(start === 'origin' ? 1e-4 : 2e-3);
      expect(opt.gradientEvaluations).toBe(2 * 20 + 2);
      expect(opt.lastDamping).toBe(0);
      expect(opt.steps).toBe(1);
      opt.dispose();
      q.dispose();
    }
  });
});

describe('newton on softmax regression (30 samples, 4 features, 3 classes, L2 1e-2)', () => {
  it('builds the analytic softmax-regression Hessian', () => {
    const p = softmaxProblem(30, 4, 3, 1e-2, 3);
    const exact = p.exactHessian();
    const est = hessian([p.W, p.b], closureOf(p.loss));
    expect(est.hessian.length).toBe(15 * 15);
    expect(relDiff(est.hessian, exact)).toBeLessThan(1e-2);
    p.dispose();
  });

  it('reaches |∇L| < 1e-5 in a few steps, where gradient descent needs hundreds', () => {
    const tol = 1e-5;
    const newton = softmaxProblem(30, 4, 3, 1e-2, 3);
    const opt = new Newton([newton.W, newton.b]);
    let newtonSteps = 0;
    const losses: number[] = [];
    while (newton.gradMax() >= tol && newtonSteps < 50) {
      losses.push(opt.step(closureOf(newton.loss)));
      newtonSteps++;
    }
    expect(newton.gradMax()).toBeLessThan(tol);
    expect(newtonSteps).toBeLessThanOrEqual(10);
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThanOrEqual(losses[i - 1]);

    // Gradient descent at 1/L, L bounding the curvature everywhere, so it never overshoots.
    const gd = softmaxProblem(30, 4, 3, 1e-2, 3);
    const sgd = new SGD([gd.W, gd.b], { lr: 1 / gd.lipschitz() });
    let gdSteps = 0;
    while (gd.gradMax() >= tol && gdSteps < 20_000) {
      closureOf(gd.loss)();
      sgd.step();
      sgd.zeroGrad();
      gdSteps++;
    }
    expect(gdSteps).toBeGreaterThan(20 * newtonSteps); // 328 against 5 when written
    sgd.dispose();
    opt.dispose();
    newton.dispose();
    gd.dispose();
  });
});

/** The largest eigenvalue of a symmetric PSD matrix. */
function powerIteration(H: Float64Array): number {
  const n = Math.round(Math.sqrt(H.length));
  let x = new Float64Array(n).fill(1);
  let lambda = 0;
  for (let it = 0; it < 500; it++) {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) y[i] += H[i * n + j] * x[j];
    lambda = norm(y);
    x = y.map((v) => v / lambda);
  }
  return lambda;
}

describe('newton with Levenberg–Marquardt damping on Rosenbrock from (−1.2, 1)', () => {
  it('never raises the loss and reaches (1, 1) within 50 steps', () => {
    const x = param([-1.2]), y = param([1]);
    const opt = new Newton([x, y]);
    const closure = closureOf(() => rosenbrock(x, y));
    let last = Infinity;
    const dampings: number[] = [];
    let steps = 0;
    for (; steps < 50; steps++) {
      const loss = opt.step(closure);
      expect(loss).toBeLessThanOrEqual(last);
      last = loss;
      dampings.push(opt.lastDamping);
      if (Math.abs(x.item() - 1) < 1e-4 && Math.abs(y.item() - 1) < 1e-4) break;
    }
    expect(Math.abs(x.item() - 1)).toBeLessThan(1e-4);
    expect(Math.abs(y.item() - 1)).toBeLessThan(1e-4);
    expect(steps).toBeLessThan(50);
    expect(opt.gradientEvaluations).toBe((steps + 1) * (2 * 2 + 2) + opt.state.rejected);
    expect(dampings.every((d) => d >= 0)).toBe(true);
    opt.dispose();
    x.dispose();
    y.dispose();
  });

  it('undoes a trial that raises the loss and retries it with more damping', () => {
    // Undamped and scaled ×50, the first trial overshoots the valley.
    const x = param([-1.2]), y = param([1]);
    const opt = new Newton([x, y], { damping: 0, lr: 50 });
    const loss0 = opt.step(closureOf(() => rosenbrock(x, y)));
    expect(opt.state.rejected).toBeGreaterThan(0);
    expect(opt.lastDamping).toBeGreaterThan(0);
    expect(opt.gradientEvaluations).toBe(2 * 2 + 2 + opt.state.rejected);
    expect(scope(() => rosenbrock(x, y).item())).toBeLessThan(loss0);
    opt.dispose();
    x.dispose();
    y.dispose();
  });

  it('leaves the parameters bit for bit where they were when no trial lowers the loss', () => {
    // A loss that grows with every call: each trial looks worse than the start.
    const x = param([-1.2]), y = param([1]);
    const before = [x.data()[0], y.data()[0]];
    let calls = 0;
    const opt = new Newton([x, y]);
    opt.step(() => {
      const l = rosenbrock(x, y);
      l.backward();
      return l.item() + 1000 * calls++;
    });
    expect([x.data()[0], y.data()[0]]).toEqual(before);
    expect(opt.state.rejected).toBe(10);
    expect(opt.gradientEvaluations).toBe(2 * 2 + 1 + 10);
    expect(opt.damping).toBeGreaterThan(1e6);
    opt.dispose();
    x.dispose();
    y.dispose();
  });
});

describe('newton refuses what it cannot do', () => {
  it('refuses a model above maxParams, naming the count and the limit', () => {
    const w = param(new Array(101).fill(0));
    expect(() => new Newton([w], { maxParams: 100 })).toThrow(
      /newton: the model has 101 parameters, above maxParams 100: the Hessian would be 101² = 10\.2 k entries .*use lbfgs for large models, or raise maxParams/,
    );
    const later = new Newton({ maxParams: 100 });
    expect(() => later.addParamGroup([w])).toThrow(/the model has 101 parameters, above maxParams 100/);
    w.dispose();
  });

  it('names large counts with separators', () => {
    const w = keep(tensor(new Array(101_770).fill(0)));
    expect(() => new Newton([w])).toThrow(/the model has 101,770 parameters, above maxParams 5,000: the Hessian would be 101,770² = 10\.4 G entries \(77\.2 GiB in float64\)/);
    w.dispose();
  });

  it('refuses bad options, naming the value', () => {
    expect(() => new Newton({ damping: -1 })).toThrow(HyperParameterError);
    expect(() => new Newton({ damping: -1 })).toThrow(/newton: invalid damping: -1 — expected a finite number ≥ 0/);
    expect(() => new Newton({ maxParams: 0 })).toThrow(/newton: invalid maxParams: 0 — expected an integer ≥ 1/);
    expect(() => new Newton({ maxParams: 2.5 })).toThrow(/invalid maxParams: 2.5/);
    expect(() => new Newton({ lr: 0 })).toThrow(/newton: invalid learning rate: 0/);
    expect(() => new Newton({ dampning: 1 } as object)).toThrow(/newton: unknown option 'dampning' — known options: damping, maxParams, lr/);
    expect(() => new Newton().step(() => 0)).toThrow(/no parameters/);
    const x = param([1]);
    expect(() => new Newton([x]).step(undefined as unknown as () => number)).toThrow(/needs a closure/);
    x.dispose();
  });
});

describe('newton in the registry and in checkpoints', () => {
  const registry = createRegistry().use(optimizers);

  it('is created from a config, and round-trips through JSON', () => {
    const opt = registry.fromJSON<Newton>({ kind: 'optimizer', name: 'newton', config: { damping: 0.1, maxParams: 50 } });
    expect(opt).toBeInstanceOf(Newton);
    expect(opt.options).toEqual({ ...NEWTON_DEFAULTS, damping: 0.1, maxParams: 50 });
    const spec = JSON.parse(JSON.stringify(registry.serialize(opt)));
    expect(spec).toEqual({ kind: 'optimizer', name: 'newton', config: { damping: 0.1, maxParams: 50, lr: 1 } });
    expect(registry.fromJSON<Newton>(spec).options).toEqual(opt.options);
    const x = param([-1.2]), y = param([1]);
    opt.addParamGroup([x, y]);
    opt.step(closureOf(() => rosenbrock(x, y)));
    expect(opt.gradientEvaluations).toBe(6 + opt.state.rejected);
    expect(() => registry.create('optimizer', 'newton', { damping: -1 })).toThrow(/damping/);
    expect(() => registry.create('optimizer', 'newton', { maxParams: 0 })).toThrow(/maxParams/);
    expect(() => registry.create('optimizer', 'newton', { historySize: 3 })).toThrow(/historySize/);
    x.dispose();
    y.dispose();
  });

  it('saves and restores λ and the counters', () => {
    const x = param([-1.2]), y = param([1]);
    const opt = new Newton([x, y], { damping: 0 });
    const closure = closureOf(() => rosenbrock(x, y));
    for (let i = 0; i < 3; i++) opt.step(closure);
    const dict = JSON.parse(JSON.stringify(opt.stateDict({ arrays: 'number' })));
    const again = new Newton([x, y], { damping: 0 });
    again.loadStateDict(dict);
    expect(again.state).toEqual(opt.state);
    expect(again.steps).toBe(3);
    expect(() => again.loadStateDict({ ...dict, optimizer: 'lbfgs' })).toThrow(/not a Newton state dict/);
    const w = param([1, 2, 3]);
    expect(() => new Newton([w]).loadStateDict(dict)).toThrow(/shapes differ/);
    opt.dispose();
    expect(() => opt.step(closure)).toThrow(/disposed/);
    [x, y, w].forEach((t) => t.dispose());
  });
});
