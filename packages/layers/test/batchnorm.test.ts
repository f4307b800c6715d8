// BatchNorm train vs eval: batch statistics vs running statistics, and the running
// statistics' momentum update (running ← m·running + (1 − m)·batch, unbiased variance).
import { describe, expect, it } from 'vitest';
import { Rng, type Tensor, noGrad, randn, scope, slice, sum } from '@minibatch/core';
import { BatchNorm, Dense, Sequential } from '../src/index.js';
import { expectClose, values } from './helpers.js';

const rng = new Rng(5);
const forward = (bn: BatchNorm, x: Tensor): number[] => scope(() => noGrad(() => values(bn.forward(x))));
const buffers = (bn: BatchNorm): { mean: number[]; variance: number[] } => {
  const b = Object.fromEntries(bn.namedBuffers());
  return { mean: values(b.runningMean), variance: values(b.runningVar) };
};

/** Per-column mean and biased/unbiased variance of rows × cols values. */
function columnStats(v: number[], rows: number, cols: number): { mean: number[]; biased: number[]; unbiased: number[] } {
  const mean = new Array(cols).fill(0);
  const sq = new Array(cols).fill(0);
  for (let i = 0; i < rows; i++) for (let c = 0; c < cols; c++) mean[c] += v[i * cols + c] / rows;
  for (let i = 0; i < rows; i++) for (let c = 0; c < cols; c++) sq[c] += (v[i * cols + c] - mean[c]) ** 2;
  return { mean, biased: sq.map((s) => s / rows), unbiased: sq.map((s) => s / (rows - 1)) };
}

describe('batchNorm in training mode', () => {
  it('output has zero mean and unit variance per feature (γ = 1, β = 0)', () => {
    const bn = new BatchNorm();
    const x = randn([32, 4], { rng, mean: 3, std: 5 });
    const y = forward(bn, x);
    const s = columnStats(y, 32, 4);
    expectClose(s.mean, [0, 0, 0, 0], 1e-5, 0);
    expectClose(s.biased, [1, 1, 1, 1], 1e-3, 0); // ε = 1e-5 shrinks it by ~1e-6
  });

  it('2d: statistics per channel over batch, height and width', () => {
    const bn = new BatchNorm();
    const x = randn([4, 3, 3, 2], { rng, mean: -2, std: 3 });
    const y = forward(bn, x);
    const s = columnStats(y, 36, 2);
    expectClose(s.mean, [0, 0], 1e-5, 0);
    expectClose(s.biased, [1, 1], 1e-3, 0);
    const xs = columnStats(values(x), 36, 2);
    const r = buffers(bn);
    expectClose(r.mean, xs.mean.map((m) => 0.1 * m), 1e-5, 1e-4);
    expectClose(r.variance, xs.unbiased.map((v) => 0.9 + 0.1 * v), 1e-5, 1e-4);
  });

  it('running statistics follow running ← m·running + (1 − m)·batch, over several steps', () => {
    const momentum = 0.7;
    const bn = new BatchNorm({ momentum });
    let mean = [0, 0, 0];
    let variance = [1, 1, 1];
    for (let step = 0; step < 4; step++) {
      const x = randn([10, 3], { rng, mean: step, std: 1 + step });
      forward(bn, x);
      const s = columnStats(values(x), 10, 3);
      mean = mean.map((m, c) => momentum * m + (1 - momentum) * s.mean[c]);
      variance = variance.map((v, c) => momentum * v + (1 - momentum) * s.unbiased[c]);
      const r = buffers(bn);
      expectClose(r.mean, mean, 1e-5, 1e-4);
      expectClose(r.variance, variance, 1e-5, 1e-4);
      x.dispose();
    }
  });

  it('the output of a sample depends on the rest of the batch', () => {
    const bn = new BatchNorm();
    const x = randn([6, 2], { rng });
    const full = forward(bn, x);
    const half = forward(bn, scope(() => slice(x, [0, 0], [3, 2])));
    expect(half).not.toEqual(full.slice(0, 6));
  });
});

describe('batchNorm in eval mode', () => {
  it('uses the running statistics, leaves them unchanged, and is per-sample', () => {
    const bn = new BatchNorm({ epsilon: 1e-3 });
    // Train a few steps to get non-trivial running statistics.
    for (let i = 0; i < 3; i++) forward(bn, randn([16, 3], { rng, mean: 2, std: 3 }));
    const before = buffers(bn);
    bn.eval();
    expect(bn.training).toBe(false);
    const x = randn([5, 3], { rng });
    const y = forward(bn, x);
    expect(buffers(bn)).toEqual(before);
    const v = values(x);
    const expected = v.map((xi, i) => (xi - before.mean[i % 3]) / Math.sqrt(before.variance[i % 3] + 1e-3));
    expectClose(y, expected, 1e-5, 1e-4);
    // Each sample alone gives the same output as in the batch.
    const first = forward(bn, scope(() => slice(x, [0, 0], [1, 3])));
    expectClose(first, y.slice(0, 3), 1e-6, 1e-6);
  });

  it('train and eval differ on the same batch; train() switches back', () => {
    const bn = new BatchNorm();
    const x = randn([8, 2], { rng, mean: 4 });
    const trainOut = forward(bn, x);
    bn.eval();
    const evalOut = forward(bn, x);
    expect(evalOut).not.toEqual(trainOut);
    bn.train();
    expect(bn.training).toBe(true);
    // Back in training mode: batch statistics again (equal up to float rounding).
    expectClose(forward(bn, x), trainOut, 1e-6, 1e-6);
  });

  it('eval() and train() reach batch norms nested in containers', () => {
    const bn = new BatchNorm();
    const model = new Sequential([new Dense({ units: 3 }), new Sequential([bn])]);
    model.eval();
    expect(bn.training).toBe(false);
    model.train();
    expect(bn.training).toBe(true);
  });

  it('gamma and beta get gradients in both modes; running stats never do', () => {
    for (const training of [true, false]) {
      const bn = new BatchNorm();
      bn.build([2]);
      bn.train(training);
      const x = randn([4, 2], { rng });
      scope(() => sum(bn.forward(x)).backward());
      const [gamma, beta] = bn.parameters();
      expect(beta.grad).not.toBeNull();
      expectClose(values(beta.grad!), [4, 4]);
      expect(gamma.grad).not.toBeNull();
      for (const [, b] of bn.namedBuffers()) expect(b.requiresGrad).toBe(false);
      bn.dispose();
    }
  });

  it('parameters are kind norm, buffers are in the state dict', () => {
    const bn = new BatchNorm();
    bn.build([3]);
    expect(bn.parameterInfo().map((p) => [p.name, p.kind])).toEqual([['gamma', 'norm'], ['beta', 'norm']]);
    expect(Object.keys(bn.stateDict())).toEqual(['gamma', 'beta', 'runningMean', 'runningVar']);
    expect(values(bn.parameters()[0])).toEqual([1, 1, 1]);
    expect(buffers(bn)).toEqual({ mean: [0, 0, 0], variance: [1, 1, 1] });
  });

  it('checks the feature count against the built shape', () => {
    const bn = new BatchNorm();
    bn.build([3]);
    const x = randn([2, 4], { rng });
    expect(() => forward(bn, x)).toThrow(/built for 3 features/);
  });
});
