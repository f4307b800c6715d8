// Convolution and pooling layers on NHWC images (filters HWIO), and Flatten.
import { ShapeError, type Tensor, add, avgPool2d, biasActivation, concat, conv2d, depthwiseConv2d, maxPool2d, mean, reshape, slice, windowOutputSize } from '@minibatch/core';
import { z, type Registry } from '@minibatch/registry';
import { defaultKernelInitializer, type Activation } from './activations.js';
import { Module, type ParamSpec } from './module.js';
import { resolveActivation, resolveInitializer } from './resolve.js';
import {
  fmtShape, intPair, namedSpec, pair, paddingSchema, parseConfig, positiveInt, sizeOf, weightedLayerFields,
  type NamedSpec, type PaddingConfig, type Pair,
} from './util.js';

export function imageShape(layer: string, inputShape: readonly number[]): [number, number, number] {
  if (inputShape.length !== 3) {
    throw new ShapeError(`${layer}: expects NHWC images [batch, height, width, channels], got per-sample shape ${fmtShape(inputShape)}` +
      (inputShape.length === 1 ? ` — reshape flat inputs to [height, width, channels] first` : ''));
  }
  return [inputShape[0], inputShape[1], inputShape[2]];
}

export function windowed(layer: string, h: number, w: number, k: Pair, s: Pair, d: Pair, padding: PaddingConfig): [number, number] {
  return windowOutputSize(layer, h, w, k, { strides: s, dilations: d, padding });
}

export const conv2dSchema = z.strictObject({
  filters: positiveInt,
  kernelSize: intPair,
  strides: intPair.default(1),
  padding: paddingSchema.default('valid'),
  dilation: intPair.default(1),
  /** Channel groups: input and output channels split into this many independent convolutions (ResNeXt, ShuffleNet). */
  groups: positiveInt.default(1),
  ...weightedLayerFields,
});
export type Conv2dConfig = z.input<typeof conv2dSchema>;

/**
 * 2-D convolution: NHWC input, HWIO kernel [kh, kw, in / groups, filters], bias per filter.
 * With groups g, input and output channels split into g blocks, block i of the output seeing
 * only block i of the input (g = input channels is a depthwise convolution).
 * Padding 'valid' (default), 'same' (TF rules: output = ceil(input / stride)), a number, or
 * [[top, bottom], [left, right]].
 *
 * @example
 * new Conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }); // [n,28,28,1] → [n,28,28,32]
 */
export class Conv2d extends Module {
  readonly name = 'conv2d';
  readonly filters: number;
  readonly kernelSize: Pair;
  readonly strides: Pair;
  readonly dilation: Pair;
  readonly padding: PaddingConfig;
  readonly useBias: boolean;
  readonly groups: number;
  readonly activation: Activation | null;
  private readonly config: z.output<typeof conv2dSchema>;
  private readonly kernelInitializer: NamedSpec;

  constructor(config: Conv2dConfig, registry?: Registry) {
    const c = parseConfig('layer', 'conv2d', conv2dSchema, config);
    super(c, registry);
    if (c.filters % c.groups !== 0) throw new ShapeError(`conv2d: filters (${c.filters}) must be a multiple of groups (${c.groups})`);
    this.groups = c.groups;
    this.config = c;
    this.filters = c.filters;
    this.kernelSize = pair(c.kernelSize);
    this.strides = pair(c.strides);
    this.dilation = pair(c.dilation);
    this.padding = c.padding;
    this.useBias = c.useBias;
    this.activation = c.activation == null ? null : resolveActivation(c.activation, registry, ['activation']);
    this.kernelInitializer = c.kernelInitializer ?? defaultKernelInitializer(this.activation?.name);
    resolveInitializer(this.kernelInitializer, registry, ['kernelInitializer']);
    resolveInitializer(c.biasInitializer, registry, ['biasInitializer']);
  }

  private get width(): number {
    return this.filters * (this.activation?.pieces ?? 1);
  }

  outputShape(inputShape: readonly number[]): number[] {
    const [h, w, c] = imageShape(this.name, inputShape);
    const built = this.builtInputShape;
    if (built !== null && built[2] !== c) throw new ShapeError(`${this.name}: built for ${built[2]} input channels, got ${c} (input ${fmtShape(inputShape)})`);
    if (c % this.groups !== 0) throw new ShapeError(`${this.name}: ${c} input channels do not split into ${this.groups} groups`);
    const [oh, ow] = windowed(this.name, h, w, this.kernelSize, this.strides, this.dilation, this.padding);
    return [oh, ow, this.filters];
  }

  protected override parameterSpecs(inputShape: readonly number[]): ParamSpec[] {
    const [kh, kw] = this.kernelSize;
    const specs: ParamSpec[] = [
      { name: 'weight', shape: [kh, kw, inputShape[2] / this.groups, this.width], kind: 'weight', init: resolveInitializer(this.kernelInitializer, this.registry) },
    ];
    if (this.useBias) specs.push({ name: 'bias', shape: [this.width], kind: 'bias', init: resolveInitializer(this.config.biasInitializer, this.registry) });
    return specs;
  }

