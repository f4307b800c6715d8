// Dropout (Srivastava et al. 2014), inverted: at training time each unit is kept with
// probability 1 − rate and scaled by 1/(1 − rate), so the expected activation is unchanged
// and inference is the identity. Spatial dropout (Tompson et al. 2015) drops whole channels
// of a feature map, because neighbouring pixels are too correlated for per-pixel masks to
// regularize convolutions.
import { type Rng, type RngState, ShapeError, type Tensor } from '@minibatch/core';
import { Module } from '@minibatch/layers';
import { type Registry, z } from '@minibatch/registry';
import { MaskSource, type Stochastic, bernoulliMask, maskMultiply } from './masks.js';
import { checkRate, fmtShape, labelSchema, parseConfig, rateSchema, seedSchema } from './util.js';

export const dropoutSchema = z.strictObject({
  /** Probability of dropping a unit, in [0, 1). */
  rate: rateSchema.default(0.5),
  /** A fixed seed for this layer's masks (default: the generator given to build()). */
  seed: seedSchema,
  label: labelSchema,
});
export type DropoutConfig = z.input<typeof dropoutSchema>;

abstract class DropoutBase extends Module implements Stochastic {
  #rate: number;
  protected readonly masks: MaskSource;

  constructor(name: string, config: DropoutConfig, registry?: Registry) {
    const c = parseConfig('layer', name, dropoutSchema, config);
    super(c, registry);
    this.#rate = c.rate;
    this.masks = new MaskSource(name);
  }

  /** Drop probability; may be changed between steps (e.g. annealed). */
  get rate(): number {
    return this.#rate;
  }

  set rate(value: number) {
    this.#rate = checkRate(this.name, value);
  }

  protected override createState(inputShape: number[], rng: Rng): void {
    super.createState(inputShape, rng);
    // A fork, so the masks do not interleave with other draws of a generator given to build().
    this.masks.set(rng.fork());
  }

  rngState(): RngState {
    return this.masks.state();
  }

  setRngState(state: RngState): void {
    this.masks.restore(state);
  }

  /** The mask's shape for a batch x (broadcast against x). */
  protected abstract maskShape(x: Tensor): number[];

  forward(x: Tensor): Tensor {
    this.ensureBuilt(x);
    this.outputShape(x.shape.slice(1));
    if (!this.training || this.#rate === 0) return x;
    const keep = 1 - this.#rate;
    const mask = bernoulliMask(this.maskShape(x), keep, 1 / keep, this.masks.rng);
    return maskMultiply(this.name, x, mask);
  }

  protected override layerConfig(): Record<string, unknown> {
    return { rate: this.#rate, ...(this.seed !== undefined ? { seed: this.seed } : {}) };
  }
}

/**
 * Inverted dropout: in training, y = x ⊙ m / (1 − rate) with m ~ Bernoulli(1 − rate) per
 * element, drawn from the layer's seeded generator; in eval mode, y = x.
 *
 * @example
 * const model = new Sequential([new Dense({ units: 256, activation: 'relu' }), new Dropout({ rate: 0.5 }), new Dense({ units: 10 })]);
 * model.build([784], new Rng(1));   // the dropout layer's masks come from a fork of this generator
 * model.eval();                     // dropout is now the identity
 */
export class Dropout extends DropoutBase {
  readonly name = 'dropout';

  constructor(config: DropoutConfig = {}, registry?: Registry) {
    super('dropout', config, registry);
  }

  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  protected maskShape(x: Tensor): number[] {
    return [...x.shape];
  }
}

/**
 * Spatial dropout: drops whole channels (the last axis) of each sample, the same channel at
 * every position: for NHWC images [batch, h, w, c] the mask is [batch, 1, 1, c]; any input of
 * rank ≥ 3 ([batch, …, channels]) works. Inverted scaling, identity in eval mode.
 *
 * @example
 * new SpatialDropout({ rate: 0.2 });   // after a conv2d: [n, 28, 28, 32] keeps ~80 % of the 32 maps per image
 */
export class SpatialDropout extends DropoutBase {
  readonly name = 'spatialDropout';

  constructor(config: DropoutConfig = {}, registry?: Registry) {
    super('spatialDropout', config, registry);
  }

  outputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length < 2) {
      throw new ShapeError(
        `${this.name}: expects feature maps [batch, …, channels] (e.g. NHWC [batch, h, w, c]), got per-sample shape ${fmtShape(inputShape)} — use 'dropout' for flat features`,
      );
    }
    return [...inputShape];
  }

  protected maskShape(x: Tensor): number[] {
    return x.shape.map((d, i) => (i === 0 || i === x.rank - 1 ? d : 1));
  }
}
