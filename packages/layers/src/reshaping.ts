// Layers that move, pad or resample values without parameters: zero padding, upsampling,
// resizing, rescaling, reshape and permute — what imported networks and input adapters need.
import {
  ShapeError, type Tensor, add, broadcastTo, gather, matmul, mul, pad, reshape, tensor, transpose,
} from '@minibatch/core';
import { z } from '@minibatch/registry';
import { imageShape } from './conv.js';
import { Module } from './module.js';
import { fmtShape, intPair, pair, parseConfig, positiveInt, sizeOf, type Pair } from './util.js';

const label = { label: z.string().optional() };
const nonNeg = z.number().int().min(0);

export const zeroPadding2dSchema = z.strictObject({
  /** n (every side), [h, w] (top and bottom, left and right), or [[top, bottom], [left, right]]. */
  padding: z.union([nonNeg, z.tuple([nonNeg, nonNeg]), z.tuple([z.tuple([nonNeg, nonNeg]), z.tuple([nonNeg, nonNeg])])], {
    error: 'an integer ≥ 0, [height, width], or [[top, bottom], [left, right]]',
  }).default(1),
  ...label,
});

/** Zeros around NHWC images (Keras ZeroPadding2D): [n, h, w, c] → [n, h + t + b, w + l + r, c]. */
export class ZeroPadding2d extends Module {
  readonly name = 'zeroPadding2d';
  readonly padding: [[number, number], [number, number]];

  constructor(config: z.input<typeof zeroPadding2dSchema> = {}) {
    const c = parseConfig('layer', 'zeroPadding2d', zeroPadding2dSchema, config);
    super(c);
    const p = c.padding;
    this.padding = typeof p === 'number' ? [[p, p], [p, p]] : typeof p[0] === 'number' ? [[p[0], p[0]], [p[1] as number, p[1] as number]] : (p as [[number, number], [number, number]]);
  }

  outputShape(inputShape: readonly number[]): number[] {
    const [h, w, c] = imageShape(this.name, inputShape);
    const [[t, b], [l, r]] = this.padding;
    return [h + t + b, w + l + r, c];
  }

  forward(x: Tensor): Tensor {
    this.outputShape(x.shape.slice(1));
    return pad(x, [[0, 0], this.padding[0], this.padding[1], [0, 0]]);
  }

  protected override layerConfig(): Record<string, unknown> {
    return { padding: this.padding };
  }
}

export const upSampling2dSchema = z.strictObject({
  size: intPair.default(2),
  /** Only 'nearest' (each pixel repeated); Resizing does bilinear. */
  interpolation: z.literal('nearest').default('nearest'),
  ...label,
});

/** Each pixel repeated size[0] × size[1] times (Keras UpSampling2D, nearest). */
export class UpSampling2d extends Module {
  readonly name = 'upSampling2d';
  readonly size: Pair;

  constructor(config: z.input<typeof upSampling2dSchema> = {}) {
    const c = parseConfig('layer', 'upSampling2d', upSampling2dSchema, config);
    super(c);
    this.size = pair(c.size);
  }

  outputShape(inputShape: readonly number[]): number[] {
    const [h, w, c] = imageShape(this.name, inputShape);
    return [h * this.size[0], w * this.size[1], c];
  }

  forward(x: Tensor): Tensor {
    const [h, w, c] = imageShape(this.name, x.shape.slice(1));
    const [sh, sw] = this.size;
    const n = x.shape[0];
    return reshape(broadcastTo(reshape(x, [n, h, 1, w, 1, c]), [n, h, sh, w, sw, c]), [n, h * sh, w * sw, c]);
  }

  protected override layerConfig(): Record<string, unknown> {
    return { size: this.size, interpolation: 'nearest' };
  }
}

export const resizingSchema = z.strictObject({
  height: positiveInt,
  width: positiveInt,
  interpolation: z.enum(['bilinear', 'nearest']).default('bilinear'),
  ...label,
});

/**
 * Source rows of an n → m resize: bilinear with half-pixel centers (TF2's resize and Keras
 * Resizing; PyTorch's align_corners=False) as an [m, n] matrix, or nearest as indices.
 */
