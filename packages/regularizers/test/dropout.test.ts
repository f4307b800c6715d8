// Dropout and spatial dropout: masks from the seeded generator, inverted scaling that keeps
// the expected activation, identity in eval mode, gradients through a fixed mask.
import { describe, expect, it } from 'vitest';
import { Rng, noGrad, randn, scope, sum, tensor } from '@minibatch/core';
import { Dense, Sequential } from '@minibatch/layers';
import { Dropout, SpatialDropout, loadMaskStates, maskStates } from '../src/index.js';
import { check, expectClose, input, values } from './helpers.js';

const TWO_32 = 4294967296;

/** The documented mask rule, written out: entry i kept when the i-th nextU32() < ⌊keep·2³²⌋. */
function referenceMask(rng: Rng, count: number, keep: number): boolean[] {
  const threshold = Math.floor(keep * TWO_32);
  return Array.from({ length: count }, () => rng.nextU32() < threshold);
}

describe('dropout', () => {
  it('draws its mask from a fork of its seeded generator, as documented, and scales by 1/(1 − rate)', () => {
    const layer = new Dropout({ rate: 0.3, seed: 5 });
    const x = randn([6, 9], { seed: 1 });
    const y = scope(() => values(layer.forward(x)));
    const kept = referenceMask(new Rng(5).fork(), x.size, 0.7);
    const expected = values(x).map((v, i) => (kept[i] ? v / 0.7 : 0));
    expectClose(y, expected, 1e-6, 1e-6);
    expect(kept.filter((k) => !k).length).toBeGreaterThan(5); // the check above saw drops
    layer.dispose();
    x.dispose();
  });

  it('preserves the expected activation: the mean over 400 masks is x within sampling error', () => {
    const rate = 0.4;
    const masks = 400;
    const layer = new Dropout({ rate, seed: 11 });
    const x = randn([4, 50], { seed: 2 });
    const xs = values(x);
    const totals = new Float64Array(x.size);
    let dropped = 0;
    for (let m = 0; m < masks; m++) {
      const y = scope(() => noGrad(() => layer.forward(x).data()));
      for (let i = 0; i < y.length; i++) {
        totals[i] += y[i];
        if (y[i] === 0) dropped++;
      }
    }
    // Per element: mean of x·b/(1 − rate), b ~ Bernoulli(1 − rate), has standard error
    // |x|·√(rate/(1 − rate)/masks). Every one of the 200 means is within 4.5 standard errors.
    const se = Math.sqrt(rate / (1 - rate) / masks);
    xs.forEach((v, i) => expect(Math.abs(totals[i] / masks - v)).toBeLessThanOrEqual(4.5 * se * Math.abs(v) + 1e-6));
    // The drop fraction is the rate (binomial, 80,000 draws: standard error 0.0017).
    const fraction = dropped / (masks * x.size);
    expect(Math.abs(fraction - rate)).toBeLessThan(4 * Math.sqrt((rate * (1 - rate)) / (masks * x.size)));
    // Pooled over elements, the ratio mean(y)/x is 1 within 4 standard errors (a non-inverted
    // dropout would give 0.6 here).
    const pooled = xs.reduce((acc, v, i) => acc + totals[i] / masks / v, 0) / xs.length;
    expect(Math.abs(pooled - 1)).toBeLessThan(4 * se / Math.sqrt(xs.length));
    layer.dispose();
    x.dispose();
  });

  it('is the identity in eval mode, and at rate 0', () => {
    const x = randn([3, 7], { seed: 3 });
    const layer = new Dropout({ rate: 0.5 });
    layer.eval();
    expect(scope(() => values(layer.forward(x)))).toEqual(values(x));
    const none = new Dropout({ rate: 0 });
    expect(none.training).toBe(true);
    expect(scope(() => values(none.forward(x)))).toEqual(values(x));
    x.dispose();
  });

  it('follows the mode of the model it is in', () => {
    const model = new Sequential([new Dense({ units: 8 }), new Dropout({ rate: 0.5 })]);
    model.build([4], new Rng(1));
    const x = randn([5, 4], { seed: 4 });
    const train = scope(() => values(model.forward(x)));
    expect(train.filter((v) => v === 0).length).toBeGreaterThan(0);
    model.eval();
    const a = scope(() => values(model.forward(x)));
    const b = scope(() => values(model.forward(x)));
    expect(a).toEqual(b);
    expect(a.filter((v) => v === 0).length).toBe(0);
    model.dispose();
    x.dispose();
  });

  it('same seed, same masks; another seed or the next step, other masks', () => {
    const x = tensor(new Float32Array(64).fill(1), [4, 16]);
    const masksOf = (layer: Dropout, steps: number) => Array.from({ length: steps }, () => scope(() => values(layer.forward(x))));
    const [a, b, c] = [new Dropout({ seed: 7 }), new Dropout({ seed: 7 }), new Dropout({ seed: 8 })];
    const [ma, mb, mc] = [masksOf(a, 3), masksOf(b, 3), masksOf(c, 1)];
    expect(ma).toEqual(mb);
    expect(ma[0]).not.toEqual(mc[0]);
    expect(ma[0]).not.toEqual(ma[1]);
    // Without a seed of its own, the generator given to build() decides: same rng seed, same masks.
    const built = (seed: number) => {
      const model = new Sequential([new Dropout({ rate: 0.5 })]);
      model.build([16], new Rng(seed));
      const out = scope(() => values(model.forward(x)));
      model.dispose();
      return out;
    };
    expect(built(3)).toEqual(built(3));
    expect(built(3)).not.toEqual(built(4));
    x.dispose();
  });

  it('passes the gradient through the kept units only, scaled (gradient check with a fixed mask)', () => {
    const rng = new Rng(12);
    const layer = new Dropout({ rate: 0.5, seed: 1 });
    const x = input([3, 5], rng);
    scope(() => layer.forward(x)); // build
    const state = layer.rngState();
    const fixed = (a: typeof x) => {
      layer.setRngState(state); // every evaluation draws the same mask
      return layer.forward(a);
    };
    check(fixed, [x], { eps: 1e-3 });
    scope(() => sum(fixed(x)).backward());
    const y = scope(() => noGrad(() => values(fixed(x))));
    expect(values(x.grad!)).toEqual(y.map((v) => (v === 0 ? 0 : 2)));
    x.dispose();
  });

  it('checks its rate', () => {
    expect(() => new Dropout({ rate: 1 })).toThrow(/rate: expected a number < 1, got 1/);
    expect(() => new Dropout({ rate: -0.1 })).toThrow(/rate/);
    const layer = new Dropout();
    expect(() => (layer.rate = 1.5)).toThrow(/dropout: invalid rate: 1.5 — expected a drop probability in \[0, 1\)/);
    expect(() => layer.rngState()).toThrow(/not built yet/);
  });
});

