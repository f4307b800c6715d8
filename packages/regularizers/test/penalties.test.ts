// Weight penalties (value and gradient exact, against float64 JS), parameter selection,
// constraints, and how L2 in the loss relates to the optimizers' weight decay.
import { describe, expect, it } from 'vitest';
import { Rng, add, type Tensor, meanSquaredError, randn, scope, tensor } from '@minibatch/core';
import { BatchNorm, Conv2d, Dense, Sequential, type Module } from '@minibatch/layers';
import { Adam, AdamW, SGD } from '@minibatch/optimizers';
import {
  MaxNorm, NonNegative, WeightPenalty, applyConstraints, elasticNet, l1, l2, matchesPath, totalPenalty,
} from '../src/index.js';
import { check, expectClose, registry, values } from './helpers.js';

function model(): Module {
  const m = new Sequential([new Dense({ units: 5, activation: 'relu' }), new BatchNorm(), new Dense({ units: 3, biasInitializer: { name: 'uniform', config: {} } })]);
  m.build([4], new Rng(1));
  return m;
}

/** Values of a model's weights only (kind 'weight'), in float64. */
const weights = (m: Module): number[] => m.parameterInfo().filter((p) => p.kind === 'weight').flatMap((p) => values(p.tensor));

describe('penalties: value and gradient', () => {
  it('L2 is (λ/2)·Σw² over the weights only; its gradient is λ·w, and none reaches biases or BatchNorm', () => {
    const m = model();
    const penalty = l2({ lambda: 0.3 });
    expect(penalty.parameters(m).map((p) => p.name)).toEqual(['0.weight', '2.weight']);
    const value = scope(() => {
      const p = penalty.penalty(m);
      p.backward();
      return p.item();
    });
    const w = weights(m);
    expect(value).toBeCloseTo(0.15 * w.reduce((a, v) => a + v * v, 0), 5);
    for (const info of m.parameterInfo()) {
      if (info.kind === 'weight') expectClose(values(info.tensor.grad!), values(info.tensor).map((v) => 0.3 * v), 1e-7, 1e-6);
      else expect(info.tensor.grad).toBeNull();
    }
    m.dispose();
  });

  it('L1 is λ·Σ|w|, gradient λ·sign(w) and 0 at w = 0', () => {
    const m = model();
    const w0 = m.parameters()[0];
    w0.view()[3] = 0;
    const value = scope(() => {
      const p = l1({ lambda: 0.01 }).penalty(m);
      p.backward();
      return p.item();
    });
    expect(value).toBeCloseTo(0.01 * weights(m).reduce((a, v) => a + Math.abs(v), 0), 6);
    expectClose(values(w0.grad!), values(w0).map((v) => 0.01 * Math.sign(v)), 1e-9, 1e-6);
    expect(w0.grad!.data()[3]).toBe(0);
    m.dispose();
  });

  it('elastic net is the sum of its two terms, in value and gradient (gradient check)', () => {
    const m = model();
    const value = (p: WeightPenalty) => scope(() => p.penalty(m).item());
    expect(value(elasticNet({ l1: 0.02, l2: 0.5 }))).toBeCloseTo(value(l1({ lambda: 0.02 })) + value(l2({ lambda: 0.5 })), 5);
    const w = m.parameterInfo().filter((p) => p.kind === 'weight').map((p) => p.tensor);
    // Central differences (step 1e-2) never cross |w|'s kink: weights are moved ≥ 0.05 from 0.
    for (const t of w) t.view().forEach((v, i, a) => (a[i] = Math.abs(v) < 0.05 ? 0.05 : v));
    const net = elasticNet({ l1: 0.02, l2: 0.5 });
    check((...ts: Tensor[]) => net.compute(ts), w);
    m.dispose();
  });

  it('is zero, with no gradient, when nothing is selected or λ = 0', () => {
    const m = model();
    expect(scope(() => l2({ lambda: 0 }).penalty(m).item())).toBe(0);
    expect(scope(() => l2({ lambda: 1 }).compute([]).item())).toBe(0);
    expect(scope(() => totalPenalty(m, []).item())).toBe(0);
    expect(scope(() => totalPenalty(m, [l1({ lambda: 1 }), l2({ lambda: 1 })]).item())).toBeCloseTo(
      scope(() => elasticNet({ l1: 1, l2: 1 }).penalty(m).item()), 4);
    m.dispose();
  });
});

