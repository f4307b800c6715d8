// The random side: per-sample probabilities within binomial bounds, parameter ranges,
// λ ~ Beta(α, α), seeds, and the labels of mixup and cutmix.
import { Rng, scope, tensor, type Tensor } from '@minibatch/core';
import { describe, expect, it } from 'vitest';
import {
  affine, augment, colorJitter, compose, cutmix, cutout, flip, gaussianBlur, gaussianNoise, grayscale, mixup, pcaLighting, randomApply,
  randomChoice, randomCrop, randomErasing, randomResizedCrop, rotate, saltAndPepper, sampleBeta, translate, zoom, type Augmentation,
} from '../src/index.js';
import { ksStatistic, randomImages, same, samples } from './helpers.js';

const batchOf = (x: Tensor) => ({ x, targets: null, labels: null, classes: null });

/** How many samples a transform changed. */
function changed(t: Augmentation, x: Tensor, seed: number): number {
  const out = samples(t.apply(batchOf(x), new Rng(seed)).x);
  return samples(x).filter((s, i) => !same(s, out[i])).length;
}

describe('probability p per sample', () => {
  it('with p = 0.5 about half the samples change (within 4.5σ of the binomial), p = 0 none, p = 1 all', () => {
    scope(() => {
      const n = 1000; // σ = √(n/4) ≈ 15.8
      const x = randomImages([n, 6, 6, 3], 1);
      const half: Augmentation[] = [
        flip({ p: 0.5 }), affine({ degrees: 10, p: 0.5 }), rotate({ p: 0.5 }), colorJitter({ brightness: 0.2, p: 0.5 }), grayscale({ p: 0.5 }),
        randomErasing({ p: 0.5, scale: [0.1, 0.3] }), cutout({ size: 2, p: 0.5 }), gaussianBlur({ p: 0.5 }), gaussianNoise({ p: 0.5 }),
        saltAndPepper({ amount: 0.5, p: 0.5 }), randomApply(0.5, colorJitter({ brightness: 0.2 })),
      ];
      for (const t of half) {
        const k = changed(t, x, 7);
        expect(Math.abs(k - n / 2), `${t.name}: ${k} of ${n} changed`).toBeLessThan(4.5 * Math.sqrt(n / 4));
      }
      // Flipping both axes independently with p = 0.5: a sample stays only if neither flips (1/4).
      const both = changed(flip({ p: 0.5, vertical: true }), x, 8);
      expect(Math.abs(both - 0.75 * n)).toBeLessThan(4.5 * Math.sqrt(n * 0.75 * 0.25));
      expect(changed(colorJitter({ brightness: 0.2, p: 0 }), x, 9)).toBe(0);
      expect(changed(randomErasing({ p: 0 }), x, 9)).toBe(0);
      expect(changed(colorJitter({ brightness: 0.2, p: 1 }), x, 9)).toBe(n);
      expect(changed(flip({ p: 1 }), x, 9)).toBe(n);
    });
  });
});

