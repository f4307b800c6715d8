// Matrix products on the packed, register-blocked GEMM kernel (assembly/gemm.ts). The
// transposes are absorbed by packing, so dense-layer backward passes (xᵀ·g and g·Wᵀ) run as
// fast as the forward product.
import { ShapeError, fmtShape } from '../errors.js';
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

/**
 * Runs the GEMM kernel: c (m×n) = op(a)·op(b), a and b given by element offsets. Big
 * products are split over the engine's threads by blocks of C's rows, or of its columns
 * when C is more than 4× wider than tall, so that what every part packs again costs least;
 * each part computes its elements exactly as the whole call would.
 */
export function gemmRaw(c: Tensor, cOffset: number, a: Tensor, aOffset: number, b: Tensor, bOffset: number,
  m: number, n: number, k: number, transA: boolean, transB: boolean, accumulate: boolean): void {
  const e = c.engine;
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const scratchBytes = Math.ceil(e.kernels.gemmScratchBytes() / 64) * 64;
  // Splitting columns makes every part pack all of op(a) (4 floats per element: the packed
  // A block is pre-broadcast), splitting rows all of op(b) (1 float per element).
  const byRows = 4 * m >= n;
  const span = byRows ? m : n;
  const count = Math.min(e.threads, Math.floor((m * n * k) / MIN_PART_MACS), Math.ceil(span / PART_ALIGN));
  if (count <= 1) {
    e.kernels.gemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, a.ptr + aOffset * 4, lda, b.ptr + bOffset * 4, ldb,
      c.ptr + cOffset * 4, n, accumulate ? 1 : 0, e.scratch(scratchBytes));
    return;
  }
  const scratch = e.scratch(scratchBytes * count);
  const step = Math.ceil(span / count / PART_ALIGN) * PART_ALIGN;
  const parts: number[][] = [];
  for (let start = 0, p = 0; start < span; start += step, p++) {
    const size = Math.min(step, span - start);
    // Rows [start, start+size) of C take the same rows of op(a); columns take those of op(b).
    const aAt = byRows ? aOffset + (transA ? start : start * lda) : aOffset;
    const bAt = byRows ? bOffset : bOffset + (transB ? start * ldb : start);
    const cAt = cOffset + (byRows ? start * n : start);
    parts.push([transA ? 1 : 0, transB ? 1 : 0, byRows ? size : m, byRows ? n : size, k, a.ptr + aAt * 4, lda,
      b.ptr + bAt * 4, ldb, c.ptr + cAt * 4, n, accumulate ? 1 : 0, scratch + p * scratchBytes]);
  }
  e.parallel('gemm', parts);
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
