// The layers real pretrained networks need: depthwise, separable and grouped convolution,
// ReLU6 / hard sigmoid / hard swish, zero padding, upsampling, resizing, rescaling, reshape,
// permute, merge layers and the Graph container; freezing. Each is gradient-checked and
// compared with TF.js (or a plain loop where TF.js has no such op).
import { beforeEach, describe, expect, it } from 'vitest';
import { Rng, engine, keep, noGrad, randn, scope, tensor, type Tensor } from '@minibatch/core';
import { RegistryError } from '@minibatch/registry';
import {
  Add, BatchNorm, Clip, Concatenate, Divide, Conv2d, Dense, DepthwiseConv2d, Flatten, GlobalAvgPool2d, Graph, HardSigmoid, HardSwish, Multiply, Normalization,
  Permute, ReLU, ReLU6, Reshape, Rescaling, Resizing, SeparableConv2d, Sequential, Subtract, UpSampling2d, ZeroPadding2d,
  modelFromConfig, modelToConfig, type Module,
} from '../src/index.js';
import { check, checkLayer, expectClose, registry, tfjs, values } from './helpers.js';

let rng = new Rng(5);
beforeEach((context) => {
  rng = new Rng([...context.task.name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 11));
});
const input = (shape: number[]): Tensor => randn(shape, { rng }).setRequiresGrad();

/** Forward of a built layer in eval mode, as plain numbers. */
const run = (layer: Module, x: Tensor): number[] => scope(() => noGrad(() => values(layer.forward(x))));
const param = (layer: Module, name: string): Tensor => layer.namedParameters().find(([n]) => n === name)![1];

describe('depthwise, separable and grouped convolution layers', () => {
  it('DepthwiseConv2d: weight [kh, kw, c, m], bias [c·m]; gradients; equals tf.depthwiseConv2d + bias', async () => {
    const tf = await tfjs();
    for (const config of [{ kernelSize: 3, padding: 'same' as const }, { kernelSize: [3, 2] as [number, number], strides: 2, depthMultiplier: 2, activation: 'relu6' }]) {
      const layer = new DepthwiseConv2d({ ...config, biasInitializer: { name: 'gaussian', config: { std: 0.1 } } });
      const x = input([2, 7, 6, 5]);
      layer.build([7, 6, 5], new Rng(3));
      const [w, b] = layer.parameters();
      expect(w.shape).toEqual([...(Array.isArray(config.kernelSize) ? config.kernelSize : [3, 3]), 5, config.depthMultiplier ?? 1]);
      const theirs = tf.tidy(() => {
        let y = tf.add(tf.depthwiseConv2d(tf.tensor4d(x.data(), [2, 7, 6, 5]), tf.tensor4d(w.data(), w.shape as never), (config.strides ?? 1) as 1, config.padding ?? 'valid'), tf.tensor1d(b.data()));
        if (config.activation === 'relu6') y = tf.relu6(y);
        return Array.from(y.dataSync());
      });
      expectClose(run(layer, x), theirs, 1e-5, 1e-4);
      if (config.activation === undefined) checkLayer(layer, x);
    }
  });

  it('SeparableConv2d: depthwise then pointwise then bias; equals tf.separableConv2d; gradients', async () => {
    const tf = await tfjs();
    const layer = new SeparableConv2d({ filters: 4, kernelSize: 3, padding: 'same', depthMultiplier: 2 });
    const x = input([2, 5, 5, 3]);
    layer.build([5, 5, 3], new Rng(4));
    const dw = param(layer, 'depthwiseWeight');
    const pw = param(layer, 'pointwiseWeight');
    expect([dw.shape, pw.shape]).toEqual([[3, 3, 3, 2], [1, 1, 6, 4]]);
    const theirs = tf.tidy(() => Array.from(tf.separableConv2d(tf.tensor4d(x.data(), [2, 5, 5, 3]), tf.tensor4d(dw.data(), [3, 3, 3, 2]),
      tf.tensor4d(pw.data(), [1, 1, 6, 4]), 1, 'same').dataSync()));
    expectClose(run(layer, x), theirs, 1e-5, 1e-4);
    checkLayer(layer, x);
  });

  it('Conv2d with groups equals a plain loop over groups, and groups = channels is depthwise', () => {
    for (const groups of [2, 3, 6]) {
      const layer = new Conv2d({ filters: 6, kernelSize: 3, padding: 'same', groups, useBias: false });
      const x = input([1, 4, 5, 6]);
      layer.build([4, 5, 6], new Rng(groups));
      const w = param(layer, 'weight');
      expect(w.shape).toEqual([3, 3, 6 / groups, 6]);
      const xv = x.data();
      const wv = w.data();
      const cg = 6 / groups;
      const fg = 6 / groups;
      const expected: number[] = [];
      for (let y = 0; y < 4; y++) for (let xx = 0; xx < 5; xx++) for (let o = 0; o < 6; o++) {
        const g = Math.floor(o / fg);
        let s = 0;
        for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
          const iy = y + ky - 1;
          const ix = xx + kx - 1;
          if (iy < 0 || iy >= 4 || ix < 0 || ix >= 5) continue;
          for (let ci = 0; ci < cg; ci++) s += xv[(iy * 5 + ix) * 6 + g * cg + ci] * wv[((ky * 3 + kx) * cg + ci) * 6 + o];
        }
        expected.push(s);
      }
      expectClose(run(layer, x), expected, 1e-5, 1e-4);
      checkLayer(layer, x);
    }
    expect(() => new Conv2d({ filters: 5, kernelSize: 1, groups: 2 })).toThrow(/filters \(5\) must be a multiple of groups \(2\)/);
    expect(() => new Conv2d({ filters: 4, kernelSize: 1, groups: 2 }).outputShape([3, 3, 3])).toThrow(/3 input channels do not split into 2 groups/);
  });
});

