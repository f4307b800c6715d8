// Convolution and pooling on NHWC images. Convolution is im2col + GEMM: each output pixel
// (n, oy, ox) becomes a row of KH·KW·C values ordered (ky, kx, c), so the HWIO filter
// reshaped to [KH·KW·C, Cout] multiplies it directly, and channels stay contiguous for
// memory.copy. col2im is its adjoint (adds overlapping windows back).
import { addRow } from './shape';
import { fill } from './elementwise';

// Copies n floats. memory.copy costs a call, which dominates for the few channels of a
// first layer (C = 1 or 3), so short runs are copied inline: whole vectors, then one last
// vector ending at n that may overlap the previous one (no scalar tail loop).
@inline function copyF32(dst: usize, src: usize, n: i32): void {
  if (n >= 32) {
    memory.copy(dst, src, <usize>n << 2);
    return;
  }
  if (ASC_FEATURE_SIMD && n >= 4) {
    const last = <usize>(n - 4) << 2;
    for (let o: usize = 0; o < last; o += 16) v128.store(dst + o, v128.load(src + o));
    v128.store(dst + last, v128.load(src + last));
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
        if (ASC_FEATURE_SIMD) {
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

/** dx (zeroed here) receives each output gradient at its argmax. */
export function maxPoolGrad(g: usize, argmax: usize, dx: usize, n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32): void {
  memory.fill(dx, 0, <usize>(n * h * w * c) << 2);
  const total = n * oh * ow * c;
  for (let o = 0; o < total; o++) {
    const i = load<i32>(argmax + (<usize>o << 2));
    if (i >= 0) {
      const p = dx + (<usize>i << 2);
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
