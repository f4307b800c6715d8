// Convolution and pooling on NHWC images. Convolution is im2col + GEMM: each output pixel
// (n, oy, ox) becomes a row of KH·KW·C values ordered (ky, kx, c), so the HWIO filter
// reshaped to [KH·KW·C, Cout] multiplies it directly, and channels stay contiguous for
// memory.copy. col2im is its adjoint (adds overlapping windows back).
import { addRow } from './shape';
import { fill } from './elementwise';
import { gemm, gemmScratchBytes, madd, narrowStrip, storeRow } from './gemm';

// Convolution runs im2col + GEMM a chunk of images at a time, so the chunk's columns
// (rows × depth floats) are still in L2 when the GEMM reads them: over a whole batch the
// column matrix is megabytes, and streaming it through L3 halved the GEMM's speed
// (measured on the MNIST CNN's second layer: 16 vs 33 GFLOP/s).
const CHUNK_FLOATS: i32 = 1 << 16;

/** Images per chunk: at least one. */
@inline function chunkImages(oh: i32, ow: i32, depth: i32): i32 {
  return max(1, CHUNK_FLOATS / max(1, oh * ow * depth));
}

/** Bytes of one chunk's columns: the start of the workspace; GEMM's follows. */
@inline function chunkBytes(oh: i32, ow: i32, depth: i32): usize {
  return <usize>((chunkImages(oh, ow, depth) * oh * ow * depth * 4 + 63) & ~63);
}

/** Bytes of workspace the conv2d* kernels need (one chunk of columns, then GEMM's). */
export function convScratchBytes(oh: i32, ow: i32, depth: i32): i32 {
  return <i32>chunkBytes(oh, ow, depth) + gemmScratchBytes();
}

/** out [n, oh, ow, co] = the convolution of x [n, h, w, c] with filter [kh, kw, c, co]. */
export function conv2dForward(x: usize, filter: usize, out: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32,
  oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, co: i32, scratch: usize): void {
  const depth = kh * kw * c;
  const per = chunkImages(oh, ow, depth);
  const cols = scratch;
  const work = scratch + chunkBytes(oh, ow, depth);
  for (let b = 0; b < n; b += per) {
    const count = min(per, n - b);
    im2col(x + (<usize>(b * h * w * c) << 2), cols, count, h, w, c, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw);
    gemm(0, 0, count * oh * ow, co, depth, cols, depth, filter, co, out + (<usize>(b * oh * ow * co) << 2), co, 0, work);
  }
}

/**
 * Filter gradients over these n images, one per group of `group` images (the last may be
 * smaller), written to consecutive [kh, kw, c, co] blocks at dfilter: colsᵀ · g, chunk
 * after chunk, each chunk's product added in k order. Groups fixed by the caller, summed
 * afterwards in order, make the result independent of how groups are spread over threads.
 */
export function conv2dFilterGrad(x: usize, g: usize, dfilter: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32,
  oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, co: i32, group: i32, scratch: usize): void {
  const depth = kh * kw * c;
  const per = min(chunkImages(oh, ow, depth), group);
  const cols = scratch;
  const work = scratch + chunkBytes(oh, ow, depth);
  for (let g0 = 0; g0 < n; g0 += group) {
    const end = min(g0 + group, n);
    const out = dfilter + (<usize>((g0 / group) * depth * co) << 2);
    for (let b = g0; b < end; b += per) {
      const count = min(per, end - b);
      im2col(x + (<usize>(b * h * w * c) << 2), cols, count, h, w, c, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw);
      gemm(1, 0, depth, co, count * oh * ow, cols, depth, g + (<usize>(b * oh * ow * co) << 2), co, out, co, b > g0 ? 1 : 0, work);
    }
  }
}

/** dx [n, h, w, c] = the input gradient: g · filterᵀ scattered back by col2im, chunk by chunk. */
export function conv2dInputGrad(g: usize, filter: usize, dx: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32,
  oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, co: i32, scratch: usize): void {
  const depth = kh * kw * c;
  const per = chunkImages(oh, ow, depth);
  const cols = scratch;
  const work = scratch + chunkBytes(oh, ow, depth);
  for (let b = 0; b < n; b += per) {
    const count = min(per, n - b);
    gemm(0, 1, count * oh * ow, depth, co, g + (<usize>(b * oh * ow * co) << 2), co, filter, co, cols, depth, 0, work);
    col2im(cols, dx + (<usize>(b * h * w * c) << 2), count, h, w, c, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw);
  }
}

