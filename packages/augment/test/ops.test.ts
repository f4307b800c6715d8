// The deterministic operations, exactly: flips, crops and padding against an independent JS
// reference; identity warps; bilinear resampling against float64 JS and against TF.js
// (tf.image.transform, cropAndResize, flipLeftRight on its CPU backend); color maps; blur;
// rectangles; noise; blending; and the SIMD and scalar builds agreeing bit for bit.
import { ArgumentError, Rng, ShapeError, createEngine, scope, tensor, useEngine, type Engine, type Tensor } from '@minibatch/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  augment, blendSamples, colorJitter, grayscale, colorTransform, compose, cropWindows, cutmix, flip, gaussianBlur, gaussianKernel, gaussianNoise,
  hueMatrix, LUMA, mixup, pasteRects, pixelNoise, randomCrop, randomErasing, resampleAffine, rotate, saltAndPepper, separableBlur,
  translate, warpMatrix, affine, zoom, type AffineMatrix,
} from '../src/index.js';
import { maxAbsDiff, randomImages, refBilinear, refBorder, same, samples } from './helpers.js';

type Mode = 'constant' | 'reflect' | 'edge';

describe('windows: flips, crops, padding', () => {
  it('flipping twice is the identity, and a flip mirrors exactly', () => {
    scope(() => {
      const x = randomImages([3, 5, 7, 3]);
      const once = cropWindows(x, [{ top: 0, left: 0, flipX: true }, { top: 0, left: 0, flipY: true }, { top: 0, left: 0, flipX: true, flipY: true }]);
      const twice = cropWindows(once, [{ top: 0, left: 0, flipX: true }, { top: 0, left: 0, flipY: true }, { top: 0, left: 0, flipX: true, flipY: true }]);
      expect(same(twice.data(), x.data())).toBe(true);
      const [src, out] = [samples(x)[0], samples(once)[0]];
      for (let y = 0; y < 5; y++) for (let xx = 0; xx < 7; xx++) for (let c = 0; c < 3; c++) {
        expect(out[(y * 7 + xx) * 3 + c]).toBe(src[(y * 7 + (6 - xx)) * 3 + c]);
      }
      // The Flip transform with p = 1, twice (single channel: the SIMD reversal path).
      const g = randomImages([4, 6, 9, 1], 2);
      const f = flip({ p: 1, vertical: true });
      const back = f.apply(f.apply({ x: g, targets: null, labels: null, classes: null }, new Rng(1)), new Rng(2)).x;
      expect(same(back.data(), g.data())).toBe(true);
    });
  });

  it('crops at any offset, with constant, reflect and edge padding, match a JS reference', () => {
    scope(() => {
      const [n, h, w, c] = [4, 6, 5, 2];
      const x = randomImages([n, h, w, c], 3);
      const src = samples(x);
      const rng = new Rng(4);
      for (const mode of ['constant', 'reflect', 'edge'] as Mode[]) {
        for (const [oh, ow] of [[6, 5], [4, 3], [9, 11]]) {
          const windows = Array.from({ length: n }, () => ({ top: rng.int(2 * h + 1) - h, left: rng.int(2 * w + 1) - w, flipX: rng.uniform() < 0.5, flipY: rng.uniform() < 0.5 }));
          const out = samples(cropWindows(x, windows, { size: [oh, ow], mode, fill: 7.5 }));
          windows.forEach((win, b) => {
            for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
              const sy = refBorder(win.flipY ? win.top + oh - 1 - y : win.top + y, h, mode);
              const sx = refBorder(win.flipX ? win.left + ow - 1 - xx : win.left + xx, w, mode);
              for (let k = 0; k < c; k++) {
                const expected = sy < 0 || sx < 0 ? 7.5 : src[b][(sy * w + sx) * c + k];
                if (out[b][(y * ow + xx) * c + k] !== expected) expect.fail(`${mode} ${oh}×${ow} sample ${b} (${y}, ${xx}, ${k})`);
              }
            }
          });
        }
      }
    });
  });

  it('random crops take offsets within the padding, and reflect padding mirrors without the edge', () => {
    scope(() => {
      // Row b of image b holds 100·b + column index: the crop's left offset is readable.
      const [n, w] = [200, 8];
      const data = new Float32Array(n * w);
      for (let b = 0; b < n; b++) for (let i = 0; i < w; i++) data[b * w + i] = 100 * b + i;
      const x = tensor(data, [n, 1, w, 1]);
      const out = samples(randomCrop({ padding: 2, mode: 'reflect' }).apply({ x, targets: null, labels: null, classes: null }, new Rng(5)).x);
      const seen = new Set<number>();
      out.forEach((row, b) => {
        const left = row[2] - 100 * b - 2; // column 2 of the output is inside for every offset in [−2, 2]
        seen.add(left);
        for (let i = 0; i < w; i++) expect(row[i] - 100 * b).toBe(refBorder(left + i, w, 'reflect'));
      });
      expect([...seen].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2]);
    });
  });
});

