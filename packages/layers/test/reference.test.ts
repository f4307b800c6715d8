// Forward passes (and a few backward passes) against independent computations: plain JS
// loops in float64, and @tensorflow/tfjs-core on its CPU backend.
import { describe, expect, it } from 'vitest';
import { Rng, type Tensor, noGrad, randn, scope, tensor } from '@minibatch/core';
import {
  AvgPool2d, BatchNorm, Conv2d, Dense, ELU, Flatten, GlobalAvgPool2d, LeakyReLU, MaxPool2d, Maxout, ReLU, ScaledTanh,
  Sigmoid, Softmax, Tanh, maxoutOf, type Module,
} from '../src/index.js';
import { expectClose, tfjs, values } from './helpers.js';

const rng = new Rng(99);

/** Runs a built layer on x without recording, returning the values and the shape. */
function run(layer: Module, x: Tensor): { data: number[]; shape: number[] } {
  return scope(() => noGrad(() => {
    const y = layer.forward(x);
    return { data: values(y), shape: [...y.shape] };
  }));
}

const activationsJs: Record<string, (v: number) => number> = {
  relu: (v) => Math.max(v, 0),
  tanh: Math.tanh,
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  scaledTanh: (v) => 1.7159 * Math.tanh((2 / 3) * v),
  elu: (v) => (v > 0 ? v : Math.exp(v) - 1),
  leakyRelu: (v) => (v > 0 ? v : 0.01 * v),
};

/** Dense in float64: y[i][j] = act(Σ_k x[i][k]·W[k][j] + b[j]). */
function denseJs(x: number[], w: number[], b: number[] | null, rows: number, inF: number, out: number): number[] {
  const y: number[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < out; j++) {
      let s = b === null ? 0 : b[j];
      for (let k = 0; k < inF; k++) s += x[i * inF + k] * w[k * out + j];
      y.push(s);
    }
  }
  return y;
}

describe('dense vs a plain JS loop', () => {
  for (const activation of [undefined, 'relu', 'tanh', 'sigmoid', 'scaledTanh', 'elu', 'leakyRelu'] as const) {
    it(`activation ${activation ?? 'linear'}`, () => {
      const layer = new Dense({ units: 7, ...(activation ? { activation } : {}) });
      layer.build([5], new Rng(3));
      const x = randn([6, 5], { rng });
      const [w, b] = layer.parameters();
      const pre = denseJs(values(x), values(w), values(b), 6, 5, 7);
      const f = activation ? activationsJs[activation] : (v: number) => v;
      const got = run(layer, x);
      expect(got.shape).toEqual([6, 7]);
      expectClose(got.data, pre.map(f), 1e-5, 1e-4);
      layer.dispose();
      x.dispose();
    });
  }

  it('without bias', () => {
    const layer = new Dense({ units: 3, useBias: false });
    layer.build([4], new Rng(1));
    expect(layer.namedParameters().map(([n]) => n)).toEqual(['weight']);
    const x = randn([2, 4], { rng });
    expectClose(run(layer, x).data, denseJs(values(x), values(layer.parameters()[0]), null, 2, 4, 3));
  });

  it('softmax activation: rows are the softmax of x·W + b', () => {
    const layer = new Dense({ units: 4, activation: 'softmax' });
    layer.build([3], new Rng(2));
    const x = randn([5, 3], { rng });
    const pre = denseJs(values(x), values(layer.parameters()[0]), values(layer.parameters()[1]), 5, 3, 4);
    const expected: number[] = [];
    for (let i = 0; i < 5; i++) {
      const row = pre.slice(i * 4, i * 4 + 4);
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const z = e.reduce((a, c) => a + c, 0);
      expected.push(...e.map((v) => v / z));
    }
    expectClose(run(layer, x).data, expected);
  });

  it('maxout: max over consecutive groups of k pre-activations', () => {
    const layer = new Maxout({ units: 3, pieces: 4 });
    layer.build([5], new Rng(4));
    expect(layer.parameters()[0].shape).toEqual([5, 12]);
    const x = randn([4, 5], { rng });
    const pre = denseJs(values(x), values(layer.parameters()[0]), values(layer.parameters()[1]), 4, 5, 12);
    const expected: number[] = [];
    for (let g = 0; g < pre.length; g += 4) expected.push(Math.max(...pre.slice(g, g + 4)));
    expectClose(run(layer, x).data, expected);
  });
});