describe('penalties: which parameters', () => {
  it('selects by kind and by dotted-path pattern, per layer', () => {
    const m = model();
    expect(l2({ lambda: 1, paths: ['2.*'] }).parameters(m).map((p) => p.name)).toEqual(['2.weight']);
    expect(l2({ lambda: 1, paths: ['2.*'], kinds: ['weight', 'bias'] }).parameters(m).map((p) => p.name)).toEqual(['2.weight', '2.bias']);
    expect(l2({ lambda: 1, kinds: ['norm'] }).parameters(m).map((p) => p.name)).toEqual(['1.gamma', '1.beta']);
    expect(matchesPath('block.1.weight', 'block.*.weight')).toBe(true);
    expect(matchesPath('a.block.1.weight', 'block.*.weight')).toBe(false);
    expect(matchesPath('a.block.1.weight', '**.weight')).toBe(true);
    expect(matchesPath('0xweight', '0.weight')).toBe(false);
    expect(() => l2({ lambda: 1, paths: ['3.*'] }).penalty(m)).toThrow(
      /l2: no parameter of kind 'weight' matches paths \["3\.\*"\]; parameters: 0\.weight \(weight\), 0\.bias \(bias\), 1\.gamma \(norm\)/,
    );
    m.dispose();
  });

  it('computes over any list of tensors (an optimizer group)', () => {
    const a = tensor([1, -2, 3]);
    const b = tensor([[0.5, -0.5]]);
    expect(scope(() => l2({ lambda: 2 }).compute([a, b]).item())).toBeCloseTo(14.5, 5);
    expect(scope(() => l1({ lambda: 2 }).compute([a, b]).item())).toBeCloseTo(14, 5);
    [a, b].forEach((t) => t.dispose());
  });
});

describe('L2 in the loss vs weight decay in the optimizer', () => {
  /** Five steps on a fixed regression problem; returns the first layer's weights. */
  function train(makeOpt: (m: Module) => { step(): void; zeroGrad(): void }, penalty: WeightPenalty | null): number[] {
    const m = new Sequential([new Dense({ units: 4, activation: 'tanh' }), new Dense({ units: 1 })]);
    m.build([3], new Rng(2));
    const x = randn([8, 3], { seed: 3 });
    const y = randn([8, 1], { seed: 4 });
    const opt = makeOpt(m);
    for (let step = 0; step < 5; step++) {
      scope(() => {
        const data = meanSquaredError(m.forward(x), y);
        (penalty === null ? data : add(data, penalty.penalty(m))).backward();
      });
      opt.step();
      opt.zeroGrad();
    }
    const w = values(m.parameters()[0]);
    [m, x, y].forEach((t) => t.dispose());
    return w;
  }
  const lambda = 0.1;
  // Weight decay in the optimizers decays every parameter it is given; give it the weights only.
  const weightsOf = (m: Module) => m.parameterInfo().filter((p) => p.kind === 'weight').map((p) => p.tensor);
  const othersOf = (m: Module) => m.parameterInfo().filter((p) => p.kind !== 'weight').map((p) => p.tensor);

  it('with SGD, an L2 penalty λ in the loss is the same update as weightDecay λ', () => {
    const inLoss = train((m) => new SGD(m.parameters(), { lr: 0.1 }), l2({ lambda }));
    const decay = train((m) => new SGD([{ params: weightsOf(m), weightDecay: lambda }, { params: othersOf(m) }], { lr: 0.1 }), null);
    const none = train((m) => new SGD(m.parameters(), { lr: 0.1 }), null);
    expectClose(inLoss, decay, 1e-6, 1e-5);
    expect(Math.max(...inLoss.map((v, i) => Math.abs(v - none[i])))).toBeGreaterThan(1e-3);
  });

  it("with Adam, L2 in the loss equals Adam's weightDecay, and differs from AdamW's decoupled decay", () => {
    const inLoss = train((m) => new Adam(m.parameters(), { lr: 0.05 }), l2({ lambda }));
    const coupled = train((m) => new Adam([{ params: weightsOf(m), weightDecay: lambda }, { params: othersOf(m) }], { lr: 0.05 }), null);
    const decoupled = train((m) => new AdamW([{ params: weightsOf(m), weightDecay: lambda }, { params: othersOf(m), weightDecay: 0 }], { lr: 0.05 }), null);
    expectClose(inLoss, coupled, 1e-5, 1e-4);
    expect(Math.max(...inLoss.map((v, i) => Math.abs(v - decoupled[i])))).toBeGreaterThan(1e-3);
  });
});

