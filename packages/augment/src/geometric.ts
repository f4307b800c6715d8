// Geometric transforms: flips, crops with padding, and affine warps (translation, zoom,
// rotation, shear, random resized crops) with bilinear interpolation.
import { ArgumentError, type Rng } from '@minibatch/core';
import { z } from '@minibatch/registry';
import { cropWindows, resampleAffine, type AffineMatrix, type Window } from './ops.js';
import { BaseAugmentation, withImages, type AugmentBatch } from './transform.js';
import {
  borderMode, chance, dims, interval, parseConfig, probability, rangeLike, sizeLike, sizePair, symmetric, uniform,
} from './util.js';

// ---------------------------------------------------------------- flip

export const flipSchema = z.strictObject({
  /** Mirror left-right. Default true. */
  horizontal: z.boolean().default(true),
  /** Mirror upside-down. Default false. */
  vertical: z.boolean().default(false),
  /** Probability of each enabled flip, per sample (independently per axis). */
  p: probability.default(0.5),
});
export type FlipConfig = z.input<typeof flipSchema>;

/** Random horizontal and/or vertical flips. */
export class Flip extends BaseAugmentation<z.output<typeof flipSchema>> {
  readonly name = 'flip';

  constructor(config: FlipConfig = {}) {
    super(parseConfig('flip', flipSchema, config));
  }

  apply(batch: AugmentBatch, rng: Rng): AugmentBatch {
    const { n } = dims(this.name, batch.x);
    const { horizontal, vertical, p } = this.config;
    let any = false;
    const windows: Window[] = [];
    for (let i = 0; i < n; i++) {
      const flipX = horizontal && chance(rng, p);
      const flipY = vertical && chance(rng, p);
      any ||= flipX || flipY;
      windows.push({ top: 0, left: 0, flipX, flipY });
    }
    return any ? withImages(batch, cropWindows(batch.x, windows)) : batch;
  }
}

// ---------------------------------------------------------------- crops

export const randomCropSchema = z.strictObject({
  /** Output [height, width] (or one number for a square); default the input's size. */
  size: sizeLike.optional(),
  /** Pixels of padding on every side before cropping (CIFAR: 4). */
  padding: z.number().int().min(0).default(4),
  /** The padding: 'constant' (fill, default 0), 'reflect' (mirror without the edge) or 'edge'. */
  mode: borderMode.default('constant'),
  fill: z.number().default(0),
  /** Probability of a random crop per sample; the others get the center crop. */
  p: probability.default(1),
});
export type RandomCropConfig = z.input<typeof randomCropSchema>;

/** A random crop of the padded image (the CIFAR recipe: pad 4, crop 32×32). */
export class RandomCrop extends BaseAugmentation<z.output<typeof randomCropSchema>> {
  readonly name = 'randomCrop';

  constructor(config: RandomCropConfig = {}) {
    super(parseConfig('randomCrop', randomCropSchema, config));
  }

  apply(batch: AugmentBatch, rng: Rng): AugmentBatch {
    const { n, h, w } = dims(this.name, batch.x);
    const { padding, mode, fill, p } = this.config;
    const [oh, ow] = this.config.size === undefined ? [h, w] : sizePair(this.config.size);
    const rangeY = h + 2 * padding - oh;
    const rangeX = w + 2 * padding - ow;
    if (rangeY < 0 || rangeX < 0) {
      throw new ArgumentError(`randomCrop: a ${oh}×${ow} crop does not fit in ${h}×${w} images padded by ${padding}; lower size or raise padding`);
    }
    const windows: Window[] = [];
    for (let i = 0; i < n; i++) {
      windows.push(chance(rng, p)
        ? { top: rng.int(rangeY + 1) - padding, left: rng.int(rangeX + 1) - padding }
        : { top: Math.floor((h - oh) / 2), left: Math.floor((w - ow) / 2) });
    }
    return withImages(batch, cropWindows(batch.x, windows, { size: [oh, ow], mode, fill }));
  }
}

export const centerCropSchema = z.strictObject({
  /** Output [height, width] (or one number); larger than the image pads with `fill`. */
  size: sizeLike,
  fill: z.number().default(0),
});
export type CenterCropConfig = z.input<typeof centerCropSchema>;

/** The central size×size window (top-left at floor((h − size) / 2)); deterministic. */
export class CenterCrop extends BaseAugmentation<z.output<typeof centerCropSchema>> {
  readonly name = 'centerCrop';

  constructor(config: CenterCropConfig) {
    super(parseConfig('centerCrop', centerCropSchema, config));
  }

