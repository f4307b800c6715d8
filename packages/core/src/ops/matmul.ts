// Matrix products on the packed, register-blocked GEMM kernel (assembly/gemm.ts). The
// transposes are absorbed by packing, so dense-layer backward passes (xᵀ·g and g·Wᵀ) run as
// fast as the forward product.
import { ShapeError, fmtShape } from '../errors.js';
import type { Engine } from '../engine.js';
import { Tensor, empty, record, sameShape, sizeOf } from '../tensor.js';
import { add } from './elementwise.js';
import { sumTo } from './reduce.js';
import { reshape } from './shape.js';

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
}

/** Multiply-adds below which a GEMM stays on one thread: waking a worker costs about as much. */
const MIN_PART_MACS = 1 << 17;
/** Part boundaries fall on multiples of the micro-kernel's tile width, so no part has a ragged strip inside. */
const PART_ALIGN = 8;
/** The kernel's paths (assembly/gemm.ts): narrow C, C computed as Cᵀ; and the tile of the SIMD builds (a pool needs one). */
const NARROW_N = 16, SWAP_MAX_N = 64, SWAP_MIN_K = 64, MR = 5, NR = 8;
/** Most bytes of packed operands for which threads share one packing (beyond, each packs its own block). */
const SHARED_PACK_BYTES = 8 << 20;
/** Multiply-adds per block of tiles, at least: blocks are claimed one at a time by whichever thread is free. */
const BLOCK_MACS = 1 << 19;
/** Blocks per thread, at most: more even out a late thread, fewer re-read the packed operands less. */
const BLOCKS_PER_THREAD = 4;
/** Multiply-adds that re-reading a byte of packed operand costs, about (fitted to 1 × 2 … 1 × 16 grids). */
const REREAD_MACS = 1 / 8;
/** How much more a grid of more blocks may cost (tileGrid): 1 × 8 for 1 × 2 measured 4% slower with no thread late. */
const LATE_SLACK = 0.05;

/**
 * Runs the GEMM kernel: c (m×n) = op(a)·op(b), a and b given by element offsets. Big
 * products are split over the engine's threads; each part computes its elements exactly as
 * the whole call would, so the result does not depend on the split.
 */
export function gemmRaw(c: Tensor, cOffset: number, a: Tensor, aOffset: number, b: Tensor, bOffset: number,
  m: number, n: number, k: number, transA: boolean, transB: boolean, accumulate: boolean): void {
  const e = c.engine;
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const aPtr = a.ptr + aOffset * 4;
  const bPtr = b.ptr + bOffset * 4;
  const cPtr = c.ptr + cOffset * 4;
  const macs = m * n * k;
  const scratchBytes = Math.ceil(e.kernels.gemmScratchBytes() / 64) * 64;
  if (e.threads === 1 || macs < 2 * MIN_PART_MACS) {
    e.kernels.gemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, aPtr, lda, bPtr, ldb, cPtr, n, accumulate ? 1 : 0, e.scratch(scratchBytes));
    return;
  }
  const narrow = n <= NARROW_N;
  const swapped = !narrow && n <= SWAP_MAX_N && m >= 4 * n && k >= SWAP_MIN_K;
  if (!narrow && !swapped) {
    const aBytes = e.kernels.gemmPackedBytes(0, m, n, k);
    const bBytes = e.kernels.gemmPackedBytes(1, m, n, k);
    if (aBytes + bBytes <= SHARED_PACK_BYTES) {
      sharedGemm(e, aPtr, lda, transA, aBytes, bPtr, ldb, transB, bBytes, cPtr, m, n, k, accumulate);
      return;
    }
  }
  // Each part runs the whole kernel on a block of C's rows, or of its columns when C is more
  // than 4× wider than tall, so that what every part packs again costs least: splitting
  // columns makes every part pack all of op(a) (4 floats per element: the packed A block is
  // pre-broadcast), splitting rows all of op(b) (1 float per element).
  const byRows = 4 * m >= n;
  const span = byRows ? m : n;
  const count = Math.min(e.threads, Math.floor(macs / MIN_PART_MACS), Math.ceil(span / PART_ALIGN));
  const scratch = e.scratch(scratchBytes * count);
  const step = Math.ceil(span / count / PART_ALIGN) * PART_ALIGN;
  const parts: number[][] = [];
  for (let start = 0, p = 0; start < span; start += step, p++) {
    const size = Math.min(step, span - start);
    // Rows [start, start+size) of C take the same rows of op(a); columns take those of op(b).
    const aAt = byRows ? (transA ? start : start * lda) : 0;
    const bAt = byRows ? 0 : transB ? start * ldb : start;
    const cAt = byRows ? start * n : start;
    parts.push([transA ? 1 : 0, transB ? 1 : 0, byRows ? size : m, byRows ? n : size, k, aPtr + aAt * 4, lda,
      bPtr + bAt * 4, ldb, cPtr + cAt * 4, n, accumulate ? 1 : 0, scratch + p * scratchBytes]);
  }
  e.parallel('gemm', parts);
}

