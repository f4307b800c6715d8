// Mini-batches over a Dataset: reshuffled every epoch (see: LeCun et al., "Efficient
// BackProp" 1998, §4.1: shuffle so that successive examples rarely come from the same class),
// shuffled once for the whole run, or in the data set's order.
import { ArgumentError, Rng, Tensor, empty, scope } from '@minibatch/core';
import { sampleSize, type Dataset } from './dataset.js';

/** What a batch transform (augmentation) gets besides the batch tensor. */
export interface BatchContext {
  /** A generator seeded from (loader seed, epoch, batch index): the same draws on every run and after a resume. */
  rng: Rng;
  epoch: number;
  /** Position of the batch in its epoch. */
  index: number;
  y: Int32Array;
  indices: Int32Array;
}

/**
 * A per-batch hook, for augmentation on training loaders: takes x [b, …shape] and returns
 * the new x, or { x, targets } when it also makes soft targets (mixup, cutmix). It runs
 * inside scope(), so its intermediate tensors are freed; only what it returns survives.
 */
export type BatchTransform = (x: Tensor, context: BatchContext) => Tensor | { x: Tensor; targets?: Tensor };

/**
 * The order of the samples: 'epoch' draws a new permutation every epoch from (seed, epoch);
 * 'once' draws one from the seed and keeps it every epoch (epoch 0's order); false keeps the
 * data set's order (evaluation).
 */
export type ShuffleMode = 'epoch' | 'once' | false;

export interface DataLoaderOptions {
  batchSize: number;
  /**
   * 'epoch' (default), 'once' or false: see ShuffleMode. `true` is accepted as 'epoch', the
   * way loaders written when this option was a boolean pass it.
   */
  shuffle?: ShuffleMode | true;
  /** Seed of the shuffles (and of the transform's rng). Default 0. */
  seed?: number;
  /** Leave out the last batch of an epoch when it is smaller than batchSize. Default false. */
  dropLast?: boolean;
  /** Per-batch hook, for training loaders only (augmentation). */
  transform?: BatchTransform;
  /** The epoch the first iteration runs (to resume a run). Default 0. */
  epoch?: number;
}

/** 32-bit mix of integers into one seed (splitmix-style multipliers; Rng decorrelates further). */
function mixSeed(...parts: number[]): number {
  let h = 0x27d4eb2f;
  for (const p of parts) {
    h = Math.imul(h ^ (p | 0), 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca77);
    h ^= h >>> 13;
  }
  return h | 0;
}

/**
 * One mini-batch. `y`, `indices` and `data` (the host values of x) are plain arrays; the
 * tensor `x` [size, …shape] is created on first read, in the memory scope that reads it, with
 * the loader's transform applied. Read it inside your training step's scope() and it is
 * freed when the step ends; whatever is still alive when the loader moves on to the next
 * batch (or the loop ends or breaks) is freed then. Copy a batch tensor to keep it longer.
 */
export class Batch {
  readonly size: number;
  /** The shape of x: [size, …sample shape]. */
  readonly shape: readonly number[];
  readonly y: Int32Array;
  /** The data set rows in this batch. */
  readonly indices: Int32Array;
  readonly epoch: number;
  readonly index: number;
  private readonly samples: Float32Array;
  private readonly rowSize: number;
  private readonly hook: BatchTransform | undefined;
  private readonly seed: number;
  private made: { x: Tensor; targets: Tensor | null } | null = null;
  private values: Float32Array | null = null;

  /** @internal DataLoader creates batches: rows `indices` of `samples` (flat, `shape` per row after the first dimension). */
  constructor(samples: Float32Array, shape: readonly number[], y: Int32Array, indices: Int32Array, epoch: number, index: number, seed: number, hook?: BatchTransform) {
    this.samples = samples;
    this.rowSize = sampleSize(shape.slice(1));
    this.shape = Object.freeze(shape.slice());
    this.size = shape[0];
    this.y = y;
    this.indices = indices;
    this.epoch = epoch;
    this.index = index;
    this.seed = seed;
    this.hook = hook;
  }

  /** The values of x before the transform, flat (gathered from the data set on first read). */
  get data(): Float32Array {
    if (this.values === null) this.values = this.gather(new Float32Array(this.size * this.rowSize));
    return this.values;
  }

  /** The samples as a tensor [size, …shape] (transformed on training loaders). */
  get x(): Tensor {
    return this.make().x;
  }

  /** Soft targets [size, classes] when the transform made them (mixup), else null. */
  get targets(): Tensor | null {
    return this.make().targets;
  }

  /** Frees the batch tensors now (reading x again re-creates them, with the same values). */
  dispose(): void {
    if (this.made !== null) {
      this.made.x.dispose();
      this.made.targets?.dispose();
      this.made = null;
    }
  }

  private make(): { x: Tensor; targets: Tensor | null } {
    if (this.made !== null && !this.made.x.disposed && (this.made.targets === null || !this.made.targets.disposed)) return this.made;
    const hook = this.hook;
    if (hook === undefined) {
      this.made = { x: this.rows(), targets: null };
      return this.made;
    }
    const context: BatchContext = { rng: new Rng(this.seed), epoch: this.epoch, index: this.index, y: this.y, indices: this.indices };
    const out = scope(() => hook(this.rows(), context));
    this.made = out instanceof Tensor ? { x: out, targets: null } : { x: out.x, targets: out.targets ?? null };
    if (!(this.made.x instanceof Tensor)) throw new ArgumentError('DataLoader transform: must return a Tensor or { x: Tensor, targets?: Tensor }');
    return this.made;
  }

