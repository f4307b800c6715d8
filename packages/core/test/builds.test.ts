// The SIMD and the scalar kernel builds must agree: the same ops on the same inputs, run in
// two engines (createEngine({ build }) + useEngine), forward values and gradients (with the
// same seed gradient), for a representative set of ops.
//
// Tolerances:
//  - exact (=== elementwise, NaN matching NaN) for ops whose SIMD form does the same IEEE
//    operations per element as the scalar form: elementwise ops and their gradients (for
//    same-shape operands), max/min reductions, data movement, pooling, softmax;
//  - |simd − scalar| ≤ 1e-5·max|scalar| + 1e-5·|scalar| where the SIMD code sums in another
//    order: GEMM (matmul, conv2d and their gradients, 4-lane accumulators) and sum / mean /
//    moments / gradients of broadcast operands (4-lane partial sums). A reordered float32 sum of k terms differs by about
//    k·2⁻²⁴·Σ|terms|, i.e. < 1e-5 of the result's scale for the sizes here (k ≤ 300).
import { beforeAll, describe, expect, it } from 'vitest';
import * as mb from '../src/index.js';
import { Rng, createEngine, useEngine, type Engine, type Padding, type Tensor } from '../src/index.js';

interface Tol {
  atol: number;
  rtol: number;
}
const REORDERED: Tol = { atol: 1e-5, rtol: 1e-5 };
const EXACT: Tol = { atol: 0, rtol: 0 };

interface Input {
  values: Float32Array;
  shape: number[];
}
interface Outputs {
  build: string;
  engineOk: boolean;
  shape: number[];
  y: Float32Array;
  grads: Float32Array[];
}

function normals(rng: Rng, shape: readonly number[], std = 1): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => std * rng.normal());
}
const inp = (rng: Rng, shape: number[], std = 1): Input => ({ values: normals(rng, shape, std), shape });

let simd: Engine;
let scalar: Engine;

beforeAll(async () => {
  simd = await createEngine({ build: 'simd' });
  scalar = await createEngine({ build: 'scalar' });
});

/** Runs fn in engine e on fresh copies of the inputs, backpropagating dy = normals(seed). */
function runIn(e: Engine, inputs: Input[], fn: (...xs: Tensor[]) => Tensor, seed: number): Outputs {
  const previous = useEngine(e);
  try {
    return mb.scope(() => {
      const xs = inputs.map((x) => mb.tensor(x.values, x.shape).setRequiresGrad());
      const y = fn(...xs);
      const shape = [...y.shape];
      y.backward(mb.tensor(normals(new Rng(seed), shape), shape));
      return {
        build: e.build,
        engineOk: y.engine === e && xs.every((x) => x.engine === e && x.grad?.engine === e),
        shape,
        y: y.data(),
        grads: xs.map((x) => x.grad!.data()),
      };
    });
  } finally {
    if (previous !== null) useEngine(previous);
  }
}

/** The first disagreement, or null. */
function mismatch(a: Float32Array, b: Float32Array, tol: Tol): string | null {
  if (a.length !== b.length) return `length ${a.length} ≠ ${b.length}`;
  let scale = 0;
  for (const v of b) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    if (a[i] === b[i]) continue;
    if (!(Math.abs(a[i] - b[i]) <= tol.atol * scale + tol.rtol * Math.abs(b[i]))) {
      return `element ${i}: simd ${a[i]}, scalar ${b[i]} (|Δ| = ${Math.abs(a[i] - b[i])}, scale ${scale})`;
    }
  }
  return null;
}

let caseSeed = 1;
/** Runs a case in both builds and asserts agreement of the output and every gradient. */
function agree(label: string, inputs: Input[], fn: (...xs: Tensor[]) => Tensor, tol: Tol, gradTol = tol): void {
  const seed = caseSeed++;
  const a = runIn(simd, inputs, fn, seed);
  const b = runIn(scalar, inputs, fn, seed);
  expect([a.build, b.build]).toEqual(['simd', 'scalar']);
  expect(a.engineOk && b.engineOk, `${label}: tensors were created in the wrong engine`).toBe(true);
  expect(a.shape, `${label}: shape`).toEqual(b.shape);
  const f = mismatch(a.y, b.y, tol);
  expect(f, `${label}: forward: ${f}`).toBeNull();
  a.grads.forEach((g, i) => {
    const m = mismatch(g, b.grads[i], gradTol);
    expect(m, `${label}: gradient of input ${i}: ${m}`).toBeNull();
  });
}

