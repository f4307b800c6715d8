// GEMM: C (m×n, row stride ldc) = op(A)·op(B) (+ C when accumulate != 0), row-major f32.
//   op(A) is m×k: A is stored m×k (row stride lda) when transA == 0, k×m when transA == 1.
//   op(B) is k×n: B is stored k×n (row stride ldb) when transB == 0, n×k when transB == 1.
// C must not overlap A or B. `scratch` is a caller-owned workspace of gemmScratchBytes()
// bytes, 16-byte aligned; nothing is allocated here.
//
// Blocking scheme — Goto & van de Geijn, "Anatomy of high-performance matrix
// multiplication" (TOMS 2008), loop order as in BLIS (Van Zee & van de Geijn 2015):
//
//   for jc in 0..n step NC           B panel  op(B)[pc:pc+KC, jc:jc+NC] packed once   (L3)
//     for pc in 0..k step KC
//       pack B panel: NR-column strips, each KC rows × NR floats, row after row
//       for ic in 0..m step MC       A block  op(A)[ic:ic+MC, pc:pc+KC] packed        (L2)
//         pack A block: MR-row strips, each KC steps × MR elements
//         for jr in 0..NC step NR    one B strip (KC×NR) stays in L1 ...
//           for ir in 0..MC step MR  ... while the A strips stream through from L2
//             micro-kernel: MR×NR tile of C += A strip · B strip, all KC steps in registers
//
// Packing reads op(A) and op(B) through (row stride, column stride) pairs, so the four
// transpose variants differ only in which packing path runs (a plain copy, or 4×4
// register transposes when the k index is the contiguous one); the micro-kernel always
// sees the same layout, and NN, NT, TN and TT run at the same speed. Strips are zero-padded
// to MR rows / NR columns, so the kernel never branches on size: an edge tile is computed
// whole into a small tile buffer in scratch and only its valid part is copied (or added)
// out to C.
//
// SIMD build (sizes measured on Zen 3 under V8/Node 20, see bench/gemm.mjs):
//   MR×NR = 5×8: 10 f32x4 accumulators + 2 B vectors + 1 A vector + 1 product temporary =
//     14 of the 15 xmm registers V8 allocates on x64 (xmm15 is its scratch). 6×8 and 4×12
//     need 16–17 and V8 spills an accumulator every k step (the store-forward latency then
//     sits on the add chain: 20 GFLOP/s instead of 33); 4×8 fits but spends more of each
//     loop iteration on loads and loop overhead; 3×12 measures the same as 5×8.
//     Wasm SIMD has no fused multiply-add outside relaxed-simd: the SIMD build does mul + add,
//     the relaxed-SIMD build one f32x4.relaxed_madd (an FMA where the CPU has one).
//   A is packed pre-broadcast: every element of op(A) is stored as an f32x4 splat. The
//     kernel then loads A with v128.load at a constant offset, which V8 folds into the
//     addressing mode, where v128.load32_splat with an offset costs an extra lea per row
//     (measured: +4–7% on the kernel, for 4× the A footprint).
//   KC = 256: a B strip is KC·NR·4 = 8 KiB and stays in the 32 KiB L1 next to the A strip
//     streaming past it (KC·MR·16 = 20 KiB); a long KC also amortizes loading and storing C.
//   MC = 60: the packed A block is MC·KC·16 = 240 KiB, half of the 512 KiB L2, so it stays
//     there while every B strip of the panel passes through.
//   NC = 1024: the packed B panel is KC·NC·4 = 1 MiB and lives in L3 (32 MiB, shared).
// Scalar build (no SIMD): the same blocking with a 4×4 kernel of 16 scalar accumulators
// and a plain (not broadcast) A block.

