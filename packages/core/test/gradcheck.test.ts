// Numeric gradient checks (central differences) for every differentiable op, over random
// shapes and, for convolution and pooling, several strides, paddings and dilations.
import { describe, expect, it } from 'vitest';
import {
  Rng, Tensor, abs, add, avgPool2d, batchNorm, broadcastTo, concat, conv2d, depthwiseConv2d, div, elu, pad, exp, gather, gradcheck, leakyRelu, linear,
  log, logSoftmax, matmul, max, maximum, maxPool2d, mean, meanSquaredError, min, minimum, moments, mul, neg, pow,
  randn, rand, relu, reshape, scope, sigmoid, slice, softmax, softmaxCrossEntropy, sqrt, square, sub, sum, tanh,
  tensor, transpose, where, gt,
} from '../src/index.js';

const rng = new Rng(1234);
const param = (shape: number[], opts: { low?: number; high?: number } = {}): Tensor =>
  (opts.low !== undefined ? rand(shape, { rng, low: opts.low, high: opts.high }) : randn(shape, { rng })).setRequiresGrad();

function check(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options = {}): void {
  const result = scope(() => gradcheck(fn, inputs, options));
  if (!result.ok) console.error(result.failures);
  expect(result.ok).toBe(true);
  for (const x of inputs) x.dispose();
}

function randomShape(rank: number): number[] {
  return Array.from({ length: rank }, () => 1 + rng.int(4));
}

// Inputs away from kinks (0 for relu/abs/leaky/elu) so finite differences are meaningful.
function awayFromZero(shape: number[]): Tensor {
  const t = randn(shape, { rng });
  const v = t.view();
  for (let i = 0; i < v.length; i++) v[i] = Math.sign(v[i] || 1) * (0.1 + Math.abs(v[i]));
  return t.setRequiresGrad();
}

// Distinct values on a 0.1 grid (shifted by `offset`): no two within 2·eps, so a max or a
// comparison cannot switch sides inside a finite-difference step.
function distinct(shape: number[], offset = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = rng.shuffle(Array.from({ length: n }, (_, i) => (i - Math.floor(n / 2)) * 0.1 + offset));
  return tensor(values, shape).setRequiresGrad();
}

describe('gradcheck: unary ops', () => {
  for (const rank of [1, 2, 3]) {
    it(`smooth unary ops, rank ${rank}`, () => {
      const shape = randomShape(rank);
      check((x) => exp(x), [param(shape)]);
      check((x) => tanh(x), [param(shape)]);
      check((x) => sigmoid(x), [param(shape)]);
      check((x) => neg(x), [param(shape)]);
      check((x) => square(x), [param(shape)]);
      check((x) => log(x), [param(shape, { low: 0.5, high: 2 })]);
      check((x) => sqrt(x), [param(shape, { low: 0.5, high: 2 })]);
      check((x) => pow(x, 3), [param(shape)]);
      check((x) => pow(x, 0.5), [param(shape, { low: 0.5, high: 2 })]);
    });
    it(`piecewise unary ops, rank ${rank}`, () => {
      const shape = randomShape(rank);
      check((x) => relu(x), [awayFromZero(shape)]);
      check((x) => abs(x), [awayFromZero(shape)]);
      check((x) => leakyRelu(x, 0.2), [awayFromZero(shape)]);
      check((x) => elu(x, 1.5), [awayFromZero(shape)]);
    });
  }
});

describe('gradcheck: binary ops with broadcasting', () => {
  const pairs: [number[], number[]][] = [
    [[3, 4], [3, 4]],
    [[3, 4], [4]],
    [[3, 1], [1, 4]],
    [[2, 3, 4], [3, 1]],
    [[5], []],
    [[1, 3, 1], [2, 1, 4]],
  ];
  for (const [sa, sb] of pairs) {
    it(`[${sa}] with [${sb}]`, () => {
      check((a, b) => add(a, b), [param(sa), param(sb)]);
      check((a, b) => sub(a, b), [param(sa), param(sb)]);
      check((a, b) => mul(a, b), [param(sa), param(sb)]);
      check((a, b) => div(a, b), [param(sa), param(sb, { low: 0.5, high: 2 })]);
      check((a, b) => pow(a, b), [param(sa, { low: 0.5, high: 2 }), param(sb)]);
      check((a, b) => maximum(a, b), [distinct(sa), distinct(sb, 0.05)]);
      check((a, b) => minimum(a, b), [distinct(sa), distinct(sb, 0.05)]);
      check((a, b) => where(gt(a, 0), a, b), [awayFromZero(sa), param(sb)]);
    });
  }
});

