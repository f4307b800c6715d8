// Softmax family, losses and batch-norm statistics.
import { ArgumentError, ShapeError, fmtShape } from '../errors.js';
import { tensor } from '../creation.js';
import { Tensor, empty, record, sizeOf } from '../tensor.js';
import { mul, square, sub } from './elementwise.js';
import { mean } from './reduce.js';
import { broadcastTo, indexTensor, reshape, transpose } from './shape.js';
import { inParts, normAxis } from './util.js';

function rowwise(name: string, x: Tensor, axis: number, log: boolean): Tensor {
  const ax = normAxis(name, axis, x.rank);
  if (ax !== x.rank - 1) {
    // Move the axis last, apply, move it back: the kernel works on contiguous rows.
    const perm = x.shape.map((_, i) => i);
    perm.splice(ax, 1);
    perm.push(ax);
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return transpose(rowwise(name, transpose(x, perm), -1, log), inverse);
  }
  const cols = x.shape[x.rank - 1] ?? 1;
  const rows = cols === 0 ? 0 : x.size / cols;
  const out = empty(x.shape);
  if (x.size > 0) out.engine.kernels.softmax(x.ptr, out.ptr, rows, cols, log ? 1 : 0);
  return record(name, out, [x], (g) => {
    const dx = empty(x.shape);
    if (x.size > 0) dx.engine.kernels.softmaxGrad(out.ptr, g.ptr, dx.ptr, rows, cols, log ? 1 : 0);
    return [dx];
  });
}

/** exp(x) / Σ exp(x) along `axis` (default last), computed from x − max. */
export function softmax(x: Tensor, axis = -1): Tensor {
  return rowwise('softmax', x, axis, false);
}

/** x − log Σ exp(x) along `axis` (default last). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return rowwise('logSoftmax', x, axis, true);
}

/**
 * Mean cross-entropy of softmax(logits) against integer class labels, fused so the
 * gradient is the stable (softmax − onehot) / N.
 *
 * @example
 * const loss = softmaxCrossEntropy(logits, [3, 1, 4]);  // logits: [3, classes]
 */
export function softmaxCrossEntropy(logits: Tensor, labels: ArrayLike<number> | Tensor): Tensor {
  if (logits.rank !== 2) {
    throw new ShapeError(`softmaxCrossEntropy: logits must be [batch, classes], got ${fmtShape(logits.shape)}`);
  }
  const [rows, cols] = logits.shape;
  const count = labels instanceof Tensor ? labels.size : labels.length;
  if (count !== rows) {
    throw new ShapeError(`softmaxCrossEntropy: ${rows} rows of logits but ${count} labels`);
  }
  if (rows === 0) throw new ArgumentError('softmaxCrossEntropy: empty batch');
  const idx = indexTensor('softmaxCrossEntropy (labels)', labels, cols);
  const probs = empty(logits.shape);
  const losses = empty([rows]);
  const k = probs.engine.kernels;
  k.softmaxCrossEntropy(logits.ptr, idx.ptr, probs.ptr, losses.ptr, rows, cols);
  const out = mean(losses);
  return record('softmaxCrossEntropy', out, [logits], (g) => {
    const dx = empty(logits.shape);
    dx.engine.kernels.softmaxCrossEntropyGrad(probs.ptr, idx.ptr, g.item() / rows, dx.ptr, rows, cols);
    return [dx];
  });
}

/** Mean squared error, composed: mean((pred − target)²). */
export function meanSquaredError(pred: Tensor, target: Tensor): Tensor {
  if (pred.size !== target.size) {
    throw new ShapeError(`meanSquaredError: prediction ${fmtShape(pred.shape)} and target ${fmtShape(target.shape)} differ in size`);
  }
  return mean(square(sub(pred, reshape(target, pred.shape))));
}

/**
 * Per-channel mean and biased variance over all but the last axis (batch-norm statistics
 * of an NHWC batch or of [batch, features]), in one two-pass kernel.
 * see: Ioffe & Szegedy 2015, alg. 1.
 */
export function moments(x: Tensor): { mean: Tensor; variance: Tensor } {
  if (x.rank < 1) throw new ShapeError('moments: needs at least one axis');
  const cols = x.shape[x.rank - 1];
  const rows = sizeOf(x.shape.slice(0, -1));
  if (rows === 0) throw new ArgumentError(`moments: no rows to average over in ${fmtShape(x.shape)}`);
  const m = empty([cols]);
  const v = empty([cols]);
  m.engine.kernels.moments(x.ptr, m.ptr, v.ptr, rows, cols);
  // Both outputs share one backward: dx = gMean/N + gVar·2(x − mean)/N.
  const meanOut = record('moments.mean', m, [x], (g) => [mul(broadcastTo(g, x.shape), 1 / rows)]);
  const varOut = record('moments.variance', v, [x], (g) => [mul(sub(x, m), mul(g, 2 / rows))]);
  return { mean: meanOut, variance: varOut };
}

