// 2-D convolution and pooling on NHWC images (channels last, as CPU SIMD libraries use).
// Convolution is a GEMM of the column matrix (im2col) with the filter; its gradients are
// the two other products:
//   dW = colsᵀ · g        (TN)        dcols = g · Wᵀ  (NT), then col2im → dx.
// The kernels (assembly/conv.ts) never build the batch's whole column matrix: up to 32
// output channels they run directly on a zero-bordered copy of each image (and dx is then
// the direct convolution of g with the filter turned 180°, at stride 1); otherwise im2col +
// GEMM a chunk of images at a time, in L2-sized scratch.
import type { Engine } from '../engine.js';
import { ArgumentError, ShapeError, fmtShape } from '../errors.js';
import type { KernelName } from '../pool.js';
import { Tensor, empty, record } from '../tensor.js';
import { gemmRaw } from './matmul.js';
import { sum } from './reduce.js';
import { broadcastTo, reshape } from './shape.js';
import { inParts } from './util.js';

/** Most groups a batch's filter gradient is summed from (see conv2d's backward). */
const FILTER_GROUPS = 8;
/** Most output channels the direct convolution takes (beyond, im2col + the blocked GEMM wins). */
const DIRECT_MAX_CHANNELS = 32;

/** Multiply-adds a band of output rows should at least have (below, waking a worker costs more). */
const MIN_BAND_MACS = 1 << 18;

/**
 * Runs a convolution kernel that writes its output image by image (convDirect,
 * conv2dForward) over n images: in parts of whole images (inParts, `unitFloats` each), or —
 * when the batch has fewer images than threads, as in inference on one image — in bands of
 * output rows, so that every thread still gets work. A band is the same kernel on the whole
 * input image with fewer output rows and the top padding moved up by the rows before it
 * (pt − first·sh, negative past the padding), so each output is computed exactly as the
 * whole image computes it; an image of `macs` multiply-adds gets a band per MIN_BAND_MACS at
 * most. `args` gives the kernel's arguments for `count` images from input `x` to output
 * `out`, with `rows` output rows, top padding `pt` and workspace at `scratch`.
 */
function imagesOrBands(e: Engine, kernel: KernelName, n: number, x: number, inFloats: number, out: number, oh: number,
  rowFloats: number, unitFloats: number, macs: number, pt: number, sh: number, scratchBytes: number,
  args: (x: number, out: number, count: number, rows: number, pt: number, scratch: number) => number[]): void {
  const outFloats = oh * rowFloats;
  const bands = e.threads > n ? Math.min(oh, Math.ceil((2 * e.threads) / n), Math.floor(macs / MIN_BAND_MACS)) : 1;
  if (bands < 2) {
    inParts(e, kernel, n, unitFloats, (first, count, scratch) =>
      args(x + first * inFloats * 4, out + first * outFloats * 4, count, oh, pt, scratch), scratchBytes);
    return;
  }
  const per = Math.ceil(oh / bands);
  const bytes = Math.ceil(scratchBytes / 64) * 64; // a band needs no more workspace than its image
  const scratch = e.scratch(bytes * n * Math.ceil(oh / per));
  const parts: number[][] = [];
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy += per) {
      parts.push(args(x + b * inFloats * 4, out + (b * outFloats + oy * rowFloats) * 4, 1, Math.min(per, oh - oy), pt - oy * sh, scratch + parts.length * bytes));
    }
  }
  e.parallel(kernel, parts);
}

/** 'valid', 'same' (TF rules), one number for every side, or [[top, bottom], [left, right]]. */
export type Padding = 'valid' | 'same' | number | readonly [readonly [number, number], readonly [number, number]];

export interface Conv2dOptions {
  /** Stride [sh, sw] or one number (default 1). */
  strides?: number | readonly [number, number];
  padding?: Padding;
  /** Dilation [dh, dw] or one number (default 1). */
  dilations?: number | readonly [number, number];
}