  apply(batch: AugmentBatch): AugmentBatch {
    const { n, h, w } = dims(this.name, batch.x);
    const [oh, ow] = sizePair(this.config.size);
    const win = { top: Math.floor((h - oh) / 2), left: Math.floor((w - ow) / 2) };
    return withImages(batch, cropWindows(batch.x, Array.from({ length: n }, () => win), { size: [oh, ow], fill: this.config.fill }));
  }
}

// ---------------------------------------------------------------- affine warps

/** The parameters of one forward warp about the image center. */
interface Warp {
  degrees: number;
  /** Shift in pixels (x right, y down). */
  tx: number;
  ty: number;
  scale: number;
  /** Shear angle along x, degrees. */
  shear: number;
}

/**
 * The inverse map (output pixel → source coordinates) of the forward warp
 * dst = C + T + A·(src − C), A = R(θ)·s·Sh(φ), about the center C = ((w−1)/2, (h−1)/2).
 * Positive angles turn the image counter-clockwise on screen (y points down), as in
 * torchvision's RandomAffine.
 */
export function warpMatrix(warp: Warp, h: number, w: number): AffineMatrix {
  const t = (warp.degrees * Math.PI) / 180;
  const sh = Math.tan((warp.shear * Math.PI) / 180);
  const [cos, sin] = [Math.cos(t), Math.sin(t)];
  // A = [[cos, sin], [−sin, cos]] · s · [[1, sh], [0, 1]]
  const a = warp.scale * cos;
  const b = warp.scale * (cos * sh + sin);
  const d = -warp.scale * sin;
  const e = warp.scale * (cos - sin * sh);
  const det = a * e - b * d;
  const [ia, ib, id, ie] = [e / det, -b / det, -d / det, a / det];
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const px = cx + warp.tx;
  const py = cy + warp.ty;
  return [ia, ib, cx - (ia * px + ib * py), id, ie, cy - (id * px + ie * py)];
}

const warpBase = {
  mode: borderMode.default('constant'),
  /** The value outside the image in 'constant' mode. */
  fill: z.number().default(0),
  p: probability.default(1),
};

export const affineSchema = z.strictObject({
  /** Rotation in degrees: v means uniform in [−v, v]; or [low, high]. */
  degrees: rangeLike().default(0),
  /** Largest shift as a fraction of [width, height]: uniform in [−fx·w, fx·w] and [−fy·h, fy·h]. */
  translate: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).default([0, 0]),
  /** Zoom factor range [low, high] (> 1 enlarges). */
  scale: interval.refine((v) => v[0] > 0, { message: 'scale factors must be > 0' }).default([1, 1]),
  /** Shear along x in degrees: v means [−v, v]; or [low, high]. */
  shear: rangeLike().default(0),
  ...warpBase,
});
export type AffineConfig = z.input<typeof affineSchema>;

type AffineParams = z.output<typeof affineSchema>;

/** Random affine warps (rotation, translation, zoom, shear) with bilinear interpolation. */
export class RandomAffine extends BaseAugmentation<object> {
  readonly name: string;
  private readonly params: AffineParams;

  /** @internal rotate(), translate() and zoom() are RandomAffine under their own names and configs. */
  constructor(config: AffineConfig = {}, name = 'affine', own?: object) {
    const params = parseConfig('affine', affineSchema, config);
    super(own ?? params);
    this.params = params;
    this.name = name;
    if (Math.abs(symmetric(params.shear)[0]) >= 90 || Math.abs(symmetric(params.shear)[1]) >= 90) {
      throw new ArgumentError(`${name}: shear must stay within (−90°, 90°), got ${JSON.stringify(params.shear)}`);
    }
  }

  apply(batch: AugmentBatch, rng: Rng): AugmentBatch {
    const { n, h, w } = dims(this.name, batch.x);
    const { degrees, translate, scale, shear, mode, fill, p } = this.params;
    const [dr, sr] = [symmetric(degrees), symmetric(shear)];
    const matrices: (AffineMatrix | null)[] = [];
    for (let i = 0; i < n; i++) {
      if (!chance(rng, p)) {
        matrices.push(null);
        continue;
      }
      const warp = {
        degrees: uniform(rng, dr),
        tx: uniform(rng, [-translate[0] * w, translate[0] * w]),
        ty: uniform(rng, [-translate[1] * h, translate[1] * h]),
        scale: uniform(rng, scale),
        shear: uniform(rng, sr),
      };
      matrices.push(warpMatrix(warp, h, w));
    }
    if (matrices.every((m) => m === null)) return batch;
    return withImages(batch, resampleAffine(batch.x, matrices, { mode, fill }));
  }
}

