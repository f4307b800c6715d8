// Input preprocessing, fitted on the training data and applied unchanged to every split
// (see: LeCun et al., "Efficient BackProp" 1998, §4.3; CS231n "Neural Networks 2", data
// preprocessing). Each preprocessor is fit → transform, with its fitted state in toJSON(), so
// a saved model carries the exact preprocessing its inputs need.
import { ArgumentError, ShapeError } from '@minibatch/core';
import { sampleCount, sampleSize, type Samples } from './dataset.js';
import { DataError } from './errors.js';
import { centeredProduct, columnMeans, covariance, eigh } from './linalg.js';

export type PreprocessorType = 'scale' | 'center' | 'standardize' | 'pca' | 'zca' | 'grayToRgb' | 'pipeline';

/** Serialized form of a preprocessor: its config, and its fitted state (null before fit). */
export type PreprocessorJSON =
  | { type: Exclude<PreprocessorType, 'pipeline'>; config: Record<string, unknown>; state: Record<string, unknown> | null }
  | { type: 'pipeline'; steps: PreprocessorJSON[] };

/** Statistics over each feature (pixel), over each channel (last axis), or over all values. */
export type StatsAxis = 'feature' | 'channel' | 'global';

export interface Preprocessor {
  /** Registry-style identity (kind + name + getConfig()), as TF.js serializables have. */
  readonly kind: 'preprocessor';
  readonly name: PreprocessorType;
  readonly fitted: boolean;
  /** Computes the statistics from (training) samples; returns this. */
  fit(data: Samples): this;
  /** Applies the fitted statistics; returns a copy of `data` with new x (and shape). */
  transform<T extends Samples>(data: T): T;
  fitTransform<T extends Samples>(data: T): T;
  /** The shape of a transformed sample. */
  outputShape(shape: readonly number[]): number[];
  getConfig(): Record<string, unknown>;
  toJSON(): PreprocessorJSON;
}

// ------------------------------------------------------------------ serialized arrays

/**
 * Float32Arrays in JSON: up to 16 values as a plain number list (readable per-channel
 * statistics), longer ones as little-endian float32 bytes in base64 (a 784×784 ZCA matrix is
 * 3.3 MB this way, 12 MB as decimal text). Both forms are read back exactly.
 */
export type EncodedArray = number[] | { dtype: 'float32'; base64: string };