export interface Pool2dOptions {
  /** Window [kh, kw] or one number. */
  size: number | readonly [number, number];
  /** Default: the window size. */
  strides?: number | readonly [number, number];
  padding?: Padding;
}

interface Geometry { oh: number; ow: number; pt: number; pl: number; sh: number; sw: number; dh: number; dw: number }

function pair(op: string, name: string, v: number | readonly [number, number] | undefined, fallback: number): [number, number] {
  const p: readonly number[] = v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : v;
  if (p.length !== 2 || !p.every((x) => Number.isInteger(x) && x > 0)) {
    throw new ArgumentError(`${op}: ${name} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`);
  }
  return [p[0], p[1]];
}

function geometry(op: string, h: number, w: number, kh: number, kw: number, strides: [number, number], dil: [number, number], padding: Padding = 'valid'): Geometry {
  const [sh, sw] = strides;
  const [dh, dw] = dil;
  const ekh = (kh - 1) * dh + 1;
  const ekw = (kw - 1) * dw + 1;
  let pt: number, pb: number, pl: number, pr: number;
  if (padding === 'valid') {
    pt = pb = pl = pr = 0;
  } else if (padding === 'same') {
    // TF: output = ceil(input / stride); the extra pixel of odd padding goes to the bottom/right.
    const totalH = Math.max((Math.ceil(h / sh) - 1) * sh + ekh - h, 0);
    const totalW = Math.max((Math.ceil(w / sw) - 1) * sw + ekw - w, 0);
    pt = Math.floor(totalH / 2);
    pb = totalH - pt;
    pl = Math.floor(totalW / 2);
    pr = totalW - pl;
  } else if (typeof padding === 'number') {
    pt = pb = pl = pr = padding;
  } else if (Array.isArray(padding) && padding.length === 2) {
    [[pt, pb], [pl, pr]] = padding;
  } else {
    throw new ArgumentError(`${op}: padding must be 'valid', 'same', a number or [[top, bottom], [left, right]], got ${JSON.stringify(padding)}`);
  }
  if (![pt, pb, pl, pr].every((p) => Number.isInteger(p) && p >= 0)) {
    throw new ArgumentError(`${op}: padding must be non-negative integers, got ${JSON.stringify(padding)}`);
  }
  const oh = Math.floor((h + pt + pb - ekh) / sh) + 1;
  const ow = Math.floor((w + pl + pr - ekw) / sw) + 1;
  if (oh <= 0 || ow <= 0) {
    throw new ShapeError(`${op}: a ${kh}×${kw} window${dh > 1 || dw > 1 ? ` (dilated to ${ekh}×${ekw})` : ''} does not fit a ${h}×${w} image with padding ${JSON.stringify(padding)}`);
  }
  return { oh, ow, pt, pl, sh, sw, dh, dw };
}

/**
 * Output height and width of a sliding window (convolution or pooling) over an h×w image,
 * as conv2d and the pooling ops compute it; a ShapeError naming `op` when it does not fit.
 * Lets layers know shapes before any tensor exists.
 *
 * @example
 * windowOutputSize('conv2d', 28, 28, [5, 5], { strides: 2, padding: 'same' }); // [14, 14]
 */
export function windowOutputSize(op: string, h: number, w: number, window: readonly [number, number],
  options: { strides?: number | readonly [number, number]; padding?: Padding; dilations?: number | readonly [number, number] } = {}): [number, number] {
  const geo = geometry(op, h, w, window[0], window[1], pair(op, 'strides', options.strides, 1), pair(op, 'dilations', options.dilations, 1), options.padding);
  return [geo.oh, geo.ow];
}

function checkImage(op: string, x: Tensor): void {
  if (x.rank !== 4) throw new ShapeError(`${op}: input must be NHWC [batch, height, width, channels], got ${fmtShape(x.shape)}`);
}

/**
 * 2-D convolution of NHWC images with an HWIO filter [kh, kw, inChannels, outChannels].
 *
 * @example
 * const y = conv2d(x, w, { strides: 1, padding: 'same' });  // x: [n, 28, 28, 1], w: [5, 5, 1, 8]
 */
