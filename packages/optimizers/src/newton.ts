// Newton's method with Levenberg–Marquardt damping, for SMALL models (a few thousand
// parameters): each step builds the whole n×n Hessian and solves (H + λI)·d = −g.
//
// The Hessian comes from gradients alone: column i is the central difference
// (∇L(w + h·eᵢ) − ∇L(w − h·eᵢ)) / 2h, a Hessian-vector product along eᵢ (Nocedal & Wright
// §8.1), so a step costs 2n + 2 closure calls and O(n³) work; the result is symmetrized.
// The damping λ follows the trust-region ratio ρ = actual / predicted reduction (Moré 1978;
// Nocedal & Wright §4.1, alg. 4.1): raised when the quadratic model predicts badly, lowered
// when it predicts well; a trial that raises the loss is undone and retried with more damping.
//
// Linear algebra is JS float64 (Float64Array): at n ≤ maxParams it is not the bottleneck,
// and float32 would lose the small pivots of an ill-conditioned Hessian.
import { ArgumentError, Tensor, fmtBytes, scope } from '@minibatch/core';
import type { Closure } from './lbfgs.js';
import type { OptimizerStateDict } from './optimizer.js';
import { type SaveOptions, type TransformState, singleGroupSavedState, singleGroupStateDict } from './state.js';
import * as v from './validate.js';

export interface NewtonOptions {
  /** Initial damping λ of (H + λI)·d = −g (default 1e-3; 0 is the plain Newton step). */
  damping: number;
  /** The most parameters it accepts: the Hessian takes 8·n² bytes (default 5000: 200 MB). */
  maxParams: number;
  /** Step scale: the step taken is lr·d (default 1). */
  lr: number;
}

export const NEWTON_DEFAULTS: Readonly<NewtonOptions> = Object.freeze({ damping: 1e-3, maxParams: 5000, lr: 1 });

/** The state carried between steps (and into checkpoints). */
export type NewtonState = {
  /** λ the next step starts from. */
  damping: number;
  /** λ the last step solved with (after any raise for a matrix that was not positive definite). */
  lastDamping: number;
  /** Closure calls so far: each evaluates the loss and its gradient. */
  gradientEvaluations: number;
  /** Trial points that raised the loss and were undone. */
  rejected: number;
};

/**
 * Finite-difference step of the Hessian, relative to max(1, |wᵢ|). For float32 gradients the
 * error of a central difference is about ε₃₂·|g|/h (rounding) + h²·|∇³L|/6 (truncation),
 * smallest near h ≈ ε₃₂^⅓ ≈ 4e-3. Measured against analytic Hessians (mean relative Frobenius
 * error over 12 seeds) at h = 3e-3, 5e-3, 7e-3, 1e-2, 2e-2: softmax regression 30×4×3
 * 2.8e-5, 1.8e-5, 1.6e-5, 2.0e-5, 7.1e-5; the same with weights ×20 9.0e-5, 5.4e-5, 4.5e-5,
 * 5.3e-5, 1.7e-4; a quadratic of condition 100 (no truncation error, so larger is better)
 * 2.5e-5, 1.5e-5, 1.1e-5, 7.5e-6, 3.8e-6.
 */
export const HESSIAN_STEP = 7e-3;

// How λ moves with ρ = actual / predicted reduction: ×4 after a poor step (ρ < 0.25), ÷3 after
// a good one (ρ > 0.75), as the trust-region radius of Nocedal & Wright alg. 4.1 moves the
// other way; ×10 after a step that raised the loss, and while H + λI is not positive
// definite (Marquardt 1963).
const RAISE = 4;
const RAISE_REJECTED = 10;
const RAISE_INDEFINITE = 10;
const LOWER = 3;
/** Trials per step() before it gives up and leaves the parameters where they were. */
const MAX_TRIES = 10;
/** λ is not lowered below this (nor below the initial damping when that is smaller). */
const DAMPING_FLOOR = 1e-9;

const freshState = (damping: number): NewtonState => ({ damping, lastDamping: damping, gradientEvaluations: 0, rejected: 0 });