export function encodeArray(a: Float32Array): EncodedArray {
  if (a.length <= 16) return Array.from(a);
  const bytes = new Uint8Array(a.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat32(i * 4, a[i], true);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { dtype: 'float32', base64: btoa(binary) };
}

export function decodeArray(value: unknown, length: number, what: string): Float32Array {
  let out: Float32Array;
  if (Array.isArray(value)) {
    if (!value.every((v) => typeof v === 'number')) throw new DataError('bad-format', `${what}: expected numbers`);
    out = Float32Array.from(value as number[]);
  } else if (value !== null && typeof value === 'object' && (value as { dtype?: unknown }).dtype === 'float32' && typeof (value as { base64?: unknown }).base64 === 'string') {
    let binary: string;
    try {
      binary = atob((value as { base64: string }).base64);
    } catch {
      throw new DataError('bad-format', `${what}: invalid base64`);
    }
    if (binary.length % 4 !== 0) throw new DataError('bad-format', `${what}: ${binary.length} bytes is not a whole number of float32 values`);
    const view = new DataView(Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer);
    out = new Float32Array(binary.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  } else {
    throw new DataError('bad-format', `${what}: expected a number list or { dtype: 'float32', base64 }`);
  }
  if (out.length !== length) throw new DataError('bad-format', `${what}: expected ${length} values, got ${out.length}`);
  return out;
}

// ------------------------------------------------------------------ base

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

abstract class Base<S extends object> implements Preprocessor {
  readonly kind = 'preprocessor' as const;
  abstract readonly name: Exclude<PreprocessorType, 'pipeline'>;
  /** The per-sample shape seen by fit(), null before. */
  protected inputShape: number[] | null = null;
  protected state: S | null = null;

  get fitted(): boolean {
    return this.state !== null;
  }

  fit(data: Samples): this {
    const n = sampleCount(data, `${this.name}.fit`);
    if (n === 0) throw new ArgumentError(`${this.name}.fit: no samples to fit on`);
    this.inputShape = data.shape.slice();
    this.state = this.compute(data.x, n, data.shape);
    return this;
  }

  transform<T extends Samples>(data: T): T {
    const state = this.ready();
    const n = sampleCount(data, `${this.name}.transform`);
    this.checkShape(data.shape);
    const x = this.apply(state, data.x, n, data.shape);
    return { ...data, x, shape: Object.freeze(this.outputShape(data.shape)) };
  }

  fitTransform<T extends Samples>(data: T): T {
    return this.fit(data).transform(data);
  }

  outputShape(shape: readonly number[]): number[] {
    return shape.slice();
  }

  abstract getConfig(): Record<string, unknown>;

  toJSON(): PreprocessorJSON {
    const state = this.state === null ? null : { inputShape: this.inputShape, ...this.encodeState(this.state) };
    return { type: this.name, config: this.getConfig(), state };
  }

  /** Restores a fitted state from toJSON() output. */
  loadState(state: Record<string, unknown>): this {
    const shape = state.inputShape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new DataError('bad-format', `${this.name}: state.inputShape must be a list of positive integers, got ${JSON.stringify(shape)}`);
    }
    this.inputShape = shape as number[];
    this.state = this.decodeState(state, this.inputShape);
    return this;
  }

  protected ready(): S {
    if (this.state === null) {
      throw new DataError('not-fitted', `${this.name}: transform() before fit(); fit it on the training data first (or restore a fitted one with preprocessorFromJSON)`);
    }
    return this.state;
  }

  /** Samples must have the fitted shape (per-channel statistics only need the same channels). */
  protected checkShape(shape: readonly number[]): void {
    const fitted = this.inputShape!;
    if (shape.length === fitted.length && shape.every((d, i) => d === fitted[i])) return;
    throw new ShapeError(`${this.name}: fitted on samples of shape ${fmt(fitted)}, got ${fmt(shape)}`);
  }

  protected abstract compute(x: Float32Array, n: number, shape: readonly number[]): S;
  protected abstract apply(state: S, x: Float32Array, n: number, shape: readonly number[]): Float32Array;
  protected abstract encodeState(state: S): Record<string, unknown>;
  protected abstract decodeState(state: Record<string, unknown>, inputShape: readonly number[]): S;
}

function checkAxis(op: string, per: unknown): StatsAxis {
  if (per !== 'feature' && per !== 'channel' && per !== 'global') {
    throw new ArgumentError(`${op}: per must be 'feature', 'channel' or 'global', got ${JSON.stringify(per)}`);
  }
  return per;
}

function checkEpsilon(op: string, epsilon: unknown): number {
  if (typeof epsilon !== 'number' || !(epsilon >= 0) || !Number.isFinite(epsilon)) {
    throw new ArgumentError(`${op}: epsilon must be a finite number ≥ 0, got ${String(epsilon)}`);
  }
  return epsilon;
}

/** Number of statistics for an axis mode and sample shape. */
function statCount(per: StatsAxis, shape: readonly number[]): number {
  return per === 'feature' ? sampleSize(shape) : per === 'channel' ? shape[shape.length - 1] : 1;
}

/**
 * Mean and (biased) variance per feature, channel or globally, in float64. Per channel,
 * the channel of flat value i is i mod C (channels last).
 */
function moments(x: Float32Array, per: StatsAxis, shape: readonly number[]): { mean: Float64Array; variance: Float64Array } {
  const k = statCount(per, shape);
  const mean = new Float64Array(k);
  const variance = new Float64Array(k);
  const counts = x.length / k;
  for (let i = 0; i < x.length; i++) mean[i % k] += x[i];
  for (let j = 0; j < k; j++) mean[j] /= counts;
  for (let i = 0; i < x.length; i++) {
    const dv = x[i] - mean[i % k];
    variance[i % k] += dv * dv;
  }
  for (let j = 0; j < k; j++) variance[j] /= counts;
  return { mean, variance };
}

// ------------------------------------------------------------------ scale

export interface ScaleOptions {
  /** Divide by this value; when omitted, fit() takes the largest |value| of the training data. */
  max?: number;
}

/**
 * Divides every value by a maximum, mapping non-negative data into [0, 1] (bytes: max 255).
 *
 * @example
 * const s = scale({ max: 255 });           // fitted at once: nothing to learn
 * scale().fit(train).transform(test);      // max taken from the training data
 */
export class Scale extends Base<{ max: number }> {
  readonly name = 'scale' as const;
  private readonly max: number | undefined;

  constructor(options: ScaleOptions = {}) {
    super();
    if (options.max !== undefined && !(options.max > 0 && Number.isFinite(options.max))) {
      throw new ArgumentError(`scale: max must be a finite number > 0, got ${options.max}`);
    }
    this.max = options.max;
    if (this.max !== undefined) this.state = { max: this.max };
  }

  getConfig(): Record<string, unknown> {
    return this.max === undefined ? {} : { max: this.max };
  }

  protected override checkShape(): void {
    // Elementwise with one number: any shape.
  }

  override toJSON(): PreprocessorJSON {
    return { type: this.name, config: this.getConfig(), state: this.state === null ? null : { inputShape: this.inputShape ?? [1], max: this.state.max } };
  }

  protected compute(x: Float32Array): { max: number } {
    if (this.max !== undefined) return { max: this.max };
    let max = 0;
    for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]));
    if (!(max > 0 && Number.isFinite(max))) throw new ArgumentError(`scale.fit: the largest |value| is ${max}; cannot divide by it`);
    return { max };
  }

  protected apply({ max }: { max: number }, x: Float32Array): Float32Array {
    const out = new Float32Array(x.length);
    const inv = 1 / max;
    for (let i = 0; i < x.length; i++) out[i] = x[i] * inv;
    return out;
  }

  protected encodeState(state: { max: number }): Record<string, unknown> {
    return { max: state.max };
  }

  protected decodeState(state: Record<string, unknown>): { max: number } {
    const max = state.max;
    if (typeof max !== 'number' || !(max > 0)) throw new DataError('bad-format', `scale: state.max must be a number > 0, got ${String(max)}`);
    return { max };
  }
}