function bilinearMatrix(n: number, m: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let y = 0; y < m; y++) {
    const src = Math.min(Math.max((y + 0.5) * (n / m) - 0.5, 0), n - 1);
    const y0 = Math.floor(src);
    const y1 = Math.min(y0 + 1, n - 1);
    const f = src - y0;
    out[y * n + y0] += 1 - f;
    out[y * n + y1] += f;
  }
  return out;
}

function nearestIndices(n: number, m: number): number[] {
  return Array.from({ length: m }, (_, y) => Math.min(Math.floor((y + 0.5) * (n / m)), n - 1));
}

/**
 * Images resized to height × width (Keras Resizing): bilinear, as two products with
 * interpolation matrices (one per axis; gradients flow through), or nearest, as gathers.
 *
 * @example
 * new Resizing({ height: 96, width: 96 });   // [n, 28, 28, 1] → [n, 96, 96, 1]
 */
export class Resizing extends Module {
  readonly name = 'resizing';
  readonly height: number;
  readonly width: number;
  readonly interpolation: 'bilinear' | 'nearest';

  constructor(config: z.input<typeof resizingSchema>) {
    const c = parseConfig('layer', 'resizing', resizingSchema, config);
    super(c);
    this.height = c.height;
    this.width = c.width;
    this.interpolation = c.interpolation;
  }

  outputShape(inputShape: readonly number[]): number[] {
    const [, , c] = imageShape(this.name, inputShape);
    return [this.height, this.width, c];
  }

  forward(x: Tensor): Tensor {
    const [h, w, c] = imageShape(this.name, x.shape.slice(1));
    const n = x.shape[0];
    const [H, W] = [this.height, this.width];
    if (this.interpolation === 'nearest') return gather(gather(x, nearestIndices(h, H), 1), nearestIndices(w, W), 2);
    // Rows: [H, h] · x as [h, n·w·c]; then columns: [W, w] · that as [w, H·n·c].
    const rows = reshape(matmul(tensor(bilinearMatrix(h, H), [H, h]), reshape(transpose(x, [1, 0, 2, 3]), [h, n * w * c])), [H, n, w, c]);
    const cols = matmul(tensor(bilinearMatrix(w, W), [W, w]), reshape(transpose(rows, [2, 0, 1, 3]), [w, H * n * c]));
    return transpose(reshape(cols, [W, H, n, c]), [2, 1, 0, 3]);
  }

  protected override layerConfig(): Record<string, unknown> {
    return { height: this.height, width: this.width, interpolation: this.interpolation };
  }
}

export const rescalingSchema = z.strictObject({ scale: z.number(), offset: z.number().default(0), ...label });

/** x · scale + offset (Keras Rescaling): e.g. scale 1/127.5, offset −1 maps [0, 255] to [−1, 1]. */
export class Rescaling extends Module {
  readonly name = 'rescaling';
  readonly scale: number;
  readonly offset: number;

  constructor(config: z.input<typeof rescalingSchema>) {
    const c = parseConfig('layer', 'rescaling', rescalingSchema, config);
    super(c);
    this.scale = c.scale;
    this.offset = c.offset;
  }

  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  forward(x: Tensor): Tensor {
    const scaled = this.scale === 1 ? x : mul(x, this.scale);
    return this.offset === 0 ? scaled : add(scaled, this.offset);
  }

  protected override layerConfig(): Record<string, unknown> {
    return { scale: this.scale, offset: this.offset };
  }
}

const perChannel = z.union([z.number(), z.array(z.number()).min(1)]);
export const normalizationSchema = z.strictObject({
  /** One number, or one per channel (the last axis). */
  mean: perChannel,
  /** One number > 0, or one per channel. */
  variance: perChannel.refine((v) => (Array.isArray(v) ? v : [v]).every((x) => x > 0), 'variances must be > 0'),
  ...label,
});

/**
 * (x − mean) / √variance per channel, with fixed statistics (Keras Normalization, adapted
 * beforehand): the input normalization a pretrained network expects, kept inside the model.
 *
 * @example
 * new Normalization({ mean: [122.78, 117.0, 104.3], variance: 255 ** 2 });  // face-api's input scaling
 */
export class Normalization extends Module {
  readonly name = 'normalization';
  readonly mean: number | number[];
  readonly variance: number | number[];

