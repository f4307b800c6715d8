// Activation functions (registry kind 'activation'), usable by name in a layer's
// `activation:` field and, wrapped in modules (activation-layers.ts), as layers.
import { type FusedActivation, type Tensor, ShapeError, add, elu, leakyRelu, maximum, maxPool2d, minimum, mul, relu, reshape, sigmoid, softmax, tanh } from '@minibatch/core';
import { define, z, type PluginEntry } from '@minibatch/registry';
import type { InitializerName } from './initializers.js';
import { fmtShape } from './util.js';

export interface Activation {
  readonly kind: 'activation';
  readonly name: string;
  /**
   * Pre-activation units per output unit: maxout's k pieces, 1 for the others. A layer with
   * this activation computes pieces·units pre-activations.
   */
  readonly pieces: number;
  /**
   * The form core's biasActivation fuses with a layer's bias (one pass instead of two, the
   * same values): set for the activations whose derivative their output determines.
   */
  readonly fused?: { readonly name: FusedActivation; readonly alpha: number };
  apply(x: Tensor): Tensor;
  getConfig(): Record<string, unknown>;
}

function make(name: string, config: Record<string, unknown>, apply: (x: Tensor) => Tensor, pieces = 1, fused?: Activation['fused']): Activation {
  return { kind: 'activation', name, pieces, apply, getConfig: () => ({ ...config }), ...(fused !== undefined ? { fused } : {}) };
}

/** LeCun's scaled tanh constants: f(±1) = ±1 and maximal second derivative at ±1 (Efficient BackProp §4.4). */
export const SCALED_TANH_A = 1.7159;
export const SCALED_TANH_B = 2 / 3;

/**
 * max over groups of k consecutive units of the last axis: [..., k·u] → [..., u]
 * (Goodfellow et al. 2013). Written as a 1×k max-pool over the units viewed as a
 * [rows, u, k, 1] image, so the gradient goes to one winning piece (the first, on ties — a
 * plain max would give it to every tied piece, e.g. all pieces over a zero background at init).
 */
export function maxoutOf(x: Tensor, pieces: number): Tensor {
  const c = x.shape[x.rank - 1];
  if (x.rank < 2 || c % pieces !== 0) {
    throw new ShapeError(`maxout: expects [batch, …, k·units] with the last axis a multiple of pieces = ${pieces}, got ${fmtShape(x.shape)}`);
  }
  if (pieces === 1) return x;
  const units = c / pieces;
  const rows = x.size / c;
  const pooled = maxPool2d(reshape(x, [rows, units, pieces, 1]), { size: [1, pieces] });
  return reshape(pooled, [...x.shape.slice(0, -1), units]);
}

export const leakyReluSchema = z.strictObject({ alpha: z.number().min(0).default(0.01) });
export const eluSchema = z.strictObject({ alpha: z.number().positive().default(1) });
export const softmaxSchema = z.strictObject({ axis: z.number().int().default(-1) });
export const maxoutSchema = z.strictObject({ pieces: z.number().int().min(1).default(2) });
export const clippedReluSchema = z.strictObject({ maxValue: z.number().positive().default(6) });
/** Either bound may be left out (no limit on that side). */
export const clipSchema = z.strictObject({ min: z.number().optional(), max: z.number().optional() })
  .refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, { message: 'min must be ≤ max', path: ['max'] });
/** Keras' and ONNX's defaults: the linear piece 0.2·x + 0.5 (PyTorch's hardsigmoid uses 1/6). */
export const hardSigmoidSchema = z.strictObject({ alpha: z.number().positive().default(0.2), beta: z.number().default(0.5) });

/** min(max(x, 0), cap), composed: ReLU6 in MobileNets (cap 6). */
const clipped = (x: Tensor, cap: number): Tensor => minimum(relu(x), cap);
/** clip(alpha·x + beta, 0, 1): the piecewise-linear sigmoid of MobileNetV3 and Keras. */
const hardSigmoidOf = (x: Tensor, alpha: number, beta: number): Tensor => clipped(add(mul(x, alpha), beta), 1);