export function conv2d(x: Tensor, filter: Tensor, options: Conv2dOptions = {}): Tensor {
  checkImage('conv2d', x);
  if (filter.rank !== 4) throw new ShapeError(`conv2d: filter must be [kh, kw, in, out], got ${fmtShape(filter.shape)}`);
  const [n, h, w, c] = x.shape;
  const [kh, kw, fc, co] = filter.shape;
  if (fc !== c) {
    throw new ShapeError(`conv2d: input ${fmtShape(x.shape)} has ${c} channels but filter ${fmtShape(filter.shape)} expects ${fc}`);
  }
  const strides = pair('conv2d', 'strides', options.strides, 1);
  const dil = pair('conv2d', 'dilations', options.dilations, 1);
  const geo = geometry('conv2d', h, w, kh, kw, strides, dil, options.padding);
  const { oh, ow } = geo;
  const rows = n * oh * ow;
  const depth = kh * kw * c;
  const args = [h, w, c, kh, kw, oh, ow, geo.sh, geo.sw, geo.pt, geo.pl, geo.dh, geo.dw, co] as const;
  const inFloats = h * w * c;
  const outFloats = oh * ow * co;
  const colFloats = oh * ow * depth; // one image's rows of the column matrix
  const e = x.engine;
  // A 1×1, stride-1, unpadded convolution needs no im2col: x already is the column matrix.
  const pointwise = kh === 1 && kw === 1 && geo.sh === 1 && geo.sw === 1 && geo.pt === 0 && geo.pl === 0 && oh === h && ow === w;
  // The direct kernels (no column matrix) take few output channels, in blocks of 8; the
  // input gradient is a direct convolution too (of g, with the filter turned) at stride 1.
  const undilated = e.build !== 'scalar' && geo.dh === 1 && geo.dw === 1 && !pointwise;
  const direct = undilated && co % 8 === 0 && co <= DIRECT_MAX_CHANNELS;
  const directDx = undilated && geo.sh === 1 && geo.sw === 1 && c % 8 === 0 && c <= DIRECT_MAX_CHANNELS;
  const directArgs = [h, w, c, kh, kw, oh, ow, geo.sh, geo.sw, geo.pt, geo.pl, co] as const;
  const directBytes = direct ? e.kernels.convDirectScratchBytes(oh, ow, geo.sh, geo.sw, kh, kw, c, co) : 0;
  const chunkBytes = (): number => e.kernels.convScratchBytes(oh, ow, depth);
  const out = empty([n, oh, ow, co]);
  if (out.size === 0 || depth === 0) e.kernels.fill(out.ptr, out.size, 0);
  else if (pointwise) gemmRaw(out, 0, x, 0, filter, 0, rows, co, depth, false, false, false);
  else if (direct) {
    imagesOrBands(e, 'convDirect', n, x.ptr, inFloats, out.ptr, oh, ow * co, outFloats * depth, outFloats * depth, geo.pt, geo.sh, directBytes,
      (xp, op, count, rowsOut, pt, scratch) => [xp, filter.ptr, op, count, h, w, c, kh, kw, rowsOut, ow, geo.sh, geo.sw, pt, geo.pl, co, scratch]);
  } else {
    imagesOrBands(e, 'conv2dForward', n, x.ptr, inFloats, out.ptr, oh, ow * co, colFloats, outFloats * depth, geo.pt, geo.sh, chunkBytes(),
      (xp, op, count, rowsOut, pt, scratch) => [xp, filter.ptr, op, count, h, w, c, kh, kw, rowsOut, ow, geo.sh, geo.sw, pt, geo.pl, geo.dh, geo.dw, co, scratch]);
  }
  return record('conv2d', out, [x, filter], (g) => {
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    if (filter.requiresGrad) {
      if (pointwise || rows === 0) {
        dw = empty(filter.shape);
        gemmRaw(dw, 0, x, 0, g, 0, depth, co, rows, true, false, false);
      } else {
        // Summed per group of images, then over the groups in order: the groups depend only
        // on n, so the result does not depend on how many threads share them.
        const group = Math.ceil(n / Math.min(n, FILTER_GROUPS));
        const groups = Math.ceil(n / group);
        const partials = empty([groups, kh, kw, c, co]);
        const size = depth * co;
        inParts(e, direct ? 'convDirectFilterGrad' : 'conv2dFilterGrad', groups, colFloats * group, (first, count, scratch) => [
          x.ptr + first * group * inFloats * 4, g.ptr + first * group * outFloats * 4, partials.ptr + first * size * 4,
          Math.min(count * group, n - first * group), ...(direct ? directArgs : args), group, scratch,
        ], direct ? directBytes : chunkBytes());
        dw = groups === 1 ? partials.reshape(filter.shape) : sum(partials, 0);
      }
    }
    if (x.requiresGrad) {
      dx = empty(x.shape);
      const dxPtr = dx.ptr;
      if (pointwise) {
        gemmRaw(dx, 0, g, 0, filter, 0, rows, depth, co, false, true, false);
      } else if (directDx) {
        // dx = g, padded by the kernel's reach less the forward padding, convolved with the
        // filter turned 180° and its channels swapped.
        const turned = empty([kh, kw, co, c]);
        e.kernels.convFlipFilter(filter.ptr, turned.ptr, kh, kw, c, co);
        const bytes = e.kernels.convDirectScratchBytes(h, w, 1, 1, kh, kw, co, c);
        imagesOrBands(e, 'convDirect', n, g.ptr, outFloats, dxPtr, h, w * c, inFloats * depth, inFloats * depth, kh - 1 - geo.pt, 1, bytes,
          (gp, dp, count, rowsOut, pt, scratch) => [gp, turned.ptr, dp, count, oh, ow, co, kh, kw, rowsOut, w, 1, 1, pt, kw - 1 - geo.pl, c, scratch]);
      } else {
        inParts(e, 'conv2dInputGrad', n, colFloats, (first, count, scratch) =>
          [g.ptr + first * outFloats * 4, filter.ptr, dxPtr + first * inFloats * 4, count, ...args, scratch], chunkBytes());
      }
    }
    return [dx, dw];
  });
}

