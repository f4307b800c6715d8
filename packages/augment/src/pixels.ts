// Occlusion, blur and noise: random erasing, cutout, Gaussian blur, Gaussian and
// salt-and-pepper noise.
import type { Rng } from '@minibatch/core';
import { z } from '@minibatch/registry';
import { gaussianKernel, pasteRects, pixelNoise, separableBlur, type NoiseSpec, type Rect } from './ops.js';
import { BaseAugmentation, withImages, type AugmentBatch } from './transform.js';
import { chance, dims, interval, parseConfig, probability, rangeLike, symmetric, uniform } from './util.js';

const fillValue = z.union([z.number(), z.literal('normal')]);

export const randomErasingSchema = z.strictObject({
  /** Probability of erasing, per sample. */
  p: probability.default(0.5),
  /** Range of the erased area as a fraction of the image's. */
  scale: interval.refine((v) => v[0] > 0 && v[1] <= 1, { message: 'area fractions must be in (0, 1]' }).default([0.02, 0.33]),
  /** Range of the aspect ratio (height / width), drawn log-uniformly. */
  ratio: interval.refine((v) => v[0] > 0, { message: 'ratios must be > 0' }).default([0.3, 3.3]),
  /** The fill: a number, or 'normal' for N(0, 1) noise per value (for standardized inputs). */
  value: fillValue.default(0),
  /** Rectangles per erased sample. */
  count: z.number().int().min(1).default(1),
});
export type RandomErasingConfig = z.input<typeof randomErasingSchema>;

/**
 * Random erasing (Zhong et al. 2017, alg. 1): with probability p, a rectangle of random area
 * and aspect ratio, placed wholly inside the image, is filled (up to 10 tries per rectangle).
 */
export class RandomErasing extends BaseAugmentation<z.output<typeof randomErasingSchema>> {
  readonly name = 'randomErasing';

  constructor(config: RandomErasingConfig = {}) {
    super(parseConfig('randomErasing', randomErasingSchema, config));
  }

  apply(batch: AugmentBatch, rng: Rng): AugmentBatch {
    const { n, h, w } = dims(this.name, batch.x);
    const { p, scale, ratio, value, count } = this.config;
    const logRatio: [number, number] = [Math.log(ratio[0]), Math.log(ratio[1])];
    const rects: Rect[] = [];
    for (let i = 0; i < n; i++) {
      if (!chance(rng, p)) continue;
      for (let k = 0; k < count; k++) {
        for (let attempt = 0; attempt < 10; attempt++) {
          const area = h * w * uniform(rng, scale);
          const aspect = Math.exp(uniform(rng, logRatio));
          const eh = Math.round(Math.sqrt(area * aspect));
          const ew = Math.round(Math.sqrt(area / aspect));
          if (eh < 1 || ew < 1 || eh > h || ew > w) continue;
          rects.push({ sample: i, top: rng.int(h - eh + 1), left: rng.int(w - ew + 1), height: eh, width: ew });
          break;
        }
      }
    }
    if (rects.length === 0) return batch;
    return withImages(batch, pasteRects(batch.x, rects, { fill: value, seed: rng.nextU32() }));
  }
}

export const cutoutSchema = z.strictObject({
  /** Side of the square hole in pixels. */
  size: z.number().int().positive().default(8),
  /** Holes per sample. */
  count: z.number().int().min(1).default(1),
  value: fillValue.default(0),
  p: probability.default(1),
});
export type CutoutConfig = z.input<typeof cutoutSchema>;

/**
 * Cutout (DeVries & Taylor 2017): square holes centered on uniformly random pixels, clipped
 * at the image border (so a hole near the edge is smaller).
 */
export class Cutout extends BaseAugmentation<z.output<typeof cutoutSchema>> {
  readonly name = 'cutout';

  constructor(config: CutoutConfig = {}) {
    super(parseConfig('cutout', cutoutSchema, config));
  }

  apply(batch: AugmentBatch, rng: Rng): AugmentBatch {
    const { n, h, w } = dims(this.name, batch.x);
    const { size, count, value, p } = this.config;
    const rects: Rect[] = [];
    for (let i = 0; i < n; i++) {
      if (!chance(rng, p)) continue;
      for (let k = 0; k < count; k++) {
        const cy = rng.int(h);
        const cx = rng.int(w);
        const y0 = Math.max(0, cy - Math.floor(size / 2));
        const x0 = Math.max(0, cx - Math.floor(size / 2));
        const y1 = Math.min(h, cy - Math.floor(size / 2) + size);
        const x1 = Math.min(w, cx - Math.floor(size / 2) + size);
        rects.push({ sample: i, top: y0, left: x0, height: y1 - y0, width: x1 - x0 });
      }
    }
    if (rects.length === 0) return batch;
    return withImages(batch, pasteRects(batch.x, rects, { fill: value, seed: rng.nextU32() }));
  }
}

