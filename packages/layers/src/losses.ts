// Losses (registry kind 'loss'): (output, target) => scalar mean loss, composed from core ops.
import {
  ArgumentError, ShapeError, Tensor, add, exp, ge, log, logSoftmax, meanSquaredError, mean, mul, neg, relu,
  softmaxCrossEntropy, sub, sum, tensor, where,
} from '@minibatch/core';
import { define, z, type PluginEntry } from '@minibatch/registry';
import { fmtShape } from './util.js';

export type Target = Tensor | ArrayLike<number>;

/** A loss: a function with a registry identity (kind, name, getConfig). */
export interface Loss {
  (output: Tensor, target: Target): Tensor;
  readonly kind: 'loss';
  readonly name: string;
  getConfig(): Record<string, unknown>;
}

function named(name: string, config: Record<string, unknown>, fn: (output: Tensor, target: Target) => Tensor): Loss {
  const loss = (output: Tensor, target: Target): Tensor => {
    if (!(output instanceof Tensor)) throw new TypeError(`${name}: the output must be a Tensor, got ${typeof output}`);
    return fn(output, target);
  };
  Object.defineProperty(loss, 'name', { value: name });
  Object.defineProperty(loss, 'kind', { value: 'loss', enumerable: true });
  Object.defineProperty(loss, 'getConfig', { value: () => ({ ...config }) });
  return loss as Loss;
}

function values(target: Target): ArrayLike<number> {
  return target instanceof Tensor ? target.data() : target;
}

function targetTensor(name: string, output: Tensor, target: Target): Tensor {
  const size = target instanceof Tensor ? target.size : target.length;
  if (size !== output.size) {
    throw new ShapeError(`${name}: output ${fmtShape(output.shape)} has ${output.size} values but the target has ${size}`);
  }
  if (target instanceof Tensor) return target;
  return tensor(Float32Array.from(target), output.shape);
}

function checkLogits(name: string, output: Tensor): [number, number] {
  if (output.rank !== 2) throw new ShapeError(`${name}: expects scores [batch, classes], got ${fmtShape(output.shape)}`);
  if (output.shape[0] === 0) throw new ArgumentError(`${name}: empty batch`);
  return [output.shape[0], output.shape[1]];
}

/** Integer labels in [0, classes), one per row. */
function labelsOf(name: string, target: Target, rows: number, classes: number): number[] {
  const v = values(target);
  if (v.length !== rows) throw new ShapeError(`${name}: ${rows} rows of scores but ${v.length} labels`);
  const labels = Array.from(v);
  labels.forEach((y, i) => {
    if (!Number.isInteger(y) || y < 0 || y >= classes) throw new ArgumentError(`${name}: label ${y} at position ${i} is not a class index in [0, ${classes})`);
  });
  return labels;
}

/** Whether `target` holds soft targets [batch, classes] rather than integer labels. */
function isSoft(target: Target, rows: number, classes: number): boolean {
  const size = target instanceof Tensor ? target.size : target.length;
  return classes > 1 && size === rows * classes;
}

function oneHot(labels: readonly number[], classes: number, on = 1, off = 0): Tensor {
  const data = new Float32Array(labels.length * classes).fill(off);
  labels.forEach((y, i) => (data[i * classes + y] = on));
  return tensor(data, [labels.length, classes]);
}

export const softmaxCrossEntropySchema = z.strictObject({
  /** ε: the target becomes (1 − ε)·target + ε/classes (Szegedy et al. 2016, §7). */
  labelSmoothing: z.number().min(0).lt(1).default(0),
});
export const hingeSchema = z.strictObject({ margin: z.number().positive().default(1) });