describe('affine resampling (bilinear)', () => {
  it('zero translation, zero rotation, unit zoom and the identity matrix give the input exactly', () => {
    scope(() => {
      const x = randomImages([5, 9, 7, 3], 6);
      const batch = { x, targets: null, labels: null, classes: null };
      for (const t of [translate({ x: 0, y: 0 }), rotate({ degrees: 0 }), zoom({ scale: [1, 1] }), affine({})]) {
        const out = t.apply(batch, new Rng(1)).x;
        expect(same(out.data(), x.data()), t.name).toBe(true);
      }
      const warped = resampleAffine(x, Array.from({ length: 5 }, () => warpMatrix({ degrees: 0, tx: 0, ty: 0, scale: 1, shear: 0 }, 9, 7)));
      expect(same(warped.data(), x.data())).toBe(true);
      // Integer shifts through the bilinear path equal the window copy.
      const shifted = resampleAffine(x, Array.from({ length: 5 }, () => [1, 0, -2, 0, 1, 1] as AffineMatrix), { mode: 'reflect' });
      const window = cropWindows(x, Array.from({ length: 5 }, () => ({ top: 1, left: -2 })), { mode: 'reflect' });
      expect(same(shifted.data(), window.data())).toBe(true);
    });
  });

  it('rotating by 180° equals flipping both axes; 90° four times is close to the identity', () => {
    scope(() => {
      const x = randomImages([2, 7, 7, 4], 7);
      const r180 = resampleAffine(x, [0, 1].map(() => warpMatrix({ degrees: 180, tx: 0, ty: 0, scale: 1, shear: 0 }, 7, 7)));
      const both = cropWindows(x, [0, 1].map(() => ({ top: 0, left: 0, flipX: true, flipY: true })));
      expect(maxAbsDiff(r180.data(), both.data())).toBeLessThan(1e-5);
      let y: Tensor = x;
      for (let i = 0; i < 4; i++) y = resampleAffine(y, [0, 1].map(() => warpMatrix({ degrees: 90, tx: 0, ty: 0, scale: 1, shear: 0 }, 7, 7)));
      expect(maxAbsDiff(y.data(), x.data())).toBeLessThan(1e-5);
    });
  });

  it('matches float64 bilinear sampling for random warps, every border mode, other output sizes', () => {
    scope(() => {
      const [n, h, w, c] = [6, 8, 9, 5]; // c = 5: the SIMD 4-channel block and a scalar tail
      const x = randomImages([n, h, w, c], 8);
      const src = samples(x);
      const rng = new Rng(9);
      for (const mode of ['constant', 'reflect', 'edge'] as Mode[]) {
        const matrices = Array.from({ length: n }, () =>
          Array.from({ length: 6 }, (_, k) => (k === 2 || k === 5 ? 6 * rng.uniform() - 3 : 2 * rng.uniform() - 1)) as unknown as AffineMatrix);
        const [oh, ow] = [7, 11];
        const out = samples(resampleAffine(x, matrices, { size: [oh, ow], mode, fill: -2 }));
        matrices.forEach(([a, b, tx, d, e, ty], s) => {
          for (let Y = 0; Y < oh; Y++) for (let X = 0; X < ow; X++) for (let k = 0; k < c; k++) {
            // The kernel computes the coordinates in float32 from float32 parameters.
            const f = Math.fround;
            const sy = f(f(f(f(d) * X) + f(f(e) * Y)) + f(ty));
            const sx = f(f(f(f(a) * X) + f(f(b) * Y)) + f(tx));
            const expected = refBilinear(src[s], h, w, c, sy, sx, k, mode, -2);
            const got = out[s][(Y * ow + X) * c + k];
            if (!(Math.abs(got - expected) <= 1e-4)) expect.fail(`${mode} sample ${s} (${Y}, ${X}, ${k}): ${got} vs ${expected}`);
          }
        });
      }
    });
  });
});