describe('gradcheck: reductions', () => {
  it('sum, mean, max, min over axes with and without keepDims', () => {
    for (const axes of [undefined, 0, 1, 2, [0, 2], [1, 2], -1]) {
      for (const keepDims of [false, true]) {
        check((x) => sum(x, axes, { keepDims }), [param([2, 3, 4])]);
        check((x) => mean(x, axes, { keepDims }), [param([2, 3, 4])]);
        check((x) => max(x, axes, { keepDims }), [distinct([2, 3, 4])]);
        check((x) => min(x, axes, { keepDims }), [distinct([2, 3, 4])]);
      }
    }
  });
});

describe('gradcheck: matmul', () => {
  for (const [m, k, n] of [[1, 1, 1], [3, 4, 5], [7, 2, 9], [17, 13, 6]]) {
    for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]]) {
      it(`${m}×${k}·${k}×${n}, transposeA ${ta}, transposeB ${tb}`, () => {
        const a = param(ta ? [k, m] : [m, k]);
        const b = param(tb ? [n, k] : [k, n]);
        check((x, y) => matmul(x, y, { transposeA: ta, transposeB: tb }), [a, b]);
      });
    }
  }
  it('batched, and a matrix shared by the batch', () => {
    check((x, y) => matmul(x, y), [param([2, 3, 4]), param([2, 4, 5])]);
    check((x, y) => matmul(x, y), [param([2, 3, 4]), param([4, 5])]);
    check((x, y) => matmul(x, y, { transposeA: true }), [param([3, 4]), param([2, 3, 5])]);
    check((x, w, b) => linear(x, w, b), [param([2, 3, 4]), param([4, 5]), param([5])]);
  });
});

describe('gradcheck: movement ops', () => {
  it('reshape, broadcastTo, transpose, slice, concat, gather', () => {
    check((x) => reshape(x, [4, -1]), [param([2, 3, 2])]);
    check((x) => broadcastTo(x, [2, 3, 4]), [param([3, 1])]);
    check((x) => transpose(x), [param([2, 3])]);
    check((x) => transpose(x, [1, 2, 0]), [param([2, 3, 4])]);
    check((x) => slice(x, [1, 0, 2], [1, -1, 2]), [param([2, 3, 4])]);
    check((a, b) => concat([a, b], 1), [param([2, 3, 2]), param([2, 1, 2])]);
    check((x) => gather(x, [2, 0, 2, 1]), [param([3, 4])]);
    check((x) => gather(x, [1, 1, 0], 1), [param([2, 3, 2])]);
  });
});

describe('gradcheck: softmax family and losses', () => {
  it('softmax and log-softmax along the last and another axis', () => {
    check((x) => softmax(x), [param([3, 5])]);
    check((x) => logSoftmax(x), [param([3, 5])]);
    check((x) => softmax(x, 0), [param([4, 3])]);
    check((x) => logSoftmax(x, 1), [param([2, 3, 4])]);
  });
  it('softmax cross-entropy with integer labels and mean squared error', () => {
    check((x) => softmaxCrossEntropy(x, [0, 4, 2]), [param([3, 5])]);
    const target = randn([4, 3], { rng });
    check((p) => meanSquaredError(p, target), [param([4, 3])]);
    target.dispose();
  });
  it('batch-norm statistics (moments) and a composed batch norm', () => {
    check((x) => moments(x).mean, [param([6, 3])]);
    check((x) => moments(x).variance, [param([6, 3])]);
    check((x) => {
      const { mean: m, variance: v } = moments(x);
      return div(sub(x, m), sqrt(add(v, 1e-5)));
    }, [param([2, 3, 3, 2])]);
  });
  it('fused batch norm: x, γ and β, channels with and without a SIMD tail', () => {
    for (const shape of [[2, 3, 3, 2], [5, 8], [3, 2, 2, 6], [4, 17]]) {
      const c = shape[shape.length - 1];
      check((x, g, b) => batchNorm(x, g, b, 1e-3).y, [param(shape), param([c], { low: 0.5, high: 2 }), param([c])]);
    }
  });
});