describe('SIMD and scalar builds agree', () => {
  it('the two engines are distinct instances of the requested builds', () => {
    expect(simd.build).toBe('simd');
    expect(scalar.build).toBe('scalar');
    expect(simd.memory).not.toBe(scalar.memory);
    expect(mismatch(Float32Array.of(1, 2), Float32Array.of(1, 2.001), REORDERED)).not.toBeNull();
    expect(mismatch(Float32Array.of(1, NaN), Float32Array.of(1, 0), EXACT)).not.toBeNull();
  });

  it('matmul, all four transpose combinations, odd and blocked shapes, batched', () => {
    const rng = new Rng(1);
    for (const [m, k, n] of [[1, 7, 5], [33, 65, 17], [64, 64, 64], [130, 300, 70], [5, 3, 129]]) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          const a = inp(rng, tA ? [k, m] : [m, k]);
          const b = inp(rng, tB ? [n, k] : [k, n]);
          agree(`matmul ${m}×${k}×${n} tA=${tA} tB=${tB}`, [a, b], (x, y) => mb.matmul(x, y, { transposeA: tA, transposeB: tB }), REORDERED);
        }
      }
    }
    agree('batched matmul', [inp(rng, [3, 9, 13]), inp(rng, [3, 13, 6])], (x, y) => mb.matmul(x, y), REORDERED);
    agree('matmul with a shared matrix', [inp(rng, [3, 13, 9]), inp(rng, [6, 13])], (x, y) =>
      mb.matmul(x, y, { transposeA: true, transposeB: true }), REORDERED);
  });

  it('conv2d forward and backward (input and filter)', () => {
    const rng = new Rng(2);
    const cases: { x: number[]; f: number[]; strides: number; padding: Padding; dilations: number }[] = [
      { x: [2, 9, 9, 3], f: [3, 3, 3, 8], strides: 1, padding: 'same', dilations: 1 },
      { x: [2, 11, 10, 4], f: [5, 5, 4, 6], strides: 2, padding: 'valid', dilations: 1 },
      { x: [2, 6, 6, 8], f: [1, 1, 8, 5], strides: 1, padding: 'valid', dilations: 1 },
      { x: [1, 10, 10, 3], f: [3, 3, 3, 4], strides: 1, padding: 'same', dilations: 2 },
      { x: [1, 9, 8, 5], f: [3, 3, 5, 7], strides: 2, padding: [[1, 0], [2, 1]], dilations: 1 },
    ];
    for (const c of cases) {
      agree(`conv2d ${JSON.stringify(c)}`, [inp(rng, c.x), inp(rng, c.f)], (x, f) =>
        mb.conv2d(x, f, { strides: c.strides, padding: c.padding, dilations: c.dilations }), REORDERED);
    }
  });

  it('depthwise conv2d forward and backward, and pad', () => {
    const rng = new Rng(12);
    for (const c of [
      { x: [2, 9, 9, 19], f: [3, 3, 19, 1], strides: 2, padding: 'same' as Padding },
      { x: [1, 8, 7, 6], f: [5, 5, 6, 2], strides: 1, padding: [[2, 1], [0, 2]] as Padding },
    ]) {
      agree(`depthwiseConv2d ${JSON.stringify(c)}`, [inp(rng, c.x), inp(rng, c.f)], (x, f) => mb.depthwiseConv2d(x, f, { strides: c.strides, padding: c.padding }), REORDERED);
    }
    agree('pad', [inp(rng, [2, 3, 4, 2])], (x) => mb.pad(x, [[0, 0], [1, 1], [2, 0], [0, 1]]), EXACT);
  });

  it('max and average pooling forward and backward', () => {
    const rng = new Rng(3);
    for (const [size, strides, padding] of [[2, 2, 'valid'], [3, 1, 'same'], [3, 2, 'same'], [2, 1, 'valid']] as const) {
      const x = inp(rng, [2, 9, 7, 6]);
      agree(`maxPool2d ${size}/${strides} ${padding}`, [x], (t) => mb.maxPool2d(t, { size, strides, padding }), EXACT);
      agree(`avgPool2d ${size}/${strides} ${padding}`, [x], (t) => mb.avgPool2d(t, { size, strides, padding }), EXACT);
    }
    // Ties, ±0, −∞ windows and NaN in whole 2×2 windows (the SIMD kernel's straight path) and
    // in the channels past the last 4 (the scalar tail): the same maxima, and each gradient
    // at the same cell (ties keep the first; NaN wins).
    const pick = [-Infinity, -1, -0, 0, 1, 2, NaN];
    const tied: Input = { values: Float32Array.from({ length: 2 * 6 * 8 * 6 }, () => pick[Math.abs(Math.floor(rng.normal() * 3)) % pick.length]), shape: [2, 6, 8, 6] };
    agree('maxPool2d 2/2 with ties, ±0, −∞ and NaN', [tied], (t) => mb.maxPool2d(t, { size: 2 }), EXACT);
  });

  it('softmax cross-entropy, softmax and logSoftmax', () => {
    const rng = new Rng(4);
    const labels = Array.from({ length: 16 }, () => rng.int(10));
    agree('softmaxCrossEntropy', [inp(rng, [16, 10], 3)], (x) => mb.softmaxCrossEntropy(x, labels), EXACT);
    agree('softmax axis 0', [inp(rng, [7, 5, 3])], (x) => mb.softmax(x, 0), EXACT);
    agree('logSoftmax', [inp(rng, [6, 37])], (x) => mb.logSoftmax(x), EXACT);
  });

  it('elementwise binary ops with broadcasting (forward exact; gradients summed over broadcast axes)', () => {
    const rng = new Rng(5);
    const pairs: [number[], number[]][] = [[[4, 37], [4, 37]], [[4, 37], [37]], [[4, 37], [4, 1]], [[37], [3, 4, 37]], [[], [5, 9]], [[5, 1], [1, 9]]];
    const ops: [string, (a: Tensor, b: Tensor) => Tensor][] = [
      ['add', mb.add], ['sub', mb.sub], ['mul', mb.mul], ['div', mb.div], ['maximum', mb.maximum], ['minimum', mb.minimum],
    ];
    for (const [name, op] of ops) {
      // The gradient of a broadcast operand is a sum (4-lane partial sums in SIMD).
      for (const [sa, sb] of pairs) agree(`${name} [${sa}] [${sb}]`, [inp(rng, sa), inp(rng, sb)], op, EXACT, REORDERED);
    }
    const pos = (shape: number[]): Input => ({ values: normals(rng, shape).map((v) => 0.5 + Math.abs(v)), shape });
    agree('pow tensor exponent', [pos([4, 37]), inp(rng, [37])], mb.pow, EXACT, REORDERED);
    // Comparisons and where (no gradient through the condition).
    agree('where(gt(a, b), a, b)', [inp(rng, [4, 37]), inp(rng, [37])], (a, b) => mb.where(mb.gt(a, b), a, b), EXACT, REORDERED);
  });

  it('unary ops and their gradients (exact), including NaN handling', () => {
    const rng = new Rng(6);
    const x = inp(rng, [3, 37], 2);
    const positive: Input = { values: x.values.map((v) => 0.1 + Math.abs(v)), shape: x.shape };
    const ops: [string, (t: Tensor) => Tensor, Input][] = [
      ['neg', mb.neg, x], ['exp', mb.exp, x], ['log', mb.log, positive], ['sqrt', mb.sqrt, positive], ['abs', mb.abs, x],
      ['relu', mb.relu, x], ['leakyRelu', (t) => mb.leakyRelu(t, 0.1), x], ['elu', (t) => mb.elu(t, 0.7), x],
      ['sigmoid', mb.sigmoid, x], ['tanh', mb.tanh, x], ['square', mb.square, x], ['pow 2.5', (t) => mb.pow(t, 2.5), positive],
    ];
    for (const [name, op, input] of ops) agree(name, [input], op, EXACT);
    // NaN inside the SIMD body and in the tail: both builds must give NaN at the same
    // places (relu used to give 0 in the scalar build and NaN in the SIMD one).
    const withNaN: Input = { values: Float32Array.from([NaN, 1, -1, NaN, -2, NaN, 0.5, 3, NaN]), shape: [9] };
    for (const [name, op] of [['relu', mb.relu], ['leakyRelu', mb.leakyRelu], ['abs', mb.abs], ['sqrt', mb.sqrt]] as const) {
      const [a, b] = [simd, scalar].map((e) => {
        const previous = useEngine(e);
        try {
          return mb.scope(() => op(mb.tensor(withNaN.values, withNaN.shape)).data());
        } finally {
          if (previous !== null) useEngine(previous);
        }
      });
      const m = mismatch(a, b, EXACT);
      expect(m, `${name} with NaN: ${m}`).toBeNull();
    }
  });

  it('reductions over axes, with keepDims', () => {
    const rng = new Rng(7);
    // Long rows (inner 1, r ≥ 8) and wide inner runs exercise both SIMD reduction paths.
    // Values N(2, 1): sums without cancellation, so the scale-relative bound is the
    // reordering error relative to Σ|x| (with mean-0 data a sum of 3060 terms can cancel
    // to far below the rounding error of its partial sums).
    const shape = [3, 17, 5, 12];
    const shifted = (): Input => ({ values: normals(rng, shape).map((v) => v + 2), shape });
    for (const axes of [undefined, 3, 1, [1, 2], [0, 3], [0, 1, 2]]) {
      for (const keepDims of [false, true]) {
        const x = shifted();
        agree(`sum ${JSON.stringify(axes)} ${keepDims}`, [x], (t) => mb.sum(t, axes, { keepDims }), REORDERED);
        agree(`mean ${JSON.stringify(axes)} ${keepDims}`, [x], (t) => mb.mean(t, axes, { keepDims }), REORDERED);
        agree(`max ${JSON.stringify(axes)} ${keepDims}`, [x], (t) => mb.max(t, axes, { keepDims }), EXACT);
        agree(`min ${JSON.stringify(axes)} ${keepDims}`, [x], (t) => mb.min(t, axes, { keepDims }), EXACT);
      }
    }
    // Channels of narrow rows (4 to 32 floats, a bias's or a BatchNorm's: the SIMD build keeps
    // the columns' running values in registers) are summed row after row in both builds.
    for (const channels of [4, 8, 12, 16, 20, 24, 28, 32, 36]) {
      const x = inp(rng, [2, 3, 41, channels]);
      agree(`sum over rows, ${channels} channels`, [x], (t) => mb.sum(t, [0, 1, 2]), EXACT);
      agree(`sum of a middle axis, ${channels} channels`, [x], (t) => mb.sum(t, 2), EXACT);
      agree(`max over rows, ${channels} channels`, [x], (t) => mb.max(t, [0, 1, 2]), EXACT);
      agree(`min over rows, ${channels} channels`, [x], (t) => mb.min(t, [0, 1, 2]), EXACT);
      agree(`moments.variance, ${channels} channels`, [x], (t) => mb.moments(t).variance, EXACT);
    }
    agree('moments.variance', [inp(rng, [4, 7, 7, 9], 2)], (t) => mb.moments(t).variance, REORDERED);
    agree('moments.mean', [{ values: normals(rng, [50, 6]).map((v) => v + 2), shape: [50, 6] }], (t) => mb.moments(t).mean, REORDERED);
  });

  it('data movement: transpose, slice, concat, gather, broadcastTo (exact)', () => {
    const rng = new Rng(8);
    agree('transpose', [inp(rng, [3, 4, 5, 6])], (t) => mb.transpose(t, [0, 3, 1, 2]), EXACT);
    agree('slice', [inp(rng, [6, 7, 8])], (t) => mb.slice(t, [1, 2, 0], [4, -1, 5]), EXACT);
    agree('concat', [inp(rng, [2, 3, 8]), inp(rng, [2, 5, 8])], (a, b) => mb.concat([a, b], 1), EXACT);
    agree('gather', [inp(rng, [10, 12])], (t) => mb.gather(t, [3, 3, 9, 0], 0), EXACT);
    agree('broadcastTo', [inp(rng, [3, 1, 8])], (t) => mb.broadcastTo(t, [2, 3, 5, 8]), REORDERED);
  });
});
