// Image augmentation kernels on NHWC float32 batches x [n, h, w, c] (packages/augment).
// Random parameters are drawn in JS from the seeded Rng, one draw per sample, and come in
// as small per-sample arrays in memory; the noise kernels hash a per-sample seed with the
// element index (counter-based), so a value depends only on (seed, index) — not on the
// build or the loop order. Every kernel writes a separate output (out != x).

// ---------------------------------------------------------------- shared helpers

/**
 * The source index of position i on an axis of length n, by border mode: 0 constant (-1:
 * use the fill value), 1 reflect without repeating the edge (dcb|abcd|cba, as numpy's and
 * torch's 'reflect'), 2 edge (aaa|abcd|ddd).
 */
@inline function border(i: i32, n: i32, mode: i32): i32 {
  if (<u32>i < <u32>n) return i;
  if (mode == 0) return -1;
  if (mode == 2 || n == 1) return i < 0 ? 0 : n - 1;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

@inline function fillF32(dst: usize, n: i32, value: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const v = f32x4.splat(value);
    for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v);
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), value);
}

/** One pixel of c values: copied from src pixel s of a row, or the fill value when s < 0. */
@inline function pixel(dst: usize, src: usize, s: i32, c: i32, value: f32): void {
  if (s < 0) {
    for (let k = 0; k < c; k++) store<f32>(dst + (<usize>k << 2), value);
  } else {
    const p = src + (<usize>(s * c) << 2);
    for (let k = 0; k < c; k++) store<f32>(dst + (<usize>k << 2), load<f32>(p + (<usize>k << 2)));
  }
}

/** A uniform u32 from (seed, counter): splitmix32's finalizer over a Weyl sequence. */
@inline function hash(seed: u32, i: u32): u32 {
  let z = seed + i * 0x9e3779b9;
  z = (z ^ (z >>> 16)) * 0x85ebca6b;
  z = (z ^ (z >>> 13)) * 0xc2b2ae35;
  return z ^ (z >>> 16);
}

/** Uniform in (0, 1], 24 bits. */
@inline function unit(h: u32): f32 {
  return <f32>((h >>> 8) + 1) * (1.0 / 16777216.0);
}

/** The k-th standard normal of stream `seed` (Box-Muller, both deviates of a pair used). */
@inline function normal(seed: u32, k: u32): f32 {
  const pair = k & ~1;
  const r = Mathf.sqrt(-2 * Mathf.log(unit(hash(seed, pair))));
  const t = <f32>6.2831855 * unit(hash(seed, pair + 1));
  return (k & 1) == 0 ? r * Mathf.cos(t) : r * Mathf.sin(t);
}

// ---------------------------------------------------------------- geometry

/**
 * Integer windows: out[b, y, x] = x[b, oy + y, ox + x] for out [n, oh, ow, c], mirrored
 * when flipped — random and center crops, padding (the window reaching outside follows the
 * border mode) and flips in one pass. params: i32 [n, 3] = (oy, ox, flags), flags bit 0 =
 * flip left-right, bit 1 = flip up-down. The part of a row inside the image is one copy.
 */
export function augWindow(x: usize, out: usize, n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32,
  params: usize, mode: i32, value: f32): void {
  const cb = <usize>c << 2;
  for (let b = 0; b < n; b++) {
    const p = params + <usize>(b * 12);
    const oy = load<i32>(p);
    const ox = load<i32>(p, 4);
    const flags = load<i32>(p, 8);
    const img = x + <usize>(b * h * w) * cb;
    for (let y = 0; y < oh; y++) {
      const dst = out + <usize>((b * oh + y) * ow) * cb;
      const sy = border((flags & 2) != 0 ? oy + oh - 1 - y : oy + y, h, mode);
      if (sy < 0) {
        fillF32(dst, ow * c, value);
        continue;
      }
      const row = img + <usize>(sy * w) * cb;
      if ((flags & 1) == 0) {
        const lo = min(max(-ox, 0), ow);
        const hi = max(min(w - ox, ow), lo);
        for (let i = 0; i < lo; i++) pixel(dst + <usize>i * cb, row, border(ox + i, w, mode), c, value);
        if (hi > lo) memory.copy(dst + <usize>lo * cb, row + <usize>(ox + lo) * cb, <usize>(hi - lo) * cb);
        for (let i = hi; i < ow; i++) pixel(dst + <usize>i * cb, row, border(ox + i, w, mode), c, value);
      } else {
        const last = ox + ow - 1;
        let i = 0;
        if (ox >= 0 && last < w) {
          // Wholly inside: no border rule. One channel reverses four values at a time.
          if (ASC_FEATURE_SIMD) {
            if (c == 1) {
              for (; i + 4 <= ow; i += 4) {
                const v = v128.load(row + (<usize>(last - i - 3) << 2));
                v128.store(dst + (<usize>i << 2), i32x4.shuffle(v, v, 3, 2, 1, 0));
              }
            }
          }
          if (c == 3) {
            for (; i < ow; i++) {
              const s = row + <usize>(last - i) * 12;
              const d = dst + <usize>i * 12;
              store<f32>(d, load<f32>(s));
              store<f32>(d, load<f32>(s, 4), 4);
              store<f32>(d, load<f32>(s, 8), 8);
            }
          }
          for (; i < ow; i++) pixel(dst + <usize>i * cb, row, last - i, c, value);
        }
        for (; i < ow; i++) pixel(dst + <usize>i * cb, row, border(last - i, w, mode), c, value);
      }
    }
  }
}

