// The one layer ONNX graphs need beyond @minibatch/layers: an elementwise op with a constant
// operand (ONNX Add/Sub/Mul/Div with an initializer), the constant kept as a buffer so it is
// saved with the weights and the config stays small.
import { ShapeError, type Tensor, add, div, mul, sub } from '@minibatch/core';
import { Module, type BufferSpec } from '@minibatch/layers';
import { parseConfig, z } from '@minibatch/registry';

export const constantOpSchema = z.strictObject({
  op: z.enum(['add', 'sub', 'mul', 'div']),
  /** The constant's shape, broadcast against a sample (numpy rules, trailing axes aligned). */
  shape: z.array(z.number().int().min(1)),
  /** c op x instead of x op c (ONNX Sub(c, x), Div(c, x)). */
  reversed: z.boolean().default(false),
  label: z.string().optional(),
});

const OPS = { add, sub, mul, div };

/**
 * x op c with a constant c (buffer 'value'), or c op x when reversed.
 *
 * @example
 * new ConstantOp({ op: 'mul', shape: [1, 1, 3] });   // then loadStateDict({ value: … })
 */
export class ConstantOp extends Module {
  readonly name = 'constantOp';
  readonly op: 'add' | 'sub' | 'mul' | 'div';
  readonly shape: number[];
  readonly reversed: boolean;

  constructor(config: z.input<typeof constantOpSchema>) {
    const c = parseConfig('layer', 'constantOp', constantOpSchema, config);
    super(c);
    this.op = c.op;
    this.shape = c.shape;
    this.reversed = c.reversed;
  }

  outputShape(inputShape: readonly number[]): number[] {
    const rank = Math.max(inputShape.length, this.shape.length);
    return Array.from({ length: rank }, (_, i) => {
      const a = inputShape[inputShape.length - rank + i] ?? 1;
      const b = this.shape[this.shape.length - rank + i] ?? 1;
      if (a !== b && a !== 1 && b !== 1) throw new ShapeError(`constantOp: a constant of shape [${this.shape.join(', ')}] does not broadcast against samples of shape [${inputShape.join(', ')}]`);
      return a === 1 ? b : a;
    });
  }

  protected override bufferSpecs(): BufferSpec[] {
    return [{ name: 'value', shape: this.shape, value: 0 }];
  }

  forward(x: Tensor): Tensor {
    this.ensureBuilt(x);
    this.outputShape(x.shape.slice(1));
    const c = this.buffer('value');
    return this.reversed ? OPS[this.op](c, x) : OPS[this.op](x, c);
  }

  protected override layerConfig(): Record<string, unknown> {
    return { op: this.op, shape: this.shape, reversed: this.reversed };
  }
}