describe('spatial dropout', () => {
  it('drops whole channels per sample, scaled by 1/(1 − rate), and is the identity in eval', () => {
    const layer = new SpatialDropout({ rate: 0.5, seed: 3 });
    const [n, h, w, c] = [3, 4, 5, 6];
    const x = randn([n, h, w, c], { seed: 5 });
    const xs = values(x);
    const y = scope(() => values(layer.forward(x)));
    const kept = referenceMask(new Rng(3).fork(), n * c, 0.5); // one draw per (sample, channel)
    let droppedMaps = 0;
    for (let s = 0; s < n; s++) {
      for (let ch = 0; ch < c; ch++) {
        const keep = kept[s * c + ch];
        if (!keep) droppedMaps++;
        for (let p = 0; p < h * w; p++) {
          const i = (s * h * w + p) * c + ch;
          expect(y[i]).toBeCloseTo(keep ? xs[i] * 2 : 0, 5);
        }
      }
    }
    expect(droppedMaps).toBeGreaterThan(0);
    expect(droppedMaps).toBeLessThan(n * c);
    layer.eval();
    expect(scope(() => values(layer.forward(x)))).toEqual(xs);
    x.dispose();
  });

  it('has the gradient of its mask (gradient check), and wants feature maps', () => {
    const layer = new SpatialDropout({ rate: 0.3, seed: 2 });
    const x = input([2, 3, 3, 4], new Rng(6));
    scope(() => layer.forward(x));
    const state = layer.rngState();
    check((a) => (layer.setRngState(state), layer.forward(a)), [x], { eps: 1e-3 });
    expect(() => new SpatialDropout().build([10])).toThrow(/spatialDropout: expects feature maps .* got per-sample shape \[10\] — use 'dropout'/);
    x.dispose();
  });
});

describe('mask states', () => {
  it('a saved state makes a resumed run draw the same masks', () => {
    const model = new Sequential([new Dense({ units: 6 }), new Dropout({ rate: 0.5 }), new Dense({ units: 6 }), new Dropout({ rate: 0.2 })]);
    model.build([3], new Rng(9));
    const x = randn([4, 3], { seed: 8 });
    scope(() => model.forward(x));
    const saved = JSON.parse(JSON.stringify(maskStates(model)));
    expect(Object.keys(saved)).toEqual(['1', '3']);
    const next = () => [0, 1, 2].map(() => scope(() => values(model.forward(x))));
    const first = next();
    expect(first[0]).not.toEqual(first[1]);
    loadMaskStates(model, saved);
    expect(next()).toEqual(first);
    expect(() => loadMaskStates(model, { 1: saved[1] })).toThrow(/nothing was loaded; missing: '3'/);
    expect(() => loadMaskStates(model, { ...saved, 2: saved[1] })).toThrow(/unexpected: '2'/);
    model.dispose();
    x.dispose();
  });
});