describe('activation layers vs Math', () => {
  const cases: [string, Module, (v: number) => number][] = [
    ['relu', new ReLU(), activationsJs.relu],
    ['tanh', new Tanh(), Math.tanh],
    ['sigmoid', new Sigmoid(), activationsJs.sigmoid],
    ['scaledTanh', new ScaledTanh(), activationsJs.scaledTanh],
    ['elu 0.5', new ELU({ alpha: 0.5 }), (v) => (v > 0 ? v : 0.5 * (Math.exp(v) - 1))],
    ['leakyRelu 0.3', new LeakyReLU({ alpha: 0.3 }), (v) => (v > 0 ? v : 0.3 * v)],
  ];
  for (const [name, layer, f] of cases) {
    it(name, () => {
      const x = randn([3, 4], { rng, std: 3 });
      expectClose(run(layer, x).data, values(x).map(f));
    });
  }

  it("scaledTanh has LeCun's properties: f(±1) = ±1 and f'(0) ≈ 1.14", () => {
    const x = tensor([1, -1], [1, 2]);
    expectClose(run(new ScaledTanh(), x).data, [1, -1], 2e-4, 0);
    expect(1.7159 * (2 / 3)).toBeCloseTo(1.1439, 4);
  });

  it('softmax along axis 1 of a rank-3 batch', () => {
    const x = randn([2, 3, 2], { rng });
    const v = values(x);
    const expected = new Array<number>(12);
    for (let n = 0; n < 2; n++) {
      for (let c = 0; c < 2; c++) {
        const idx = [0, 1, 2].map((k) => n * 6 + k * 2 + c);
        const z = idx.reduce((a, i) => a + Math.exp(v[i]), 0);
        for (const i of idx) expected[i] = Math.exp(v[i]) / z;
      }
    }
    expectClose(run(new Softmax({ axis: 1 }), x).data, expected);
  });
});

describe('conv2d and pooling vs tfjs-core (cpu)', () => {
  const convCases = [
    { kernelSize: 3, padding: 'valid' as const },
    { kernelSize: 3, padding: 'same' as const },
    { kernelSize: 3, padding: 'same' as const, strides: 2 },
    { kernelSize: [2, 3] as [number, number], padding: 'valid' as const, strides: [2, 1] as [number, number] },
    { kernelSize: 3, padding: 'same' as const, dilation: 2 },
    { kernelSize: 5, padding: 'valid' as const, dilation: [1, 2] as [number, number] },
  ];
  for (const c of convCases) {
    it(`conv2d ${JSON.stringify(c)}, with bias and relu`, async () => {
      const tf = await tfjs();
      const layer = new Conv2d({ filters: 4, activation: 'relu', biasInitializer: { name: 'uniform', config: { low: -0.5, high: 0.5 } }, ...c });
      layer.build([9, 10, 3], new Rng(5));
      const x = randn([2, 9, 10, 3], { rng });
      const [w, b] = layer.parameters();
      const got = run(layer, x);
      const strides = layer.strides;
      const dilations = layer.dilation;
      const expected = tf.tidy(() =>
        tf.relu(tf.add(
          tf.conv2d(tf.tensor4d(x.data(), [2, 9, 10, 3]), tf.tensor4d(w.data(), w.shape as [number, number, number, number]), strides, c.padding, 'NHWC', dilations),
          tf.tensor1d(b.data()),
        )),
      );
      expect(got.shape).toEqual(expected.shape);
      expect(layer.outputShape([9, 10, 3])).toEqual(expected.shape.slice(1));
      expectClose(got.data, Array.from(expected.dataSync()), 1e-4, 1e-4);
      expected.dispose();
      layer.dispose();
    });
  }

  it('conv2d gradients (input, filter, bias) vs tf.grads', async () => {
    const tf = await tfjs();
    const layer = new Conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' });
    layer.build([7, 6, 2], new Rng(6));
    const x = randn([2, 7, 6, 2], { rng }).setRequiresGrad();
    const [w, b] = layer.parameters();
    const seed = randn([2, 4, 3, 3], { rng });
    scope(() => layer.forward(x).backward(seed));
    const [gx, gw, gb] = tf.tidy(() => {
      const f = (xi: import('@tensorflow/tfjs-core').Tensor, wi: import('@tensorflow/tfjs-core').Tensor, bi: import('@tensorflow/tfjs-core').Tensor) =>
        tf.sum(tf.mul(tf.add(tf.conv2d(xi as never, wi as never, 2, 'same'), bi), tf.tensor4d(seed.data(), [2, 4, 3, 3])));
      return tf.grads(f)([tf.tensor4d(x.data(), [2, 7, 6, 2]), tf.tensor4d(w.data(), [3, 3, 2, 3]), tf.tensor1d(b.data())]).map((t) => Array.from(t.dataSync()));
    });
    expectClose(values(x.grad!), gx, 1e-4, 1e-4);
    expectClose(values(w.grad!), gw, 1e-4, 1e-4);
    expectClose(values(b.grad!), gb, 1e-4, 1e-4);
    layer.dispose();
  });

  const poolCases = [
    { poolSize: 2 },
    { poolSize: 3, strides: 2, padding: 'same' as const },
    { poolSize: [2, 3] as [number, number], strides: [1, 2] as [number, number] },
    { poolSize: 3, strides: 1, padding: 'same' as const },
  ];
  for (const c of poolCases) {
    it(`maxPool2d and avgPool2d ${JSON.stringify(c)}`, async () => {
      const tf = await tfjs();
      const x = randn([2, 7, 8, 3], { rng });
      const size = typeof c.poolSize === 'number' ? ([c.poolSize, c.poolSize] as [number, number]) : c.poolSize;
      const strides = c.strides ?? size;
      const padding = c.padding ?? 'valid';
      for (const [layer, op] of [[new MaxPool2d(c), tf.maxPool], [new AvgPool2d(c), tf.avgPool]] as const) {
        const expected = tf.tidy(() => op(tf.tensor4d(x.data(), [2, 7, 8, 3]), size, strides, padding));
        const got = run(layer, x);
        expect(got.shape).toEqual(expected.shape);
        expect(layer.outputShape([7, 8, 3])).toEqual(expected.shape.slice(1));
        expectClose(got.data, Array.from(expected.dataSync()), 1e-5, 1e-4);
        expected.dispose();
      }
    });
  }

  it('globalAvgPool2d is the mean over height and width', async () => {
    const tf = await tfjs();
    const x = randn([3, 4, 5, 2], { rng });
    const expected = tf.tidy(() => tf.mean(tf.tensor4d(x.data(), [3, 4, 5, 2]), [1, 2]));
    const got = run(new GlobalAvgPool2d(), x);
    expect(got.shape).toEqual([3, 2]);
    expectClose(got.data, Array.from(expected.dataSync()));
    expected.dispose();
  });

  it('flatten keeps the row-major order of NHWC', () => {
    const x = randn([2, 3, 2, 2], { rng });
    const got = run(new Flatten(), x);
    expect(got.shape).toEqual([2, 12]);
    expect(got.data).toEqual(values(x));
  });
});

