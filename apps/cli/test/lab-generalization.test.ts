// Lab experiments on generalization, quick.
import { describe, expect, it } from 'vitest';
import { checkExperiment } from './lab-helpers.js';

describe('lab experiments (quick): generalization', () => {
  it('sharpness: λ_max and test accuracy for small and large batches, momentum and Adam', () => checkExperiment('sharpness'), 120_000);
  it('dropout-ensemble: weight scaling, Monte-Carlo averaging, rates', async () => {
    const f = await checkExperiment('dropout-ensemble');
    expect(f.acc_mc_50).toBeGreaterThan(f.acc_mc_1); // averaging passes helps
  }, 120_000);
  it('ensemble-size: independent members and a snapshot ensemble', () => checkExperiment('ensemble-size'), 120_000);
  it('random-vs-grid: five searches of each at nine trials', async () => {
    const f = await checkExperiment('random-vs-grid');
    expect(f.distinct_lr_grid).toBe(3);
    expect(f.distinct_lr_random).toBe(9);
  }, 120_000);
});