const MR: i32 = ASC_FEATURE_SIMD ? 5 : 4;
const NR: i32 = ASC_FEATURE_SIMD ? 8 : 4;
const KC: i32 = 256;
const MC: i32 = ASC_FEATURE_SIMD ? 60 : 128; // a multiple of MR
const NC: i32 = 1024; // a multiple of NR
/** Widest C that the narrow path takes (see narrow()). */
const NARROW_N: i32 = 16;
/** Widest C for which computing Cᵀ pays (see gemm()). */
const SWAP_MAX_N: i32 = 64;
/** Shortest k for which it pays: each tile is written out transposed once per k block. */
const SWAP_MIN_K: i32 = 64;
/** Floats stored per packed element of A: 4 when broadcast to an f32x4 (SIMD build). */
const AW: i32 = ASC_FEATURE_SIMD ? 4 : 1;

const A_BYTES: i32 = MC * KC * AW * 4;
const B_BYTES: i32 = KC * NC * 4;
const TILE_BYTES: i32 = MR * NR * 4;

/** Bytes of workspace gemm() needs (packed A block, packed B panel, edge tile). */
export function gemmScratchBytes(): i32 {
  return A_BYTES + B_BYTES + TILE_BYTES;
}

export function gemm(
  transA: i32, transB: i32, m: i32, n: i32, k: i32,
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32,
  accumulate: i32, scratch: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (accumulate == 0) {
      for (let i = 0; i < m; i++) memory.fill(c + ((<usize>i * ldc) << 2), 0, <usize>n << 2);
    }
    return;
  }
  // A narrow C (few columns, many rows: convolutions with few filters, their filter
  // gradients) makes packing the tall A block — 4 floats written per element, for only n
  // multiply-adds each — cost more than the arithmetic. Then compute Cᵀ = op(B)ᵀ·op(A)ᵀ
  // instead: the narrow operand becomes the small broadcast block, the tall one is packed
  // plainly once, and tiles are written out transposed (measured on the MNIST CNN's convs).
  if (ASC_FEATURE_SIMD && n <= NARROW_N) {
    narrow(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, scratch);
  } else if (n <= SWAP_MAX_N && m >= 4 * n && k >= SWAP_MIN_K) {
    blocked(transB ^ 1, transA ^ 1, n, m, k, b, ldb, a, lda, c, ldc, accumulate, scratch, true);
  } else {
    blocked(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, scratch, false);
  }
}

// Shared packing, for a product split over threads (ops/matmul.ts): op(A) and op(B) are
// packed whole, once, by all threads together (gemmPack, by strips), and then every thread
// computes blocks of C's tiles from the two packed buffers (gemmTiles), so no thread packs
// what another one packs too. Packed layout, per KC block of k starting at pc (kc steps):
//   A: strip s (MR rows) at packedA + 4·AW·(pc·mPad + s·MR·kc)   mPad = m rounded up to MR
//   B: strip s (NR cols) at packedB + 4·(pc·nPad + s·NR·kc)       nPad = n rounded up to NR
// Each tile is summed exactly as in blocked() (KC blocks in order, each from zero, then
// added), so the result is the one-thread result bit for bit.

/** Bytes of the packed op(A) (side 0) or op(B) (side 1) of an m×n×k product. */
export function gemmPackedBytes(side: i32, m: i32, n: i32, k: i32): i32 {
  return side == 0 ? ((m + MR - 1) / MR) * MR * k * AW * 4 : ((n + NR - 1) / NR) * NR * k * 4;
}

/**
 * Packs strips [first, first + count) of op(A) (side 0: m rows, MR-row strips, transposed
 * when trans != 0, row stride ld) or of op(B) (side 1: n columns, NR-column strips), over
 * all of k, into `dst` in the layout above.
 */
export function gemmPack(side: i32, trans: i32, rows: i32, k: i32, src: usize, ld: i32, first: i32, count: i32, dst: usize): void {
  const R = side == 0 ? MR : NR;
  const W = side == 0 ? AW : 1;
  const pad = ((rows + R - 1) / R) * R;
  // (rs, ks) as in blocked(): along a strip's rows, along k.
  const rs = side == 0 ? (trans != 0 ? 1 : ld) : (trans != 0 ? ld : 1);
  const ks = side == 0 ? (trans != 0 ? ld : 1) : (trans != 0 ? 1 : ld);
  for (let pc = 0; pc < k; pc += KC) {
    const kc = min(KC, k - pc);
    for (let s = first; s < first + count; s++) {
      const r = s * R;
      const from = src + ((<usize>r * rs + <usize>pc * ks) << 2);
      const to = dst + (<usize>(W * (pc * pad + r * kc)) << 2);
      if (side == 0) packStripA(from, rs, ks, min(R, rows - r), kc, to);
      else packStrip(from, rs, ks, min(R, rows - r), R, kc, to);
    }
  }
}

