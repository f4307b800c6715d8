
const MR: i32 = ASC_FEATURE_SIMD ? 6 : 4;
const NR: i32 = ASC_FEATURE_SIMD ? 8 : 4;
const MC: i32 = ASC_FEATURE_SIMD ? 120 : 64;
const KC: i32 = 256;
const NC: i32 = 2048;

export function gemmScratchBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

function packPanel(src: usize, rs: i32, ps: i32, rows: i32, R: i32, kc: i32, dst: usize): void {
  if (rs == 1) {
    const sStep = <usize>ps << 2;
    const dStep = <usize>R << 2;
    for (let p = 0; p < kc; p++) {
      let r = 0;
      if (ASC_FEATURE_SIMD) {
        for (; r + 4 <= rows; r += 4) v128.store(dst + (<usize>r << 2), v128.load(src + (<usize>r << 2)));
      }
      for (; r < rows; r++) store<f32>(dst + (<usize>r << 2), load<f32>(src + (<usize>r << 2)));
      for (; r < R; r++) store<f32>(dst + (<usize>r << 2), 0);
      src += sStep;
      dst += dStep;
    }
  } else {
    const rStep = <usize>rs << 2;
    const dStep = <usize>R << 2;
    let r = 0;
    if (ASC_FEATURE_SIMD) {
      for (; r + 4 <= rows; r += 4) {
        let s0 = src + <usize>r * rStep;
        let s1 = s0 + rStep;
        let s2 = s1 + rStep;
        let s3 = s2 + rStep;
        let d = dst + (<usize>r << 2);
        let p = 0;
        for (; p + 4 <= kc; p += 4) {
          const r0 = v128.load(s0), r1 = v128.load(s1), r2 = v128.load(s2), r3 = v128.load(s3);
          const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
          const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
          const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
          const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
          v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
          d += dStep;
          v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
          d += dStep;
          v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
          d += dStep;
          v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
          d += dStep;
          s0 += 16; s1 += 16; s2 += 16; s3 += 16;
        }
        for (; p < kc; p++) {
          store<f32>(d, load<f32>(s0));
          store<f32>(d, load<f32>(s1), 4);
          store<f32>(d, load<f32>(s2), 8);
          store<f32>(d, load<f32>(s3), 12);
          s0 += 4; s1 += 4; s2 += 4; s3 += 4;
          d += dStep;
        }
      }
    }
    for (; r < rows; r++) {
      let s = src + <usize>r * rStep;
      let d = dst + (<usize>r << 2);
      for (let p = 0; p < kc; p++) {
        store<f32>(d, load<f32>(s));
        s += 4;
        d += dStep;
      }
    }
    for (; r < R; r++) {
      let d = dst + (<usize>r << 2);
      for (let p = 0; p < kc; p++) {
        store<f32>(d, 0);
        d += dStep;
      }
    }
  }
}

