// Movement ops: reshape (a view), broadcastTo, transpose, slice, pad, concat, gather.
// Each keeps its backward next to its forward.
import { ArgumentError, ShapeError, fmtShape } from '../errors.js';
import { Tensor, empty, record, sameShape, sizeOf } from '../tensor.js';
import { sumTo } from './reduce.js';
import { broadcastShape, broadcastStrides, contiguousStrides, mergeDims, normAxis } from './util.js';

/** Same data, new shape (one dimension may be -1). Shares memory with x. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = shape.slice();
  const free = target.indexOf(-1);
  if (free >= 0) {
    const known = sizeOf(target.filter((_, i) => i !== free));
    if (known === 0 || x.size % known !== 0 || target.indexOf(-1, free + 1) >= 0) {
      throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
    }
    target[free] = x.size / known;
  }
  if (target.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(target) !== x.size) {
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
  }
  const out = x.share(target);
  return record('reshape', out, [x], (g) => [reshape(g, x.shape)]);
}

/** Copies src, read through `srcStrides` from element `srcOffset`, into dst's strided region. */
export function stridedCopy(src: Tensor, srcOffset: number, srcStrides: readonly number[], dst: Tensor, dstOffset: number,
  dstStrides: readonly number[], shape: readonly number[], accumulate: boolean): void {
  if (sizeOf(shape) === 0) return;
  const [dims, [ss, ds]] = mergeDims(shape, [srcStrides, dstStrides]);
  const e = dst.engine;
  const [pShape, pSrc, pDst] = e.args(dims, ss, ds);
  e.kernels.stridedCopy(src.ptr + srcOffset * 4, dst.ptr + dstOffset * 4, dims.length, pShape, pSrc, pDst, accumulate ? 1 : 0);
}

/** x repeated along broadcast dimensions to `shape` (numpy rules). */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  const target = broadcastShape('broadcastTo', x.shape, shape);
  if (!sameShape(target, shape)) {
    throw new ShapeError(`broadcastTo: ${fmtShape(x.shape)} cannot be broadcast to ${fmtShape(shape)}`);
  }
  if (sameShape(x.shape, shape)) return x;
  const out = empty(shape);
  stridedCopy(x, 0, broadcastStrides(x.shape, shape), out, 0, contiguousStrides(shape), shape, false);
  return record('broadcastTo', out, [x], (g) => [sumTo(g, x.shape)]);
}

/** Permutes dimensions (default: reversed). */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
    throw new ArgumentError(`transpose: perm [${p.join(', ')}] is not a permutation of the ${x.rank} axes of ${fmtShape(x.shape)}`);
  }
  const shape = p.map((i) => x.shape[i]);
  const strides = contiguousStrides(x.shape);
  const out = empty(shape);
  stridedCopy(x, 0, p.map((i) => strides[i]), out, 0, contiguousStrides(shape), shape, false);
  const inverse = new Array<number>(p.length);
  p.forEach((axis, i) => (inverse[axis] = i));
  return record('transpose', out, [x], (g) => [transpose(g, inverse)]);
}

/** The block starting at `begin` with `size` (-1: to the end) along each axis. */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  if (begin.length !== x.rank || (size !== undefined && size.length !== x.rank)) {
    throw new ArgumentError(`slice: begin and size need ${x.rank} entries for shape ${fmtShape(x.shape)}, got [${begin.join(', ')}]${size ? ` and [${size.join(', ')}]` : ''}`);
  }
  const shape = begin.map((b, i) => {
    const s = size === undefined || size[i] === -1 ? x.shape[i] - b : size[i];
    if (!Number.isInteger(b) || !Number.isInteger(s) || b < 0 || s < 0 || b + s > x.shape[i]) {
      throw new ArgumentError(`slice: axis ${i} of ${fmtShape(x.shape)}: begin ${b} with size ${s} is out of range`);
    }
    return s;
  });
  const strides = contiguousStrides(x.shape);
  const offset = begin.reduce((acc, b, i) => acc + b * strides[i], 0);
  const out = empty(shape);
  stridedCopy(x, offset, strides, out, 0, contiguousStrides(shape), shape, false);
  return record('slice', out, [x], (g) => {
    const dx = empty(x.shape);
    dx.engine.kernels.fill(dx.ptr, dx.size, 0);
    stridedCopy(g, 0, contiguousStrides(shape), dx, offset, strides, shape, false);
    return [dx];
  });
}