// Copies n floats. memory.copy is a call into the engine's runtime, which costs more
// than a short run (a kernel row of C = 1 … 64 channels), so runs below 256 floats are
// copied inline: whole vectors, then one last vector ending at n that may overlap the
// previous one (no scalar tail loop).
@inline function copyF32(dst: usize, src: usize, n: i32): void {
  if (ASC_FEATURE_SIMD && n >= 4 && n < 256) {
    const last = <usize>(n - 4) << 2;
    if (n <= 8) {
      v128.store(dst, v128.load(src));
    } else {
      for (let o: usize = 0; o < last; o += 16) v128.store(dst + o, v128.load(src + o));
    }
    v128.store(dst + last, v128.load(src + last));
    return;
  }
  if (n >= 32) {
    memory.copy(dst, src, <usize>n << 2);
    return;
  }
  for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

@inline function zeroF32(dst: usize, n: i32): void {
  if (n >= 32) {
    memory.fill(dst, 0, <usize>n << 2);
    return;
  }
  for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), 0);
}

// Direct convolution (dilation 1, output channels a multiple of 8): the window of an
// output pixel is kh runs of kw·C contiguous values in a zero-bordered copy of its image,
// so no column matrix is built at all; the product runs through the narrow GEMM's strip
// kernel (assembly/gemm.ts: narrowStrip), 16 or 8 output channels and 2 or 4 pixels of an
// output row at a time, the kh kernel rows as its segments. For the few channels of small
// CNNs this beats im2col + GEMM 2–4× (no columns written and read back; the padded image
// stays in L1).

/** Bytes of narrowStrip's tile for partial strips (4 × 8 or 2 × 16 floats). */
const STRIP_TILE_BYTES: i32 = 32 * 4;

/** Bytes of the padded image at the start of the direct kernels' workspace. */
@inline function paddedBytes(oh: i32, ow: i32, sh: i32, sw: i32, kh: i32, kw: i32, c: i32): i32 {
  return (((oh - 1) * sh + kh) * ((ow - 1) * sw + kw) * c * 4 + 63) & ~63;
}

/**
 * Bytes of workspace convDirect / convDirectFilterGrad need: a padded image, then the
 * filter broadcast to vectors when c = 1 (see pixelRow), then a strip tile.
 */
export function convDirectScratchBytes(oh: i32, ow: i32, sh: i32, sw: i32, kh: i32, kw: i32, c: i32, co: i32): i32 {
  return paddedBytes(oh, ow, sh, sw, kh, kw, c) + (c == 1 ? kh * kw * co * 16 : 0) + STRIP_TILE_BYTES;
}

/** Copies image x [h, w, c] into dst [hp, wp, c] with x's (iy, ix) at (iy + pt, ix + pl), zeros elsewhere. */
function padImage(x: usize, h: i32, w: i32, c: i32, dst: usize, hp: i32, wp: i32, pt: i32, pl: i32): void {
  memory.fill(dst, 0, <usize>(hp * wp * c) << 2);
  const ix0 = max(0, -pl), ix1 = min(w, wp - pl);
  if (ix1 <= ix0) return;
  const bytes = <usize>((ix1 - ix0) * c) << 2;
  for (let iy = max(0, -pt); iy < min(h, hp - pt); iy++) {
    memory.copy(dst + (<usize>(((iy + pt) * wp + ix0 + pl) * c) << 2), x + (<usize>((iy * w + ix0) * c) << 2), bytes);
  }
}

/**
 * out [n, oh, ow, co] = x [n, h, w, c] convolved with filter [kh, kw, c, co], directly
 * (co % 8 == 0; SIMD builds only — in the scalar build it does nothing, and callers use conv2dForward).
 */
