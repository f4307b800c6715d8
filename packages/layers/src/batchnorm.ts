// Batch normalization (Ioffe & Szegedy 2015) over every axis but the last: [batch, features]
// (1d) or NHWC images (2d, per channel), with learnable scale γ and shift β.
import { ShapeError, type Tensor, add, batchNorm, mul, pow, sub } from '@minibatch/core';
import { z } from '@minibatch/registry';
import { initializers } from './initializers.js';
import { Module, type BufferSpec, type ParamSpec } from './module.js';
import { fmtShape, parseConfig } from './util.js';

export const batchNormSchema = z.strictObject({
  /** running ← momentum·running + (1 − momentum)·batch statistic. */
  momentum: z.number().min(0).lt(1).default(0.9),
  epsilon: z.number().positive().default(1e-5),
  label: z.string().optional(),
});
export type BatchNormConfig = z.input<typeof batchNormSchema>;

/**
 * y = γ·(x − μ)/√(σ² + ε) + β per feature (the last axis).
 *
 * Training mode: μ, σ² are the batch's mean and biased variance (gradients flow through
 * them), and the running statistics move toward them:
 *   runningMean ← momentum·runningMean + (1 − momentum)·μ
 *   runningVar  ← momentum·runningVar  + (1 − momentum)·σ²·m/(m − 1)
 * with m the values per feature in the batch (the unbiased estimate, Ioffe & Szegedy alg. 2).
 * Evaluation mode (model.eval()), or a frozen layer: the running statistics are used and nothing changes.
 * Momentum 0.9 matches PyTorch's default (its momentum 0.1 weighs the new value).
 *
 * @example
 * const bn = new BatchNorm({ momentum: 0.9 });
 * bn.forward(x);        // training: batch statistics
 * bn.eval().forward(x); // inference: running statistics
 */
export class BatchNorm extends Module {
  readonly name = 'batchNorm';
  readonly momentum: number;
  readonly epsilon: number;

  constructor(config: BatchNormConfig = {}) {
    const c = parseConfig('layer', 'batchNorm', batchNormSchema, config);
    super(c);
    this.momentum = c.momentum;
    this.epsilon = c.epsilon;
  }

  outputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length < 1) throw new ShapeError(`${this.name}: needs at least a feature axis, got ${fmtShape(inputShape)}`);
    const built = this.builtInputShape;
    const features = inputShape[inputShape.length - 1];
    if (built !== null && built[built.length - 1] !== features) {
      throw new ShapeError(`${this.name}: built for ${built[built.length - 1]} features (last axis), got ${fmtShape(inputShape)}`);
    }
    return [...inputShape];
  }

  protected override parameterSpecs(inputShape: readonly number[]): ParamSpec[] {
    const c = inputShape[inputShape.length - 1];
    return [
      { name: 'gamma', shape: [c], kind: 'norm', init: initializers.constant({ value: 1 }) },
      { name: 'beta', shape: [c], kind: 'norm', init: initializers.zeros() },
    ];
  }

  protected override bufferSpecs(inputShape: readonly number[]): BufferSpec[] {
    const c = inputShape[inputShape.length - 1];
    return [
      { name: 'runningMean', shape: [c], value: 0 },
      { name: 'runningVar', shape: [c], value: 1 },
    ];
  }

  forward(x: Tensor): Tensor {
    this.ensureBuilt(x);
    this.outputShape(x.shape.slice(1));
    // A frozen layer (trainable false) normalizes with its running statistics even while the
    // model trains, and leaves them unchanged (Keras's rule for fine-tuning).
    if (this.training && this.trainable) {
      // core's fused op: statistics and normalization in two passes over x, its gradient in two.
      const { y, mean, variance } = batchNorm(x, this.param('gamma'), this.param('beta'), this.epsilon);
      this.updateRunning(mean, variance, x.size / x.shape[x.rank - 1]);
      return y;
    }
    // The running statistics, folded into one scale and shift per feature: x·scale + shift.
    const scale = mul(this.param('gamma'), pow(add(this.buffer('runningVar'), this.epsilon), -0.5));
    const shift = sub(this.param('beta'), mul(this.buffer('runningMean'), scale));
    return add(mul(x, scale), shift);
  }

  private updateRunning(mu: Tensor, variance: Tensor, count: number): void {
    const m = this.momentum;
    const correction = count > 1 ? count / (count - 1) : 1;
    const batchMean = mu.data();
    const batchVar = variance.data();
    const rm = this.buffer('runningMean').view();
    const rv = this.buffer('runningVar').view();
    for (let i = 0; i < rm.length; i++) {
      rm[i] = m * rm[i] + (1 - m) * batchMean[i];
      rv[i] = m * rv[i] + (1 - m) * batchVar[i] * correction;
    }
  }

  protected override layerConfig(): Record<string, unknown> {
    return { momentum: this.momentum, epsilon: this.epsilon };
  }
}