/**
 * A product whose packed operands are small (the dense layers of a mini-batch): the threads
 * pack op(a) and op(b) together, once (gemmPack, by strips), then compute C in blocks of
 * tiles (gemmTiles) that each thread claims when it is free, in the grid tileGrid chooses.
 */
function sharedGemm(e: Engine, aPtr: number, lda: number, transA: boolean, aBytes: number, bPtr: number, ldb: number,
  transB: boolean, bBytes: number, cPtr: number, m: number, n: number, k: number, accumulate: boolean): void {
  const mStrips = Math.ceil(m / MR);
  const nStrips = Math.ceil(n / NR);
  const most = Math.max(e.threads, Math.min(e.threads * BLOCKS_PER_THREAD, Math.floor((m * n * k) / BLOCK_MACS)));
  const [rowBlocks, colBlocks] = tileGrid(mStrips, nStrips, k, aBytes, bBytes, e.threads, most);
  const tileBytes = 64 * Math.ceil((MR * NR * 4) / 64);
  const packedA = e.scratch(aBytes + bBytes + rowBlocks * colBlocks * tileBytes);
  const packedB = packedA + aBytes;
  const tiles = packedB + bBytes;
  // Packing: each operand cut into parts in proportion to its bytes.
  const packParts: number[][] = [];
  const packs = 2 * e.threads;
  for (const [side, strips, bytes, trans, rows, src, ld, dst] of [
    [0, mStrips, aBytes, transA, m, aPtr, lda, packedA], [1, nStrips, bBytes, transB, n, bPtr, ldb, packedB],
  ] as const) {
    const count = Math.min(strips, Math.max(1, Math.round((packs * bytes) / (aBytes + bBytes))));
    for (const [first, size] of ranges(strips, count)) packParts.push([side, trans ? 1 : 0, rows, k, src, ld, first, size, dst]);
  }
  e.parallel('gemmPack', packParts);
  const tileParts: number[][] = [];
  for (const [i0, rows] of ranges(mStrips, rowBlocks)) {
    for (const [j0, cols] of ranges(nStrips, colBlocks)) {
      tileParts.push([m, n, k, packedA, packedB, cPtr, n, accumulate ? 1 : 0, i0, i0 + rows, j0, j0 + cols, tiles + tileParts.length * tileBytes]);
    }
  }
  e.parallel('gemmTiles', tileParts);
}

/**
 * sharedGemm's grid of tile blocks (rows × cols, at most `most`). Blocks are claimed in turn,
 * so the slowest thread computes ⌈blocks / threads⌉ of the largest; each column block re-reads
 * packed op(A), each row block op(B) (REREAD_MACS a byte). Of the grids within LATE_SLACK of
 * the cheapest, the one with the most blocks: a thread that starts late (descheduled) leaves
 * the others less. (The grid square in bytes had 3 or 9 blocks for the MLP's products, and
 * one thread of 2 computed 5 of 9 while the other waited.)
 */
