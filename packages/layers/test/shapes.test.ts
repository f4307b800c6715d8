// Shapes: outputShape() agrees with what forward() produces; Sequential chains shapes;
// Residual adds x (or its projection) to block(x).
import { describe, expect, it } from 'vitest';
import { Rng, ShapeError, type Tensor, add, linear, noGrad, randn, relu, scope, tanh } from '@minibatch/core';
import {
  AvgPool2d, BatchNorm, Conv2d, Dense, Flatten, GlobalAvgPool2d, MaxPool2d, Module, ReLU, Residual, Sequential, Tanh,
} from '../src/index.js';
import { expectClose, values } from './helpers.js';

const rng = new Rng(8);

function forwardShape(layer: Module, shape: number[]): number[] {
  return scope(() => noGrad(() => [...layer.forward(randn([2, ...shape], { rng })).shape]));
}

describe('outputShape() matches forward()', () => {
  const input = [9, 8, 3];
  const convs: Record<string, unknown>[] = [];
  for (const kernelSize of [1, 3, [2, 4]] as const) {
    for (const strides of [1, 2, [3, 1]] as const) {
      for (const padding of ['valid', 'same', 1] as const) {
        convs.push({ kernelSize, strides, padding });
      }
    }
  }
  convs.push({ kernelSize: 3, strides: 1, padding: 'same', dilation: 2 }, { kernelSize: 2, strides: 1, padding: [[0, 1], [2, 0]] });

  it(`conv2d over ${convs.length} geometries`, () => {
    for (const c of convs) {
      const layer = new Conv2d({ filters: 5, ...c } as ConstructorParameters<typeof Conv2d>[0]);
      const expected = layer.outputShape(input);
      expect(forwardShape(layer, input), JSON.stringify(c)).toEqual([2, ...expected]);
      layer.dispose();
    }
  });

  it('pooling over several geometries', () => {
    for (const poolSize of [2, 3, [3, 2]] as (number | [number, number])[]) {
      for (const strides of [undefined, 1, 2]) {
        for (const padding of ['valid', 'same'] as const) {
          for (const layer of [new MaxPool2d({ poolSize, strides, padding }), new AvgPool2d({ poolSize, strides, padding })]) {
            expect(forwardShape(layer, input)).toEqual([2, ...layer.outputShape(input)]);
          }
        }
      }
    }
  });

  it('the TF "same" rule: output = ceil(input / stride)', () => {
    expect(new Conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }).outputShape([7, 8, 1])).toEqual([4, 4, 4]);
    expect(new MaxPool2d({ poolSize: 2, padding: 'same' }).outputShape([5, 5, 3])).toEqual([3, 3, 3]);
    expect(new MaxPool2d().outputShape([5, 5, 3])).toEqual([2, 2, 3]);
  });

  it('dense, flatten, globalAvgPool2d, batchNorm, activations', () => {
    expect(forwardShape(new Dense({ units: 6 }), [4])).toEqual([2, 6]);
    expect(forwardShape(new Flatten(), [3, 2, 5])).toEqual([2, 30]);
    expect(forwardShape(new GlobalAvgPool2d(), [3, 2, 5])).toEqual([2, 5]);
    expect(forwardShape(new BatchNorm(), [3, 2, 5])).toEqual([2, 3, 2, 5]);
    expect(forwardShape(new ReLU(), [3, 2])).toEqual([2, 3, 2]);
  });

  it('layers reject inputs of the wrong rank with a clear message', () => {
    expect(() => new Conv2d({ filters: 1, kernelSize: 1 }).outputShape([784])).toThrow(/expects NHWC images.*reshape flat inputs/);
    expect(() => new MaxPool2d().outputShape([4, 4])).toThrow(ShapeError);
    expect(() => new GlobalAvgPool2d().outputShape([4])).toThrow(/NHWC/);
  });
});

describe('fused bias + activation', () => {
  it('a dense layer gives exactly activation(x·w + b), for relu and tanh', () => {
    for (const [activation, fn] of [['relu', relu], ['tanh', tanh]] as const) {
      scope(() => {
        const layer = new Dense({ units: 6, activation, seed: 3 });
        const x = randn([4, 5], { rng });
        const y = noGrad(() => layer.forward(x));
        const [weight, bias] = layer.parameters();
        const expected = noGrad(() => fn(linear(x, weight, bias)));
        expect(y.shape).toEqual([4, 6]);
        expect(Buffer.from(y.data().buffer).equals(Buffer.from(expected.data().buffer))).toBe(true);
      });
    }
  });
});