// ------------------------------------------------------------------ grayToRgb

/**
 * Single-channel images [h, w, 1] to three equal channels [h, w, 3]: what a network pretrained
 * on RGB photos reads, for grey data (MNIST, Fashion-MNIST). Nothing to learn: fitted at once.
 *
 * @example
 * grayToRgb().transform(fashion.train).shape;   // [28, 28, 3]
 */
export class GrayToRgb extends Base<Record<string, never>> {
  readonly name = 'grayToRgb' as const;

  constructor() {
    super();
    this.state = {};
  }

  getConfig(): Record<string, unknown> {
    return {};
  }

  protected override checkShape(shape: readonly number[]): void {
    if (shape.length !== 3 || shape[2] !== 1) throw new ShapeError(`grayToRgb: expects grey images [height, width, 1], got ${fmt(shape)}`);
  }

  override outputShape(shape: readonly number[]): number[] {
    this.checkShape(shape);
    return [shape[0], shape[1], 3];
  }

  override toJSON(): PreprocessorJSON {
    return { type: this.name, config: {}, state: { inputShape: this.inputShape ?? [1, 1, 1] } };
  }

  protected compute(): Record<string, never> {
    return {};
  }

  protected apply(_state: Record<string, never>, x: Float32Array): Float32Array {
    const out = new Float32Array(x.length * 3);
    for (let i = 0; i < x.length; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = x[i];
    return out;
  }

  protected encodeState(): Record<string, unknown> {
    return {};
  }

  protected decodeState(): Record<string, never> {
    return {};
  }
}

// ------------------------------------------------------------------ center / standardize

interface MeanState {
  mean: Float32Array;
}

function shapeWithAxis(per: StatsAxis, fitted: readonly number[], shape: readonly number[], op: string): void {
  const ok =
    per === 'global' ||
    (per === 'channel' && shape.length > 0 && shape[shape.length - 1] === fitted[fitted.length - 1]) ||
    (per === 'feature' && shape.length === fitted.length && shape.every((d, i) => d === fitted[i]));
  if (!ok) {
    throw new ShapeError(
      per === 'channel'
        ? `${op}: fitted on ${fitted[fitted.length - 1]} channels (shape ${fmt(fitted)}), got samples of shape ${fmt(shape)}`
        : `${op}: fitted per feature on samples of shape ${fmt(fitted)}, got ${fmt(shape)}`,
    );
  }
}

export interface CenterOptions {
  /** 'feature' (default: the mean image, one mean per pixel), 'channel' (one per channel, last axis) or 'global'. */
  per?: StatsAxis;
}

/**
 * Zero-centering: subtracts the training mean, per feature (pixel), per channel or globally.
 *
 * @example
 * const c = center().fit(train);          // the mean image of the training set
 * const testC = c.transform(test);        // the same mean subtracted from the test set
 */
export class Center extends Base<MeanState> {
  readonly name = 'center' as const;
  readonly per: StatsAxis;

