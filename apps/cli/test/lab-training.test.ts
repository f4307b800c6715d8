// Lab experiments on how training behaves and on optimization, quick.
import { describe, expect, it } from 'vitest';
import { checkExperiment } from './lab-helpers.js';

describe('lab experiments (quick): training and optimization', () => {
  it('batch-size: batch 1, 64 and the full batch, clean and noisy labels', async () => {
    const f = await checkExperiment('batch-size');
    expect(f.samples_per_second_1).toBeGreaterThan(500); // one sample at a time at a sensible speed
  }, 120_000);
  it('shuffling: every epoch, once, sorted by class', () => checkExperiment('shuffling'), 120_000);
  it('activations: gradient norms with depth, one-signed gradients, cost per element', async () => {
    const f = await checkExperiment('activations');
    expect(f.same_sign_sigmoid).toBe(1); // positive inputs: every weight gradient of a unit has the sign of its delta
  }, 120_000);
  it('rotated-ravine: eight optimizers on aligned and rotated quadratics', async () => {
    const f = await checkExperiment('rotated-ravine');
    for (const k of ['sgd', 'momentum', 'nesterov']) expect(f[`ratio_${k}_2d`]).toBeCloseTo(1, 1); // rotation-equivariant updates
    expect(f.steps_newton_2d_aligned).toBe(1); // a quadratic is solved by one Newton step
  }, 120_000);
  it('second-order: Newton, L-BFGS and gradient descent; L-BFGS on mini-batches', () => checkExperiment('second-order'), 120_000);
  it('nesterov: a quadratic, Rosenbrock and the MLP', () => checkExperiment('nesterov'), 120_000);
  it('adam-bias-correction: update sizes and the early loss', async () => {
    const f = await checkExperiment('adam-bias-correction');
    // With the correction the first step moves every weight by lr: ‖Δw‖ = lr·√n (79,510 weights).
    expect(f.update_norm_corrected_1).toBeCloseTo(1e-3 * Math.sqrt(79_510), 1);
  }, 120_000);
  it('saddles: a saddle and a shallow local minimum', () => checkExperiment('saddles'), 120_000);
});
