// Snapshot ensembles: cycle ends found from the schedule, one snapshot per cycle (the last
// `count` kept), their ensemble built from the very weights taken; too many snapshots refused.
import { describe, expect, it } from 'vitest';
import { modelFromConfig } from '@minibatch/layers';
import { SGD, cosineWarmRestarts } from '@minibatch/optimizers';
import { Snapshots, cycleEnds, decodeCheckpoint, defaultRegistry, encodeCheckpoint, evaluate, fit, type TrainingState } from '../src/index.js';
import { blobs } from './blobs.js';

const registry = defaultRegistry();
const mlp = () => modelFromConfig(registry, [{ name: 'dense', config: { units: 16, activation: 'relu', seed: 1 } }, { name: 'dense', config: { units: 4, seed: 2 } }]);

describe('snapshot ensembles', () => {
  it('finds the cycle ends of a restarting schedule (and the last step)', () => {
    expect(cycleEnds(cosineWarmRestarts({ initial: 0.1, period: 5 }), 20)).toEqual([4, 9, 14, 19]);
    expect(cycleEnds(cosineWarmRestarts({ initial: 0.1, period: 4, periodMult: 2 }), 30)).toEqual([3, 11, 27, 29]);
    expect(cycleEnds(() => 0.1, 10)).toEqual([9]);
  });

  it('takes the weights at each cycle end; the ensemble of the last ones is built from exactly those', () => {
    const model = mlp();
    const data = blobs(96, 1); // 6 batches of 16 per epoch
    const optimizer = new SGD(undefined, { lr: cosineWarmRestarts({ initial: 0.2, period: 6 }), momentum: 0.9 });
    const snapshots = new Snapshots(model, optimizer, { count: 3, steps: 4 * 6 });
    const atEnds: number[][] = [];
    let step = 0;
    fit(model, data, {
      epochs: 4, batchSize: 16, seed: 1, optimizer,
      snapshots, callbacks: { onBatchEnd: () => void (step++ % 6 === 5 && atEnds.push(Array.from(model.parameters()[0].data()))) },
    });
    expect(snapshots.taken).toBe(3);
    const ensemble = snapshots.ensemble(registry);
    expect(ensemble.members.map((m) => Array.from(m.parameters()[0].data()))).toEqual(atEnds.slice(1));
    expect(evaluate(ensemble, blobs(100, 2)).accuracy).toBeGreaterThan(0.5);
    ensemble.dispose();
    model.dispose();
  });

  it('refuses more snapshots than cycles, naming both', () => {
    const model = mlp();
    expect(() => new Snapshots(model, new SGD(undefined, { lr: cosineWarmRestarts({ initial: 0.1, period: 10 }) }), { count: 5, steps: 30 }))
      .toThrow(/5 snapshots asked, but the learning rate goes through 3 cycles in 30 steps; use a cyclic schedule \(cosineWarmRestarts\)/);
    expect(() => new Snapshots(model, new SGD(undefined, { lr: 0.1 }), { count: 2, steps: 30 })).toThrow(/goes through 1 cycle in 30 steps/);
    model.dispose();
  });

  it('is kept in checkpoints: a run stopped between cycles and resumed has the same snapshots', () => {
    const run = (resume?: TrainingState, stopAt = Infinity) => {
      const model = mlp();
      const optimizer = new SGD(undefined, { lr: cosineWarmRestarts({ initial: 0.2, period: 6 }), momentum: 0.9 });
      const snapshots = new Snapshots(model, optimizer, { count: 3, steps: 24 });
      let steps = 0;
      let saved = null as TrainingState | null;
      fit(model, blobs(96, 1), {
        epochs: 4, batchSize: 16, seed: 1, optimizer, snapshots, resume,
        shouldStop: () => ++steps >= stopAt, checkpoint: { every: 1000, save: (s) => void (saved = decodeCheckpoint(encodeCheckpoint({ state: s })).state) },
      });
      const ensemble = snapshots.taken >= 2 ? snapshots.ensemble(registry) : null;
      return { members: ensemble?.members.map((m) => Array.from(m.parameters()[0].data())), saved };
    };
    const whole = run();
    const first = run(undefined, 15);
    expect(first.saved!.snapshots!.taken).toHaveLength(2);
    expect(run(first.saved!).members).toEqual(whole.members);
  });
});