/** Row groups that batchNorm's backward sums are split into (fixed by the shape: any thread count gives the same sums). */
const SUM_GROUPS = 8;
/** Rows per group, at least, before the sums are split. */
const SUM_GROUP_ROWS = 256;

/**
 * Batch normalization in training mode over every axis but the last (the channels):
 * y = γ·(x − μ)/√(σ² + ε) + β with the batch's mean μ and biased variance σ² (Ioffe &
 * Szegedy 2015). Fused: forward the statistics and one normalizing pass; backward one pass
 * of per-channel sums (Σg, Σg·(x − μ)) and one for dx = γ/σ·(g − Σg/N − x̂·Σg·x̂/N)
 * (composed from elementwise ops the two directions take about twelve passes over x).
 * `mean` and `variance` are the batch's, for running averages: no gradient flows through them.
 *
 * @example
 * const { y, mean, variance } = batchNorm(x, gamma, beta, 1e-3);  // x: [n, h, w, c], gamma/beta: [c]
 */
export function batchNorm(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number): { y: Tensor; mean: Tensor; variance: Tensor } {
  if (x.rank < 1) throw new ShapeError('batchNorm: needs at least one axis');
  const cols = x.shape[x.rank - 1];
  const rows = sizeOf(x.shape.slice(0, -1));
  if (rows === 0) throw new ArgumentError(`batchNorm: no rows to normalize over in ${fmtShape(x.shape)}`);
  for (const [name, t] of [['gamma', gamma], ['beta', beta]] as const) {
    if (t.rank !== 1 || t.shape[0] !== cols) throw new ShapeError(`batchNorm: ${name} must be [${cols}] (one per channel of ${fmtShape(x.shape)}), got ${fmtShape(t.shape)}`);
  }
  if (!(epsilon >= 0) || !Number.isFinite(epsilon)) throw new ArgumentError(`batchNorm: epsilon must be a finite number ≥ 0, got ${epsilon}`);
  const e = x.engine;
  const mean = empty([cols]);
  const variance = empty([cols]);
  e.kernels.moments(x.ptr, mean.ptr, variance.ptr, rows, cols);
  const mu = mean.data();
  const g0 = gamma.data();
  const invStd = Array.from(variance.data(), (v) => 1 / Math.sqrt(v + epsilon));
  // Channel coefficients, computed in float64: y = a·x + k with a = γ/σ, k = β − μ·a.
  const b0 = beta.data();
  const coef = tensor([...invStd.map((s, c) => g0[c] * s), ...invStd.map((s, c) => b0[c] - mu[c] * g0[c] * s)], [2, cols]);
  const y = empty(x.shape);
  const at = (t: Tensor, row: number): number => t.ptr + row * cols * 4;
  inParts(e, 'channelLinear', rows, cols, (first, count) => [at(x, first), 0, at(y, first), coef.ptr, 0, coef.ptr + cols * 4, count, cols]);
  coef.dispose();
  record('batchNorm', y, [x, gamma, beta], (g) => {
    // Σg and Σg·(x − μ) per channel: partial sums of fixed row groups, added in group order.
    const groups = rows >= SUM_GROUPS * SUM_GROUP_ROWS ? SUM_GROUPS : 1;
    const per = Math.ceil(rows / groups);
    const partials = empty([groups, 2, cols]);
    const parts: number[][] = [];
    for (let first = 0, i = 0; first < rows; first += per, i++) {
      parts.push([at(x, first), at(g, first), mean.ptr, partials.ptr + i * 8 * cols, Math.min(per, rows - first), cols]);
    }
    e.parallel('channelSums', parts);
    const p = partials.data();
    const sg = new Float64Array(cols);
    const sgx = new Float64Array(cols);
    for (let i = 0; i < parts.length; i++) {
      for (let c = 0; c < cols; c++) {
        sg[c] += p[i * 2 * cols + c];
        sgx[c] += p[i * 2 * cols + cols + c];
      }
    }
    const dGamma = gamma.requiresGrad ? tensor(Array.from(sgx, (s, c) => s * invStd[c]), [cols]) : null;
    const dBeta = beta.requiresGrad ? tensor(Array.from(sg), [cols]) : null;
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      // dx = A·g + B·x + K: A = γ/σ, B = −γ/σ³·Σg(x − μ)/N, K = −A·Σg/N − B·μ.
      const A = invStd.map((s, c) => g0[c] * s);
      const B = invStd.map((s, c) => (-g0[c] * s * s * s * sgx[c]) / rows);
      const K = A.map((a, c) => (-a * sg[c]) / rows - B[c] * mu[c]);
      const abk = tensor([...A, ...B, ...K], [3, cols]);
      dx = empty(x.shape);
      const out = dx;
      inParts(e, 'channelLinear', rows, cols, (first, count) =>
        [at(g, first), at(x, first), at(out, first), abk.ptr, abk.ptr + cols * 4, abk.ptr + cols * 8, count, cols]);
      abk.dispose();
    }
    return [dx, dGamma, dBeta];
  });
  return { y, mean, variance };
}