@inline function lerp(a: f32, b: f32, t: f32): f32 {
  return a + t * (b - a);
}

/**
 * Bilinear resampling by a per-sample affine map from output pixel (X, Y) to source
 * coordinates sx = a·X + b·Y + tx, sy = d·X + e·Y + ty (pixel centers at integers, as
 * tf.image.transform): translation, zoom, rotation, shear, resized crops. params: f32
 * [n, 7] = (active, a, b, tx, d, e, ty); an inactive sample is copied (needs oh = h, ow = w).
 * Taps outside the image follow the border mode (0: the fill value). With integer source
 * coordinates the weights are 0 and the result is the source value exactly.
 */
export function augAffine(x: usize, out: usize, n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32,
  params: usize, mode: i32, value: f32): void {
  const cb = <usize>c << 2;
  const rowBytes = <usize>w * cb;
  for (let b = 0; b < n; b++) {
    const p = params + <usize>(b * 28);
    const img = x + <usize>(b * h) * rowBytes;
    const dstImg = out + <usize>(b * oh * ow) * cb;
    if (load<f32>(p) == 0) {
      memory.copy(dstImg, img, <usize>h * rowBytes);
      continue;
    }
    const ma = load<f32>(p, 4), mb = load<f32>(p, 8), tx = load<f32>(p, 12);
    const md = load<f32>(p, 16), me = load<f32>(p, 20), ty = load<f32>(p, 24);
    for (let Y = 0; Y < oh; Y++) {
      for (let X = 0; X < ow; X++) {
        // Clamped far outside the image so the integer arithmetic cannot overflow.
        const sx = clampS(ma * <f32>X + mb * <f32>Y + tx, -1e7, 1e7);
        const sy = clampS(md * <f32>X + me * <f32>Y + ty, -1e7, 1e7);
        const fx0 = Mathf.floor(sx);
        const fy0 = Mathf.floor(sy);
        const fx = sx - fx0;
        const fy = sy - fy0;
        const x0 = <i32>fx0;
        const y0 = <i32>fy0;
        const dst = dstImg + <usize>(Y * ow + X) * cb;
        if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
          const p00 = img + <usize>y0 * rowBytes + <usize>x0 * cb;
          const p10 = p00 + rowBytes;
          let k = 0;
          if (ASC_FEATURE_SIMD) {
            const vx = f32x4.splat(fx);
            const vy = f32x4.splat(fy);
            for (; k + 4 <= c; k += 4) {
              const o = <usize>k << 2;
              const a0 = v128.load(p00 + o);
              const b0 = v128.load(p10 + o);
              const top = f32x4.add(a0, f32x4.mul(vx, f32x4.sub(v128.load(p00 + cb + o), a0)));
              const bot = f32x4.add(b0, f32x4.mul(vx, f32x4.sub(v128.load(p10 + cb + o), b0)));
              v128.store(dst + o, f32x4.add(top, f32x4.mul(vy, f32x4.sub(bot, top))));
            }
          }
          for (; k < c; k++) {
            const o = <usize>k << 2;
            const top = lerp(load<f32>(p00 + o), load<f32>(p00 + cb + o), fx);
            const bot = lerp(load<f32>(p10 + o), load<f32>(p10 + cb + o), fx);
            store<f32>(dst + o, lerp(top, bot, fy));
          }
        } else {
          const bx0 = border(x0, w, mode), bx1 = border(x0 + 1, w, mode);
          const by0 = border(y0, h, mode), by1 = border(y0 + 1, h, mode);
          for (let k = 0; k < c; k++) {
            const o = <usize>k << 2;
            const r0 = img + <usize>by0 * rowBytes + o;
            const r1 = img + <usize>by1 * rowBytes + o;
            const v00 = by0 < 0 || bx0 < 0 ? value : load<f32>(r0 + <usize>bx0 * cb);
            const v01 = by0 < 0 || bx1 < 0 ? value : load<f32>(r0 + <usize>bx1 * cb);
            const v10 = by1 < 0 || bx0 < 0 ? value : load<f32>(r1 + <usize>bx0 * cb);
            const v11 = by1 < 0 || bx1 < 0 ? value : load<f32>(r1 + <usize>bx1 * cb);
            store<f32>(dst + o, lerp(lerp(v00, v01, fx), lerp(v10, v11, fx), fy));
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------- color

/**
 * Σₖ wₖ·(mean of channel k) of one image: four partial sums per channel, the same plain
 * scalar code in both builds, so the result is bit-identical.
 */
function weightedMean(src: usize, hw: i32, c: i32, w: usize): f32 {
  let mu: f32 = 0;
  const step = <usize>c << 2;
  for (let k = 0; k < c; k++) {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    let p = src + (<usize>k << 2);
    let i = 0;
    for (; i + 4 <= hw; i += 4) {
      s0 += load<f32>(p);
      s1 += load<f32>(p + step);
      s2 += load<f32>(p + 2 * step);
      s3 += load<f32>(p + 3 * step);
      p += 4 * step;
    }
    for (; i < hw; i++, p += step) s0 += load<f32>(p);
    mu += load<f32>(w + (<usize>k << 2)) * (((s0 + s1) + (s2 + s3)) / <f32>hw);
  }
  return mu;
}

/**
 * v clamped to [lo, hi] the way wasm's pmax/pmin compute it (v < lo ? lo : v, then
 * hi < r ? hi : r): one instruction each in SIMD (f32x4.min/max need several for their NaN
 * rules), NaN passes through, and the scalar form gives the same bits.
 */
@inline function clampS(v: f32, lo: f32, hi: f32): f32 {
  const r = v < lo ? lo : v;
  return hi < r ? hi : r;
}

@inline function clampV(v: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmin(f32x4.pmax(v, lo), hi);
}

/** Lane l of a pattern over interleaved channels: value of channel (start + l) mod c. */
@inline function lanes(base: usize, c: i32, start: i32, mu: f32, v: usize): v128 {
  const a = load<f32>(base + (<usize>((start) % c) << 2)) + mu * load<f32>(v + (<usize>((start) % c) << 2));
  const b = load<f32>(base + (<usize>((start + 1) % c) << 2)) + mu * load<f32>(v + (<usize>((start + 1) % c) << 2));
  const d = load<f32>(base + (<usize>((start + 2) % c) << 2)) + mu * load<f32>(v + (<usize>((start + 2) % c) << 2));
  const e = load<f32>(base + (<usize>((start + 3) % c) << 2)) + mu * load<f32>(v + (<usize>((start + 3) % c) << 2));
  return f32x4(a, b, d, e);
}

/**
 * A per-sample affine map of each pixel's channels, out = M·x + t + (w·x̄)·v, clamped to
 * [lo, hi], x̄ the image's channel means: brightness, contrast (which blends toward the mean),
 * saturation, hue rotation, grayscale and PCA lighting compose into one (M, t, v) per sample
 * in JS, so color jitter is one pass (two when the mean is needed). params: f32 [n, 1 + c·c +
 * 3c] = (flag, M row-major, t, v, w); flag 0 copies the sample unclamped, 2 adds the mean term.
 * A diagonal M runs over the interleaved values with period-4 (c = 1, 2, 4) or period-12
 * (c = 3) lane patterns; a full 3×3 M splats each pixel's channels against M's columns. The
 * scalar paths do the same float operations in the same order.
 */
export function augColor(x: usize, out: usize, n: i32, hw: i32, c: i32, params: usize, lo: f32, hi: f32): void {
  const stride = <usize>(1 + c * c + 3 * c) << 2;
  const cb = <usize>c << 2;
  for (let b = 0; b < n; b++) {
    const p = params + <usize>b * stride;
    const src = x + <usize>(b * hw) * cb;
    const dst = out + <usize>(b * hw) * cb;
    const flag = load<f32>(p);
    if (flag == 0) {
      memory.copy(dst, src, <usize>hw * cb);
      continue;
    }
    const m = p + 4;
    const t = m + (<usize>(c * c) << 2);
    const v = t + cb;
    const mu: f32 = flag == 2 ? weightedMean(src, hw, c, v + cb) : 0;
    let diagonal = true;
    for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) if (i != j && load<f32>(m + (<usize>(i * c + j) << 2)) != 0) diagonal = false;
    if (diagonal) {
      const len = hw * c;
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        // Scale and offset patterns: the diagonal of M is at stride c + 1.
        const period = c == 3 ? 12 : 4;
        if (c == 1 || c == 2 || c == 3 || c == 4) {
          const vlo = f32x4.splat(lo), vhi = f32x4.splat(hi);
          const s0 = f32x4(load<f32>(m), load<f32>(m + (<usize>((1 % c) * (c + 1)) << 2)), load<f32>(m + (<usize>((2 % c) * (c + 1)) << 2)), load<f32>(m + (<usize>((3 % c) * (c + 1)) << 2)));
          const s1 = f32x4(load<f32>(m + (<usize>((4 % c) * (c + 1)) << 2)), load<f32>(m + (<usize>((5 % c) * (c + 1)) << 2)), load<f32>(m + (<usize>((6 % c) * (c + 1)) << 2)), load<f32>(m + (<usize>((7 % c) * (c + 1)) << 2)));
          const s2 = f32x4(load<f32>(m + (<usize>((8 % c) * (c + 1)) << 2)), load<f32>(m + (<usize>((9 % c) * (c + 1)) << 2)), load<f32>(m + (<usize>((10 % c) * (c + 1)) << 2)), load<f32>(m + (<usize>((11 % c) * (c + 1)) << 2)));
          const o0 = lanes(t, c, 0, mu, v), o1 = lanes(t, c, 4, mu, v), o2 = lanes(t, c, 8, mu, v);
          for (; i + period <= len; i += period) {
            const q = <usize>i << 2;
            v128.store(dst + q, clampV(f32x4.add(f32x4.mul(v128.load(src + q), s0), o0), vlo, vhi));
            if (period == 12) {
              v128.store(dst + q + 16, clampV(f32x4.add(f32x4.mul(v128.load(src + q + 16), s1), o1), vlo, vhi));
              v128.store(dst + q + 32, clampV(f32x4.add(f32x4.mul(v128.load(src + q + 32), s2), o2), vlo, vhi));
            }
          }
        }
      }
      for (; i < len; i++) {
        const k = i % c;
        const q = <usize>i << 2;
        const off = load<f32>(t + (<usize>k << 2)) + mu * load<f32>(v + (<usize>k << 2));
        store<f32>(dst + q, clampS(load<f32>(src + q) * load<f32>(m + (<usize>(k * (c + 1)) << 2)) + off, lo, hi));
      }
    } else if (c == 3) {
      const t0 = load<f32>(t) + mu * load<f32>(v);
      const t1 = load<f32>(t, 4) + mu * load<f32>(v, 4);
      const t2 = load<f32>(t, 8) + mu * load<f32>(v, 8);
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        // Columns of M (lane k = output channel k) and t; lane 3 is unused.
        const c0 = f32x4(load<f32>(m), load<f32>(m, 12), load<f32>(m, 24), 0);
        const c1 = f32x4(load<f32>(m, 4), load<f32>(m, 16), load<f32>(m, 28), 0);
        const c2 = f32x4(load<f32>(m, 8), load<f32>(m, 20), load<f32>(m, 32), 0);
        const vt = f32x4(t0, t1, t2, 0);
        const vlo = f32x4.splat(lo), vhi = f32x4.splat(hi);
        for (; i < hw; i++) {
          const q = <usize>(i * 12);
          const s = src + q;
          let r = f32x4.add(f32x4.mul(c0, v128.load32_splat(s)), f32x4.mul(c1, v128.load32_splat(s + 4)));
          r = f32x4.add(f32x4.add(r, f32x4.mul(c2, v128.load32_splat(s + 8))), vt);
          r = clampV(r, vlo, vhi);
          v128.store64_lane(dst + q, r, 0);
          v128.store32_lane(dst + q + 8, r, 2);
        }
      }
      for (; i < hw; i++) {
        const s = src + <usize>(i * 12);
        const d = dst + <usize>(i * 12);
        const r = load<f32>(s), g = load<f32>(s, 4), bl = load<f32>(s, 8);
        store<f32>(d, clampS(load<f32>(m) * r + load<f32>(m, 4) * g + load<f32>(m, 8) * bl + t0, lo, hi));
        store<f32>(d, clampS(load<f32>(m, 12) * r + load<f32>(m, 16) * g + load<f32>(m, 20) * bl + t1, lo, hi), 4);
        store<f32>(d, clampS(load<f32>(m, 24) * r + load<f32>(m, 28) * g + load<f32>(m, 32) * bl + t2, lo, hi), 8);
      }
    } else {
      for (let i = 0; i < hw; i++) {
        const s = src + <usize>i * cb;
        const d = dst + <usize>i * cb;
        for (let k = 0; k < c; k++) {
          const row = m + <usize>(k * c) * 4;
          let acc: f32 = 0;
          for (let j = 0; j < c; j++) acc += load<f32>(row + (<usize>j << 2)) * load<f32>(s + (<usize>j << 2));
          const off = load<f32>(t + (<usize>k << 2)) + mu * load<f32>(v + (<usize>k << 2));
          store<f32>(d + (<usize>k << 2), clampS(acc + off, lo, hi));
        }
      }
    }
  }
}

// ---------------------------------------------------------------- filters and noise

/** dst[i] (+)= wk · src[i] over len floats: one tap of a separable filter, SIMD along the row. */
@inline function tap(dst: usize, src: usize, len: i32, wk: f32, first: bool): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vw = f32x4.splat(wk);
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i << 2;
      const v = f32x4.mul(vw, v128.load(src + o));
      v128.store(dst + o, first ? v : f32x4.add(v128.load(dst + o), v));
    }
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    const v = wk * load<f32>(src + o);
    store<f32>(dst + o, first ? v : load<f32>(dst + o) + v);
  }
}