/**
 * The tiles of C in strips [i0, i1) of rows (MR each) × [j0, j1) of columns (NR each), from
 * gemmPack's buffers; `tile` is MR·NR floats of workspace for edge tiles.
 */
export function gemmTiles(m: i32, n: i32, k: i32, packedA: usize, packedB: usize, c: usize, ldc: i32, accumulate: i32,
  i0: i32, i1: i32, j0: i32, j1: i32, tile: usize): void {
  const mPad = ((m + MR - 1) / MR) * MR;
  const nPad = ((n + NR - 1) / NR) * NR;
  for (let pc = 0; pc < k; pc += KC) {
    const kc = min(KC, k - pc);
    const add = pc > 0 || accumulate != 0;
    const blockA = packedA + (<usize>(AW * pc * mPad) << 2);
    const blockB = packedB + (<usize>(pc * nPad) << 2);
    for (let js = j0; js < j1; js++) {
      const j = js * NR;
      const nr = min(NR, n - j);
      const pb = blockB + (<usize>(j * kc) << 2);
      for (let is = i0; is < i1; is++) {
        const i = is * MR;
        const mr = min(MR, m - i);
        const pa = blockA + (<usize>(AW * i * kc) << 2);
        const cij = c + ((<usize>i * ldc + <usize>j) << 2);
        if (mr == MR && nr == NR) {
          kernel(kc, pa, pb, cij, ldc, add);
        } else {
          kernel(kc, pa, pb, tile, NR, false);
          copyRect(tile, NR, cij, ldc, mr, nr, add);
        }
      }
    }
  }
}

/** The blocked product; with transposedC the m×n result is stored as Cᵀ (C[j][i] = result[i][j]). */
function blocked(
  transA: i32, transB: i32, m: i32, n: i32, k: i32,
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32,
  accumulate: i32, scratch: usize, transposedC: bool,
): void {
  // Element (i, p) of op(A) is at a + 4·(i·rsA + p·ksA); element (p, j) of op(B) at
  // b + 4·(j·rsB + p·ksB) ("r" along the rows of a strip, "k" along the shared dimension).
  const rsA = transA != 0 ? 1 : lda;
  const ksA = transA != 0 ? lda : 1;
  const rsB = transB != 0 ? ldb : 1;
  const ksB = transB != 0 ? 1 : ldb;
  const packedA = scratch;
  const packedB = scratch + A_BYTES;
  const tile = packedB + B_BYTES;

  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      // The first k block writes C (or adds to it when accumulating), later ones add.
      const add = pc > 0 || accumulate != 0;
      for (let j = 0; j < nc; j += NR) {
        packStrip(
          b + ((<usize>(jc + j) * rsB + <usize>pc * ksB) << 2), rsB, ksB, min(NR, nc - j), NR, kc,
          packedB + (<usize>(j * kc) << 2),
        );
      }
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        for (let i = 0; i < mc; i += MR) {
          packStripA(
            a + ((<usize>(ic + i) * rsA + <usize>pc * ksA) << 2), rsA, ksA, min(MR, mc - i), kc,
            packedA + (<usize>(i * kc * AW) << 2),
          );
        }
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const pb = packedB + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const pa = packedA + (<usize>(ir * kc * AW) << 2);
            if (transposedC) {
              kernel(kc, pa, pb, tile, NR, false);
              copyTileTransposed(tile, c + ((<usize>(jc + jr) * ldc + <usize>(ic + ir)) << 2), ldc, mr, nr, add);
              continue;
            }
            const cij = c + ((<usize>(ic + ir) * ldc + <usize>(jc + jr)) << 2);
            if (mr == MR && nr == NR) {
              kernel(kc, pa, pb, cij, ldc, add);
            } else {
              kernel(kc, pa, pb, tile, NR, false);
              copyRect(tile, NR, cij, ldc, mr, nr, add);
            }
          }
        }
      }
    }
  }
}

