// A small over-fitting experiment: a large network on a tiny, noisy training set. Without
// regularization it memorizes the flipped labels and its validation loss grows; an L2
// penalty, or dropout, keeps the validation loss lower. Five fixed seeds, all reported and all
// asserted (none is picked out), each seed drawing its own data, weights and masks.
//
// Task: x ~ N(0, I₁₀), label = [x₀ + x₁ > 0], 20 % of labels flipped; 40 training samples,
// 2000 validation samples from the same distribution. Model: 10 → 128 → 128 → 2 (ReLU),
// 18,000 parameters for 40 samples. Adam (lr 1e-3), full batch, 300 steps. L2 λ = 1e-2 on the
// weights (biases not penalized); dropout rate 0.5 after each hidden layer. Both are textbook
// strengths, not searched for this test: Srivastava et al.'s p = 0.5, and λ = 1e-2, i.e. a
// penalty of 0.005·Σw², half the strength of Keras' default l2(0.01).
//
// Margins asserted (measured, SIMD build, in parentheses):
//   L2:      every seed's validation loss ≤ 0.80 × the unregularized one   (0.56 – 0.67)
//            and its training data loss is higher (regularization costs training fit)
//   dropout: every seed's validation loss < the unregularized one          (0.56 – 0.94)
//            and the mean over seeds ≤ 0.85 × the unregularized mean       (0.69)
import { describe, expect, it } from 'vitest';
import { Rng, type Tensor, add, noGrad, scope, tensor } from '@minibatch/core';
import { Dense, Sequential, losses, type Module } from '@minibatch/layers';
import { Adam } from '@minibatch/optimizers';
import { Dropout, l2 } from '../src/index.js';

const DIM = 10;
const loss = losses.softmaxCrossEntropy();

function noisyHalfspace(count: number, rng: Rng): { x: Tensor; y: number[] } {
  const x = new Float32Array(count * DIM);
  const y: number[] = [];
  for (let i = 0; i < count; i++) {
    let s = 0;
    for (let k = 0; k < DIM; k++) {
      const v = rng.normal();
      x[i * DIM + k] = v;
      if (k < 2) s += v;
    }
    const label = s > 0 ? 1 : 0;
    y.push(rng.uniform() < 0.2 ? 1 - label : label);
  }
  return { x: tensor(x, [count, DIM]), y };
}

type Variant = 'none' | 'l2' | 'dropout';

function experiment(seed: number, variant: Variant): { train: number; validation: number } {
  const rng = new Rng(seed);
  const train = noisyHalfspace(40, rng);
  const validation = noisyHalfspace(2000, rng);
  const layers: Module[] = [new Dense({ units: 128, activation: 'relu' })];
  if (variant === 'dropout') layers.push(new Dropout({ rate: 0.5 }));
  layers.push(new Dense({ units: 128, activation: 'relu' }));
  if (variant === 'dropout') layers.push(new Dropout({ rate: 0.5 }));
  layers.push(new Dense({ units: 2 }));
  const model = new Sequential(layers);
  model.build([DIM], new Rng(seed + 100)); // the same initial weights for every variant of a seed
  const penalty = variant === 'l2' ? l2({ lambda: 1e-2 }) : null;
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  for (let step = 0; step < 300; step++) {
    scope(() => {
      const data = loss(model.forward(train.x), train.y);
      optimizer.zeroGrad();
      (penalty === null ? data : add(data, penalty.penalty(model))).backward();
      optimizer.step();
    });
  }
  model.eval();
  const result = scope(() => noGrad(() => ({
    train: loss(model.forward(train.x), train.y).item(),
    validation: loss(model.forward(validation.x), validation.y).item(),
  })));
  optimizer.dispose();
  [model, train.x, validation.x].forEach((t) => t.dispose());
  return result;
}

describe('over-fitting experiment (tiny noisy training set, large network)', () => {
  it('L2 and dropout each lower the validation loss against no regularization, on every one of 5 seeds', () => {
    const seeds = [1, 2, 3, 4, 5];
    const rows = seeds.map((seed) => ({ seed, none: experiment(seed, 'none'), l2: experiment(seed, 'l2'), dropout: experiment(seed, 'dropout') }));
    console.log(
      'validation loss (train loss) per seed:\n' +
        rows.map((r) => `  seed ${r.seed}: none ${r.none.validation.toFixed(3)} (${r.none.train.toFixed(3)})  ` +
          `l2 ${r.l2.validation.toFixed(3)} (${r.l2.train.toFixed(3)})  dropout ${r.dropout.validation.toFixed(3)} (${r.dropout.train.toFixed(3)})`).join('\n'),
    );
    for (const r of rows) {
      expect(r.none.train).toBeLessThan(0.01); // it did memorize the noise…
      expect(r.none.validation).toBeGreaterThan(1); // …and generalizes with over-confidence
      expect(r.l2.validation).toBeLessThanOrEqual(0.8 * r.none.validation);
      expect(r.l2.train).toBeGreaterThan(r.none.train);
      expect(r.dropout.validation).toBeLessThan(r.none.validation);
    }
    const mean = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0) / rows.length;
    expect(mean((r) => r.dropout.validation)).toBeLessThanOrEqual(0.85 * mean((r) => r.none.validation));
  });
});