/**
 * Separable blur with per-sample weights (2r + 1 taps, e.g. a sampled Gaussian) and reflect
 * borders: a horizontal pass into tmp, then a vertical pass into out. Both passes add the
 * taps in the same order k = 0…2r for every pixel (interior and border), so a constant image
 * stays exactly constant. params: f32 [n, 2r + 2] = (active, weights); inactive samples are
 * copied. tmp holds one image (h·w·c floats).
 */
export function augBlur(x: usize, out: usize, tmp: usize, n: i32, h: i32, w: i32, c: i32, r: i32, params: usize): void {
  const taps = 2 * r + 1;
  const len = w * c;
  const rowBytes = <usize>len << 2;
  for (let b = 0; b < n; b++) {
    const p = params + <usize>(b * (taps + 1)) * 4;
    const img = x + <usize>(b * h) * rowBytes;
    const dstImg = out + <usize>(b * h) * rowBytes;
    if (load<f32>(p) == 0) {
      memory.copy(dstImg, img, <usize>h * rowBytes);
      continue;
    }
    const wt = p + 4;
    // Horizontal: pixels whose taps all fall inside the row (r ≤ px < w − r) are one
    // contiguous run per tap; the r pixels at each end reflect.
    const inLo = min(r, w);
    const inHi = max(w - r, inLo);
    for (let y = 0; y < h; y++) {
      const src = img + <usize>y * rowBytes;
      const dst = tmp + <usize>y * rowBytes;
      for (let k = 0; k < taps; k++) {
        tap(dst + (<usize>(inLo * c) << 2), src + (<usize>((inLo + k - r) * c) << 2), (inHi - inLo) * c, load<f32>(wt + (<usize>k << 2)), k == 0);
      }
      for (let px = 0; px < w; px++) {
        if (px == inLo) px = inHi;
        if (px >= w) break;
        for (let ch = 0; ch < c; ch++) {
          let acc: f32 = 0;
          for (let k = 0; k < taps; k++) {
            const v = load<f32>(src + (<usize>(border(px + k - r, w, 1) * c + ch) << 2));
            acc = k == 0 ? load<f32>(wt) * v : acc + load<f32>(wt + (<usize>k << 2)) * v;
          }
          store<f32>(dst + (<usize>(px * c + ch) << 2), acc);
        }
      }
    }
    // Vertical: whole rows of tmp, reflected at the top and bottom.
    for (let y = 0; y < h; y++) {
      const dst = dstImg + <usize>y * rowBytes;
      for (let k = 0; k < taps; k++) {
        tap(dst, tmp + <usize>border(y + k - r, h, 1) * rowBytes, len, load<f32>(wt + (<usize>k << 2)), k == 0);
      }
    }
  }
}

