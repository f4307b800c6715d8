// Optimizer state is kept until dispose(); each step's temporaries are freed by its scope,
// so the heap is flat over thousands of steps.
import { Tensor, engine } from '@minibatch/core';
import { describe, expect, it } from 'vitest';
import { Adagrad, Adam, AdamW, LBFGS, RMSprop, SGD, cosine } from '../src/index.js';
import { param, quadratic, train, type Steppable } from './helpers.js';

const A = [1, 2, 3, 4, 5, 6, 7];
const B = [0, 0, 0, 0, 0, 0, 0];

const makers: [string, (p: Tensor[]) => Steppable & { dispose(): void }][] = [
  ['sgd + momentum', (p) => new SGD(p, { lr: 0.01, momentum: 0.9, clipNorm: 1 })],
  ['adam', (p) => new Adam(p, { lr: cosine({ initial: 1e-2, steps: 3000 }), clipValue: 1 })],
  ['adamw', (p) => new AdamW(p, { lr: 1e-2 })],
  ['rmsprop centered + momentum', (p) => new RMSprop(p, { lr: 1e-3, centered: true, momentum: 0.9 })],
  ['adagrad', (p) => new Adagrad(p, { lr: 0.1 })],
];

describe('memory', () => {
  for (const [name, make] of makers) {
    it(`${name}: flat over 2,000 steps, and dispose() frees the state`, () => {
      const before = engine().stats().liveBlocks;
      const x = param([1, -1, 2, -2, 3, -3, 0.5]);
      const opt = make([x]);
      train(opt, () => quadratic(x, A, B), 50);
      const warm = engine().stats();
      train(opt, () => quadratic(x, A, B), 2000);
      const after = engine().stats();
      expect(after.liveBlocks).toBe(warm.liveBlocks);
      expect(after.liveBytes).toBe(warm.liveBytes);
      expect(after.heapBytes).toBe(warm.heapBytes);
      opt.dispose();
      x.dispose();
      expect(engine().stats().liveBlocks).toBe(before);
      expect(() => opt.step()).toThrow(/disposed/);
    });
  }

  it('l-bfgs: flat over many steps once the history is full; dispose() frees it', () => {
    const before = engine().stats().liveBlocks;
    const x = param([1, -1, 2, -2, 3, -3, 0.5]);
    // A fixed step ('none') never converges early, so every step() grows then recycles the history.
    const opt = new LBFGS([x], { maxIter: 5, historySize: 3, lineSearch: 'none', lr: 0.01, toleranceChange: 0, toleranceGrad: 0 });
    const closure = (): Tensor => {
      const l = quadratic(x, A, B);
      l.backward();
      return l;
    };
    for (let i = 0; i < 10; i++) opt.step(closure);
    const warm = engine().stats();
    for (let i = 0; i < 200; i++) opt.step(closure);
    const after = engine().stats();
    expect(opt.state.oldDirs).toHaveLength(3);
    expect(after.liveBlocks).toBe(warm.liveBlocks);
    expect(after.heapBytes).toBe(warm.heapBytes);
    opt.dispose();
    x.zeroGrad();
    x.dispose();
    expect(engine().stats().liveBlocks).toBe(before);
  });
});