  /** The batch's rows as a tensor, gathered straight into engine memory (no host copy on the way). */
  private rows(): Tensor {
    const x = empty(this.shape);
    this.gather(x.view());
    return x;
  }

  private gather(out: Float32Array): Float32Array {
    const size = this.rowSize;
    for (let i = 0; i < this.size; i++) {
      const j = this.indices[i];
      out.set(this.samples.subarray(j * size, (j + 1) * size), i * size);
    }
    return out;
  }
}

/** The shuffle option as a ShuffleMode (true is 'epoch'); anything else is refused, naming the value. */
function shuffleMode(value: unknown): ShuffleMode {
  if (value === true || value === 'epoch') return 'epoch';
  if (value === 'once' || value === false) return value;
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  throw new ArgumentError(`DataLoader: shuffle must be 'epoch', 'once' or false (true means 'epoch'), got ${shown}`);
}

/**
 * Mini-batches over a Dataset: every epoch visits each sample exactly once, in an order
 * shuffled by core's Rng from (seed, epoch) — the same seed gives the same orders, each
 * epoch a different one, and epoch e can be replayed on its own (resume). With shuffle
 * 'once' every epoch has the same shuffled order; with false, the data set's.
 *
 * @example
 * const loader = new DataLoader(train, { batchSize: 64, seed: 1 });
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for (const batch of loader) {                // the next epoch, reshuffled
 *     scope(() => {
 *       const loss = softmaxCrossEntropy(model.forward(batch.x), batch.y);
 *       loss.backward();                         // batch.x is freed with this scope
 *     });
 *   }
 * }
 */
export class DataLoader implements Iterable<Batch> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  /** 'epoch', 'once' or false (a `true` given to the constructor reads 'epoch'). */
  readonly shuffle: ShuffleMode;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly transform: BatchTransform | undefined;
  /** The epoch the next `for (… of loader)` runs; each such loop advances it. */
  epoch: number;

  constructor(dataset: Dataset, options: DataLoaderOptions) {
    const { batchSize, shuffle = 'epoch', seed = 0, dropLast = false, transform, epoch = 0 } = options ?? ({} as DataLoaderOptions);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    const mode = shuffleMode(shuffle);
    if (!Number.isFinite(seed)) throw new ArgumentError(`DataLoader: seed must be a finite number, got ${seed}`);
    if (!Number.isInteger(epoch) || epoch < 0) throw new ArgumentError(`DataLoader: epoch must be an integer ≥ 0, got ${epoch}`);
    if (transform !== undefined && typeof transform !== 'function') throw new ArgumentError('DataLoader: transform must be a function (x, context) => x');
    if (dataset.y.length !== dataset.count || dataset.x.length !== dataset.count * sampleSize(dataset.shape)) {
      throw new ArgumentError(`DataLoader: the data set is inconsistent (${dataset.count} samples, ${dataset.y.length} labels, ${dataset.x.length} values of shape [${dataset.shape.join(', ')}])`);
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = mode;
    this.seed = seed;
    this.dropLast = dropLast;
    this.transform = transform;
    this.epoch = epoch;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.count;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /**
   * The order in which epoch `epoch` visits the samples (a permutation of 0…count−1). With
   * 'once' it does not depend on the epoch (it is epoch 0's), so a resumed run sees it too.
   */
  order(epoch = this.epoch): Int32Array {
    const order = new Int32Array(this.dataset.count);
    for (let i = 0; i < order.length; i++) order[i] = i;
    if (this.shuffle !== false) new Rng(mixSeed(this.seed, this.shuffle === 'once' ? 0 : epoch)).shuffle(order);
    return order;
  }

  /** Iterates the next epoch and advances `epoch`. */
  [Symbol.iterator](): IterableIterator<Batch> {
    return this.batches(this.epoch++);
  }

  /**
   * Batches without end, epoch after epoch from `epoch` (each batch knows its epoch): for
   * loops driven by steps rather than epochs — an LR sweep, a live demo, a benchmark.
   *
   * @example
   * const stream = loader.stream();
   * for (let step = 0; step < 1000; step++) train(stream.next().value);
   */
  *stream(epoch = this.epoch): Generator<Batch, never> {
    if (this.length === 0) throw new ArgumentError('DataLoader: stream() of an epoch with no batches would never yield (is the data set smaller than a batch with dropLast?)');
    for (let e = epoch; ; e++) yield* this.batches(e);
  }

  /**
   * The batches of one epoch (does not change `epoch`), from batch `from` on: a resumed run
   * starts mid-epoch with exactly the batches (order, augmentation draws) it would have seen.
   */
  *batches(epoch: number, from = 0): IterableIterator<Batch> {
    if (!Number.isInteger(from) || from < 0 || from > this.length) throw new ArgumentError(`DataLoader: from must be an integer in 0…${this.length}, got ${from}`);
    const { dataset, batchSize } = this;
    const order = this.order(epoch);
    let previous: Batch | null = null;
    try {
      for (let b = from; b < this.length; b++) {
        previous?.dispose();
        const start = b * batchSize;
        const indices = order.subarray(start, Math.min(start + batchSize, order.length)).slice();
        const y = new Int32Array(indices.length);
        for (let i = 0; i < indices.length; i++) y[i] = dataset.y[indices[i]];
        previous = new Batch(dataset.x, [indices.length, ...dataset.shape], y, indices, epoch, b, mixSeed(this.seed, epoch, b, 0x61756720), this.transform);
        yield previous;
      }
    } finally {
      previous?.dispose();
    }
  }
}