/**
 * Depthwise 2-D convolution: every input channel convolved with its own filters, filter
 * [kh, kw, c, m] (m: depth multiplier); output [n, oh, ow, c·m], whose channel c·m + j comes
 * from input channel c (TF's layout). MobileNet-style networks are mostly this op and 1×1
 * convolutions.
 *
 * @example
 * const y = depthwiseConv2d(x, w, { strides: 2, padding: 'same' });  // x: [n, 112, 112, 96], w: [3, 3, 96, 1]
 */
export function depthwiseConv2d(x: Tensor, filter: Tensor, options: Conv2dOptions = {}): Tensor {
  checkImage('depthwiseConv2d', x);
  if (filter.rank !== 4) throw new ShapeError(`depthwiseConv2d: filter must be [kh, kw, channels, multiplier], got ${fmtShape(filter.shape)}`);
  const [n, h, w, c] = x.shape;
  const [kh, kw, fc, m] = filter.shape;
  if (fc !== c) throw new ShapeError(`depthwiseConv2d: input ${fmtShape(x.shape)} has ${c} channels but filter ${fmtShape(filter.shape)} expects ${fc}`);
  if (m !== 1) {
    // Channel c·m + j reads input channel c: repeat each channel m times, then multiplier 1.
    const repeated = reshape(broadcastTo(reshape(x, [n, h, w, c, 1]), [n, h, w, c, m]), [n, h, w, c * m]);
    return depthwiseConv2d(repeated, reshape(filter, [kh, kw, c * m, 1]), options);
  }
  const geo = geometry('depthwiseConv2d', h, w, kh, kw, pair('depthwiseConv2d', 'strides', options.strides, 1),
    pair('depthwiseConv2d', 'dilations', options.dilations, 1), options.padding);
  const { oh, ow } = geo;
  const args = [h, w, c, kh, kw, oh, ow, geo.sh, geo.sw, geo.pt, geo.pl, geo.dh, geo.dw] as const;
  const e = x.engine;
  const out = empty([n, oh, ow, c]);
  // Split by output rows of the whole batch, so one image splits too.
  inParts(e, 'depthwiseForward', n * oh, ow * c * kh * kw, (first, count) => [x.ptr, filter.ptr, out.ptr, first, count, ...args]);
  return record('depthwiseConv2d', out, [x, filter], (g) => {
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    if (x.requiresGrad) {
      const grad = empty(x.shape);
      inParts(e, 'depthwiseInputGrad', n * h, w * c * kh * kw, (first, count) => [g.ptr, filter.ptr, grad.ptr, first, count, ...args]);
      dx = grad;
    }
    if (filter.requiresGrad) {
      // Partial sums over fixed groups of output rows, added in order: the groups depend only
      // on the shape, so the result does not depend on how many threads share them.
      const rows = n * oh;
      const group = Math.ceil(rows / Math.min(rows, FILTER_GROUPS));
      const groups = Math.ceil(rows / group);
      const partials = empty([groups, kh, kw, c, 1]);
      inParts(e, 'depthwiseFilterGrad', groups, group * ow * c * kh * kw, (first, count) => [x.ptr, g.ptr, partials.ptr, first, count, group, rows, ...args]);
      dw = groups === 1 ? partials.reshape(filter.shape) : sum(partials, 0);
    }
    return [dx, dw];
  });
}