describe('sequential', () => {
  const model = (): Sequential =>
    new Sequential([
      new Conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
      new MaxPool2d(),
      new Conv2d({ filters: 8, kernelSize: 3 }),
      new GlobalAvgPool2d(),
      new Dense({ units: 10 }),
    ]);

  it('chains the shapes of its layers, built or not', () => {
    const m = model();
    expect(m.outputShape([12, 12, 1])).toEqual([10]);
    expect(m.build([12, 12, 1])).toEqual([10]);
    expect(forwardShape(m, [12, 12, 1])).toEqual([2, 10]);
  });

  it('the output is the composition of its layers', () => {
    const m = model();
    m.build([8, 8, 1], new Rng(2));
    const x = randn([3, 8, 8, 1], { rng });
    const composed = scope(() => noGrad(() => values(m.layers.reduce((h: Tensor, l) => l.forward(h), x))));
    expect(scope(() => noGrad(() => values(m.forward(x))))).toEqual(composed);
  });

  it('a shape error names the layer that failed', () => {
    const bad = new Sequential([new Conv2d({ filters: 2, kernelSize: 3 }), new Dense({ units: 2 })]);
    expect(() => bad.build([5, 5, 1])).toThrow(/layer 1 \(dense\) of sequential: dense: expects \[batch, features\].*flatten/);
    expect(bad.built).toBe(false);
    expect(bad.parameters()).toHaveLength(0); // nothing half-built
  });

  it('an empty sequential is the identity; add() appends before build only', () => {
    const m = new Sequential();
    expect(m.outputShape([3])).toEqual([3]);
    m.add(new Dense({ units: 2 }));
    m.build([3]);
    expect(() => m.add(new ReLU())).toThrow(/after the model is built/);
  });
});

describe('residual', () => {
  it('identity shortcut: output = block(x) + x, and no projection', () => {
    const block = new Sequential([new Dense({ units: 4, activation: 'tanh' }), new Dense({ units: 4 })]);
    const res = new Residual(block);
    res.build([4], new Rng(3));
    expect(res.projection).toBeNull();
    const x = randn([5, 4], { rng });
    const expected = scope(() => noGrad(() => values(add(block.forward(x), x))));
    expectClose(scope(() => noGrad(() => values(res.forward(x)))), expected, 1e-6, 1e-6);
    expect(res.namedParameters().map(([n]) => n)).toEqual(['block.0.weight', 'block.0.bias', 'block.1.weight', 'block.1.bias']);
  });

  it('features 4 → 6: a dense projection without bias, output = block(x) + x·P', () => {
    const res = new Residual([new Dense({ units: 6, activation: 'relu' })], { activation: 'tanh' });
    expect(res.build([4], new Rng(4))).toEqual([6]);
    expect(res.projection).toBeInstanceOf(Dense);
    expect(res.namedParameters().map(([n, t]) => `${n} ${t.shape.join('x')}`)).toEqual(['block.0.weight 4x6', 'block.0.bias 6', 'projection.weight 4x6']);
    const x = randn([3, 4], { rng });
    const expected = scope(() => noGrad(() => values(add(res.block.forward(x), res.projection!.forward(x)).tanh())));
    expectClose(scope(() => noGrad(() => values(res.forward(x)))), expected, 1e-6, 1e-6);
  });

  it('images: a strided 1×1 conv projection matches a stride-2 block', () => {
    const res = new Residual([new Conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same' }), new BatchNorm(), new ReLU()]);
    expect(res.outputShape([7, 7, 4])).toEqual([4, 4, 8]);
    expect(forwardShape(res, [7, 7, 4])).toEqual([2, 4, 4, 8]);
    const projection = res.projection as Conv2d;
    expect(projection.kernelSize).toEqual([1, 1]);
    expect(projection.strides).toEqual([2, 2]);
    expect(projection.useBias).toBe(false);
  });

  it("projection: 'always' projects equal shapes; 'none' refuses different ones", () => {
    const always = new Residual([new Tanh()], { projection: 'always' });
    always.build([3]);
    expect(always.projection).not.toBeNull();
    const none = new Residual([new Dense({ units: 5 })], { projection: 'none' });
    expect(() => none.build([3])).toThrow(/maps \[3\] to \[5\], so x cannot be added; use projection: 'auto'/);
  });

  it('shapes that no 1×1 projection can reach are a clear error', () => {
    const res = new Residual([new Flatten()]);
    expect(() => res.outputShape([2, 2, 3])).toThrow(/cannot project \[2, 2, 3\] to \[12\]/);
  });

  it('nests: residual blocks inside a sequential', () => {
    const model = new Sequential([
      new Conv2d({ filters: 4, kernelSize: 3, padding: 'same' }),
      new Residual([new Conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }), new Conv2d({ filters: 4, kernelSize: 3, padding: 'same' })], { activation: 'relu' }),
      new Residual([new Conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same' })]),
      new Flatten(),
      new Dense({ units: 3 }),
    ]);
    expect(model.build([6, 6, 1])).toEqual([3]);
    expect(forwardShape(model, [6, 6, 1])).toEqual([2, 3]);
  });
});
