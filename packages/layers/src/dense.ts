// Dense (fully connected) layer and Maxout, which is a dense layer whose activation takes
// the max over k pieces.
import { ShapeError, type Tensor, biasActivation, linear } from '@minibatch/core';
import { z, type Registry } from '@minibatch/registry';
import { defaultKernelInitializer, type Activation } from './activations.js';
import { Module, type ParamSpec } from './module.js';
import { resolveActivation, resolveInitializer } from './resolve.js';
import { fmtShape, namedSpec, parseConfig, positiveInt, weightedLayerFields, type NamedSpec } from './util.js';

export const denseSchema = z.strictObject({
  units: positiveInt,
  ...weightedLayerFields,
});
export type DenseConfig = z.input<typeof denseSchema>;

/**
 * y = activation(x·W + b) on [batch, features]; W is [in, units] (times k pieces for maxout).
 *
 * @example
 * const layer = new Dense({ units: 128, activation: 'relu' });   // He-normal weights
 * const y = layer.forward(x);                                    // x: [batch, 784] → [batch, 128]
 */
export class Dense extends Module {
  readonly name: string = 'dense';
  readonly units: number;
  readonly useBias: boolean;
  readonly activation: Activation | null;
  protected readonly activationSpec: NamedSpec | null;
  protected readonly kernelInitializer: NamedSpec;
  protected readonly biasInitializer: NamedSpec;

  constructor(config: DenseConfig, registry?: Registry) {
    const c = parseConfig('layer', 'dense', denseSchema, config);
    super(c, registry);
    this.units = c.units;
    this.useBias = c.useBias;
    this.activationSpec = c.activation ?? null;
    this.activation = c.activation == null ? null : resolveActivation(c.activation, registry, ['activation']);
    this.kernelInitializer = c.kernelInitializer ?? defaultKernelInitializer(this.activation?.name);
    this.biasInitializer = c.biasInitializer;
    // Resolve now so an unknown initializer name fails at construction, not at build.
    resolveInitializer(this.kernelInitializer, registry, ['kernelInitializer']);
    resolveInitializer(this.biasInitializer, registry, ['biasInitializer']);
  }

  /** Pre-activation width: units·pieces. */
  protected get width(): number {
    return this.units * (this.activation?.pieces ?? 1);
  }

  outputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 1) {
      throw new ShapeError(
        `${this.name}: expects [batch, features] input, got per-sample shape ${fmtShape(inputShape)}` +
          (inputShape.length > 1 ? " — put a 'flatten' (or 'globalAvgPool2d') layer before it" : ''),
      );
    }
    const built = this.builtInputShape;
    if (built !== null && built[0] !== inputShape[0]) {
      throw new ShapeError(`${this.name}: built for ${built[0]} input features, got ${inputShape[0]}`);
    }
    return [this.units];
  }

  protected override parameterSpecs(inputShape: readonly number[]): ParamSpec[] {
    const specs: ParamSpec[] = [
      { name: 'weight', shape: [inputShape[0], this.width], kind: 'weight', init: resolveInitializer(this.kernelInitializer, this.registry) },
    ];
    if (this.useBias) specs.push({ name: 'bias', shape: [this.width], kind: 'bias', init: resolveInitializer(this.biasInitializer, this.registry) });
    return specs;
  }

  forward(x: Tensor): Tensor {
    this.ensureBuilt(x);
    this.outputShape(x.shape.slice(1));
    const fused = this.activation?.fused;
    if (fused !== undefined) {
      // Bias and activation in one pass over the last axis (core's biasActivation: the same values as add, then apply).
      return biasActivation(linear(x, this.param('weight')), this.useBias ? this.param('bias') : null, fused.name, fused.alpha);
    }
    const y = linear(x, this.param('weight'), this.useBias ? this.param('bias') : undefined);
    return this.activation === null ? y : this.activation.apply(y);
  }

  protected override layerConfig(): Record<string, unknown> {
    return {
      units: this.units,
      ...(this.activationSpec !== null ? { activation: this.activationSpec } : {}),
      useBias: this.useBias,
      kernelInitializer: this.kernelInitializer,
      biasInitializer: this.biasInitializer,
      ...(this.seed !== undefined ? { seed: this.seed } : {}),
    };
  }
}

export const maxoutSchema = denseSchema.omit({ activation: true }).extend({ pieces: z.number().int().min(1).default(2) });
export type MaxoutConfig = z.input<typeof maxoutSchema>;

/**
 * Maxout units (Goodfellow et al. 2013): a linear map to k·units values, then the max over
 * each group of k. Same as Dense with activation { name: 'maxout', config: { pieces: k } }.
 *
 * @example
 * new Maxout({ units: 64, pieces: 3 });   // [batch, in] → [batch, 64], W is [in, 192]
 */
export class Maxout extends Dense {
  override readonly name: string = 'maxout';
  readonly pieces: number;

  constructor(config: MaxoutConfig, registry?: Registry) {
    const c = parseConfig('layer', 'maxout', maxoutSchema, config);
    const { pieces, ...dense } = c;
    super({ ...dense, activation: { name: 'maxout', config: { pieces } } }, registry);
    this.pieces = c.pieces;
  }

  protected override layerConfig(): Record<string, unknown> {
    const { activation: _, ...rest } = super.layerConfig();
    return { ...rest, pieces: this.pieces };
  }
}