export const gaussianBlurSchema = z.strictObject({
  /** σ in pixels, uniform in [low, high] per sample (one number: that σ). */
  sigma: z.union([z.number().positive(), interval.refine((v) => v[0] > 0, { message: 'sigma must be > 0' })]).default([0.1, 2]),
  /** Taps of the kernel (odd); default 2·⌈3σmax⌉ + 1, capped at the larger image side. */
  kernelSize: z.number().int().positive().refine((k) => k % 2 === 1, { message: 'kernelSize must be odd' }).optional(),
  p: probability.default(0.5),
});
export type GaussianBlurConfig = z.input<typeof gaussianBlurSchema>;

/** Gaussian blur with a random σ per sample: a separable kernel, mirrored borders. */
export class GaussianBlur extends BaseAugmentation<z.output<typeof gaussianBlurSchema>> {
  readonly name = 'gaussianBlur';

  constructor(config: GaussianBlurConfig = {}) {
    super(parseConfig('gaussianBlur', gaussianBlurSchema, config));
  }

  apply(batch: AugmentBatch, rng: Rng): AugmentBatch {
    const { n, h, w } = dims(this.name, batch.x);
    const sigma = typeof this.config.sigma === 'number' ? ([this.config.sigma, this.config.sigma] as const) : this.config.sigma;
    const size = this.config.kernelSize ?? 2 * Math.ceil(3 * sigma[1]) + 1;
    const radius = Math.min((size - 1) / 2, Math.max(h, w) - 1);
    const kernels: (Float32Array | null)[] = [];
    for (let i = 0; i < n; i++) kernels.push(chance(rng, this.config.p) ? gaussianKernel(uniform(rng, sigma), radius) : null);
    return kernels.some((k) => k !== null) ? withImages(batch, separableBlur(batch.x, kernels)) : batch;
  }
}

export const gaussianNoiseSchema = z.strictObject({
  /** Standard deviation: a number, or [low, high] drawn per sample. */
  std: rangeLike(0).default(0.1),
  p: probability.default(1),
  /** Clamp to [low, high] after adding; null: no clamping. */
  clip: interval.nullable().default(null),
});
export type GaussianNoiseConfig = z.input<typeof gaussianNoiseSchema>;

/** Adds N(0, std²) noise to every value (hashed in the kernel from a per-sample seed). */
export class GaussianNoise extends BaseAugmentation<z.output<typeof gaussianNoiseSchema>> {
  readonly name = 'gaussianNoise';

  constructor(config: GaussianNoiseConfig = {}) {
    super(parseConfig('gaussianNoise', gaussianNoiseSchema, config));
  }

  apply(batch: AugmentBatch, rng: Rng): AugmentBatch {
    const { n } = dims(this.name, batch.x);
    const std = this.config.std;
    const range = typeof std === 'number' ? ([std, std] as const) : symmetric(std);
    const specs: (NoiseSpec | null)[] = [];
    const seeds = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (!chance(rng, this.config.p)) {
        specs.push(null);
        continue;
      }
      specs.push({ kind: 'gaussian', std: uniform(rng, range), clip: this.config.clip });
      seeds[i] = rng.nextU32() | 0;
    }
    return specs.some((s) => s !== null) ? withImages(batch, pixelNoise(batch.x, specs, seeds)) : batch;
  }
}

export const saltAndPepperSchema = z.strictObject({
  /** Fraction of pixels replaced, per sample (each pixel independently). */
  amount: probability.default(0.05),
  /** Pepper and salt values. */
  low: z.number().default(0),
  high: z.number().default(1),
  p: probability.default(1),
});
export type SaltAndPepperConfig = z.input<typeof saltAndPepperSchema>;

/** Salt-and-pepper noise: each pixel (all channels) set to low or high with probability amount, half each. */
export class SaltAndPepper extends BaseAugmentation<z.output<typeof saltAndPepperSchema>> {
  readonly name = 'saltAndPepper';

  constructor(config: SaltAndPepperConfig = {}) {
    super(parseConfig('saltAndPepper', saltAndPepperSchema, config));
  }

  apply(batch: AugmentBatch, rng: Rng): AugmentBatch {
    const { n } = dims(this.name, batch.x);
    const { amount, low, high, p } = this.config;
    const specs: (NoiseSpec | null)[] = [];
    const seeds = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (!chance(rng, p)) {
        specs.push(null);
        continue;
      }
      specs.push({ kind: 'saltAndPepper', amount, low, high });
      seeds[i] = rng.nextU32() | 0;
    }
    return specs.some((s) => s !== null) ? withImages(batch, pixelNoise(batch.x, specs, seeds)) : batch;
  }
}