export const rotateSchema = z.strictObject({ degrees: rangeLike().default(15), ...warpBase });
export const translateSchema = z.strictObject({
  /** Largest shift as a fraction of the width / height. */
  x: z.number().min(0).max(1).default(0.1),
  y: z.number().min(0).max(1).default(0.1),
  ...warpBase,
});
export const zoomSchema = z.strictObject({ scale: interval.refine((v) => v[0] > 0, { message: 'scale factors must be > 0' }).default([0.9, 1.1]), ...warpBase });
export type RotateConfig = z.input<typeof rotateSchema>;
export type TranslateConfig = z.input<typeof translateSchema>;
export type ZoomConfig = z.input<typeof zoomSchema>;

/** Random rotation by an angle uniform in [−degrees, degrees] (or [low, high]). */
export function rotate(config: RotateConfig = {}): RandomAffine {
  const c = parseConfig('rotate', rotateSchema, config);
  const { degrees, ...rest } = c;
  return new RandomAffine({ degrees, ...rest }, 'rotate', c);
}

/** Random translation by up to a fraction of the size, sub-pixel (bilinear). */
export function translate(config: TranslateConfig = {}): RandomAffine {
  const c = parseConfig('translate', translateSchema, config);
  const { x, y, ...rest } = c;
  return new RandomAffine({ translate: [x, y], ...rest }, 'translate', c);
}

/** Random zoom about the center by a factor uniform in [low, high]. */
export function zoom(config: ZoomConfig = {}): RandomAffine {
  const c = parseConfig('zoom', zoomSchema, config);
  const { scale, ...rest } = c;
  return new RandomAffine({ scale, ...rest }, 'zoom', c);
}

// ---------------------------------------------------------------- random resized crop

export const randomResizedCropSchema = z.strictObject({
  /** Output [height, width] (or one number). */
  size: sizeLike,
  /** Range of the crop's area as a fraction of the image's. */
  scale: interval.refine((v) => v[0] > 0 && v[1] <= 1, { message: 'area fractions must be in (0, 1]' }).default([0.08, 1]),
  /** Range of the crop's aspect ratio (width / height), drawn log-uniformly. */
  ratio: interval.refine((v) => v[0] > 0, { message: 'ratios must be > 0' }).default([3 / 4, 4 / 3]),
  /** Probability of a random crop per sample; the others are resized whole. */
  p: probability.default(1),
});
export type RandomResizedCropConfig = z.input<typeof randomResizedCropSchema>;

/**
 * A crop of random area and aspect ratio, resized to `size` with bilinear interpolation
 * (Szegedy et al. 2015, "Going deeper with convolutions"; the sampling of torchvision's
 * RandomResizedCrop: 10 tries, then a central crop). No antialiasing when shrinking.
 */
export class RandomResizedCrop extends BaseAugmentation<z.output<typeof randomResizedCropSchema>> {
  readonly name = 'randomResizedCrop';

  constructor(config: RandomResizedCropConfig) {
    super(parseConfig('randomResizedCrop', randomResizedCropSchema, config));
  }

  apply(batch: AugmentBatch, rng: Rng): AugmentBatch {
    const { n, h, w } = dims(this.name, batch.x);
    const [oh, ow] = sizePair(this.config.size);
    const matrices: AffineMatrix[] = [];
    for (let i = 0; i < n; i++) {
      const [top, left, ch, cw] = chance(rng, this.config.p) ? this.box(rng, h, w) : [0, 0, h, w];
      // Half-pixel centers (align_corners = false): output pixel X covers source
      // [left + X·cw/ow, left + (X + 1)·cw/ow).
      const sx = cw / ow;
      const sy = ch / oh;
      matrices.push([sx, 0, left + 0.5 * sx - 0.5, 0, sy, top + 0.5 * sy - 0.5]);
    }
    return withImages(batch, resampleAffine(batch.x, matrices, { size: [oh, ow], mode: 'edge' }));
  }

  private box(rng: Rng, h: number, w: number): [number, number, number, number] {
    const { scale, ratio } = this.config;
    const area = h * w;
    const logRatio: [number, number] = [Math.log(ratio[0]), Math.log(ratio[1])];
    for (let attempt = 0; attempt < 10; attempt++) {
      const target = area * uniform(rng, scale);
      const aspect = Math.exp(uniform(rng, logRatio));
      const cw = Math.round(Math.sqrt(target * aspect));
      const ch = Math.round(Math.sqrt(target / aspect));
      if (cw > 0 && ch > 0 && cw <= w && ch <= h) return [rng.int(h - ch + 1), rng.int(w - cw + 1), ch, cw];
    }
    // Fallback: the largest central crop with the ratio clamped into range.
    const inRatio = w / h;
    let cw = w;
    let ch = h;
    if (inRatio < ratio[0]) ch = Math.round(w / ratio[0]);
    else if (inRatio > ratio[1]) cw = Math.round(h * ratio[1]);
    return [Math.floor((h - ch) / 2), Math.floor((w - cw) / 2), ch, cw];
  }
}