describe('activations: ReLU6, hard sigmoid, hard swish', () => {
  it('match their formulas and have the right gradients away from the kinks', () => {
    const x = tensor([-4, -2.9, -0.7, 0.3, 2.2, 3.1, 5.4, 7.5], [2, 4]).setRequiresGrad();
    const clip = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    const xs = values(x);
    expectClose(run(new ReLU6(), x), xs.map((v) => clip(v, 0, 6)));
    expectClose(run(new HardSigmoid(), x), xs.map((v) => clip(0.2 * v + 0.5, 0, 1)));
    expectClose(run(new HardSigmoid({ alpha: 1 / 6 }), x), xs.map((v) => clip(v / 6 + 0.5, 0, 1)));
    expectClose(run(new HardSwish(), x), xs.map((v) => v * clip(v / 6 + 0.5, 0, 1)));
    expectClose(run(new Clip({ min: -1, max: 2.5 }), x), xs.map((v) => clip(v, -1, 2.5)));
    expectClose(run(new Clip({ max: 0.5 }), x), xs.map((v) => Math.min(v, 0.5)));
    expect(() => new Clip({ min: 2, max: 1 })).toThrow(/min must be ≤ max/);
    for (const layer of [new ReLU6(), new HardSigmoid(), new HardSwish()]) check((t) => layer.forward(t), [x]);
  });
});

