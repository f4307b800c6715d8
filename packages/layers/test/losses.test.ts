// Loss values against float64 JS formulas (and tfjs-core where it has the same loss), the
// equivalences between their forms, and their errors.
import { describe, expect, it } from 'vitest';
import { Rng, type Tensor, noGrad, randn, scope, tensor } from '@minibatch/core';
import { losses } from '../src/index.js';
import { expectClose, tfjs, values } from './helpers.js';

const rng = new Rng(12);
const value = (loss: (o: Tensor, t: never) => Tensor, output: Tensor, target: unknown): number =>
  scope(() => noGrad(() => loss(output, target as never).item()));

function logSoftmaxRows(v: number[], rows: number, cols: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < rows; i++) {
    const row = v.slice(i * cols, i * cols + cols);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
    out.push(...row.map((x) => x - lse));
  }
  return out;
}

describe('softmaxCrossEntropy', () => {
  const logits = randn([6, 4], { rng, std: 2 });
  const labels = [0, 3, 2, 2, 1, 0];
  const lp = logSoftmaxRows(values(logits), 6, 4);

  it('integer labels: mean of −log softmax at the label', () => {
    const expected = -labels.reduce((a, y, i) => a + lp[i * 4 + y], 0) / 6;
    expect(value(losses.softmaxCrossEntropy(), logits, labels)).toBeCloseTo(expected, 5);
    expect(value(losses.softmaxCrossEntropy(), logits, tensor(labels))).toBeCloseTo(expected, 5);
  });

  it('label smoothing ε: target (1 − ε)·onehot + ε/K', () => {
    const eps = 0.1;
    let total = 0;
    labels.forEach((y, i) => {
      for (let k = 0; k < 4; k++) total -= ((k === y ? 1 - eps : 0) + eps / 4) * lp[i * 4 + k];
    });
    expect(value(losses.softmaxCrossEntropy({ labelSmoothing: eps }), logits, labels)).toBeCloseTo(total / 6, 5);
  });

  it('agrees with tf.losses.softmaxCrossEntropy, with and without smoothing', async () => {
    const tf = await tfjs();
    for (const eps of [0, 0.2]) {
      const expected = tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 4), tf.tensor2d(logits.data(), [6, 4]), undefined, eps).dataSync()[0]);
      expect(value(losses.softmaxCrossEntropy({ labelSmoothing: eps }), logits, labels)).toBeCloseTo(expected, 5);
    }
  });

  it('soft targets: −mean Σ t·log softmax; one-hot soft targets equal integer labels', () => {
    const soft = Array.from({ length: 24 }, (_, i) => ((i * 7) % 5) + 1);
    for (let i = 0; i < 6; i++) {
      const s = soft.slice(i * 4, i * 4 + 4).reduce((a, b) => a + b, 0);
      for (let k = 0; k < 4; k++) soft[i * 4 + k] /= s;
    }
    const expected = -soft.reduce((a, t, i) => a + t * lp[i], 0) / 6;
    expect(value(losses.softmaxCrossEntropy(), logits, soft)).toBeCloseTo(expected, 5);
    const onehot = new Array(24).fill(0);
    labels.forEach((y, i) => (onehot[i * 4 + y] = 1));
    expect(value(losses.softmaxCrossEntropy(), logits, tensor(onehot, [6, 4]))).toBeCloseTo(value(losses.softmaxCrossEntropy(), logits, labels), 5);
    // Smoothing applies to soft targets the same way.
    expect(value(losses.softmaxCrossEntropy({ labelSmoothing: 0.3 }), logits, onehot)).toBeCloseTo(
      value(losses.softmaxCrossEntropy({ labelSmoothing: 0.3 }), logits, labels),
      5,
    );
  });

  it('gradients: (softmax − target)/N, for labels and soft targets alike', () => {
    const x = randn([3, 3], { rng }).setRequiresGrad();
    const target = [0.2, 0.3, 0.5, 1, 0, 0, 0, 0.5, 0.5];
    scope(() => losses.softmaxCrossEntropy()(x, target).backward());
    const p = logSoftmaxRows(values(x), 3, 3).map(Math.exp);
    expectClose(values(x.grad!), p.map((pi, i) => (pi - target[i]) / 3), 1e-6, 1e-4);
  });

  it('bad labels and soft targets are clear errors', () => {
    const loss = losses.softmaxCrossEntropy();
    expect(() => value(loss, logits, [0, 1, 2])).toThrow(/6 rows of scores but 3 labels/);
    expect(() => value(loss, logits, [0, 1, 2, 3, 4, 1])).toThrow(/label 4 at position 4 is not a class index in \[0, 4\)/);
    expect(() => value(loss, logits, new Array(24).fill(0.3))).toThrow(/row 0 sums to 1.200/);
    expect(() => value(loss, randn([6], { rng }), labels)).toThrow(/expects scores \[batch, classes\]/);
    expect(() => losses.softmaxCrossEntropy({ labelSmoothing: 1 })).toThrow();
  });
});