/** Factories of the built-in activations, by registry name. */
export const activations = {
  sigmoid: (): Activation => make('sigmoid', {}, sigmoid, 1, { name: 'sigmoid', alpha: 0 }),
  tanh: (): Activation => make('tanh', {}, tanh, 1, { name: 'tanh', alpha: 0 }),
  /** 1.7159·tanh(2x/3). */
  scaledTanh: (): Activation => make('scaledTanh', {}, (x) => mul(tanh(mul(x, SCALED_TANH_B)), SCALED_TANH_A)),
  relu: (): Activation => make('relu', {}, relu, 1, { name: 'relu', alpha: 0 }),
  /** x for x > 0, alpha·x otherwise (default alpha 0.01). */
  leakyRelu: (c: { alpha?: number } = {}): Activation => {
    const { alpha } = leakyReluSchema.parse(c);
    return make('leakyRelu', { alpha }, (x) => leakyRelu(x, alpha), 1, alpha > 0 ? { name: 'leakyRelu', alpha } : undefined);
  },
  /** x for x > 0, alpha·(eˣ − 1) otherwise (default alpha 1). */
  elu: (c: { alpha?: number } = {}): Activation => {
    const { alpha } = eluSchema.parse(c);
    return make('elu', { alpha }, (x) => elu(x, alpha), 1, alpha > 0 ? { name: 'elu', alpha } : undefined);
  },
  softmax: (c: { axis?: number } = {}): Activation => {
    const { axis } = softmaxSchema.parse(c);
    return make('softmax', { axis }, (x) => softmax(x, axis));
  },
  /** min(max(x, 0), 6), as MobileNetV2 (Sandler et al. 2018). */
  relu6: (): Activation => make('relu6', {}, (x) => clipped(x, 6)),
  /** min(max(x, 0), maxValue) (Keras' ReLU with max_value). */
  clippedRelu: (c: { maxValue?: number } = {}): Activation => {
    const { maxValue } = clippedReluSchema.parse(c);
    return make('clippedRelu', { maxValue }, (x) => clipped(x, maxValue));
  },
  /** min(max(x, min), max) (ONNX Clip); either bound may be left out. */
  clip: (c: { min?: number; max?: number } = {}): Activation => {
    const { min, max } = clipSchema.parse(c);
    return make('clip', { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) }, (x) => {
      const low = min === undefined ? x : maximum(x, min);
      return max === undefined ? low : minimum(low, max);
    });
  },
  /** clip(alpha·x + beta, 0, 1) (default alpha 0.2, beta 0.5). */
  hardSigmoid: (c: { alpha?: number; beta?: number } = {}): Activation => {
    const { alpha, beta } = hardSigmoidSchema.parse(c);
    return make('hardSigmoid', { alpha, beta }, (x) => hardSigmoidOf(x, alpha, beta));
  },
  /** x · clip(x/6 + 1/2, 0, 1), as MobileNetV3 (Howard et al. 2019) and ONNX HardSwish. */
  hardSwish: (): Activation => make('hardSwish', {}, (x) => mul(x, hardSigmoidOf(x, 1 / 6, 0.5))),
  /** Max over k pieces; in a dense or conv layer the layer computes k·units pre-activations. */
  maxout: (c: { pieces?: number } = {}): Activation => {
    const { pieces } = maxoutSchema.parse(c);
    return make('maxout', { pieces }, (x) => maxoutOf(x, pieces), pieces);
  },
};

export type ActivationName = keyof typeof activations;

/**
 * The default kernel initializer of a layer followed by `activation` (undefined = linear):
 *   relu(6), leakyRelu, elu,        → heNormal     (He et al. 2015: a ReLU zeroes half the
 *   clippedRelu, hardSwish
 *                                                    signal, so Var(w) = 2/fanIn keeps it)
 *   scaledTanh, maxout              → lecunNormal  (LeCun 1998: Var(w) = 1/fanIn gives unit
 *                                                    variance into 1.7159·tanh(2x/3); the max of
 *                                                    two N(0, σ²) has second moment σ²)
 *   tanh, sigmoid, softmax, linear  → xavierUniform (Glorot & Bengio 2010, derived for
 *                                                    units linear around 0; Keras' default)
 */
export function defaultKernelInitializer(activation: string | undefined): InitializerName {
  switch (activation) {
    case 'relu':
    case 'relu6':
    case 'clippedRelu':
    case 'leakyRelu':
    case 'elu':
    case 'hardSwish':
      return 'heNormal';
    case 'scaledTanh':
    case 'maxout':
      return 'lecunNormal';
    default:
      return 'xavierUniform';
  }
}

/** The registry entries of the built-in activations. */
export const activationEntries: PluginEntry[] = [
  define('activation', 'sigmoid', z.strictObject({}), () => activations.sigmoid(), '1 / (1 + e^−x)'),
  define('activation', 'tanh', z.strictObject({}), () => activations.tanh(), 'hyperbolic tangent'),
  define('activation', 'scaledTanh', z.strictObject({}), () => activations.scaledTanh(), "LeCun's 1.7159·tanh(2x/3)"),
  define('activation', 'relu', z.strictObject({}), () => activations.relu(), 'max(x, 0)'),
  define('activation', 'leakyRelu', leakyReluSchema, (c) => activations.leakyRelu(c), 'x > 0 ? x : alpha·x'),
  define('activation', 'elu', eluSchema, (c) => activations.elu(c), 'x > 0 ? x : alpha·(eˣ − 1)'),
  define('activation', 'softmax', softmaxSchema, (c) => activations.softmax(c), 'exp(x) / Σ exp(x) along an axis'),
  define('activation', 'maxout', maxoutSchema, (c) => activations.maxout(c), 'max over k pieces'),
  define('activation', 'relu6', z.strictObject({}), () => activations.relu6(), 'min(max(x, 0), 6)'),
  define('activation', 'clippedRelu', clippedReluSchema, (c) => activations.clippedRelu(c), 'min(max(x, 0), maxValue)'),
  define('activation', 'clip', clipSchema, (c) => activations.clip(c), 'min(max(x, min), max)'),
  define('activation', 'hardSigmoid', hardSigmoidSchema, (c) => activations.hardSigmoid(c), 'clip(alpha·x + beta, 0, 1)'),
  define('activation', 'hardSwish', z.strictObject({}), () => activations.hardSwish(), 'x · clip(x/6 + 1/2, 0, 1)'),
];
