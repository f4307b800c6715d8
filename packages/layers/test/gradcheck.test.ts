// Numeric gradient checks (core's gradcheck, central differences) for every layer and loss,
// with respect to the input and every parameter, from fixed seeds.
import { beforeEach, describe, expect, it } from 'vitest';
import { Rng, type Tensor, add, conv2d, gradcheck, linear, moments, mul, noGrad, pow, rand, randn, scope, sub, tensor } from '@minibatch/core';
import {
  AvgPool2d, BatchNorm, Conv2d, Dense, ELU, Flatten, GlobalAvgPool2d, LeakyReLU, MaxPool2d, Maxout, ReLU, Residual,
  ScaledTanh, Sequential, Sigmoid, Softmax, Tanh, losses, type Module,
} from '../src/index.js';
import { awayFromZero, check, checkLayer, distinct } from './helpers.js';

// Each test draws from its own generator, so its inputs do not depend on which tests ran before.
let rng = new Rng(2024);
beforeEach((context) => {
  rng = new Rng([...context.task.name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7));
});
const input = (shape: number[]): Tensor => randn(shape, { rng }).setRequiresGrad();

/**
 * Smallest distance of a layer's pre-activations from a kink: |h| for ReLU-like units, the
 * gap between the two largest pieces for maxout.
 */
function kinkMargin(layer: Dense | Conv2d, x: Tensor): number {
  return scope(() =>
    noGrad(() => {
      const [w, b] = layer.parameters();
      let pre = layer instanceof Dense ? linear(x, w) : conv2d(x, w, { strides: layer.strides, padding: layer.padding, dilations: layer.dilation });
      if (layer.useBias) pre = add(pre, b);
      const h = pre.data();
      const pieces = layer.activation?.pieces ?? 1;
      let margin = Infinity;
      for (let g = 0; g < h.length; g += pieces) {
        if (pieces === 1) margin = Math.min(margin, Math.abs(h[g]));
        else {
          const group = Array.from(h.subarray(g, g + pieces)).sort((p, q) => q - p);
          margin = Math.min(margin, group[0] - group[1]);
        }
      }
      return margin;
    }),
  );
}

/**
 * Checks a layer with a kink (ReLU, maxout) where the difference step cannot cross it: a
 * step of 1e-3 moves a pre-activation by at most ~0.005 here, so inputs and weights are
 * drawn (deterministically, from the test's generator) until every pre-activation is at
 * least 0.01 from its kink.
 */
function checkKinked(make: () => Dense | Conv2d, shape: number[]): void {
  for (let attempt = 0; attempt < 50; attempt++) {
    const layer = make();
    layer.build(shape.slice(1), new Rng(rng.nextU32()));
    const x = input(shape);
    if (kinkMargin(layer, x) > 0.01) {
      checkLayer(layer, x, { eps: 1e-3 });
      layer.dispose();
      x.dispose();
      return;
    }
    layer.dispose();
    x.dispose();
  }
  expect.fail('no draw kept the pre-activations clear of the kink');
}

/** Builds the layer from a seed, then checks it at an input away from kinks. */
function checkBuilt(layer: Module, x: Tensor, seed = 1, options = {}): void {
  layer.build(x.shape.slice(1), new Rng(seed));
  checkLayer(layer, x, options);
  layer.dispose();
  x.dispose();
}

describe('gradcheck: dense', () => {
  it('linear, with and without bias', () => {
    checkBuilt(new Dense({ units: 3 }), input([4, 5]));
    checkBuilt(new Dense({ units: 3, useBias: false }), input([4, 5]));
  });

  for (const activation of ['tanh', 'sigmoid', 'scaledTanh', 'elu', 'softmax'] as const) {
    it(`activation ${activation}`, () => {
      checkBuilt(new Dense({ units: 4, activation, biasInitializer: { name: 'constant', config: { value: 0.3 } } }), input([5, 3]), 3);
    });
  }

  it('activation relu', () => {
    checkKinked(() => new Dense({ units: 4, activation: 'relu' }), [5, 3]);
  });

  it('activation leakyRelu with alpha 0.2 (object form)', () => {
    checkKinked(() => new Dense({ units: 4, activation: { name: 'leakyRelu', config: { alpha: 0.2 } } }), [5, 3]);
  });

  it('maxout: dense with 3 pieces, and the Maxout layer', () => {
    checkKinked(() => new Dense({ units: 3, activation: { name: 'maxout', config: { pieces: 3 } } }), [4, 5]);
    checkKinked(() => new Maxout({ units: 2, pieces: 2 }), [3, 4]);
  });
});

