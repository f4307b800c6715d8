// Weight initializers (registry kind 'initializer'). Each is a function
// (shape, { rng, fanIn?, fanOut? }) => Tensor that draws from the seeded Rng it is given, so
// the same seed gives the same weights in every JavaScript engine.
//
// Scales, with n_in = fanIn and n_out = fanOut:
//   xavier/glorot (Glorot & Bengio 2010, eq. 16): Var = gain² · 2 / (n_in + n_out)
//   he/kaiming    (He et al. 2015, eq. 10):       Var = 2 / n_in            (ReLU halves the variance)
//   lecun         (LeCun et al. 1998, §4.6):      Var = 1 / n_in            (for the scaled tanh)
// Normal variants draw N(0, Var) (not truncated, as PyTorch); uniform variants draw
// U(−a, a) with a = √(3·Var).
import { Rng, type Tensor, full, rand, randn } from '@minibatch/core';
import { define, z, type PluginEntry } from '@minibatch/registry';
import { ShapeError } from '@minibatch/core';
import { fmtShape, sizeOf } from './util.js';

export interface InitializerOptions {
  /** The generator to draw from (advanced by the draw). */
  rng: Rng;
  /** Inputs feeding one output unit; default from the shape (see {@link fans}). */
  fanIn?: number;
  /** Outputs fed by one input unit; default from the shape. */
  fanOut?: number;
}

/** An initializer: a function with a registry identity (kind, name, getConfig). */
export interface Initializer {
  (shape: readonly number[], options: InitializerOptions): Tensor;
  readonly kind: 'initializer';
  readonly name: string;
  getConfig(): Record<string, unknown>;
}

/**
 * Fan-in and fan-out of a weight shape: a dense kernel [in, out] gives (in, out); a conv
 * kernel HWIO [kh, kw, in, out] gives (kh·kw·in, kh·kw·out) — the receptive field times the
 * channels; a vector [n] gives (n, n).
 *
 * @example
 * fans([3, 3, 16, 32]); // { fanIn: 144, fanOut: 288 }
 */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  const receptive = sizeOf(shape.slice(0, -2));
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

function named(name: string, config: Record<string, unknown>, draw: (shape: readonly number[], fanIn: number, fanOut: number, rng: Rng) => Tensor): Initializer {
  const fn = (shape: readonly number[], options: InitializerOptions): Tensor => {
    if (!(options?.rng instanceof Rng)) {
      throw new TypeError(`initializer '${name}': pass a seeded generator, e.g. ${name}(shape, { rng: new Rng(seed) })`);
    }
    const f = fans(shape);
    const fanIn = options.fanIn ?? f.fanIn;
    const fanOut = options.fanOut ?? f.fanOut;
    if (!(fanIn > 0) || !(fanOut > 0)) {
      throw new ShapeError(`initializer '${name}': fan-in and fan-out must be positive, got ${fanIn} and ${fanOut} for shape ${fmtShape(shape)}`);
    }
    return draw(shape, fanIn, fanOut, options.rng);
  };
  Object.defineProperty(fn, 'name', { value: name });
  Object.defineProperty(fn, 'kind', { value: 'initializer', enumerable: true });
  Object.defineProperty(fn, 'getConfig', { value: () => ({ ...config }) });
  return fn as Initializer;
}

const normal = (shape: readonly number[], rng: Rng, std: number, mean = 0): Tensor => randn(shape, { rng, mean, std });
const uniformIn = (shape: readonly number[], rng: Rng, limit: number): Tensor => rand(shape, { rng, low: -limit, high: limit });

const gainSchema = z.strictObject({ gain: z.number().positive().default(1) });

export const zerosSchema = z.strictObject({});
export const constantSchema = z.strictObject({ value: z.number().default(0) });
export const gaussianSchema = z.strictObject({ std: z.number().min(0).default(0.01), mean: z.number().default(0) });
export const uniformSchema = z
  .strictObject({ low: z.number().default(-0.05), high: z.number().default(0.05) })
  .refine((c) => c.low <= c.high, { message: 'low must be ≤ high', path: ['high'] });