  constructor(options: CenterOptions = {}) {
    super();
    this.per = checkAxis('center', options.per ?? 'feature');
  }

  getConfig(): Record<string, unknown> {
    return { per: this.per };
  }

  /** The fitted means (per feature, per channel, or one). */
  get mean(): Float32Array {
    return this.ready().mean;
  }

  protected override checkShape(shape: readonly number[]): void {
    shapeWithAxis(this.per, this.inputShape!, shape, this.name);
  }

  protected compute(x: Float32Array, _n: number, shape: readonly number[]): MeanState {
    return { mean: Float32Array.from(moments(x, this.per, shape).mean) };
  }

  protected apply({ mean }: MeanState, x: Float32Array): Float32Array {
    const out = new Float32Array(x.length);
    const k = mean.length;
    for (let i = 0; i < x.length; i++) out[i] = x[i] - mean[i % k];
    return out;
  }

  protected encodeState(state: MeanState): Record<string, unknown> {
    return { mean: encodeArray(state.mean) };
  }

  protected decodeState(state: Record<string, unknown>, inputShape: readonly number[]): MeanState {
    return { mean: decodeArray(state.mean, statCount(this.per, inputShape), 'center: state.mean') };
  }
}

export interface StandardizeOptions extends CenterOptions {
  /** Added to the variance before the square root. Default 1e-8. */
  epsilon?: number;
}

interface StdState {
  mean: Float32Array;
  std: Float32Array;
}

/**
 * Standardization: (x − mean) / sqrt(variance + epsilon), statistics per feature (default),
 * per channel or global, from the training data (biased variance, 1/n). A feature that is
 * constant in the training data (variance 0, like the border pixels of MNIST) is only
 * centered (divisor 1, as scikit-learn does), so unseen values there cannot blow up. Pixels
 * that are almost constant still get tiny divisors per feature; for images, per-channel
 * statistics are usually the better choice.
 */
export class Standardize extends Base<StdState> {
  readonly name = 'standardize' as const;
  readonly per: StatsAxis;
  readonly epsilon: number;

  constructor(options: StandardizeOptions = {}) {
    super();
    this.per = checkAxis('standardize', options.per ?? 'feature');
    this.epsilon = checkEpsilon('standardize', options.epsilon ?? 1e-8);
  }

