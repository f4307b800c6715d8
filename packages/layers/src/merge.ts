// Merge layers: several inputs, one output (Keras Add, Subtract, Multiply, Concatenate; Divide). They
// live inside a Graph, which hands each its inputs in the order its node lists them.
import { ShapeError, type Tensor, add, concat, div, mul, sub } from '@minibatch/core';
import { z } from '@minibatch/registry';
import { Module } from './module.js';
import { fmtShape, parseConfig, sameShape } from './util.js';

const label = { label: z.string().optional() };

/** Base of the merge layers: outputShapeOf / forwardMany take every input; the one-input forms explain themselves. */
export abstract class Merge extends Module {
  abstract override outputShapeOf(inputShapes: readonly (readonly number[])[]): number[];
  abstract override forwardMany(inputs: readonly Tensor[]): Tensor;

  outputShape(inputShape: readonly number[]): number[] {
    throw new ShapeError(`${this.name}: merges several inputs; use it in a graph (layers' Graph) with its inputs listed, not in a Sequential (got one input ${fmtShape(inputShape)})`);
  }

  forward(x: Tensor): Tensor {
    return this.forwardMany([x]);
  }
}

/** Elementwise merges need two or more inputs of one shape. */
abstract class Elementwise extends Merge {
  protected abstract combine(a: Tensor, b: Tensor): Tensor;

  outputShapeOf(inputShapes: readonly (readonly number[])[]): number[] {
    if (inputShapes.length < 2) throw new ShapeError(`${this.name}: needs at least 2 inputs, got ${inputShapes.length}`);
    for (const s of inputShapes) {
      if (!sameShape(s, inputShapes[0])) throw new ShapeError(`${this.name}: inputs must have one shape, got ${inputShapes.map(fmtShape).join(' and ')}`);
    }
    return [...inputShapes[0]];
  }

  forwardMany(inputs: readonly Tensor[]): Tensor {
    this.outputShapeOf(inputs.map((t) => t.shape.slice(1)));
    return inputs.slice(1).reduce((acc, t) => this.combine(acc, t), inputs[0]);
  }
}

export const mergeSchema = z.strictObject(label);

/** The sum of its inputs (residual connections). */
export class Add extends Elementwise {
  readonly name = 'add';
  constructor(config: { label?: string } = {}) {
    super(parseConfig('layer', 'add', mergeSchema, config));
  }
  protected combine(a: Tensor, b: Tensor): Tensor {
    return add(a, b);
  }
}

/** The first input minus the others. */
export class Subtract extends Elementwise {
  readonly name = 'subtract';
  constructor(config: { label?: string } = {}) {
    super(parseConfig('layer', 'subtract', mergeSchema, config));
  }
  protected combine(a: Tensor, b: Tensor): Tensor {
    return sub(a, b);
  }
}

/** The elementwise product of its inputs (gates, squeeze-and-excitation). */
export class Multiply extends Elementwise {
  readonly name = 'multiply';
  constructor(config: { label?: string } = {}) {
    super(parseConfig('layer', 'multiply', mergeSchema, config));
  }
  protected combine(a: Tensor, b: Tensor): Tensor {
    return mul(a, b);
  }
}

/** The first input divided by the others. */
export class Divide extends Elementwise {
  readonly name = 'divide';
  constructor(config: { label?: string } = {}) {
    super(parseConfig('layer', 'divide', mergeSchema, config));
  }
  protected combine(a: Tensor, b: Tensor): Tensor {
    return div(a, b);
  }
}

export const concatenateSchema = z.strictObject({
  /** A per-sample axis (negative counts from the end; default the last, channels in NHWC). */
  axis: z.number().int().default(-1),
  ...label,
});

/** Its inputs joined along a per-sample axis (Inception, DenseNet, U-Net skips). */
export class Concatenate extends Merge {
  readonly name = 'concatenate';
  readonly axis: number;

  constructor(config: z.input<typeof concatenateSchema> = {}) {
    const c = parseConfig('layer', 'concatenate', concatenateSchema, config);
    super(c);
    this.axis = c.axis;
  }

  private sampleAxis(rank: number): number {
    const axis = this.axis < 0 ? this.axis + rank : this.axis;
    if (axis < 0 || axis >= rank) throw new ShapeError(`concatenate: axis ${this.axis} is outside samples of rank ${rank}`);
    return axis;
  }

  outputShapeOf(inputShapes: readonly (readonly number[])[]): number[] {
    if (inputShapes.length < 1) throw new ShapeError('concatenate: needs at least one input');
    const first = inputShapes[0];
    const axis = this.sampleAxis(first.length);
    for (const s of inputShapes) {
      if (s.length !== first.length || s.some((d, i) => i !== axis && d !== first[i])) {
        throw new ShapeError(`concatenate: along axis ${axis}, inputs ${inputShapes.map(fmtShape).join(' and ')} must match in every other dimension`);
      }
    }
    const out = [...first];
    out[axis] = inputShapes.reduce((n, s) => n + s[axis], 0);
    return out;
  }

  forwardMany(inputs: readonly Tensor[]): Tensor {
    this.outputShapeOf(inputs.map((t) => t.shape.slice(1)));
    return inputs.length === 1 ? inputs[0] : concat(inputs, this.sampleAxis(inputs[0].rank - 1) + 1);
  }

  protected override layerConfig(): Record<string, unknown> {
    return { axis: this.axis };
  }
}