describe('gradcheck: conv2d', () => {
  const cases = [
    { kernelSize: 3, padding: 'valid' as const },
    { kernelSize: 3, padding: 'same' as const, strides: 2 },
    { kernelSize: [2, 3] as [number, number], padding: 1, strides: [1, 2] as [number, number] },
    { kernelSize: 2, padding: 'valid' as const, dilation: 2 },
    { kernelSize: 3, padding: [[1, 0], [0, 2]] as [[number, number], [number, number]] },
  ];
  for (const c of cases) {
    it(`filters 3, ${JSON.stringify(c)}`, () => {
      checkBuilt(new Conv2d({ filters: 3, ...c }), input([2, 5, 6, 2]), 7);
    });
  }

  it('with tanh and without bias', () => {
    checkBuilt(new Conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'tanh', useBias: false }), input([2, 4, 4, 3]), 8);
  });

  it('with maxout over 2 pieces of channels', () => {
    checkKinked(() => new Conv2d({ filters: 2, kernelSize: 2, activation: { name: 'maxout', config: { pieces: 2 } } }), [2, 3, 3, 2]);
  });

  it('with relu', () => {
    checkKinked(() => new Conv2d({ filters: 2, kernelSize: 2, activation: 'relu' }), [2, 3, 3, 2]);
  });
});

describe('gradcheck: pooling, flatten', () => {
  it('maxPool2d 2×2 and 3×3 stride 2 same', () => {
    checkBuilt(new MaxPool2d(), distinct([2, 4, 4, 3], rng));
    checkBuilt(new MaxPool2d({ poolSize: 3, strides: 2, padding: 'same' }), distinct([2, 5, 5, 2], rng));
  });

  it('avgPool2d 2×2, and 3×3 stride 1 same (padding not counted)', () => {
    checkBuilt(new AvgPool2d(), input([2, 4, 6, 3]));
    checkBuilt(new AvgPool2d({ poolSize: 3, strides: 1, padding: 'same' }), input([2, 4, 4, 2]));
  });

  it('globalAvgPool2d and flatten', () => {
    checkBuilt(new GlobalAvgPool2d(), input([3, 3, 4, 2]));
    checkBuilt(new Flatten(), input([3, 2, 2, 2]));
  });
});

describe('gradcheck: batchNorm', () => {
  it('1d in training mode (batch statistics), w.r.t. x, gamma and beta', () => {
    const bn = new BatchNorm();
    bn.build([4]);
    // Non-trivial gamma and beta so both gradients are exercised.
    bn.parameters()[0].assign(scope(() => tensor([0.5, 1.5, -1, 2])));
    bn.parameters()[1].assign(scope(() => tensor([0.1, -0.2, 0.3, 0])));
    checkBuilt(bn, input([6, 4]));
  });

  it('2d (NHWC, per channel) in training mode', () => {
    const bn = new BatchNorm();
    bn.build([3, 3, 2]);
    bn.parameters()[0].assign(scope(() => tensor([0.7, -1.3])));
    checkBuilt(bn, input([2, 3, 3, 2]));
  });

  it('in eval mode (running statistics)', () => {
    const bn = new BatchNorm();
    bn.build([3]);
    const [, runningVar] = bn.namedBuffers();
    runningVar[1].assign(scope(() => tensor([0.5, 2, 1.5])));
    bn.eval();
    checkBuilt(bn, input([4, 3]));
  });

  it('the check can fail: a wrong gradient is caught', () => {
    // A batch-norm whose backward ignores the batch statistics (treating μ and σ as constants).
    const x = input([6, 3]);
    const result = scope(() =>
      gradcheck((a) => {
        const { mean, variance } = moments(a.detach());
        return mul(sub(a, mean), pow(add(variance, 1e-5), -0.5));
      }, [x]),
    );
    expect(result.ok).toBe(false);
    x.dispose();
  });
});

