// L-BFGS (Nocedal 1980; Liu & Nocedal 1989) for full-batch problems, after
// torch/optim/lbfgs.py (itself after Schmidt's minFunc): two-loop recursion over the last
// `historySize` curvature pairs, and a strong-Wolfe (Nocedal & Wright, alg. 3.5–3.6, cubic
// interpolation) or backtracking (Armijo) line search. It is not a gradient transform: a
// line search evaluates the function again, so step() takes a closure.
//
// Parameters are handled as one flat vector; vector work is kernel calls (dot in f64,
// axpby), scalars are JS doubles.
import { ArgumentError, Tensor, abs, empty, keep, max, scope, sum, tensor } from '@minibatch/core';
import type { OptimizerStateDict } from './optimizer.js';
import { type SaveOptions, type TransformState, disposeState, singleGroupSavedState, singleGroupStateDict } from './state.js';
import * as v from './validate.js';

/** Evaluates the loss at the current parameters and sets their gradients (backward()). */
export type Closure = () => number | Tensor;

export interface LBFGSOptions {
  /** Step length of each iteration before the line search (default 1). */
  lr: number;
  /** Iterations per step() (default 20). */
  maxIter: number;
  /** Function evaluations per step() (default ⌊1.25 · maxIter⌋). */
  maxEval?: number;
  /** Stop when max |gradient| falls to this (default 1e-7). */
  toleranceGrad: number;
  /** Stop when the loss or the step changes less than this (default 1e-9). */
  toleranceChange: number;
  /** Curvature pairs kept, the m of L-BFGS (default 10). */
  historySize: number;
  /** 'strongWolfe' (default), 'backtracking' (Armijo, halving) or 'none' (fixed step lr). */
  lineSearch: 'strongWolfe' | 'backtracking' | 'none';
}

export const LBFGS_DEFAULTS: Readonly<LBFGSOptions> = Object.freeze({
  lr: 1, maxIter: 20, toleranceGrad: 1e-7, toleranceChange: 1e-9, historySize: 10, lineSearch: 'strongWolfe',
});

/** The state carried between steps (and into checkpoints). */
export type LBFGSState = {
  funcEvals: number;
  nIter: number;
  t: number;
  hDiag: number;
  prevLoss: number | null;
  d: Tensor | null;
  prevFlatGrad: Tensor | null;
  /** y vectors (gradient differences), oldest first. */
  oldDirs: Tensor[];
  /** s vectors (steps), oldest first. */
  oldStps: Tensor[];
  ro: number[];
};

const freshState = (): LBFGSState => ({ funcEvals: 0, nIter: 0, t: 0, hDiag: 1, prevLoss: null, d: null, prevFlatGrad: null, oldDirs: [], oldStps: [], ro: [] });

function validate(options: Partial<LBFGSOptions>): LBFGSOptions {
  const owner = 'lbfgs';
  v.knownKeys(owner, options, ['lr', 'maxIter', 'maxEval', 'toleranceGrad', 'toleranceChange', 'historySize', 'lineSearch']);
  const o = { ...LBFGS_DEFAULTS, ...options };
  const maxIter = v.integer(owner, 'maxIter', o.maxIter);
  return {
    lr: v.positive(owner, 'learning rate', o.lr),
    maxIter,
    maxEval: v.integer(owner, 'maxEval', o.maxEval ?? Math.floor((maxIter * 5) / 4)),
    toleranceGrad: v.nonNegative(owner, 'toleranceGrad', o.toleranceGrad),
    toleranceChange: v.nonNegative(owner, 'toleranceChange', o.toleranceChange),
    historySize: v.integer(owner, 'historySize', o.historySize),
    lineSearch: v.oneOf(owner, 'lineSearch', o.lineSearch, ['strongWolfe', 'backtracking', 'none'] as const),
  };
}

// ---------------------------------------------------------------- flat vector helpers