/**
 * Rectangles written into out, which holds a copy of x: rects i32 [count, 6] = (sample, y0,
 * x0, rh, rw, source), inside the image. source ≥ 0 copies the same rectangle of that sample
 * of x (cutmix); source −1 fills with `value` (mode 0) or with N(0, 1) noise (mode 1, hashed
 * from seed and the rectangle's index): random erasing and cutout.
 */
export function augPatch(x: usize, out: usize, h: i32, w: i32, c: i32, rects: usize, count: i32, mode: i32, value: f32, seed: u32): void {
  const cb = <usize>c << 2;
  for (let j = 0; j < count; j++) {
    const q = rects + <usize>(j * 24);
    const b = load<i32>(q), y0 = load<i32>(q, 4), x0 = load<i32>(q, 8);
    const rh = load<i32>(q, 12), rw = load<i32>(q, 16), from = load<i32>(q, 20);
    const stream = hash(seed, <u32>j);
    for (let y = 0; y < rh; y++) {
      const at = <usize>(((y0 + y) * w + x0)) * cb;
      const dst = out + <usize>(b * h * w) * cb + at;
      if (from >= 0) memory.copy(dst, x + <usize>(from * h * w) * cb + at, <usize>rw * cb);
      else if (mode == 0) fillF32(dst, rw * c, value);
      else for (let i = 0; i < rw * c; i++) store<f32>(dst + (<usize>i << 2), normal(stream, <u32>(y * rw * c + i)));
    }
  }
}