  getConfig(): Record<string, unknown> {
    return { per: this.per, epsilon: this.epsilon };
  }

  get mean(): Float32Array {
    return this.ready().mean;
  }

  /** The divisors sqrt(variance + epsilon) (1 for constant features). */
  get std(): Float32Array {
    return this.ready().std;
  }

  protected override checkShape(shape: readonly number[]): void {
    shapeWithAxis(this.per, this.inputShape!, shape, this.name);
  }

  protected compute(x: Float32Array, _n: number, shape: readonly number[]): StdState {
    const { mean, variance } = moments(x, this.per, shape);
    const std = variance.map((v) => (v === 0 ? 1 : Math.sqrt(v + this.epsilon)));
    return { mean: Float32Array.from(mean), std: Float32Array.from(std) };
  }

  protected apply({ mean, std }: StdState, x: Float32Array): Float32Array {
    const out = new Float32Array(x.length);
    const k = mean.length;
    const inv = std.map((s) => 1 / s);
    for (let i = 0; i < x.length; i++) out[i] = (x[i] - mean[i % k]) * inv[i % k];
    return out;
  }

  protected encodeState(state: StdState): Record<string, unknown> {
    return { mean: encodeArray(state.mean), std: encodeArray(state.std) };
  }

  protected decodeState(state: Record<string, unknown>, inputShape: readonly number[]): StdState {
    const k = statCount(this.per, inputShape);
    return { mean: decodeArray(state.mean, k, 'standardize: state.mean'), std: decodeArray(state.std, k, 'standardize: state.std') };
  }
}

// ------------------------------------------------------------------ PCA / ZCA

export interface PcaOptions {
  /** Number of principal components to keep (1 ≤ k ≤ features). */
  components: number;
  /** Divide each component by sqrt(eigenvalue + epsilon), giving unit variance. Default false. */
  whiten?: boolean;
  /** Added to the eigenvalues when whitening. Default 1e-5. */
  epsilon?: number;
}

interface PcaState {
  mean: Float32Array;
  /** k × d, row j = component j (unit length). */
  components: Float32Array;
  /** The k largest eigenvalues of the covariance: the variance along each component. */
  variance: Float32Array;
  /** Total variance (trace of the covariance), for explainedVarianceRatio. */
  totalVariance: number;
}

/**
 * PCA: centers with the training mean and projects onto the k leading eigenvectors of the
 * training covariance (1/n), optionally whitened. Samples are flattened: the output shape is
 * [k]. The covariance runs on core's GEMM, the eigendecomposition in float64 (see eigh).
 *
 * @example
 * const p = pca({ components: 50, whiten: true }).fit(train);
 * const z = p.transform(test);                 // z.shape = [50]
 * p.explainedVarianceRatio;                    // share of the variance kept, per component
 */
export class Pca extends Base<PcaState> {
  readonly name = 'pca' as const;
  readonly components: number;
  readonly whiten: boolean;
  readonly epsilon: number;
  private weights: Float32Array | null = null;

  constructor(options: PcaOptions) {
    super();
    if (!Number.isInteger(options?.components) || options.components < 1) {
      throw new ArgumentError(`pca: components must be a positive integer, got ${String(options?.components)}`);
    }
    this.components = options.components;
    this.whiten = options.whiten ?? false;
    this.epsilon = checkEpsilon('pca', options.epsilon ?? 1e-5);
  }

  getConfig(): Record<string, unknown> {
    return { components: this.components, whiten: this.whiten, epsilon: this.epsilon };
  }

  override outputShape(): number[] {
    return [this.components];
  }

  get mean(): Float32Array {
    return this.ready().mean;
  }

  /** The fitted components, k × d row-major (row j is component j). */
  get componentMatrix(): Float32Array {
    return this.ready().components;
  }

  /** Variance along each kept component (eigenvalues, descending). */
  get explainedVariance(): Float32Array {
    return this.ready().variance;
  }