const dot = (a: Tensor, b: Tensor): number => a.engine.kernels.dotF64(a.size, a.ptr, b.ptr);
const absMax = (a: Tensor): number => (a.size === 0 ? 0 : max(abs(a)).item());
const absSum = (a: Tensor): number => sum(abs(a)).item();
/** alpha·x + beta·y as a new vector. */
function lin(alpha: number, x: Tensor, beta: number, y: Tensor): Tensor {
  const out = empty(x.shape);
  out.engine.kernels.axpby(x.size, alpha, x.ptr, beta, y.ptr, out.ptr);
  return out;
}
/** y += alpha·x in place. */
const axpy = (alpha: number, x: Tensor, y: Tensor): void => y.engine.kernels.axpby(x.size, alpha, x.ptr, 1, y.ptr, y.ptr);
function copy(x: Tensor): Tensor {
  const out = empty(x.shape);
  out.view().set(x.view());
  return out;
}

/** Minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to the bounds (torch _cubic_interpolate). */
function cubicInterpolate(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: [number, number]): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2sq = d1 * d1 - g1 * g2;
  if (d2sq >= 0) {
    const d2 = Math.sqrt(d2sq);
    const pos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)) : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return Math.min(Math.max(pos, lo), hi);
  }
  return (lo + hi) / 2;
}

type Objective = (t: number) => [number, Tensor];

/**
 * Strong-Wolfe line search (torch _strong_wolfe): bracket a step satisfying
 * f(t) ≤ f + c1·t·gtd and |g(t)·d| ≤ −c2·gtd, then zoom in by cubic interpolation.
 */
function strongWolfe(obj: Objective, t: number, d: Tensor, f: number, g: Tensor, gtd: number, toleranceChange: number,
  c1 = 1e-4, c2 = 0.9, maxLs = 25): [number, Tensor, number, number] {
  const dNorm = absMax(d);
  let [fNew, gNew] = obj(t);
  let evals = 1;
  let gtdNew = dot(gNew, d);
  let tPrev = 0, fPrev = f, gPrev = g, gtdPrev = gtd;
  let done = false;
  let lsIter = 0;
  let bracket: number[] = [], bf: number[] = [], bg: Tensor[] = [], bgtd: number[] = [];
  while (lsIter < maxLs) {
    if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev)) {
      [bracket, bf, bg, bgtd] = [[tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew]];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      [bracket, bf, bg, bgtd] = [[t], [fNew], [gNew], [gtdNew]];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      [bracket, bf, bg, bgtd] = [[tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew]];
      break;
    }
    const minStep = t + 0.01 * (t - tPrev);
    const maxStep = t * 10;
    const tmp = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    [tPrev, fPrev, gPrev, gtdPrev] = [tmp, fNew, gNew, gtdNew];
    [fNew, gNew] = obj(t);
    evals++;
    gtdNew = dot(gNew, d);
    lsIter++;
  }
  if (lsIter === maxLs) [bracket, bf, bg, bgtd] = [[0, t], [f, fNew], [g, gNew], [gtd, gtdNew]];

  // Zoom: shrink the bracket around a point satisfying both conditions.
  let insufficient = false;
  let [low, high] = bf[0] <= bf[bf.length - 1] ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    if (Math.abs(bracket[1] - bracket[0]) * dNorm < toleranceChange) break;
    t = cubicInterpolate(bracket[0], bf[0], bgtd[0], bracket[1], bf[1], bgtd[1]);
    // Too close to an end twice in a row (or outside): move 10% of the bracket inwards.
    const bMax = Math.max(...bracket), bMin = Math.min(...bracket);
    const eps = 0.1 * (bMax - bMin);
    if (Math.min(bMax - t, t - bMin) < eps) {
      if (insufficient || t >= bMax || t <= bMin) {
        t = Math.abs(t - bMax) < Math.abs(t - bMin) ? bMax - eps : bMin + eps;
        insufficient = false;
      } else insufficient = true;
    } else insufficient = false;
    [fNew, gNew] = obj(t);
    evals++;
    gtdNew = dot(gNew, d);
    lsIter++;
    if (fNew > f + c1 * t * gtd || fNew >= bf[low]) {
      [bracket[high], bf[high], bg[high], bgtd[high]] = [t, fNew, gNew, gtdNew];
      [low, high] = bf[0] <= bf[1] ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) done = true;
      else if (gtdNew * (bracket[high] - bracket[low]) >= 0) {
        [bracket[high], bf[high], bg[high], bgtd[high]] = [bracket[low], bf[low], bg[low], bgtd[low]];
      }
      [bracket[low], bf[low], bg[low], bgtd[low]] = [t, fNew, gNew, gtdNew];
    }
  }
  return [bf[low], bg[low], bracket[low], evals];
}

