// Elementwise ops with numpy broadcasting. Unary ops are one kernel each way; binary ops
// share one strided kernel, and their gradients are reduced back to each input's shape.
import { Binary, Unary } from '../kernels.js';
import { Tensor, empty, record } from '../tensor.js';
import { sumTo } from './reduce.js';
import { ArgumentError, ShapeError, fmtShape } from '../errors.js';
import { asTensor, broadcastShape, broadcastStrides, inParts, mergeDims, type TensorLike } from './util.js';

// ------------------------------------------------------------------ unary

// Unary ops stay on one thread: they are bound by memory bandwidth, and splitting them over
// two threads measured no faster (the halves' cache lines then move between the cores).
function unaryOp(name: string, op: Unary, x: Tensor, alpha = 0): Tensor {
  const out = empty(x.shape);
  out.engine.kernels.unary(op, x.ptr, out.ptr, x.size, alpha);
  return record(name, out, [x], (g) => {
    const dx = empty(x.shape);
    dx.engine.kernels.unaryGrad(op, x.ptr, out.ptr, g.ptr, dx.ptr, x.size, alpha);
    return [dx];
  });
}

export const neg = (x: Tensor): Tensor => unaryOp('neg', Unary.Neg, x);
export const exp = (x: Tensor): Tensor => unaryOp('exp', Unary.Exp, x);
export const log = (x: Tensor): Tensor => unaryOp('log', Unary.Log, x);
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', Unary.Sqrt, x);
/** |x|; the gradient at 0 is 0. */
export const abs = (x: Tensor): Tensor => unaryOp('abs', Unary.Abs, x);
/** max(x, 0); the gradient at 0 is 0. */
export const relu = (x: Tensor): Tensor => unaryOp('relu', Unary.Relu, x);
/** x for x > 0, alpha·x otherwise. */
export const leakyRelu = (x: Tensor, alpha = 0.01): Tensor => unaryOp('leakyRelu', Unary.LeakyRelu, x, alpha);
/** x for x > 0, alpha·(eˣ − 1) otherwise (Clevert et al. 2015). */
export const elu = (x: Tensor, alpha = 1): Tensor => unaryOp('elu', Unary.Elu, x, alpha);
export const sigmoid = (x: Tensor): Tensor => unaryOp('sigmoid', Unary.Sigmoid, x);
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', Unary.Tanh, x);
export const square = (x: Tensor): Tensor => unaryOp('square', Unary.Pow, x, 2);
/** −1, 0 or 1; no gradient flows through it. */
export const sign = (x: Tensor): Tensor => unaryOp('sign', Unary.Sign, x);

/** The activations biasActivation fuses: those whose derivative their output determines. */
export type FusedActivation = 'relu' | 'leakyRelu' | 'elu' | 'sigmoid' | 'tanh';
const FUSED: Record<FusedActivation, Unary> = {
  relu: Unary.Relu, leakyRelu: Unary.LeakyRelu, elu: Unary.Elu, sigmoid: Unary.Sigmoid, tanh: Unary.Tanh,
};

/**
 * activation(x + bias), the bias broadcast over the last axis (a dense or convolution layer's
 * channels; null: none), in one pass over x where add then the activation take two. Backward:
 * one pass for the activation's derivative, taken from the output alone (so x + bias is never
 * stored), and the bias's column sums. Values and gradients are those of add then the
 * activation, bit for bit. leakyRelu and elu need alpha > 0: their output then has the sign
 * of their input.
 *
 * @example
 * const h = biasActivation(matmul(x, w), b, 'relu');   // relu(x·w + b)
 */
export function biasActivation(x: Tensor, bias: Tensor | null, activation: FusedActivation, alpha = 0): Tensor {
  const op = FUSED[activation];
  if (op === undefined) throw new ArgumentError(`biasActivation: activation must be one of ${Object.keys(FUSED).join(', ')}, got ${String(activation)}`);
  if ((activation === 'leakyRelu' || activation === 'elu') && !(alpha > 0)) {
    throw new ArgumentError(`biasActivation: ${activation} needs alpha > 0 (its output then has its input's sign), got ${alpha}`);
  }
  const cols = x.rank === 0 ? 1 : x.shape[x.rank - 1];
  if (bias !== null && (bias.rank !== 1 || bias.shape[0] !== cols)) {
    throw new ShapeError(`biasActivation: the bias must be [${cols}] (the last axis of ${fmtShape(x.shape)}), got ${fmtShape(bias.shape)}`);
  }
  const out = empty(x.shape);
  const e = out.engine;
  if (out.size > 0) {
    inParts(e, 'biasUnary', out.size / cols, cols, (first, count) =>
      [op, x.ptr + first * cols * 4, bias?.ptr ?? 0, out.ptr + first * cols * 4, count, cols, alpha]);
  }
  return record(`biasActivation.${activation}`, out, bias === null ? [x] : [x, bias], (g) => {
    const dz = empty(x.shape);
    // With x := y: y > 0 exactly where x + bias > 0 (relu; leakyRelu and elu with alpha > 0); sigmoid's and tanh's use y.
    e.kernels.unaryGrad(op, out.ptr, out.ptr, g.ptr, dz.ptr, out.size, alpha);
    const dBias = bias !== null && bias.requiresGrad ? sumTo(dz, bias.shape) : null;
    return bias === null ? [dz] : [x.requiresGrad ? dz : null, dBias];
  });
}