/**
 * C with at most NARROW_N columns (convolutions with few filters, their filter gradients, a
 * classifier's last layer). Only B is packed — per KC block, kc rows of W = 8 or 16 floats,
 * small enough for L1 — and A is read where it lies, one broadcast per element: a packed
 * A block would cost 4 floats written per element for only n multiply-adds each.
 * Every element is summed exactly as in blocked() — from zero over each KC block in k
 * order, then added to C — so the result does not depend on the path or on how a caller
 * splits C into parts.
 */
function narrow(
  transA: i32, transB: i32, m: i32, n: i32, k: i32,
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32,
  accumulate: i32, scratch: usize,
): void {
  const rsA = transA != 0 ? 1 : lda;
  const ksA = transA != 0 ? lda : 1;
  const rsB = transB != 0 ? ldb : 1;
  const ksB = transB != 0 ? 1 : ldb;
  const W = n <= 8 ? 8 : 16;
  const R = W == 8 ? 4 : 2;
  const packedB = scratch;
  const tile = scratch + (<usize>(KC * 16) << 2);
  for (let pc = 0; pc < k; pc += KC) {
    const kc = min(KC, k - pc);
    packStrip(b + (<usize>pc * ksB << 2), rsB, ksB, n, W, kc, packedB);
    for (let i = 0; i < m; i += R) {
      narrowStrip(W, min(R, m - i), a + ((<usize>i * rsA + <usize>pc * ksA) << 2), <usize>rsA << 2, <usize>ksA << 2,
        kc, 1, 0, packedB, <usize>W << 2, c + ((<usize>i * ldc) << 2), ldc, n, pc > 0 || accumulate != 0, tile);
    }
  }
}

/**
 * One strip of a narrow product, shared with the direct convolution (assembly/conv.ts):
 * rows r < mr (≤ 4 when W = 8, ≤ 2 when W = 16) of C (row stride ldc floats, n ≤ W
 * columns stored) = (add ? C : 0) + Σ over `segs` segments of `len` steps of
 *   A(r) at a0 + r·rowBytes + s·segStride + p·step   ×   B row at pb + (s·len + p)·pbStep,
 * summed from zero in that order. A GEMM strip is one segment; a convolution's output
 * pixels are kh segments, one per kernel row. `tile` (32 floats) takes partial strips.
 */
export function narrowStrip(W: i32, mr: i32, a0: usize, rowBytes: usize, step: usize, len: i32, segs: i32,
  segStride: usize, pb: usize, pbStep: usize, c: usize, ldc: i32, n: i32, add: bool, tile: usize): void {
  if (!ASC_FEATURE_SIMD) return; // only SIMD builds take the narrow paths
  // Rows past mr read row 0 again (never out of bounds); their sums are not stored.
  const full = mr == (W == 8 ? 4 : 2) && n == W;
  const dst = full ? c : tile;
  const ld = full ? ldc : W;
  const keep = full && add;
  const a1 = mr > 1 ? a0 + rowBytes : a0;
  if (W == 8) {
    narrow8(a0, a1, mr > 2 ? a0 + 2 * rowBytes : a0, mr > 3 ? a0 + 3 * rowBytes : a0,
      step, len, segs, segStride, pb, pbStep, dst, ld, keep);
  } else {
    narrow16(a0, a1, step, len, segs, segStride, pb, pbStep, dst, ld, keep);
  }
  if (!full) copyRect(tile, W, c, ldc, mr, n, add);
}

/**
 * narrowStrip's kernel for W = 8: four rows, 8 accumulators (five rows and 10 spilled under
 * V8 with the segment loop's pointers: 1.4× slower, measured).
 */