// ---------------------------------------------------------------- the optimizer

/**
 * L-BFGS over one group of parameters. Each step() runs up to maxIter iterations, calling
 * `closure` to evaluate the loss and its gradients (it zeroes the gradients before each call).
 *
 * @example
 * const opt = new LBFGS([x], { historySize: 10, lineSearch: 'strongWolfe', maxIter: 100 });
 * opt.step(() => { const loss = rosenbrock(x); loss.backward(); return loss; });
 */
export class LBFGS {
  readonly kind = 'optimizer' as const;
  readonly name = 'lbfgs';
  readonly options: Readonly<LBFGSOptions>;
  #params: Tensor[] = [];
  #n = 0;
  #state: LBFGSState = freshState();
  #steps = 0;
  #disposed = false;

  constructor(options?: Partial<LBFGSOptions>);
  constructor(params: readonly Tensor[] | undefined, options?: Partial<LBFGSOptions>);
  constructor(a?: readonly Tensor[] | Partial<LBFGSOptions>, b?: Partial<LBFGSOptions>) {
    const params = Array.isArray(a) ? (a as readonly Tensor[]) : undefined;
    this.options = Object.freeze(validate(Array.isArray(a) || a === undefined ? (b ?? {}) : (a as Partial<LBFGSOptions>)));
    if (params !== undefined && params.length > 0) this.addParamGroup(params);
  }

