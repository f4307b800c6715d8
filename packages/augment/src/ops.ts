// The deterministic operations under the random transforms: each takes a batch of NHWC
// images and one parameter record per sample, checks everything the kernel would trust,
// and runs one kernel of packages/core/assembly/augment.ts. They are public so that a user
// (or a test) can apply an exact flip, crop, warp or color map without any randomness.
import { ArgumentError, Tensor, empty } from '@minibatch/core';
import { BORDER_CODE, checkFinite, checkInt, dims, fmtShape, withArrays, type BorderMode } from './util.js';

export type { BorderMode };

/** Where a window of the source starts, and whether it is mirrored. */
export interface Window {
  /** Row of the source under the output's first row (negative: above the image, i.e. padding). */
  top: number;
  left: number;
  flipX?: boolean;
  flipY?: boolean;
}

export interface ResampleOptions {
  /** Output [height, width]; default the input's. */
  size?: readonly [number, number];
  /** What lies outside the image: the fill value, a mirror image (dcb|abcd), or the edge. Default 'constant'. */
  mode?: BorderMode;
  /** The value outside the image in 'constant' mode. Default 0. */
  fill?: number;
}

const MAX_OFFSET = 1 << 24;

function outSize(op: string, h: number, w: number, size: readonly [number, number] | undefined): [number, number] {
  if (size === undefined) return [h, w];
  const [oh, ow] = size;
  checkInt(op, 'size[0]', oh, 1, MAX_OFFSET);
  checkInt(op, 'size[1]', ow, 1, MAX_OFFSET);
  return [oh, ow];
}

function perSample<T>(op: string, what: string, list: readonly T[], n: number): void {
  if (!Array.isArray(list) || list.length !== n) throw new ArgumentError(`${op}: expected ${what} for each of the ${n} samples, got ${Array.isArray(list) ? list.length : typeof list}`);
}

function border(op: string, mode: BorderMode | undefined, fill: number | undefined): [number, number] {
  const m = mode ?? 'constant';
  if (!(m in BORDER_CODE)) throw new ArgumentError(`${op}: mode must be 'constant', 'reflect' or 'edge', got '${String(m)}'`);
  const f = fill ?? 0;
  if (!Number.isFinite(f)) throw new ArgumentError(`${op}: fill must be a finite number, got ${f}`);
  return [BORDER_CODE[m], f];
}

/**
 * Integer windows of each image — crops, padding, translations by whole pixels and flips —
 * in one pass: out[b, y, x] = x[b, top + y, left + x] (mirrored when flipped).
 *
 * @example
 * // A 28×28 crop of 32×32 images starting at row 2, column 4, the second one mirrored:
 * cropWindows(x, [{ top: 2, left: 4 }, { top: 2, left: 4, flipX: true }], { size: [28, 28] });
 */
export function cropWindows(x: Tensor, windows: readonly Window[], options: ResampleOptions = {}): Tensor {
  const op = 'cropWindows';
  const { n, h, w, c } = dims(op, x);
  perSample(op, 'a window', windows, n);
  const [oh, ow] = outSize(op, h, w, options.size);
  const [mode, fill] = border(op, options.mode, options.fill);
  const params = new Int32Array(n * 3);
  windows.forEach((win, b) => {
    checkInt(op, `windows[${b}].top`, win.top, -MAX_OFFSET, MAX_OFFSET);
    checkInt(op, `windows[${b}].left`, win.left, -MAX_OFFSET, MAX_OFFSET);
    params.set([win.top, win.left, (win.flipX ? 1 : 0) | (win.flipY ? 2 : 0)], b * 3);
  });
  const out = empty([n, oh, ow, c]);
  if (out.size > 0) withArrays([params], ([p]) => out.engine.kernels.augWindow(x.ptr, out.ptr, n, h, w, c, oh, ow, p, mode, fill));
  return out;
}

/**
 * An affine map per sample, from output pixel (X, Y) to source coordinates
 * (a·X + b·Y + tx, d·X + e·Y + ty), with pixel centers at integers (tf.image.transform's
 * convention, without the projective terms).
 */