describe('reshaping layers', () => {
  it('ZeroPadding2d equals tf.pad; UpSampling2d repeats pixels; both have gradients', async () => {
    const tf = await tfjs();
    const x = input([2, 3, 4, 2]);
    const padding = new ZeroPadding2d({ padding: [[1, 0], [2, 1]] });
    expect(padding.outputShape([3, 4, 2])).toEqual([4, 7, 2]);
    expectClose(run(padding, x), Array.from(tf.pad(tf.tensor4d(x.data(), [2, 3, 4, 2]), [[0, 0], [1, 0], [2, 1], [0, 0]]).dataSync()));
    const up = new UpSampling2d({ size: [2, 3] });
    const out = run(up, x);
    const xv = values(x);
    for (let y = 0; y < 6; y++) for (let xx = 0; xx < 12; xx++) for (let c = 0; c < 2; c++) {
      expect(out[((1 * 6 + y) * 12 + xx) * 2 + c]).toBe(xv[((1 * 3 + Math.floor(y / 2)) * 4 + Math.floor(xx / 3)) * 2 + c]);
    }
    checkLayer(padding, x);
    checkLayer(up, x);
  });

  it('Resizing: bilinear equals tf.image.resizeBilinear with half-pixel centers, up and down; nearest picks pixels; gradients', async () => {
    const tf = await tfjs();
    const x = input([2, 5, 7, 3]);
    for (const [h, w] of [[9, 12], [3, 4], [5, 7]]) {
      const theirs = Array.from(tf.image.resizeBilinear(tf.tensor4d(x.data(), [2, 5, 7, 3]), [h, w], false, true).dataSync());
      expectClose(run(new Resizing({ height: h, width: w }), x), theirs, 1e-5, 1e-4);
    }
    const nearest = run(new Resizing({ height: 10, width: 14, interpolation: 'nearest' }), x);
    expectClose(nearest, Array.from(tf.image.resizeNearestNeighbor(tf.tensor4d(x.data(), [2, 5, 7, 3]), [10, 14], false, true).dataSync()));
    checkLayer(new Resizing({ height: 4, width: 9 }), input([1, 3, 5, 2]));
  });

  it('Rescaling, Normalization, Reshape and Permute', () => {
    const x = input([2, 3, 4]);
    expectClose(run(new Rescaling({ scale: 1 / 127.5, offset: -1 }), x), values(x).map((v) => v / 127.5 - 1));
    const mean = [1, 2, 3, 4];
    expectClose(run(new Normalization({ mean, variance: 4 }), x), values(x).map((v, i) => (v - mean[i % 4]) / 2));
    expect(() => new Normalization({ mean: [1, 2], variance: [1, 2, 3] })).toThrow(/2 means but 3 variances/);
    expect(() => new Normalization({ mean: 0, variance: -1 })).toThrow(/variances must be > 0/);
    const reshape = new Reshape({ targetShape: [-1, 2] });
    expect(reshape.outputShape([3, 4])).toEqual([6, 2]);
    expect(() => reshape.outputShape([3, 3])).toThrow(/cannot reshape samples of shape \[3, 3\] \(9 values\) to \[-1, 2\]/);
    const permute = new Permute({ axes: [1, 0] });
    const out = run(permute, x);
    const xv = values(x);
    expect(out[(1 * 4 + 2) * 3 + 1]).toBe(xv[(1 * 3 + 1) * 4 + 2]);
    expect(() => new Permute({ axes: [0, 0] })).toThrow(/not a permutation/);
    checkLayer(permute, x);
  });
});

/** A small residual graph: conv → activation → add(input) → concatenate(with the conv) → pool → dense. */
function residualGraph(activation: Module = new ReLU()): Graph {
  return new Graph([
    { name: 'conv', layer: new Conv2d({ filters: 3, kernelSize: 3, padding: 'same' }), inputs: ['image'] },
    { name: 'act', layer: activation, inputs: ['conv'] },
    { name: 'sum', layer: new Add(), inputs: ['act', 'image'] },
    { name: 'both', layer: new Concatenate(), inputs: ['sum', 'conv'] },
    { name: 'pool', layer: new GlobalAvgPool2d(), inputs: ['both'] },
    { name: 'logits', layer: new Dense({ units: 2 }), inputs: ['pool'] },
  ], { input: 'image', inputShape: [4, 4, 3] });
}