describe('against TF.js image ops (CPU backend)', () => {
  let tf: typeof import('@tensorflow/tfjs-core');
  beforeAll(async () => {
    tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
  });

  it('flip equals tf.image.flipLeftRight', () => {
    scope(() => {
      const x = randomImages([3, 6, 10, 3], 10);
      const ours = cropWindows(x, [0, 1, 2].map(() => ({ top: 0, left: 0, flipX: true }))).data();
      const theirs = tf.tidy(() => tf.image.flipLeftRight(tf.tensor4d(x.data(), [3, 6, 10, 3])).dataSync());
      expect(same(ours, theirs)).toBe(true);
    });
  });

  it('affine warps equal tf.image.transform (bilinear; constant and nearest fill)', () => {
    scope(() => {
      // TF.js 4.22's CPU Transform returns after the first image, so each image goes alone.
      const [h, w, c] = [10, 12, 3];
      const rng = new Rng(11);
      for (const [mode, tfMode] of [['constant', 'constant'], ['edge', 'nearest']] as const) {
        for (let s = 0; s < 4; s++) {
          const x = randomImages([1, h, w, c], 20 + s);
          const m = warpMatrix({ degrees: 60 * rng.uniform() - 30, tx: 4 * rng.uniform() - 2, ty: 4 * rng.uniform() - 2, scale: 0.8 + 0.4 * rng.uniform(), shear: 10 * rng.uniform() - 5 }, h, w);
          const ours = resampleAffine(x, [m], { mode, fill: 0.25 }).data();
          const theirs = tf.tidy(() => tf.image.transform(tf.tensor4d(x.data(), [1, h, w, c]), tf.tensor2d([[...m, 0, 0]]), 'bilinear', tfMode, 0.25).dataSync());
          expect(maxAbsDiff(ours, theirs), `${mode} image ${s}`).toBeLessThan(1e-4);
        }
      }
    });
  });

  it('resized crops equal tf.image.cropAndResize (its align-corners mapping as a matrix)', () => {
    scope(() => {
      const [n, h, w, c] = [4, 16, 20, 3];
      const x = randomImages([n, h, w, c], 12);
      const rng = new Rng(13);
      const [ch, cw] = [9, 7];
      const boxes = Array.from({ length: n }, () => {
        const [y1, x1] = [0.5 * rng.uniform(), 0.5 * rng.uniform()];
        return [y1, x1, y1 + 0.2 + 0.3 * rng.uniform(), x1 + 0.2 + 0.3 * rng.uniform()];
      });
      const matrices = boxes.map(([y1, x1, y2, x2]) => [(x2 - x1) * (w - 1) / (cw - 1), 0, x1 * (w - 1), 0, (y2 - y1) * (h - 1) / (ch - 1), y1 * (h - 1)] as AffineMatrix);
      const ours = resampleAffine(x, matrices, { size: [ch, cw] }).data();
      const theirs = tf.tidy(() => tf.image.cropAndResize(tf.tensor4d(x.data(), [n, h, w, c]), tf.tensor2d(boxes), tf.tensor1d([0, 1, 2, 3], 'int32'), [ch, cw], 'bilinear').dataSync());
      expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-4);
    });
  });
});

