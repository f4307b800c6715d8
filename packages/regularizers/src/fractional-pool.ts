// Fractional max pooling (Graham 2014, "Fractional Max-Pooling", arXiv:1412.6071): max
// pooling that shrinks an image by a non-integer factor, e.g. 1/√2 per side, so many more
// pooling layers fit in a network. Along each axis the N_in cells are cut into N_out regions
// by a sequence 0 = a_0 < a_1 < … < a_out = N_in whose increments are ⌊α⌋ or ⌈α⌉,
// α = N_in / N_out, chosen
//   'random':       a random permutation of the right number of each increment;
//   'pseudoRandom': a_i = ⌈α(i + u)⌉ − ⌈αu⌉ for one u ~ U(0, 1) (the form TensorFlow uses).
// Disjoint regions are [a_{i−1}, a_i − 1]; overlapping ones [a_{i−1}, a_i] (clipped to the
// image). One draw of row and column sequences per forward pass (per mini-batch), from the
// layer's seeded generator.
//
// The op is composed from core's gather and maximum: rows first, then columns (the max over
// a rectangle is the max over rows of the max over columns). Each region is at most
// ⌈α⌉ + 1 cells long, so the max over a region is the max of ⌈α⌉ + 1 gathers whose indices
// are clamped to the region's end; repeated cells tie with themselves and `maximum` gives the
// gradient to one of them, so the gradient flows to each region's maximum only.
import { ArgumentError, type Rng, type RngState, ShapeError, type Tensor, gather, maximum } from '@minibatch/core';
import { Module } from '@minibatch/layers';
import { type Registry, z } from '@minibatch/registry';
import { MaskSource, type Stochastic } from './masks.js';
import { fmtShape, labelSchema, parseConfig, seedSchema } from './util.js';

/** One pooling region along an axis: cells start … end, inclusive. */
export interface Region {
  start: number;
  end: number;
}

export interface SequenceOptions {
  /** Draws the permutation ('random') or u ('pseudoRandom', unless `u` is given). */
  rng?: Rng;
  pseudoRandom?: boolean;
  /** The offset u in [0, 1) of a pseudo-random sequence. */
  u?: number;
  overlapping?: boolean;
}

/** Output size along an axis: ⌊input · ratio⌋ (a tiny slack absorbs 2/3·9 = 5.999…). */
export function fractionalOutputSize(input: number, ratio: number): number {
  return Math.floor(input * ratio + 1e-9);
}

/**
 * The pooling regions that cut `input` cells into `output` regions (Graham 2014, §2).
 *
 * @example
 * fractionalRegions(10, 7, { rng: new Rng(1) });  // 7 regions of 1 or 2 cells covering 0…9
 */
export function fractionalRegions(input: number, output: number, options: SequenceOptions): Region[] {
  if (!Number.isInteger(input) || !Number.isInteger(output) || output < 1 || output > input) {
    throw new ArgumentError(`fractionalRegions: needs integers 1 ≤ output ≤ input, got input ${input}, output ${output}`);
  }
  const { rng, pseudoRandom = false, overlapping = false } = options;
  if (rng === undefined && !(pseudoRandom && options.u !== undefined)) {
    throw new ArgumentError('fractionalRegions: needs an rng (or, for a pseudo-random sequence, a fixed u)');
  }
  const alpha = input / output;
  const cuts = new Array<number>(output + 1);
  cuts[0] = 0;
  if (pseudoRandom) {
    const u = options.u ?? rng!.uniform();
    if (!(u >= 0 && u < 1)) throw new ArgumentError(`fractionalRegions: u must be in [0, 1), got ${u}`);
    const base = Math.ceil(alpha * u);
    for (let i = 1; i < output; i++) cuts[i] = Math.ceil(alpha * (i + u)) - base;
  } else {
    const small = Math.floor(alpha);
    const bigCount = input - small * output; // increments of ⌈α⌉ = small + 1
    const steps = rng!.shuffle(Array.from({ length: output }, (_, i) => (i < bigCount ? small + 1 : small)));
    for (let i = 1; i < output; i++) cuts[i] = cuts[i - 1] + steps[i - 1];
  }
  cuts[output] = input;
  return Array.from({ length: output }, (_, i) => ({
    start: cuts[i],
    end: overlapping ? Math.min(cuts[i + 1], input - 1) : cuts[i + 1] - 1,
  }));
}

/** Max over `regions` along `axis` of x: gathers clamped to each region's end, then maximum. */
function poolAxis(x: Tensor, axis: number, regions: readonly Region[]): Tensor {
  const longest = Math.max(...regions.map((r) => r.end - r.start + 1));
  let out: Tensor | null = null;
  for (let k = 0; k < longest; k++) {
    const picked = gather(x, regions.map((r) => Math.min(r.start + k, r.end)), axis);
    out = out === null ? picked : maximum(out, picked);
  }
  return out!;
}

/**
 * Max over rectangular regions of NHWC images: rows[i] × cols[j] for output cell (i, j).
 * The gradient goes to the maximum of each region.
 */
