// A data set is plain typed arrays in host memory: samples flat in one Float32Array, labels in
// an Int32Array. Tensors are made per batch (DataLoader), so a data set costs no WebAssembly
// memory and can be split, subset and preprocessed with plain loops.
import { ArgumentError, ShapeError } from '@minibatch/core';

/** Samples laid out flat: `x` holds `count × prod(shape)` float32 values, sample after sample. */
export interface Samples {
  readonly x: Float32Array;
  /** The shape of one sample: [28, 28, 1] for an NHWC image, [features] for a table. */
  readonly shape: readonly number[];
}

/** A labelled data set for classification. */
export interface Dataset extends Samples {
  /** One class index in [0, classes) per sample. */
  readonly y: Int32Array;
  readonly count: number;
  readonly classes: number;
  /** Human names of the classes, when known (Fashion-MNIST, CSV with text labels). */
  readonly classNames?: readonly string[];
  readonly name?: string;
}

export function sampleSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The number of samples in `s`, checking that x fills whole samples. */
export function sampleCount(s: Samples, what = 'samples'): number {
  const size = sampleSize(s.shape);
  if (size === 0) throw new ShapeError(`${what}: sample shape [${s.shape.join(', ')}] is empty`);
  if (s.x.length % size !== 0) {
    throw new ShapeError(`${what}: ${s.x.length} values are not a whole number of samples of shape [${s.shape.join(', ')}] (${size} values each)`);
  }
  return s.x.length / size;
}

export interface DatasetOptions {
  /** Number of classes; default max(y) + 1. */
  classes?: number;
  classNames?: readonly string[];
  name?: string;
}

/**
 * A checked Dataset from flat samples and labels.
 *
 * @example
 * const ds = createDataset(new Float32Array([0, 1, 2, 3, 4, 5]), new Int32Array([0, 1, 1]), [2]);
 * ds.count; // 3
 * ds.classes; // 2
 */
export function createDataset(x: Float32Array, y: Int32Array, shape: readonly number[], options: DatasetOptions = {}): Dataset {
  for (const d of shape) {
    if (!Number.isInteger(d) || d <= 0) throw new ShapeError(`createDataset: sample shape [${shape.join(', ')}] must have positive integer dimensions`);
  }
  const count = sampleCount({ x, shape }, 'createDataset');
  if (y.length !== count) {
    throw new ShapeError(`createDataset: ${count} samples of shape [${shape.join(', ')}] but ${y.length} labels`);
  }
  let maxLabel = -1;
  for (let i = 0; i < y.length; i++) {
    if (y[i] < 0) throw new ArgumentError(`createDataset: label ${y[i]} at sample ${i} is negative; labels are class indices 0, 1, …`);
    if (y[i] > maxLabel) maxLabel = y[i];
  }
  const classes = options.classes ?? options.classNames?.length ?? maxLabel + 1;
  if (!Number.isInteger(classes) || classes < 0 || maxLabel >= classes) {
    throw new ArgumentError(`createDataset: classes is ${classes} but the labels go up to ${maxLabel}`);
  }
  if (options.classNames !== undefined && options.classNames.length !== classes) {
    throw new ArgumentError(`createDataset: ${options.classNames.length} class names for ${classes} classes`);
  }
  return {
    x,
    y,
    shape: Object.freeze(shape.slice()),
    count,
    classes,
    ...(options.classNames !== undefined ? { classNames: options.classNames } : {}),
    ...(options.name !== undefined ? { name: options.name } : {}),
  };
}

/** The samples at `indices` (in that order), copied into a new Dataset. */
export function subset(dataset: Dataset, indices: ArrayLike<number>): Dataset {
  const size = sampleSize(dataset.shape);
  const x = new Float32Array(indices.length * size);
  const y = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    if (!Number.isInteger(j) || j < 0 || j >= dataset.count) {
      throw new ArgumentError(`subset: index ${j} (position ${i}) is outside the data set's ${dataset.count} samples`);
    }
    x.set(dataset.x.subarray(j * size, (j + 1) * size), i * size);
    y[i] = dataset.y[j];
  }
  return { ...dataset, x, y, count: indices.length };
}

/** How many samples each class has. */
export function classCounts(dataset: Pick<Dataset, 'y' | 'classes'>): number[] {
  const counts = new Array<number>(dataset.classes).fill(0);
  for (let i = 0; i < dataset.y.length; i++) counts[dataset.y[i]]++;
  return counts;
}