describe('color maps', () => {
  it('brightness +δ adds δ; a color map with clip clamps', () => {
    scope(() => {
      for (const c of [1, 2, 3, 4, 5]) {
        const x = randomImages([4, 5, 6, c], 14);
        const out = colorJitter({ brightness: [0.25, 0.25] }).apply({ x, targets: null, labels: null, classes: null }, new Rng(1)).x;
        const [a, b] = [x.data(), out.data()];
        for (let i = 0; i < a.length; i++) if (b[i] !== Math.fround(a[i] + 0.25)) expect.fail(`${c} channels, value ${i}: ${b[i]} ≠ ${a[i]} + 0.25`);
      }
      const g = randomImages([2, 3, 5, 1], 15);
      const clipped = colorTransform(g, [{ matrix: [2], offset: [0.5] }, null], { clip: [-1, 1] }).data();
      const gv = g.data();
      for (let i = 0; i < 15; i++) expect(clipped[i]).toBe(Math.min(Math.max(Math.fround(Math.fround(gv[i] * 2) + 0.5), -1), 1));
      for (let i = 15; i < 30; i++) expect(clipped[i]).toBe(gv[i]); // null: copied, unclamped
    });
  });

  it('contrast keeps the (luma) mean; saturation 0 gives the luma; a third of a hue turn maps red to green', () => {
    scope(() => {
      const x = randomImages([3, 4, 4, 3], 16);
      const batch = { x, targets: null, labels: null, classes: null };
      const c = colorJitter({ contrast: [0.3, 0.3] }).apply(batch, new Rng(1)).x;
      const [src, con] = [samples(x), samples(c)];
      const lumaMean = (img: Float32Array) => {
        let s = 0;
        for (let i = 0; i < img.length; i += 3) s += LUMA[0] * img[i] + LUMA[1] * img[i + 1] + LUMA[2] * img[i + 2];
        return s / (img.length / 3);
      };
      src.forEach((img, b) => {
        const m = lumaMean(img);
        for (let i = 0; i < img.length; i++) expect(con[b][i]).toBeCloseTo(m + 0.3 * (img[i] - m), 5);
      });
      const gray = samples(colorJitter({ saturation: [0, 0] }).apply(batch, new Rng(1)).x);
      src.forEach((img, b) => {
        for (let i = 0; i < img.length; i += 3) {
          const l = LUMA[0] * img[i] + LUMA[1] * img[i + 1] + LUMA[2] * img[i + 2];
          for (let k = 0; k < 3; k++) expect(gray[b][i + k]).toBeCloseTo(l, 5);
        }
      });
      const q = hueMatrix(1 / 3);
      expect(maxAbsDiff([q[0], q[3], q[6]], [0, 1, 0])).toBeLessThan(1e-12);
      const pure = tensor([1, 0, 0, 0, 1, 0], [1, 1, 2, 3]);
      const turned = colorJitter({ hue: [1 / 3, 1 / 3] }).apply({ x: pure, targets: null, labels: null, classes: null }, new Rng(1)).x.data();
      expect(maxAbsDiff(turned, [0, 1, 0, 0, 0, 1])).toBeLessThan(1e-6);
    });
  });

  it('saturation and hue on a 1-channel image are an error that says why', () => {
    scope(() => {
      const x = randomImages([1, 2, 2, 1]);
      expect(() => colorJitter({ hue: 0.1 }).apply({ x, targets: null, labels: null, classes: null }, new Rng(0))).toThrow(/need RGB images \(3 channels\), got 1 channel/);
    });
  });
});