describe('meanSquaredError', () => {
  it('mean over every element of (output − target)²', () => {
    const out = randn([4, 3], { rng });
    const target = Array.from({ length: 12 }, (_, i) => i / 10);
    const expected = values(out).reduce((a, o, i) => a + (o - target[i]) ** 2, 0) / 12;
    expect(value(losses.meanSquaredError(), out, target)).toBeCloseTo(expected, 5);
    expect(value(losses.meanSquaredError(), out, tensor(target, [12]))).toBeCloseTo(expected, 5);
    expect(() => value(losses.meanSquaredError(), out, [1, 2])).toThrow(/has 12 values but the target has 2/);
  });
});

describe('multiclassHinge', () => {
  it("CS231n's worked example: losses 2.9, 0 and 12.9, mean 5.27", () => {
    // Columns are examples in the lecture; here rows are (cat, car, frog scores per image).
    const scores = tensor([
      [3.2, 5.1, -1.7],
      [1.3, 4.9, 2.0],
      [2.2, 2.5, -3.1],
    ]);
    expect(value(losses.multiclassHinge(), scores, [0, 1, 2])).toBeCloseTo((2.9 + 0 + 12.9) / 3, 4);
  });

  it('matches Σ_{j≠y} max(0, s_j − s_y + Δ) averaged over the batch, for another margin', () => {
    const s = randn([5, 4], { rng });
    const v = values(s);
    const y = [3, 0, 1, 1, 2];
    let total = 0;
    y.forEach((yi, i) => {
      for (let j = 0; j < 4; j++) if (j !== yi) total += Math.max(0, v[i * 4 + j] - v[i * 4 + yi] + 0.5);
    });
    expect(value(losses.multiclassHinge({ margin: 0.5 }), s, y)).toBeCloseTo(total / 5, 5);
  });

  it('gradient: +1 per violating class, −(count) at the label, over N', () => {
    const s = tensor([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0]]).setRequiresGrad();
    scope(() => losses.multiclassHinge()(s, [0, 1]).backward());
    expectClose(values(s.grad!), [-0.5, 0.5, 0, 0, 0, 0]);
  });
});

describe('binaryCrossEntropyWithLogits', () => {
  it('equals −[z log σ(x) + (1 − z) log(1 − σ(x))] averaged, and tf.losses.sigmoidCrossEntropy', async () => {
    const x = randn([4, 3], { rng, std: 2 });
    const z = Array.from({ length: 12 }, (_, i) => [0, 1, 0.25][i % 3]);
    const sig = (t: number): number => 1 / (1 + Math.exp(-t));
    const expected = values(x).reduce((a, xi, i) => a - (z[i] * Math.log(sig(xi)) + (1 - z[i]) * Math.log(1 - sig(xi))), 0) / 12;
    expect(value(losses.binaryCrossEntropyWithLogits(), x, z)).toBeCloseTo(expected, 5);
    const tf = await tfjs();
    const tfValue = tf.tidy(() => tf.losses.sigmoidCrossEntropy(tf.tensor2d(z, [4, 3]), tf.tensor2d(x.data(), [4, 3])).dataSync()[0]);
    expect(value(losses.binaryCrossEntropyWithLogits(), x, z)).toBeCloseTo(tfValue, 5);
  });

  it('is stable for large logits (no Infinity or NaN)', () => {
    const x = tensor([100, -100, 80, -80], [4, 1]);
    expect(value(losses.binaryCrossEntropyWithLogits(), x, [1, 0, 0, 1])).toBeCloseTo((0 + 0 + 80 + 80) / 4, 4);
  });

  it('the gradient is (σ(x) − z)/n, also at x = 0 exactly', () => {
    const x = tensor([0, 0, 2, -1], [2, 2]).setRequiresGrad();
    const z = [1, 0, 0.5, 0];
    scope(() => losses.binaryCrossEntropyWithLogits()(x, z).backward());
    const sig = (t: number): number => 1 / (1 + Math.exp(-t));
    expectClose(values(x.grad!), [0, 0, 2, -1].map((xi, i) => (sig(xi) - z[i]) / 4), 1e-6, 1e-4);
  });

  it('targets outside [0, 1] are an error', () => {
    expect(() => value(losses.binaryCrossEntropyWithLogits(), tensor([1, 2]), [0, 2])).toThrow(/target 2 at position 1 is not in \[0, 1\]/);
  });
});