describe('gradcheck: convolution', () => {
  const cases = [
    { x: [2, 5, 5, 3], f: [3, 3, 3, 4], o: { padding: 'valid' as const } },
    { x: [1, 6, 6, 2], f: [3, 3, 2, 3], o: { padding: 'same' as const, strides: 2 } },
    { x: [1, 7, 6, 2], f: [3, 2, 2, 2], o: { padding: 'same' as const, dilations: 2 } },
    { x: [2, 5, 5, 1], f: [5, 5, 1, 2], o: { padding: 'same' as const } },
    { x: [1, 6, 5, 2], f: [2, 2, 2, 3], o: { padding: [[1, 0], [2, 1]] as const, strides: [2, 1] as const } },
    { x: [2, 4, 4, 3], f: [1, 1, 3, 2], o: {} },
    { x: [1, 8, 8, 1], f: [3, 3, 1, 2], o: { strides: 3, padding: 1 } },
    // the direct kernels: 8 and 16+8 output channels, the input gradient direct at stride 1
    { x: [2, 5, 6, 8], f: [3, 3, 8, 8], o: { padding: 'same' as const } },
    { x: [1, 5, 5, 8], f: [2, 3, 8, 24], o: { padding: [[1, 0], [0, 2]] as const } },
    { x: [1, 7, 7, 2], f: [3, 3, 2, 8], o: { padding: 'same' as const, strides: 2 } },
  ];
  for (const { x, f, o } of cases) {
    it(`x [${x}] filter [${f}] ${JSON.stringify(o)}`, () => {
      check((a, w) => conv2d(a, w, o), [param(x), param(f)]);
    });
  }
  it('with bias, through a smooth activation', () => {
    check((a, w, b) => tanh(add(conv2d(a, w, { padding: 'same' }), b)), [param([1, 4, 4, 2]), param([3, 3, 2, 2]), param([2])]);
  });
});

describe('gradcheck: depthwise convolution and padding', () => {
  const cases = [
    { x: [2, 5, 5, 3], f: [3, 3, 3, 1], o: { padding: 'same' as const } },
    { x: [1, 7, 6, 18], f: [3, 3, 18, 1], o: { padding: 'same' as const, strides: 2 } }, // 16-channel blocks + a remainder of 2
    { x: [1, 6, 7, 5], f: [2, 3, 5, 1], o: { padding: [[1, 0], [0, 2]] as const, strides: [2, 1] as const } },
    { x: [1, 7, 7, 4], f: [3, 3, 4, 1], o: { padding: 'same' as const, dilations: 2 } },
    { x: [1, 5, 5, 2], f: [3, 3, 2, 3], o: { padding: 'valid' as const } }, // depth multiplier 3
  ];
  for (const { x, f, o } of cases) {
    it(`x [${x}] filter [${f}] ${JSON.stringify(o)}`, () => {
      check((a, w) => depthwiseConv2d(a, w, o), [param(x), param(f)]);
    });
  }
  it('pad: zeros around, gradient the inner block', () => {
    check((a) => pad(a, [[0, 0], [1, 2], [0, 1], [0, 0]]), [param([2, 3, 2, 2])]);
  });
});

describe('gradcheck: pooling', () => {
  const cases = [
    { x: [2, 4, 4, 3], o: { size: 2 } },
    { x: [1, 5, 5, 2], o: { size: 3, strides: 2 } },
    { x: [1, 5, 5, 2], o: { size: 3, strides: 1, padding: 'same' as const } },
    { x: [1, 5, 4, 1], o: { size: [2, 3] as const, strides: [1, 2] as const, padding: 'same' as const } },
    { x: [1, 4, 4, 2], o: { size: 2, strides: 2, padding: [[1, 1], [1, 1]] as const } },
  ];
  for (const { x, o } of cases) {
    it(`max and average pooling, x [${x}] ${JSON.stringify(o)}`, () => {
      check((a) => maxPool2d(a, o), [distinct(x)]);
      check((a) => avgPool2d(a, o), [param(x)]);
    });
  }
});

describe('gradcheck itself', () => {
  it('passes a right gradient and catches a wrong one', () => {
    const x = param([3]);
    expect(scope(() => gradcheck((t) => mul(t, 3), [x])).ok).toBe(true);
    // detach() hides the second term from backward (analytic 3) but not from the
    // finite differences (numeric 4): gradcheck must report it.
    const wrong = scope(() => gradcheck((t) => add(mul(t, 3), t.detach()), [x]));
    expect(wrong.ok).toBe(false);
    const { numeric, analytic } = wrong.failures[0];
    expect(numeric / analytic).toBeCloseTo(4 / 3, 2);
    x.dispose();
  });
});
