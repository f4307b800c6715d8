// The exports of the AssemblyScript kernels (assembly/index.ts). Pointers are byte offsets
// into the engine's memory; shapes and strides of strided kernels are passed as i32 arrays
// in memory. Keep this list in step with assembly/: test/kernels.test.ts checks that both
// builds export every name here.

/** Unary op codes (assembly/elementwise.ts). */
export enum Unary {
  Neg = 0, Exp = 1, Log = 2, Sqrt = 3, Abs = 4, Relu = 5, LeakyRelu = 6, Elu = 7,
  Sigmoid = 8, Tanh = 9, Pow = 10, Scale = 11, AddScalar = 12, Sign = 13,
}

/** Binary op codes (assembly/elementwise.ts); comparisons give 1 or 0. */
export enum Binary {
  Add = 0, Sub = 1, Mul = 2, Div = 3, Max = 4, Min = 5, Pow = 6,
  Eq = 7, Ne = 8, Lt = 9, Le = 10, Gt = 11, Ge = 12,
}

export enum Reduce { Sum = 0, Max = 1, Min = 2 }

export interface Kernels {
  heapBase(): number;
  // assembly/gemm.ts — C(m×n) = op(A)·op(B) (+ C when accumulate), row-major.
  gemm(transA: number, transB: number, m: number, n: number, k: number, a: number, lda: number,
    b: number, ldb: number, c: number, ldc: number, accumulate: number, scratch: number): void;
  gemmScratchBytes(): number;
  // Shared packing for a product split over threads: op(A) (side 0) or op(B) (side 1) packed
  // whole by strips, then blocks of C's tiles computed from the packed buffers.
  gemmPackedBytes(side: number, m: number, n: number, k: number): number;
  gemmPack(side: number, trans: number, rows: number, k: number, src: number, ld: number, first: number, count: number, dst: number): void;
  gemmTiles(m: number, n: number, k: number, packedA: number, packedB: number, c: number, ldc: number, accumulate: number,
    i0: number, i1: number, j0: number, j1: number, tile: number): void;
  // assembly/elementwise.ts
  fill(out: number, n: number, value: number): void;
  unary(op: number, x: number, out: number, n: number, alpha: number): void;
  unaryGrad(op: number, x: number, y: number, g: number, out: number, n: number, alpha: number): void;
  /** out = op(x + bias[c]) over [rows, cols] (bias 0: none), for Relu, LeakyRelu, Elu, Sigmoid, Tanh. */
  biasUnary(op: number, x: number, bias: number, out: number, rows: number, cols: number, alpha: number): void;
  binary(op: number, a: number, b: number, out: number, ndim: number, shape: number, aStrides: number, bStrides: number): void;
  where(c: number, a: number, b: number, out: number, ndim: number, shape: number, cStrides: number, aStrides: number, bStrides: number): void;
  axpby(n: number, alpha: number, x: number, beta: number, y: number, out: number): void;
  // assembly/shape.ts
  stridedCopy(src: number, dst: number, ndim: number, shape: number, srcStrides: number, dstStrides: number, accumulate: number): void;
  gather(x: number, idx: number, out: number, outer: number, axisLen: number, inner: number, nIdx: number): void;
  scatterAdd(g: number, idx: number, out: number, outer: number, axisLen: number, inner: number, nIdx: number): void;
  // assembly/reduce.ts — x viewed as [outer, r, inner], out as [outer, inner].
  reduce(op: number, x: number, out: number, outer: number, r: number, inner: number): void;
  moments(x: number, mean: number, variance: number, rows: number, cols: number): void;
  // assembly/norm.ts — batch normalization: out = a·x + b·y + k per channel (y = 0: a·x + k);
  // per-channel Σg and Σg·(x − mean) into sums[0, cols) and sums[cols, 2·cols).
  channelLinear(x: number, y: number, out: number, a: number, b: number, k: number, rows: number, cols: number): void;
  channelSums(x: number, g: number, mean: number, sums: number, rows: number, cols: number): void;
  // assembly/softmax.ts — row-wise over the last axis.
  softmax(x: number, out: number, rows: number, cols: number, log: number): void;
  softmaxGrad(y: number, g: number, out: number, rows: number, cols: number, log: number): void;
  softmaxCrossEntropy(logits: number, labels: number, probs: number, losses: number, rows: number, cols: number): void;
  softmaxCrossEntropyGrad(probs: number, labels: number, scale: number, out: number, rows: number, cols: number): void;
  // assembly/conv.ts — NHWC images, HWIO filters.
  im2col(x: number, cols: number, n: number, h: number, w: number, c: number, kh: number, kw: number,
    oh: number, ow: number, sh: number, sw: number, pt: number, pl: number, dh: number, dw: number): void;
  col2im(cols: number, dx: number, n: number, h: number, w: number, c: number, kh: number, kw: number,
    oh: number, ow: number, sh: number, sw: number, pt: number, pl: number, dh: number, dw: number): void;
  maxPool(x: number, out: number, argmax: number, n: number, h: number, w: number, c: number, kh: number, kw: number,
    oh: number, ow: number, sh: number, sw: number, pt: number, pl: number, base: number): void;
  // Convolution a chunk of images at a time (im2col into scratch, then GEMM); the geometry
  // list after n is im2col's, then co and a scratch of convScratchBytes(oh, ow, depth).
  convScratchBytes(oh: number, ow: number, depth: number): number;
  conv2dForward(x: number, filter: number, out: number, n: number, h: number, w: number, c: number, kh: number, kw: number,
    oh: number, ow: number, sh: number, sw: number, pt: number, pl: number, dh: number, dw: number, co: number, scratch: number): void;
  conv2dFilterGrad(x: number, g: number, dfilter: number, n: number, h: number, w: number, c: number, kh: number, kw: number,
    oh: number, ow: number, sh: number, sw: number, pt: number, pl: number, dh: number, dw: number, co: number, group: number, scratch: number): void;
  conv2dInputGrad(g: number, filter: number, dx: number, n: number, h: number, w: number, c: number, kh: number, kw: number,
    oh: number, ow: number, sh: number, sw: number, pt: number, pl: number, dh: number, dw: number, co: number, scratch: number): void;
  // Direct convolution (SIMD builds; dilation 1, co % 8 == 0), no column matrix.
  convDirectScratchBytes(oh: number, ow: number, sh: number, sw: number, kh: number, kw: number, c: number, co: number): number;
  convDirect(x: number, filter: number, out: number, n: number, h: number, w: number, c: number, kh: number, kw: number,
    oh: number, ow: number, sh: number, sw: number, pt: number, pl: number, co: number, scratch: number): void;
  convDirectFilterGrad(x: number, g: number, dfilter: number, n: number, h: number, w: number, c: number, kh: number, kw: number,
    oh: number, ow: number, sh: number, sw: number, pt: number, pl: number, co: number, group: number, scratch: number): void;
  convFlipFilter(filter: number, out: number, kh: number, kw: number, c: number, co: number): void;
  maxPoolGrad(g: number, argmax: number, dx: number, n: number, h: number, w: number, c: number, oh: number, ow: number, base: number): void;
  avgPool(x: number, out: number, n: number, h: number, w: number, c: number, kh: number, kw: number,
    oh: number, ow: number, sh: number, sw: number, pt: number, pl: number): void;
  avgPoolGrad(g: number, dx: number, n: number, h: number, w: number, c: number, kh: number, kw: number,
    oh: number, ow: number, sh: number, sw: number, pt: number, pl: number): void;
  // assembly/depthwise.ts — depthwise convolution (multiplier 1), split by rows of the batch.
  depthwiseForward(x: number, w: number, out: number, first: number, count: number, h: number, wd: number, c: number, kh: number, kw: number,
    oh: number, ow: number, sh: number, sw: number, pt: number, pl: number, dh: number, dw: number): void;
  depthwiseInputGrad(g: number, w: number, dx: number, first: number, count: number, h: number, wd: number, c: number, kh: number, kw: number,
    oh: number, ow: number, sh: number, sw: number, pt: number, pl: number, dh: number, dw: number): void;
  depthwiseFilterGrad(x: number, g: number, partials: number, first: number, count: number, group: number, rows: number,
    h: number, wd: number, c: number, kh: number, kw: number, oh: number, ow: number, sh: number, sw: number, pt: number, pl: number, dh: number, dw: number): void;
  // assembly/optim.ts — fused optimizer updates (state updated in place, direction to out).
  adamUpdate(n: number, g: number, m: number, v: number, out: number,
    b1: number, a1: number, b2: number, a2: number, c1: number, c2: number, eps: number): void;
  momentumUpdate(n: number, g: number, buf: number, out: number, mu: number, k: number, nesterov: number): void;
  rmspropUpdate(n: number, g: number, v: number, avg: number, buf: number, out: number,
    decay: number, a: number, eps: number, mu: number, centered: number, momentum: number): void;
  adagradUpdate(n: number, g: number, acc: number, out: number, eps: number): void;
  clipByValue(n: number, x: number, out: number, lo: number, hi: number): void;
  dotF64(n: number, x: number, y: number): number;
  // assembly/augment.ts — NHWC image batches, per-sample parameters as small arrays (packages/augment).
  augWindow(x: number, out: number, n: number, h: number, w: number, c: number, oh: number, ow: number,
    params: number, mode: number, value: number): void;
  augAffine(x: number, out: number, n: number, h: number, w: number, c: number, oh: number, ow: number,
    params: number, mode: number, value: number): void;
  augColor(x: number, out: number, n: number, hw: number, c: number, params: number, lo: number, hi: number): void;
  augBlur(x: number, out: number, tmp: number, n: number, h: number, w: number, c: number, r: number, params: number): void;
  augPatch(x: number, out: number, h: number, w: number, c: number, rects: number, count: number, mode: number, value: number, seed: number): void;
  augNoise(x: number, out: number, n: number, hw: number, c: number, params: number, seeds: number): void;
  augBlend(a: number, b: number, out: number, n: number, size: number, perm: number, lam: number): void;
}

