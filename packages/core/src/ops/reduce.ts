// Reductions along axes: sum, mean, max, min. A contiguous run of axes is one kernel call
// (x viewed as [outer, r, inner]); other sets reduce one run at a time.
import { Reduce, Unary } from '../kernels.js';
import { Tensor, empty, record, sameShape, sizeOf } from '../tensor.js';
import { broadcastTo, reshape } from './shape.js';
import { normAxes } from './util.js';
import { eq, mul } from './elementwise.js';

export interface ReduceOptions {
  /** Keep reduced axes as size 1 (default false). */
  keepDims?: boolean;
}

function reduceRaw(op: Reduce, x: Tensor, axes: readonly number[]): Tensor {
  // Reduce from the last run of contiguous axes backwards; shape keeps size-1 dims.
  let cur = x;
  let shape = x.shape.slice();
  let i = axes.length - 1;
  while (i >= 0) {
    let j = i;
    while (j > 0 && axes[j - 1] === axes[j] - 1) j--;
    const first = axes[j];
    const last = axes[i];
    const outer = sizeOf(shape.slice(0, first));
    const r = sizeOf(shape.slice(first, last + 1));
    const inner = sizeOf(shape.slice(last + 1));
    shape = shape.map((d, k) => (k >= first && k <= last ? 1 : d));
    const out = empty(shape);
    if (r === 0) out.engine.kernels.fill(out.ptr, out.size, op === Reduce.Sum ? 0 : NaN);
    else out.engine.kernels.reduce(op, cur.ptr, out.ptr, outer, r, inner);
    if (cur !== x) cur.dispose();
    cur = out;
    i = j - 1;
  }
  return cur === x ? x.share(x.shape) : cur;
}

function finish(x: Tensor, kept: Tensor, axes: readonly number[], keepDims: boolean | undefined): Tensor {
  return keepDims ? kept : reshape(kept, x.shape.filter((_, i) => !axes.includes(i)));
}

/** Sum over `axes` (default: all). */
export function sum(x: Tensor, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  const ax = normAxes('sum', axes, x.rank);
  const kept = reduceRaw(Reduce.Sum, x, ax);
  record('sum', kept, [x], (g) => [broadcastTo(g, x.shape)]);
  return finish(x, kept, ax, options.keepDims);
}

/** Mean over `axes` (default: all). */
export function mean(x: Tensor, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  const ax = normAxes('mean', axes, x.rank);
  const count = ax.reduce((n, a) => n * x.shape[a], 1);
  const kept = reduceRaw(Reduce.Sum, x, ax);
  kept.engine.kernels.unary(Unary.Scale, kept.ptr, kept.ptr, kept.size, 1 / count);
  record('mean', kept, [x], (g) => {
    const spread = broadcastTo(g, x.shape);
    const dx = empty(x.shape);
    dx.engine.kernels.unary(Unary.Scale, spread.ptr, dx.ptr, dx.size, 1 / count);
    return [dx];
  });
  return finish(x, kept, ax, options.keepDims);
}

function extremum(op: Reduce.Max | Reduce.Min, name: string, x: Tensor, axes: number | readonly number[] | undefined, options: ReduceOptions): Tensor {
  const ax = normAxes(name, axes, x.rank);
  const kept = reduceRaw(op, x, ax);
  // The gradient goes to every element equal to the extremum (as in TF.js).
  record(name, kept, [x], (g) => [mul(eq(x, kept), g)]);
  return finish(x, kept, ax, options.keepDims);
}

/** Maximum over `axes` (default: all); ties all receive the gradient. */
export function max(x: Tensor, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  return extremum(Reduce.Max, 'max', x, axes, options);
}

/** Minimum over `axes` (default: all); ties all receive the gradient. */
export function min(x: Tensor, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  return extremum(Reduce.Min, 'min', x, axes, options);
}

/** Sums g over the dimensions that broadcasting expanded, back to `shape`. */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const offset = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < offset || (shape[i - offset] === 1 && g.shape[i] !== 1)) axes.push(i);
  return reshape(sum(g, axes, { keepDims: true }), shape);
}
