// DropConnect (Wan et al. 2013): drops individual weights instead of activations. In training
// the kernel is W ⊙ M / (1 − rate) with M ~ Bernoulli(1 − rate), one mask per mini-batch
// (per-sample masks, as in the paper, would need a kernel per sample: batch × in × out
// draws); biases are not dropped. Since E[M / (1 − rate)] = 1, the expected kernel is W, and
// inference uses W: the pre-activations at inference are exactly the expectation of the
// training ones (the paper's Gaussian moment matching of the post-activation is not done).
import {
  type Rng, type RngState, ShapeError, type Tensor, add, conv2d, linear,
} from '@minibatch/core';
import {
  Conv2d, Dense, Module, conv2dSchema, defaultKernelInitializer, denseSchema, resolveInitializer, type ParamSpec,
} from '@minibatch/layers';
import { type Registry, z } from '@minibatch/registry';
import { MaskSource, type Stochastic, bernoulliMask, maskMultiply } from './masks.js';
import { checkRate, fmtShape, parseConfig, rateSchema } from './util.js';

export const dropConnectSchema = denseSchema.extend({
  /** Probability of dropping each weight, in [0, 1). */
  rate: rateSchema.default(0.5),
});
export type DropConnectConfig = z.input<typeof dropConnectSchema>;

/** The masked kernel of a training step, or the kernel itself at inference. */
function maskedKernel(layer: Module & { rate: number }, w: Tensor, masks: MaskSource): Tensor {
  if (!layer.training || layer.rate === 0) return w;
  const keep = 1 - layer.rate;
  return maskMultiply(layer.name, w, bernoulliMask(w.shape, keep, 1 / keep, masks.rng));
}

/**
 * A dense layer with DropConnect on its kernel: y = activation(x·(W ⊙ M)/(1 − rate) + b) in
 * training, activation(x·W + b) in eval mode. Same config as `dense` plus `rate`; for the same
 * seed it has the same initial weights as `dense`.
 *
 * @example
 * new DropConnect({ units: 128, activation: 'relu', rate: 0.5 });
 */
export class DropConnect extends Dense implements Stochastic {
  override readonly name: string = 'dropConnect';
  #rate: number;
  readonly #masks = new MaskSource('dropConnect');

  constructor(config: DropConnectConfig, registry?: Registry) {
    const { rate, ...dense } = parseConfig('layer', 'dropConnect', dropConnectSchema, config);
    super(dense, registry);
    this.#rate = rate;
  }

  get rate(): number {
    return this.#rate;
  }

  set rate(value: number) {
    this.#rate = checkRate(this.name, value);
  }

  protected override createState(inputShape: number[], rng: Rng): void {
    super.createState(inputShape, rng); // the weights first, exactly as a dense layer draws them
    this.#masks.set(rng.fork());
  }

  rngState(): RngState {
    return this.#masks.state();
  }

  setRngState(state: RngState): void {
    this.#masks.restore(state);
  }

  override forward(x: Tensor): Tensor {
    this.ensureBuilt(x);
    this.outputShape(x.shape.slice(1));
    const w = maskedKernel(this, this.param('weight'), this.#masks);
    const y = linear(x, w, this.useBias ? this.param('bias') : undefined);
    return this.activation === null ? y : this.activation.apply(y);
  }

  protected override layerConfig(): Record<string, unknown> {
    return { ...super.layerConfig(), rate: this.#rate };
  }
}

export const dropConnectConv2dSchema = conv2dSchema.extend({
  rate: rateSchema.default(0.5),
});
export type DropConnectConv2dConfig = z.input<typeof dropConnectConv2dSchema>;

/**
 * A 2-D convolution (NHWC, HWIO kernel) with DropConnect on its kernel: each kernel weight is
 * dropped with probability `rate` for the whole mini-batch, survivors scaled by 1/(1 − rate);
 * eval mode uses the kernel itself. Same config as `conv2d` plus `rate`.
 *
 * @example
 * new DropConnectConv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', rate: 0.2 });
 */
export class DropConnectConv2d extends Module implements Stochastic {
  readonly name = 'dropConnectConv2d';
  #rate: number;
  readonly #masks = new MaskSource('dropConnectConv2d');
  /** Geometry, activation and the config with defaults; never built, holds no tensors. */
  readonly #conv: Conv2d;
  readonly #biasInitializer: z.output<typeof conv2dSchema>['biasInitializer'];
  readonly #kernelInitializer: NonNullable<z.output<typeof conv2dSchema>['kernelInitializer']>;

  constructor(config: DropConnectConv2dConfig, registry?: Registry) {
    const c = parseConfig('layer', 'dropConnectConv2d', dropConnectConv2dSchema, config);
    super(c, registry);
    const { rate, label: _label, ...conv } = c;
    this.#rate = rate;
    this.#conv = new Conv2d(conv, registry);
    this.#kernelInitializer = c.kernelInitializer ?? defaultKernelInitializer(this.#conv.activation?.name);
    this.#biasInitializer = c.biasInitializer;
  }

  get rate(): number {
    return this.#rate;
  }

  set rate(value: number) {
    this.#rate = checkRate(this.name, value);
  }

  get filters(): number {
    return this.#conv.filters;
  }

  outputShape(inputShape: readonly number[]): number[] {
    const built = this.builtInputShape;
    if (built !== null && inputShape.length === 3 && built[2] !== inputShape[2]) {
      throw new ShapeError(`${this.name}: built for ${built[2]} input channels, got ${inputShape[2]} (input ${fmtShape(inputShape)})`);
    }
    try {
      return this.#conv.outputShape(inputShape);
    } catch (e) {
      if (e instanceof ShapeError) throw new ShapeError(e.message.replace(/^conv2d:/, `${this.name}:`));
      throw e;
    }
  }

  protected override parameterSpecs(inputShape: readonly number[]): ParamSpec[] {
    const [kh, kw] = this.#conv.kernelSize;
    const width = this.#conv.filters * (this.#conv.activation?.pieces ?? 1);
    const specs: ParamSpec[] = [
      { name: 'weight', shape: [kh, kw, inputShape[2], width], kind: 'weight', init: resolveInitializer(this.#kernelInitializer, this.registry) },
    ];
    if (this.#conv.useBias) specs.push({ name: 'bias', shape: [width], kind: 'bias', init: resolveInitializer(this.#biasInitializer, this.registry) });
    return specs;
  }

  protected override createState(inputShape: number[], rng: Rng): void {
    super.createState(inputShape, rng);
    this.#masks.set(rng.fork());
  }

  rngState(): RngState {
    return this.#masks.state();
  }

  setRngState(state: RngState): void {
    this.#masks.restore(state);
  }

  forward(x: Tensor): Tensor {
    this.ensureBuilt(x);
    this.outputShape(x.shape.slice(1));
    const conv = this.#conv;
    const w = maskedKernel(this, this.param('weight'), this.#masks);
    let y = conv2d(x, w, { strides: conv.strides, padding: conv.padding, dilations: conv.dilation });
    if (conv.useBias) y = add(y, this.param('bias'));
    return conv.activation === null ? y : conv.activation.apply(y);
  }

  protected override layerConfig(): Record<string, unknown> {
    return { ...this.#conv.getConfig(), rate: this.#rate };
  }
}
