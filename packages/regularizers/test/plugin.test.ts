// The plugin: every entry by name, and a whole model with every layer of this package that
// round-trips through JSON and is reproducible from its seed.
import { describe, expect, it } from 'vitest';
import { Rng, randn, scope, sum } from '@minibatch/core';
import { modelFromConfig, modelToConfig } from '@minibatch/layers';
import { regularizers } from '../src/index.js';
import { registry, values } from './helpers.js';

const spec = [
  { name: 'conv2d', config: { filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' } },
  { name: 'spatialDropout', config: { rate: 0.25 } },
  { name: 'fractionalMaxPool2d', config: { ratio: Math.SQRT1_2, overlapping: true } },
  { name: 'dropConnectConv2d', config: { filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', rate: 0.2 } },
  'flatten',
  { name: 'dropConnect', config: { units: 16, activation: 'relu', rate: 0.3 } },
  { name: 'dropout', config: { rate: 0.5 } },
  { name: 'stochasticDepth', config: { block: [{ name: 'dense', config: { units: 16, activation: 'relu' } }], rate: 0.3, mode: 'sample' } },
  { name: 'dense', config: { units: 3 } },
];

describe('regularizers plugin', () => {
  it('registers its layers and its penalties and constraints', () => {
    expect(regularizers.name).toBe('@minibatch/regularizers');
    const names = (kind: string) => regularizers.entries.filter((e) => e.kind === kind).map((e) => e.name).sort();
    expect(names('layer')).toEqual(['dropConnect', 'dropConnectConv2d', 'dropout', 'fractionalMaxPool2d', 'spatialDropout', 'stochasticDepth']);
    expect(names('regularizer')).toEqual(['elasticNet', 'l1', 'l2', 'maxNorm', 'nonNegative']);
    expect(regularizers.entries.every((e) => typeof e.description === 'string')).toBe(true);
  });

  it('a model with every layer trains (gradients everywhere), round-trips through JSON, and one seed fixes it', () => {
    const x = randn([2, 10, 10, 1], { seed: 1 });
    const build = (seed: number) => {
      const model = modelFromConfig(registry, spec as never);
      model.build([10, 10, 1], new Rng(seed));
      return model;
    };
    const a = build(7);
    const b = build(7);
    expect(a.summary()).toContain('(fractionalMaxPool2d)');
    // Same seed: same weights and the same masks, regions and gates, step after step.
    for (let step = 0; step < 3; step++) expect(scope(() => values(a.forward(x)))).toEqual(scope(() => values(b.forward(x))));
    scope(() => sum(a.forward(x)).backward());
    expect(a.parameterInfo().filter((p) => p.tensor.grad === null).map((p) => p.name)).toEqual([]);
    const json = JSON.stringify({ config: modelToConfig(a), state: a.stateDict() }, (_, v) => (v instanceof Float32Array ? Array.from(v) : v));
    const saved = JSON.parse(json);
    const copy = modelFromConfig(registry, saved.config);
    copy.build([10, 10, 1]);
    copy.loadStateDict(saved.state);
    expect(JSON.stringify(modelToConfig(copy))).toBe(JSON.stringify(saved.config));
    a.eval();
    copy.eval();
    expect(scope(() => values(copy.forward(x)))).toEqual(scope(() => values(a.forward(x))));
    const [c, d] = [build(8), build(7)];
    expect(scope(() => values(c.forward(x)))).not.toEqual(scope(() => values(d.forward(x))));
    [a, b, c, d, copy, x].forEach((t) => t.dispose());
  });
});