/** x ** p for a number p (a tensor exponent broadcasts through the binary kernel). */
export function pow(x: Tensor, p: TensorLike): Tensor {
  if (typeof p === 'number') return unaryOp('pow', Unary.Pow, x, p);
  return binaryOp('pow', Binary.Pow, x, p, (g, a, b, out) => [
    mul(g, mul(b, pow(a, sub(b, 1)))),
    mul(g, mul(out, log(a))),
  ]);
}

// ------------------------------------------------------------------ binary

type BinaryGrad = (g: Tensor, a: Tensor, b: Tensor, out: Tensor) => (Tensor | null)[];

function binaryOp(name: string, op: Binary, aLike: TensorLike, bLike: TensorLike, grad: BinaryGrad | null): Tensor {
  const a = asTensor(aLike);
  const b = asTensor(bLike);
  const shape = broadcastShape(name, a.shape, b.shape);
  const out = empty(shape);
  if (out.size > 0) {
    const [dims, [sa, sb]] = mergeDims(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)]);
    const e = out.engine;
    const [pShape, pa, pb] = e.args(dims, sa, sb);
    e.kernels.binary(op, a.ptr, b.ptr, out.ptr, dims.length, pShape, pa, pb);
  }
  if (grad === null) return out;
  return record(name, out, [a, b], (g) => {
    const [ga, gb] = grad(g, a, b, out);
    return [ga && a.requiresGrad ? sumTo(ga, a.shape) : null, gb && b.requiresGrad ? sumTo(gb, b.shape) : null];
  });
}

export function add(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('add', Binary.Add, a, b, (g) => [g, g]);
}

export function sub(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('sub', Binary.Sub, a, b, (g) => [g, neg(g)]);
}

export function mul(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('mul', Binary.Mul, a, b, (g, x, y) => [mul(g, y), mul(g, x)]);
}

export function div(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('div', Binary.Div, a, b, (g, x, y, out) => [div(g, y), neg(div(mul(g, out), y))]);
}

/** Elementwise maximum; on ties the gradient goes to a. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('maximum', Binary.Max, a, b, (g, x, y) => {
    const pick = ge(x, y);
    return [mul(g, pick), mul(g, sub(1, pick))];
  });
}

/** Elementwise minimum; on ties the gradient goes to a. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('minimum', Binary.Min, a, b, (g, x, y) => {
    const pick = le(x, y);
    return [mul(g, pick), mul(g, sub(1, pick))];
  });
}

// Comparisons give 1 or 0 and carry no gradient.
export const eq = (a: TensorLike, b: TensorLike): Tensor => binaryOp('eq', Binary.Eq, a, b, null);
export const ne = (a: TensorLike, b: TensorLike): Tensor => binaryOp('ne', Binary.Ne, a, b, null);
export const lt = (a: TensorLike, b: TensorLike): Tensor => binaryOp('lt', Binary.Lt, a, b, null);
export const le = (a: TensorLike, b: TensorLike): Tensor => binaryOp('le', Binary.Le, a, b, null);
export const gt = (a: TensorLike, b: TensorLike): Tensor => binaryOp('gt', Binary.Gt, a, b, null);
export const ge = (a: TensorLike, b: TensorLike): Tensor => binaryOp('ge', Binary.Ge, a, b, null);

/** cond ? a : b elementwise (cond nonzero means true), with broadcasting of all three. */
export function where(condLike: TensorLike, aLike: TensorLike, bLike: TensorLike): Tensor {
  const cond = asTensor(condLike);
  const a = asTensor(aLike);
  const b = asTensor(bLike);
  const shape = broadcastShape('where', broadcastShape('where', cond.shape, a.shape), b.shape);
  const out = empty(shape);
  if (out.size > 0) {
    const strides = [cond, a, b].map((t) => broadcastStrides(t.shape, shape));
    const [dims, [sc, sa, sb]] = mergeDims(shape, strides);
    const e = out.engine;
    const [pShape, pc, pa, pb] = e.args(dims, sc, sa, sb);
    e.kernels.where(cond.ptr, a.ptr, b.ptr, out.ptr, dims.length, pShape, pc, pa, pb);
  }
  return record('where', out, [a, b], (g) => [
    a.requiresGrad ? sumTo(where(cond, g, 0), a.shape) : null,
    b.requiresGrad ? sumTo(where(cond, 0, g), b.shape) : null,
  ]);
}