describe('Graph', () => {
  it('runs a DAG with merges, names parameters by node, and has exact gradients', () => {
    const g = residualGraph(new HardSwish()); // smooth enough away from ±3 for central differences
    g.build([4, 4, 3], new Rng(1));
    expect(g.namedParameters().map(([n]) => n)).toEqual(['conv.weight', 'conv.bias', 'logits.weight', 'logits.bias']);
    expect(g.outputShape([4, 4, 3])).toEqual([2]);
    expect(g.summary()).toMatch(/both \(concatenate\)\s+\[batch, 4, 4, 6\]/);
    const x = input([2, 4, 4, 3]);
    // The same computation by hand, from the graph's own layers.
    const expected = scope(() => noGrad(() => {
      const conv = g.node('conv')!.layer.forward(x);
      const both = g.node('both')!.layer.forwardMany([g.node('sum')!.layer.forwardMany([g.node('act')!.layer.forward(conv), x]), conv]);
      return values(g.node('logits')!.layer.forward(g.node('pool')!.layer.forward(both)));
    }));
    expectClose(run(g, x), expected, 0, 0);
    checkLayer(g, x);
  });

  it('round-trips through JSON (built through the registry) with identical outputs', () => {
    const g = residualGraph();
    g.build([4, 4, 3], new Rng(2));
    const again = modelFromConfig(registry, JSON.parse(JSON.stringify(modelToConfig(g))));
    again.build([4, 4, 3]);
    again.loadStateDict(g.stateDict());
    const x = input([3, 4, 4, 3]);
    expect(run(again, x)).toEqual(run(g, x));
    expect(again).toBeInstanceOf(Graph);
  });

  it('refuses a node that reads an unknown or later value, reuses a name, or feeds several values to a one-input layer', () => {
    const conv = () => new Conv2d({ filters: 2, kernelSize: 1 });
    const cases: [() => unknown, RegExp][] = [
      [() => new Graph([{ name: 'a', layer: conv(), inputs: ['imgae'] }], { input: 'image' }), /node 'a' reads 'imgae', which is not the input or an earlier node \(did you mean 'image'\?\)/],
      [() => new Graph([{ name: 'a', layer: conv(), inputs: ['b'] }, { name: 'b', layer: conv(), inputs: ['input'] }]), /node 'a' reads 'b', which comes after it/],
      [() => new Graph([{ name: 'a', layer: conv(), inputs: ['input'] }, { name: 'a', layer: conv(), inputs: ['a'] }]), /node 'a' is defined twice/],
      [() => new Graph([{ name: 'a', layer: conv(), inputs: ['input', 'input'] }]), /node 'a' reads 2 values, but its layer 'conv2d' takes one/],
      [() => new Graph([{ name: 'a.b', layer: conv(), inputs: ['input'] }]), /node name 'a\.b' has a dot/],
      [() => new Graph([{ name: 'a', layer: conv(), inputs: ['input'] }], { outputs: ['A'] }), /output 'A' is not a node \(did you mean 'a'\?\)/],
    ];
    for (const [make, message] of cases) expect(make).toThrow(message);
    expect(() => new Sequential([new Add()]).outputShape([3])).toThrow(/add: merges several inputs; use it in a graph/);
    expect(() => residualGraph().outputShape([4, 4, 2])).toThrow(/node 'sum' \(add\) of graph, input \[4, 4, 3\] and \[4, 4, 2\]: add: inputs must have one shape/);
    let located: unknown;
    try {
      modelFromConfig(registry, [{ name: 'graph', config: { nodes: [{ name: 'a', layer: { name: 'dense', config: { units: 2 } }, inputs: ['inptu'] }] } }]);
    } catch (e) {
      located = e;
    }
    expect(located).toBeInstanceOf(RegistryError);
    expect((located as Error).message).toMatch(/^\[0\]\.config\.nodes\[0\]\.inputs\[0\]: node 'a' reads 'inptu'/);
  });

  it('frees each intermediate value after its last reader in inference, and keeps everything while recording gradients', () => {
    const g = residualGraph();
    g.build([4, 4, 3], new Rng(3));
    const x = keep(randn([8, 4, 4, 3], { rng }));
    const live = () => engine().stats().liveBytes;
    const before = live();
    const alive = (record: boolean): number => scope(() => {
      const forward = (): number => {
        g.forward(x);
        return live() - before;
      };
      return record ? forward() : noGrad(forward);
    });
    // While recording, every node's value stays for backward; in inference the values between
    // the input and the output (conv, act, sum: 3 channels; both: 6) are freed as soon as their
    // last reader has run.
    expect(alive(true) - alive(false)).toBeGreaterThanOrEqual(8 * 4 * 4 * (3 + 3 + 3 + 6) * 4);
    expect(live()).toBe(before);
    x.dispose();
  });

  it('Subtract and Multiply merge elementwise; Concatenate along a chosen axis', () => {
    const a = input([2, 3, 2]);
    const b = input([2, 3, 2]);
    const av = values(a);
    const bv = values(b);
    expectClose(scope(() => values(new Subtract().forwardMany([a, b]))), av.map((v, i) => v - bv[i]));
    expectClose(scope(() => values(new Multiply().forwardMany([a, b]))), av.map((v, i) => v * bv[i]));
    expectClose(scope(() => values(new Divide().forwardMany([a, b]))), av.map((v, i) => v / bv[i]), 1e-5, 1e-5);
    const cat = new Concatenate({ axis: 0 });
    expect(cat.outputShapeOf([[3, 2], [1, 2]])).toEqual([4, 2]);
    check((p, q) => new Concatenate({ axis: 1 }).forwardMany([p, q]), [a, b]);
  });
});

