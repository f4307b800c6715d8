// Depthwise and depthwise-separable convolutions (Xception, MobileNets): a per-channel
// spatial filter, optionally followed by a 1×1 convolution that mixes the channels.
import { ShapeError, type Tensor, add, conv2d, depthwiseConv2d } from '@minibatch/core';
import { z, type Registry } from '@minibatch/registry';
import { defaultKernelInitializer, type Activation } from './activations.js';
import { imageShape, windowed } from './conv.js';
import { Module, type ParamSpec } from './module.js';
import { resolveActivation, resolveInitializer } from './resolve.js';
import {
  fmtShape, intPair, namedSpec, pair, paddingSchema, parseConfig, positiveInt, weightedLayerFields,
  type NamedSpec, type PaddingConfig, type Pair,
} from './util.js';

const spatialFields = {
  kernelSize: intPair,
  strides: intPair.default(1),
  padding: paddingSchema.default('valid'),
  dilation: intPair.default(1),
  /** Filters per input channel: the output has channels × depthMultiplier channels. */
  depthMultiplier: positiveInt.default(1),
};

export const depthwiseConv2dSchema = z.strictObject({ ...spatialFields, ...weightedLayerFields });
export type DepthwiseConv2dConfig = z.input<typeof depthwiseConv2dSchema>;

export const separableConv2dSchema = z.strictObject({
  filters: positiveInt,
  ...spatialFields,
  ...weightedLayerFields,
  /** The pointwise (1×1) kernel's initializer; default as kernelInitializer's. */
  pointwiseInitializer: namedSpec.optional(),
});
export type SeparableConv2dConfig = z.input<typeof separableConv2dSchema>;

/** What both layers share: the spatial geometry, activation and initializers. */
abstract class SpatialBase extends Module {
  readonly kernelSize: Pair;
  readonly strides: Pair;
  readonly dilation: Pair;
  readonly padding: PaddingConfig;
  readonly depthMultiplier: number;
  readonly useBias: boolean;
  readonly activation: Activation | null;
  protected readonly kernelInitializer: NamedSpec;

  constructor(c: z.output<typeof depthwiseConv2dSchema>, registry: Registry | undefined) {
    super(c, registry);
    this.kernelSize = pair(c.kernelSize);
    this.strides = pair(c.strides);
    this.dilation = pair(c.dilation);
    this.padding = c.padding;
    this.depthMultiplier = c.depthMultiplier;
    this.useBias = c.useBias;
    this.activation = c.activation == null ? null : resolveActivation(c.activation, registry, ['activation']);
    this.kernelInitializer = c.kernelInitializer ?? defaultKernelInitializer(this.activation?.name);
    resolveInitializer(this.kernelInitializer, registry, ['kernelInitializer']);
    resolveInitializer(c.biasInitializer, registry, ['biasInitializer']);
  }

  protected spatialOutput(inputShape: readonly number[]): [number, number, number] {
    const [h, w, c] = imageShape(this.name, inputShape);
    const built = this.builtInputShape;
    if (built !== null && built[2] !== c) throw new ShapeError(`${this.name}: built for ${built[2]} input channels, got ${c} (input ${fmtShape(inputShape)})`);
    const [oh, ow] = windowed(this.name, h, w, this.kernelSize, this.strides, this.dilation, this.padding);
    return [oh, ow, c];
  }

  /** The depthwise kernel [kh, kw, c, m]: each output unit sees kh·kw inputs of one channel (its true fan-in). */
  protected depthwiseSpec(name: string, c: number): ParamSpec {
    const [kh, kw] = this.kernelSize;
    return {
      name, shape: [kh, kw, c, this.depthMultiplier], kind: 'weight', init: resolveInitializer(this.kernelInitializer, this.registry),
      fanIn: kh * kw, fanOut: kh * kw * this.depthMultiplier,
    };
  }

  protected depthwise(x: Tensor, weight: Tensor): Tensor {
    return depthwiseConv2d(x, weight, { strides: this.strides, padding: this.padding, dilations: this.dilation });
  }

  protected finish(y: Tensor): Tensor {
    const z2 = this.useBias ? add(y, this.param('bias')) : y;
    return this.activation === null ? z2 : this.activation.apply(z2);
  }

