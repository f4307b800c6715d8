// The Module base: parameter paths and kinds, building and seeds, state dicts and their
// errors, summary(), modes, and memory.
import { describe, expect, it } from 'vitest';
import { Rng, ShapeError, type Tensor, engine, mul, noGrad, randn, scope, sum } from '@minibatch/core';
import {
  BatchNorm, Conv2d, Dense, Flatten, MaxPool2d, Module, ReLU, Residual, Sequential, StateDictError, initializers,
  type ParamSpec,
} from '../src/index.js';
import { values } from './helpers.js';

const rng = new Rng(77);

function mlp(seed?: number): Sequential {
  return new Sequential([new Dense({ units: 4, activation: 'relu' }), new BatchNorm(), new Dense({ units: 2 })], seed === undefined ? {} : { seed });
}

const out = (model: Module, x: Tensor): number[] => scope(() => noGrad(() => values(model.forward(x))));

describe('parameters', () => {
  it('dotted paths, own parameters first, children in order', () => {
    const model = new Sequential([
      new Conv2d({ filters: 2, kernelSize: 3 }),
      new Residual([new Conv2d({ filters: 3, kernelSize: 1 }), new BatchNorm()]),
      new Flatten(),
      new Dense({ units: 2, useBias: false }),
    ]);
    model.build([5, 5, 1]);
    expect(model.namedParameters().map(([n, t]) => `${n} ${t.shape.join('x')}`)).toEqual([
      '0.weight 3x3x1x2',
      '0.bias 2',
      '1.block.0.weight 1x1x2x3',
      '1.block.0.bias 3',
      '1.block.1.gamma 3',
      '1.block.1.beta 3',
      '1.projection.weight 1x1x2x3',
      '3.weight 27x2',
    ]);
    expect(model.namedBuffers().map(([n]) => n)).toEqual(['1.block.1.runningMean', '1.block.1.runningVar']);
    expect(model.parameters()).toHaveLength(8);
    expect(model.parameterCount()).toBe(18 + 2 + 6 + 3 + 3 + 3 + 6 + 54);
  });

  it('kinds: weight, bias, norm — for regularizers that penalize weights only', () => {
    const model = mlp();
    model.build([3]);
    expect(model.parameterInfo().map((p) => `${p.name}:${p.kind}`)).toEqual([
      '0.weight:weight', '0.bias:bias', '1.gamma:norm', '1.beta:norm', '2.weight:weight', '2.bias:bias',
    ]);
    expect(model.paramKind('2.weight')).toBe('weight');
    expect(model.paramKind('1.beta')).toBe('norm');
    expect(() => model.paramKind('9.weight')).toThrow(/no parameter '9.weight'; parameters: 0.weight, 0.bias/);
  });

  it('parameters are kept (survive scopes) and require grad; buffers do not', () => {
    const model = mlp();
    scope(() => model.forward(randn([4, 3], { rng }))); // lazy build inside a scope
    for (const p of model.parameters()) {
      expect(p.disposed).toBe(false);
      expect(p.requiresGrad).toBe(true);
    }
    for (const [, b] of model.namedBuffers()) expect(b.requiresGrad).toBe(false);
  });

  it('backward fills every parameter gradient; zeroGrad frees them', () => {
    const model = mlp();
    scope(() => sum(model.forward(randn([4, 3], { rng }))).backward());
    expect(model.parameters().every((p) => p.grad !== null)).toBe(true);
    model.zeroGrad();
    expect(model.parameters().every((p) => p.grad === null)).toBe(true);
  });
});