describe('parameter ranges', () => {
  it('brightness shifts each sample by one δ within [−b, b], covering the range', () => {
    scope(() => {
      const n = 500;
      const x = randomImages([n, 4, 4, 1], 2);
      const out = samples(colorJitter({ brightness: 0.3 }).apply(batchOf(x), new Rng(3)).x);
      const deltas = samples(x).map((s, i) => {
        const d = out[i].map((v, j) => v - s[j]);
        expect(Math.max(...d) - Math.min(...d)).toBeLessThan(1e-6); // one shift per sample
        return d[0];
      });
      expect(Math.min(...deltas)).toBeGreaterThanOrEqual(-0.3 - 1e-6);
      expect(Math.max(...deltas)).toBeLessThanOrEqual(0.3 + 1e-6);
      expect(Math.min(...deltas)).toBeLessThan(-0.28);
      expect(Math.max(...deltas)).toBeGreaterThan(0.28);
      expect(ksStatistic(deltas, (v) => (v + 0.3) / 0.6)).toBeLessThan(1.63 / Math.sqrt(n)); // uniform, KS at α = 0.01
    });
  });

  it('contrast factors stay in [1 − c, 1 + c]; given ranges are respected', () => {
    scope(() => {
      const n = 400;
      // Images with two values ±1 (mean 0): the output spread is exactly the factor.
      const v = new Float32Array(n * 8).map((_, i) => (i % 2 === 0 ? 1 : -1));
      const x = tensor(v, [n, 2, 4, 1]);
      const factors = samples(colorJitter({ contrast: 0.5 }).apply(batchOf(x), new Rng(4)).x).map((s) => s[0]);
      expect(Math.min(...factors)).toBeGreaterThanOrEqual(0.5 - 1e-6);
      expect(Math.max(...factors)).toBeLessThanOrEqual(1.5 + 1e-6);
      expect(Math.max(...factors) - Math.min(...factors)).toBeGreaterThan(0.95);
      const given = samples(colorJitter({ contrast: [0.9, 1.1] }).apply(batchOf(x), new Rng(5)).x).map((s) => s[0]);
      expect(Math.min(...given)).toBeGreaterThanOrEqual(0.9 - 1e-6);
      expect(Math.max(...given)).toBeLessThanOrEqual(1.1 + 1e-6);
    });
  });

  it('rotations turn by at most the asked angle: a single bright pixel moves on its circle within the arc', () => {
    scope(() => {
      const n = 300;
      const [h, w] = [41, 41];
      const v = new Float32Array(n * h * w);
      for (let b = 0; b < n; b++) v[b * h * w + 20 * w + 35] = 1; // 15 px right of the center
      const out = samples(rotate({ degrees: 30 }).apply(batchOf(tensor(v, [n, h, w, 1])), new Rng(6)).x);
      const angles = out.map((img) => {
        let [sx, sy, s] = [0, 0, 0];
        img.forEach((val, i) => {
          sx += val * ((i % w) - 20);
          sy += val * (Math.floor(i / w) - 20);
          s += val;
        });
        return (Math.atan2(-sy / s, sx / s) * 180) / Math.PI; // counter-clockwise on screen is positive
      });
      expect(Math.max(...angles.map(Math.abs))).toBeLessThan(30 + 1);
      expect(Math.max(...angles)).toBeGreaterThan(25);
      expect(Math.min(...angles)).toBeLessThan(-25);
    });
  });

  it('translations and zooms stay within their ranges (center of mass of a dot)', () => {
    scope(() => {
      const n = 300;
      const [h, w] = [21, 31];
      const v = new Float32Array(n * h * w);
      for (let b = 0; b < n; b++) v[b * h * w + 10 * w + 15] = 1; // the center
      const moved = samples(translate({ x: 0.2, y: 0.1 }).apply(batchOf(tensor(v, [n, h, w, 1])), new Rng(7)).x).map((img) => {
        let [sx, sy, s] = [0, 0, 0];
        img.forEach((val, i) => {
          sx += val * ((i % w) - 15);
          sy += val * (Math.floor(i / w) - 10);
          s += val;
        });
        return [sx / s, sy / s];
      });
      expect(Math.max(...moved.map(([dx]) => Math.abs(dx)))).toBeLessThanOrEqual(0.2 * w + 1e-4);
      expect(Math.max(...moved.map(([, dy]) => Math.abs(dy)))).toBeLessThanOrEqual(0.1 * h + 1e-4);
      expect(Math.max(...moved.map(([dx]) => Math.abs(dx)))).toBeGreaterThan(0.18 * w);
      // A zoom keeps the center where it is.
      const z = samples(zoom({ scale: [0.5, 2] }).apply(batchOf(tensor(v, [n, h, w, 1])), new Rng(8)).x);
      z.forEach((img) => expect(img[10 * w + 15]).toBeGreaterThan(0));
    });
  });

  it('random resized crops have the output size; with scale [1, 1] and ratio 1 they are a plain resize', () => {
    scope(() => {
      const x = randomImages([5, 12, 12, 3], 9);
      const out = randomResizedCrop({ size: [6, 8] }).apply(batchOf(x), new Rng(1)).x;
      expect(out.shape).toEqual([5, 6, 8, 3]);
      const whole = randomResizedCrop({ size: 12, scale: [1, 1], ratio: [1, 1] }).apply(batchOf(x), new Rng(1)).x;
      expect(same(whole.data(), x.data())).toBe(true);
    });
  });

  it('cutout makes at most `count` holes of at most size×size each', () => {
    scope(() => {
      const [n, h, w] = [200, 24, 24];
      const x = tensor(new Float32Array(n * h * w).fill(1), [n, h, w, 1]);
      const out = samples(cutout({ size: 4, count: 3 }).apply(batchOf(x), new Rng(10)).x);
      let components = 0;
      for (const img of out) {
        const zeros = img.reduce((a, v) => a + (v === 0 ? 1 : 0), 0);
        expect(zeros).toBeLessThanOrEqual(3 * 16);
        expect(zeros).toBeGreaterThan(0);
        // Count 4-connected regions of zeros.
        const seen = new Uint8Array(h * w);
        let k = 0;
        for (let i = 0; i < h * w; i++) {
          if (img[i] !== 0 || seen[i]) continue;
          k++;
          const stack = [i];
          seen[i] = 1;
          while (stack.length > 0) {
            const j = stack.pop()!;
            for (const q of [j - w, j + w, j % w > 0 ? j - 1 : -1, j % w < w - 1 ? j + 1 : -1]) {
              if (q >= 0 && q < h * w && img[q] === 0 && !seen[q]) {
                seen[q] = 1;
                stack.push(q);
              }
            }
          }
        }
        expect(k).toBeGreaterThanOrEqual(1);
        expect(k).toBeLessThanOrEqual(3);
        components += k;
      }
      expect(components / n).toBeGreaterThan(2.5); // most holes do not touch on a 24×24 image
    });
  });

  it('random erasing rectangles stay within the asked area fraction', () => {
    scope(() => {
      const [n, h, w] = [300, 20, 20];
      const x = tensor(new Float32Array(n * h * w).fill(1), [n, h, w, 1]);
      const out = samples(randomErasing({ p: 1, scale: [0.1, 0.2], ratio: [0.5, 2] }).apply(batchOf(x), new Rng(11)).x);
      const fractions = out.map((img) => img.reduce((a, v) => a + (v === 0 ? 1 : 0), 0) / (h * w));
      // Rounding the sides to whole pixels widens the band a little.
      expect(Math.min(...fractions)).toBeGreaterThan(0.07);
      expect(Math.max(...fractions)).toBeLessThan(0.24);
    });
  });
});