  constructor(config: z.input<typeof normalizationSchema>) {
    const c = parseConfig('layer', 'normalization', normalizationSchema, config);
    super(c);
    const counts = [c.mean, c.variance].filter(Array.isArray).map((v) => (v as number[]).length);
    if (counts.length === 2 && counts[0] !== counts[1]) throw new ShapeError(`normalization: ${counts[0]} means but ${counts[1]} variances`);
    this.mean = c.mean;
    this.variance = c.variance;
  }

  outputShape(inputShape: readonly number[]): number[] {
    const channels = inputShape[inputShape.length - 1];
    for (const v of [this.mean, this.variance]) {
      if (Array.isArray(v) && v.length !== channels) throw new ShapeError(`normalization: ${v.length} statistics for ${channels} channels (input ${fmtShape(inputShape)})`);
    }
    return [...inputShape];
  }

  forward(x: Tensor): Tensor {
    this.outputShape(x.shape.slice(1));
    const stat = (v: number | number[]): number | Tensor => (Array.isArray(v) ? tensor(v, [v.length]) : v);
    const inv = Array.isArray(this.variance) ? this.variance.map((v) => 1 / Math.sqrt(v)) : 1 / Math.sqrt(this.variance);
    return mul(add(x, mul(stat(this.mean), -1)), stat(inv));
  }

  protected override layerConfig(): Record<string, unknown> {
    return { mean: this.mean, variance: this.variance };
  }
}

export const reshapeSchema = z.strictObject({
  /** The per-sample shape; one entry may be -1 (inferred). */
  targetShape: z.array(z.number().int().min(-1).refine((d) => d !== 0, 'dimensions are positive, or -1 for one inferred')),
  ...label,
});

/** A new per-sample shape for the same values (Keras Reshape); the batch dimension stays. */
export class Reshape extends Module {
  readonly name = 'reshape';
  readonly targetShape: number[];

  constructor(config: z.input<typeof reshapeSchema>) {
    const c = parseConfig('layer', 'reshape', reshapeSchema, config);
    super(c);
    if (c.targetShape.filter((d) => d === -1).length > 1) throw new ShapeError(`reshape: at most one -1 in targetShape, got ${fmtShape(c.targetShape)}`);
    this.targetShape = c.targetShape;
  }

  outputShape(inputShape: readonly number[]): number[] {
    const size = sizeOf(inputShape);
    const known = sizeOf(this.targetShape.filter((d) => d !== -1));
    const out = this.targetShape.map((d) => (d === -1 ? size / known : d));
    if (!out.every((d) => Number.isInteger(d) && d > 0) || sizeOf(out) !== size) {
      throw new ShapeError(`reshape: cannot reshape samples of shape ${fmtShape(inputShape)} (${size} values) to ${fmtShape(this.targetShape)}`);
    }
    return out;
  }

  forward(x: Tensor): Tensor {
    return reshape(x, [x.shape[0], ...this.outputShape(x.shape.slice(1))]);
  }

  protected override layerConfig(): Record<string, unknown> {
    return { targetShape: this.targetShape };
  }
}

export const permuteSchema = z.strictObject({
  /** A permutation of the per-sample axes (0-based, batch not counted): [2, 0, 1] moves channels first. */
  axes: z.array(z.number().int().min(0)).min(1),
  ...label,
});

/** Permutes the per-sample axes (the batch stays first). */
export class Permute extends Module {
  readonly name = 'permute';
  readonly axes: number[];

  constructor(config: z.input<typeof permuteSchema>) {
    const c = parseConfig('layer', 'permute', permuteSchema, config);
    super(c);
    if ([...c.axes].sort((a, b) => a - b).some((v, i) => v !== i)) throw new ShapeError(`permute: axes ${fmtShape(c.axes)} are not a permutation of 0…${c.axes.length - 1}`);
    this.axes = c.axes;
  }

  outputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== this.axes.length) throw new ShapeError(`permute: axes ${fmtShape(this.axes)} need samples of rank ${this.axes.length}, got ${fmtShape(inputShape)}`);
    return this.axes.map((a) => inputShape[a]);
  }

  forward(x: Tensor): Tensor {
    this.outputShape(x.shape.slice(1));
    return transpose(x, [0, ...this.axes.map((a) => a + 1)]);
  }

  protected override layerConfig(): Record<string, unknown> {
    return { axes: this.axes };
  }
}
