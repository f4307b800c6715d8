// Activations as layers: each wraps the activation of the same registry name.
import type { Tensor } from '@minibatch/core';
import { z } from '@minibatch/registry';
import { activations, clipSchema, clippedReluSchema, eluSchema, hardSigmoidSchema, leakyReluSchema, softmaxSchema, type Activation } from './activations.js';
import { Module } from './module.js';
import { parseConfig } from './util.js';

const label = { label: z.string().optional() };
export const plainActivationSchema = z.strictObject(label);
export const leakyReluLayerSchema = leakyReluSchema.extend(label);
export const eluLayerSchema = eluSchema.extend(label);
export const softmaxLayerSchema = softmaxSchema.extend(label);
export const clippedReluLayerSchema = clippedReluSchema.extend(label);
export const hardSigmoidLayerSchema = hardSigmoidSchema.extend(label);
export const clipLayerSchema = z.strictObject({ min: z.number().optional(), max: z.number().optional(), ...label })
  .refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, { message: 'min must be ≤ max', path: ['max'] });

/** Base of the activation layers: shape-preserving, no parameters. */
export abstract class ActivationLayer extends Module {
  readonly activation: Activation;

  protected constructor(activation: Activation, config: { label?: string | undefined }) {
    super(config);
    this.activation = activation;
  }

  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  forward(x: Tensor): Tensor {
    return this.activation.apply(x);
  }

  protected override layerConfig(): Record<string, unknown> {
    return this.activation.getConfig();
  }
}

export class Sigmoid extends ActivationLayer {
  readonly name = 'sigmoid';
  constructor(config: { label?: string } = {}) {
    super(activations.sigmoid(), parseConfig('layer', 'sigmoid', plainActivationSchema, config));
  }
}

export class Tanh extends ActivationLayer {
  readonly name = 'tanh';
  constructor(config: { label?: string } = {}) {
    super(activations.tanh(), parseConfig('layer', 'tanh', plainActivationSchema, config));
  }
}

/** LeCun's 1.7159·tanh(2x/3) (Efficient BackProp §4.4). */
export class ScaledTanh extends ActivationLayer {
  readonly name = 'scaledTanh';
  constructor(config: { label?: string } = {}) {
    super(activations.scaledTanh(), parseConfig('layer', 'scaledTanh', plainActivationSchema, config));
  }
}

export class ReLU extends ActivationLayer {
  readonly name = 'relu';
  constructor(config: { label?: string } = {}) {
    super(activations.relu(), parseConfig('layer', 'relu', plainActivationSchema, config));
  }
}

export class LeakyReLU extends ActivationLayer {
  readonly name = 'leakyRelu';
  constructor(config: z.input<typeof leakyReluLayerSchema> = {}) {
    const c = parseConfig('layer', 'leakyRelu', leakyReluLayerSchema, config);
    super(activations.leakyRelu(c), c);
  }
}

export class ELU extends ActivationLayer {
  readonly name = 'elu';
  constructor(config: z.input<typeof eluLayerSchema> = {}) {
    const c = parseConfig('layer', 'elu', eluLayerSchema, config);
    super(activations.elu(c), c);
  }
}

export class Softmax extends ActivationLayer {
  readonly name = 'softmax';
  constructor(config: z.input<typeof softmaxLayerSchema> = {}) {
    const c = parseConfig('layer', 'softmax', softmaxLayerSchema, config);
    super(activations.softmax(c), c);
  }
}

/** min(max(x, 0), 6) (MobileNetV2). */
export class ReLU6 extends ActivationLayer {
  readonly name = 'relu6';
  constructor(config: { label?: string } = {}) {
    super(activations.relu6(), parseConfig('layer', 'relu6', plainActivationSchema, config));
  }
}

/** min(max(x, 0), maxValue). */
export class ClippedReLU extends ActivationLayer {
  readonly name = 'clippedRelu';
  constructor(config: z.input<typeof clippedReluLayerSchema> = {}) {
    const c = parseConfig('layer', 'clippedRelu', clippedReluLayerSchema, config);
    super(activations.clippedRelu(c), c);
  }
}

/** clip(alpha·x + beta, 0, 1). */
export class HardSigmoid extends ActivationLayer {
  readonly name = 'hardSigmoid';
  constructor(config: z.input<typeof hardSigmoidLayerSchema> = {}) {
    const c = parseConfig('layer', 'hardSigmoid', hardSigmoidLayerSchema, config);
    super(activations.hardSigmoid(c), c);
  }
}

/** x · clip(x/6 + 1/2, 0, 1) (MobileNetV3). */
export class HardSwish extends ActivationLayer {
  readonly name = 'hardSwish';
  constructor(config: { label?: string } = {}) {
    super(activations.hardSwish(), parseConfig('layer', 'hardSwish', plainActivationSchema, config));
  }
}

/** min(max(x, min), max) (ONNX Clip). */
export class Clip extends ActivationLayer {
  readonly name = 'clip';
  constructor(config: z.input<typeof clipLayerSchema> = {}) {
    const { label: l, ...bounds } = parseConfig('layer', 'clip', clipLayerSchema, config);
    super(activations.clip(bounds), { label: l });
  }
}