  get explainedVarianceRatio(): Float32Array {
    const s = this.ready();
    return s.variance.map((v) => v / s.totalVariance);
  }

  override fit(data: Samples): this {
    this.weights = null;
    return super.fit(data);
  }

  protected compute(x: Float32Array, n: number, shape: readonly number[]): PcaState {
    const d = sampleSize(shape);
    const k = this.components;
    if (k > d) throw new ArgumentError(`pca: ${k} components asked for, but samples have only ${d} features`);
    if (n < 2) throw new ArgumentError(`pca.fit: needs at least 2 samples, got ${n}`);
    const mean = columnMeans(x, n, d);
    const { values, vectors } = eigh(covariance(x, n, d, mean), d);
    let total = 0;
    for (let j = 0; j < d; j++) total += Math.max(0, values[j]);
    return {
      mean: Float32Array.from(mean),
      components: Float32Array.from(vectors.subarray(0, k * d)),
      variance: Float32Array.from(values.subarray(0, k), (v) => Math.max(0, v)),
      totalVariance: total,
    };
  }

  protected apply(state: PcaState, x: Float32Array, n: number, shape: readonly number[]): Float32Array {
    const d = sampleSize(shape);
    const k = this.components;
    if (this.weights === null) {
      // W (d × k): column j = component j, scaled by 1/sqrt(λ_j + ε) when whitening.
      const w = new Float32Array(d * k);
      for (let j = 0; j < k; j++) {
        const s = this.whiten ? 1 / Math.sqrt(state.variance[j] + this.epsilon) : 1;
        for (let i = 0; i < d; i++) w[i * k + j] = state.components[j * d + i] * s;
      }
      this.weights = w;
    }
    return centeredProduct(x, n, d, state.mean, this.weights, k);
  }

  protected encodeState(state: PcaState): Record<string, unknown> {
    return {
      mean: encodeArray(state.mean),
      components: encodeArray(state.components),
      variance: encodeArray(state.variance),
      totalVariance: state.totalVariance,
    };
  }

  protected decodeState(state: Record<string, unknown>, inputShape: readonly number[]): PcaState {
    const d = sampleSize(inputShape);
    const k = this.components;
    this.weights = null;
    if (typeof state.totalVariance !== 'number') throw new DataError('bad-format', 'pca: state.totalVariance must be a number');
    return {
      mean: decodeArray(state.mean, d, 'pca: state.mean'),
      components: decodeArray(state.components, k * d, 'pca: state.components'),
      variance: decodeArray(state.variance, k, 'pca: state.variance'),
      totalVariance: state.totalVariance,
    };
  }
}

export interface ZcaOptions {
  /**
   * Added to the eigenvalues before the inverse square root. Default 1e-5; for images,
   * 0.01–0.1 keeps the noise of the near-constant directions from being amplified.
   */
  epsilon?: number;
}

interface ZcaState {
  mean: Float32Array;
  /** d × d, symmetric: U · diag(1/sqrt(λ + ε)) · Uᵀ. */
  matrix: Float32Array;
}

/**
 * ZCA whitening: x ↦ (x − mean) · U diag(1/sqrt(λ + ε)) Uᵀ, with λ, U the eigenvalues and
 * eigenvectors of the training covariance (1/n). The covariance of the result is the identity
 * (up to ε), and of all whitenings it stays closest to the input, so images still look like
 * images (Bell & Sejnowski 1997; Krizhevsky 2009, appendix A). The output shape is the input's.
 */
export class Zca extends Base<ZcaState> {
  readonly name = 'zca' as const;
  readonly epsilon: number;

  constructor(options: ZcaOptions = {}) {
    super();
    this.epsilon = checkEpsilon('zca', options.epsilon ?? 1e-5);
  }

  getConfig(): Record<string, unknown> {
    return { epsilon: this.epsilon };
  }