export type AffineMatrix = readonly [a: number, b: number, tx: number, d: number, e: number, ty: number];

/**
 * Bilinear resampling of each image by its affine map (null: the image unchanged, which
 * needs the output size to be the input's). Translation, zoom, rotation, shear and resized
 * crops are all this op; integer source coordinates give the source values exactly.
 *
 * @example
 * // Shift every image half a pixel to the right, edges repeated:
 * resampleAffine(x, x.shape.slice(0, 1).flatMap(() => [[1, 0, -0.5, 0, 1, 0]]), { mode: 'edge' });
 */
export function resampleAffine(x: Tensor, matrices: readonly (AffineMatrix | null)[], options: ResampleOptions = {}): Tensor {
  const op = 'resampleAffine';
  const { n, h, w, c } = dims(op, x);
  perSample(op, 'a matrix (or null)', matrices, n);
  const [oh, ow] = outSize(op, h, w, options.size);
  const [mode, fill] = border(op, options.mode, options.fill);
  const params = new Float32Array(n * 7);
  matrices.forEach((m, b) => {
    if (m === null) {
      if (oh !== h || ow !== w) throw new ArgumentError(`${op}: sample ${b} has no matrix (copy), but the output size [${oh}, ${ow}] differs from the input's [${h}, ${w}]`);
      return;
    }
    if (m.length !== 6) throw new ArgumentError(`${op}: matrices[${b}] must have 6 numbers [a, b, tx, d, e, ty], got ${m.length}`);
    checkFinite(op, `matrices[${b}]`, m);
    params[b * 7] = 1;
    params.set(m, b * 7 + 1);
  });
  const out = empty([n, oh, ow, c]);
  if (out.size > 0) withArrays([params], ([p]) => out.engine.kernels.augAffine(x.ptr, out.ptr, n, h, w, c, oh, ow, p, mode, fill));
  return out;
}

/**
 * out = matrix · pixel + offset (+ (weights · x̄) · direction, x̄ the image's channel means)
 * for every pixel of a sample; matrix c×c row-major, the vectors c long.
 */
export interface ColorMap {
  matrix: ArrayLike<number>;
  offset: ArrayLike<number>;
  /** A term that depends on the image's mean (contrast blends toward it). */
  mean?: { weights: ArrayLike<number>; direction: ArrayLike<number> };
}

/**
 * A per-sample affine map of the channels of every pixel, clamped to `clip` (null: the
 * sample copied, unclamped). Brightness, contrast, saturation, hue and PCA lighting are maps
 * of this form (see colorJitter).
 *
 * @example
 * // Add 0.1 to every value of the first image, leave the second alone (1 channel):
 * colorTransform(x, [{ matrix: [1], offset: [0.1] }, null]);
 */
export function colorTransform(x: Tensor, maps: readonly (ColorMap | null)[], options: { clip?: readonly [number, number] | null } = {}): Tensor {
  const op = 'colorTransform';
  const { n, h, w, c } = dims(op, x);
  perSample(op, 'a color map (or null)', maps, n);
  const [lo, hi] = options.clip ?? [-Infinity, Infinity];
  if (!(lo <= hi)) throw new ArgumentError(`${op}: clip must be [low, high] with low ≤ high, got [${lo}, ${hi}]`);
  const stride = 1 + c * c + 3 * c;
  const params = new Float32Array(n * stride);
  maps.forEach((m, b) => {
    if (m === null) return;
    const mean = m.mean;
    if (m.matrix.length !== c * c || m.offset.length !== c || (mean !== undefined && (mean.weights.length !== c || mean.direction.length !== c))) {
      throw new ArgumentError(`${op}: maps[${b}] needs a ${c}×${c} matrix (${c * c} numbers) and vectors of ${c} numbers for ${c}-channel images`);
    }
    checkFinite(op, `maps[${b}].matrix`, m.matrix);
    checkFinite(op, `maps[${b}].offset`, m.offset);
    const at = b * stride;
    params[at] = mean === undefined ? 1 : 2;
    params.set(Array.from(m.matrix), at + 1);
    params.set(Array.from(m.offset), at + 1 + c * c);
    if (mean !== undefined) {
      checkFinite(op, `maps[${b}].mean`, [...Array.from(mean.weights), ...Array.from(mean.direction)]);
      params.set(Array.from(mean.direction), at + 1 + c * c + c);
      params.set(Array.from(mean.weights), at + 1 + c * c + 2 * c);
    }
  });
  const out = empty(x.shape);
  if (out.size > 0) withArrays([params], ([p]) => out.engine.kernels.augColor(x.ptr, out.ptr, n, h * w, c, p, lo, hi));
  return out;
}

