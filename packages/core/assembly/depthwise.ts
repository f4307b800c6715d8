// Depthwise convolution on NHWC images (depth multiplier 1): each channel has its own kh×kw
// filter, w [kh, kw, c]:
//   out[b, oy, ox, ch] = Σ_{ky,kx} x[b, oy·sh − pt + ky·dh, ox·sw − pl + kx·dw, ch] · w[ky, kx, ch]
// There is no reduction over channels, so im2col + GEMM would waste a kh·kw-fold copy; in
// NHWC the channels of a pixel are contiguous, and the vectors run along them: 16 channels
// (four v128 accumulators) per step, then 4, then one at a time. The filter (kh·kw·c floats,
// a few KiB) stays in L1 while an output row is computed. Window taps outside the image are
// skipped (zero padding). Work is split by rows: the forward and the input gradient by output
// and input rows across the whole batch (so batch 1 splits too), the filter gradient by fixed
// groups of output rows whose partial sums the caller adds in order (the same result for any
// thread count).
import { madd } from './gemm';

/** out[0..c) = x·w elementwise (first tap), or out += x·w (the taps after it). */
@inline function tap(xRow: usize, wRow: usize, out: usize, c: i32, accumulate: bool): void {
  let ch = 0;
  if (ASC_FEATURE_SIMD) {
    for (; ch + 4 <= c; ch += 4) {
      const o = <usize>ch << 2;
      const p = f32x4.mul(v128.load(xRow + o), v128.load(wRow + o));
      v128.store(out + o, accumulate ? f32x4.add(v128.load(out + o), p) : p);
    }
  }
  for (; ch < c; ch++) {
    const o = <usize>ch << 2;
    const p = load<f32>(xRow + o) * load<f32>(wRow + o);
    store<f32>(out + o, accumulate ? load<f32>(out + o) + p : p);
  }
}

/** The taps [k0, k1) of a window starting at `start` (stride between taps `d`) that fall inside [0, size), packed k0 | k1 << 16. */
@inline function taps(start: i32, d: i32, k: i32, size: i32): i32 {
  let k0 = 0;
  while (k0 < k && start + k0 * d < 0) k0++;
  let k1 = k;
  while (k1 > k0 && start + (k1 - 1) * d >= size) k1--;
  return k0 | (k1 << 16);
}

/**
 * 16 channels from `o` (bytes) of output pixels at x offsets p0 and p1 (bytes from the first
 * tap of the window; p1 = p0 when only one pixel is wanted, its sums then unused): the taps'
 * filter vectors are loaded once for both pixels.
 */
@inline function block16(xw: usize, ws: usize, o: usize, ky0: i32, ky1: i32, kx0: i32, kx1: i32, rowStep: usize, colStep: usize,
  wRow: usize, cBytes: usize, p1: usize, d0: usize, d1: usize, two: bool): void {
  if (!ASC_FEATURE_SIMD) return; // only SIMD builds take 16-channel blocks
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
  for (let ky = ky0; ky < ky1; ky++) {
    let xs = xw + <usize>ky * rowStep + <usize>kx0 * colStep + o;
    let wp = ws + <usize>ky * wRow + <usize>kx0 * cBytes + o;
    for (let kx = kx0; kx < kx1; kx++) {
      const w0 = v128.load(wp), w1 = v128.load(wp, 16), w2 = v128.load(wp, 32), w3 = v128.load(wp, 48);
      a0 = madd(v128.load(xs), w0, a0);
      a1 = madd(v128.load(xs, 16), w1, a1);
      a2 = madd(v128.load(xs, 32), w2, a2);
      a3 = madd(v128.load(xs, 48), w3, a3);
      if (two) {
        const xt = xs + p1;
        b0 = madd(v128.load(xt), w0, b0);
        b1 = madd(v128.load(xt, 16), w1, b1);
        b2 = madd(v128.load(xt, 32), w2, b2);
        b3 = madd(v128.load(xt, 48), w3, b3);
      }
      xs += colStep;
      wp += cBytes;
    }
  }
  v128.store(d0 + o, a0);
  v128.store(d0 + o, a1, 16);
  v128.store(d0 + o, a2, 32);
  v128.store(d0 + o, a3, 48);
  if (two) {
    v128.store(d1 + o, b0);
    v128.store(d1 + o, b1, 16);
    v128.store(d1 + o, b2, 32);
    v128.store(d1 + o, b3, 48);
  }
}