/**
 * Pixel noise per sample: params f32 [n, 4] = (kind, amount, low, high), seeds u32 [n].
 * kind 1 adds amount·N(0, 1) to every value, then clamps to [low, high]; kind 2 sets each
 * pixel (all its channels) with probability amount to low or high, half each (salt and
 * pepper); kind 0 copies.
 */
export function augNoise(x: usize, out: usize, n: i32, hw: i32, c: i32, params: usize, seeds: usize): void {
  const size = hw * c;
  for (let b = 0; b < n; b++) {
    const p = params + <usize>(b * 16);
    const kind = <i32>load<f32>(p);
    const amount = load<f32>(p, 4), lo = load<f32>(p, 8), hi = load<f32>(p, 12);
    const seed = load<u32>(seeds + (<usize>b << 2));
    const src = x + (<usize>(b * size) << 2);
    const dst = out + (<usize>(b * size) << 2);
    if (kind == 1) {
      for (let i = 0; i < size; i++) {
        const o = <usize>i << 2;
        store<f32>(dst + o, clampS(load<f32>(src + o) + amount * normal(seed, <u32>i), lo, hi));
      }
    } else if (kind == 2) {
      for (let i = 0; i < hw; i++) {
        const o = <usize>(i * c) << 2;
        const u = hash(seed, <u32>i);
        if (unit(u) <= amount) fillF32(dst + o, c, (u & 1) == 0 ? lo : hi);
        else memory.copy(dst + o, src + o, <usize>c << 2);
      }
    } else {
      memory.copy(dst, src, <usize>size << 2);
    }
  }
}

/** out[i] = lam[i]·a[i] + (1 − lam[i])·b[perm[i]], size values per sample (mixup). */
export function augBlend(a: usize, b: usize, out: usize, n: i32, size: i32, perm: usize, lam: usize): void {
  const bytes = <usize>size << 2;
  for (let s = 0; s < n; s++) {
    const l = load<f32>(lam + (<usize>s << 2));
    const pa = a + <usize>s * bytes;
    const pb = b + <usize>load<i32>(perm + (<usize>s << 2)) * bytes;
    const po = out + <usize>s * bytes;
    const m: f32 = 1 - l;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const vl = f32x4.splat(l), vm = f32x4.splat(m);
      for (; i + 4 <= size; i += 4) {
        const o = <usize>i << 2;
        v128.store(po + o, f32x4.add(f32x4.mul(vl, v128.load(pa + o)), f32x4.mul(vm, v128.load(pb + o))));
      }
    }
    for (; i < size; i++) {
      const o = <usize>i << 2;
      store<f32>(po + o, l * load<f32>(pa + o) + m * load<f32>(pb + o));
    }
  }
}