function narrow8(a0: usize, a1: usize, a2: usize, a3: usize, step: usize, len: i32, segs: i32,
  segStride: usize, pb: usize, pbStep: usize, c: usize, ld: i32, add: bool): void {
  const zero = f32x4.splat(0);
  let c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero;
  let c21 = zero, c30 = zero, c31 = zero;
  const span = <usize>len * step;
  // One moving pointer and fixed row offsets: the loads fold the offset into their address.
  const r1 = a1 - a0, r2 = a2 - a0, r3 = a3 - a0;
  for (let s = 0; s < segs; s++) {
    let p = a0 + <usize>s * segStride;
    const end = p + span;
    while (p < end) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      let x = v128.load32_splat(p);
      c00 = madd(x, b0, c00);
      c01 = madd(x, b1, c01);
      x = v128.load32_splat(p + r1);
      c10 = madd(x, b0, c10);
      c11 = madd(x, b1, c11);
      x = v128.load32_splat(p + r2);
      c20 = madd(x, b0, c20);
      c21 = madd(x, b1, c21);
      x = v128.load32_splat(p + r3);
      c30 = madd(x, b0, c30);
      c31 = madd(x, b1, c31);
      p += step;
      pb += pbStep;
    }
  }
  const l = <usize>ld << 2;
  storeRow(c, c00, c01, add);
  storeRow(c + l, c10, c11, add);
  storeRow(c + 2 * l, c20, c21, add);
  storeRow(c + 3 * l, c30, c31, add);
}

/** narrowStrip's kernel for W = 16: two rows, 8 accumulators. */
function narrow16(a0: usize, a1: usize, step: usize, len: i32, segs: i32, segStride: usize,
  pb: usize, pbStep: usize, c: usize, ld: i32, add: bool): void {
  const zero = f32x4.splat(0);
  let c00 = zero, c01 = zero, c02 = zero, c03 = zero;
  let c10 = zero, c11 = zero, c12 = zero, c13 = zero;
  const span = <usize>len * step;
  for (let s = 0; s < segs; s++) {
    const o = <usize>s * segStride;
    let p0 = a0 + o, p1 = a1 + o;
    const end = p0 + span;
    while (p0 < end) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      const b2 = v128.load(pb, 32);
      const b3 = v128.load(pb, 48);
      let x = v128.load32_splat(p0);
      c00 = madd(x, b0, c00);
      c01 = madd(x, b1, c01);
      c02 = madd(x, b2, c02);
      c03 = madd(x, b3, c03);
      x = v128.load32_splat(p1);
      c10 = madd(x, b0, c10);
      c11 = madd(x, b1, c11);
      c12 = madd(x, b2, c12);
      c13 = madd(x, b3, c13);
      p0 += step;
      p1 += step;
      pb += pbStep;
    }
  }
  const l = <usize>ld << 2;
  storeRow(c, c00, c01, add);
  storeRow(c + 32, c02, c03, add);
  storeRow(c + l, c10, c11, add);
  storeRow(c + l + 32, c12, c13, add);
}

/** Stores (or adds) 8 floats at p. */
@inline export function storeRow(p: usize, x: v128, y: v128, add: bool): void {
  if (add) {
    v128.store(p, f32x4.add(v128.load(p), x));
    v128.store(p, f32x4.add(v128.load(p, 16), y), 16);
  } else {
    v128.store(p, x);
    v128.store(p, y, 16);
  }
}

/** Writes (or adds) the rows×cols corner of a buffer with row stride lds to C. */
function copyRect(src: usize, lds: i32, c: usize, ldc: i32, rows: i32, cols: i32, add: bool): void {
  for (let i = 0; i < rows; i++) {
    const s = src + (<usize>(i * lds) << 2);
    const d = c + ((<usize>i * ldc) << 2);
    for (let j = 0; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(d + o, add ? load<f32>(d + o) + load<f32>(s + o) : load<f32>(s + o));
    }
  }
}

