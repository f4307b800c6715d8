// Pipelines: compose (in order), randomChoice (one per sample) and randomApply (with
// probability p per sample). The per-sample containers gather the chosen samples into a
// smaller batch, run the transform on it, and put the results back in place.
import { ArgumentError, empty, gather, type Rng } from '@minibatch/core';
import { RegistryError, createAt, type Registry, type Spec } from '@minibatch/registry';
import { BaseAugmentation, classesOf, targetRows, targetTensor, type AugmentBatch, type Augmentation, type ImageSet } from './transform.js';
import { chance, dims, fmtShape } from './util.js';

function specOf(t: Augmentation): Spec {
  return { kind: 'augmentation', name: t.name, config: t.getConfig() };
}

function checkList(op: string, transforms: readonly Augmentation[]): Augmentation[] {
  if (!Array.isArray(transforms)) throw new ArgumentError(`${op}: expected a list of augmentations, got ${typeof transforms}`);
  transforms.forEach((t, i) => {
    if (typeof t?.apply !== 'function') throw new ArgumentError(`${op}: item ${i} is not an augmentation (flip(), rotate(), …)`);
  });
  return [...transforms];
}

/** Transforms applied one after another. */
export class Compose extends BaseAugmentation<object> {
  readonly name = 'compose';
  readonly transforms: readonly Augmentation[];

  constructor(transforms: readonly Augmentation[]) {
    super({});
    this.transforms = checkList('compose', transforms);
  }

  override getConfig(): Record<string, unknown> {
    return { transforms: this.transforms.map(specOf) };
  }

  fit(data: ImageSet): void {
    for (const t of this.transforms) t.fit?.(data);
  }

  apply(batch: AugmentBatch, rng: Rng): AugmentBatch {
    let out = batch;
    for (const t of this.transforms) out = t.apply(out, rng);
    return out;
  }
}

/**
 * Runs `t` on the samples `rows` of the batch only, and writes its results back in place.
 * The transform must keep the image shape; soft targets it makes are merged with one-hot (or
 * the existing soft) targets of the other samples.
 */
function applyToRows(op: string, batch: AugmentBatch, rows: number[], t: Augmentation, rng: Rng): AugmentBatch {
  const n = batch.x.shape[0];
  if (rows.length === 0) return batch;
  if (rows.length === n && rows.every((r, i) => r === i)) return t.apply(batch, rng);
  const sub: AugmentBatch = {
    x: gather(batch.x, rows, 0),
    targets: batch.targets === null ? null : gather(batch.targets, rows, 0),
    labels: batch.labels === null ? null : rows.map((r) => batch.labels![r]),
    classes: batch.classes,
  };
  const res = t.apply(sub, rng);
  if (res.x.shape.some((d, i) => d !== sub.x.shape[i])) {
    throw new ArgumentError(`${op}: '${t.name}' changed the image shape from ${fmtShape(sub.x.shape)} to ${fmtShape(res.x.shape)}; inside ${op}, transforms must keep the shape`);
  }
  const size = batch.x.size / n;
  const x = empty(batch.x.shape);
  const dst = x.view();
  dst.set(batch.x.view());
  const src = res.x.view();
  rows.forEach((r, j) => dst.set(src.subarray(j * size, (j + 1) * size), r * size));
  let targets = batch.targets;
  if (res.targets !== null) {
    const classes = classesOf(op, batch, res.targets.shape[1]);
    const all = targetRows(op, batch, classes);
    const mixed = res.targets.data();
    rows.forEach((r, j) => all.set(mixed.subarray(j * classes, (j + 1) * classes), r * classes));
    targets = targetTensor(all, n, classes);
  }
  return { ...batch, x, targets };
}

/** One of the transforms per sample, chosen at random (by `weights`, default equal). */
export class RandomChoice extends BaseAugmentation<object> {
  readonly name = 'randomChoice';
  readonly transforms: readonly Augmentation[];
  private readonly weights: number[] | undefined;

