// Fractional max pooling: output sizes, regions that cover every cell, the forward pass and
// its gradient against plain JS over the same regions, and TF.js where the regions are regular.
import { describe, expect, it } from 'vitest';
import { Rng, noGrad, randn, scope, tensor } from '@minibatch/core';
import { FractionalMaxPool2d, fractionalOutputSize, fractionalRegions, regionMaxPool2d, type Region } from '../src/index.js';
import { check, distinct, expectClose, registry, values } from './helpers.js';

/** Max over rows[i] × cols[j] per channel, in plain JS; also the flat index of each maximum. */
function poolJs(x: number[], [n, h, w, c]: number[], rows: Region[], cols: Region[]) {
  const out: number[] = [];
  const arg: number[] = [];
  for (let b = 0; b < n; b++) {
    for (const r of rows) {
      for (const q of cols) {
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          let at = -1;
          for (let i = r.start; i <= r.end; i++) {
            for (let j = q.start; j <= q.end; j++) {
              const k = ((b * h + i) * w + j) * c + ch;
              if (x[k] > best) [best, at] = [x[k], k];
            }
          }
          out.push(best);
          arg.push(at);
        }
      }
    }
  }
  return { out, arg };
}

describe('fractional max pooling: sizes and regions', () => {
  it('output size ⌊input·ratio⌋ for ratios 1/√2 and 2/3', () => {
    const r = Math.SQRT1_2;
    expect([32, 28, 10, 7, 2].map((s) => fractionalOutputSize(s, r))).toEqual([22, 19, 7, 4, 1]);
    expect([9, 12, 30, 3].map((s) => fractionalOutputSize(s, 2 / 3))).toEqual([6, 8, 20, 2]);
    const layer = new FractionalMaxPool2d({ ratio: [Math.SQRT1_2, 2 / 3] });
    expect(layer.outputShape([32, 30, 3])).toEqual([22, 20, 3]);
    const x = randn([2, 32, 30, 3], { seed: 1 });
    expect(scope(() => layer.forward(x).shape)).toEqual([2, 22, 20, 3]);
    expect(() => layer.outputShape([1, 30, 3])).toThrow(/fractionalMaxPool2d: a 1×30 image pooled by ratio .* would be 0×20/);
    expect(() => layer.outputShape([30, 3])).toThrow(/expects NHWC images/);
    x.dispose();
  });

  it('every input cell belongs to a region: disjoint regions partition the axis, overlapping ones cover it', () => {
    const rng = new Rng(2);
    let cases = 0;
    for (let input = 2; input <= 40; input++) {
      for (const ratio of [Math.SQRT1_2, 2 / 3, 0.5, 0.55, 0.9, 0.3]) {
        const output = fractionalOutputSize(input, ratio);
        if (output < 1) continue;
        const alpha = input / output;
        for (const pseudoRandom of [false, true]) {
          for (const overlapping of [false, true]) {
            const regions = fractionalRegions(input, output, { rng, pseudoRandom, overlapping });
            expect(regions).toHaveLength(output);
            const count = new Array(input).fill(0);
            for (const r of regions) for (let i = r.start; i <= r.end; i++) count[i]++;
            expect(count.every((k) => k >= 1)).toBe(true);
            if (!overlapping) expect(count.every((k) => k === 1)).toBe(true);
            expect(regions[0].start).toBe(0);
            expect(regions[output - 1].end).toBe(input - 1);
            // The cuts a_i advance by ⌊α⌋ or ⌈α⌉ (Graham 2014, §2).
            const cuts = [...regions.map((r) => r.start), input];
            for (let i = 1; i < cuts.length; i++) expect([Math.floor(alpha), Math.ceil(alpha)]).toContain(cuts[i] - cuts[i - 1]);
            cases++;
          }
        }
      }
    }
    expect(cases).toBeGreaterThan(800);
  });

  it('random sequences are permutations of the increments; pseudo-random ones follow ⌈α(i + u)⌉ − ⌈αu⌉', () => {
    const a = fractionalRegions(10, 7, { rng: new Rng(3) }).map((r) => r.end - r.start + 1);
    expect(a.filter((v) => v === 2)).toHaveLength(3);
    expect(a.filter((v) => v === 1)).toHaveLength(4);
    const u = 0.37;
    const alpha = 10 / 7;
    const pseudo = fractionalRegions(10, 7, { pseudoRandom: true, u }).map((r) => r.start);
    expect(pseudo).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => Math.ceil(alpha * (i + u)) - Math.ceil(alpha * u)));
    expect(() => fractionalRegions(5, 6, { rng: new Rng(0) })).toThrow(/1 ≤ output ≤ input/);
    expect(() => fractionalRegions(5, 3, {})).toThrow(/needs an rng/);
  });
});