/** Writes (or adds) the valid mr×nr corner of the tile to C transposed: C[j][i] = tile[i][j]. */
function copyTileTransposed(tile: usize, c: usize, ldc: i32, mr: i32, nr: i32, add: bool): void {
  for (let j = 0; j < nr; j++) {
    const dst = c + ((<usize>j * ldc) << 2);
    for (let i = 0; i < mr; i++) {
      const v = load<f32>(tile + (<usize>(i * NR + j) << 2));
      const o = <usize>i << 2;
      store<f32>(dst + o, add ? load<f32>(dst + o) + v : v);
    }
  }
}

/**
 * Packs one strip of `rows` (≤ R) rows × kc steps, element (r, p) read at
 * src + 4·(r·rs + p·ks), as kc groups of R floats (dst[p·R + r]), rows rows..R-1 zero.
 * Used for the B panel (R = NR) and, in the scalar build, for the A block (R = MR).
 */
function packStrip(src: usize, rs: i32, ks: i32, rows: i32, R: i32, kc: i32, dst: usize): void {
  const dStep = <usize>R << 2;
  if (rs == 1) {
    // The strip's rows are contiguous (B not transposed): copy R floats per step.
    const sStep = <usize>ks << 2;
    if (ASC_FEATURE_SIMD && rows == 8 && R == 8) {
      // A full B strip (NR = 8): two vectors per step.
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += sStep;
        dst += dStep;
      }
      return;
    }
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
    return;
  }
  // The k index is contiguous (ks == 1, B transposed): transpose 4 rows × 4 steps at a time.
  const rStep = <usize>rs << 2;
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
        const x0 = v128.load(s0), x1 = v128.load(s1), x2 = v128.load(s2), x3 = v128.load(s3);
        const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
        const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
        v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
        d += dStep;
        v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
        d += dStep;
        v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
        d += dStep;
        v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
        d += dStep;
        s0 += 16;
        s1 += 16;
        s2 += 16;
        s3 += 16;
      }
      for (; p < kc; p++) {
        store<f32>(d, load<f32>(s0));
        store<f32>(d, load<f32>(s1), 4);
        store<f32>(d, load<f32>(s2), 8);
        store<f32>(d, load<f32>(s3), 12);
        s0 += 4;
        s1 += 4;
        s2 += 4;
        s3 += 4;
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

/**
 * Packs one MR-row strip of the A block (element (r, p) at src + 4·(r·rs + p·ks)) as kc
 * groups of MR elements; in the SIMD build each element is stored broadcast to an f32x4.
 */
function packStripA(src: usize, rs: i32, ks: i32, rows: i32, kc: i32, dst: usize): void {
  if (ASC_FEATURE_SIMD) {
    const dStep = <usize>MR << 4;
    const zero = f32x4.splat(0);
    if (rs == 1) {
      // A transposed: the strip's MR elements of one step are contiguous.
      const sStep = <usize>ks << 2;
      if (rows == 5 && MR == 5) {
        // A full strip: five broadcasts per step.
        for (let p = 0; p < kc; p++) {
          v128.store(dst, v128.load32_splat(src));
          v128.store(dst, v128.load32_splat(src, 4), 16);
          v128.store(dst, v128.load32_splat(src, 8), 32);
          v128.store(dst, v128.load32_splat(src, 12), 48);
          v128.store(dst, v128.load32_splat(src, 16), 64);
          src += sStep;
          dst += dStep;
        }
        return;
      }
      for (let p = 0; p < kc; p++) {
        let r = 0;
        for (; r < rows; r++) v128.store(dst + (<usize>r << 4), v128.load32_splat(src + (<usize>r << 2)));
        for (; r < MR; r++) v128.store(dst + (<usize>r << 4), zero);
        src += sStep;
        dst += dStep;
      }
    } else {
      // A not transposed: walk each row of the strip along k.
      const rStep = <usize>rs << 2;
      let r = 0;
      for (; r < rows; r++) {
        let s = src + <usize>r * rStep;
        let d = dst + (<usize>r << 4);
        for (let p = 0; p < kc; p++) {
          v128.store(d, v128.load32_splat(s));
          s += 4;
          d += dStep;
        }
      }
      for (; r < MR; r++) {
        let d = dst + (<usize>r << 4);
        for (let p = 0; p < kc; p++) {
          v128.store(d, zero);
          d += dStep;
        }
      }
    }
  } else {
    packStrip(src, rs, ks, rows, MR, kc, dst);
  }
}

/**
 * The micro-kernel: the MR×NR tile at c (row stride ldc) = (add ? tile : 0) + the
 * product of a packed A strip (pa) and a packed B strip (pb) over kc steps.
 * The SIMD loop is written out by hand, one k step per iteration: unrolling it by two
 * (by hand or as a do-while) makes V8 hoist the next step's loads above this step's
 * arithmetic, run out of registers and spill (measured 24 vs 32 GFLOP/s).
 */
/** a·b + c per lane: one fused multiply-add in the relaxed-SIMD build, mul + add otherwise. */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? f32x4.relaxed_madd(a, b, c) : f32x4.add(c, f32x4.mul(a, b));
}