function micro(kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, add: bool): void {
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    let c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
    let p = 0;
    let a: v128;
    for (; p + 2 <= kc; p += 2) {
      const b0 = v128.load(pb, 0);
      const b1 = v128.load(pb, 16);
      a = v128.load32_splat(pa, 0);
      c00 = f32x4.add(c00, f32x4.mul(a, b0));
      c01 = f32x4.add(c01, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 4);
      c10 = f32x4.add(c10, f32x4.mul(a, b0));
      c11 = f32x4.add(c11, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 8);
      c20 = f32x4.add(c20, f32x4.mul(a, b0));
      c21 = f32x4.add(c21, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 12);
      c30 = f32x4.add(c30, f32x4.mul(a, b0));
      c31 = f32x4.add(c31, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 16);
      c40 = f32x4.add(c40, f32x4.mul(a, b0));
      c41 = f32x4.add(c41, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 20);
      c50 = f32x4.add(c50, f32x4.mul(a, b0));
      c51 = f32x4.add(c51, f32x4.mul(a, b1));
      const b0_ = v128.load(pb, 32);
      const b1_ = v128.load(pb, 48);
      a = v128.load32_splat(pa, 24);
      c00 = f32x4.add(c00, f32x4.mul(a, b0_));
      c01 = f32x4.add(c01, f32x4.mul(a, b1_));
      a = v128.load32_splat(pa, 28);
      c10 = f32x4.add(c10, f32x4.mul(a, b0_));
      c11 = f32x4.add(c11, f32x4.mul(a, b1_));
      a = v128.load32_splat(pa, 32);
      c20 = f32x4.add(c20, f32x4.mul(a, b0_));
      c21 = f32x4.add(c21, f32x4.mul(a, b1_));
      a = v128.load32_splat(pa, 36);
      c30 = f32x4.add(c30, f32x4.mul(a, b0_));
      c31 = f32x4.add(c31, f32x4.mul(a, b1_));
      a = v128.load32_splat(pa, 40);
      c40 = f32x4.add(c40, f32x4.mul(a, b0_));
      c41 = f32x4.add(c41, f32x4.mul(a, b1_));
      a = v128.load32_splat(pa, 44);
      c50 = f32x4.add(c50, f32x4.mul(a, b0_));
      c51 = f32x4.add(c51, f32x4.mul(a, b1_));
      pa += 48;
      pb += 64;
    }
    if (p < kc) {
      const b0 = v128.load(pb, 0);
      const b1 = v128.load(pb, 16);
      a = v128.load32_splat(pa, 0);
      c00 = f32x4.add(c00, f32x4.mul(a, b0));
      c01 = f32x4.add(c01, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 4);
      c10 = f32x4.add(c10, f32x4.mul(a, b0));
      c11 = f32x4.add(c11, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 8);
      c20 = f32x4.add(c20, f32x4.mul(a, b0));
      c21 = f32x4.add(c21, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 12);
      c30 = f32x4.add(c30, f32x4.mul(a, b0));
      c31 = f32x4.add(c31, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 16);
      c40 = f32x4.add(c40, f32x4.mul(a, b0));
      c41 = f32x4.add(c41, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 20);
      c50 = f32x4.add(c50, f32x4.mul(a, b0));
      c51 = f32x4.add(c51, f32x4.mul(a, b1));
    }
    const ld = <usize>ldc << 2;
    let r = c;
    if (add) {
      v128.store(r, f32x4.add(v128.load(r, 0), c00), 0);
      v128.store(r, f32x4.add(v128.load(r, 16), c01), 16);
      r += ld;
      v128.store(r, f32x4.add(v128.load(r, 0), c10), 0);
      v128.store(r, f32x4.add(v128.load(r, 16), c11), 16);
      r += ld;
      v128.store(r, f32x4.add(v128.load(r, 0), c20), 0);
      v128.store(r, f32x4.add(v128.load(r, 16), c21), 16);
      r += ld;
      v128.store(r, f32x4.add(v128.load(r, 0), c30), 0);
      v128.store(r, f32x4.add(v128.load(r, 16), c31), 16);
      r += ld;
      v128.store(r, f32x4.add(v128.load(r, 0), c40), 0);
      v128.store(r, f32x4.add(v128.load(r, 16), c41), 16);
      r += ld;
      v128.store(r, f32x4.add(v128.load(r, 0), c50), 0);
      v128.store(r, f32x4.add(v128.load(r, 16), c51), 16);
    } else {
      v128.store(r, c00, 0);
      v128.store(r, c01, 16);
      r += ld;
      v128.store(r, c10, 0);
      v128.store(r, c11, 16);
      r += ld;
      v128.store(r, c20, 0);
      v128.store(r, c21, 16);
      r += ld;
      v128.store(r, c30, 0);
      v128.store(r, c31, 16);
      r += ld;
      v128.store(r, c40, 0);
      v128.store(r, c41, 16);
      r += ld;
      v128.store(r, c50, 0);
      v128.store(r, c51, 16);
    }
  } else {
    let c00: f32 = 0, c01: f32 = 0, c02: f32 = 0, c03: f32 = 0;
    let c10: f32 = 0, c11: f32 = 0, c12: f32 = 0, c13: f32 = 0;
    let c20: f32 = 0, c21: f32 = 0, c22: f32 = 0, c23: f32 = 0;
    let c30: f32 = 0, c31: f32 = 0, c32: f32 = 0, c33: f32 = 0;
    for (let p = 0; p < kc; p++) {
      const b0 = load<f32>(pb), b1 = load<f32>(pb, 4), b2 = load<f32>(pb, 8), b3 = load<f32>(pb, 12);
      let a = load<f32>(pa);
      c00 += a * b0; c01 += a * b1; c02 += a * b2; c03 += a * b3;
      a = load<f32>(pa, 4);
      c10 += a * b0; c11 += a * b1; c12 += a * b2; c13 += a * b3;
      a = load<f32>(pa, 8);
      c20 += a * b0; c21 += a * b1; c22 += a * b2; c23 += a * b3;
      a = load<f32>(pa, 12);
      c30 += a * b0; c31 += a * b1; c32 += a * b2; c33 += a * b3;
      pa += 16;
      pb += 16;
    }
    const ld = <usize>ldc << 2;
    let r = c;
    if (add) {
      c00 += load<f32>(r); c01 += load<f32>(r, 4); c02 += load<f32>(r, 8); c03 += load<f32>(r, 12);
      r += ld;
      c10 += load<f32>(r); c11 += load<f32>(r, 4); c12 += load<f32>(r, 8); c13 += load<f32>(r, 12);
      r += ld;
      c20 += load<f32>(r); c21 += load<f32>(r, 4); c22 += load<f32>(r, 8); c23 += load<f32>(r, 12);
      r += ld;
      c30 += load<f32>(r); c31 += load<f32>(r, 4); c32 += load<f32>(r, 8); c33 += load<f32>(r, 12);
      r = c;
    }
    store<f32>(r, c00); store<f32>(r, c01, 4); store<f32>(r, c02, 8); store<f32>(r, c03, 12);
    r += ld;
    store<f32>(r, c10); store<f32>(r, c11, 4); store<f32>(r, c12, 8); store<f32>(r, c13, 12);
    r += ld;
    store<f32>(r, c20); store<f32>(r, c21, 4); store<f32>(r, c22, 8); store<f32>(r, c23, 12);
    r += ld;
    store<f32>(r, c30); store<f32>(r, c31, 4); store<f32>(r, c32, 8); store<f32>(r, c33, 12);
  }
}

