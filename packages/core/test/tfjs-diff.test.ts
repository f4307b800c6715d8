// Differential tests: minibatch against an independent implementation, TensorFlow.js
// (@tensorflow/tfjs-core + the plain-JS cpu backend), forward values AND gradients.
//
// Every case draws seeded random inputs, runs the op in minibatch and backpropagates a
// random seed gradient dy (y.backward(dy)), then runs the same function in TF.js with
// tf.valueAndGrads(f)(inputs, dy) and compares the output and every input gradient.
//
// Tolerances (float32 on both sides; the two libraries sum in different orders):
//   |ours − tf| ≤ atol·scale + rtol·|tf|   elementwise, where scale = max |tf| over the
//   compared tensor (so atol is relative to the tensor's magnitude; 1 if it is all zeros).
// The default, used by every case here, is atol 1e-4, rtol 1e-4: ~1700 float32 ulps of
// the tensor's scale, well above reordering error for the sizes used (sums of ≤ 300 terms;
// reductions run on non-cancelling data) and far below any indexing or formula mistake
// (those give O(1) errors). No case needed a looser tolerance; Case.tol / gradTol exist
// to state one next to the case if a future op does.
//
// Where TF.js cannot serve as the reference directly, the reference is an exact rewrite in
// other TF.js ops, explained at the case: dilated convolutions (no TF.js gradient),
// avgPool gradients with padding (TF.js's AvgPoolGrad ignores the padding exclusion of its
// own forward), softmax along a non-last axis, broadcast operands of matMul / maximum /
// minimum / where (TF.js does not reduce those gradients).
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node bundle registers no gradients; the union package @tensorflow/tfjs does this.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import * as mb from '../src/index.js';
import { Rng, type Padding, type Tensor } from '../src/index.js';

// ------------------------------------------------------------------ harness

interface Tol {
  atol: number;
  rtol: number;
}
/** The default tolerance (see the header). */
const TOL: Tol = { atol: 1e-4, rtol: 1e-4 };

interface Input {
  values: Float32Array;
  shape: number[];
  /** A constant: no gradient asked for (minibatch: requiresGrad off; TF: closed over). */
  constant?: boolean;
}