function kernel(kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, add: bool): void {
  const ld = <usize>ldc << 2;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    let c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero;
    let c21 = zero, c30 = zero, c31 = zero, c40 = zero, c41 = zero;
    const pbEnd = pb + (<usize>kc << 5); // NR floats per step
    while (pb < pbEnd) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      let a = v128.load(pa); // A row 0, already broadcast
      c00 = madd(a, b0, c00);
      c01 = madd(a, b1, c01);
      a = v128.load(pa, 16);
      c10 = madd(a, b0, c10);
      c11 = madd(a, b1, c11);
      a = v128.load(pa, 32);
      c20 = madd(a, b0, c20);
      c21 = madd(a, b1, c21);
      a = v128.load(pa, 48);
      c30 = madd(a, b0, c30);
      c31 = madd(a, b1, c31);
      a = v128.load(pa, 64);
      c40 = madd(a, b0, c40);
      c41 = madd(a, b1, c41);
      pa += 80; // MR broadcast elements per step
      pb += 32;
    }
    let r = c;
    if (add) {
      v128.store(r, f32x4.add(v128.load(r), c00));
      v128.store(r, f32x4.add(v128.load(r, 16), c01), 16);
      r += ld;
      v128.store(r, f32x4.add(v128.load(r), c10));
      v128.store(r, f32x4.add(v128.load(r, 16), c11), 16);
      r += ld;
      v128.store(r, f32x4.add(v128.load(r), c20));
      v128.store(r, f32x4.add(v128.load(r, 16), c21), 16);
      r += ld;
      v128.store(r, f32x4.add(v128.load(r), c30));
      v128.store(r, f32x4.add(v128.load(r, 16), c31), 16);
      r += ld;
      v128.store(r, f32x4.add(v128.load(r), c40));
      v128.store(r, f32x4.add(v128.load(r, 16), c41), 16);
    } else {
      v128.store(r, c00);
      v128.store(r, c01, 16);
      r += ld;
      v128.store(r, c10);
      v128.store(r, c11, 16);
      r += ld;
      v128.store(r, c20);
      v128.store(r, c21, 16);
      r += ld;
      v128.store(r, c30);
      v128.store(r, c31, 16);
      r += ld;
      v128.store(r, c40);
      v128.store(r, c41, 16);
    }
  } else {
    let c00: f32 = 0, c01: f32 = 0, c02: f32 = 0, c03: f32 = 0;
    let c10: f32 = 0, c11: f32 = 0, c12: f32 = 0, c13: f32 = 0;
    let c20: f32 = 0, c21: f32 = 0, c22: f32 = 0, c23: f32 = 0;
    let c30: f32 = 0, c31: f32 = 0, c32: f32 = 0, c33: f32 = 0;
    for (let p = 0; p < kc; p++) {
      const b0 = load<f32>(pb), b1 = load<f32>(pb, 4), b2 = load<f32>(pb, 8), b3 = load<f32>(pb, 12);
      let x = load<f32>(pa);
      c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3;
      x = load<f32>(pa, 4);
      c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3;
      x = load<f32>(pa, 8);
      c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3;
      x = load<f32>(pa, 12);
      c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3;
      pa += 16;
      pb += 16;
    }
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