  get mean(): Float32Array {
    return this.ready().mean;
  }

  /** The whitening matrix, d × d row-major. */
  get matrix(): Float32Array {
    return this.ready().matrix;
  }

  protected compute(x: Float32Array, n: number, shape: readonly number[]): ZcaState {
    const d = sampleSize(shape);
    if (n < 2) throw new ArgumentError(`zca.fit: needs at least 2 samples, got ${n}`);
    if (this.epsilon === 0) {
      // Without ε, a zero-variance direction (always there when n ≤ d) divides by zero.
      if (n <= d) throw new ArgumentError(`zca: epsilon 0 needs more samples (${n}) than features (${d}); give epsilon > 0`);
    }
    const mean = columnMeans(x, n, d);
    const { values, vectors } = eigh(covariance(x, n, d, mean), d);
    // W = Σ_j s_j u_j u_jᵀ: scale the eigenvector rows, then Uᵀ·(S·U) on core's GEMM.
    const scaled = new Float32Array(d * d);
    for (let j = 0; j < d; j++) {
      const s = 1 / Math.sqrt(Math.max(0, values[j]) + this.epsilon);
      if (!Number.isFinite(s)) throw new ArgumentError(`zca: eigenvalue ${values[j]} with epsilon ${this.epsilon} gives an infinite scale; give epsilon > 0`);
      for (let i = 0; i < d; i++) scaled[j * d + i] = vectors[j * d + i] * s;
    }
    const u = Float32Array.from(vectors);
    const matrix = uTransposeTimes(u, scaled, d);
    // Symmetrize away the float32 rounding of the product.
    for (let i = 0; i < d; i++) {
      for (let j = i + 1; j < d; j++) {
        const v = 0.5 * (matrix[i * d + j] + matrix[j * d + i]);
        matrix[i * d + j] = v;
        matrix[j * d + i] = v;
      }
    }
    return { mean: Float32Array.from(mean), matrix };
  }

  protected apply(state: ZcaState, x: Float32Array, n: number, shape: readonly number[]): Float32Array {
    const d = sampleSize(shape);
    return centeredProduct(x, n, d, state.mean, state.matrix, d);
  }

  protected encodeState(state: ZcaState): Record<string, unknown> {
    return { mean: encodeArray(state.mean), matrix: encodeArray(state.matrix) };
  }

  protected decodeState(state: Record<string, unknown>, inputShape: readonly number[]): ZcaState {
    const d = sampleSize(inputShape);
    return { mean: decodeArray(state.mean, d, 'zca: state.mean'), matrix: decodeArray(state.matrix, d * d, 'zca: state.matrix') };
  }
}

/** Uᵀ·B for d×d row-major U and B: each row of B, weighted by U's matching row, is summed (as centeredProduct with no shift). */
function uTransposeTimes(u: Float32Array, b: Float32Array, d: number): Float32Array {
  // (Uᵀ B) = transpose(U)·B; centeredProduct computes (x − 0)·w, so pass x = Uᵀ.
  const ut = new Float32Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) ut[j * d + i] = u[i * d + j];
  return centeredProduct(ut, d, d, new Float32Array(d), b, d);
}

// ------------------------------------------------------------------ pipeline

/**
 * Preprocessors in order: fit() fits each on the output of the ones before it.
 *
 * @example
 * const prep = pipeline([scale({ max: 255 }), center()]).fit(train);
 * const json = JSON.stringify(prep);                 // saved with the model
 * const again = preprocessorFromJSON(JSON.parse(json));
 */
export class Pipeline implements Preprocessor {
  readonly kind = 'preprocessor' as const;
  readonly name = 'pipeline' as const;
  readonly steps: readonly Preprocessor[];

  constructor(steps: readonly Preprocessor[]) {
    if (!Array.isArray(steps)) throw new ArgumentError('pipeline: expected a list of preprocessors');
    steps.forEach((s, i) => {
      if (s === null || typeof s !== 'object' || typeof (s as Preprocessor).fit !== 'function') {
        throw new ArgumentError(`pipeline: step ${i} is not a preprocessor`);
      }
    });
    this.steps = steps.slice();
  }