/** Channels [from, c) of one output pixel, 4 then 1 at a time (the rest after the 16-channel blocks). */
@inline function tail(xw: usize, ws: usize, from: i32, c: i32, ky0: i32, ky1: i32, kx0: i32, kx1: i32, rowStep: usize, colStep: usize,
  wRow: usize, cBytes: usize, dst: usize): void {
  let ch = from;
  if (ASC_FEATURE_SIMD) {
    for (; ch + 4 <= c; ch += 4) {
      const o = <usize>ch << 2;
      let a = f32x4.splat(0);
      for (let ky = ky0; ky < ky1; ky++) {
        for (let kx = kx0; kx < kx1; kx++) {
          a = madd(v128.load(xw + <usize>ky * rowStep + <usize>kx * colStep + o), v128.load(ws + <usize>ky * wRow + <usize>kx * cBytes + o), a);
        }
      }
      v128.store(dst + o, a);
    }
  }
  for (; ch < c; ch++) {
    const o = <usize>ch << 2;
    let a: f32 = 0;
    for (let ky = ky0; ky < ky1; ky++) {
      for (let kx = kx0; kx < kx1; kx++) a += load<f32>(xw + <usize>ky * rowStep + <usize>kx * colStep + o) * load<f32>(ws + <usize>ky * wRow + <usize>kx * cBytes + o);
    }
    store<f32>(dst + o, a);
  }
}

/**
 * Output rows [first, first + count) of the whole batch (row r is image r / oh, output row
 * r % oh): out[r, ox, :] for every ox. Taps outside the image are cut from each window's
 * range once per pixel, so the inner loops have no bounds tests; interior pixels go in pairs
 * that share the filter loads.
 */
export function depthwiseForward(x: usize, w: usize, out: usize, first: i32, count: i32, h: i32, wd: i32, c: i32, kh: i32, kw: i32,
  oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32): void {
  const cBytes = <usize>c << 2;
  const rowStep = <usize>(dh * wd) * cBytes; // one kernel row down
  const colStep = <usize>dw * cBytes; // one kernel column right
  const wRow = <usize>kw * cBytes;
  const pix = <usize>sw * cBytes; // one output pixel right
  const c16 = ASC_FEATURE_SIMD ? c & ~15 : 0;
  for (let r = first; r < first + count; r++) {
    const b = r / oh, oy = r % oh;
    const iy0 = oy * sh - pt;
    const ky = taps(iy0, dh, kh, h);
    const ky0 = ky & 0xffff, ky1 = ky >>> 16;
    const dstRow = out + <usize>(r * ow) * cBytes;
    // Byte offset of the window's first tap (ky = kx = 0), which may lie outside the image:
    // only taps inside are read, so compute it from the image row and column as signed.
    const rowBase = <i64>x + (<i64>(b * h + iy0) * wd - pl) * <i64>cBytes;
    let ox = 0;
    while (ox < ow) {
      const ix0 = ox * sw - pl;
      const kx = taps(ix0, dw, kw, wd);
      const kx0 = kx & 0xffff, kx1 = kx >>> 16;
      const xw = <usize>(rowBase + <i64>(ox * sw) * <i64>cBytes);
      const d0 = dstRow + <usize>ox * cBytes;
      // A pair when the next pixel's window has the same taps (always in the interior).
      const two = ox + 1 < ow && kx == taps(ix0 + sw, dw, kw, wd);
      if (ky1 <= ky0 || kx1 <= kx0) {
        memory.fill(d0, 0, two ? cBytes * 2 : cBytes);
      } else {
        for (let o: usize = 0; o < <usize>c16 << 2; o += 64) {
          if (two) block16(xw, w, o, ky0, ky1, kx0, kx1, rowStep, colStep, wRow, cBytes, pix, d0, d0 + cBytes, true);
          else block16(xw, w, o, ky0, ky1, kx0, kx1, rowStep, colStep, wRow, cBytes, 0, d0, d0, false);
        }
        if (c16 < c) {
          tail(xw, w, c16, c, ky0, ky1, kx0, kx1, rowStep, colStep, wRow, cBytes, d0);
          if (two) tail(xw + pix, w, c16, c, ky0, ky1, kx0, kx1, rowStep, colStep, wRow, cBytes, d0 + cBytes);
        }
      }
      ox += two ? 2 : 1;
    }
  }
}

