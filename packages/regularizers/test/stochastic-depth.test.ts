// Stochastic depth: the branch is dropped with probability `rate` in training and scaled by
// 1 − rate at inference, so inference is the expectation of the training outputs.
import { describe, expect, it } from 'vitest';
import { Rng, type Tensor, noGrad, randn, scope, sum } from '@minibatch/core';
import { Dense, Residual, Sequential, modelFromConfig } from '@minibatch/layers';
import { StochasticDepth, linearDepthRates } from '../src/index.js';
import { check, expectClose, input, registry, values } from './helpers.js';

const block = () => [new Dense({ units: 4, activation: 'tanh' }), new Dense({ units: 4 })];

/** Mean of `draws` training outputs vs the eval output: within 4.5 standard errors each. */
function expectMeanIsEval(layer: StochasticDepth, x: Tensor, draws: number): Float32Array[] {
  const outputs = Array.from({ length: draws }, () => scope(() => noGrad(() => layer.forward(x).data())));
  layer.eval();
  const expected = scope(() => noGrad(() => values(layer.forward(x))));
  layer.train();
  let worst = 0;
  expected.forEach((e, i) => {
    const samples = outputs.map((o) => o[i]);
    const mean = samples.reduce((a, b) => a + b, 0) / draws;
    const se = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (draws - 1) / draws);
    worst = Math.max(worst, Math.abs(mean - e) / (se + 1e-7));
  });
  expect(worst).toBeLessThan(4.5);
  return outputs;
}

