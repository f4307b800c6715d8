// What a transform is: a registry-serializable object that maps a batch in flight (images,
// and soft targets once a mixing transform made them) to a new one, drawing every random
// number from the Rng it is given, sample by sample.
import { ArgumentError, Rng, Tensor, scope, tensor } from '@minibatch/core';
import { dims } from './util.js';

/** A batch in flight through a pipeline. */
export interface AugmentBatch {
  /** Images [batch, height, width, channels] (NHWC). */
  readonly x: Tensor;
  /** Soft targets [batch, classes] once mixup or cutmix made them; null while the labels are hard. */
  readonly targets: Tensor | null;
  /** One class index per sample: what mixup and cutmix mix when there are no soft targets yet. */
  readonly labels: ArrayLike<number> | null;
  /** The number of classes (for soft targets). */
  readonly classes: number | null;
}

/** Samples for fitting data-dependent transforms (PCA lighting): flat NHWC values and the per-sample shape [h, w, c]. */
export interface ImageSet {
  readonly x: Float32Array;
  readonly shape: readonly number[];
}

/** A batched, seeded augmentation: registry kind 'augmentation'. */
export interface Augmentation {
  readonly kind: 'augmentation';
  /** The registry name (a static string, safe from minifiers). */
  readonly name: string;
  /** The plain-JSON config: `registry.serialize()` and `fromJSON()` round-trip it. */
  getConfig(): Record<string, unknown>;
  /** The augmented batch. Each sample draws its own parameters from `rng`, in order. */
  apply(batch: AugmentBatch, rng: Rng): AugmentBatch;
  /** Fits data-dependent parameters (PCA lighting's eigenvectors); containers pass it on. */
  fit?(data: ImageSet): void;
}

export abstract class BaseAugmentation<C extends object> implements Augmentation {
  readonly kind = 'augmentation' as const;
  abstract readonly name: string;
  protected readonly config: C;

  constructor(config: C) {
    this.config = config;
  }

  getConfig(): Record<string, unknown> {
    return JSON.parse(JSON.stringify(this.config)) as Record<string, unknown>;
  }

  abstract apply(batch: AugmentBatch, rng: Rng): AugmentBatch;
}

/** The batch with new images (and the same targets). */
export function withImages(batch: AugmentBatch, x: Tensor): AugmentBatch {
  return { ...batch, x };
}

/** The number of classes for soft targets, from the transform's config, the batch, or its targets. */
export function classesOf(op: string, batch: AugmentBatch, configured: number | undefined): number {
  const k = configured ?? batch.targets?.shape[1] ?? batch.classes;
  if (k === null || k === undefined) {
    throw new ArgumentError(`${op}: needs the number of classes for its soft targets — set "classes" in its config, or pass { classes } to augment() / toBatchTransform()`);
  }
  return k;
}

/** The current targets as a host array [batch × classes]: the soft targets, or one-hot labels. */
export function targetRows(op: string, batch: AugmentBatch, classes: number): Float32Array {
  const n = batch.x.shape[0];
  if (batch.targets !== null) {
    if (batch.targets.shape[0] !== n || batch.targets.shape[1] !== classes) {
      throw new ArgumentError(`${op}: the batch's soft targets have shape [${batch.targets.shape.join(', ')}], expected [${n}, ${classes}]`);
    }
    return batch.targets.data();
  }
  if (batch.labels === null) throw new ArgumentError(`${op}: needs the labels of the batch to mix them — pass { labels } to augment()`);
  if (batch.labels.length !== n) throw new ArgumentError(`${op}: ${n} images but ${batch.labels.length} labels`);
  const out = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    const y = batch.labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= classes) throw new ArgumentError(`${op}: label ${y} of sample ${i} is not a class index in [0, ${classes})`);
    out[i * classes + y] = 1;
  }
  return out;
}

export interface AugmentOptions {
  /** The generator to draw from (it advances), or a seed for a fresh one. Default seed 0. */
  rng?: Rng;
  seed?: number;
  /** Class indices, one per sample (for mixup and cutmix). */
  labels?: ArrayLike<number>;
  /** The number of classes (for mixup and cutmix). */
  classes?: number;
}

/** What augment() returns: the images, and soft targets when a mixing transform ran. */
export interface Augmented {
  x: Tensor;
  targets: Tensor | null;
}

/**
 * Runs a transform on a batch of NHWC images. The same seed gives the same batch, exactly.
 * Intermediate tensors are freed; the returned ones belong to the caller's scope.
 *
 * @example
 * const pipeline = compose([randomCrop({ padding: 4 }), flip(), mixup({ alpha: 0.2 })]);
 * const { x: augmented, targets } = augment(pipeline, x, { seed: 1, labels: y, classes: 10 });
 */
export function augment(transform: Augmentation, x: Tensor, options: AugmentOptions = {}): Augmented {
  if (options.rng !== undefined && options.seed !== undefined) throw new ArgumentError('augment: give rng or seed, not both');
  if (typeof transform?.apply !== 'function') throw new ArgumentError('augment: the first argument must be an augmentation (flip(), compose([...]), …)');
  dims('augment', x);
  const { labels = null, classes = null } = options;
  if (classes !== null) {
    if (!Number.isInteger(classes) || classes < 1) throw new ArgumentError(`augment: classes must be a positive integer, got ${classes}`);
  }
  const rng = options.rng ?? new Rng(options.seed ?? 0);
  return scope(() => {
    const out = transform.apply({ x, targets: null, labels, classes }, rng);
    return { x: out.x, targets: out.targets };
  });
}

/** The context a DataLoader gives its transform (a structural subset of @minibatch/data's BatchContext). */
export interface LoaderContext {
  rng: Rng;
  y: ArrayLike<number>;
}

/**
 * A DataLoader / fit `transform` hook running `transform` on every training batch, with the
 * loader's per-batch generator (so a resumed run draws the same augmentations).
 *
 * @example
 * fit(model, train, { epochs: 10, optimizer, transform: toBatchTransform(pipeline, { classes: train.classes }) });
 */
export function toBatchTransform(transform: Augmentation, options: { classes?: number } = {}): (x: Tensor, context: LoaderContext) => Tensor | { x: Tensor; targets: Tensor } {
  if (typeof transform?.apply !== 'function') throw new ArgumentError('toBatchTransform: expected an augmentation (flip(), compose([...]), …)');
  return (x, context) => {
    const out = transform.apply({ x, targets: null, labels: context.y, classes: options.classes ?? null }, context.rng);
    return out.targets === null ? out.x : { x: out.x, targets: out.targets };
  };
}

/** Soft targets as a tensor. */
export function targetTensor(rows: Float32Array, n: number, classes: number): Tensor {
  return tensor(rows, [n, classes]);
}