  forward(x: Tensor): Tensor {
    this.ensureBuilt(x);
    this.outputShape(x.shape.slice(1));
    const options = { strides: this.strides, padding: this.padding, dilations: this.dilation };
    let y = groupedConv2d(x, this.param('weight'), this.groups, options);
    const fused = this.activation?.fused;
    // Bias and activation in one pass (core's biasActivation: the same values as add, then apply).
    if (fused !== undefined) return biasActivation(y, this.useBias ? this.param('bias') : null, fused.name, fused.alpha);
    if (this.useBias) y = add(y, this.param('bias'));
    return this.activation === null ? y : this.activation.apply(y);
  }

  protected override layerConfig(): Record<string, unknown> {
    const c = this.config;
    return {
      filters: c.filters,
      kernelSize: c.kernelSize,
      strides: c.strides,
      padding: c.padding,
      dilation: c.dilation,
      ...(c.groups !== 1 ? { groups: c.groups } : {}),
      ...(c.activation != null ? { activation: c.activation } : {}),
      useBias: c.useBias,
      kernelInitializer: this.kernelInitializer,
      biasInitializer: c.biasInitializer,
      ...(c.seed !== undefined ? { seed: c.seed } : {}),
    };
  }
}

/**
 * A grouped convolution of x with filter [kh, kw, c / g, f]: one group is conv2d; g = c is a
 * depthwise convolution (the filter's memory order is already [kh, kw, c, f / c]); other g are
 * composed of g convolutions on channel slices, concatenated.
 */
export function groupedConv2d(x: Tensor, filter: Tensor, groups: number, options: Parameters<typeof conv2d>[2]): Tensor {
  if (groups === 1) return conv2d(x, filter, options);
  const [n, h, w, c] = x.shape;
  const [kh, kw, , f] = filter.shape;
  if (groups === c) return depthwiseConv2d(x, reshape(filter, [kh, kw, c, f / c]), options);
  const cg = c / groups;
  const fg = f / groups;
  return concat(Array.from({ length: groups }, (_, i) =>
    conv2d(slice(x, [0, 0, 0, i * cg], [n, h, w, cg]), slice(filter, [0, 0, 0, i * fg], [kh, kw, cg, fg]), options)), -1);
}

export const poolSchema = z.strictObject({
  poolSize: intPair.default(2),
  /** Default: the pool size. */
  strides: intPair.optional(),
  padding: paddingSchema.default('valid'),
  label: z.string().optional(),
});
export type Pool2dConfig = z.input<typeof poolSchema>;

abstract class Pool2d extends Module {
  readonly poolSize: Pair;
  readonly strides: Pair;
  readonly padding: PaddingConfig;

  constructor(name: string, config: Pool2dConfig) {
    const c = parseConfig('layer', name, poolSchema, config);
    super(c);
    this.poolSize = pair(c.poolSize);
    this.strides = pair(c.strides ?? c.poolSize);
    this.padding = c.padding;
  }

  outputShape(inputShape: readonly number[]): number[] {
    const [h, w, c] = imageShape(this.name, inputShape);
    const [oh, ow] = windowed(this.name, h, w, this.poolSize, this.strides, [1, 1], this.padding);
    return [oh, ow, c];
  }

  protected options() {
    return { size: this.poolSize, strides: this.strides, padding: this.padding };
  }

  protected override layerConfig(): Record<string, unknown> {
    return { poolSize: this.poolSize, strides: this.strides, padding: this.padding };
  }
}

/** Max over each window (gradient to the maximum). Default 2×2, stride 2. */
export class MaxPool2d extends Pool2d {
  readonly name = 'maxPool2d';
  constructor(config: Pool2dConfig = {}) {
    super('maxPool2d', config);
  }
  forward(x: Tensor): Tensor {
    this.outputShape(x.shape.slice(1));
    return maxPool2d(x, this.options());
  }
}

/** Mean over each window (padding not counted, as in TF). Default 2×2, stride 2. */
export class AvgPool2d extends Pool2d {
  readonly name = 'avgPool2d';
  constructor(config: Pool2dConfig = {}) {
    super('avgPool2d', config);
  }
  forward(x: Tensor): Tensor {
    this.outputShape(x.shape.slice(1));
    return avgPool2d(x, this.options());
  }
}

export const labelOnlySchema = z.strictObject({ label: z.string().optional() });

/** Mean over height and width: [batch, h, w, c] → [batch, c]. */
export class GlobalAvgPool2d extends Module {
  readonly name = 'globalAvgPool2d';
  constructor(config: { label?: string } = {}) {
    super(parseConfig('layer', 'globalAvgPool2d', labelOnlySchema, config));
  }
  outputShape(inputShape: readonly number[]): number[] {
    return [imageShape(this.name, inputShape)[2]];
  }
  forward(x: Tensor): Tensor {
    this.outputShape(x.shape.slice(1));
    return mean(x, [1, 2]);
  }
}

/** [batch, …] → [batch, product of …]; a view, no copy. */
export class Flatten extends Module {
  readonly name = 'flatten';
  constructor(config: { label?: string } = {}) {
    super(parseConfig('layer', 'flatten', labelOnlySchema, config));
  }
  outputShape(inputShape: readonly number[]): number[] {
    return [sizeOf(inputShape)];
  }
  forward(x: Tensor): Tensor {
    if (x.rank < 1) throw new ShapeError(`flatten: expected a batch (batch dimension first), got a scalar`);
    return reshape(x, [x.shape[0], sizeOf(x.shape.slice(1))]);
  }
}