  protected spatialConfig(c: z.output<typeof depthwiseConv2dSchema>): Record<string, unknown> {
    return {
      kernelSize: c.kernelSize, strides: c.strides, padding: c.padding, dilation: c.dilation, depthMultiplier: c.depthMultiplier,
      ...(c.activation != null ? { activation: c.activation } : {}),
      useBias: c.useBias, kernelInitializer: this.kernelInitializer, biasInitializer: c.biasInitializer,
      ...(c.seed !== undefined ? { seed: c.seed } : {}),
    };
  }
}

/**
 * Depthwise convolution: each input channel convolved with its own depthMultiplier filters,
 * weight [kh, kw, c, m], bias [c·m]; NHWC in, [n, oh, ow, c·m] out.
 *
 * @example
 * new DepthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', useBias: false });  // [n,112,112,96] → [n,56,56,96]
 */
export class DepthwiseConv2d extends SpatialBase {
  readonly name = 'depthwiseConv2d';
  private readonly config: z.output<typeof depthwiseConv2dSchema>;

  constructor(config: DepthwiseConv2dConfig, registry?: Registry) {
    const c = parseConfig('layer', 'depthwiseConv2d', depthwiseConv2dSchema, config);
    super(c, registry);
    this.config = c;
  }

  outputShape(inputShape: readonly number[]): number[] {
    const [oh, ow, c] = this.spatialOutput(inputShape);
    return [oh, ow, c * this.depthMultiplier];
  }

  protected override parameterSpecs(inputShape: readonly number[]): ParamSpec[] {
    const c = inputShape[2];
    const specs = [this.depthwiseSpec('weight', c)];
    if (this.useBias) specs.push({ name: 'bias', shape: [c * this.depthMultiplier], kind: 'bias', init: resolveInitializer(this.config.biasInitializer, this.registry) });
    return specs;
  }

  forward(x: Tensor): Tensor {
    this.ensureBuilt(x);
    this.outputShape(x.shape.slice(1));
    return this.finish(this.depthwise(x, this.param('weight')));
  }

  protected override layerConfig(): Record<string, unknown> {
    return this.spatialConfig(this.config);
  }
}

/**
 * Depthwise-separable convolution (Chollet 2017): a depthwise convolution, then a 1×1
 * convolution to `filters` channels, then bias and activation. Weights 'depthwiseWeight'
 * [kh, kw, c, m] and 'pointwiseWeight' [1, 1, c·m, filters].
 *
 * @example
 * new SeparableConv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' });
 */
export class SeparableConv2d extends SpatialBase {
  readonly name = 'separableConv2d';
  readonly filters: number;
  private readonly config: z.output<typeof separableConv2dSchema>;
  private readonly pointwiseInitializer: NamedSpec;

  constructor(config: SeparableConv2dConfig, registry?: Registry) {
    const c = parseConfig('layer', 'separableConv2d', separableConv2dSchema, config);
    const { filters: _f, pointwiseInitializer: _p, ...spatial } = c;
    super(spatial, registry);
    this.config = c;
    this.filters = c.filters;
    this.pointwiseInitializer = c.pointwiseInitializer ?? this.kernelInitializer;
    resolveInitializer(this.pointwiseInitializer, registry, ['pointwiseInitializer']);
  }

  outputShape(inputShape: readonly number[]): number[] {
    const [oh, ow] = this.spatialOutput(inputShape);
    return [oh, ow, this.filters];
  }

  protected override parameterSpecs(inputShape: readonly number[]): ParamSpec[] {
    const c = inputShape[2];
    const specs: ParamSpec[] = [
      this.depthwiseSpec('depthwiseWeight', c),
      { name: 'pointwiseWeight', shape: [1, 1, c * this.depthMultiplier, this.filters], kind: 'weight', init: resolveInitializer(this.pointwiseInitializer, this.registry) },
    ];
    if (this.useBias) specs.push({ name: 'bias', shape: [this.filters], kind: 'bias', init: resolveInitializer(this.config.biasInitializer, this.registry) });
    return specs;
  }

  forward(x: Tensor): Tensor {
    this.ensureBuilt(x);
    this.outputShape(x.shape.slice(1));
    return this.finish(conv2d(this.depthwise(x, this.param('depthwiseWeight')), this.param('pointwiseWeight')));
  }

  protected override layerConfig(): Record<string, unknown> {
    return { filters: this.filters, ...this.spatialConfig(this.config), pointwiseInitializer: this.pointwiseInitializer };
  }
}
