// Ensembles: the output is the log of the members' mean probabilities (checked against the
// members' own outputs), the file round-trips, and members that do not fit are refused.
import { describe, expect, it } from 'vitest';
import { Rng, softmax, tensor } from '@minibatch/core';
import { modelFromConfig } from '@minibatch/layers';
import { Adam } from '@minibatch/optimizers';
import { Ensemble, decodeModel, defaultRegistry, encodeModel, evaluate, fit, predict } from '../src/index.js';
import { blobs } from './blobs.js';

const registry = defaultRegistry();
const member = (seed: number, units = 4) => modelFromConfig(registry, [{ name: 'dense', config: { units: 16, activation: 'relu', seed } }, { name: 'dense', config: { units, seed: seed + 100 } }]);

describe('Ensemble', () => {
  it('averages the members\' probabilities; a model file holds all of it', () => {
    const data = blobs(200, 1);
    const members = [1, 2, 3].map((s) => {
      const m = member(s);
      fit(m, data, { epochs: 10, seed: s, optimizer: new Adam(undefined, { lr: 0.01 }) });
      return m;
    });
    const ensemble = new Ensemble(members);
    ensemble.build([8]);
    const x = tensor(blobs(5, 9).x, [5, 8]);
    const expected = members.map((m) => { m.eval(); return Array.from(softmax(m.forward(x)).data()); });
    const got = Array.from(softmax(ensemble.forward(x)).data());
    got.forEach((p, i) => expect(p).toBeCloseTo((expected[0][i] + expected[1][i] + expected[2][i]) / 3, 5));
    const test = blobs(100, 3);
    const accuracy = evaluate(ensemble, test).accuracy;
    const each = members.map((m) => evaluate(m, test).accuracy);
    expect(accuracy).toBeGreaterThanOrEqual(each.reduce((a, b) => a + b, 0) / each.length - 0.02);
    const loaded = decodeModel(encodeModel(ensemble, [8]), registry, 'ensemble.safetensors');
    expect(loaded.model.name).toBe('ensemble');
    expect(Array.from(predict(loaded.model, test))).toEqual(Array.from(predict(ensemble, test)));
    const logits = new Ensemble(members, { combine: 'logits' });
    logits.build([8]);
    const raw = members.map((m) => Array.from(m.forward(x).data()));
    Array.from(logits.forward(x).data()).forEach((v, i) => expect(v).toBeCloseTo((raw[0][i] + raw[1][i] + raw[2][i]) / 3, 5));
    loaded.model.dispose();
    ensemble.dispose();
  });

  it('refuses members that do not fit together', () => {
    expect(() => new Ensemble([member(1)])).toThrow(/needs at least two members, got 1/);
    const odd = new Ensemble([member(1, 4), member(2, 5)]);
    expect(() => odd.build([8])).toThrow(/member 1 outputs \[5\] but member 0 outputs \[4\]; members must give the same output shape/);
    const a = member(3);
    a.build([6], new Rng(1));
    const built = new Ensemble([a, member(4)]);
    expect(() => built.build([8])).toThrow(/member 0 was built for inputs \[6\], the ensemble gets \[8\]/);
    expect(() => registry.create('layer', 'ensemble', { members: [{ name: 'dense', config: { units: 2 } }], combine: 'mean' })).toThrow(/combine|members/);
  });
});