describe('blur, rectangles, noise, blending', () => {
  it('blurring a constant image gives exactly a constant image near the value', () => {
    scope(() => {
      const x = tensor(new Float32Array(2 * 9 * 11 * 3).fill(0.7), [2, 9, 11, 3]);
      for (const r of [1, 3, 6, 12]) {
        // Each sample its own kernel: each output image is one constant (interior and borders alike).
        for (const out of samples(separableBlur(x, [gaussianKernel(1.5, r), gaussianKernel(0.4, r)]))) {
          expect(out.every((v) => v === out[0])).toBe(true);
          expect(Math.abs(out[0] - 0.7)).toBeLessThan(1e-6);
        }
      }
    });
  });

  it('blur matches a float64 separable convolution with mirrored borders', () => {
    scope(() => {
      const [n, h, w, c] = [3, 7, 10, 3];
      const x = randomImages([n, h, w, c], 17);
      const src = samples(x);
      const kernels = [gaussianKernel(1, 2), null, gaussianKernel(2, 2)];
      const out = samples(separableBlur(x, kernels));
      expect(same(out[1], src[1])).toBe(true);
      for (const b of [0, 2]) {
        const k = kernels[b]!;
        const tmp = new Float64Array(h * w * c);
        for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let ch = 0; ch < c; ch++) {
          let s = 0;
          for (let t = 0; t < 5; t++) s += k[t] * src[b][(y * w + refBorder(xx + t - 2, w, 'reflect')) * c + ch];
          tmp[(y * w + xx) * c + ch] = s;
        }
        for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let ch = 0; ch < c; ch++) {
          let s = 0;
          for (let t = 0; t < 5; t++) s += k[t] * tmp[(refBorder(y + t - 2, h, 'reflect') * w + xx) * c + ch];
          expect(Math.abs(out[b][(y * w + xx) * c + ch] - s)).toBeLessThan(1e-5);
        }
      }
    });
  });

  it('rectangles fill exactly their pixels, or copy them from the source sample', () => {
    scope(() => {
      const x = randomImages([3, 6, 8, 2], 18);
      const out = samples(pasteRects(x, [{ sample: 0, top: 1, left: 2, height: 3, width: 4 }, { sample: 2, top: 0, left: 5, height: 6, width: 3, source: 1 }], { fill: 9 }));
      const src = samples(x);
      for (let y = 0; y < 6; y++) for (let xx = 0; xx < 8; xx++) for (let k = 0; k < 2; k++) {
        const i = (y * 8 + xx) * 2 + k;
        expect(out[0][i]).toBe(y >= 1 && y < 4 && xx >= 2 && xx < 6 ? 9 : src[0][i]);
        expect(out[1][i]).toBe(src[1][i]);
        expect(out[2][i]).toBe(xx >= 5 ? src[1][i] : src[2][i]);
      }
      expect(() => pasteRects(x, [{ sample: 0, top: 4, left: 0, height: 3, width: 1 }])).toThrow(ArgumentError);
    });
  });

  it('Gaussian noise has the asked spread; salt and pepper sets the asked fraction of pixels to low or high', () => {
    scope(() => {
      const [n, hw] = [4, 64 * 64];
      const zero = tensor(new Float32Array(n * hw * 3), [n, 64, 64, 3]);
      const noisy = samples(pixelNoise(zero, [{ kind: 'gaussian', std: 0.5 }, null, { kind: 'gaussian', std: 2 }, { kind: 'gaussian', std: 2 }], [1, 2, 3, 4]));
      const moments = (v: Float32Array) => {
        const m = v.reduce((a, b) => a + b, 0) / v.length;
        return [m, Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length)];
      };
      const [m0, s0] = moments(noisy[0]);
      expect(Math.abs(m0)).toBeLessThan(0.02);
      expect(s0).toBeGreaterThan(0.49);
      expect(s0).toBeLessThan(0.51);
      expect(noisy[1].every((v) => v === 0)).toBe(true);
      expect(moments(noisy[2])[1]).toBeCloseTo(2, 1);
      expect(same(noisy[2], noisy[3])).toBe(false); // other seed, other noise
      const half = tensor(new Float32Array(n * hw).fill(0.5), [n, 64, 64, 1]);
      const sp = samples(pixelNoise(half, Array.from({ length: n }, () => ({ kind: 'saltAndPepper' as const, amount: 0.1, low: -1, high: 2 })), [5, 6, 7, 8]));
      const flat = sp.flatMap((s) => Array.from(s));
      const [lo, hi] = [flat.filter((v) => v === -1).length, flat.filter((v) => v === 2).length];
      expect(flat.every((v) => v === 0.5 || v === -1 || v === 2)).toBe(true);
      // n·hw = 16384 pixels, p = 0.1: σ ≈ 38 — bounds at about ±5σ.
      expect(lo + hi).toBeGreaterThan(1638 - 200);
      expect(lo + hi).toBeLessThan(1638 + 200);
      expect(Math.abs(lo - hi)).toBeLessThan(200);
    });
  });

  it('blending computes λ·a + (1 − λ)·b[partner]', () => {
    scope(() => {
      const a = randomImages([3, 2, 3, 2], 19);
      const b = randomImages([3, 2, 3, 2], 20);
      const out = samples(blendSamples(a, b, [2, 0, 1], [0.25, 1, 0]));
      const [sa, sb] = [samples(a), samples(b)];
      for (let i = 0; i < 12; i++) {
        expect(out[0][i]).toBe(Math.fround(Math.fround(0.25 * sa[0][i]) + Math.fround(0.75 * sb[2][i])));
        expect(out[1][i]).toBe(sa[1][i]);
        expect(out[2][i]).toBe(sb[1][i]);
      }
    });
  });
});