export function convDirect(x: usize, filter: usize, out: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32,
  oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32, co: i32, scratch: usize): void {
  const hp = (oh - 1) * sh + kh, wp = (ow - 1) * sw + kw;
  const pad = scratch;
  const tile = scratch + <usize>(convDirectScratchBytes(oh, ow, sh, sw, kh, kw, c, co) - STRIP_TILE_BYTES);
  const pixStep = <usize>(sw * c) << 2;
  const rowStride = <usize>(wp * c) << 2;
  const byPixels = c == 1 && sw == 1 && ow >= 8;
  const table = pad + <usize>paddedBytes(oh, ow, sh, sw, kh, kw, c);
  if (byPixels) broadcastFilter(filter, table, kh * kw * co);
  for (let b = 0; b < n; b++) {
    padImage(x + (<usize>(b * h * w * c) << 2), h, w, c, pad, hp, wp, pt, pl);
    if (byPixels) {
      for (let cw = 0; cw < co; cw += 4) {
        for (let oy = 0; oy < oh; oy++) {
          const row = pad + <usize>(oy * sh) * rowStride;
          const dst = out + (<usize>(((b * oh + oy) * ow) * co + cw) << 2);
          let ox = 0;
          for (; ox + 8 <= ow; ox += 8) {
            pixelRow(row + (<usize>ox << 2), rowStride, table + (<usize>cw << 4), <usize>co << 4, kh, kw,
              dst + (<usize>(ox * co) << 2), <usize>co << 2);
          }
          if (ox < ow) {
            // The last pixels, fewer than 8: a group that overlaps the one before.
            pixelRow(row + (<usize>(ow - 8) << 2), rowStride, table + (<usize>cw << 4), <usize>co << 4, kh, kw,
              dst + (<usize>((ow - 8) * co) << 2), <usize>co << 2);
          }
        }
      }
      continue;
    }
    for (let cw = 0; cw < co;) {
      const W = co - cw >= 16 ? 16 : 8;
      const R = W == 8 ? 4 : 2;
      for (let oy = 0; oy < oh; oy++) {
        const row = pad + <usize>(oy * sh) * rowStride;
        const dst = out + (<usize>(((b * oh + oy) * ow) * co + cw) << 2);
        for (let ox = 0; ox < ow; ox += R) {
          narrowStrip(W, min(R, ow - ox), row + <usize>ox * pixStep, pixStep, 4, kw * c, kh, rowStride,
            filter + (<usize>cw << 2), <usize>co << 2, dst + (<usize>(ox * co) << 2), co, W, false, tile);
        }
      }
      cw += W;
    }
  }
}

/**
 * Filter gradients over these n images, directly (co % 8 == 0), one per group of `group`
 * images, as conv2dFilterGrad: dfilter[k][o] for k = (ky, kx, ci) sums, over the output
 * pixels, the padded input at the pixel's window offset k times g[pixel][o].
 */
export function convDirectFilterGrad(x: usize, g: usize, dfilter: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32,
  oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32, co: i32, group: i32, scratch: usize): void {
  const hp = (oh - 1) * sh + kh, wp = (ow - 1) * sw + kw;
  const pad = scratch;
  const tile = scratch + <usize>(convDirectScratchBytes(oh, ow, sh, sw, kh, kw, c, co) - STRIP_TILE_BYTES);
  const pixStep = <usize>(sw * c) << 2;
  const rowStride = <usize>(wp * c) << 2;
  const rowLen = kw * c;
  // One channel: taps in registers where they beat the strips (measured on 28×28 images):
  // 8 output channels (strips of 8 then waste rows), or whole groups of 5 taps; 16–32
  // channels with 3 or 7 taps ran 0.83–0.95× the 16-wide strips.
  const tapsInRegisters = c == 1 && (co == 8 || kw % 5 == 0);
  for (let b = 0; b < n; b++) {
    const first = b % group == 0;
    const out = dfilter + (<usize>((b / group) * kh * rowLen * co) << 2);
    const gi = g + (<usize>(b * oh * ow * co) << 2);
    padImage(x + (<usize>(b * h * w * c) << 2), h, w, c, pad, hp, wp, pt, pl);
    if (tapsInRegisters) {
      // Taps in groups of 5 and a last group of the rest, 8 channels at a time.
      for (let cw = 0; cw < co; cw += 8) {
        for (let ky = 0; ky < kh; ky++) {
          const src = pad + <usize>ky * rowStride;
          const dst = out + (<usize>(ky * kw * co + cw) << 2);
          const gc = gi + (<usize>cw << 2);
          const rowStep = <usize>sh * rowStride;
          let kx = 0;
          for (; kx + 5 <= kw; kx += 5) {
            tapSums(5, src + (<usize>kx << 2), pixStep, rowStep, gc, co, oh, ow, dst + (<usize>(kx * co) << 2), !first);
          }
          if (kx < kw) tapSums(kw - kx, src + (<usize>kx << 2), pixStep, rowStep, gc, co, oh, ow, dst + (<usize>(kx * co) << 2), !first);
        }
      }
      continue;
    }
    for (let cw = 0; cw < co;) {
      const W = co - cw >= 16 ? 16 : 8;
      const R = W == 8 ? 4 : 2;
      for (let ky = 0; ky < kh; ky++) {
        for (let j = 0; j < rowLen; j += R) {
          narrowStrip(W, min(R, rowLen - j), pad + <usize>ky * rowStride + (<usize>j << 2), 4, pixStep, ow, oh,
            <usize>sh * rowStride, gi + (<usize>cw << 2), <usize>co << 2,
            out + (<usize>((ky * rowLen + j) * co + cw) << 2), co, W, !first, tile);
        }
      }
      cw += W;
    }
  }
}

