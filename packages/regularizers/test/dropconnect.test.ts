// DropConnect: one weight mask per mini-batch from the seeded generator; inference uses the
// expected weights, so its output is the mean of the training outputs (Monte Carlo).
import { describe, expect, it } from 'vitest';
import { Rng, add, matmul, noGrad, randn, scope, sum, tensor } from '@minibatch/core';
import { Conv2d, Dense } from '@minibatch/layers';
import { DropConnect, DropConnectConv2d } from '../src/index.js';
import { check, expectClose, input, registry, values } from './helpers.js';

const TWO_32 = 4294967296;

/**
 * Runs `forward` `masks` times in training mode and checks that the mean output is the
 * eval-mode output within 4.5 standard errors per element, the standard errors measured
 * from the same draws.
 */
function expectMeanIsEval(layer: DropConnect | DropConnectConv2d, x: ReturnType<typeof randn>, masks: number): void {
  const outputs: Float32Array[] = [];
  for (let m = 0; m < masks; m++) outputs.push(scope(() => noGrad(() => layer.forward(x).data())));
  layer.eval();
  const expected = scope(() => noGrad(() => values(layer.forward(x))));
  layer.train();
  let worst = 0;
  expected.forEach((e, i) => {
    const samples = outputs.map((o) => o[i]);
    const mean = samples.reduce((a, b) => a + b, 0) / masks;
    const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (masks - 1);
    const se = Math.sqrt(variance / masks);
    worst = Math.max(worst, Math.abs(mean - e) / (se + 1e-7));
  });
  expect(worst).toBeLessThan(4.5);
  // And the training outputs did vary (the masks are not all ones).
  expect(outputs[0]).not.toEqual(outputs[1]);
}

describe('dropConnect (dense)', () => {
  it('starts from the same weights as a dense layer with the same seed, and equals it in eval mode', () => {
    const a = new DropConnect({ units: 5, activation: 'relu', seed: 3, rate: 0.5 });
    const b = new Dense({ units: 5, activation: 'relu', seed: 3 });
    const x = randn([4, 6], { seed: 1 });
    a.eval();
    expect(scope(() => values(a.forward(x)))).toEqual(scope(() => values(b.forward(x))));
    expect(values(a.parameters()[0])).toEqual(values(b.parameters()[0]));
    [a, b, x].forEach((t) => t.dispose());
  });

  it('in training uses x·(W ⊙ M)/(1 − rate) + b with one mask M per batch from its generator', () => {
    const layer = new DropConnect({ units: 4, rate: 0.25, seed: 9, biasInitializer: { name: 'constant', config: { value: 0.5 } } });
    const x = randn([3, 5], { seed: 2 });
    layer.build([5]);
    const state = layer.rngState();
    const y = scope(() => values(layer.forward(x)));
    const rng = Rng.restore(state);
    const threshold = Math.floor(0.75 * TWO_32);
    const w = values(layer.parameters()[0]).map((v) => (rng.nextU32() < threshold ? v / 0.75 : 0));
    expect(w.filter((v) => v === 0).length).toBeGreaterThan(0);
    const expected = scope(() => values(add(matmul(x, tensor(w, [5, 4])), 0.5)));
    expectClose(y, expected, 1e-5, 1e-5);
    layer.dispose();
    x.dispose();
  });

  it('inference equals the expectation of the training outputs (Monte Carlo, 3000 masks)', () => {
    const layer = new DropConnect({ units: 4, rate: 0.5, seed: 4 });
    const x = randn([3, 6], { seed: 5 });
    expectMeanIsEval(layer, x, 3000);
    layer.dispose();
    x.dispose();
  });

  it('has exact gradients through a fixed mask; dropped weights get none', () => {
    const rng = new Rng(21);
    for (const activation of [undefined, 'tanh'] as const) {
      const layer = new DropConnect({ units: 3, rate: 0.5, seed: 6, ...(activation ? { activation } : {}), biasInitializer: { name: 'uniform', config: {} } });
      const x = input([4, 5], rng);
      scope(() => layer.forward(x));
      const state = layer.rngState();
      const fixed = (a: typeof x) => (layer.setRngState(state), layer.forward(a));
      check(fixed, [x, ...layer.parameters()], { eps: 1e-3 });
      if (activation === undefined) {
        layer.zeroGrad();
        scope(() => sum(fixed(x)).backward());
        const rngCopy = Rng.restore(state);
        const kept = Array.from({ length: 15 }, () => rngCopy.nextU32() < Math.floor(0.5 * TWO_32));
        const gw = values(layer.parameters()[0].grad!);
        kept.forEach((k, i) => expect(gw[i] === 0).toBe(!k));
      }
      layer.dispose();
      x.dispose();
    }
  });

  it('round-trips through the registry with its rate', () => {
    const layer = registry.create<DropConnect>('layer', 'dropConnect', { units: 7, rate: 0.3 });
    const spec = registry.serialize(layer);
    expect(spec).toMatchObject({ kind: 'layer', name: 'dropConnect', config: { units: 7, rate: 0.3, kernelInitializer: 'xavierUniform' } });
    expect(registry.fromJSON<DropConnect>(spec).rate).toBe(0.3);
    expect(() => registry.create('layer', 'dropConnect', { units: 3, rate: 1 })).toThrow(/rate/);
  });
});

describe('dropConnectConv2d', () => {
  it('equals conv2d with the same seed in eval mode; inference is the mean of training outputs', () => {
    const config = { filters: 3, kernelSize: 2, padding: 'same' as const, seed: 8 };
    const a = new DropConnectConv2d({ ...config, rate: 0.4 });
    const b = new Conv2d(config);
    const x = randn([2, 4, 4, 2], { seed: 6 });
    a.eval();
    expect(scope(() => values(a.forward(x)))).toEqual(scope(() => values(b.forward(x))));
    a.train();
    expectMeanIsEval(a, x, 2000);
    expect(a.summary([4, 4, 2])).toContain('Total params: 27');
    [a, b, x].forEach((t) => t.dispose());
  });

  it('has exact gradients through a fixed mask, and names itself in shape errors', () => {
    const layer = new DropConnectConv2d({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', rate: 0.3, seed: 1 });
    const x = input([2, 5, 5, 2], new Rng(3));
    scope(() => layer.forward(x));
    const state = layer.rngState();
    check((a) => (layer.setRngState(state), layer.forward(a)), [x, ...layer.parameters()], { eps: 1e-3 });
    expect(() => layer.build([5, 5, 3])).toThrow(/dropConnectConv2d: built for 2 input channels, got 3/);
    expect(() => new DropConnectConv2d({ filters: 2, kernelSize: 3 }).build([10])).toThrow(/^dropConnectConv2d: expects NHWC/);
    expect(registry.serialize(layer).config).toMatchObject({ filters: 2, kernelSize: 3, strides: 2, rate: 0.3, seed: 1, kernelInitializer: 'xavierUniform' });
    layer.dispose();
    x.dispose();
  });
});