describe('checked at the boundary', () => {
  it('non-NHWC input, wrong parameter counts, out-of-range indices', () => {
    scope(() => {
      const flat = tensor(new Float32Array(2 * 28 * 28), [2, 28, 28]);
      expect(() => augment(flip(), flat)).toThrow(ShapeError);
      expect(() => augment(flip(), flat)).toThrow(/x\.reshape\(\[2, 28, 28, 1\]\)/);
      const x = randomImages([2, 4, 4, 1]);
      expect(() => cropWindows(x, [{ top: 0, left: 0 }])).toThrow(/for each of the 2 samples, got 1/);
      expect(() => blendSamples(x, x, [0, 2], [1, 1])).toThrow(/partners\[1\] must be an integer in \[0, 1\], got 2/);
      expect(() => resampleAffine(x, [null, [1, 0, 0, 0, 1, NaN]])).toThrow(/finite/);
      expect(() => flip({ p: 2 })).toThrow(/invalid config for augmentation 'flip':\n {2}- p: .*got 2/);
      expect(() => randomCrop({ size: 9, padding: 2 }).apply({ x, targets: null, labels: null, classes: null }, new Rng(0))).toThrow(/does not fit/);
      expect(() => augment(mixup(), x, { labels: [0, 1] })).toThrow(/needs the number of classes/);
      expect(() => augment(mixup({ classes: 3 }), x)).toThrow(/needs the labels/);
      expect(() => augment(cutmix({ classes: 2 }), x, { labels: [0, 5] })).toThrow(/label 5 of sample 1 is not a class index in \[0, 2\)/);
    });
  });
});

describe('the SIMD and scalar builds agree bit for bit', () => {
  let engines: Engine[];
  beforeAll(async () => {
    engines = [await createEngine({ build: 'simd' }), await createEngine({ build: 'scalar' })];
  });

  it('every kernel, through a pipeline that uses all of them, on 1 to 5 channels', () => {
    const pipeline = compose([
      randomCrop({ padding: 3, mode: 'reflect' }), flip({ vertical: true }), affine({ degrees: 20, translate: [0.1, 0.1], scale: [0.8, 1.2], shear: 5, mode: 'edge' }),
      colorJitter({ brightness: 0.2, contrast: 0.3 }), randomErasing({ p: 0.7, value: 'normal' }), gaussianBlur({ p: 0.7 }),
      gaussianNoise({ std: [0, 0.2] }), saltAndPepper({ amount: 0.02, p: 0.5 }), mixup({ alpha: 0.4 }), cutmix({ alpha: 1 }),
    ]);
    const rgb = compose([colorJitter({ contrast: 0.5, saturation: 0.4, hue: 0.1, clip: [-2, 2] }), grayscale({ p: 0.5 })]);
    for (const c of [1, 2, 3, 4, 5]) {
      const values = randomImages([6, 13, 11, c], 30 + c).data();
      const labels = [0, 1, 2, 0, 1, 2];
      const results = engines.map((e) => {
        const previous = useEngine(e);
        try {
          return scope(() => {
            const x = tensor(values, [6, 13, 11, c]);
            const out = augment(pipeline, x, { seed: 3, labels, classes: 3 });
            const extra = c === 3 ? augment(rgb, x, { seed: 4 }).x.data() : new Float32Array(0);
            return [out.x.data(), out.targets!.data(), extra];
          });
        } finally {
          if (previous !== null) useEngine(previous);
        }
      });
      results[0].forEach((a, i) => expect(same(a, results[1][i]), `channels ${c}, output ${i}`).toBe(true));
    }
  });
});