export function tileGrid(mStrips: number, nStrips: number, k: number, aBytes: number, bBytes: number,
  threads: number, most: number): [number, number] {
  const grids: [rows: number, cols: number, cost: number][] = [];
  for (let rows = 1; rows <= Math.min(mStrips, most); rows++) {
    for (let cols = 1; cols <= Math.min(nStrips, Math.floor(most / rows)); cols++) {
      const tiles = Math.ceil((rows * cols) / threads) * Math.ceil(mStrips / rows) * Math.ceil(nStrips / cols);
      grids.push([rows, cols, tiles * MR * NR * k + ((cols * aBytes + rows * bBytes) / threads) * REREAD_MACS]);
    }
  }
  const bound = Math.min(...grids.map((g) => g[2])) * (1 + LATE_SLACK);
  const [rows, cols] = grids.filter((g) => g[2] <= bound).sort((x, y) => y[0] * y[1] - x[0] * x[1] || x[2] - y[2])[0];
  return [rows, cols];
}

/** `total` units cut into `count` ranges [first, size] as even as whole units allow. */
function ranges(total: number, count: number): [number, number][] {
  const out: [number, number][] = [];
  for (let p = 0; p < count; p++) {
    const first = Math.floor((p * total) / count);
    const next = Math.floor(((p + 1) * total) / count);
    if (next > first) out.push([first, next - first]);
  }
  return out;
}

/**
 * Matrix product of the last two dimensions, with optional transposes; leading (batch)
 * dimensions must match, or one operand may be a plain matrix shared by the whole batch.
 *
 * @example
 * const y = matmul(x, w);                          // [batch, in] · [in, out]
 * const gw = matmul(x, g, { transposeA: true });   // xᵀ · g
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const tA = options.transposeA ?? false;
  const tB = options.transposeB ?? false;
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError(`matmul: both operands need at least 2 dimensions, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = tA ? ac : ar;
  const k = tA ? ar : ac;
  const kb = tB ? bc : br;
  const n = tB ? br : bc;
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  if (k !== kb || (batchA.length > 0 && batchB.length > 0 && !sameShape(batchA, batchB))) {
    throw new ShapeError(
      `matmul: shapes ${fmtShape(a.shape)}${tA ? 'ᵀ' : ''} and ${fmtShape(b.shape)}${tB ? 'ᵀ' : ''} do not fit: ` +
        (k !== kb ? `inner dimensions ${k} and ${kb} differ` : 'batch dimensions differ'),
    );
  }
  const batch = batchA.length > 0 ? batchA : batchB;
  const count = sizeOf(batch);
  const out = empty([...batch, m, n]);
  if (out.size > 0) {
    const strideA = batchA.length > 0 ? m * k : 0;
    const strideB = batchB.length > 0 ? k * n : 0;
    for (let i = 0; i < count; i++) gemmRaw(out, i * m * n, a, i * strideA, b, i * strideB, m, n, k, tA, tB, false);
  }
  return record('matmul', out, [a, b], (g) => {
    // Gradients of the four transpose cases, each again one matmul (so they batch too);
    // an operand that needs no gradient (a layer's input data) costs no product.
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      if (!tA) ga = tB ? matmul(g, b) : matmul(g, b, { transposeB: true });
      else ga = tB ? matmul(b, g, { transposeA: true, transposeB: true }) : matmul(b, g, { transposeB: true });
    }
    if (b.requiresGrad) {
      if (!tB) gb = tA ? matmul(a, g) : matmul(a, g, { transposeA: true });
      else gb = tA ? matmul(g, a, { transposeA: true, transposeB: true }) : matmul(g, a, { transposeA: true });
    }
    return [ga && sumTo(ga, a.shape), gb && sumTo(gb, b.shape)];
  });
}

/** x·w (+ b): a dense layer's product with the batch dimensions folded into rows. */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const rows = x.rank > 2 ? reshape(x, [-1, x.shape[x.rank - 1]]) : x;
  let y = matmul(rows, w);
  if (b !== undefined) y = add(y, b);
  return x.rank > 2 ? reshape(y, [...x.shape.slice(0, -1), w.shape[1]]) : y;
}
