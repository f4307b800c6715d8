// The fused batchNorm op against the same normalization composed from moments and
// elementwise ops (an independent implementation through other kernels): forward values,
// statistics and all three gradients, on NHWC batches whose channel counts take the kernels'
// SIMD groups (4, 8, 12, 16, 64) and scalar tails (3, 18); and the same bits on 1 and 2
// threads (the backward sums are split into row groups fixed by the shape).
import { describe, expect, it } from 'vitest';
import * as mb from '../src/index.js';
import { Rng, useEngine, type Engine, type Tensor } from '../src/index.js';
import { oneAndTwoThreads } from './engines.js';

const engines = oneAndTwoThreads();

const EPS = 1e-3;

/** y, mean, variance and the gradients of Σ w·y for x, γ, β, by `fused` or composed ops, in engine e. */
function run(e: Engine, shape: number[], fused: boolean): Float32Array[] {
  const previous = useEngine(e);
  try {
    return mb.scope(() => {
      const rng = new Rng(shape.length * 100 + shape[shape.length - 1]);
      const c = shape[shape.length - 1];
      const n = shape.reduce((a, b) => a * b, 1);
      const x = mb.tensor(Float32Array.from({ length: n }, () => 3 + 2 * rng.normal()), shape).setRequiresGrad();
      const gamma = mb.tensor(Float32Array.from({ length: c }, () => 0.5 + rng.uniform()), [c]).setRequiresGrad();
      const beta = mb.tensor(Float32Array.from({ length: c }, () => rng.normal()), [c]).setRequiresGrad();
      const w = mb.tensor(Float32Array.from({ length: n }, () => rng.normal()), shape);
      let y: Tensor, mean: Tensor, variance: Tensor;
      if (fused) ({ y, mean, variance } = mb.batchNorm(x, gamma, beta, EPS));
      else {
        ({ mean, variance } = mb.moments(x));
        y = mb.add(mb.mul(mb.div(mb.sub(x, mean), mb.sqrt(mb.add(variance, EPS))), gamma), beta);
      }
      mb.sum(mb.mul(y, w)).backward();
      return [y.data(), mean.data(), variance.data(), x.grad!.data(), gamma.grad!.data(), beta.grad!.data()];
    });
  } finally {
    useEngine(previous);
  }
}

const SHAPES = [[8, 5, 5, 4], [16, 6, 6, 8], [4, 7, 7, 12], [64, 7, 7, 16], [2, 9, 9, 3], [32, 18], [64, 14, 14, 64]];

describe('batchNorm (fused)', () => {
  it.each(SHAPES)('agrees with the composed normalization, [%i, …]', (...shape) => {
    const fused = run(engines.one, shape, true);
    const composed = run(engines.one, shape, false);
    const names = ['y', 'mean', 'variance', 'dx', 'dγ', 'dβ'];
    fused.forEach((a, i) => {
      const b = composed[i];
      let scale = 0;
      let worst = 0;
      for (let j = 0; j < a.length; j++) {
        scale = Math.max(scale, Math.abs(b[j]));
        worst = Math.max(worst, Math.abs(a[j] - b[j]));
      }
      expect(worst / scale, `${names[i]}: worst difference ${worst} against a scale of ${scale}`).toBeLessThan(1e-4);
    });
  });

  it('gives the same bits on 1 and 2 threads (backward sums in fixed row groups)', () => {
    for (const shape of [[64, 14, 14, 64], [64, 28, 28, 8]]) {
      const a = run(engines.one, shape, true);
      const b = run(engines.two, shape, true);
      a.forEach((v, i) => expect(Buffer.from(b[i].buffer).equals(Buffer.from(v.buffer))).toBe(true));
    }
  });

  it('says what is wrong with its arguments', () => {
    const x = mb.zeros([4, 3]);
    expect(() => mb.batchNorm(x, mb.ones([2]), mb.zeros([3]), 1e-3)).toThrow(/batchNorm: gamma must be \[3\] \(one per channel of \[4, 3\]\), got \[2\]/);
    expect(() => mb.batchNorm(x, mb.ones([3]), mb.zeros([3]), -1)).toThrow(/epsilon must be a finite number ≥ 0, got -1/);
    expect(() => mb.batchNorm(mb.zeros([0, 3]), mb.ones([3]), mb.zeros([3]), 1e-3)).toThrow(/no rows to normalize over in \[0, 3\]/);
  });
});