function validate(options: Partial<NewtonOptions>): NewtonOptions {
  const owner = 'newton';
  v.knownKeys(owner, options, ['damping', 'maxParams', 'lr']);
  const o = { ...NEWTON_DEFAULTS, ...options };
  return {
    damping: v.nonNegative(owner, 'damping', o.damping),
    maxParams: v.integer(owner, 'maxParams', o.maxParams),
    lr: v.positive(owner, 'learning rate', o.lr),
  };
}

const count = (n: number): string => n.toLocaleString('en-US');
/** 10.4 G, 25 M, 12.5 k. */
function short(n: number): string {
  for (const [scale, unit] of [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']] as const) {
    if (n >= scale) return `${Number((n / scale).toPrecision(3))} ${unit}`;
  }
  return String(n);
}

function checkSize(n: number, maxParams: number): void {
  if (n <= maxParams) return;
  throw new ArgumentError(
    `newton: the model has ${count(n)} parameters, above maxParams ${count(maxParams)}: the Hessian would be ` +
      `${count(n)}² = ${short(n * n)} entries (${fmtBytes(8 * n * n)} in float64) and each step ${count(2 * n + 2)} gradient evaluations; ` +
      'use lbfgs for large models, or raise maxParams',
  );
}

// ---------------------------------------------------------------- closure and flat vectors

/** Zeroes the gradients, calls the closure, returns the loss as a number. */
function evaluate(params: readonly Tensor[], closure: Closure): number {
  for (const p of params) p.zeroGrad();
  return scope(() => {
    const l = closure();
    if (typeof l === 'number') return l;
    if (l instanceof Tensor) return l.item();
    throw new ArgumentError(`newton: the closure must return the loss (a number or a one-element tensor), got ${String(l)}`);
  });
}

/** The gradients into `out` (zeros where a parameter has none). */
function gather(params: readonly Tensor[], out: Float64Array): Float64Array {
  let off = 0;
  for (const p of params) {
    if (p.grad === null) out.fill(0, off, off + p.size);
    else out.set(p.grad.view(), off);
    off += p.size;
  }
  return out;
}

/** The parameters as float32 values (an exact copy to restore from). */
function saveParams(params: readonly Tensor[], n: number): Float32Array {
  const out = new Float32Array(n);
  let off = 0;
  for (const p of params) {
    out.set(p.view(), off);
    off += p.size;
  }
  return out;
}

function loadParams(params: readonly Tensor[], x: Float32Array): void {
  let off = 0;
  for (const p of params) {
    p.view().set(x.subarray(off, off + p.size));
    off += p.size;
  }
}

function finiteIndex(x: Float64Array): number {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) return i;
  return -1;
}

/** What {@link hessian} measures at the current parameters. */
export interface HessianEstimate {
  /** The loss at the current parameters. */
  loss: number;
  /** ∇L, flat (parameters in order, each row-major). */
  gradient: Float64Array;
  /** The symmetrized finite-difference Hessian, n×n row-major. */
  hessian: Float64Array;
  /** Closure calls made: 2n + 1. */
  evaluations: number;
}

/**
 * The Hessian of the closure's loss at the current parameters, by central differences of
 * gradients along each coordinate (what {@link Newton} builds each step), with steps
 * relativeStep·max(1, |wᵢ|) (default {@link HESSIAN_STEP}); refuses more than maxParams
 * parameters (default 5000). The parameters are left exactly as they were (saved float32
 * values are copied back, not h added and taken away).
 *
 * @example
 * const { hessian: H, gradient } = hessian([w, b], () => { const l = loss(); l.backward(); return l; });
 */
export function hessian(params: readonly Tensor[], closure: Closure, options: { relativeStep?: number; maxParams?: number } = {}): HessianEstimate {
  const rel = v.positive('hessian', 'relativeStep', options.relativeStep ?? HESSIAN_STEP);
  const n = params.reduce((s, p) => s + p.size, 0);
  checkSize(n, v.integer('hessian', 'maxParams', options.maxParams ?? NEWTON_DEFAULTS.maxParams));
  const loss = evaluate(params, closure);
  const gradient = gather(params, new Float64Array(n));
  return { loss, gradient, hessian: differences(params, closure, n, rel), evaluations: 2 * n + 1 };
}