  constructor(transforms: readonly Augmentation[], weights?: readonly number[]) {
    super({});
    this.transforms = checkList('randomChoice', transforms);
    if (this.transforms.length === 0) throw new ArgumentError('randomChoice: needs at least one transform');
    if (weights !== undefined) {
      if (weights.length !== this.transforms.length || weights.some((v) => !(v >= 0) || !Number.isFinite(v)) || !weights.some((v) => v > 0)) {
        throw new ArgumentError(`randomChoice: weights must be ${this.transforms.length} non-negative numbers, not all 0, got ${JSON.stringify(weights)}`);
      }
    }
    this.weights = weights === undefined ? undefined : [...weights];
  }

  override getConfig(): Record<string, unknown> {
    return { transforms: this.transforms.map(specOf), ...(this.weights === undefined ? {} : { weights: [...this.weights] }) };
  }

  fit(data: ImageSet): void {
    for (const t of this.transforms) t.fit?.(data);
  }

  apply(batch: AugmentBatch, rng: Rng): AugmentBatch {
    const { n } = dims(this.name, batch.x);
    const k = this.transforms.length;
    const total = this.weights?.reduce((a, b) => a + b, 0) ?? k;
    const groups: number[][] = this.transforms.map(() => []);
    for (let i = 0; i < n; i++) {
      let u = rng.uniform() * total;
      let j = 0;
      while (j < k - 1 && u >= (this.weights?.[j] ?? 1)) u -= this.weights?.[j++] ?? 1;
      groups[j].push(i);
    }
    let out = batch;
    groups.forEach((rows, j) => (out = applyToRows(this.name, out, rows, this.transforms[j], rng)));
    return out;
  }
}

/** The transform (a list is composed) on each sample with probability p. */
export class RandomApply extends BaseAugmentation<object> {
  readonly name = 'randomApply';
  readonly p: number;
  readonly transform: Augmentation;

  constructor(p: number, transform: Augmentation | readonly Augmentation[]) {
    super({});
    if (!(p >= 0 && p <= 1)) throw new ArgumentError(`randomApply: p must be a probability in [0, 1], got ${p}`);
    this.p = p;
    this.transform = Array.isArray(transform) ? new Compose(transform) : checkList('randomApply', [transform as Augmentation])[0];
  }

  override getConfig(): Record<string, unknown> {
    const inner = this.transform instanceof Compose ? this.transform.transforms : [this.transform];
    return { p: this.p, transforms: inner.map(specOf) };
  }

  fit(data: ImageSet): void {
    this.transform.fit?.(data);
  }

  apply(batch: AugmentBatch, rng: Rng): AugmentBatch {
    const { n } = dims(this.name, batch.x);
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (chance(rng, this.p)) rows.push(i);
    return applyToRows(this.name, batch, rows, this.transform, rng);
  }
}

/** compose([...]): the transforms in order. */
export const compose = (transforms: readonly Augmentation[]): Compose => new Compose(transforms);
/** randomChoice([...], weights?): one transform per sample. */
export const randomChoice = (transforms: readonly Augmentation[], weights?: readonly number[]): RandomChoice => new RandomChoice(transforms, weights);
/** randomApply(p, t): t (or a list, composed) on each sample with probability p. */
export const randomApply = (p: number, transform: Augmentation | readonly Augmentation[]): RandomApply => new RandomApply(p, transform);

/** The augmentations of nested specs ({ name, config }, kind optional); `at` names the list in messages. */
export function fromSpecs(registry: Registry, specs: readonly unknown[], at = 'transforms'): Augmentation[] {
  return specs.map((s, i) => {
    const spec = s as { kind?: unknown; name?: unknown; config?: unknown };
    if (spec === null || typeof spec !== 'object' || typeof spec.name !== 'string' || (spec.kind !== undefined && spec.kind !== 'augmentation')) {
      throw new RegistryError('invalid-spec', `expected { "name": …, "config": { … } } naming an augmentation, got ${JSON.stringify(s)?.slice(0, 80)}`, { path: [at, i] });
    }
    return createAt<Augmentation>(registry, 'augmentation', spec.name, spec.config ?? {}, [at, i]);
  });
}
