// Weight averages: EMA and Polyak means checked against a direct computation over the
// weights after each step; kept in checkpoints; BatchNorm statistics measured for the average.
import { describe, expect, it } from 'vitest';
import { modelFromConfig } from '@minibatch/layers';
import { SGD } from '@minibatch/optimizers';
import { decodeCheckpoint, defaultRegistry, encodeCheckpoint, evaluate, fit, WeightAverage, type TrainingState } from '../src/index.js';
import { blobs } from './blobs.js';

const registry = defaultRegistry();
const mlp = (bn = false) => modelFromConfig(registry, [
  { name: 'dense', config: { units: 16, seed: 1 } }, ...(bn ? [{ name: 'batchNorm' }] : []), { name: 'relu' }, { name: 'dense', config: { units: 4, seed: 2 } },
]);

describe('WeightAverage', () => {
  it('EMA and Polyak equal the direct computation over every step\'s weights', () => {
    for (const kind of ['ema', 'polyak'] as const) {
      const model = mlp();
      const average = new WeightAverage(model, { kind, decay: 0.9, start: 2 });
      const seen: number[][] = [];
      fit(model, blobs(96, 1), {
        epochs: 2, batchSize: 16, seed: 1, optimizer: new SGD(undefined, { lr: 0.1 }), average,
        callbacks: { onBatchEnd: () => void seen.push(Array.from(model.parameters()[0].data())) },
      });
      const used = seen.slice(2);
      expect(average.count).toBe(used.length);
      const expected = used[0].map((_, i) => {
        if (kind === 'polyak') return used.reduce((s, w) => s + w[i], 0) / used.length;
        let s = used[0][i];
        used.slice(1).forEach((w, k) => (s += Math.max(0.1, 1 / (k + 2)) * (w[i] - s)));
        return s;
      });
      const got = Array.from(average.averaged(registry).parameters()[0].data());
      got.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
      model.dispose();
    }
  });

  it('is kept in checkpoints: a resumed run ends with the same average', () => {
    const run = (resume?: TrainingState, stopAt = Infinity) => {
      const model = mlp();
      const average = new WeightAverage(model, { decay: 0.95 });
      let steps = 0;
      let saved = null as TrainingState | null;
      fit(model, blobs(96, 1), {
        epochs: 3, batchSize: 16, seed: 1, optimizer: new SGD(undefined, { lr: 0.1, momentum: 0.9 }), average, resume,
        shouldStop: () => ++steps >= stopAt, checkpoint: { every: 1000, save: (s) => void (saved = decodeCheckpoint(encodeCheckpoint({ state: s })).state) },
      });
      return { weights: Array.from(average.averaged(registry).parameters()[0].data()), saved };
    };
    const whole = run();
    const first = run(undefined, 7);
    expect(first.saved!.average!.count).toBe(first.saved!.step);
    expect(run(first.saved!).weights).toEqual(whole.weights);
    const model = mlp();
    expect(() => fit(model, blobs(96, 1), { epochs: 3, batchSize: 16, optimizer: new SGD(), average: new WeightAverage(model), resume: { ...first.saved!, average: undefined } }))
      .toThrow(/this run keeps a weight average, but the checkpoint has none/);
  });

  it('measures BatchNorm statistics for the averaged weights; refuses a decay outside (0, 1)', () => {
    const model = mlp(true);
    const average = new WeightAverage(model, { decay: 0.99 });
    const data = blobs(256, 1);
    fit(model, data, { epochs: 5, batchSize: 16, seed: 1, optimizer: new SGD(undefined, { lr: 0.05, momentum: 0.9 }), average });
    expect(() => average.averaged(registry)).toThrow(/has BatchNorm layers; give training data/);
    const averaged = average.averaged(registry, data);
    expect(evaluate(averaged, blobs(100, 2)).accuracy).toBeGreaterThan(0.7);
    expect(() => new WeightAverage(model, { decay: 1 })).toThrow(/the EMA decay must be in \(0, 1\), got 1/);
    expect(() => new WeightAverage(model, { decay: 0 })).toThrow(/the EMA decay must be in \(0, 1\), got 0/);
    model.dispose();
  });
});