describe('stochasticDepth', () => {
  it("mode 'batch': each step keeps or skips the whole branch; inference is the expectation (Monte Carlo, 2000 steps)", () => {
    const layer = new StochasticDepth(block(), { rate: 0.3, seed: 1 });
    const x = randn([3, 4], { seed: 2 });
    const outputs = expectMeanIsEval(layer, x, 2000);
    const xs = values(x);
    layer.eval();
    const branch = scope(() => noGrad(() => values(layer.block.forward(x))));
    // Inference is exactly x + (1 − rate)·f(x).
    expectClose(scope(() => noGrad(() => values(layer.forward(x)))), xs.map((v, i) => v + 0.7 * branch[i]), 1e-6, 1e-6);
    // Every training output is x (dropped) or x + f(x) (kept); the drop fraction is the rate.
    let dropped = 0;
    for (const o of outputs) {
      if (Array.from(o).every((v, i) => v === xs[i])) dropped++;
      else expectClose(o, xs.map((v, i) => v + branch[i]), 1e-6, 1e-6);
    }
    expect(Math.abs(dropped / 2000 - 0.3)).toBeLessThan(4 * Math.sqrt((0.3 * 0.7) / 2000));
    layer.dispose();
    x.dispose();
  });

  it("mode 'sample': one gate per sample; inference is the expectation (Monte Carlo, 2000 steps)", () => {
    const layer = new StochasticDepth(block(), { rate: 0.5, mode: 'sample', seed: 3 });
    const x = randn([5, 4], { seed: 4 });
    const outputs = expectMeanIsEval(layer, x, 2000);
    const xs = values(x);
    const mixed = outputs.some((o) => {
      const rowKept = [0, 1, 2, 3, 4].map((r) => [0, 1, 2, 3].some((c) => o[r * 4 + c] !== xs[r * 4 + c]));
      return rowKept.includes(true) && rowKept.includes(false);
    });
    expect(mixed).toBe(true);
    layer.dispose();
    x.dispose();
  });

  it('a skipped branch is not computed and gets no gradient; a kept one does', () => {
    const layer = new StochasticDepth(block(), { rate: 0.5, seed: 5 });
    const x = randn([2, 4], { seed: 6 }).setRequiresGrad();
    scope(() => layer.forward(x));
    const seen = new Set<string>();
    for (let step = 0; step < 20 && seen.size < 2; step++) {
      layer.zeroGrad();
      x.zeroGrad();
      scope(() => sum(layer.forward(x)).backward());
      const kept = layer.block.parameters()[0].grad !== null;
      seen.add(kept ? 'kept' : 'dropped');
      if (!kept) {
        expect(layer.parameters().every((p) => p.grad === null)).toBe(true);
        expect(values(x.grad!)).toEqual(new Array(8).fill(1));
      }
    }
    expect([...seen].sort()).toEqual(['dropped', 'kept']);
    layer.dispose();
    x.dispose();
  });

  it('has exact gradients for a fixed gate (kept, dropped, and per-sample)', () => {
    const rng = new Rng(30);
    for (const mode of ['batch', 'sample'] as const) {
      const layer = new StochasticDepth([new Dense({ units: 3, activation: 'tanh' })], { rate: 0.5, mode, seed: 7, projection: 'always', activation: 'tanh' });
      const x = input([4, 5], rng);
      scope(() => layer.forward(x));
      const gates = new Set<boolean>();
      for (let k = 0; k < (mode === 'batch' ? 4 : 1); k++) {
        const state = layer.rngState();
        gates.add(Rng.restore(state).nextU32() < 2 ** 31); // the batch gate this state draws
        check((a) => (layer.setRngState(state), layer.forward(a)), [x, ...layer.parameters()], { eps: 1e-3 });
        scope(() => layer.forward(x)); // the next gate
      }
      if (mode === 'batch') expect([...gates].sort()).toEqual([false, true]); // both branches were checked
      layer.dispose();
      x.dispose();
    }
  });

  it("has residual's children, initial weights and state dict, and is residual at rate 0", () => {
    const make = () => [new Dense({ units: 6, activation: 'relu' }), new Dense({ units: 6 })];
    const residual = new Residual(make(), { activation: 'relu' });
    const stochastic = new StochasticDepth(make(), { rate: 0, activation: 'relu' });
    residual.build([4], new Rng(8));
    stochastic.build([4], new Rng(8));
    const a = residual.stateDict();
    const b = stochastic.stateDict();
    expect(Object.keys(b)).toEqual(['block.0.weight', 'block.0.bias', 'block.1.weight', 'block.1.bias', 'projection.weight']);
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const key of Object.keys(a)) expect(Array.from(b[key].data)).toEqual(Array.from(a[key].data));
    const x = randn([3, 4], { seed: 9 });
    expect(scope(() => values(stochastic.forward(x)))).toEqual(scope(() => values(residual.forward(x))));
    expect(stochastic.summary()).toContain('projection (dense)');
    expect(stochastic.summary([4])).toBe(residual.summary([4]));
    [residual, stochastic, x].forEach((t) => t.dispose());
  });

  it('round-trips through the registry; linearDepthRates sets p_l = p_L·l/L', () => {
    const spec = {
      name: 'sequential',
      config: {
        layers: [1, 2, 3].map(() => ({ name: 'stochasticDepth', config: { block: [{ name: 'dense', config: { units: 4, activation: 'relu' } }], mode: 'sample' } })),
      },
    };
    const model = modelFromConfig(registry, spec);
    model.build([4], new Rng(10));
    expect(linearDepthRates(model, 0.5).map((r) => Number(r.toFixed(4)))).toEqual([0.1667, 0.3333, 0.5]);
    const config = registry.serialize(model);
    const copy = modelFromConfig(registry, config as never);
    copy.build([4]);
    copy.loadStateDict(model.stateDict());
    expect((copy as Sequential).layers.map((l) => (l as StochasticDepth).rate)).toEqual((model as Sequential).layers.map((l) => (l as StochasticDepth).rate));
    model.eval();
    copy.eval();
    const x = randn([2, 4], { seed: 11 });
    expect(scope(() => values(copy.forward(x)))).toEqual(scope(() => values(model.forward(x))));
    expect(() => linearDepthRates(new Sequential([new Dense({ units: 2 })]), 0.5)).toThrow(/no stochasticDepth block/);
    expect(() => new StochasticDepth(block(), { rate: 1 })).toThrow(/invalid rate: 1/);
    expect(() => new StochasticDepth(block(), { projection: 'none' }).build([3])).toThrow(/^stochasticDepth: the block maps \[3\] to \[4\]/);
    [model, copy, x].forEach((t) => t.dispose());
  });
});