/**
 * Input rows [first, first + count) of the batch's input gradient (row r is image r / h,
 * input row r % h): dx[r, ix, :] = Σ over the output pixels whose window covers it of
 * g[·] · w[tap] — a gather, so rows are independent.
 */
export function depthwiseInputGrad(g: usize, w: usize, dx: usize, first: i32, count: i32, h: i32, wd: i32, c: i32, kh: i32, kw: i32,
  oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32): void {
  const cBytes = <usize>c << 2;
  for (let r = first; r < first + count; r++) {
    const b = r / h, iy = r % h;
    const grad = g + <usize>(b * oh * ow) * cBytes;
    for (let ix = 0; ix < wd; ix++) {
      const dst = dx + <usize>(r * wd + ix) * cBytes;
      let started = false;
      for (let ky = 0; ky < kh; ky++) {
        const ty = iy + pt - ky * dh; // = oy·sh
        if (ty < 0 || ty % sh != 0 || ty / sh >= oh) continue;
        const oy = ty / sh;
        for (let kx = 0; kx < kw; kx++) {
          const tx = ix + pl - kx * dw;
          if (tx < 0 || tx % sw != 0 || tx / sw >= ow) continue;
          tap(grad + <usize>(oy * ow + tx / sw) * cBytes, w + <usize>(ky * kw + kx) * cBytes, dst, c, started);
          started = true;
        }
      }
      if (!started) memory.fill(dst, 0, cBytes);
    }
  }
}

/**
 * Filter gradients: dw[ky, kx, :] = Σ over output pixels of x[tap] · g[pixel], one partial
 * [kh, kw, c] per group of `group` output rows of the batch, for groups [first, first + count)
 * of `groups`, written to consecutive blocks at `partials`.
 */
export function depthwiseFilterGrad(x: usize, g: usize, partials: usize, first: i32, count: i32, group: i32, rows: i32,
  h: i32, wd: i32, c: i32, kh: i32, kw: i32, oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32): void {
  const cBytes = <usize>c << 2;
  const filterBytes = <usize>(kh * kw) * cBytes;
  for (let gi = first; gi < first + count; gi++) {
    const part = partials + <usize>gi * filterBytes;
    memory.fill(part, 0, filterBytes);
    for (let r = gi * group; r < min(rows, (gi + 1) * group); r++) {
      const b = r / oh, oy = r % oh;
      const img = x + <usize>(b * h * wd) * cBytes;
      for (let ox = 0; ox < ow; ox++) {
        const gp = g + <usize>(r * ow + ox) * cBytes;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx * dw;
            if (ix < 0 || ix >= wd) continue;
            const xs = img + <usize>(iy * wd + ix) * cBytes;
            const dst = part + <usize>(ky * kw + kx) * cBytes;
            let ch = 0;
            if (ASC_FEATURE_SIMD) {
              for (; ch + 4 <= c; ch += 4) {
                const o = <usize>ch << 2;
                v128.store(dst + o, madd(v128.load(xs + o), v128.load(gp + o), v128.load(dst + o)));
              }
            }
            for (; ch < c; ch++) {
              const o = <usize>ch << 2;
              store<f32>(dst + o, load<f32>(dst + o) + load<f32>(xs + o) * load<f32>(gp + o));
            }
          }
        }
      }
    }
  }
}