describe('building and seeds', () => {
  it('build returns the per-sample output shape and creates parameters once', () => {
    const model = mlp();
    expect(model.built).toBe(false);
    expect(model.build([3])).toEqual([2]);
    const first = model.parameters()[0];
    expect(model.build([3])).toEqual([2]);
    expect(model.parameters()[0]).toBe(first);
    expect(model.builtInputShape).toEqual([3]);
  });

  it('a built model rejects an incompatible input shape, naming the layer', () => {
    const model = mlp();
    model.build([3]);
    expect(() => model.build([5])).toThrow(/layer 0 \(dense\) of sequential: dense: built for 3 input features, got 5/);
    expect(() => out(model, randn([2, 5], { rng }))).toThrow(ShapeError);
  });

  it('dense on images says to flatten first', () => {
    expect(() => new Dense({ units: 3 }).build([28, 28, 1])).toThrow(/put a 'flatten'/);
  });

  it('bad shapes are clear errors', () => {
    expect(() => mlp().build([0])).toThrow(/positive integers without the batch dimension/);
    expect(() => new Conv2d({ filters: 1, kernelSize: 5 }).build([3, 3, 1])).toThrow(/5×5 window does not fit a 3×3 image/);
  });

  it('the same seed gives the same parameters; another seed differs', () => {
    const a = mlp();
    const b = mlp();
    const c = mlp();
    a.build([3], new Rng(1));
    b.build([3], new Rng(1));
    c.build([3], new Rng(2));
    expect(values(a.parameters()[0])).toEqual(values(b.parameters()[0]));
    expect(values(a.parameters()[4])).toEqual(values(b.parameters()[4]));
    expect(values(a.parameters()[0])).not.toEqual(values(c.parameters()[0]));
  });

  it('lazy build on forward equals build(shape) without an rng, which equals new Rng(0)', () => {
    const lazy = mlp();
    out(lazy, randn([2, 3], { rng }));
    const explicit = mlp();
    explicit.build([3]);
    const zero = mlp();
    zero.build([3], new Rng(0));
    for (let i = 0; i < 6; i++) {
      expect(values(lazy.parameters()[i])).toEqual(values(explicit.parameters()[i]));
      expect(values(zero.parameters()[i])).toEqual(values(explicit.parameters()[i]));
    }
  });

  it("a layer's own seed wins over the rng it is given", () => {
    const a = new Dense({ units: 3, seed: 42 });
    const b = new Dense({ units: 3, seed: 42 });
    a.build([4], new Rng(1));
    b.build([4], new Rng(2));
    expect(values(a.parameters()[0])).toEqual(values(b.parameters()[0]));
    const seeded = mlp(9);
    const other = mlp(9);
    seeded.build([3], new Rng(100));
    other.build([3]);
    expect(values(seeded.parameters()[0])).toEqual(values(other.parameters()[0]));
  });

  it("each child gets a forked generator: a layer's weights do not depend on earlier layers' sizes", () => {
    // The first layers draw 5·4 and 7·4 weights; the second layers still get the same ones.
    const a = new Sequential([new Dense({ units: 4 }), new Dense({ units: 3 })]);
    const b = new Sequential([new Dense({ units: 4 }), new Dense({ units: 3 })]);
    a.build([5], new Rng(3));
    b.build([7], new Rng(3));
    expect(values(a.parameters()[2])).toEqual(values(b.parameters()[2]));
  });

  it('weights follow the default initializer for the activation (He for ReLU: std √(2/fanIn))', () => {
    const layer = new Dense({ units: 400, activation: 'relu' });
    layer.build([500], new Rng(1));
    const w = values(layer.parameters()[0]);
    const std = Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(Math.sqrt(2 / 500) * 0.98);
    expect(std).toBeLessThan(Math.sqrt(2 / 500) * 1.02);
    expect(values(layer.parameters()[1]).every((v) => v === 0)).toBe(true);
  });
});

describe('state dicts', () => {
  it('round-trip: another model loads the state and gives identical outputs', () => {
    const a = mlp();
    a.build([3], new Rng(1));
    out(a, randn([8, 3], { rng })); // move BatchNorm's running statistics
    a.eval();
    const b = mlp();
    b.build([3], new Rng(2));
    b.eval();
    const x = randn([5, 3], { rng });
    expect(out(b, x)).not.toEqual(out(a, x));
    const state = a.stateDict();
    expect(Object.keys(state)).toEqual(['0.weight', '0.bias', '1.gamma', '1.beta', '2.weight', '2.bias', '1.runningMean', '1.runningVar']);
    expect(state['0.weight'].shape).toEqual([3, 4]);
    expect(state['0.weight'].data).toBeInstanceOf(Float32Array);
    b.loadStateDict(state);
    expect(out(b, x)).toEqual(out(a, x));
  });

  it('the state is a copy: changing it later does not change the model', () => {
    const a = mlp();
    a.build([3]);
    const state = a.stateDict();
    state['0.weight'].data[0] = 123;
    expect(values(a.parameters()[0])[0]).not.toBe(123);
  });

  it('accepts plain arrays (state that went through JSON)', () => {
    const a = mlp();
    a.build([3], new Rng(4));
    const json = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(a.stateDict()).map(([k, v]) => [k, { shape: v.shape, data: Array.from(v.data) }]))));
    const b = mlp();
    b.build([3], new Rng(5));
    b.loadStateDict(json);
    expect(values(b.parameters()[0])).toEqual(values(a.parameters()[0]));
  });

  it('missing, unexpected and mis-shaped entries are all listed, and nothing is loaded', () => {
    const a = mlp();
    a.build([3], new Rng(1));
    const b = mlp();
    b.build([3], new Rng(2));
    const before = values(b.parameters()[0]);
    const state = a.stateDict();
    delete (state as Record<string, unknown>)['2.bias'];
    state['3.weight'] = { shape: [2, 2], data: new Float32Array(4) };
    state['1.gamma'] = { shape: [5], data: new Float32Array(5) };
    let error: unknown;
    try {
      b.loadStateDict(state);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateDictError);
    const message = (error as Error).message;
    expect(message).toMatch(/nothing was loaded/);
    expect(message).toContain("missing: '2.bias' [2]");
    expect(message).toContain("unexpected: '3.weight' [2, 2]");
    expect(message).toContain("shape mismatch: '1.gamma' is [4] in the model but [5] in the state");
    expect((error as StateDictError).problems).toHaveLength(3);
    expect(values(b.parameters()[0])).toEqual(before);
  });

  it('strict: false ignores unexpected entries but not missing ones', () => {
    const a = mlp();
    a.build([3], new Rng(1));
    const b = mlp();
    b.build([3]);
    const state = { ...a.stateDict(), extra: { shape: [1], data: new Float32Array(1) } };
    b.loadStateDict(state, { strict: false });
    expect(values(b.parameters()[0])).toEqual(values(a.parameters()[0]));
    expect(() => b.loadStateDict({}, { strict: false })).toThrow(/missing: '0.weight'/);
  });

  it('wrong data lengths are reported', () => {
    const a = mlp();
    a.build([3]);
    const state = a.stateDict();
    state['0.bias'] = { shape: [4], data: new Float32Array(3) };
    expect(() => a.loadStateDict(state)).toThrow(/'0.bias' \[4\] needs 4 values, got 3/);
  });

  it('an unbuilt model says to build it first', () => {
    const a = mlp();
    a.build([3]);
    expect(() => mlp().loadStateDict(a.stateDict())).toThrow(/not built: call model.build\(inputShape\) first/);
  });
});