/** The Hessian columns by central differences (2n closure calls), symmetrized; the parameters are restored exactly. */
function differences(params: readonly Tensor[], closure: Closure, n: number, rel: number): Float64Array {
  const H = new Float64Array(n * n);
  const saved = saveParams(params, n);
  const plus = new Float64Array(n), minus = new Float64Array(n);
  let i = 0;
  try {
    for (const p of params) {
      for (let j = 0; j < p.size; j++, i++) {
        const w = saved[i];
        const h = rel * Math.max(1, Math.abs(w));
        // The steps float32 can take: fl(w ± h) − w, not h (w = 3.7, h = 1e-3 moves by 0.00099993).
        const wp = Math.fround(w + h), wm = Math.fround(w - h);
        p.view()[j] = wp;
        evaluate(params, closure);
        gather(params, plus);
        p.view()[j] = wm;
        evaluate(params, closure);
        gather(params, minus);
        p.view()[j] = w;
        const inv = 1 / (wp - wm);
        for (let r = 0; r < n; r++) H[r * n + i] = (plus[r] - minus[r]) * inv;
      }
    }
  } finally {
    loadParams(params, saved);
  }
  for (let r = 0; r < n; r++) {
    for (let c = r + 1; c < n; c++) {
      const s = 0.5 * (H[r * n + c] + H[c * n + r]);
      H[r * n + c] = s;
      H[c * n + r] = s;
    }
  }
  return H;
}

/**
 * Cholesky factorization of the lower triangle of A (n×n row-major, diagonal + λ) into L, in
 * place; the upper triangle is not touched. False when a pivot is not positive.
 */
function cholesky(A: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = A[rj + j];
    for (let k = 0; k < j; k++) d -= A[rj + k] * A[rj + k];
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    A[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = A[ri + j];
      for (let k = 0; k < j; k++) s -= A[ri + k] * A[rj + k];
      A[ri + j] = s / ljj;
    }
  }
  return true;
}

/** Solves L·Lᵀ·x = b with L in the lower triangle of A. */
function choleskySolve(A: Float64Array, n: number, b: Float64Array): Float64Array {
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = x[i];
    for (let k = 0; k < i; k++) s -= A[ri + k] * x[k];
    x[i] = s / A[ri + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i];
    for (let k = i + 1; k < n; k++) s -= A[k * n + i] * x[k];
    x[i] = s / A[i * n + i];
  }
  return x;
}

// ---------------------------------------------------------------- the optimizer

/**
 * Newton's method with Levenberg–Marquardt damping over one group of parameters, for small
 * models. Each step() calls `closure` 2n + 2 times (it zeroes the gradients before each call):
 * once at the parameters, twice per parameter for the Hessian, once at the trial point, and
 * once more for each retry after a trial that raised the loss (at most 10 trials).
 *
 * @example
 * const opt = new Newton([w, b], { damping: 1e-3 });
 * for (let i = 0; i < 10; i++) opt.step(() => { const l = loss(); l.backward(); return l; });
 * console.log(opt.steps, opt.gradientEvaluations, opt.lastDamping);
 */
export class Newton {
  readonly kind = 'optimizer' as const;
  readonly name = 'newton';
  readonly options: Readonly<NewtonOptions>;
  #params: Tensor[] = [];
  #n = 0;
  #state: NewtonState;
  #steps = 0;
  #disposed = false;

  constructor(options?: Partial<NewtonOptions>);
  constructor(params: readonly Tensor[] | undefined, options?: Partial<NewtonOptions>);
  constructor(a?: readonly Tensor[] | Partial<NewtonOptions>, b?: Partial<NewtonOptions>) {
    const params = Array.isArray(a) ? (a as readonly Tensor[]) : undefined;
    this.options = Object.freeze(validate(Array.isArray(a) || a === undefined ? (b ?? {}) : (a as Partial<NewtonOptions>)));
    this.#state = freshState(this.options.damping);
    if (params !== undefined && params.length > 0) this.addParamGroup(params);
  }