// One input channel (c = 1: a first layer on grayscale images) leaves the strip kernels
// 5-step segments (kw·c) and 4 rows of broadcast loads, which held MNIST's 5×5 first layer
// to ~22 GFLOP/s (forward) and ~20 (filter gradient) where 8 channels run at ~37. With one
// channel, neighbouring output pixels read contiguous floats of a padded row, so the forward
// kernel puts 8 pixels in the lanes of two vectors and multiplies them by the filter's taps,
// broadcast to vectors once per call (6 loads per tap, at constant offsets); the filter
// gradient keeps up to 5 taps × 8 channels in registers across all pixels of an image
// (where that measured faster than the strips: see convDirectFilterGrad).
// Both add in the strip kernels' order (over ky, then kx, from zero; over oy, then ox), so
// each result is bit for bit what the strip kernels give. Measured on that layer (64 images,
// 1 thread): forward 918 → 735 µs, filter gradient 1024 → 620 µs.
// These kernels must not be inlined into their callers (V8 then spills their accumulators:
// measured 1.8× slower); Binaryen inlines a function with one call site, so each has two.

/** table[t·co + o] = filter[t·co + o] broadcast to an f32x4, for `count` filter values. */
function broadcastFilter(filter: usize, table: usize, count: i32): void {
  if (!ASC_FEATURE_SIMD) return;
  for (let i = 0; i < count; i++) v128.store(table + (<usize>i << 4), v128.load32_splat(filter + (<usize>i << 2)));
}

/**
 * 8 output pixels × 4 channels: pixel p, channel j (at dst + p·ld + 4j) = Σ over (ky, kx)
 * of row[ky·rowStride + 4(p + kx)] × the tap's vector for channel j (at
 * taps + (ky·kw + kx)·tapStep + 16j). (4 pixels × 8 channels, the other way to fill 8
 * accumulators, loads 9 vectors per tap instead of 6 and measured 1.35× slower.)
 */
function pixelRow(row: usize, rowStride: usize, taps: usize, tapStep: usize, kh: i32, kw: i32, dst: usize, ld: usize): void {
  if (!ASC_FEATURE_SIMD) return;
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, a2 = zero, a3 = zero, b0 = zero, b1 = zero, b2 = zero, b3 = zero;
  for (let ky = 0; ky < kh; ky++) {
    let p = row + <usize>ky * rowStride;
    const end = p + (<usize>kw << 2);
    while (p < end) {
      const x = v128.load(p);
      const y = v128.load(p, 16);
      const t0 = v128.load(taps), t1 = v128.load(taps, 16), t2 = v128.load(taps, 32), t3 = v128.load(taps, 48);
      a0 = madd(x, t0, a0);
      a1 = madd(x, t1, a1);
      a2 = madd(x, t2, a2);
      a3 = madd(x, t3, a3);
      b0 = madd(y, t0, b0);
      b1 = madd(y, t1, b1);
      b2 = madd(y, t2, b2);
      b3 = madd(y, t3, b3);
      p += 4;
      taps += tapStep;
    }
  }
  // The sums are channel-major (a_j: channel j of pixels 0–3, b_j of pixels 4–7): transpose.
  storePixels(dst, ld, a0, a1, a2, a3);
  storePixels(dst + 4 * ld, ld, b0, b1, b2, b3);
}