describe('fractional max pooling: forward and gradient', () => {
  it('is the max over each region (vs plain JS) and the gradient flows only to each maximum', () => {
    const rng = new Rng(4);
    for (const overlapping of [false, true]) {
      for (const pseudoRandom of [false, true]) {
        const layer = new FractionalMaxPool2d({ ratio: Math.SQRT1_2, overlapping, pseudoRandom, seed: 5 });
        const shape = [2, 9, 10, 3];
        const x = distinct(shape, rng);
        const xs = values(x);
        const y = layer.forward(x);
        const { rows, cols } = layer.lastRegions!;
        const ref = poolJs(xs, shape, rows, cols);
        expect(values(y)).toEqual(ref.out.map(Math.fround));
        // Backward of Σ g·y: each output's g lands on its region's maximum, nothing elsewhere.
        const g = Array.from({ length: y.size }, () => rng.uniform() + 0.5);
        y.backward(tensor(g, y.shape));
        const expected = new Array(x.size).fill(0);
        ref.arg.forEach((k, i) => (expected[k] += g[i]));
        expectClose(values(x.grad!), expected, 1e-6, 1e-6);
        const winners = new Set(ref.arg);
        values(x.grad!).forEach((v, k) => expect(v !== 0).toBe(winners.has(k)));
        x.dispose();
        y.dispose();
      }
    }
  });

  it('passes a gradient check with the regions fixed', () => {
    const rng = new Rng(6);
    for (const overlapping of [false, true]) {
      const layer = new FractionalMaxPool2d({ ratio: 2 / 3, overlapping, seed: 7 });
      const x = distinct([2, 6, 7, 2], rng);
      scope(() => layer.forward(x));
      const state = layer.rngState();
      check((a) => (layer.setRngState(state), layer.forward(a)), [x], { eps: 1e-3 });
      x.dispose();
    }
  });

  it('at ratio 1/2 (all regions 2×2, disjoint) equals TF.js max pooling, forward and backward', async () => {
    const tf = await import('@tensorflow/tfjs-core');
    // Only the gradient this test needs (all of them take seconds to load).
    const { maxPoolGradConfig } = await import('@tensorflow/tfjs-core/dist/gradients/MaxPool_grad.js');
    tf.registerGradient(maxPoolGradConfig);
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    tf.env().set('IS_TEST', true); // no "install tfjs-node" banner
    const shape: [number, number, number, number] = [2, 8, 6, 3];
    const x = distinct(shape, new Rng(8));
    const layer = new FractionalMaxPool2d({ ratio: 0.5, seed: 1 });
    const y = layer.forward(x);
    expect(layer.lastRegions!.rows).toEqual([0, 2, 4, 6].map((s) => ({ start: s, end: s + 1 })));
    const g = randn(y.shape, { seed: 9 });
    y.backward(g);
    const tx = tf.tensor4d(values(x), shape);
    const tg = tf.tensor4d(values(g), y.shape as [number, number, number, number]);
    const pool = (a: typeof tx) => tf.maxPool(a, 2, 2, 'valid');
    expectClose(values(y), Array.from(pool(tx).dataSync()), 0, 0);
    const dx = tf.grad((a) => pool(a as typeof tx))(tx, tg);
    expectClose(values(x.grad!), Array.from(dx.dataSync()), 1e-6, 1e-6);
    tf.dispose([tx, tg, dx]);
    [x, y, g].forEach((t) => t.dispose());
  });

  it('draws regions from its seeded generator in training; fixed regions in eval', () => {
    const x = randn([1, 20, 20, 1], { seed: 10 });
    const regionsOf = (layer: FractionalMaxPool2d) => {
      scope(() => noGrad(() => layer.forward(x)));
      return JSON.stringify(layer.lastRegions);
    };
    const [a, b, c] = [new FractionalMaxPool2d({ seed: 3 }), new FractionalMaxPool2d({ seed: 3 }), new FractionalMaxPool2d({ seed: 4 })];
    const [a1, a2] = [regionsOf(a), regionsOf(a)];
    expect([regionsOf(b), regionsOf(b)]).toEqual([a1, a2]);
    expect(a2).not.toBe(a1);
    expect(regionsOf(c)).not.toBe(a1);
    a.eval();
    const e1 = regionsOf(a);
    expect(regionsOf(a)).toBe(e1);
    expect(JSON.parse(e1).rows).toEqual(fractionalRegions(20, 14, { pseudoRandom: true, u: 0.5 }));
    x.dispose();
  });

  it('checks regions given to regionMaxPool2d, and round-trips through the registry', () => {
    const x = randn([1, 4, 4, 1], { seed: 11 });
    expect(() => regionMaxPool2d(x, [{ start: 0, end: 4 }], [{ start: 0, end: 1 }])).toThrow(/row region .* is not inside 0…3/);
    const layer = registry.create<FractionalMaxPool2d>('layer', 'fractionalMaxPool2d', { ratio: [0.75, 0.5], overlapping: true });
    expect(registry.serialize(layer)).toEqual({ kind: 'layer', name: 'fractionalMaxPool2d', config: { ratio: [0.75, 0.5], pseudoRandom: false, overlapping: true } });
    expect(() => registry.create('layer', 'fractionalMaxPool2d', { ratio: 1.4 })).toThrow(/ratio/);
    x.dispose();
  });
});