describe('summary', () => {
  const model = (): Sequential =>
    new Sequential([
      new Conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', label: 'stem' }),
      new MaxPool2d(),
      new Residual([new Conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same' }), new BatchNorm()], { activation: 'relu' }),
      new Flatten(),
      new Dense({ units: 10 }),
    ]);

  const expected = [
    'Input: [batch, 28, 28, 1]',
    'Layer (type)              Output shape         Params',
    '─────────────────────────────────────────────────────',
    'stem (conv2d)             [batch, 28, 28, 8]       80',
    '1 (maxPool2d)             [batch, 14, 14, 8]        0',
    '2 (residual)              [batch, 7, 7, 16]     1,328',
    '  2.block.0 (conv2d)      [batch, 7, 7, 16]     1,168',
    '  2.block.1 (batchNorm)   [batch, 7, 7, 16]        32',
    '  2.projection (conv2d)   [batch, 7, 7, 16]       128',
    '3 (flatten)               [batch, 784]              0',
    '4 (dense)                 [batch, 10]           7,850',
    '─────────────────────────────────────────────────────',
    'Total params: 9,258 (36.2 KiB float32)',
    'Non-trainable buffers: 32',
  ].join('\n');

  it('prints layers, output shapes, parameter counts and the total without building', () => {
    const m = model();
    expect(m.summary([28, 28, 1])).toBe(expected);
    expect(m.built).toBe(false);
    expect(m.parameters()).toHaveLength(0);
  });

  it('gives the same table once built, and the total matches parameterCount()', () => {
    const m = model();
    m.build([28, 28, 1]);
    expect(m.summary()).toBe(expected);
    expect(m.parameterCount()).toBe(9258);
  });

  it('a single layer, and a missing input shape', () => {
    expect(new Dense({ units: 3 }).summary([4]).split('\n')[3]).toMatch(/^dense\s+\[batch, 3\]\s+15$/);
    expect(() => model().summary()).toThrow(/pass the per-sample input shape/);
    expect(new Sequential([new Dense({ units: 3 })], { inputShape: [4] }).summary()).toContain('Total params: 15');
  });
});

describe('custom modules and memory', () => {
  class Scale extends Module {
    readonly name = 'scale';
    outputShape(s: readonly number[]): number[] {
      return [...s];
    }
    protected override parameterSpecs(s: readonly number[]): ParamSpec[] {
      return [{ name: 'weight', shape: [s[s.length - 1]], kind: 'weight', init: initializers.constant({ value: 2 }) }];
    }
    forward(x: Tensor): Tensor {
      this.ensureBuilt(x);
      return mul(x, this.param('weight'));
    }
  }

  it('a user-defined module works inside a Sequential and in summaries', () => {
    const model = new Sequential([new Scale(), new ReLU()]);
    expect(out(model, randn([2, 3], { rng })).every((v) => v >= 0)).toBe(true);
    expect(model.namedParameters().map(([n]) => n)).toEqual(['0.weight']);
    expect(model.summary()).toContain('0 (scale)');
  });

  it('dispose frees every parameter and buffer; training steps leave memory flat', () => {
    const e = engine();
    const base = e.stats().liveBytes;
    const model = new Sequential([new Conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }), new BatchNorm(), new MaxPool2d(), new Flatten(), new Dense({ units: 3 })]);
    model.build([6, 6, 2]);
    const x = randn([4, 6, 6, 2], { rng });
    const step = (): void => {
      scope(() => sum(model.forward(x)).backward());
      model.zeroGrad();
    };
    step();
    const afterOne = e.stats().liveBytes;
    for (let i = 0; i < 20; i++) step();
    expect(e.stats().liveBytes).toBe(afterOne);
    model.dispose();
    x.dispose();
    expect(model.parameters()).toHaveLength(0);
    expect(model.built).toBe(false);
    expect(e.stats().liveBytes).toBe(base);
  });
});