/** Factories of the built-in initializers, by registry name (configs as in the registry). */
export const initializers = {
  /** All zeros (biases). */
  zeros: (): Initializer => named('zeros', {}, (shape) => full(shape, 0)),
  /** One value everywhere. */
  constant: (c: { value?: number } = {}): Initializer => {
    const { value } = constantSchema.parse(c);
    return named('constant', { value }, (shape) => full(shape, value));
  },
  /** N(mean, std²), default std 0.01 (CS231n's "small random numbers"). */
  gaussian: (c: { std?: number; mean?: number } = {}): Initializer => {
    const { std, mean } = gaussianSchema.parse(c);
    return named('gaussian', { std, mean }, (shape, _i, _o, rng) => normal(shape, rng, std, mean));
  },
  /** U(low, high), default ±0.05. */
  uniform: (c: { low?: number; high?: number } = {}): Initializer => {
    const { low, high } = uniformSchema.parse(c);
    return named('uniform', { low, high }, (shape, _i, _o, rng) => rand(shape, { rng, low, high }));
  },
  /** Glorot normal: std = gain·√(2 / (fanIn + fanOut)). */
  xavierNormal: (c: { gain?: number } = {}): Initializer => {
    const { gain } = gainSchema.parse(c);
    return named('xavierNormal', { gain }, (shape, i, o, rng) => normal(shape, rng, gain * Math.sqrt(2 / (i + o))));
  },
  /** Glorot uniform: U(±gain·√(6 / (fanIn + fanOut))). */
  xavierUniform: (c: { gain?: number } = {}): Initializer => {
    const { gain } = gainSchema.parse(c);
    return named('xavierUniform', { gain }, (shape, i, o, rng) => uniformIn(shape, rng, gain * Math.sqrt(6 / (i + o))));
  },
  /** Kaiming normal: std = √(2 / fanIn). */
  heNormal: (): Initializer => named('heNormal', {}, (shape, i, _o, rng) => normal(shape, rng, Math.sqrt(2 / i))),
  /** Kaiming uniform: U(±√(6 / fanIn)). */
  heUniform: (): Initializer => named('heUniform', {}, (shape, i, _o, rng) => uniformIn(shape, rng, Math.sqrt(6 / i))),
  /** LeCun normal: std = √(1 / fanIn). */
  lecunNormal: (): Initializer => named('lecunNormal', {}, (shape, i, _o, rng) => normal(shape, rng, Math.sqrt(1 / i))),
};

export type InitializerName = keyof typeof initializers;

/** The registry entries of the built-in initializers. */
export const initializerEntries: PluginEntry[] = [
  define('initializer', 'zeros', zerosSchema, () => initializers.zeros(), 'all zeros'),
  define('initializer', 'constant', constantSchema, (c) => initializers.constant(c), 'one value everywhere'),
  define('initializer', 'gaussian', gaussianSchema, (c) => initializers.gaussian(c), 'N(mean, std²), std 0.01 by default'),
  define('initializer', 'uniform', uniformSchema, (c) => initializers.uniform(c), 'U(low, high)'),
  define('initializer', 'xavierNormal', gainSchema, (c) => initializers.xavierNormal(c), 'Glorot normal, Var = 2/(fanIn+fanOut)'),
  define('initializer', 'xavierUniform', gainSchema, (c) => initializers.xavierUniform(c), 'Glorot uniform, ±√(6/(fanIn+fanOut))'),
  define('initializer', 'heNormal', z.strictObject({}), () => initializers.heNormal(), 'Kaiming normal, Var = 2/fanIn'),
  define('initializer', 'heUniform', z.strictObject({}), () => initializers.heUniform(), 'Kaiming uniform, ±√(6/fanIn)'),
  define('initializer', 'lecunNormal', z.strictObject({}), () => initializers.lecunNormal(), 'LeCun normal, Var = 1/fanIn'),
];