/** Factories of the built-in losses, by registry name. Each returns the mean loss over the batch. */
export const losses = {
  /**
   * Cross-entropy of softmax(output) ([batch, classes] logits) against integer labels
   * ([batch]) or soft targets ([batch, classes], rows summing to 1, as mixup/cutmix make).
   *
   * @example
   * const loss = losses.softmaxCrossEntropy({ labelSmoothing: 0.1 });
   * loss(logits, [3, 1, 4]).backward();
   */
  softmaxCrossEntropy: (c: { labelSmoothing?: number } = {}): Loss => {
    const { labelSmoothing: eps } = softmaxCrossEntropySchema.parse(c);
    return named('softmaxCrossEntropy', { labelSmoothing: eps }, (output, target) => {
      const name = 'softmaxCrossEntropy';
      const [rows, classes] = checkLogits(name, output);
      if (!isSoft(target, rows, classes)) {
        const labels = labelsOf(name, target, rows, classes);
        const hard = softmaxCrossEntropy(output, labels); // fused kernel, stable gradient
        if (eps === 0) return hard;
        // −Σₖ tₖ log pₖ with t = (1 − ε)·onehot + ε/K  =  (1 − ε)·CE + ε·mean_k(−log pₖ).
        return add(mul(hard, 1 - eps), mul(mean(logSoftmax(output)), -eps));
      }
      const t = targetTensor(name, output, target);
      const soft = t.rank === 2 ? t : t.reshape(output.shape);
      checkSoftRows(name, soft.data(), rows, classes);
      const smoothed = eps === 0 ? soft : add(mul(soft, 1 - eps), eps / classes);
      return mul(sum(mul(smoothed, logSoftmax(output))), -1 / rows);
    });
  },

  /** mean((output − target)²) over every element. */
  meanSquaredError: (): Loss =>
    named('meanSquaredError', {}, (output, target) => meanSquaredError(output, targetTensor('meanSquaredError', output, target))),

  /**
   * Multiclass SVM (Weston–Watkins, CS231n): mean over the batch of
   * Σ_{j≠y} max(0, s_j − s_y + margin).
   */
  multiclassHinge: (c: { margin?: number } = {}): Loss => {
    const { margin } = hingeSchema.parse(c);
    return named('multiclassHinge', { margin }, (output, target) => {
      const name = 'multiclassHinge';
      const [rows, classes] = checkLogits(name, output);
      const labels = labelsOf(name, target, rows, classes);
      const correct = sum(mul(output, oneHot(labels, classes)), 1, { keepDims: true }); // s_y, [batch, 1]
      const margins = relu(add(sub(output, correct), margin));
      return mul(sum(mul(margins, oneHot(labels, classes, 0, 1))), 1 / rows);
    });
  },

  /**
   * Mean binary cross-entropy of sigmoid(output) against targets in [0, 1], in the stable
   * form max(x, 0) − x·z + log(1 + e^−|x|). The max and |x| are written with one
   * where(x ≥ 0) (as TF does), so the gradient at x = 0 is the true σ(0) − z.
   */
  binaryCrossEntropyWithLogits: (): Loss =>
    named('binaryCrossEntropyWithLogits', {}, (output, target) => {
      const name = 'binaryCrossEntropyWithLogits';
      const z = targetTensor(name, output, target);
      const zv = z.data();
      for (let i = 0; i < zv.length; i++) {
        if (!(zv[i] >= 0 && zv[i] <= 1)) throw new ArgumentError(`${name}: target ${zv[i]} at position ${i} is not in [0, 1]`);
      }
      const positive = ge(output, 0);
      const reluX = where(positive, output, 0);
      const negAbs = where(positive, neg(output), output);
      const zt = z.rank === output.rank ? z : z.reshape(output.shape);
      return mean(add(sub(reluX, mul(output, zt)), log(add(exp(negAbs), 1))));
    }),
};

function checkSoftRows(name: string, t: Float32Array, rows: number, classes: number): void {
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let k = 0; k < classes; k++) {
      const v = t[i * classes + k];
      if (!(v >= 0)) throw new ArgumentError(`${name}: soft target ${v} in row ${i} is negative or not a number`);
      s += v;
    }
    if (Math.abs(s - 1) > 1e-3) {
      throw new ArgumentError(`${name}: soft targets must sum to 1 per row; row ${i} sums to ${s.toPrecision(4)} (for class indices, pass one label per row)`);
    }
  }
}

export type LossName = keyof typeof losses;

/** The registry entries of the built-in losses. */
export const lossEntries: PluginEntry[] = [
  define('loss', 'softmaxCrossEntropy', softmaxCrossEntropySchema, (c) => losses.softmaxCrossEntropy(c), 'softmax cross-entropy, integer labels or soft targets'),
  define('loss', 'meanSquaredError', z.strictObject({}), () => losses.meanSquaredError(), 'mean squared error'),
  define('loss', 'multiclassHinge', hingeSchema, (c) => losses.multiclassHinge(c), 'multiclass SVM hinge loss'),
  define('loss', 'binaryCrossEntropyWithLogits', z.strictObject({}), () => losses.binaryCrossEntropyWithLogits(), 'sigmoid + binary cross-entropy, stable'),
];
