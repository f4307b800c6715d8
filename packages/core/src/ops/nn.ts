// Softmax family, losses and batch-norm statistics.
import { ArgumentError, ShapeError, fmtShape } from '../errors.js';
import { Tensor, empty, record, sizeOf } from '../tensor.js';
import { mul, square, sub } from './elementwise.js';
import { mean } from './reduce.js';
import { broadcastTo, indexTensor, reshape, transpose } from './shape.js';
import { normAxis } from './util.js';

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