describe('mixup λ ~ Beta(α, α)', () => {
  const cdfs: [number, (x: number) => number][] = [
    [0.5, (x) => (2 / Math.PI) * Math.asin(Math.sqrt(x))], // arcsine
    [1, (x) => x],
    [2, (x) => 3 * x * x - 2 * x * x * x],
  ];

  it('sampleBeta passes a Kolmogorov–Smirnov test for α = 0.5, 1, 2, and fails it against the wrong α', () => {
    const rng = new Rng(12);
    const n = 4000;
    const critical = 1.63 / Math.sqrt(n); // α = 0.01
    for (const [alpha, cdf] of cdfs) {
      const draws = Array.from({ length: n }, () => sampleBeta(rng, alpha, alpha));
      expect(ksStatistic(draws, cdf), `α = ${alpha}`).toBeLessThan(critical);
    }
    const wrong = Array.from({ length: n }, () => sampleBeta(rng, 0.5, 0.5));
    expect(ksStatistic(wrong, cdfs[2][1])).toBeGreaterThan(critical);
  });

  it('mixup mixes images and targets by the same λ, and the λ are Beta(α, α)', () => {
    scope(() => {
      const n = 1000;
      // Image i is the constant i: a mixed value reveals λ and the partner.
      const v = new Float32Array(n * 4);
      for (let i = 0; i < n; i++) v.fill(i, i * 4, i * 4 + 4);
      const labels = Array.from({ length: n }, (_, i) => i % 10);
      const { x, targets } = augment(mixup({ alpha: 0.5 }), tensor(v, [n, 2, 2, 1]), { seed: 13, labels, classes: 10 });
      const [xs, ts] = [samples(x), samples(targets!)];
      const lambdas: number[] = [];
      ts.forEach((row, i) => {
        expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5); // soft targets sum to 1
        const own = row[labels[i]];
        const other = row.findIndex((t, k) => k !== labels[i] && t > 0);
        if (other < 0) return; // partner of the same class (or itself): λ not visible in the targets
        const lambda = own;
        // x = λ·i + (1 − λ)·j, with j ≡ other (mod 10).
        const j = (xs[i][0] - lambda * i) / (1 - lambda);
        expect(Math.abs(j - Math.round(j))).toBeLessThan(0.05 + 1e-3 / (1 - lambda));
        lambdas.push(lambda);
      });
      expect(lambdas.length).toBeGreaterThan(800);
      expect(ksStatistic(lambdas, cdfs[0][1])).toBeLessThan(1.63 / Math.sqrt(lambdas.length));
    });
  });
});

