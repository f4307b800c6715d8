// Convolution and pooling on NHWC images. Convolution is im2col + GEMM: each output pixel
// (n, oy, ox) becomes a row of KH·KW·C values ordered (ky, kx, c), so the HWIO filter
// reshaped to [KH·KW·C, Cout] multiplies it directly, and channels stay contiguous for
// memory.copy. col2im is its adjoint (adds overlapping windows back).
import { addRow } from './shape';
import { fill } from './elementwise';

// Copies n floats. memory.copy costs a call, which dominates for the few channels of a
// first layer (C = 1 or 3), so short runs are copied inline.
@inline function copyF32(dst: usize, src: usize, n: i32): void {
  if (n >= 32) {
    memory.copy(dst, src, <usize>n << 2);
    return;
  }
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

@inline function zeroF32(dst: usize, n: i32): void {
  if (n >= 32) {
    memory.fill(dst, 0, <usize>n << 2);
    return;
  }
  for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), 0);
}

export function im2col(x: usize, cols: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32,
  oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32): void {
  const cBytes = <usize>c << 2;
  const rowLen = kw * c; // one kernel row of one output pixel
  let dst = cols;
  for (let b = 0; b < n; b++) {
    const img = x + <usize>(b * h * w) * cBytes;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * sw - pl;
        // Undilated and wholly inside the row: the kw·C values are contiguous in x.
        const inside = dw == 1 && ix0 >= 0 && ix0 + kw <= w;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= h) {
            zeroF32(dst, rowLen);
          } else if (inside) {
            copyF32(dst, img + <usize>(iy * w + ix0) * cBytes, rowLen);
          } else {
            for (let kx = 0; kx < kw; kx++) {
              const ix = ix0 + kx * dw;
              const d = dst + <usize>kx * cBytes;
              if (ix >= 0 && ix < w) copyF32(d, img + <usize>(iy * w + ix) * cBytes, c);
              else zeroF32(d, c);
            }
          }
          dst += <usize>rowLen << 2;
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
  memory.fill(dx, 0, <usize>(n * h * w) * cBytes);
  let src = cols;
  for (let b = 0; b < n; b++) {
    const img = dx + <usize>(b * h * w) * cBytes;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * sw - pl;
        const inside = dw == 1 && ix0 >= 0 && ix0 + kw <= w;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky * dh;
          if (iy >= 0 && iy < h) {
            if (inside) {
              addRow(img + <usize>(iy * w + ix0) * cBytes, src, rowLen);
            } else {
              for (let kx = 0; kx < kw; kx++) {
                const ix = ix0 + kx * dw;
                if (ix >= 0 && ix < w) addRow(img + <usize>(iy * w + ix) * cBytes, src + <usize>kx * cBytes, c);
              }
            }
          }
          src += <usize>rowLen << 2;
        }
      }
    }
  }
}

/**
 * Max pooling; argmax (i32) records the flat input index of each output's maximum, or −1
 * for a window that lies wholly in the padding (its output is 0). Padding never wins.
 */
export function maxPool(x: usize, out: usize, argmax: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32,
  oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const o = ((b * oh + oy) * ow + ox) * c;
        const vo = out + (<usize>o << 2);
        const ao = argmax + (<usize>o << 2);
        fill(vo, c, -Infinity);
        for (let ch = 0; ch < c; ch++) store<i32>(ao + (<usize>ch << 2), -1);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx;
            if (ix < 0 || ix >= w) continue;
            const i = ((b * h + iy) * w + ix) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = load<f32>(x + (<usize>(i + ch) << 2));
              // NaN wins so that it propagates, as in the other libraries.
              if (v > load<f32>(vo + (<usize>ch << 2)) || v != v) {
                store<f32>(vo + (<usize>ch << 2), v);
                store<i32>(ao + (<usize>ch << 2), i + ch);
              }
            }
          }
        }
        for (let ch = 0; ch < c; ch++) {
          if (load<i32>(ao + (<usize>ch << 2)) < 0) store<f32>(vo + (<usize>ch << 2), 0);
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