/**
 * Separable filtering with one symmetric 1-D kernel per sample (odd length, the same for all;
 * null: copied), applied along rows then columns, with mirrored borders.
 *
 * @example
 * separableBlur(x, [gaussianKernel(1.0, 3), null]); // blur the first image, σ = 1, 7 taps
 */
export function separableBlur(x: Tensor, kernels: readonly (ArrayLike<number> | null)[]): Tensor {
  const op = 'separableBlur';
  const { n, h, w, c } = dims(op, x);
  perSample(op, 'a kernel (or null)', kernels, n);
  const taps = kernels.find((k) => k !== null)?.length ?? 1;
  if (taps % 2 !== 1) throw new ArgumentError(`${op}: kernels must have an odd number of taps, got ${taps}`);
  const params = new Float32Array(n * (taps + 1));
  kernels.forEach((k, b) => {
    if (k === null) return;
    if (k.length !== taps) throw new ArgumentError(`${op}: every kernel must have ${taps} taps (as the first), kernels[${b}] has ${k.length}`);
    checkFinite(op, `kernels[${b}]`, k);
    params[b * (taps + 1)] = 1;
    params.set(Array.from(k), b * (taps + 1) + 1);
  });
  const out = empty(x.shape);
  if (out.size === 0) return out;
  const tmp = empty([h, w, c]);
  try {
    withArrays([params], ([p]) => out.engine.kernels.augBlur(x.ptr, out.ptr, tmp.ptr, n, h, w, c, (taps - 1) / 2, p));
  } finally {
    tmp.dispose();
  }
  return out;
}

/** The normalized Gaussian exp(−k²/2σ²) at k = −radius…radius. */
export function gaussianKernel(sigma: number, radius: number): Float32Array {
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new ArgumentError(`gaussianKernel: sigma must be a positive number, got ${sigma}`);
  checkInt('gaussianKernel', 'radius', radius, 0, 1 << 12);
  const k = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let i = -radius; i <= radius; i++) total += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  return Float32Array.from(k, (v) => v / total);
}

/** A rectangle of one sample; `source` ≥ 0 takes it from that sample (cutmix), else it is filled. */
export interface Rect {
  sample: number;
  top: number;
  left: number;
  height: number;
  width: number;
  source?: number;
}

/**
 * Writes rectangles into a copy of the batch: filled with a value, with N(0, 1) noise
 * (`fill: 'normal'`, hashed from `seed`), or copied from another sample at the same place.
 *
 * @example
 * pasteRects(x, [{ sample: 0, top: 4, left: 4, height: 8, width: 8 }]);            // cutout
 * pasteRects(x, [{ sample: 0, top: 0, left: 0, height: 16, width: 16, source: 1 }]); // cutmix
 */
export function pasteRects(x: Tensor, rects: readonly Rect[], options: { fill?: number | 'normal'; seed?: number } = {}): Tensor {
  const op = 'pasteRects';
  const { n, h, w, c } = dims(op, x);
  const fill = options.fill ?? 0;
  if (fill !== 'normal' && !Number.isFinite(fill)) throw new ArgumentError(`${op}: fill must be a finite number or 'normal', got ${String(fill)}`);
  const list = new Int32Array(rects.length * 6);
  let count = 0;
  rects.forEach((r, j) => {
    checkInt(op, `rects[${j}].sample`, r.sample, 0, n - 1);
    checkInt(op, `rects[${j}].top`, r.top, 0, h);
    checkInt(op, `rects[${j}].left`, r.left, 0, w);
    checkInt(op, `rects[${j}].height`, r.height, 0, h - r.top);
    checkInt(op, `rects[${j}].width`, r.width, 0, w - r.left);
    if (r.source !== undefined) checkInt(op, `rects[${j}].source`, r.source, 0, n - 1);
    if (r.height === 0 || r.width === 0) return;
    list.set([r.sample, r.top, r.left, r.height, r.width, r.source ?? -1], count++ * 6);
  });
  const out = empty(x.shape);
  if (out.size === 0) return out;
  out.view().set(x.view());
  if (count > 0) {
    withArrays([list], ([p]) => out.engine.kernels.augPatch(x.ptr, out.ptr, h, w, c, p, count, fill === 'normal' ? 1 : 0,
      fill === 'normal' ? 0 : fill, (options.seed ?? 0) | 0));
  }
  return out;
}