describe('labels of cutmix', () => {
  it('the pasted area equals 1 − λ of the soft targets, pixel for pixel, and targets sum to 1', () => {
    scope(() => {
      const [n, h, w] = [300, 16, 20];
      const v = new Float32Array(n * h * w);
      for (let i = 0; i < n; i++) v.fill(i, i * h * w, (i + 1) * h * w);
      const labels = Array.from({ length: n }, (_, i) => i % 7);
      const { x, targets } = augment(cutmix({ alpha: 1 }), tensor(v, [n, h, w, 1]), { seed: 14, labels, classes: 7 });
      const [xs, ts] = [samples(x), samples(targets!)];
      let mixedSamples = 0;
      xs.forEach((img, i) => {
        const foreign = img.reduce((a, val) => a + (val !== i ? 1 : 0), 0) / (h * w);
        const row = ts[i];
        expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
        if (foreign === 0) {
          expect(row[labels[i]]).toBeCloseTo(1, 6);
          return;
        }
        mixedSamples++;
        const partner = img.find((val) => val !== i)!;
        expect(img.every((val) => val === i || val === partner)).toBe(true); // one partner, one box
        if (labels[partner] !== labels[i]) {
          expect(row[labels[i]]).toBeCloseTo(1 - foreign, 5);
          expect(row[labels[partner]]).toBeCloseTo(foreign, 5);
        }
      });
      expect(mixedSamples).toBeGreaterThan(200);
    });
  });

  it('targets that are already soft are mixed again (mixup after cutmix)', () => {
    scope(() => {
      const x = randomImages([64, 8, 8, 1], 15);
      const labels = Array.from({ length: 64 }, (_, i) => i % 4);
      const { targets } = augment(compose([cutmix(), mixup({ alpha: 1 })]), x, { seed: 16, labels, classes: 4 });
      const rows = samples(targets!);
      rows.forEach((r) => expect(Math.abs(r.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5));
      expect(rows.some((r) => r.filter((t) => t > 1e-6).length >= 3)).toBe(true);
    });
  });
});

describe('seeds', () => {
  const everything = () => compose([
    randomCrop({ padding: 2, mode: 'reflect' }), flip(), affine({ degrees: 10, translate: [0.1, 0.1], scale: [0.9, 1.1] }),
    colorJitter({ brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.05 }), grayscale({ p: 0.2 }),
    pcaLighting({ eigenvalues: [0.2, 0.02, 0.002], eigenvectors: [[0.58, 0.58, 0.57], [-0.7, 0.01, 0.71], [0.41, -0.81, 0.41]] }),
    randomErasing({ value: 'normal' }), cutout({ size: 3 }), gaussianBlur(), gaussianNoise(), saltAndPepper({ amount: 0.01 }),
    randomChoice([rotate(), zoom()]), randomApply(0.5, [translate()]), mixup(), cutmix(),
  ]);

  it('the same seed gives the same batch exactly; another seed another batch', () => {
    scope(() => {
      const x = randomImages([32, 10, 10, 3], 17);
      const labels = Array.from({ length: 32 }, (_, i) => i % 5);
      const run = (seed: number) => augment(everything(), x, { seed, labels, classes: 5 });
      const [a, b, c] = [run(1), run(1), run(2)];
      expect(same(a.x.data(), b.x.data())).toBe(true);
      expect(same(a.targets!.data(), b.targets!.data())).toBe(true);
      expect(same(a.x.data(), c.x.data())).toBe(false);
      expect(same(a.targets!.data(), c.targets!.data())).toBe(false);
      // An Rng continues its stream: the second batch differs from the first.
      const rng = new Rng(1);
      const [first, second] = [augment(everything(), x, { rng, labels, classes: 5 }), augment(everything(), x, { rng, labels, classes: 5 })];
      expect(same(first.x.data(), a.x.data())).toBe(true);
      expect(same(second.x.data(), first.x.data())).toBe(false);
    });
  });

  it('each sample gets its own draw: identical inputs come out different', () => {
    scope(() => {
      const one = randomImages([1, 10, 10, 3], 18).data();
      const x = tensor(Float32Array.from({ length: 16 * one.length }, (_, i) => one[i % one.length]), [16, 10, 10, 3]);
      for (const t of [affine({ degrees: 30 }), colorJitter({ brightness: 0.5 }), randomCrop({ padding: 8 }), gaussianNoise(), gaussianBlur({ p: 1 })]) {
        const out = samples(t.apply(batchOf(x), new Rng(19)).x);
        const distinct = new Set(out.map((s) => s.join(','))).size;
        expect(distinct, t.name).toBeGreaterThan(11); // randomCrop: 289 offsets, a few collisions
      }
    });
  });

  it('randomChoice picks by weight, per sample', () => {
    scope(() => {
      const n = 1000;
      const x = tensor(new Float32Array(n), [n, 1, 1, 1]);
      const out = randomChoice([colorJitter({ brightness: [1, 1] }), colorJitter({ brightness: [2, 2] })], [1, 3]).apply(batchOf(x), new Rng(20)).x.data();
      const twos = out.filter((v) => v === 2).length;
      expect(out.every((v) => v === 1 || v === 2)).toBe(true);
      expect(Math.abs(twos - 750)).toBeLessThan(4.5 * Math.sqrt(n * 0.75 * 0.25));
    });
  });
});
