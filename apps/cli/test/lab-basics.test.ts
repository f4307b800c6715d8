// The first six lab experiments, quick: each runs its real code path and judges by its rule.
import { describe, expect, it } from 'vitest';
import { checkExperiment } from './lab-helpers.js';

describe('lab experiments (quick): initialization, batch norm, learning rate, regularization, optimizers, inputs', () => {
  it('init-activation: 3 activations × 4 inits, the std of every layer', async () => {
    const f = await checkExperiment('init-activation');
    expect(f.std_relu_he_l10).toBeGreaterThan(f.std_relu_xavier_l10); // He's factor 2 keeps ReLU's variance; Xavier halves it per layer
  }, 120_000);
  it('batchnorm: learning rates, bad inits, the gap, dead ReLUs', async () => {
    const f = await checkExperiment('batchnorm');
    expect(f.dead_plain).toBeGreaterThanOrEqual(0);
    expect(f.dead_bn).toBeLessThanOrEqual(1);
  }, 120_000);
  it('learning-rate: the range test and four rates', () => checkExperiment('learning-rate'), 120_000);
  it('regularization: the gap with each regularizer', () => checkExperiment('regularization'), 120_000);
  it('optimizers: six mini-batch optimizers, L-BFGS and gradient descent on the full batch', () => checkExperiment('optimizers'), 120_000);
  it('input-scaling: five input scalings for sigmoid and tanh', () => checkExperiment('input-scaling'), 120_000);
});