export function gemm(transA: i32, transB: i32, m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, accumulate: i32, scratch: usize): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (accumulate == 0) {
      for (let i = 0; i < m; i++) memory.fill(c + ((<usize>i * ldc) << 2), 0, <usize>n << 2);
    }
    return;
  }
  const rsA = transA ? 1 : lda, csA = transA ? lda : 1;
  const rsB = transB ? ldb : 1, csB = transB ? 1 : ldb;
  const ap = scratch;
  const bp = ap + (<usize>(MC * KC) << 2);
  const tile = bp + (<usize>(KC * NC) << 2);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const add = pc > 0 || accumulate != 0;
      for (let j = 0; j < nc; j += NR) {
        packPanel(b + ((<usize>pc * csB + <usize>(jc + j) * rsB) << 2), rsB, csB, min(NR, nc - j), NR, kc, bp + (<usize>(j * kc) << 2));
      }
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        for (let i = 0; i < mc; i += MR) {
          packPanel(a + ((<usize>(ic + i) * rsA + <usize>pc * csA) << 2), rsA, csA, min(MR, mc - i), MR, kc, ap + (<usize>(i * kc) << 2));
        }
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const pb = bp + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const pa = ap + (<usize>(ir * kc) << 2);
            const cp = c + ((<usize>(ic + ir) * ldc + jc + jr) << 2);
            if (mr == MR && nr == NR) {
              micro(kc, pa, pb, cp, ldc, add);
            } else {
              micro(kc, pa, pb, tile, NR, false);
              for (let i = 0; i < mr; i++) {
                const row = cp + ((<usize>i * ldc) << 2);
                const trow = tile + (<usize>(i * NR) << 2);
                for (let j = 0; j < nr; j++) {
                  const v = load<f32>(trow + (<usize>j << 2));
                  const dst = row + (<usize>j << 2);
                  store<f32>(dst, add ? load<f32>(dst) + v : v);
                }
              }
            }
          }
        }
      }
    }
  }
}