/** Stores 4 channel vectors (lanes: pixels) as 4 pixels' 4 channels, pixel p at dst + p·ld. */
@inline function storePixels(dst: usize, ld: usize, c0: v128, c1: v128, c2: v128, c3: v128): void {
  const t0 = v128.shuffle<f32>(c0, c1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(c2, c3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(c0, c1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(c2, c3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + ld, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * ld, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * ld, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

/**
 * Filter gradients of T (1–5) neighbouring taps × 8 channels of a one-channel input:
 * dst[t·co + j] (+)= Σ over output pixels (oy, ox) of src[oy·rowStep + ox·pixStep + 4t] ×
 * g[(oy·ow + ox)·co + j].
 */
function tapSums(T: i32, src: usize, pixStep: usize, rowStep: usize, g: usize, co: i32, oh: i32, ow: i32, dst: usize, add: bool): void {
  if (!ASC_FEATURE_SIMD) return;
  const zero = f32x4.splat(0);
  let s00 = zero, s01 = zero, s10 = zero, s11 = zero, s20 = zero, s21 = zero;
  let s30 = zero, s31 = zero, s40 = zero, s41 = zero;
  const gStep = <usize>co << 2;
  for (let oy = 0; oy < oh; oy++) {
    let p = src + <usize>oy * rowStep;
    let q = g + <usize>(oy * ow) * gStep;
    const end = q + <usize>ow * gStep;
    while (q < end) {
      const g0 = v128.load(q);
      const g1 = v128.load(q, 16);
      let x = v128.load32_splat(p);
      s00 = madd(x, g0, s00);
      s01 = madd(x, g1, s01);
      if (T > 1) {
        x = v128.load32_splat(p, 4);
        s10 = madd(x, g0, s10);
        s11 = madd(x, g1, s11);
      }
      if (T > 2) {
        x = v128.load32_splat(p, 8);
        s20 = madd(x, g0, s20);
        s21 = madd(x, g1, s21);
      }
      if (T > 3) {
        x = v128.load32_splat(p, 12);
        s30 = madd(x, g0, s30);
        s31 = madd(x, g1, s31);
      }
      if (T > 4) {
        x = v128.load32_splat(p, 16);
        s40 = madd(x, g0, s40);
        s41 = madd(x, g1, s41);
      }
      p += pixStep;
      q += gStep;
    }
  }
  storeRow(dst, s00, s01, add);
  if (T > 1) storeRow(dst + gStep, s10, s11, add);
  if (T > 2) storeRow(dst + 2 * gStep, s20, s21, add);
  if (T > 3) storeRow(dst + 3 * gStep, s30, s31, add);
  if (T > 4) storeRow(dst + 4 * gStep, s40, s41, add);
}

/** out [kh, kw, co, c] = filter [kh, kw, c, co] turned 180° with its channels swapped: the filter of the input gradient. */
export function convFlipFilter(filter: usize, out: usize, kh: i32, kw: i32, c: i32, co: i32): void {
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const src = filter + (<usize>(((kh - 1 - ky) * kw + (kw - 1 - kx)) * c * co) << 2);
      const dst = out + (<usize>((ky * kw + kx) * co * c) << 2);
      for (let i = 0; i < c; i++) {
        for (let o = 0; o < co; o++) store<f32>(dst + (<usize>(o * c + i) << 2), load<f32>(src + (<usize>(i * co + o) << 2)));
      }
    }
  }
}

/**
 * The output columns [ox0, ox1) whose window lies wholly inside the image row (so its
 * kw·C values are contiguous in x when undilated), packed as ox0 | ox1 << 16.
 */
@inline function interior(ow: i32, w: i32, kw: i32, sw: i32, pl: i32, dw: i32): i32 {
  const span = (kw - 1) * dw + 1;
  let ox0 = 0;
  while (ox0 < ow && ox0 * sw - pl < 0) ox0++;
  let ox1 = ox0;
  while (ox1 < ow && ox1 * sw - pl + span <= w) ox1++;
  return ox0 | (ox1 << 16);
}

// im2col and col2im walk the same way: per output pixel (b, oy, ox) and kernel row ky, in
// the order of cols' rows, so cols is read or written sequentially. For the interior
// columns, whose window lies inside the image row, a kernel row's kw·C values are one
// contiguous run and the kernel rows inside the image ([ky0, ky1)) are runs at a constant
// stride: one tight loop; only border pixels take the per-kx path. Runs shorter than 8
// floats (a first layer's C = 1) are copied ky-major instead — for each kernel row, along
// the whole interior of the output row — which measured 2× faster for them (and 2× slower
// for long runs, which memory.copy writes best in order).

export function im2col(x: usize, cols: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32,
  oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32): void {
  const cBytes = <usize>c << 2;
  const rowLen = kw * c; // one kernel row of one output pixel
  const rowBytes = <usize>rowLen << 2;
  const range = interior(ow, w, kw, sw, pl, dw);
  const ox0 = dw == 1 ? range & 0xffff : ow, ox1 = dw == 1 ? range >>> 16 : ow;
  const kyStep = <usize>(dh * w) * cBytes;
  let dst = cols;
  for (let b = 0; b < n; b++) {
    const img = x + <usize>(b * h * w) * cBytes;
    for (let oy = 0; oy < oh; oy++) {
      const iy0 = oy * sh - pt;
      let ky0 = 0;
      while (ky0 < kh && iy0 + ky0 * dh < 0) ky0++;
      let ky1 = ky0;
      while (ky1 < kh && iy0 + ky1 * dh < h) ky1++;
      const kyMajor = rowLen < 8 && ox1 > ox0;
      if (kyMajor) {
        const pixBytes = <usize>kh * rowBytes;
        for (let ky = 0; ky < kh; ky++) {
          let d = dst + <usize>ox0 * pixBytes + <usize>ky * rowBytes;
          if (ky < ky0 || ky >= ky1) {
            for (let ox = ox0; ox < ox1; ox++, d += pixBytes) zeroF32(d, rowLen);
            continue;
          }
          let s = img + <usize>((iy0 + ky * dh) * w + ox0 * sw - pl) * cBytes;
          const sStep = <usize>sw * cBytes;
          for (let ox = ox0; ox < ox1; ox++, d += pixBytes, s += sStep) copyF32(d, s, rowLen);
        }
      }
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * sw - pl;
        if (ox >= ox0 && ox < ox1) {
          if (kyMajor) {
            dst += <usize>kh * rowBytes;
            continue;
          }
          zeroF32(dst, ky0 * rowLen);
          let d = dst + <usize>ky0 * rowBytes;
          let s = img + <usize>((iy0 + ky0 * dh) * w + ix0) * cBytes;
          for (let ky = ky0; ky < ky1; ky++) {
            copyF32(d, s, rowLen);
            d += rowBytes;
            s += kyStep;
          }
          zeroF32(d, (kh - ky1) * rowLen);
          dst += <usize>kh * rowBytes;
          continue;
        }
        for (let ky = 0; ky < kh; ky++) {
          const iy = iy0 + ky * dh;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ix0 + kx * dw;
            const d = dst + <usize>kx * cBytes;
            if (iy >= 0 && iy < h && ix >= 0 && ix < w) copyF32(d, img + <usize>(iy * w + ix) * cBytes, c);
            else zeroF32(d, c);
          }
          dst += rowBytes;
        }
      }
    }
  }
}

/** dx (zeroed here) += the rows of cols scattered back to their input pixels. */
export function col2im(cols: usize, dx: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32,
  oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32): void {
  const cBytes = <usize>c << 2;
  const rowLen = kw * c;
  const rowBytes = <usize>rowLen << 2;
  const range = interior(ow, w, kw, sw, pl, dw);
  const ox0 = dw == 1 ? range & 0xffff : ow, ox1 = dw == 1 ? range >>> 16 : ow;
  const kyStep = <usize>(dh * w) * cBytes;
  memory.fill(dx, 0, <usize>(n * h * w) * cBytes);
  let src = cols;
  for (let b = 0; b < n; b++) {
    const img = dx + <usize>(b * h * w) * cBytes;
    for (let oy = 0; oy < oh; oy++) {
      const iy0 = oy * sh - pt;
      let ky0 = 0;
      while (ky0 < kh && iy0 + ky0 * dh < 0) ky0++;
      let ky1 = ky0;
      while (ky1 < kh && iy0 + ky1 * dh < h) ky1++;
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * sw - pl;
        if (ox >= ox0 && ox < ox1) {
          let s = src + <usize>ky0 * rowBytes;
          let d = img + <usize>((iy0 + ky0 * dh) * w + ix0) * cBytes;
          for (let ky = ky0; ky < ky1; ky++) {
            addRow(d, s, rowLen);
            s += rowBytes;
            d += kyStep;
          }
          src += <usize>kh * rowBytes;
          continue;
        }
        for (let ky = 0; ky < kh; ky++) {
          const iy = iy0 + ky * dh;
          if (iy >= 0 && iy < h) {
            for (let kx = 0; kx < kw; kx++) {
              const ix = ix0 + kx * dw;
              if (ix >= 0 && ix < w) addRow(img + <usize>(iy * w + ix) * cBytes, src + <usize>kx * cBytes, c);
            }
          }
          src += rowBytes;
        }
      }
    }
  }
}