export function regionMaxPool2d(x: Tensor, rows: readonly Region[], cols: readonly Region[]): Tensor {
  if (x.rank !== 4) throw new ShapeError(`regionMaxPool2d: input must be NHWC [batch, height, width, channels], got ${fmtShape(x.shape)}`);
  const check = (regions: readonly Region[], size: number, what: string): void => {
    for (const r of regions) {
      if (!(Number.isInteger(r.start) && Number.isInteger(r.end) && r.start >= 0 && r.start <= r.end && r.end < size)) {
        throw new ArgumentError(`regionMaxPool2d: ${what} region ${JSON.stringify(r)} is not inside 0…${size - 1}`);
      }
    }
  };
  check(rows, x.shape[1], 'row');
  check(cols, x.shape[2], 'column');
  return poolAxis(poolAxis(x, 1, rows), 2, cols);
}

const ratioValue = z.number().gt(0).lt(1);

export const fractionalMaxPool2dSchema = z.strictObject({
  /** Output/input size per side, in (0, 1); one number or [height, width]. Default 1/√2. */
  ratio: z.union([ratioValue, z.tuple([ratioValue, ratioValue])]).default(Math.SQRT1_2),
  /** Pseudo-random sequences (a_i = ⌈α(i + u)⌉ − ⌈αu⌉) instead of random permutations. */
  pseudoRandom: z.boolean().default(false),
  /** Regions overlap by one cell at their edges. */
  overlapping: z.boolean().default(false),
  seed: seedSchema,
  label: labelSchema,
});
export type FractionalMaxPool2dConfig = z.input<typeof fractionalMaxPool2dSchema>;

/**
 * Fractional max pooling of NHWC images: [n, h, w, c] → [n, ⌊h·r⌋, ⌊w·r⌋, c]. In training
 * the regions are drawn anew for every forward pass; in eval mode they are fixed — the
 * pseudo-random sequence with u = ½, the same for every call — so evaluation is deterministic
 * (Graham averages several random passes instead; run forward in training mode under
 * noGrad() to do that).
 *
 * @example
 * new FractionalMaxPool2d({ ratio: Math.SQRT1_2, overlapping: true });   // 32×32 → 22×22
 */
export class FractionalMaxPool2d extends Module implements Stochastic {
  readonly name = 'fractionalMaxPool2d';
  readonly ratio: [number, number];
  readonly pseudoRandom: boolean;
  readonly overlapping: boolean;
  /** The regions of the last forward pass (for inspection and tests). */
  lastRegions: { rows: Region[]; cols: Region[] } | null = null;
  readonly #config: z.output<typeof fractionalMaxPool2dSchema>;
  readonly #regions = new MaskSource('fractionalMaxPool2d');

  constructor(config: FractionalMaxPool2dConfig = {}, registry?: Registry) {
    const c = parseConfig('layer', 'fractionalMaxPool2d', fractionalMaxPool2dSchema, config);
    super(c, registry);
    this.#config = c;
    this.ratio = typeof c.ratio === 'number' ? [c.ratio, c.ratio] : [c.ratio[0], c.ratio[1]];
    this.pseudoRandom = c.pseudoRandom;
    this.overlapping = c.overlapping;
  }

  outputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 3) {
      throw new ShapeError(`${this.name}: expects NHWC images [batch, height, width, channels], got per-sample shape ${fmtShape(inputShape)}`);
    }
    const [h, w, c] = inputShape;
    const oh = fractionalOutputSize(h, this.ratio[0]);
    const ow = fractionalOutputSize(w, this.ratio[1]);
    if (oh < 1 || ow < 1) {
      throw new ShapeError(`${this.name}: a ${h}×${w} image pooled by ratio ${this.ratio.join('×')} would be ${oh}×${ow}; use a larger image or a ratio closer to 1`);
    }
    return [oh, ow, c];
  }

  protected override createState(inputShape: number[], rng: Rng): void {
    super.createState(inputShape, rng);
    this.#regions.set(rng.fork());
  }

  rngState(): RngState {
    return this.#regions.state();
  }

  setRngState(state: RngState): void {
    this.#regions.restore(state);
  }

  /** The regions for an h×w image: drawn from the layer's generator in training, fixed in eval. */
  regions(h: number, w: number): { rows: Region[]; cols: Region[] } {
    const [oh, ow] = this.outputShape([h, w, 1]);
    const options = this.training
      ? { rng: this.#regions.rng, pseudoRandom: this.pseudoRandom, overlapping: this.overlapping }
      : { u: 0.5, pseudoRandom: true, overlapping: this.overlapping };
    const rows = fractionalRegions(h, oh, options);
    const cols = fractionalRegions(w, ow, options);
    return { rows, cols };
  }

  forward(x: Tensor): Tensor {
    this.ensureBuilt(x);
    this.outputShape(x.shape.slice(1));
    const regions = this.regions(x.shape[1], x.shape[2]);
    this.lastRegions = regions;
    return regionMaxPool2d(x, regions.rows, regions.cols);
  }

  protected override layerConfig(): Record<string, unknown> {
    const c = this.#config;
    return { ratio: c.ratio, pseudoRandom: c.pseudoRandom, overlapping: c.overlapping, ...(c.seed !== undefined ? { seed: c.seed } : {}) };
  }
}
