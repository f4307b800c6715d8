// The order of the training data: shuffle 'epoch' (the default) draws a new order every epoch,
// 'once' one order for the whole run, false keeps the data set's (LeCun et al., "Efficient
// BackProp" 1998, §4.2 compares them) — in fit, and as a run config field through experiment().
import { describe, expect, it } from 'vitest';
import { modelFromConfig } from '@minibatch/layers';
import { SGD } from '@minibatch/optimizers';
import {
  ConfigError, configChanges, defaultRegistry, experiment, fit, parseRunConfig, splitConfigData, type DataSource, type FitOptions, type TrainingState,
} from '../src/index.js';
import { blobs } from './blobs.js';

const registry = defaultRegistry();
const mlp = () => modelFromConfig(registry, [
  { name: 'dense', config: { units: 8, activation: 'relu', seed: 1 } },
  { name: 'dense', config: { units: 4, seed: 2 } },
]);
const data = blobs(40, 3);
const identity = Array.from({ length: 40 }, (_, i) => i);
const weightsOf = (model: { parameters(): { data(): Float32Array }[] }) => model.parameters().map((p) => Array.from(p.data()));

/**
 * 3 epochs of 5 batches; returns the order in which each epoch visited the samples (read by a
 * transform that changes nothing) and the final weights.
 */
function train(options: Partial<FitOptions> = {}): { orders: number[][]; weights: number[][] } {
  const batches: number[][][] = [[], [], []];
  const model = mlp();
  fit(model, data, {
    epochs: 3, batchSize: 8, seed: 6, optimizer: new SGD(undefined, { lr: 0.05, momentum: 0.9 }),
    transform: (x, context) => {
      batches[context.epoch][context.index] = Array.from(context.indices);
      return x;
    },
    ...options,
  });
  const weights = weightsOf(model);
  model.dispose();
  return { orders: batches.map((epoch) => epoch.flat()), weights };
}

describe('fit: shuffle', () => {
  it("reshuffles every epoch by default, keeps one shuffled order with 'once', the data set's order with false", () => {
    const byDefault = train();
    const perEpoch = train({ shuffle: 'epoch' });
    const once = train({ shuffle: 'once' });
    const none = train({ shuffle: false });
    expect(perEpoch).toEqual(byDefault);
    expect(perEpoch.orders[1]).not.toEqual(perEpoch.orders[0]);
    expect(perEpoch.orders[2]).not.toEqual(perEpoch.orders[1]);
    // 'once': epoch 0's permutation, every epoch; not the identity.
    expect(once.orders[0]).toEqual(perEpoch.orders[0]);
    expect(once.orders[1]).toEqual(once.orders[0]);
    expect(once.orders[2]).toEqual(once.orders[0]);
    expect(once.orders[0]).not.toEqual(identity);
    expect(none.orders).toEqual([identity, identity, identity]);
    // Another order, another run; the same order, the same run.
    expect(once.weights).not.toEqual(perEpoch.weights);
    expect(none.weights).not.toEqual(perEpoch.weights);
    expect(none.weights).not.toEqual(once.weights);
    expect(train({ shuffle: 'once' })).toEqual(once);
  });

  it("a 'once' run stopped mid-epoch and resumed sees the same order: the same weights as the run never stopped", () => {
    const unbroken = train({ shuffle: 'once' });
    let steps = 0;
    let saved: TrainingState | null = null;
    train({ shuffle: 'once', shouldStop: () => ++steps >= 7, checkpoint: { every: 1000, save: (state) => void (saved = state) } });
    expect(saved!).toMatchObject({ epoch: 1, batch: 1 });
    const resumed = train({ shuffle: 'once', resume: saved! });
    expect(resumed.weights).toEqual(unbroken.weights);
    expect(resumed.orders[1]).toEqual(unbroken.orders[0].slice(8));
    expect(resumed.orders[2]).toEqual(unbroken.orders[0]);
  });

  it('refuses another value, naming it and the allowed ones', () => {
    expect(() => train({ shuffle: 'twice' as never })).toThrow(/fit: shuffle must be 'epoch', 'once' or false, got "twice"/);
    expect(() => train({ shuffle: 1 as never })).toThrow(/fit: shuffle must be 'epoch', 'once' or false, got 1/);
  });
});

describe('run config: shuffle', () => {
  const config = {
    data: { name: 'mnist' },
    model: [{ name: 'flatten' }, { name: 'dense', config: { units: 8, activation: 'relu' } }, { name: 'dense', config: { units: 4 } }],
    optimizer: { name: 'sgd', config: { lr: 0.05, momentum: 0.9 } },
    epochs: 3,
    batchSize: 8,
    seed: 6,
  };
  const source: DataSource = (d, seed) => splitConfigData(data, blobs(20, 4), d, seed);

  it("takes 'epoch', 'once' or false; absent stays absent, so the config of an older checkpoint still matches", () => {
    expect('shuffle' in parseRunConfig(config)).toBe(false);
    expect(parseRunConfig({ ...config, shuffle: 'epoch' }).shuffle).toBe('epoch');
    expect(parseRunConfig({ ...config, shuffle: 'once' }).shuffle).toBe('once');
    expect(parseRunConfig({ ...config, shuffle: false }).shuffle).toBe(false);
    // Resuming with another order is a config change, which --resume refuses.
    expect(configChanges(parseRunConfig(config), parseRunConfig({ ...config, shuffle: 'once' }))).toEqual(['shuffle: (none) → "once"']);
  });

  it('refuses another value with a config error naming the path, the value and the allowed ones', () => {
    for (const [value, shown] of [['twice', '"twice"'], [true, 'true'], ['Once', '"Once"'], [0, '0']] as const) {
      expect(() => parseRunConfig({ ...config, shuffle: value }, 'run.json')).toThrow(ConfigError);
      expect(() => parseRunConfig({ ...config, shuffle: value }, 'run.json')).toThrow(`run.json: invalid config\n  - shuffle: expected one of "epoch", "once", false, got ${shown}`);
    }
  });

  it('experiment() trains with it: each order its own run, false the same run as fit in data order', () => {
    const trained = (shuffle?: unknown): number[][] => {
      const run = experiment(shuffle === undefined ? config : { ...config, shuffle }, { data: source });
      run.run();
      const weights = weightsOf(run.model);
      run.dispose();
      return weights;
    };
    const byDefault = trained();
    expect(trained('epoch')).toEqual(byDefault);
    const once = trained('once');
    const none = trained(false);
    expect(once).not.toEqual(byDefault);
    expect(none).not.toEqual(byDefault);
    expect(none).not.toEqual(once);
    // The same model and data, trained by fit in the data set's order.
    const run = experiment(config, { data: source });
    fit(run.model, run.data.train, { epochs: 3, batchSize: 8, seed: 6, shuffle: false, optimizer: run.optimizer });
    expect(weightsOf(run.model)).toEqual(none);
    run.dispose();
  });
});