/**
 * Max pooling; argmax (i32) records the flat input index of each output's maximum, or −1
 * for a window that lies wholly in the padding (its output is 0). Padding never wins.
 * Indices count from `base` (the flat index of x's first element in the whole batch, when
 * a caller pools a slice of the images on another thread).
 */
export function maxPool(x: usize, out: usize, argmax: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32,
  oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32, base: i32): void {
  const vc = ASC_FEATURE_SIMD ? c & ~3 : 0; // channels done four at a time
  const right = <usize>c << 2, down = <usize>(w * c) << 2; // bytes to a window's next cell, next row
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const o = ((b * oh + oy) * ow + ox) * c;
        const vo = out + (<usize>o << 2);
        const ao = argmax + (<usize>o << 2);
        const y0 = max(oy * sh - pt, 0), y1 = min(oy * sh - pt + kh, h);
        const x0 = max(ox * sw - pl, 0), x1 = min(ox * sw - pl + kw, w);
        if (y0 >= y1 || x0 >= x1) {
          fill(vo, c, 0);
          for (let ch = 0; ch < c; ch++) store<i32>(ao + (<usize>ch << 2), -1);
          continue;
        }
        if (ASC_FEATURE_SIMD && y1 - y0 == 2 && x1 - x0 == 2) {
          // A whole 2×2 window (the usual pooling): its four cells straight, in the loop's order.
          const toRight = i32x4.splat(c), toDown = i32x4.splat(w * c), toBoth = i32x4.splat(w * c + c);
          for (let ch = 0; ch < vc; ch += 4) {
            const first = ((b * h + y0) * w + x0) * c + ch;
            const p = x + (<usize>first << 2);
            const at0 = i32x4.add(i32x4.splat(base + first), i32x4(0, 1, 2, 3));
            let best = v128.load(p);
            let at = at0;
            let v = v128.load(p + right);
            let wins = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
            best = v128.bitselect(v, best, wins);
            at = v128.bitselect(i32x4.add(at0, toRight), at, wins);
            v = v128.load(p + down);
            wins = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
            best = v128.bitselect(v, best, wins);
            at = v128.bitselect(i32x4.add(at0, toDown), at, wins);
            v = v128.load(p + down + right);
            wins = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
            best = v128.bitselect(v, best, wins);
            at = v128.bitselect(i32x4.add(at0, toBoth), at, wins);
            v128.store(vo + (<usize>ch << 2), best);
            v128.store(ao + (<usize>ch << 2), at);
          }
        } else if (ASC_FEATURE_SIMD) {
          for (let ch = 0; ch < vc; ch += 4) {
            // Start from the window's first cell (so an all −∞ window still has an argmax).
            const first = ((b * h + y0) * w + x0) * c + ch;
            let best = v128.load(x + (<usize>first << 2));
            let at = i32x4.add(i32x4.splat(base + first), i32x4(0, 1, 2, 3));
            for (let iy = y0; iy < y1; iy++) {
              for (let ix = x0; ix < x1; ix++) {
                const i = ((b * h + iy) * w + ix) * c + ch;
                const v = v128.load(x + (<usize>i << 2));
                // NaN wins so that it propagates, as in the other libraries; ties keep the first.
                const wins = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
                best = v128.bitselect(v, best, wins);
                at = v128.bitselect(i32x4.add(i32x4.splat(base + i), i32x4(0, 1, 2, 3)), at, wins);
              }
            }
            v128.store(vo + (<usize>ch << 2), best);
            v128.store(ao + (<usize>ch << 2), at);
          }
        }
        for (let ch = vc; ch < c; ch++) {
          const first = ((b * h + y0) * w + x0) * c + ch;
          let best = load<f32>(x + (<usize>first << 2));
          let at = base + first;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              const i = ((b * h + iy) * w + ix) * c + ch;
              const v = load<f32>(x + (<usize>i << 2));
              if (v > best || v != v) {
                best = v;
                at = base + i;
              }
            }
          }
          store<f32>(vo + (<usize>ch << 2), best);
          store<i32>(ao + (<usize>ch << 2), at);
        }
      }
    }
  }
}