describe('constraints', () => {
  it("max-norm rescales each unit's incoming weights to norm c, and leaves the others bit-for-bit", () => {
    const w = tensor([[3, 0.1, 0], [4, 0.2, 0], [0, 0.3, 0]]); // column norms 5, ~0.37, 0
    const constraint = new MaxNorm({ maxValue: 2 });
    const before = values(w);
    constraint.project([w]);
    const after = values(w);
    expectClose([after[0], after[3], after[6]], [1.2, 1.6, 0], 1e-6, 1e-6);
    for (const i of [1, 4, 7, 2, 5, 8]) expect(after[i]).toBe(before[i]);
    w.dispose();
  });

  it('max-norm treats a conv kernel per filter (over height, width and input channels)', () => {
    const conv = new Conv2d({ filters: 4, kernelSize: 3, kernelInitializer: { name: 'gaussian', config: { std: 1 } } });
    conv.build([5, 5, 2], new Rng(5));
    new MaxNorm({ maxValue: 1 }).constrain(conv);
    const k = values(conv.parameters()[0]);
    for (let f = 0; f < 4; f++) {
      const norm = Math.sqrt(k.filter((_, i) => i % 4 === f).reduce((a, v) => a + v * v, 0));
      expect(norm).toBeCloseTo(1, 5);
    }
    expect(values(conv.parameters()[1])).toEqual([0, 0, 0, 0]); // biases are not selected
    conv.dispose();
  });

  it('non-negativity clips negative weights to 0; constraints run in order', () => {
    const m = model();
    applyConstraints(m, [new NonNegative(), new MaxNorm({ maxValue: 0.5, kinds: ['weight', 'bias'] })]);
    expect(weights(m).every((v) => v >= 0)).toBe(true);
    expect(weights(m).some((v) => v > 0)).toBe(true);
    const bias = values(m.parameters()[5]); // '2.bias', rank 1: clipped element by element
    expect(bias.every((v) => Math.abs(v) <= 0.5)).toBe(true);
    m.dispose();
  });
});

describe('registry', () => {
  it('creates and round-trips every penalty and constraint by name; bad names and configs are clear', () => {
    for (const [name, config] of [
      ['l1', { lambda: 1e-5 }], ['l2', { lambda: 1e-4, paths: ['0.*'] }], ['elasticNet', { l1: 1e-5, l2: 1e-4 }],
      ['maxNorm', { maxValue: 4 }], ['nonNegative', { kinds: ['weight', 'bias'] }],
    ] as const) {
      const made = registry.create<{ getConfig(): Record<string, unknown> }>('regularizer', name, config);
      const spec = registry.serialize(made);
      expect(spec).toMatchObject({ kind: 'regularizer', name, config });
      expect(registry.serialize(registry.fromJSON(spec))).toEqual(spec);
    }
    expect(registry.serialize(registry.create('regularizer', 'maxNorm'))).toEqual({ kind: 'regularizer', name: 'maxNorm', config: { maxValue: 3, kinds: ['weight'] } });
    expect(() => registry.create('regularizer', 'elasticnet', {})).toThrow(/unknown regularizer 'elasticnet' — did you mean 'elasticNet'\?/);
    expect(() => registry.create('regularizer', 'l2', { lambda: -1 })).toThrow(/lambda/);
    expect(() => registry.create('regularizer', 'l2', {})).toThrow(/lambda/);
    expect(() => registry.create('regularizer', 'l1', { lambda: 1, kinds: ['weights'] })).toThrow(/kinds/);
  });
});
