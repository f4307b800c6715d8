// Color transforms. Each is an affine map of a pixel's channels, out = M·x + t, so a whole
// color jitter (brightness, contrast, saturation, hue) composes into one (M, t) per sample
// and runs as one kernel pass; PCA lighting is an offset t.
import { ArgumentError, Tensor, type Rng } from '@minibatch/core';
import { z } from '@minibatch/registry';
import { colorTransform, type ColorMap } from './ops.js';
import { BaseAugmentation, withImages, type AugmentBatch, type ImageSet } from './transform.js';
import { chance, dims, interval, parseConfig, probability, rangeLike, symmetric, uniform, type Range } from './util.js';

/** ITU-R BT.601 luma weights, as torchvision's rgb_to_grayscale and PIL's convert('L'). */
export const LUMA = [0.299, 0.587, 0.114] as const;

type Mat = number[]; // c×c row-major

function identity(c: number): Mat {
  const m = new Array<number>(c * c).fill(0);
  for (let i = 0; i < c; i++) m[i * c + i] = 1;
  return m;
}

function matMul(a: Mat, b: Mat, c: number): Mat {
  const out = new Array<number>(c * c).fill(0);
  for (let i = 0; i < c; i++) for (let k = 0; k < c; k++) for (let j = 0; j < c; j++) out[i * c + j] += a[i * c + k] * b[k * c + j];
  return out;
}

function matVec(a: Mat, v: number[], c: number): number[] {
  return Array.from({ length: c }, (_, i) => v.reduce((s, vj, j) => s + a[i * c + j] * vj, 0));
}

/** Blend toward the luma: s·I + (1 − s)·1·wᵀ (s = 0: grayscale). */
function saturationMatrix(s: number): Mat {
  const m: Mat = [];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) m.push((i === j ? s : 0) + (1 - s) * LUMA[j]);
  return m;
}

/**
 * Rotation by `turns`·360° about the gray axis (1, 1, 1)/√3 (Rodrigues' formula): grays stay
 * gray, the channel mean is kept, and a third of a turn maps red to green exactly. A linear
 * stand-in for the HSV hue shift of torchvision's adjust_hue.
 */
export function hueMatrix(turns: number): Mat {
  const t = 2 * Math.PI * turns;
  const cos = Math.cos(t);
  const sin = Math.sin(t) / Math.sqrt(3);
  const k = (1 - cos) / 3;
  return [cos + k, k - sin, k + sin, k + sin, cos + k, k - sin, k - sin, k + sin, cos + k];
}

const factorLike = rangeLike(0);

export const colorJitterSchema = z.strictObject({
  /** Added to every value: δ uniform in [−v, v], or [low, high]. */
  brightness: rangeLike().default(0),
  /** Contrast factor f uniform in [max(0, 1 − v), 1 + v] (or [low, high]): x → m + f·(x − m), m the image's mean (luma mean for RGB). */
  contrast: factorLike.default(0),
  /** Saturation factor (RGB only): blend with the luma image, 0 = gray. Same ranges as contrast. */
  saturation: factorLike.default(0),
  /** Hue rotation (RGB only) in turns, v ≤ 0.5 means uniform in [−v, v]. */
  hue: z.union([z.number().min(0).max(0.5), z.tuple([z.number().min(-0.5).max(0.5), z.number().min(-0.5).max(0.5)])]).default(0),
  /** Probability of a jitter per sample. */
  p: probability.default(1),
  /** Clamp the results to [low, high] (e.g. [0, 1] for images in that range); null: no clamping. */
  clip: interval.nullable().default(null),
});
export type ColorJitterConfig = z.input<typeof colorJitterSchema>;

/**
 * Random brightness, contrast, saturation and hue, in that order, one draw of each per
 * sample — fused into one affine color map per sample: one kernel pass (plus a sum over
 * the image for contrast's mean).
 */
export class ColorJitter extends BaseAugmentation<z.output<typeof colorJitterSchema>> {
  readonly name = 'colorJitter';
  private readonly ranges: { brightness: Range; contrast: Range; saturation: Range; hue: Range };

  constructor(config: ColorJitterConfig = {}) {
    super(parseConfig('colorJitter', colorJitterSchema, config));
    const { brightness, contrast, saturation, hue } = this.config;
    this.ranges = { brightness: symmetric(brightness), contrast: symmetric(contrast, 1, 0), saturation: symmetric(saturation, 1, 0), hue: symmetric(hue) };
  }