describe('gradcheck: activation layers', () => {
  const layers: [string, () => Module][] = [
    ['sigmoid', () => new Sigmoid()],
    ['tanh', () => new Tanh()],
    ['scaledTanh', () => new ScaledTanh()],
    ['relu', () => new ReLU()],
    ['leakyRelu', () => new LeakyReLU({ alpha: 0.1 })],
    ['elu', () => new ELU({ alpha: 0.7 })],
    ['softmax', () => new Softmax()],
    ['softmax axis 1 of 3', () => new Softmax({ axis: 1 })],
  ];
  for (const [name, make] of layers) {
    it(name, () => checkBuilt(make(), awayFromZero([3, 4, 2], rng)));
  }
});

describe('gradcheck: containers', () => {
  it('sequential: dense → elu → dense → softmax', () => {
    const model = new Sequential([new Dense({ units: 5 }), new ELU(), new Dense({ units: 3 }), new Softmax()]);
    checkBuilt(model, input([4, 3]), 11);
  });

  it('residual with identity shortcut (features)', () => {
    const block = [new Dense({ units: 4, activation: 'tanh' }), new Dense({ units: 4 })];
    checkBuilt(new Residual(block, { activation: 'tanh' }), input([3, 4]), 12);
  });

  it('residual with a dense projection (4 → 6 features)', () => {
    checkBuilt(new Residual([new Dense({ units: 6, activation: 'sigmoid' })]), input([3, 4]), 13);
  });

  it('residual with a strided 1×1 conv projection (images)', () => {
    const block = [new Conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' })];
    checkBuilt(new Residual(block), input([2, 5, 5, 2]), 14);
  });

  it('conv → batchNorm → relu → maxPool → flatten → dense', () => {
    const model = new Sequential([
      new Conv2d({ filters: 2, kernelSize: 3, padding: 'same' }),
      new BatchNorm(),
      new Tanh(),
      new AvgPool2d(),
      new Flatten(),
      new Dense({ units: 3 }),
    ]);
    checkBuilt(model, input([3, 4, 4, 1]), 15);
  });
});

describe('gradcheck: losses (w.r.t. the output)', () => {
  const logits = (): Tensor => input([4, 5]);
  const labels = [0, 3, 4, 1];

  it('softmaxCrossEntropy with integer labels', () => {
    const loss = losses.softmaxCrossEntropy();
    check((x) => loss(x, labels), [logits()]);
  });

  it('softmaxCrossEntropy with label smoothing 0.1', () => {
    const loss = losses.softmaxCrossEntropy({ labelSmoothing: 0.1 });
    check((x) => loss(x, labels), [logits()]);
  });

  it('softmaxCrossEntropy with soft targets (mixup), with and without smoothing', () => {
    const soft = scope(() => {
      const r = rand([4, 5], { rng, low: 0.1, high: 1 });
      const v = r.view();
      for (let i = 0; i < 4; i++) {
        let s = 0;
        for (let k = 0; k < 5; k++) s += v[i * 5 + k];
        for (let k = 0; k < 5; k++) v[i * 5 + k] /= s;
      }
      return Array.from(r.data());
    });
    check((x) => losses.softmaxCrossEntropy()(x, soft), [logits()]);
    check((x) => losses.softmaxCrossEntropy({ labelSmoothing: 0.2 })(x, soft), [logits()]);
  });

  it('meanSquaredError (target tensor and array)', () => {
    const target = Array.from({ length: 12 }, (_, i) => Math.sin(i));
    check((x) => losses.meanSquaredError()(x, target), [input([4, 3])]);
    const t = tensor(target, [4, 3]);
    check((x) => losses.meanSquaredError()(x, t), [input([4, 3])]);
    t.dispose();
  });

  it('multiclassHinge (margins away from the kink)', () => {
    // Scores on a 0.1 grid offset by 0.05: s_j − s_y + 1 is never within the step of 0.
    check((x) => losses.multiclassHinge()(x, labels), [distinct([4, 5], rng, 0.05)]);
  });

  it('binaryCrossEntropyWithLogits, including large logits', () => {
    const z = Array.from({ length: 8 }, (_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : 0.3));
    check((x) => losses.binaryCrossEntropyWithLogits()(x, z), [awayFromZero([4, 2], rng)]);
    const big = tensor([12, -15, 30, -0.5], [2, 2]).setRequiresGrad();
    check((x) => losses.binaryCrossEntropyWithLogits()(x, [0, 1, 1, 0]), [big]);
  });
});