/** Per-sample pixel noise: Gaussian (added, std), or salt-and-pepper (a fraction of pixels set to low/high). */
export type NoiseSpec =
  | { kind: 'gaussian'; std: number; clip?: readonly [number, number] | null }
  | { kind: 'saltAndPepper'; amount: number; low: number; high: number };

/**
 * Pixel noise per sample (null: copied), drawn inside the kernel from a counter-based hash of
 * the sample's seed, so the same seeds give the same noise in every build.
 */
export function pixelNoise(x: Tensor, specs: readonly (NoiseSpec | null)[], seeds: ArrayLike<number>): Tensor {
  const op = 'pixelNoise';
  const { n, h, w, c } = dims(op, x);
  perSample(op, 'a noise spec (or null)', specs, n);
  if (seeds.length !== n) throw new ArgumentError(`${op}: expected one seed per sample (${n}), got ${seeds.length}`);
  const params = new Float32Array(n * 4);
  specs.forEach((s, b) => {
    if (s === null) return;
    if (s.kind === 'gaussian') {
      const [lo, hi] = s.clip ?? [-Infinity, Infinity];
      if (!(s.std >= 0) || !Number.isFinite(s.std) || !(lo <= hi)) throw new ArgumentError(`${op}: specs[${b}] needs std ≥ 0 and clip low ≤ high`);
      params.set([1, s.std, lo, hi], b * 4);
    } else {
      if (!(s.amount >= 0 && s.amount <= 1)) throw new ArgumentError(`${op}: specs[${b}].amount must be in [0, 1], got ${s.amount}`);
      checkFinite(op, `specs[${b}] low/high`, [s.low, s.high]);
      params.set([2, s.amount, s.low, s.high], b * 4);
    }
  });
  const out = empty(x.shape);
  const seedArray = Int32Array.from(seeds, (v) => v | 0);
  if (out.size > 0) withArrays([params, seedArray], ([p, s]) => out.engine.kernels.augNoise(x.ptr, out.ptr, n, h * w, c, p, s));
  return out;
}

/**
 * out[i] = λᵢ·a[i] + (1 − λᵢ)·b[partners[i]] (mixup). `a` and `b` have the same shape
 * (any rank, samples along the first axis).
 */
export function blendSamples(a: Tensor, b: Tensor, partners: ArrayLike<number>, lambdas: ArrayLike<number>): Tensor {
  const op = 'blendSamples';
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new ArgumentError(`${op}: expected two Tensors`);
  if (a.rank < 1 || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ArgumentError(`${op}: a ${fmtShape(a.shape)} and b ${fmtShape(b.shape)} must have the same shape`);
  }
  const n = a.shape[0];
  if (partners.length !== n || lambdas.length !== n) throw new ArgumentError(`${op}: expected ${n} partners and ${n} lambdas, got ${partners.length} and ${lambdas.length}`);
  for (let i = 0; i < n; i++) checkInt(op, `partners[${i}]`, partners[i], 0, n - 1);
  checkFinite(op, 'lambdas', lambdas);
  const out = empty(a.shape);
  if (out.size > 0) {
    withArrays([Int32Array.from(partners), Float32Array.from(lambdas)], ([perm, lam]) =>
      out.engine.kernels.augBlend(a.ptr, b.ptr, out.ptr, n, a.size / n, perm, lam));
  }
  return out;
}