  /** The parameters (L-BFGS has one group; set it here when constructed without). */
  addParamGroup(group: readonly Tensor[] | { params: readonly Tensor[] }): this {
    const params = Array.isArray(group) ? (group as readonly Tensor[]) : (group as { params: readonly Tensor[] }).params;
    if (this.#params.length > 0) throw new ArgumentError('lbfgs: L-BFGS works on one parameter group (as in PyTorch); it already has one');
    if (!Array.isArray(params)) throw new ArgumentError('lbfgs: params must be an array of tensors');
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new ArgumentError(`lbfgs: params[${i}] is not a Tensor`);
    });
    if (new Set(params).size !== params.length) throw new ArgumentError('lbfgs: a tensor appears twice in params');
    this.#params = params.slice();
    this.#n = params.reduce((s, p) => s + p.size, 0);
    return this;
  }

  get params(): readonly Tensor[] {
    return this.#params;
  }

  /** Iterations and function evaluations so far, and the other state (read-only view). */
  get state(): Readonly<LBFGSState> {
    return this.#state;
  }

  get steps(): number {
    return this.#steps;
  }

  getConfig(): Record<string, unknown> {
    return { ...this.options };
  }

  zeroGrad(): void {
    for (const p of this.#params) p.zeroGrad();
  }

  /** Runs up to maxIter iterations; returns the loss before them (as torch does). */
  step(closure: Closure): number {
    if (this.#disposed) throw new ArgumentError('lbfgs: this optimizer was disposed');
    if (typeof closure !== 'function') throw new ArgumentError('lbfgs: step() needs a closure that computes the loss, calls backward() and returns the loss');
    if (this.#params.length === 0) throw new ArgumentError('lbfgs: no parameters — pass them to the constructor or addParamGroup()');
    const o = this.options;
    const st = this.#state;
    const result = scope(() => {
      const origLoss = this.#evaluate(closure);
      let loss = origLoss;
      let currentEvals = 1;
      st.funcEvals++;
      let g = this.#gather();
      if (absMax(g) <= o.toleranceGrad) return origLoss;
      let d = st.d, prevG = st.prevFlatGrad, t = st.t, hDiag = st.hDiag, prevLoss = st.prevLoss;
      let nIter = 0;
      while (nIter < o.maxIter) {
        nIter++;
        st.nIter++;
        if (st.nIter === 1) {
          d = lin(-1, g, 0, g);
          hDiag = 1;
        } else {
          // Update the history with the newest curvature pair (skipped when y·s is not positive).
          const y = lin(1, g, -1, prevG!);
          const s = lin(t, d!, 0, d!);
          const ys = dot(y, s);
          if (ys > 1e-10) {
            if (st.oldDirs.length === o.historySize) {
              st.oldDirs.shift()!.dispose();
              st.oldStps.shift()!.dispose();
              st.ro.shift();
            }
            st.oldDirs.push(keep(y));
            st.oldStps.push(keep(s));
            st.ro.push(1 / ys);
            hDiag = ys / dot(y, y);
          } else {
            y.dispose(); // freed now, so the peak memory of a step does not depend on how many pairs were skipped
            s.dispose();
          }
          // Two-loop recursion: d = −H·g with H the L-BFGS inverse-Hessian estimate.
          const k = st.oldDirs.length;
          const al = new Array<number>(k);
          const q = lin(-1, g, 0, g);
          for (let i = k - 1; i >= 0; i--) {
            al[i] = dot(st.oldStps[i], q) * st.ro[i];
            axpy(-al[i], st.oldDirs[i], q);
          }
          const r = lin(hDiag, q, 0, q);
          for (let i = 0; i < k; i++) {
            const be = dot(st.oldDirs[i], r) * st.ro[i];
            axpy(al[i] - be, st.oldStps[i], r);
          }
          d = r;
        }
        prevG = copy(g);
        prevLoss = loss;
        t = st.nIter === 1 ? Math.min(1, 1 / absSum(g)) * o.lr : o.lr;
        const gtd = dot(g, d!);
        if (gtd > -o.toleranceChange) break;
        let lsEvals = 0;
        let optCond = false;
        if (o.lineSearch === 'strongWolfe') {
          const x0 = this.#flatParams();
          const dir = d!;
          const obj: Objective = (tt) => {
            this.#setParams(x0);
            this.#addScaled(tt, dir);
            const f = this.#evaluate(closure);
            return [f, this.#gather()];
          };
          [loss, g, t, lsEvals] = strongWolfe(obj, t, dir, loss, g, gtd, o.toleranceChange);
          this.#setParams(x0);
          this.#addScaled(t, dir);
          optCond = absMax(g) <= o.toleranceGrad;
        } else if (o.lineSearch === 'backtracking') {
          // Armijo backtracking: halve t until f(x + t·d) ≤ f + 1e-4·t·gtd (Nocedal & Wright, alg. 3.1).
          const x0 = this.#flatParams();
          let f = loss;
          for (;;) {
            this.#setParams(x0);
            this.#addScaled(t, d!);
            f = this.#evaluate(closure);
            lsEvals++;
            if (f <= loss + 1e-4 * t * gtd || lsEvals >= 25) break;
            t *= 0.5;
          }
          loss = f;
          g = this.#gather();
          optCond = absMax(g) <= o.toleranceGrad;
        } else {
          this.#addScaled(t, d!);
          if (nIter !== o.maxIter) {
            loss = this.#evaluate(closure);
            g = this.#gather();
            optCond = absMax(g) <= o.toleranceGrad;
            lsEvals = 1;
          }
        }
        currentEvals += lsEvals;
        st.funcEvals += lsEvals;
        if (nIter === o.maxIter || currentEvals >= o.maxEval! || optCond) break;
        if (absMax(d!) * Math.abs(t) <= o.toleranceChange) break;
        if (Math.abs(loss - prevLoss) < o.toleranceChange) break;
      }
      // Keep what the next step needs; free what it replaces.
      if (d !== st.d) {
        st.d?.dispose();
        st.d = d === null ? null : keep(d);
      }
      if (prevG !== st.prevFlatGrad) {
        st.prevFlatGrad?.dispose();
        st.prevFlatGrad = prevG === null ? null : keep(prevG);
      }
      Object.assign(st, { t, hDiag, prevLoss });
      return origLoss;
    });
    this.#steps++;
    return result;
  }

  /** The state for a checkpoint (same format as Optimizer.stateDict()). */
  stateDict(options: SaveOptions = {}): OptimizerStateDict {
    return singleGroupStateDict('lbfgs', this.#steps, this.#params, this.#state as TransformState, options);
  }

  /** Restores a state dict saved from an L-BFGS over parameters of the same shapes. */
  loadStateDict(dict: OptimizerStateDict): void {
    const where = 'lbfgs.loadStateDict';
    const s = singleGroupSavedState(dict, 'lbfgs', 'an L-BFGS', this.#params);
    const n = this.#n;
    const vec = (x: unknown, path: string): Tensor => {
      const r = x as { dtype?: unknown; shape?: unknown; data?: unknown };
      if (r?.dtype !== 'float32' || !Array.isArray(r.shape) || r.shape.length !== 1 || r.shape[0] !== n) {
        throw new ArgumentError(`${where}: ${path} should be a saved float32 vector of ${n} values`);
      }
      if (!(r.data instanceof Float32Array) && !Array.isArray(r.data)) throw new ArgumentError(`${where}: ${path}.data should be a Float32Array or number[]`);
      return keep(tensor(r.data as ArrayLike<number>, [n]));
    };
    const num = (x: unknown, path: string): number => {
      if (typeof x !== 'number') throw new ArgumentError(`${where}: ${path} should be a number, got ${String(x)}`);
      return x;
    };
    const lists = ['oldDirs', 'oldStps', 'ro'].map((k) => s?.[k]);
    if (!lists.every(Array.isArray) || new Set(lists.map((l) => (l as unknown[]).length)).size !== 1) {
      throw new ArgumentError(`${where}: oldDirs, oldStps and ro should be arrays of one length`);
    }
    const made: Tensor[] = [];
    try {
      const next: LBFGSState = {
        funcEvals: num(s.funcEvals, 'funcEvals'),
        nIter: num(s.nIter, 'nIter'),
        t: num(s.t, 't'),
        hDiag: num(s.hDiag, 'hDiag'),
        prevLoss: s.prevLoss === null ? null : num(s.prevLoss, 'prevLoss'),
        ro: (s.ro as unknown[]).map((x, i) => num(x, `ro[${i}]`)),
        d: null,
        prevFlatGrad: null,
        oldDirs: [],
        oldStps: [],
      };
      const take = (t: Tensor): Tensor => (made.push(t), t);
      next.d = s.d === null ? null : take(vec(s.d, 'd'));
      next.prevFlatGrad = s.prevFlatGrad === null ? null : take(vec(s.prevFlatGrad, 'prevFlatGrad'));
      next.oldDirs = (s.oldDirs as unknown[]).map((x, i) => take(vec(x, `oldDirs[${i}]`)));
      next.oldStps = (s.oldStps as unknown[]).map((x, i) => take(vec(x, `oldStps[${i}]`)));
      disposeState(this.#state as TransformState);
      this.#state = next;
      this.#steps = num(dict.steps, 'steps');
    } catch (e) {
      for (const t of made) t.dispose();
      throw e;
    }
  }

  /** Frees the history (not the parameters). */
  dispose(): void {
    disposeState(this.#state as TransformState);
    this.#state = freshState();
    this.#disposed = true;
  }

  #evaluate(closure: Closure): number {
    this.zeroGrad();
    return scope(() => {
      const l = closure();
      if (typeof l === 'number') return l;
      if (l instanceof Tensor) return l.item();
      throw new ArgumentError(`lbfgs: the closure must return the loss (a number or a one-element tensor), got ${String(l)}`);
    });
  }

  /** The gradients as one flat vector (zeros where a parameter has none). */
  #gather(): Tensor {
    const out = empty([this.#n]);
    let off = 0;
    for (const p of this.#params) {
      if (p.grad === null) out.view().fill(0, off, off + p.size);
      else out.view().set(p.grad.view(), off);
      off += p.size;
    }
    return out;
  }

  #flatParams(): Tensor {
    const out = empty([this.#n]);
    let off = 0;
    for (const p of this.#params) {
      out.view().set(p.view(), off);
      off += p.size;
    }
    return out;
  }

  #setParams(x: Tensor): void {
    let off = 0;
    for (const p of this.#params) {
      p.view().set(x.view().subarray(off, off + p.size));
      off += p.size;
    }
  }

  /** params += t·d. */
  #addScaled(t: number, d: Tensor): void {
    let off = 0;
    for (const p of this.#params) {
      p.engine.kernels.axpby(p.size, t, d.ptr + off * 4, 1, p.ptr, p.ptr);
      off += p.size;
    }
  }
}