  get fitted(): boolean {
    return this.steps.every((s) => s.fitted);
  }

  fit(data: Samples): this {
    let current: Samples = data;
    this.steps.forEach((step, i) => {
      step.fit(current);
      if (i < this.steps.length - 1) current = step.transform(current);
    });
    return this;
  }

  transform<T extends Samples>(data: T): T {
    let current = data;
    for (const step of this.steps) current = step.transform(current);
    return current;
  }

  fitTransform<T extends Samples>(data: T): T {
    let current = data;
    for (const step of this.steps) current = step.fitTransform(current);
    return current;
  }

  outputShape(shape: readonly number[]): number[] {
    let s = shape.slice();
    for (const step of this.steps) s = step.outputShape(s);
    return s;
  }

  getConfig(): Record<string, unknown> {
    return { steps: this.steps.map((s) => ({ type: s.name, config: s.getConfig() })) };
  }

  toJSON(): PreprocessorJSON {
    return { type: 'pipeline', steps: this.steps.map((s) => s.toJSON()) };
  }
}

// ------------------------------------------------------------------ factories and JSON

export const scale = (options?: ScaleOptions): Scale => new Scale(options);
export const center = (options?: CenterOptions): Center => new Center(options);
export const standardize = (options?: StandardizeOptions): Standardize => new Standardize(options);
export const pca = (options: PcaOptions): Pca => new Pca(options);
export const grayToRgb = (): GrayToRgb => new GrayToRgb();
export const zca = (options?: ZcaOptions): Zca => new Zca(options);
export const pipeline = (steps: readonly Preprocessor[]): Pipeline => new Pipeline(steps);

const TYPES = ['scale', 'center', 'standardize', 'pca', 'zca', 'grayToRgb', 'pipeline'];

/**
 * Rebuilds a preprocessor from toJSON() output (an object or its JSON text), fitted state
 * included, so transform() gives the same values as the original.
 */
export function preprocessorFromJSON(json: PreprocessorJSON | string): Preprocessor {
  const spec = (typeof json === 'string' ? JSON.parse(json) : json) as Record<string, unknown>;
  if (spec === null || typeof spec !== 'object' || typeof spec.type !== 'string' || !TYPES.includes(spec.type)) {
    throw new DataError('bad-format', `preprocessorFromJSON: unknown preprocessor type ${JSON.stringify(spec?.type)}; known: ${TYPES.join(', ')}`);
  }
  if (spec.type === 'pipeline') {
    if (!Array.isArray(spec.steps)) throw new DataError('bad-format', 'preprocessorFromJSON: a pipeline needs a steps list');
    return new Pipeline((spec.steps as PreprocessorJSON[]).map((s) => preprocessorFromJSON(s)));
  }
  const config = (spec.config ?? {}) as Record<string, unknown>;
  if (typeof config !== 'object') throw new DataError('bad-format', `preprocessorFromJSON: ${spec.type}.config must be an object`);
  let p: Scale | Center | Standardize | Pca | Zca | GrayToRgb;
  switch (spec.type) {
    case 'scale': p = new Scale(config as ScaleOptions); break;
    case 'center': p = new Center(config as CenterOptions); break;
    case 'standardize': p = new Standardize(config as StandardizeOptions); break;
    case 'pca': p = new Pca(config as unknown as PcaOptions); break;
    case 'grayToRgb': p = new GrayToRgb(); break;
    default: p = new Zca(config as ZcaOptions); break;
  }
  const state = spec.state;
  if (state !== null && state !== undefined) {
    if (typeof state !== 'object') throw new DataError('bad-format', `preprocessorFromJSON: ${spec.type}.state must be an object or null`);
    p.loadState(state as Record<string, unknown>);
  }
  return p;
}