  apply(batch: AugmentBatch, rng: Rng): AugmentBatch {
    const { n, c } = dims(this.name, batch.x);
    const r = this.ranges;
    const active = (range: Range, neutral: number) => range[0] !== neutral || range[1] !== neutral;
    const [doB, doC, doS, doH] = [active(r.brightness, 0), active(r.contrast, 1), active(r.saturation, 1), active(r.hue, 0)];
    if (c !== 3 && (doS || doH)) {
      throw new ArgumentError(`colorJitter: saturation and hue need RGB images (3 channels), got ${c} channel${c === 1 ? '' : 's'}; set them to 0`);
    }
    if (!(doB || doC || doS || doH)) return batch;
    // Contrast blends toward the mean of the image after the brightness shift, w·x̄ + δ (the
    // weights sum to 1): that mean is computed in the kernel, as the term (w·x̄)·v.
    const weights = c === 3 ? [...LUMA] : new Array<number>(c).fill(1 / c);
    const maps: (ColorMap | null)[] = [];
    for (let i = 0; i < n; i++) {
      if (!chance(rng, this.config.p)) {
        maps.push(null);
        continue;
      }
      let m = identity(c);
      let t = new Array<number>(c).fill(0);
      let v = new Array<number>(c).fill(0);
      if (doB) {
        const delta = uniform(rng, r.brightness);
        t = t.map((x) => x + delta);
      }
      if (doC) {
        const f = uniform(rng, r.contrast);
        const shifted = t[0]; // M = I here: the mean moved by δ
        m = m.map((x) => f * x);
        t = t.map((x) => f * x + (1 - f) * shifted);
        v = v.map(() => 1 - f);
      }
      if (doS) {
        const s = saturationMatrix(uniform(rng, r.saturation));
        [m, t, v] = [matMul(s, m, 3), matVec(s, t, 3), matVec(s, v, 3)];
      }
      if (doH) {
        const q = hueMatrix(uniform(rng, r.hue));
        [m, t, v] = [matMul(q, m, 3), matVec(q, t, 3), matVec(q, v, 3)];
      }
      maps.push(doC ? { matrix: m, offset: t, mean: { weights, direction: v } } : { matrix: m, offset: t });
    }
    if (maps.every((m) => m === null)) return batch;
    return withImages(batch, colorTransform(batch.x, maps, { clip: this.config.clip }));
  }
}

export const grayscaleSchema = z.strictObject({ p: probability.default(0.1) });
export type GrayscaleConfig = z.input<typeof grayscaleSchema>;

/** Random conversion of RGB images to gray (luma in all three channels). */
export class Grayscale extends BaseAugmentation<z.output<typeof grayscaleSchema>> {
  readonly name = 'grayscale';

  constructor(config: GrayscaleConfig = {}) {
    super(parseConfig('grayscale', grayscaleSchema, config));
  }

  apply(batch: AugmentBatch, rng: Rng): AugmentBatch {
    const { n, c } = dims(this.name, batch.x);
    if (c !== 3) throw new ArgumentError(`grayscale: needs RGB images (3 channels), got ${c}`);
    const gray: ColorMap = { matrix: saturationMatrix(0), offset: [0, 0, 0] };
    const maps = Array.from({ length: n }, () => (chance(rng, this.config.p) ? gray : null));
    return maps.some((m) => m !== null) ? withImages(batch, colorTransform(batch.x, maps)) : batch;
  }
}

// ---------------------------------------------------------------- PCA lighting

/** The principal components of the pixel colors of a data set. */
export interface PcaBasis {
  /** Eigenvalues of the channel covariance, largest first. */
  eigenvalues: number[];
  /** eigenvectors[i] is the unit eigenvector of eigenvalues[i]. */
  eigenvectors: number[][];
}

/** Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations (Golub & Van Loan, §8.5). */
export function symmetricEigen(matrix: readonly number[], c: number): PcaBasis {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(c * c);
  for (let i = 0; i < c; i++) v[i * c + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < c; p++) for (let q = p + 1; q < c; q++) off += a[p * c + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < c; p++) {
      for (let q = p + 1; q < c; q++) {
        const apq = a[p * c + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * c + q] - a[p * c + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const cs = 1 / Math.sqrt(t * t + 1);
        const sn = t * cs;
        for (let k = 0; k < c; k++) {
          const [akp, akq] = [a[k * c + p], a[k * c + q]];
          a[k * c + p] = cs * akp - sn * akq;
          a[k * c + q] = sn * akp + cs * akq;
        }
        for (let k = 0; k < c; k++) {
          const [apk, aqk] = [a[p * c + k], a[q * c + k]];
          a[p * c + k] = cs * apk - sn * aqk;
          a[q * c + k] = sn * apk + cs * aqk;
        }
        for (let k = 0; k < c; k++) {
          const [vkp, vkq] = [v[k * c + p], v[k * c + q]];
          v[k * c + p] = cs * vkp - sn * vkq;
          v[k * c + q] = sn * vkp + cs * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: c }, (_, i) => i).sort((i, j) => a[j * c + j] - a[i * c + i]);
  return {
    eigenvalues: order.map((i) => Math.max(0, a[i * c + i])),
    eigenvectors: order.map((i) => Array.from({ length: c }, (_, k) => v[k * c + i])),
  };
}

/**
 * The principal components of the pixel colors of a data set (Krizhevsky et al. 2012, §4.1):
 * the eigen-decomposition of the c×c covariance of all pixels (at most `maxPixels`, evenly
 * strided, default 10⁶).
 *
 * @example
 * const basis = fitPcaLighting({ x: train.x, shape: train.shape });
 * const lighting = pcaLighting({ std: 0.1, ...basis });
 */
export function fitPcaLighting(data: ImageSet | Tensor, options: { maxPixels?: number } = {}): PcaBasis {
  let values: Float32Array;
  let c: number;
  if (data instanceof Tensor) {
    dims('fitPcaLighting', data);
    values = data.data();
    c = data.shape[3];
  } else {
    if (!(data?.x instanceof Float32Array) || !Array.isArray(data.shape) || data.shape.length !== 3) {
      throw new ArgumentError('fitPcaLighting: expects { x: Float32Array, shape: [height, width, channels] } or an NHWC Tensor');
    }
    values = data.x;
    c = data.shape[2];
  }
  const pixels = Math.floor(values.length / c);
  if (pixels < 2) throw new ArgumentError('fitPcaLighting: needs at least two pixels');
  const step = Math.max(1, Math.floor(pixels / (options.maxPixels ?? 1e6)));
  const sum = new Float64Array(c);
  const prod = new Float64Array(c * c);
  let count = 0;
  for (let p = 0; p < pixels; p += step, count++) {
    const o = p * c;
    for (let i = 0; i < c; i++) {
      sum[i] += values[o + i];
      for (let j = i; j < c; j++) prod[i * c + j] += values[o + i] * values[o + j];
    }
  }
  const cov: number[] = new Array(c * c);
  for (let i = 0; i < c; i++) {
    for (let j = i; j < c; j++) cov[i * c + j] = cov[j * c + i] = (prod[i * c + j] - (sum[i] * sum[j]) / count) / (count - 1);
  }
  return symmetricEigen(cov, c);
}

export const pcaLightingSchema = z.strictObject({
  /** Standard deviation of the per-component weights α (AlexNet: 0.1). */
  std: z.number().min(0).default(0.1),
  /** The basis from fitPcaLighting(); left out, fit() (or the CLI) fits it on the training data. */
  eigenvalues: z.array(z.number().min(0)).optional(),
  eigenvectors: z.array(z.array(z.number())).optional(),
  p: probability.default(1),
});
export type PcaLightingConfig = z.input<typeof pcaLightingSchema>;

/**
 * "Fancy PCA" lighting noise (Krizhevsky et al. 2012, §4.1): adds Σᵢ αᵢ·λᵢ·eᵢ to every pixel
 * of a sample, αᵢ ~ N(0, std²) drawn per sample, (λᵢ, eᵢ) the principal components of the
 * data set's pixel colors.
 */
export class PcaLighting extends BaseAugmentation<z.output<typeof pcaLightingSchema>> {
  readonly name = 'pcaLighting';

  constructor(config: PcaLightingConfig = {}) {
    super(parseConfig('pcaLighting', pcaLightingSchema, config));
    const { eigenvalues, eigenvectors } = this.config;
    if ((eigenvalues === undefined) !== (eigenvectors === undefined)) throw new ArgumentError('pcaLighting: give both eigenvalues and eigenvectors, or neither (then fit it)');
    if (eigenvalues !== undefined) checkBasis(eigenvalues, eigenvectors!);
  }

  /** Whether the basis is known (given, or fitted). */
  get fitted(): boolean {
    return this.config.eigenvalues !== undefined;
  }

  /** Fits the basis on a data set unless one was given. */
  fit(data: ImageSet): void {
    if (this.fitted) return;
    Object.assign(this.config, fitPcaLighting(data));
  }

  apply(batch: AugmentBatch, rng: Rng): AugmentBatch {
    const { n, c } = dims(this.name, batch.x);
    const { eigenvalues, eigenvectors, std, p } = this.config;
    if (eigenvalues === undefined || eigenvectors === undefined) {
      throw new ArgumentError('pcaLighting: not fitted — call .fit({ x, shape }) on the training data, or give eigenvalues and eigenvectors (fitPcaLighting)');
    }
    if (eigenvalues.length !== c) throw new ArgumentError(`pcaLighting: the basis has ${eigenvalues.length} components but the images have ${c} channels`);
    const matrix = identity(c);
    const maps: (ColorMap | null)[] = [];
    for (let i = 0; i < n; i++) {
      if (!chance(rng, p)) {
        maps.push(null);
        continue;
      }
      const offset = new Array<number>(c).fill(0);
      for (let k = 0; k < c; k++) {
        const alpha = std * rng.normal();
        for (let j = 0; j < c; j++) offset[j] += alpha * eigenvalues[k] * eigenvectors[k][j];
      }
      maps.push({ matrix, offset });
    }
    return maps.some((m) => m !== null) ? withImages(batch, colorTransform(batch.x, maps)) : batch;
  }
}

function checkBasis(values: number[], vectors: number[][]): void {
  const c = values.length;
  if (c === 0 || vectors.length !== c || vectors.some((v) => v.length !== c)) {
    throw new ArgumentError(`pcaLighting: expected ${c} eigenvectors of ${c} numbers for ${c} eigenvalues`);
  }
}