/** x surrounded by zeros: `paddings[i]` = [before, after] along axis i (non-negative integers). */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[]): Tensor {
  if (paddings.length !== x.rank || !paddings.every((p) => p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0))) {
    throw new ArgumentError(`pad: needs ${x.rank} pairs [before, after] of non-negative integers for shape ${fmtShape(x.shape)}, got ${JSON.stringify(paddings)}`);
  }
  const shape = x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
  const strides = contiguousStrides(shape);
  const offset = paddings.reduce((acc, [before], i) => acc + before * strides[i], 0);
  const out = empty(shape);
  out.engine.kernels.fill(out.ptr, out.size, 0);
  stridedCopy(x, 0, contiguousStrides(x.shape), out, offset, strides, x.shape, false);
  return record('pad', out, [x], (g) => [slice(g, paddings.map(([before]) => before), x.shape)]);
}

/** Joins tensors along `axis`; all other dimensions must match. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ArgumentError('concat: needs at least one tensor');
  const first = tensors[0];
  const ax = normAxis('concat', axis, first.rank);
  for (const t of tensors) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new ShapeError(`concat: along axis ${ax}, shape ${fmtShape(t.shape)} does not match ${fmtShape(first.shape)}`);
    }
  }
  const shape = first.shape.slice();
  shape[ax] = tensors.reduce((acc, t) => acc + t.shape[ax], 0);
  const out = empty(shape);
  const outStrides = contiguousStrides(shape);
  const starts: number[] = [];
  let at = 0;
  for (const t of tensors) {
    starts.push(at);
    stridedCopy(t, 0, contiguousStrides(t.shape), out, at * outStrides[ax], outStrides, t.shape, false);
    at += t.shape[ax];
  }
  return record('concat', out, tensors, (g) =>
    tensors.map((t, i) => {
      const begin = shape.map((_, d) => (d === ax ? starts[i] : 0));
      return slice(g, begin, t.shape);
    }),
  );
}

/** Integer indices as an i32 block in engine memory, range-checked. */
export function indexTensor(op: string, indices: ArrayLike<number> | Tensor, limit: number): Tensor {
  const values = indices instanceof Tensor ? indices.data() : indices;
  const t = empty([values.length]);
  const view = t.engine.i32(t.ptr, values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= limit) {
      throw new ArgumentError(`${op}: index ${v} at position ${i} is out of range [0, ${limit})`);
    }
    view[i] = v;
  }
  return t;
}

/** Picks entries along `axis` (rows of an embedding, samples of a batch). */
export function gather(x: Tensor, indices: ArrayLike<number> | Tensor, axis = 0): Tensor {
  const ax = normAxis('gather', axis, x.rank);
  const idx = indexTensor('gather', indices, x.shape[ax]);
  const n = idx.size;
  const outer = sizeOf(x.shape.slice(0, ax));
  const inner = sizeOf(x.shape.slice(ax + 1));
  const shape = [...x.shape.slice(0, ax), n, ...x.shape.slice(ax + 1)];
  const out = empty(shape);
  out.engine.kernels.gather(x.ptr, idx.ptr, out.ptr, outer, x.shape[ax], inner, n);
  return record('gather', out, [x], (g) => {
    const dx = empty(x.shape);
    dx.engine.kernels.fill(dx.ptr, dx.size, 0);
    dx.engine.kernels.scatterAdd(g.ptr, idx.ptr, dx.ptr, outer, x.shape[ax], inner, n);
    return [dx];
  });
}