  /** The parameters (one group; set it here when constructed without). Refuses more than maxParams. */
  addParamGroup(group: readonly Tensor[] | { params: readonly Tensor[] }): this {
    const params = Array.isArray(group) ? (group as readonly Tensor[]) : (group as { params: readonly Tensor[] }).params;
    if (this.#params.length > 0) throw new ArgumentError('newton: Newton works on one parameter group; it already has one');
    if (!Array.isArray(params)) throw new ArgumentError('newton: params must be an array of tensors');
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new ArgumentError(`newton: params[${i}] is not a Tensor`);
    });
    if (new Set(params).size !== params.length) throw new ArgumentError('newton: a tensor appears twice in params');
    const n = params.reduce((s, p) => s + p.size, 0);
    checkSize(n, this.options.maxParams);
    this.#params = params.slice();
    this.#n = n;
    return this;
  }

  get params(): readonly Tensor[] {
    return this.#params;
  }

  /** λ, evaluations and rejected steps (read-only view). */
  get state(): Readonly<NewtonState> {
    return this.#state;
  }

  get steps(): number {
    return this.#steps;
  }

  /** λ the last step's last trial solved (H + λI)·d = −g with. */
  get lastDamping(): number {
    return this.#state.lastDamping;
  }

  /** λ the next step starts from. */
  get damping(): number {
    return this.#state.damping;
  }

  /** Closure calls so far (each a loss and a gradient): 2n + 2 per step, + 1 per retried trial. */
  get gradientEvaluations(): number {
    return this.#state.gradientEvaluations;
  }

  getConfig(): Record<string, unknown> {
    return { ...this.options };
  }

  zeroGrad(): void {
    for (const p of this.#params) p.zeroGrad();
  }

  /** One damped Newton step (the parameters stay put when no trial lowers the loss); returns the loss before it. */
  step(closure: Closure): number {
    if (this.#disposed) throw new ArgumentError('newton: this optimizer was disposed');
    if (typeof closure !== 'function') throw new ArgumentError('newton: step() needs a closure that computes the loss, calls backward() and returns the loss');
    if (this.#params.length === 0) throw new ArgumentError('newton: no parameters — pass them to the constructor or addParamGroup()');
    const n = this.#n;
    checkSize(n, this.options.maxParams);
    const st = this.#state;
    const params = this.#params;
    const loss = evaluate(params, closure);
    const g = gather(params, new Float64Array(n));
    st.gradientEvaluations++;
    if (!Number.isFinite(loss)) throw new ArgumentError(`newton: the loss at the current parameters is ${loss}`);
    const badG = finiteIndex(g);
    if (badG >= 0) throw new ArgumentError(`newton: the gradient is not finite (NaN or ±Infinity) at parameter ${badG}`);
    if (g.every((x) => x === 0)) {
      st.lastDamping = st.damping;
      this.#steps++;
      return loss;
    }
    const H = differences(params, closure, n, HESSIAN_STEP);
    st.gradientEvaluations += 2 * n;
    const badH = finiteIndex(H);
    if (badH >= 0) throw new ArgumentError(`newton: the Hessian is not finite (NaN or ±Infinity) in column ${badH % n}: the gradient is not finite near those parameters`);

    // H keeps its upper triangle and (in diag) its diagonal; each Cholesky try overwrites the lower.
    const diag = new Float64Array(n);
    let norm = 0, gershgorin = 0;
    for (let i = 0; i < n; i++) {
      diag[i] = H[i * n + i];
      let off = 0;
      for (let j = 0; j < n; j++) if (j !== i) off += Math.abs(H[i * n + j]);
      norm = Math.max(norm, off + Math.abs(diag[i]));
      gershgorin = Math.max(gershgorin, off - diag[i]);
    }
    // From λ = 0, a raise starts at `start`; at λ ≥ `sure`, H + λI is strictly diagonally
    // dominant (Gershgorin), so positive definite: the ×10 search stops there.
    const start = Math.max(1e-6 * norm, DAMPING_FLOOR);
    const sure = Math.max(gershgorin, 0) + start;
    /** Factors H + λI into the lower triangle, raising λ ×10 while it is not positive definite. */
    const factor = (lambda: number): number => {
      for (;;) {
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < i; j++) H[i * n + j] = H[j * n + i];
          H[i * n + i] = diag[i] + lambda;
        }
        if (cholesky(H, n)) return lambda;
        if (lambda >= sure) throw new ArgumentError(`newton: (H + λI) is not positive definite even at λ = ${lambda}`);
        lambda = Math.min(Math.max(lambda * RAISE_INDEFINITE, start), sure);
      }
    };
    const raise = (lambda: number, by: number): number => (lambda > 0 ? Math.max(lambda * by, start) : start);
    const negG = g.map((x) => -x);
    const lr = this.options.lr;
    const saved = saveParams(params, n);
    const trial = new Float32Array(n);
    let lambda = st.damping;
    // Marquardt's loop: a trial that raises the loss is undone and retried with more damping,
    // on the same Hessian (one closure call per retry, not 2n + 2).
    for (let tries = 1; ; tries++) {
      lambda = factor(lambda);
      const d = choleskySolve(H, n, negG);
      // Predicted reduction of the quadratic model at the step lr·d: −(gᵀs + ½ sᵀHs).
      let gd = 0, dHd = 0;
      for (let i = 0; i < n; i++) {
        gd += g[i] * d[i];
        let row = 0;
        for (let j = i + 1; j < n; j++) row += H[i * n + j] * d[j];
        dHd += d[i] * (diag[i] * d[i] + 2 * row);
      }
      const predicted = -(lr * gd + 0.5 * lr * lr * dHd);
      for (let i = 0; i < n; i++) trial[i] = saved[i] + lr * d[i];
      loadParams(params, trial);
      const newLoss = evaluate(params, closure);
      st.gradientEvaluations++;
      st.lastDamping = lambda;
      const rho = predicted > 0 ? (loss - newLoss) / predicted : -Infinity;
      if (newLoss <= loss) {
        if (!(rho >= 0.25)) lambda = raise(lambda, RAISE);
        else if (rho > 0.75) lambda = Math.max(lambda / LOWER, Math.min(DAMPING_FLOOR, this.options.damping));
        break;
      }
      loadParams(params, saved);
      st.rejected++;
      lambda = raise(lambda, RAISE_REJECTED);
      if (tries === MAX_TRIES) break;
    }
    st.damping = lambda;
    this.zeroGrad();
    this.#steps++;
    return loss;
  }

  /** The state for a checkpoint (same format as Optimizer.stateDict()). */
  stateDict(options: SaveOptions = {}): OptimizerStateDict {
    return singleGroupStateDict('newton', this.#steps, this.#params, this.#state as TransformState, options);
  }

  /** Restores a state dict saved from a Newton optimizer over parameters of the same shapes. */
  loadStateDict(dict: OptimizerStateDict): void {
    const where = 'newton.loadStateDict';
    const s = singleGroupSavedState(dict, 'newton', 'a Newton', this.#params);
    const num = (key: string, min: number): number => {
      const x = s?.[key];
      if (typeof x !== 'number' || !Number.isFinite(x) || x < min) throw new ArgumentError(`${where}: ${key} should be a finite number ≥ ${min}, got ${String(x)}`);
      return x;
    };
    const next: NewtonState = { damping: num('damping', 0), lastDamping: num('lastDamping', 0), gradientEvaluations: num('gradientEvaluations', 0), rejected: num('rejected', 0) };
    const steps = dict.steps;
    if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 0) throw new ArgumentError(`${where}: steps should be an integer ≥ 0, got ${String(steps)}`);
    this.#state = next;
    this.#steps = steps;
  }

  /** Marks it disposed (its state is numbers only; the parameters are not touched). */
  dispose(): void {
    this.#state = freshState(this.options.damping);
    this.#disposed = true;
  }
}