describe('freezing (trainable false)', () => {
  it('a frozen layer gets no gradient, its BatchNorm uses running statistics, and the flag round-trips through JSON', () => {
    const model = new Sequential([new Conv2d({ filters: 4, kernelSize: 3 }), new BatchNorm(), new ReLU(), new Flatten(), new Dense({ units: 2 })]);
    model.build([5, 5, 2], new Rng(4));
    const [conv, bn] = model.layers;
    conv.setTrainable(false);
    bn.setTrainable(false);
    expect(model.trainableParameters().length).toBe(2);
    expect(model.parameterInfo().filter((p) => !p.trainable).map((p) => p.name)).toEqual(['0.weight', '0.bias', '1.gamma', '1.beta']);
    const running = bn.namedBuffers().map(([, t]) => values(t));
    const x = randn([4, 5, 5, 2], { rng });
    scope(() => {
      model.train();
      const loss = model.forward(x).sum();
      loss.backward();
    });
    for (const p of model.parameterInfo()) expect(p.tensor.grad === null, p.name).toBe(!p.trainable);
    expect(bn.namedBuffers().map(([, t]) => values(t))).toEqual(running); // unchanged in training mode
    const spec = JSON.parse(JSON.stringify(modelToConfig(model)));
    expect(spec.config.layers.map((l: { trainable?: boolean }) => l.trainable)).toEqual([false, false, undefined, undefined, undefined]);
    const again = modelFromConfig(registry, spec);
    again.build([5, 5, 2]);
    expect(again.parameterInfo().map((p) => p.trainable)).toEqual([false, false, false, false, true, true]);
    model.setTrainable(true);
    expect(model.trainableParameters().length).toBe(6);
  });

  it('a frozen backbone under a trainable head costs the memory of inference, in Sequential and Graph, with the same gradients', () => {
    // Six frozen dense+ReLU pairs (256 units, batch 64): recording would keep 12 outputs of 64 KiB.
    const frozen = (): Module[] => Array.from({ length: 6 }, () => [new Dense({ units: 256 }), new ReLU()]).flat();
    const sequential = new Sequential([new Sequential(frozen()), new Dense({ units: 3 })]);
    const graph = new Graph(
      [...frozen().map((layer, i) => ({ name: `f${i}`, layer, inputs: [i === 0 ? 'input' : `f${i - 1}`] })), { name: 'head', layer: new Dense({ units: 3 }), inputs: ['f11'] }],
      { input: 'input' },
    );
    for (const model of [sequential, graph]) {
      model.build([256], new Rng(6));
      const head = model instanceof Graph ? model.node('head')!.layer : sequential.layers[1];
      model.setTrainable(false);
      head.setTrainable(true);
      const x = keep(randn([64, 256], { rng }));
      const live = () => engine().stats().liveBytes;
      const before = live();
      const grads = scope(() => {
        const y = model.forward(x);
        const held = live() - before;
        expect(held, model.name).toBeLessThan(3 * 64 * 256 * 4); // the frozen part's last output and the head's
        y.square().sum().backward();
        return head.parameters().map((p) => values(p.grad!));
      });
      head.parameters().forEach((p) => p.zeroGrad());
      expect(live()).toBe(before); // nothing but the gradients stayed
      // The same gradients as a run that keeps every value (the frozen part computed apart).
      const reference = scope(() => {
        const hidden = noGrad(() => (model instanceof Graph ? frozenOutput(model, x) : sequential.layers[0].forward(x)));
        head.forward(hidden).square().sum().backward();
        return head.parameters().map((p) => values(p.grad!));
      });
      grads.forEach((g, i) => expectClose(g, reference[i], 1e-6));
      x.dispose();
      model.dispose();
    }
  });
});

/** The value of the last frozen node of the test graph ('f11'), by running its nodes in order. */
function frozenOutput(graph: Graph, x: Tensor): Tensor {
  let h = x;
  for (let i = 0; i < 12; i++) h = graph.node(`f${i}`)!.layer.forward(h);
  return h;
}
