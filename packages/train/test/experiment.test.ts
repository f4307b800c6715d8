// experiment(config): one config → one run, the assembly the CLI, search, lab and demo share.
import { describe, expect, it } from 'vitest';
import { Rng } from '@minibatch/core';
import { createDataset, type Dataset } from '@minibatch/data';
import { ConfigError, defaultRegistry, experiment, modelInputShape, parseRunConfig, splitConfigData, type DataSource } from '../src/index.js';

/** Tiny 4×4×1 "images": the class is which quadrant holds the bright pixel. */
function quadrants(count: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = new Float32Array(count * 16);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    y[i] = i % 4;
    const [r, c] = [(y[i] >> 1) * 2 + rng.int(2), (y[i] & 1) * 2 + rng.int(2)];
    for (let k = 0; k < 16; k++) x[i * 16 + k] = rng.normal() * 0.1;
    x[i * 16 + r * 4 + c] += 1;
  }
  return createDataset(x, y, [4, 4, 1], { classes: 4 });
}

const source: DataSource = (data, seed) => splitConfigData(quadrants(400, 1), quadrants(200, 2), data, seed);

const config = {
  data: { name: 'mnist', validation: 0.25 },
  preprocessing: [{ name: 'standardize', config: { per: 'global' } }],
  augment: [{ name: 'flip', config: { horizontal: false, vertical: false } }],
  model: [{ name: 'flatten' }, { name: 'dense', config: { units: 16, activation: 'relu' } }, { name: 'dense', config: { units: 4 } }],
  optimizer: { name: 'adam', config: { lr: 0.01 } },
  regularization: [{ name: 'l2', config: { lambda: 1e-4 } }],
  epochs: 8,
  batchSize: 32,
  seed: 5,
};

describe('experiment(config)', () => {
  it('resolves, loads through the data source, preprocesses, trains and tests; the same config gives the same run', () => {
    const once = () => {
      const run = experiment(config, { data: source });
      expect(run.data.train.count + (run.data.validation?.count ?? 0)).toBe(400);
      expect(run.model.built).toBe(true);
      const history = run.run();
      const test = run.test();
      const extras = run.extras(test.accuracy);
      run.dispose();
      return { history, test, extras };
    };
    const a = once();
    const b = once();
    expect(a.history.epochs.at(-1)!.val_accuracy).toBeGreaterThan(0.9);
    expect(a.history.epochs.at(-1)!.penalty).toBeGreaterThan(0);
    expect(a.test.accuracy).toBeGreaterThan(0.9);
    expect(b.history.epochs.map((e) => e.loss)).toEqual(a.history.epochs.map((e) => e.loss));
    expect(b.test).toEqual(a.test);
    expect(a.extras.info).toMatchObject({ data: { name: 'mnist', validation: 0.25 }, test_accuracy: a.test.accuracy, originalShape: [4, 4, 1] });
    expect(a.extras.preprocessing).toMatchObject({ type: 'pipeline', steps: [{ type: 'standardize' }] });
  });

  it('fails on a misnamed part before asking for any data', () => {
    let asked = false;
    const counting: DataSource = (d, s) => {
      asked = true;
      return source(d, s);
    };
    expect(() => experiment({ ...config, optimizer: { name: 'adma' } }, { data: counting })).toThrow(/did you mean 'adam'/);
    expect(() => experiment({ ...config, preprocessing: [{ name: 'whiten' }] }, { data: counting })).toThrow(ConfigError);
    expect(asked).toBe(false);
  });

  it('knows the model input shape from the config alone', () => {
    expect(modelInputShape(parseRunConfig(config))).toEqual([28, 28, 1]);
    expect(modelInputShape(parseRunConfig({ ...config, preprocessing: [{ name: 'pca', config: { components: 20 } }] }))).toEqual([20]);
  });
});

describe('strict configs', () => {
  it('every plugin a run config can name refuses an unknown key, naming it', () => {
    const registry = defaultRegistry();
    const names = registry.list();
    expect(names.length).toBeGreaterThan(80);
    for (const entry of names) {
      const [kind, name] = entry.split('/');
      let message = '';
      try {
        registry.create(kind, name, { notAKey: 1 });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, entry).toMatch(/notAKey: unknown key 'notAKey'/);
    }
  });
});