describe('batchNorm vs a JS computation and tf.batchNorm', () => {
  it('training mode normalizes with the batch mean and biased variance, then γ and β', () => {
    const bn = new BatchNorm({ epsilon: 1e-3 });
    bn.build([3]);
    const [gamma, beta] = bn.parameters();
    scope(() => {
      gamma.assign(tensor([2, 0.5, -1]));
      beta.assign(tensor([0.1, 0, 3]));
    });
    const x = randn([8, 3], { rng, std: 2, mean: 1 });
    const v = values(x);
    const expected: number[] = new Array(24);
    for (let c = 0; c < 3; c++) {
      const col = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => v[i * 3 + c]);
      const mu = col.reduce((a, b) => a + b, 0) / 8;
      const variance = col.reduce((a, b) => a + (b - mu) ** 2, 0) / 8;
      col.forEach((xi, i) => (expected[i * 3 + c] = [2, 0.5, -1][c] * ((xi - mu) / Math.sqrt(variance + 1e-3)) + [0.1, 0, 3][c]));
    }
    expectClose(run(bn, x).data, expected, 1e-4, 1e-4);
  });

  it('eval mode on NHWC equals tf.batchNorm with the running statistics', async () => {
    const tf = await tfjs();
    const bn = new BatchNorm();
    bn.build([4, 4, 2]);
    const [gamma, beta] = bn.parameters();
    const [[, rm], [, rv]] = bn.namedBuffers();
    scope(() => {
      gamma.assign(tensor([1.5, -0.5]));
      beta.assign(tensor([0.2, 0.3]));
      rm.assign(tensor([0.4, -1]));
      rv.assign(tensor([2, 0.25]));
    });
    bn.eval();
    const x = randn([2, 4, 4, 2], { rng });
    const expected = tf.tidy(() =>
      tf.batchNorm(tf.tensor4d(x.data(), [2, 4, 4, 2]), tf.tensor1d([0.4, -1]), tf.tensor1d([2, 0.25]), tf.tensor1d([0.2, 0.3]), tf.tensor1d([1.5, -0.5]), 1e-5),
    );
    expectClose(run(bn, x).data, Array.from(expected.dataSync()), 1e-5, 1e-4);
    expected.dispose();
  });
});

describe('maxout ties', () => {
  it('the gradient goes to one winning piece on ties, not to all of them', () => {
    const x = tensor([[0, 0, 1, 1, 2, -1]]).setRequiresGrad();
    scope(() => maxoutOf(x, 2).sum().backward());
    expect(values(x.grad!)).toEqual([1, 0, 1, 0, 1, 0]);
  });
});
