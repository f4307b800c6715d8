// Mixing samples: mixup and cutmix. Both pair every sample with a partner from a random
// permutation of the batch, draw λ ~ Beta(α, α) per sample, and mix the targets in the same
// proportion, so they return soft targets [batch, classes] that softmax cross-entropy takes.
import { ArgumentError, type Rng } from '@minibatch/core';
import { z } from '@minibatch/registry';
import { blendSamples, pasteRects, type Rect } from './ops.js';
import { BaseAugmentation, classesOf, targetRows, targetTensor, type AugmentBatch } from './transform.js';
import { chance, dims, parseConfig, probability } from './util.js';

/** Gamma(shape, 1) by Marsaglia & Tsang (2000), with the U^(1/a) boost for shape < 1. */
export function sampleGamma(rng: Rng, shape: number): number {
  if (!(shape > 0)) throw new ArgumentError(`sampleGamma: shape must be > 0, got ${shape}`);
  if (shape < 1) {
    let u = 0;
    while (u === 0) u = rng.uniform();
    return sampleGamma(rng, shape + 1) * u ** (1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.uniform();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(a, b) as G₁ / (G₁ + G₂) with Gᵢ Gamma-distributed. */
export function sampleBeta(rng: Rng, a: number, b: number): number {
  const x = sampleGamma(rng, a);
  const y = sampleGamma(rng, b);
  return x + y === 0 ? 0.5 : x / (x + y);
}

const mixBase = {
  /** α of the Beta(α, α) distribution of λ. */
  alpha: z.number().positive(),
  /** Probability of mixing, per sample (the others keep λ = 1). */
  p: probability.default(1),
  /** Number of classes; default from augment()/toBatchTransform() options or the soft targets. */
  classes: z.number().int().positive().optional(),
};

export const mixupSchema = z.strictObject({ ...mixBase, alpha: mixBase.alpha.default(0.2) });
export type MixupConfig = z.input<typeof mixupSchema>;

/** A random partner for every sample: a permutation of the batch. */
function partners(rng: Rng, n: number): Int32Array {
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  return rng.shuffle(perm);
}

function mixTargets(rows: Float32Array, n: number, classes: number, perm: Int32Array, lambdas: ArrayLike<number>): Float32Array {
  const out = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    const l = lambdas[i];
    for (let k = 0; k < classes; k++) out[i * classes + k] = l * rows[i * classes + k] + (1 - l) * rows[perm[i] * classes + k];
  }
  return out;
}

/**
 * mixup (Zhang et al. 2018): x̃ᵢ = λᵢ·xᵢ + (1 − λᵢ)·x_πᵢ and ỹᵢ = λᵢ·yᵢ + (1 − λᵢ)·y_πᵢ,
 * λᵢ ~ Beta(α, α) per sample, π a random permutation of the batch.
 */
export class Mixup extends BaseAugmentation<z.output<typeof mixupSchema>> {
  readonly name = 'mixup';

  constructor(config: MixupConfig = {}) {
    super(parseConfig('mixup', mixupSchema, config));
  }

  apply(batch: AugmentBatch, rng: Rng): AugmentBatch {
    const { n } = dims(this.name, batch.x);
    const classes = classesOf(this.name, batch, this.config.classes);
    const rows = targetRows(this.name, batch, classes);
    const perm = partners(rng, n);
    const lambdas = new Float32Array(n);
    for (let i = 0; i < n; i++) lambdas[i] = chance(rng, this.config.p) ? sampleBeta(rng, this.config.alpha, this.config.alpha) : 1;
    return {
      ...batch,
      x: blendSamples(batch.x, batch.x, perm, lambdas),
      targets: targetTensor(mixTargets(rows, n, classes, perm, lambdas), n, classes),
    };
  }
}

export const cutmixSchema = z.strictObject({ ...mixBase, alpha: mixBase.alpha.default(1) });
export type CutmixConfig = z.input<typeof cutmixSchema>;

/**
 * CutMix (Yun et al. 2019): a box of area (1 − λ)·h·w, centered on a uniformly random pixel
 * and clipped to the image, is pasted from the partner; the targets mix by the area really
 * pasted, λ' = 1 − box area / (h·w).
 */
export class Cutmix extends BaseAugmentation<z.output<typeof cutmixSchema>> {
  readonly name = 'cutmix';

  constructor(config: CutmixConfig = {}) {
    super(parseConfig('cutmix', cutmixSchema, config));
  }

  apply(batch: AugmentBatch, rng: Rng): AugmentBatch {
    const { n, h, w } = dims(this.name, batch.x);
    const classes = classesOf(this.name, batch, this.config.classes);
    const rows = targetRows(this.name, batch, classes);
    const perm = partners(rng, n);
    const lambdas = new Float32Array(n).fill(1);
    const rects: Rect[] = [];
    for (let i = 0; i < n; i++) {
      if (!chance(rng, this.config.p)) continue;
      const cut = Math.sqrt(1 - sampleBeta(rng, this.config.alpha, this.config.alpha));
      const [bh, bw] = [Math.floor(h * cut), Math.floor(w * cut)];
      const [cy, cx] = [rng.int(h), rng.int(w)];
      const y0 = Math.max(0, cy - Math.floor(bh / 2));
      const x0 = Math.max(0, cx - Math.floor(bw / 2));
      const y1 = Math.min(h, cy - Math.floor(bh / 2) + bh);
      const x1 = Math.min(w, cx - Math.floor(bw / 2) + bw);
      if (y1 <= y0 || x1 <= x0 || perm[i] === i) continue;
      rects.push({ sample: i, top: y0, left: x0, height: y1 - y0, width: x1 - x0, source: perm[i] });
      lambdas[i] = 1 - ((y1 - y0) * (x1 - x0)) / (h * w);
    }
    return {
      ...batch,
      x: rects.length > 0 ? pasteRects(batch.x, rects) : batch.x,
      targets: targetTensor(mixTargets(rows, n, classes, perm, lambdas), n, classes),
    };
  }
}