function poolSetup(op: string, x: Tensor, options: Pool2dOptions) {
  checkImage(op, x);
  const [n, h, w, c] = x.shape;
  const [kh, kw] = pair(op, 'size', options.size, 1);
  const strides = pair(op, 'strides', options.strides ?? options.size, 1);
  const geo = geometry(op, h, w, kh, kw, strides, [1, 1], options.padding);
  return { n, h, w, c, kh, kw, geo };
}

/** Max pooling; the gradient goes to the maximum of each window (padding never wins). */
export function maxPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  const { n, h, w, c, kh, kw, geo } = poolSetup('maxPool2d', x, options);
  const { oh, ow } = geo;
  const out = empty([n, oh, ow, c]);
  const argmax = empty([n, oh, ow, c]); // i32 indices, freed with the step's scope
  const inFloats = h * w * c;
  const outFloats = oh * ow * c;
  inParts(out.engine, 'maxPool', n, inFloats, (first, count) => [x.ptr + first * inFloats * 4, out.ptr + first * outFloats * 4,
    argmax.ptr + first * outFloats * 4, count, h, w, c, kh, kw, oh, ow, geo.sh, geo.sw, geo.pt, geo.pl, first * inFloats]);
  record('maxPool2d', out, [x], (g) => {
    const dx = empty(x.shape);
    inParts(dx.engine, 'maxPoolGrad', n, inFloats, (first, count) => [g.ptr + first * outFloats * 4, argmax.ptr + first * outFloats * 4,
      dx.ptr + first * inFloats * 4, count, h, w, c, oh, ow, first * inFloats]);
    return [dx];
  });
  if (out.node === null) argmax.dispose();
  return out;
}

/** Average pooling over the cells inside the image (padding is not counted, as in TF). */
export function avgPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  const { n, h, w, c, kh, kw, geo } = poolSetup('avgPool2d', x, options);
  const { oh, ow } = geo;
  const out = empty([n, oh, ow, c]);
  const args = [n, h, w, c, kh, kw, oh, ow, geo.sh, geo.sw, geo.pt, geo.pl] as const;
  out.engine.kernels.avgPool(x.ptr, out.ptr, ...args);
  return record('avgPool2d', out, [x], (g) => {
    const dx = empty(x.shape);
    dx.engine.kernels.avgPoolGrad(g.ptr, dx.ptr, ...args);
    return [dx];
  });
}
