// Every update rule runs over all parameters in one parallel call (core's inRanges), cut into
// element ranges that the threads take in turn: three steps on 2 threads end with the same
// weights and state, bit for bit, as on 1 thread, for tensors big enough to be cut (and a
// small one beside them that is not).
import { Rng, createEngine, scope, tensor, useEngine, type Engine, type Tensor } from '@minibatch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adagrad, Adam, AdamW, RMSprop, SGD, type Optimizer } from '../src/index.js';

let one: Engine;
let two: Engine;
beforeAll(async () => {
  one = await createEngine({ build: 'simd', threads: 1 });
  two = await createEngine({ build: 'simd', threads: 2 });
  await two.ready();
});
afterAll(() => two.close());

const SHAPES = [[300, 257], [257], [129, 130]]; // 77,100 + 257 + 16,770 floats

/** Three steps of `make(params)` in engine e on f(w) = Σ w³/3 + c·w (gradient w² + c): the bytes of the weights. */
function steps(e: Engine, make: (params: Tensor[]) => Optimizer<object>): Buffer {
  const previous = useEngine(e);
  try {
    const rng = new Rng(7);
    const params = SHAPES.map((s) => tensor(Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.normal()), s).setRequiresGrad());
    const c = params.map((p) => tensor(Float32Array.from({ length: p.size }, () => rng.normal()), p.shape));
    const opt = make(params);
    for (let t = 0; t < 3; t++) {
      scope(() => params.reduce<Tensor | null>((sum, w, i) => {
        const term = w.mul(w).mul(w).mul(1 / 3).add(w.mul(c[i])).sum();
        return sum === null ? term : sum.add(term);
      }, null)!.backward());
      opt.step();
      opt.zeroGrad();
    }
    return Buffer.concat(params.map((p) => Buffer.from(p.data().buffer)));
  } finally {
    useEngine(previous);
  }
}

describe('optimizer updates on 2 threads', () => {
  it.each([
    ['SGD', (p: Tensor[]) => new SGD(p, { lr: 0.01 })],
    ['SGD + Nesterov + weight decay', (p: Tensor[]) => new SGD(p, { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
    ['Adam', (p: Tensor[]) => new Adam(p, { lr: 1e-3 })],
    ['AdamW', (p: Tensor[]) => new AdamW(p, { lr: 1e-3, weightDecay: 0.01 })],
    ['RMSprop centered + momentum', (p: Tensor[]) => new RMSprop(p, { lr: 1e-3, centered: true, momentum: 0.9 })],
    ['Adagrad', (p: Tensor[]) => new Adagrad(p, { lr: 0.01 })],
  ] as const)('%s: the same weights as on 1 thread, bit for bit', (_name, make) => {
    const a = steps(one, make as (p: Tensor[]) => Optimizer<object>);
    const b = steps(two, make as (p: Tensor[]) => Optimizer<object>);
    expect(b.equals(a)).toBe(true);
    expect(two.threads).toBe(2);
  });
});