/** The first element outside tolerance (with a message), or null when all are close. */
function mismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} ≠ ${expected.length}`;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  if (scale === 0) scale = 1;
  let worst = -1;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const bound = tol.atol * scale + tol.rtol * Math.abs(expected[i]);
    const err = Math.abs(actual[i] - expected[i]);
    // NaN (in either) fails: !(err <= bound).
    const ratio = err === 0 ? 0 : err <= bound ? err / bound : Infinity;
    if (ratio > worst) {
      worst = ratio;
      at = i;
    }
  }
  if (worst <= 1) return null;
  return `element ${at}: got ${actual[at]}, expected ${expected[at]} (|Δ| = ${Math.abs(actual[at] - expected[at])}, ` +
    `bound ${tol.atol}·${scale} + ${tol.rtol}·|expected|)`;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol, label: string): void {
  const problem = mismatch(actual, expected, tol);
  expect(problem, `${label}: ${problem}`).toBeNull();
}

function normals(rng: Rng, shape: readonly number[], std = 1): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => std * rng.normal());
}
function uniforms(rng: Rng, shape: readonly number[], low: number, high: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => low + (high - low) * rng.uniform());
}
/** Normal values pushed at least `gap` away from 0 (no kinks of relu/abs/leaky/elu). */
function awayFromZero(rng: Rng, shape: readonly number[], gap = 0.05): Float32Array {
  return normals(rng, shape).map((v) => (v >= 0 ? v + gap : v - gap));
}
/** Distinct values in [−2, 2), a shuffled, jittered even grid: no ties for max pooling or max/min. */
function distinct(rng: Rng, shape: readonly number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const step = 4 / n;
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  return Float32Array.from(order, (i) => -2 + step * (i + 0.5 * rng.uniform()));
}

/** The numpy broadcast shape of a and b. */
function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
    return da === 1 ? db : da;
  });
}

const inp = (values: Float32Array, shape: number[]): Input => ({ values, shape });

interface Case {
  inputs: Input[];
  ours: (...xs: Tensor[]) => Tensor;
  theirs: (...xs: tf.Tensor[]) => tf.Tensor;
  /** Forward tolerance (default TOL). */
  tol?: Tol;
  /** Gradient tolerance (default: tol). */
  gradTol?: Tol;
  /** Compare the forward values only (where the reference's gradient is wrong). */
  forwardOnly?: boolean;
}

/**
 * Runs one case in both libraries with the same inputs and the same random seed gradient
 * and compares output shape, values and the gradient of every input.
 */
function diff(label: string, c: Case, rng: Rng): void {
  const tol = c.tol ?? TOL;
  const gradTol = c.gradTol ?? tol;
  const variable = c.inputs.map((x) => x.constant !== true);
  const ours = mb.scope(() => {
    const xs = c.inputs.map((x, i) => mb.tensor(x.values, x.shape).setRequiresGrad(variable[i]));
    const y = c.ours(...xs);
    const shape = [...y.shape];
    const dy = normals(rng, shape);
    y.backward(mb.tensor(dy, shape));
    return { shape, y: y.data(), dy, grads: xs.map((x) => (x.grad === null ? null : x.grad.data())) };
  });
  let theirs: { shape: number[]; y: Float32Array; grads: (Float32Array | null)[] } | undefined;
  tf.tidy(() => {
    const all = c.inputs.map((x) => tf.tensor(x.values, x.shape, 'float32'));
    const vars = all.filter((_, i) => variable[i]);
    const f = (...v: tf.Tensor[]): tf.Tensor => {
      let k = 0;
      return c.theirs(...all.map((t, i) => (variable[i] ? v[k++] : t)));
    };
    const { value, grads } = tf.valueAndGrads(f)(vars, tf.tensor(ours.dy, ours.shape, 'float32'));
    let k = 0;
    const full = all.map((_, i) => (variable[i] ? (grads[k++].dataSync() as Float32Array) : null));
    theirs = { shape: value.shape, y: value.dataSync() as Float32Array, grads: full };
  });
  if (theirs === undefined) throw new Error('unreachable');
  expect(ours.shape, `${label}: output shape`).toEqual(theirs.shape);
  expectClose(ours.y, theirs.y, tol, `${label}: forward`);
  if (c.forwardOnly === true) return;
  theirs.grads.forEach((g, i) => {
    const mine = ours.grads[i];
    if (g === null) {
      expect(mine, `${label}: constant input ${i} got a gradient`).toBeNull();
      return;
    }
    expect(mine, `${label}: input ${i} got no gradient`).not.toBeNull();
    expectClose(mine!, g, gradTol, `${label}: gradient of input ${i}`);
  });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  // The cpu backend prints a "use tfjs-node" hint on first use in Node; mark it as shown.
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
});

describe('harness', () => {
  it('detects a wrong forward value and a wrong gradient (the tests can fail)', () => {
    const rng = new Rng(1);
    const x = inp(normals(rng, [3, 5]), [3, 5]);
    // 1e-3 relative error in the forward pass is outside the default tolerance.
    expect(() => diff('bad forward', { inputs: [x], ours: (a) => mb.exp(a), theirs: (a) => tf.mul(tf.exp(a), 1.001) }, rng)).toThrow(
      /forward/,
    );
    // Same forward, gradient off by a factor of two.
    expect(() =>
      diff('bad gradient', {
        inputs: [x],
        ours: (a) => mb.mul(a, a.detach()), // a·a with half the true gradient
        theirs: (a) => tf.mul(a, a),
      }, rng),
    ).toThrow(/gradient of input 0/);
    expect(mismatch([1, NaN], [1, 2], TOL)).not.toBeNull();
    expect(mismatch([1, 2.0001], [1, 2], TOL)).toBeNull();
  });
});

// ------------------------------------------------------------------ matmul

describe('matmul vs tf.matMul', () => {
  // [m, k, n]: degenerate, odd, just past SIMD/register-block multiples, and square-ish.
  const shapes: [number, number, number][] = [
    [1, 1, 1], [1, 7, 33], [7, 1, 5], [7, 33, 1], [33, 65, 7], [65, 33, 65], [17, 64, 9], [65, 65, 65],
  ];
  const combos: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
  const store = (rows: number, cols: number, t: boolean): number[] => (t ? [cols, rows] : [rows, cols]);

  for (const [tA, tB] of combos) {
    it(`2-D, transposeA=${tA}, transposeB=${tB}, shapes ${shapes.map((s) => s.join('×')).join(' ')}`, () => {
      const rng = new Rng(100 + (tA ? 2 : 0) + (tB ? 1 : 0));
      for (const [m, k, n] of shapes) {
        const aShape = store(m, k, tA);
        const bShape = store(k, n, tB);
        // Tolerance: default (atol is relative to max |C|, which covers k-term sums in
        // another order: the error is ~k·2⁻²⁴·|terms| ≪ 1e-4·max|C| for k ≤ 65).
        diff(`matmul ${m}×${k}×${n} tA=${tA} tB=${tB}`, {
          inputs: [inp(normals(rng, aShape), aShape), inp(normals(rng, bShape), bShape)],
          ours: (a, b) => mb.matmul(a, b, { transposeA: tA, transposeB: tB }),
          theirs: (a, b) => tf.matMul(a, b, tA, tB),
        }, rng);
      }
    });
  }

  for (const [tA, tB] of combos) {
    it(`batched [b,m,k]·[b,k,n] and shared [b,m,k]·[k,n] / [m,k]·[b,k,n], tA=${tA}, tB=${tB}`, () => {
      const rng = new Rng(200 + (tA ? 2 : 0) + (tB ? 1 : 0));
      for (const [bs, m, k, n] of [[3, 5, 7, 4], [2, 33, 17, 65], [4, 1, 9, 1]]) {
        const aShape = store(m, k, tA);
        const bShape = store(k, n, tB);
        diff(`batched matmul ${bs}×${m}×${k}×${n}`, {
          inputs: [inp(normals(rng, [bs, ...aShape]), [bs, ...aShape]), inp(normals(rng, [bs, ...bShape]), [bs, ...bShape])],
          ours: (a, b) => mb.matmul(a, b, { transposeA: tA, transposeB: tB }),
          theirs: (a, b) => tf.matMul(a, b, tA, tB),
        }, rng);
        // A matrix shared by the batch: its gradient is summed over the batch. TF.js's
        // BatchMatMul gradient does not reduce broadcast batch dimensions, so the
        // reference broadcasts explicitly (tf.broadcastTo's gradient sums).
        diff(`matmul [b,m,k]·[k,n] ${bs}×${m}×${k}×${n}`, {
          inputs: [inp(normals(rng, [bs, ...aShape]), [bs, ...aShape]), inp(normals(rng, bShape), bShape)],
          ours: (a, b) => mb.matmul(a, b, { transposeA: tA, transposeB: tB }),
          theirs: (a, b) => tf.matMul(a, tf.broadcastTo(b, [bs, ...bShape]), tA, tB),
        }, rng);
        diff(`matmul [m,k]·[b,k,n] ${bs}×${m}×${k}×${n}`, {
          inputs: [inp(normals(rng, aShape), aShape), inp(normals(rng, [bs, ...bShape]), [bs, ...bShape])],
          ours: (a, b) => mb.matmul(a, b, { transposeA: tA, transposeB: tB }),
          theirs: (a, b) => tf.matMul(tf.broadcastTo(a, [bs, ...aShape]), b, tA, tB),
        }, rng);
      }
    });
  }

  it('larger shapes past the GEMM blocking (k = 300, m = 130, n = 257), all transposes', () => {
    const rng = new Rng(250);
    for (const [m, k, n] of [[130, 300, 70], [1, 513, 1], [257, 3, 129]]) {
      for (const [tA, tB] of combos) {
        const aShape = store(m, k, tA);
        const bShape = store(k, n, tB);
        diff(`matmul ${m}×${k}×${n} tA=${tA} tB=${tB}`, {
          inputs: [inp(normals(rng, aShape), aShape), inp(normals(rng, bShape), bShape)],
          ours: (a, b) => mb.matmul(a, b, { transposeA: tA, transposeB: tB }),
          theirs: (a, b) => tf.matMul(a, b, tA, tB),
        }, rng);
      }
    }
  });

  it('two batch dimensions [2,3,m,k]·[2,3,k,n] and [2,3,m,k]·[k,n]', () => {
    const rng = new Rng(260);
    for (const [tA, tB] of combos) {
      const aShape = [2, 3, ...store(5, 6, tA)];
      const bShape = store(6, 4, tB);
      diff(`matmul rank 4 tA=${tA} tB=${tB}`, {
        inputs: [inp(normals(rng, aShape), aShape), inp(normals(rng, [2, 3, ...bShape]), [2, 3, ...bShape])],
        ours: (a, b) => mb.matmul(a, b, { transposeA: tA, transposeB: tB }),
        theirs: (a, b) => tf.matMul(a, b, tA, tB),
      }, rng);
      diff(`matmul rank 4 · shared matrix tA=${tA} tB=${tB}`, {
        inputs: [inp(normals(rng, aShape), aShape), inp(normals(rng, bShape), bShape)],
        ours: (a, b) => mb.matmul(a, b, { transposeA: tA, transposeB: tB }),
        theirs: (a, b) => tf.matMul(a, tf.broadcastTo(b, [2, 3, ...bShape]), tA, tB),
      }, rng);
    }
  });

  it('only one operand requires a gradient', () => {
    const rng = new Rng(270);
    for (const [tA, tB] of combos) {
      for (const constA of [true, false]) {
        const aShape = store(9, 11, tA);
        const bShape = store(11, 6, tB);
        diff(`matmul tA=${tA} tB=${tB} constant ${constA ? 'a' : 'b'}`, {
          inputs: [
            { ...inp(normals(rng, aShape), aShape), constant: constA },
            { ...inp(normals(rng, bShape), bShape), constant: !constA },
          ],
          ours: (a, b) => mb.matmul(a, b, { transposeA: tA, transposeB: tB }),
          theirs: (a, b) => tf.matMul(a, b, tA, tB),
        }, rng);
      }
    }
  });

  it('linear(x, w, b) on a rank-3 input = matMul + bias', () => {
    const rng = new Rng(300);
    diff('linear', {
      inputs: [inp(normals(rng, [2, 3, 7]), [2, 3, 7]), inp(normals(rng, [7, 5]), [7, 5]), inp(normals(rng, [5]), [5])],
      ours: (x, w, b) => mb.linear(x, w, b),
      theirs: (x, w, b) => tf.add(tf.reshape(tf.matMul(tf.reshape(x, [6, 7]), w), [2, 3, 5]), b),
    }, rng);
  });
});

// ------------------------------------------------------------------ conv2d

type Pair = [number, number];

/** Padding in TF.js form: NHWC explicit padding is [[0,0],[t,b],[l,r],[0,0]]. */
function tfPad(p: Padding): 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]] {
  if (p === 'valid' || p === 'same') return p;
  if (typeof p === 'number') return [[0, 0], [p, p], [p, p], [0, 0]];
  return [[0, 0], [p[0][0], p[0][1]], [p[1][0], p[1][1]], [0, 0]];
}

/**
 * The dilated filter (zeros between taps) as a differentiable function of the filter, so
 * the filter gradient of a dilated convolution flows back through it: TF.js has no
 * gradient for dilations > 1 ("not yet supported in gradients") and no forward for
 * strides and dilations both > 1. A selection matrix S (0/1) scatters the kh·kw taps into
 * the ekh·ekw grid, so the reference is exact: conv(x, dilate(w)) with dilation 1.
 */
function dilateFilter(f: tf.Tensor, [dh, dw]: Pair): tf.Tensor4D {
  const [kh, kw, ci, co] = f.shape;
  const ekh = (kh - 1) * dh + 1;
  const ekw = (kw - 1) * dw + 1;
  const s = new Float32Array(ekh * ekw * kh * kw);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) s[(y * dh * ekw + x * dw) * (kh * kw) + y * kw + x] = 1;
  const sel = tf.tensor2d(s, [ekh * ekw, kh * kw]);
  return tf.reshape(tf.matMul(sel, tf.reshape(f, [kh * kw, ci * co])), [ekh, ekw, ci, co]);
}

function tfConv(x: tf.Tensor, f: tf.Tensor, strides: Pair, padding: Padding, dil: Pair): tf.Tensor {
  const filter = dil[0] === 1 && dil[1] === 1 ? (f as tf.Tensor4D) : dilateFilter(f, dil);
  return tf.conv2d(x as tf.Tensor4D, filter, strides, tfPad(padding));
}

describe('conv2d vs tf.conv2d (forward, d/dx, d/dfilter)', () => {
  interface ConvCase { x: number[]; f: number[]; strides: Pair; padding: Padding; dil: Pair }
  const cases: ConvCase[] = [
    { x: [2, 7, 7, 3], f: [3, 3, 3, 4], strides: [1, 1], padding: 'valid', dil: [1, 1] },
    { x: [2, 7, 7, 3], f: [3, 3, 3, 4], strides: [1, 1], padding: 'same', dil: [1, 1] },
    { x: [2, 8, 8, 3], f: [3, 3, 3, 5], strides: [2, 2], padding: 'same', dil: [1, 1] }, // odd total padding
    { x: [1, 9, 9, 2], f: [3, 3, 2, 3], strides: [2, 2], padding: 'valid', dil: [1, 1] },
    { x: [2, 7, 7, 3], f: [3, 3, 3, 4], strides: [1, 1], padding: 1, dil: [1, 1] },
    { x: [2, 6, 6, 4], f: [1, 1, 4, 8], strides: [1, 1], padding: 'valid', dil: [1, 1] }, // direct (no im2col)
    { x: [2, 6, 6, 4], f: [1, 1, 4, 3], strides: [1, 1], padding: 'same', dil: [1, 1] },
    { x: [2, 7, 6, 4], f: [1, 1, 4, 3], strides: [2, 2], padding: 'valid', dil: [1, 1] },
    { x: [1, 11, 11, 2], f: [5, 5, 2, 3], strides: [1, 1], padding: 'same', dil: [1, 1] },
    { x: [2, 10, 9, 3], f: [5, 5, 3, 2], strides: [2, 2], padding: 'same', dil: [1, 1] },
    { x: [1, 12, 10, 3], f: [5, 5, 3, 2], strides: [2, 2], padding: [[1, 2], [2, 0]], dil: [1, 1] },
    { x: [1, 7, 9, 2], f: [2, 3, 2, 3], strides: [1, 2], padding: 'same', dil: [1, 1] }, // non-square everything
    { x: [1, 8, 8, 1], f: [3, 3, 1, 1], strides: [1, 1], padding: 'same', dil: [1, 1] },
    { x: [2, 6, 5, 17], f: [3, 3, 17, 33], strides: [1, 1], padding: 'same', dil: [1, 1] }, // wider channels
    { x: [1, 9, 9, 2], f: [3, 3, 2, 3], strides: [1, 1], padding: 'valid', dil: [2, 2] },
    { x: [1, 9, 9, 2], f: [3, 3, 2, 3], strides: [1, 1], padding: 'same', dil: [2, 2] },
    { x: [1, 10, 11, 3], f: [3, 3, 3, 2], strides: [2, 2], padding: 'same', dil: [2, 2] },
    { x: [1, 12, 12, 3], f: [5, 5, 3, 4], strides: [1, 1], padding: 2, dil: [2, 1] },
    { x: [2, 9, 8, 2], f: [3, 2, 2, 3], strides: [2, 1], padding: [[0, 1], [1, 1]], dil: [1, 2] },
    { x: [1, 8, 7, 3], f: [2, 2, 3, 4], strides: [3, 3], padding: 'same', dil: [1, 1] }, // stride > kernel
    { x: [2, 8, 8, 2], f: [1, 1, 2, 3], strides: [3, 3], padding: 'same', dil: [1, 1] }, // 'same' needs no padding
    // Direct kernels (output channels a multiple of 8, up to 32; input gradient direct when
    // the input channels are too, at stride 1): 8-wide, 16-wide and 16+8 channel blocks,
    // pixel rows that end in a partial strip, strides and asymmetric padding.
    { x: [3, 9, 7, 1], f: [5, 5, 1, 8], strides: [1, 1], padding: 'same', dil: [1, 1] },
    { x: [2, 7, 9, 8], f: [5, 5, 8, 16], strides: [1, 1], padding: 'same', dil: [1, 1] },
    { x: [2, 8, 7, 8], f: [3, 3, 8, 24], strides: [1, 1], padding: 'valid', dil: [1, 1] },
    { x: [2, 9, 9, 16], f: [3, 2, 16, 8], strides: [2, 1], padding: [[2, 0], [1, 1]], dil: [1, 1] },
    { x: [1, 11, 10, 3], f: [4, 4, 3, 32], strides: [3, 2], padding: 'same', dil: [1, 1] },
    { x: [1, 6, 6, 8], f: [3, 3, 8, 8], strides: [1, 1], padding: 3, dil: [1, 1] }, // padding beyond the kernel's reach
    // im2col + GEMM in chunks of 2 images (400 rows × 81 columns each), the filter gradient
    // in 7 groups of up to 3 images (2 chunks per group), summed in order.
    { x: [20, 20, 20, 9], f: [3, 3, 9, 12], strides: [1, 1], padding: 'same', dil: [1, 1] },
  ];
  const name = (c: ConvCase): string =>
    `x ${c.x.join('×')} f ${c.f.join('×')} s ${c.strides.join(',')} p ${JSON.stringify(c.padding)} d ${c.dil.join(',')}`;

  for (const c of cases) {
    it(name(c), () => {
      const rng = new Rng(400 + cases.indexOf(c));
      // Default tolerance: each output is a sum of kh·kw·c ≤ 153 products (1e-4·max|y|
      // is still ≫ the ~k·2⁻²⁴ reordering error); the gradients are sums of the same size.
      diff(name(c), {
        inputs: [inp(normals(rng, c.x), c.x), inp(normals(rng, c.f), c.f)],
        ours: (x, f) => mb.conv2d(x, f, { strides: c.strides, padding: c.padding, dilations: c.dil }),
        theirs: (x, f) => tfConv(x, f, c.strides, c.padding, c.dil),
      }, rng);
    });
  }

  it('only the filter, or only the input, requires a gradient (direct 1×1 and im2col paths)', () => {
    const rng = new Rng(440);
    const variants: ConvCase[] = [
      { x: [2, 6, 6, 4], f: [1, 1, 4, 5], strides: [1, 1], padding: 'valid', dil: [1, 1] },
      { x: [2, 7, 7, 3], f: [3, 3, 3, 4], strides: [2, 2], padding: 'same', dil: [1, 1] },
      { x: [1, 9, 9, 2], f: [3, 3, 2, 3], strides: [1, 1], padding: 'same', dil: [2, 2] },
      { x: [2, 7, 7, 8], f: [3, 3, 8, 16], strides: [1, 1], padding: 'same', dil: [1, 1] },
    ];
    for (const c of variants) {
      for (const constX of [true, false]) {
        diff(`${name(c)} constant ${constX ? 'x' : 'filter'}`, {
          inputs: [{ ...inp(normals(rng, c.x), c.x), constant: constX }, { ...inp(normals(rng, c.f), c.f), constant: !constX }],
          ours: (x, f) => mb.conv2d(x, f, { strides: c.strides, padding: c.padding, dilations: c.dil }),
          theirs: (x, f) => tfConv(x, f, c.strides, c.padding, c.dil),
        }, rng);
      }
    }
  });

  it('a larger layer: x 4×16×16×8, 3×3×8×16 filter, same, then stride 2', () => {
    const rng = new Rng(445);
    for (const strides of [[1, 1], [2, 2]] as Pair[]) {
      diff(`conv 4×16×16×8 stride ${strides}`, {
        inputs: [inp(normals(rng, [4, 16, 16, 8]), [4, 16, 16, 8]), inp(normals(rng, [3, 3, 8, 16]), [3, 3, 8, 16])],
        ours: (x, f) => mb.conv2d(x, f, { strides, padding: 'same' }),
        theirs: (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, strides, 'same'),
      }, rng);
    }
  });

  it('dilated-filter reference agrees with tf.conv2d dilations (forward)', () => {
    // Checks the reference used above for the dilated gradients against TF's own forward.
    const rng = new Rng(450);
    const x = normals(rng, [1, 9, 9, 2]);
    const f = normals(rng, [3, 3, 2, 3]);
    tf.tidy(() => {
      const xt = tf.tensor4d(x, [1, 9, 9, 2]);
      const ft = tf.tensor4d(f, [3, 3, 2, 3]);
      for (const pad of ['valid', 'same'] as const) {
        const direct = tf.conv2d(xt, ft, 1, pad, 'NHWC', [2, 2]).dataSync();
        expectClose(tfConv(xt, ft, [1, 1], pad, [2, 2]).dataSync(), direct, TOL, `dilated reference ${pad}`);
      }
    });
  });
});

// ------------------------------------------------------------------ depthwise conv2d, pad

describe('depthwiseConv2d vs tf.depthwiseConv2d (forward, d/dx, d/dfilter)', () => {
  interface DwCase { x: number[]; f: number[]; strides: Pair; padding: Padding; dil: Pair }
  const cases: DwCase[] = [
    { x: [2, 7, 7, 3], f: [3, 3, 3, 1], strides: [1, 1], padding: 'same', dil: [1, 1] },
    { x: [2, 8, 8, 16], f: [3, 3, 16, 1], strides: [2, 2], padding: 'same', dil: [1, 1] }, // one 16-channel block, odd total padding
    { x: [1, 9, 7, 37], f: [3, 3, 37, 1], strides: [1, 1], padding: 'valid', dil: [1, 1] }, // 2 blocks of 16, then 4 + 1
    { x: [3, 10, 9, 24], f: [5, 5, 24, 1], strides: [2, 2], padding: 'same', dil: [1, 1] },
    { x: [1, 12, 10, 8], f: [3, 3, 8, 1], strides: [2, 1], padding: [[1, 2], [0, 1]], dil: [1, 1] },
    { x: [2, 6, 6, 5], f: [3, 3, 5, 2], strides: [1, 1], padding: 'same', dil: [1, 1] }, // depth multiplier 2
    { x: [1, 9, 9, 6], f: [3, 3, 6, 1], strides: [1, 1], padding: 'same', dil: [2, 2] },
    { x: [1, 11, 10, 4], f: [3, 3, 4, 1], strides: [2, 2], padding: 'valid', dil: [2, 2] },
    { x: [20, 6, 6, 32], f: [3, 3, 32, 1], strides: [1, 1], padding: 'same', dil: [1, 1] }, // the filter gradient in 8 groups of 15 rows
  ];
  const name = (c: DwCase): string => `x ${c.x.join('×')} f ${c.f.join('×')} s ${c.strides.join(',')} p ${JSON.stringify(c.padding)} d ${c.dil.join(',')}`;
  for (const c of cases) {
    it(name(c), () => {
      const rng = new Rng(700 + cases.indexOf(c));
      // TF.js has no depthwise gradient for dilations > 1: the dilated filter (zeros between
      // taps, exact) is the reference there, as for conv2d.
      const dilated = c.dil[0] > 1 || c.dil[1] > 1;
      diff(name(c), {
        inputs: [inp(normals(rng, c.x), c.x), inp(normals(rng, c.f), c.f)],
        ours: (x, f) => mb.depthwiseConv2d(x, f, { strides: c.strides, padding: c.padding, dilations: c.dil }),
        theirs: (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, dilated ? dilateFilter(f, c.dil) : (f as tf.Tensor4D), c.strides, tfPad(c.padding) as 'same'),
      }, rng);
    });
  }
});

describe('pad vs tf.pad', () => {
  it('pads each axis by [before, after], gradient the inner block', () => {
    const rng = new Rng(720);
    const paddings: [number, number][] = [[0, 1], [2, 0], [1, 3], [0, 0]];
    diff('pad', {
      inputs: [inp(normals(rng, [2, 3, 4, 5]), [2, 3, 4, 5])],
      ours: (x) => mb.pad(x, paddings),
      theirs: (x) => tf.pad(x, paddings),
    }, rng);
  });
});

// ------------------------------------------------------------------ pooling

/** TF's 'same' padding [[top, bottom], [left, right]] for a window k and stride s. */
function samePadding(h: number, w: number, k: Pair, s: Pair): [[number, number], [number, number]] {
  const one = (n: number, kk: number, ss: number): [number, number] => {
    const total = Math.max((Math.ceil(n / ss) - 1) * ss + kk - n, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  return [one(h, k[0], s[0]), one(w, k[1], s[1])];
}

/** Padding as [[top, bottom], [left, right]] for an h×w image, window k, stride s. */
function explicitPadding(p: Padding, h: number, w: number, k: Pair, s: Pair): [[number, number], [number, number]] {
  if (p === 'valid') return [[0, 0], [0, 0]];
  if (p === 'same') return samePadding(h, w, k, s);
  if (typeof p === 'number') return [[p, p], [p, p]];
  return [[p[0][0], p[0][1]], [p[1][0], p[1][1]]];
}

describe('pooling vs tf.maxPool / tf.avgPool', () => {
  interface PoolCase { x: number[]; size: Pair; strides: Pair; padding: Padding }
  const grid: PoolCase[] = [];
  for (const x of [[2, 7, 7, 3], [1, 8, 6, 2]]) {
    for (const size of [2, 3]) {
      for (const stride of [1, 2]) {
        for (const padding of ['valid', 'same'] as const) grid.push({ x, size: [size, size], strides: [stride, stride], padding });
      }
    }
  }
  grid.push({ x: [1, 7, 9, 5], size: [2, 3], strides: [1, 2], padding: 'same' });
  grid.push({ x: [1, 7, 9, 5], size: [3, 2], strides: [2, 1], padding: 'valid' });
  grid.push({ x: [2, 5, 5, 4], size: [3, 3], strides: [3, 3], padding: 'same' });
  grid.push({ x: [1, 4, 4, 1], size: [2, 2], strides: [2, 2], padding: 'same' }); // exact tiling
  grid.push({ x: [1, 8, 7, 3], size: [2, 2], strides: [3, 3], padding: 'same' }); // stride > window
  grid.push({ x: [1, 8, 7, 3], size: [2, 2], strides: [3, 3], padding: 'valid' });
  // Explicit paddings (minibatch's number / [[t, b], [l, r]] forms); every window keeps at
  // least one image cell, so "padding never wins / is not averaged" is well defined.
  grid.push({ x: [2, 7, 7, 3], size: [3, 3], strides: [2, 2], padding: 1 });
  grid.push({ x: [1, 6, 8, 2], size: [3, 2], strides: [1, 2], padding: [[2, 0], [0, 1]] });
  const label = (g: PoolCase): string =>
    `x ${g.x.join('×')} size ${g.size.join('×')} stride ${g.strides.join(',')} ${JSON.stringify(g.padding)}`;
  const tfPads = (g: PoolCase): [number, number][] => {
    const [[pt, pb], [pl, pr]] = explicitPadding(g.padding, g.x[1], g.x[2], g.size, g.strides);
    return [[0, 0], [pt, pb], [pl, pr], [0, 0]];
  };

  it(`maxPool2d, ${grid.length} cases (distinct input values: no ties)`, () => {
    const rng = new Rng(500);
    for (const g of grid) {
      // Exact ops (a selection and a scatter of dy), so the default tolerance is generous.
      // 'valid' / 'same': tf.maxPool itself. Explicit padding: pad with −1e30 (never the
      // maximum) and take 'valid' windows; the padded cells' gradient is sliced away.
      const direct = g.padding === 'valid' || g.padding === 'same';
      diff(`maxPool2d ${label(g)}`, {
        inputs: [inp(distinct(rng, g.x), g.x)],
        ours: (x) => mb.maxPool2d(x, { size: g.size, strides: g.strides, padding: g.padding }),
        theirs: (x) =>
          direct
            ? tf.maxPool(x as tf.Tensor4D, g.size, g.strides, g.padding as 'valid' | 'same')
            : tf.maxPool(tf.pad(x, tfPads(g), -1e30) as tf.Tensor4D, g.size, g.strides, 'valid'),
      }, rng);
    }
  });

  it(`avgPool2d, ${grid.length} cases (padding excluded from the averages, as TF)`, () => {
    const rng = new Rng(501);
    for (const g of grid) {
      const [, h, w] = g.x;
      const x = inp(normals(rng, g.x), g.x);
      const ours = (t: Tensor): Tensor => mb.avgPool2d(t, { size: g.size, strides: g.strides, padding: g.padding });
      if (g.padding === 'valid' || g.padding === 'same') {
        // Forward straight against tf.avgPool, whose cpu kernel averages over the cells
        // inside the image only; with 'valid' its gradient too.
        diff(`avgPool2d ${label(g)} (tf.avgPool)`, {
          inputs: [x],
          ours,
          theirs: (t) => tf.avgPool(t as tf.Tensor4D, g.size, g.strides, g.padding as 'valid' | 'same'),
          forwardOnly: g.padding === 'same', // see below
        }, rng);
      }
      if (g.padding !== 'valid') {
        // Gradient with padding: TF.js's cpu AvgPoolGrad (4.22) divides by the full window
        // kh·kw even where the window overlaps the padding, which is not the derivative of
        // its own forward (that divides by the count of cells inside the image). The
        // reference is the forward written out: pad with zeros, 'valid' windows (all
        // full, where TF's gradient is right), × kh·kw / count, count = the cells inside.
        const pads = tfPads(g);
        const area = g.size[0] * g.size[1];
        const count = tf.tidy(() =>
          tf.mul(tf.avgPool(tf.pad(tf.ones([1, h, w, 1]), pads) as tf.Tensor4D, g.size, g.strides, 'valid'), area),
        );
        diff(`avgPool2d ${label(g)} (composed reference, with gradient)`, {
          inputs: [x],
          ours,
          theirs: (t) => tf.div(tf.mul(tf.avgPool(tf.pad(t, pads) as tf.Tensor4D, g.size, g.strides, 'valid'), area), count),
        }, rng);
        count.dispose();
      }
    }
  });
});

// ------------------------------------------------------------------ softmax family, losses

/** Softmax / log-softmax along any axis, written out (TF.js's kernels only take the last axis). */
const tfLogSoftmaxAxis = (x: tf.Tensor, axis: number): tf.Tensor => tf.sub(x, tf.logSumExp(x, axis, true));
const tfSoftmaxAxis = (x: tf.Tensor, axis: number): tf.Tensor => tf.exp(tfLogSoftmaxAxis(x, axis));

describe('softmax, logSoftmax, losses', () => {
  const cases: { shape: number[]; axis: number; std: number }[] = [
    { shape: [4, 10], axis: -1, std: 1 },
    { shape: [4, 10], axis: 1, std: 30 }, // large logits: both sides subtract the max
    { shape: [2, 3, 17], axis: -1, std: 2 },
    { shape: [3, 5, 7], axis: 1, std: 1 },
    { shape: [3, 5, 7], axis: 0, std: 1 },
    { shape: [6, 1], axis: -1, std: 1 }, // one class: softmax 1, gradient 0
  ];
  for (const c of cases) {
    it(`softmax and logSoftmax of ${c.shape.join('×')} along axis ${c.axis} (logit std ${c.std})`, () => {
      const rng = new Rng(600 + cases.indexOf(c));
      const x = inp(normals(rng, c.shape, c.std), c.shape);
      const last = c.axis === -1 || c.axis === c.shape.length - 1;
      diff('softmax', {
        inputs: [x],
        ours: (t) => mb.softmax(t, c.axis),
        theirs: (t) => (last ? tf.softmax(t, -1) : tfSoftmaxAxis(t, c.axis)),
      }, rng);
      // logSoftmax values reach −60 with std 30, and x − max − log Σ is rounded at that
      // magnitude: the scale-relative atol covers it.
      diff('logSoftmax', {
        inputs: [x],
        ours: (t) => mb.logSoftmax(t, c.axis),
        theirs: (t) => (last ? tf.logSoftmax(t, -1) : tfLogSoftmaxAxis(t, c.axis)),
      }, rng);
      if (last) {
        // Also the written-out form, so the last-axis case is checked against two references.
        diff('logSoftmax (composed reference)', {
          inputs: [x],
          ours: (t) => mb.logSoftmax(t, c.axis),
          theirs: (t) => tfLogSoftmaxAxis(t, -1),
        }, rng);
      }
    });
  }

  it('TF reduction semantics: SUM_BY_NONZERO_WEIGHTS without weights = MEAN = mean over the batch', () => {
    // tf.losses.softmaxCrossEntropy's default reduction is SUM_BY_NONZERO_WEIGHTS; without
    // weights it divides the sum of the per-example losses by their number, i.e. the mean
    // over the batch, which is what minibatch's softmaxCrossEntropy computes. The tests
    // below pass Reduction.MEAN explicitly; this pins down that both are the batch mean.
    const rng = new Rng(650);
    const logits = tf.tensor2d(normals(rng, [5, 4]), [5, 4]);
    const onehot = tf.cast(tf.oneHot(tf.tensor1d([0, 3, 1, 1, 2], 'int32'), 4), 'float32');
    const perExample = tf.losses.softmaxCrossEntropy(onehot, logits, undefined, 0, tf.Reduction.NONE);
    expect(perExample.shape).toEqual([5]);
    const mean = tf.mean(perExample).dataSync()[0];
    expect(tf.losses.softmaxCrossEntropy(onehot, logits).dataSync()[0]).toBeCloseTo(mean, 6);
    expect(tf.losses.softmaxCrossEntropy(onehot, logits, undefined, 0, tf.Reduction.MEAN).dataSync()[0]).toBeCloseTo(mean, 6);
    tf.dispose([logits, onehot, perExample]);
  });

  const sceCases: { rows: number; cols: number; std: number }[] = [
    { rows: 8, cols: 10, std: 1 },
    { rows: 1, cols: 3, std: 1 },
    { rows: 5, cols: 7, std: 25 }, // large logits: losses up to ~100, probs saturate
    { rows: 33, cols: 2, std: 3 },
  ];
  for (const c of sceCases) {
    it(`softmaxCrossEntropy with integer labels vs tf.losses.softmaxCrossEntropy(oneHot), ${c.rows}×${c.cols}, std ${c.std}`, () => {
      const rng = new Rng(700 + sceCases.indexOf(c));
      const labels = Array.from({ length: c.rows }, () => rng.int(c.cols));
      const onehot = tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), c.cols), 'float32');
      const reference = (t: tf.Tensor): tf.Tensor => tf.losses.softmaxCrossEntropy(onehot, t, undefined, 0, tf.Reduction.MEAN);
      diff('softmaxCrossEntropy (labels array)', {
        inputs: [inp(normals(rng, [c.rows, c.cols], c.std), [c.rows, c.cols])],
        ours: (t) => mb.softmaxCrossEntropy(t, labels),
        theirs: reference,
      }, rng);
      diff('softmaxCrossEntropy (labels tensor)', {
        inputs: [inp(normals(rng, [c.rows, c.cols], c.std), [c.rows, c.cols])],
        ours: (t) => mb.softmaxCrossEntropy(t, mb.tensor(labels, [c.rows])),
        theirs: reference,
      }, rng);
      onehot.dispose();
    });
  }

  it('meanSquaredError vs tf.losses.meanSquaredError (Reduction.MEAN), gradients to both arguments', () => {
    const rng = new Rng(750);
    for (const shape of [[6, 4], [1, 1], [3, 2, 5]]) {
      diff(`mse ${shape.join('×')}`, {
        inputs: [inp(normals(rng, shape), shape), inp(normals(rng, shape), shape)],
        ours: (p, t) => mb.meanSquaredError(p, t),
        theirs: (p, t) => tf.losses.meanSquaredError(t, p, undefined, tf.Reduction.MEAN),
      }, rng);
    }
    // A target of another shape with the same size is read in the prediction's shape.
    diff('mse [6,4] vs [24]', {
      inputs: [inp(normals(rng, [6, 4]), [6, 4]), inp(normals(rng, [24]), [24])],
      ours: (p, t) => mb.meanSquaredError(p, t),
      theirs: (p, t) => tf.losses.meanSquaredError(tf.reshape(t, [6, 4]), p, undefined, tf.Reduction.MEAN),
    }, rng);
  });

  it('moments (mean and biased variance over all but the last axis) vs tf.moments', () => {
    const rng = new Rng(760);
    for (const shape of [[4, 5, 3], [7, 9], [2, 3, 3, 6]]) {
      const axes = shape.slice(0, -1).map((_, i) => i);
      const x = inp(normals(rng, shape, 2).map((v) => v + 3), shape);
      diff(`moments.mean ${shape.join('×')}`, { inputs: [x], ours: (t) => mb.moments(t).mean, theirs: (t) => tf.moments(t, axes).mean }, rng);
      diff(`moments.variance ${shape.join('×')}`, {
        inputs: [x],
        ours: (t) => mb.moments(t).variance,
        theirs: (t) => tf.moments(t, axes).variance,
      }, rng);
    }
  });

  it('batch-norm normalization (x − mean) / sqrt(var + ε) built from moments, both outputs in one graph', () => {
    const rng = new Rng(765);
    const shape = [4, 3, 3, 5];
    diff('batchnorm', {
      inputs: [inp(normals(rng, shape, 2).map((v) => v + 1), shape)],
      ours: (x) => {
        const { mean, variance } = mb.moments(x);
        return mb.div(mb.sub(x, mean), mb.sqrt(mb.add(variance, 1e-3)));
      },
      theirs: (x) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-3)));
      },
      // The input gradient of a normalization is a difference of nearly equal terms
      // (g − mean(g) − x̂·mean(g·x̂)) / σ, summed over 36 rows in another order: 1e-4
      // relative to the largest gradient still holds, so the default stays.
    }, rng);
  });

  it('a small network end to end: relu(x·W + b) → softmax cross-entropy', () => {
    const rng = new Rng(770);
    const labels = Array.from({ length: 6 }, () => rng.int(4));
    const onehot = tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), 4), 'float32');
    diff('mlp', {
      inputs: [inp(normals(rng, [6, 5]), [6, 5]), inp(normals(rng, [5, 4]), [5, 4]), inp(normals(rng, [4]), [4])],
      ours: (x, w, b) => mb.softmaxCrossEntropy(mb.relu(mb.add(mb.matmul(x, w), b)), labels),
      theirs: (x, w, b) => tf.losses.softmaxCrossEntropy(onehot, tf.relu(tf.add(tf.matMul(x, w), b)), undefined, 0, tf.Reduction.MEAN),
    }, rng);
    onehot.dispose();
  });
});

// ------------------------------------------------------------------ elementwise

describe('broadcasting binary ops (gradients summed back to each input shape)', () => {
  const pairs: [number[], number[]][] = [
    [[3, 4], [3, 4]],
    [[2, 3, 4], [4]],
    [[2, 3, 4], [3, 1]],
    [[2, 1, 4], [1, 3, 1]],
    [[5, 1], [1, 6]],
    [[], [2, 3]],
    [[4, 1, 3], [2, 1]],
    [[1], [7, 9]],
    [[2, 3, 37], [2, 1, 37]],
    [[16, 5, 5, 8], [8]], // a conv layer's bias: merged to 400 rows of 8 (the 2-D fast path)
  ];
  // TF.js's Maximum/Minimum gradients are not reduced to broadcast input shapes (its
  // engine rejects them), so those references broadcast both operands explicitly.
  const bothTo = (f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
    const shape = broadcastShape(a.shape, b.shape);
    return f(tf.broadcastTo(a, shape), tf.broadcastTo(b, shape));
  };
  const ops: [string, (a: Tensor, b: Tensor) => Tensor, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', mb.add, tf.add],
    ['sub', mb.sub, tf.sub],
    ['mul', mb.mul, tf.mul],
    ['div', mb.div, tf.div],
    ['maximum', mb.maximum, bothTo(tf.maximum)],
    ['minimum', mb.minimum, bothTo(tf.minimum)],
  ];
  for (const [name, ours, theirs] of ops) {
    it(`${name} over ${pairs.length} shape pairs, both argument orders`, () => {
      const rng = new Rng(800 + ops.findIndex((o) => o[0] === name));
      for (const [sa, sb] of pairs) {
        for (const [s1, s2] of [[sa, sb], [sb, sa]]) {
          // Denominators kept ≥ 0.5 in magnitude so div's gradient −g·a/b² stays O(10).
          const a = inp(normals(rng, s1), s1);
          const b = inp(name === 'div' ? awayFromZero(rng, s2, 0.5) : normals(rng, s2), s2);
          diff(`${name} [${s1}] [${s2}]`, { inputs: [a, b], ours, theirs }, rng);
        }
      }
    });
  }

  it('pow with a tensor exponent (positive base), broadcasting', () => {
    const rng = new Rng(820);
    for (const [sa, sb] of [[[3, 4], [3, 4]], [[2, 3, 4], [4]], [[3, 1], [1, 5]]]) {
      diff(`pow [${sa}] [${sb}]`, {
        inputs: [inp(uniforms(rng, sa, 0.3, 2.5), sa), inp(uniforms(rng, sb, -2, 2), sb)],
        ours: (a, b) => mb.pow(a, b),
        theirs: (a, b) => tf.pow(a, b),
      }, rng);
    }
  });

  it('where(cond, a, b) with broadcasting', () => {
    const rng = new Rng(830);
    for (const [sc, sa, sb] of [[[3, 4], [3, 4], [3, 4]], [[3, 1], [3, 4], [4]], [[2, 3, 4], [3, 4], [2, 1, 1]]]) {
      const cond = Float32Array.from(normals(rng, sc), (v) => (v > 0 ? 1 : 0));
      const shape = broadcastShape(broadcastShape(sc, sa), sb);
      diff(`where [${sc}] [${sa}] [${sb}]`, {
        inputs: [inp(normals(rng, sa), sa), inp(normals(rng, sb), sb)],
        ours: (a, b) => mb.where(mb.tensor(cond, sc), a, b),
        // TF.js's Select gradient does not reduce broadcast inputs: broadcast explicitly.
        theirs: (a, b) =>
          tf.where(tf.broadcastTo(tf.cast(tf.tensor(cond, sc), 'bool'), shape), tf.broadcastTo(a, shape), tf.broadcastTo(b, shape)),
      }, rng);
    }
  });

  it('numbers as operands (x + 2, 3 − x, x · 0.5, 1 / x)', () => {
    const rng = new Rng(840);
    const x = inp(awayFromZero(rng, [5, 7], 0.5), [5, 7]);
    diff('x + 2', { inputs: [x], ours: (t) => mb.add(t, 2), theirs: (t) => tf.add(t, 2) }, rng);
    diff('3 - x', { inputs: [x], ours: (t) => mb.sub(3, t), theirs: (t) => tf.sub(3, t) }, rng);
    diff('x * 0.5', { inputs: [x], ours: (t) => mb.mul(t, 0.5), theirs: (t) => tf.mul(t, 0.5) }, rng);
    diff('1 / x', { inputs: [x], ours: (t) => mb.div(1, t), theirs: (t) => tf.div(1, t) }, rng);
  });
});

describe('unary ops', () => {
  // 3×37 = 111 elements: SIMD bodies and scalar tails both run.
  const shape = [3, 37];
  type Gen = (rng: Rng) => Float32Array;
  const normal: Gen = (rng) => normals(rng, shape, 2);
  const positive: Gen = (rng) => uniforms(rng, shape, 0.2, 4);
  const kinkFree: Gen = (rng) => awayFromZero(rng, shape);
  const ops: [string, Gen, (x: Tensor) => Tensor, (x: tf.Tensor) => tf.Tensor][] = [
    ['neg', normal, mb.neg, tf.neg],
    ['exp', normal, mb.exp, tf.exp],
    ['log', positive, mb.log, tf.log],
    ['sqrt', positive, mb.sqrt, tf.sqrt],
    ['abs', kinkFree, mb.abs, tf.abs],
    ['relu', kinkFree, mb.relu, tf.relu],
    ['leakyRelu (default alpha 0.01)', kinkFree, (x) => mb.leakyRelu(x), (x) => tf.leakyRelu(x, 0.01)],
    ['leakyRelu alpha 0.2', kinkFree, (x) => mb.leakyRelu(x, 0.2), (x) => tf.leakyRelu(x, 0.2)],
    ['elu (alpha 1)', kinkFree, (x) => mb.elu(x), tf.elu],
    // tf.elu has no alpha: relu(x) + alpha·(exp(min(x, 0)) − 1), written out.
    ['elu alpha 0.5', kinkFree, (x) => mb.elu(x, 0.5), (x) => tf.add(tf.relu(x), tf.mul(0.5, tf.sub(tf.exp(tf.neg(tf.relu(tf.neg(x)))), 1)))],
    ['sigmoid', normal, mb.sigmoid, tf.sigmoid],
    ['sigmoid of large |x|', (rng) => normals(rng, shape, 20), mb.sigmoid, tf.sigmoid],
    ['tanh', normal, mb.tanh, tf.tanh],
    ['square', normal, mb.square, tf.square],
    ['pow 3', normal, (x) => mb.pow(x, 3), (x) => tf.pow(x, 3)],
    ['pow 0.5', positive, (x) => mb.pow(x, 0.5), (x) => tf.pow(x, 0.5)],
    ['pow -1.5', positive, (x) => mb.pow(x, -1.5), (x) => tf.pow(x, -1.5)],
  ];
  for (const [name, gen, ours, theirs] of ops) {
    it(name, () => {
      const rng = new Rng(900 + ops.findIndex((o) => o[0] === name));
      // Default tolerance: both sides are correctly rounded or within a few ulps (Mathf
      // vs Math in double), so 1e-4 relative is ample.
      diff(name, { inputs: [inp(gen(rng), shape)], ours, theirs }, rng);
    });
  }
});

describe('NaN propagation (forward) as in TF.js', () => {
  // NaN at positions inside the 4-lane SIMD body and in the scalar tail (9 elements).
  const values = Float32Array.from([NaN, 1.5, -1, NaN, -2, NaN, 0.5, 3, NaN]);
  const sameValues = (actual: Float32Array, expected: ArrayLike<number>, label: string): void => {
    const nanAt = (a: ArrayLike<number>): number[] => Array.from(a).flatMap((v, i) => (Number.isNaN(v) ? [i] : []));
    expect(nanAt(actual), `${label}: NaN positions`).toEqual(nanAt(expected));
    expectClose(actual.map((v) => (Number.isNaN(v) ? 0 : v)), Array.from(expected, (v) => (Number.isNaN(v) ? 0 : v)), TOL, label);
  };
  const ops: [string, (x: Tensor) => Tensor, (x: tf.Tensor) => tf.Tensor][] = [
    // relu is the regression case: its scalar kernel (x > 0 ? x : 0) turned NaN into 0,
    // in the scalar build and in the tails of the SIMD build, whose f32x4.max kept NaN.
    ['relu', mb.relu, tf.relu],
    ['leakyRelu', (x) => mb.leakyRelu(x, 0.2), (x) => tf.leakyRelu(x, 0.2)],
    ['elu', (x) => mb.elu(x), tf.elu],
    ['abs', mb.abs, tf.abs],
    ['neg', mb.neg, tf.neg],
    ['sqrt of |x|', (x) => mb.sqrt(mb.abs(x)), (x) => tf.sqrt(tf.abs(x))],
    ['sigmoid', mb.sigmoid, tf.sigmoid],
    ['tanh', mb.tanh, tf.tanh],
    ['exp', mb.exp, tf.exp],
    ['maximum(x, 0)', (x) => mb.maximum(x, mb.zeros([9])), (x) => tf.maximum(x, tf.zeros([9]))],
    ['minimum(x, 0)', (x) => mb.minimum(x, mb.zeros([9])), (x) => tf.minimum(x, tf.zeros([9]))],
    ['x + 1', (x) => mb.add(x, 1), (x) => tf.add(x, 1)],
  ];
  for (const [name, ours, theirs] of ops) {
    it(name, () => {
      const mine = mb.scope(() => ours(mb.tensor(values, [9])).data());
      const ref = tf.tidy(() => theirs(tf.tensor1d(values)).dataSync());
      sameValues(mine, ref, name);
    });
  }
});

// ------------------------------------------------------------------ reductions

describe('reductions over axes, with and without keepDims', () => {
  const shape = [3, 4, 5];
  const axesList: (number | number[] | undefined)[] = [undefined, 0, 1, 2, -1, [0, 2], [0, 1], [1, 2], [0, 1, 2], [2, 0]];
  const ops: [string, typeof mb.sum, (x: tf.Tensor, axes: number | number[] | undefined, keepDims: boolean) => tf.Tensor][] = [
    ['sum', mb.sum, (x, a, k) => tf.sum(x, a, k)],
    ['mean', mb.mean, (x, a, k) => tf.mean(x, a, k)],
    ['max', mb.max, (x, a, k) => tf.max(x, a, k)],
    ['min', mb.min, (x, a, k) => tf.min(x, a, k)],
  ];
  for (const [name, ours, theirs] of ops) {
    it(`${name} over ${axesList.length} axis sets × keepDims, on ${shape.join('×')} and 2×3×37×9`, () => {
      const rng = new Rng(1000 + ops.findIndex((o) => o[0] === name));
      for (const s of [shape, [2, 3, 37, 9]]) {
        for (const axes of axesList) {
          for (const keepDims of [false, true]) {
            // Distinct values: max/min have a unique winner (both libraries give all tied
            // elements the gradient, but ties would make the comparison depend on rounding).
            // Shifted to [1, 5): sums do not cancel, so the scale-relative tolerance bounds
            // the summation-order error relative to Σ|x| (TF.js sums in float64).
            diff(`${name} axes ${JSON.stringify(axes)} keepDims ${keepDims} [${s}]`, {
              inputs: [inp(distinct(rng, s).map((v) => v + 3), s)],
              ours: (x) => ours(x, axes, { keepDims }),
              theirs: (x) => theirs(x, axes, keepDims),
            }, rng);
          }
        }
      }
    });
  }

  it('max and min with ties: every tied element receives the gradient (both libraries)', () => {
    const rng = new Rng(1005);
    const s = [4, 6, 5];
    // Small integers: many exact ties, and exact comparisons on both sides.
    const values = Float32Array.from({ length: 120 }, () => rng.int(3));
    for (const axes of [undefined, 0, 1, [0, 2]]) {
      diff(`max ties ${JSON.stringify(axes)}`, { inputs: [inp(values, s)], ours: (x) => mb.max(x, axes), theirs: (x) => tf.max(x, axes) }, rng);
      diff(`min ties ${JSON.stringify(axes)}`, { inputs: [inp(values, s)], ours: (x) => mb.min(x, axes), theirs: (x) => tf.min(x, axes) }, rng);
    }
  });

  it('size-1 axes and an empty axis list', () => {
    const rng = new Rng(1007);
    const s = [3, 1, 5, 1];
    for (const axes of [1, [1, 3], [0, 1], 3, [] as number[]]) {
      for (const keepDims of [false, true]) {
        diff(`sum [${s}] ${JSON.stringify(axes)} keepDims ${keepDims}`, {
          inputs: [inp(normals(rng, s), s)], ours: (x) => mb.sum(x, axes, { keepDims }), theirs: (x) => tf.sum(x, axes, keepDims),
        }, rng);
        diff(`mean [${s}] ${JSON.stringify(axes)} keepDims ${keepDims}`, {
          inputs: [inp(normals(rng, s), s)], ours: (x) => mb.mean(x, axes, { keepDims }), theirs: (x) => tf.mean(x, axes, keepDims),
        }, rng);
        diff(`max [${s}] ${JSON.stringify(axes)} keepDims ${keepDims}`, {
          inputs: [inp(distinct(rng, s), s)], ours: (x) => mb.max(x, axes, { keepDims }), theirs: (x) => tf.max(x, axes, keepDims),
        }, rng);
      }
    }
  });

  it('sum and max along an axis of a rank-4 tensor with a long inner run (SIMD paths)', () => {
    const rng = new Rng(1010);
    const s = [2, 17, 3, 9];
    for (const axes of [1, [1, 2], [0, 3], 3]) {
      diff(`sum ${JSON.stringify(axes)}`, { inputs: [inp(normals(rng, s).map((v) => v + 2), s)], ours: (x) => mb.sum(x, axes), theirs: (x) => tf.sum(x, axes) }, rng);
      diff(`max ${JSON.stringify(axes)}`, { inputs: [inp(distinct(rng, s), s)], ours: (x) => mb.max(x, axes), theirs: (x) => tf.max(x, axes) }, rng);
    }
  });
});

// ------------------------------------------------------------------ shape ops

describe('shape ops', () => {
  it('transpose', () => {
    const rng = new Rng(1100);
    const cases: [number[], number[] | undefined][] = [
      [[2, 3, 4], [2, 0, 1]], [[2, 3, 4], [1, 0, 2]], [[2, 3, 4], undefined], [[5, 7], undefined], [[2, 3, 4, 5], [0, 2, 3, 1]], [[1, 6, 1], [2, 1, 0]],
    ];
    for (const [s, perm] of cases) {
      diff(`transpose [${s}] ${perm}`, { inputs: [inp(normals(rng, s), s)], ours: (x) => mb.transpose(x, perm), theirs: (x) => tf.transpose(x, perm) }, rng);
    }
  });

  it('reshape and broadcastTo', () => {
    const rng = new Rng(1110);
    diff('reshape', { inputs: [inp(normals(rng, [2, 3, 4]), [2, 3, 4])], ours: (x) => mb.reshape(x, [4, -1]), theirs: (x) => tf.reshape(x, [4, -1]) }, rng);
    for (const [from, to] of [[[3, 1], [2, 3, 4]], [[4], [3, 4]], [[2, 1, 3], [2, 5, 3]], [[1], [3, 3]]]) {
      diff(`broadcastTo [${from}] → [${to}]`, {
        inputs: [inp(normals(rng, from), from)],
        ours: (x) => mb.broadcastTo(x, to),
        theirs: (x) => tf.broadcastTo(x, to),
      }, rng);
    }
  });

  it('slice', () => {
    const rng = new Rng(1120);
    const cases: [number[], number[], number[] | undefined][] = [
      [[4, 5, 6], [1, 0, 2], [2, -1, 3]],
      [[4, 5, 6], [0, 4, 0], [4, 1, 6]],
      [[7, 9], [3, 2], undefined],
      [[10], [3], [5]],
    ];
    for (const [s, begin, size] of cases) {
      diff(`slice [${s}] begin ${begin} size ${size}`, {
        inputs: [inp(normals(rng, s), s)],
        ours: (x) => mb.slice(x, begin, size),
        theirs: (x) => tf.slice(x, begin, size),
      }, rng);
    }
  });

  it('concat', () => {
    const rng = new Rng(1130);
    const cases: [number[][], number][] = [
      [[[2, 3], [4, 3]], 0],
      [[[2, 3], [2, 5], [2, 1]], 1],
      [[[2, 3, 4], [2, 1, 4], [2, 2, 4]], 1],
      [[[2, 3, 4], [2, 3, 1]], -1],
      [[[3, 2, 2], [1, 2, 2]], 0],
    ];
    for (const [shapes, axis] of cases) {
      diff(`concat ${JSON.stringify(shapes)} axis ${axis}`, {
        inputs: shapes.map((s) => inp(normals(rng, s), s)),
        ours: (...xs) => mb.concat(xs, axis),
        theirs: (...xs) => tf.concat(xs, axis),
      }, rng);
    }
  });

  it('gather (repeated indices add up in the gradient)', () => {
    const rng = new Rng(1140);
    const cases: [number[], number[], number][] = [
      [[5, 4], [4, 0, 0, 2], 0],
      [[3, 5, 2], [1, 4, 1], 1],
      [[3, 5, 2], [1, 1, 0, 1], 2],
      [[6], [5, 5, 5], 0],
    ];
    for (const [s, idx, axis] of cases) {
      diff(`gather [${s}] ${idx} axis ${axis}`, {
        inputs: [inp(normals(rng, s), s)],
        ours: (x) => mb.gather(x, idx, axis),
        theirs: (x) => tf.gather(x, tf.tensor1d(idx, 'int32'), axis),
      }, rng);
    }
  });

  it('concat of the same tensor twice, and a slice of a concat', () => {
    const rng = new Rng(1145);
    diff('concat [x, x]', {
      inputs: [inp(normals(rng, [3, 4]), [3, 4])],
      ours: (x) => mb.concat([x, x, mb.slice(x, [1, 0], [1, 4])], 0),
      theirs: (x) => tf.concat([x, x, tf.slice(x, [1, 0], [1, 4])], 0),
    }, rng);
  });

  it('a tensor used several times accumulates its gradient (x·x + exp(x) + xᵀ·x)', () => {
    const rng = new Rng(1150);
    diff('reuse', {
      inputs: [inp(normals(rng, [4, 4]), [4, 4])],
      ours: (x) => mb.add(mb.add(mb.mul(x, x), mb.exp(x)), mb.matmul(x, x, { transposeA: true })),
      theirs: (x) => tf.add(tf.add(tf.mul(x, x), tf.exp(x)), tf.matMul(x, x, true, false)),
    }, rng);
  });
});