/** Every kernel name, for the check that both builds export all of them. */
export const KERNEL_NAMES: readonly (keyof Kernels)[] = [
  'heapBase', 'gemm', 'gemmScratchBytes', 'gemmPackedBytes', 'gemmPack', 'gemmTiles', 'fill', 'unary', 'unaryGrad', 'biasUnary', 'binary', 'where', 'axpby',
  'stridedCopy', 'gather', 'scatterAdd', 'reduce', 'moments', 'channelLinear', 'channelSums', 'softmax', 'softmaxGrad',
  'softmaxCrossEntropy', 'softmaxCrossEntropyGrad', 'im2col', 'col2im', 'maxPool', 'maxPoolGrad',
  'convScratchBytes', 'conv2dForward', 'conv2dFilterGrad', 'conv2dInputGrad',
  'convDirectScratchBytes', 'convDirect', 'convDirectFilterGrad', 'convFlipFilter',
  'avgPool', 'avgPoolGrad', 'depthwiseForward', 'depthwiseInputGrad', 'depthwiseFilterGrad',
  'adamUpdate', 'momentumUpdate', 'rmspropUpdate', 'adagradUpdate', 'clipByValue', 'dotF64',
  'augWindow', 'augAffine', 'augColor', 'augBlur', 'augPatch', 'augNoise', 'augBlend',
];