/** dx (zeroed here) receives each output gradient at its argmax; `base` is as in maxPool. */
export function maxPoolGrad(g: usize, argmax: usize, dx: usize, n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, base: i32): void {
  memory.fill(dx, 0, <usize>(n * h * w * c) << 2);
  const total = n * oh * ow * c;
  for (let o = 0; o < total; o++) {
    const i = load<i32>(argmax + (<usize>o << 2));
    if (i >= 0) {
      const p = dx + (<usize>(i - base) << 2); // argmax counts from the whole batch's first element
      store<f32>(p, load<f32>(p) + load<f32>(g + (<usize>o << 2)));
    }
  }
}

@inline function windowCount(oy: i32, ox: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32): i32 {
  const y0 = max(oy * sh - pt, 0);
  const y1 = min(oy * sh - pt + kh, h);
  const x0 = max(ox * sw - pl, 0);
  const x1 = min(ox * sw - pl + kw, w);
  return max(y1 - y0, 0) * max(x1 - x0, 0);
}

/** Average pooling over the cells inside the image (padding is not counted, as in TF). */
export function avgPool(x: usize, out: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32,
  oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const vo = out + (<usize>(((b * oh + oy) * ow + ox) * c) << 2);
        fill(vo, c, 0);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx;
            if (ix < 0 || ix >= w) continue;
            addRow(vo, x + (<usize>(((b * h + iy) * w + ix) * c) << 2), c);
          }
        }
        const count = windowCount(oy, ox, h, w, kh, kw, sh, sw, pt, pl);
        const inv: f32 = count > 0 ? 1 / <f32>count : 0;
        for (let ch = 0; ch < c; ch++) store<f32>(vo + (<usize>ch << 2), load<f32>(vo + (<usize>ch << 2)) * inv);
      }
    }
  }
}

/** dx (zeroed here) receives g / count at every cell of each window. */
export function avgPoolGrad(g: usize, dx: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32,
  oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  memory.fill(dx, 0, <usize>(n * h * w * c) << 2);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const go = g + (<usize>(((b * oh + oy) * ow + ox) * c) << 2);
        const count = windowCount(oy, ox, h, w, kh, kw, sh, sw, pt, pl);
        if (count == 0) continue;
        const inv: f32 = 1 / <f32>count;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx;
            if (ix < 0 || ix >= w) continue;
            const d = dx + (<usize>(((b * h + iy) * w + ix) * c) << 2);
            for (let ch = 0; ch < c; ch++) {
              const p = <usize>ch << 2;
              store<f32>(d + p, load<f32>(d + p) + load<f32>(go + p) * inv);
            }
          }
        }
      }
    }
  }
}
