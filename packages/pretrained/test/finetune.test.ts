// Fine-tuning, CI-sized, on a real pretrained network (face-api's expression net): a new head
// on a new task, the backbone frozen, features cached; the frozen weights stay bit-identical;
// parameter groups with their own learning rates; and the errors of cut, freeze and heads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, ShapeError, concat, mul, noGrad, scope, tensor } from '@minibatch/core';
import { createDataset, loadMnist, subset, type Dataset } from '@minibatch/data';
import { Dense, GlobalAvgPool2d, Graph, Resizing } from '@minibatch/layers';
import { Adam } from '@minibatch/optimizers';
import { RegistryError } from '@minibatch/registry';
import { evaluate, fit } from '@minibatch/train';
import { cacheFeatures, cut, findLayer, finetune, freeze, isFrozen, loadFaceExpressionNet, modelFiles, replaceHead, unfreeze } from '../src/index.js';
import { FACE_API_MODELS } from './helpers.js';

const faceNet = (): Graph => loadFaceExpressionNet(modelFiles({
  'manifest.json': readFileSync(join(FACE_API_MODELS(), 'face_expression_model-weights_manifest.json')),
  'face_expression_model.bin': readFileSync(join(FACE_API_MODELS(), 'face_expression_model.bin')),
}, 'manifest.json'));

/**
 * A new small task for the face network: MNIST digits 0, 1 and 2 (a seeded draw; `part` 0 and 1
 * are disjoint), as 112×112 RGB bytes, which is what it reads.
 */
function digits(count: number, part: 0 | 1): Dataset {
  const mnist = loadMnist();
  const candidates = new Rng(7).shuffle(Array.from({ length: mnist.count }, (_, i) => i).filter((i) => mnist.y[i] <= 2));
  const small = subset(mnist, candidates.slice(part * 1000, part * 1000 + count));
  const resize = new Resizing({ height: 112, width: 112 });
  const x = scope(() => noGrad(() => {
    const big = resize.forward(tensor(small.x, [count, 28, 28, 1]));
    return mul(concat([big, big, big], 3), 255).data();
  }));
  return createDataset(x, small.y, [112, 112, 3], { classes: 3 });
}

describe('fine-tuning face-api\'s expression network on a new task', () => {
  let train: Dataset;
  let test: Dataset;
  beforeAll(() => {
    train = digits(150, 0);
    test = digits(90, 1);
  });

  it('a new head on the frozen backbone learns from cached features; the frozen weights stay bit-identical', () => {
    const net = faceNet();
    const model = replaceHead(net, 'features', [new Dense({ units: 3 })], { seed: 1 });
    freeze(model.layers[0]);
    expect(isFrozen(model.layers[0])).toBe(true);
    const before = model.layers[0].parameters().map((p) => p.data());
    const history = finetune(model, train, { epochs: 12, batchSize: 32, seed: 2, optimizer: new Adam(undefined, { lr: 0.01 }) });
    expect(history.cached).toBe(true);
    const losses = history.epochs.map((e) => e.loss);
    expect(losses.at(-1)!).toBeLessThan(losses[0] * 0.5);
    expect(evaluate(model, test).accuracy).toBeGreaterThan(0.8);
    model.layers[0].parameters().forEach((p, i) => expect(p.data()).toEqual(before[i]));
    net.dispose();
  });

  it('without caching (augmentation, or cache: false) trains the same head to nearly the same weights', () => {
    const heads = [true, false].map((cache) => {
      const net = faceNet();
      const model = replaceHead(net, 'features', [new Dense({ units: 3 })], { seed: 1 });
      freeze(model.layers[0]);
      const h = finetune(model, train, { epochs: 2, batchSize: 50, seed: 2, optimizer: new Adam(undefined, { lr: 0.01 }), cache });
      expect(h.cached).toBe(cache);
      const w = model.layers[1].parameters().map((p) => Array.from(p.data()));
      net.dispose();
      return w;
    });
    heads[0].forEach((w, i) => w.forEach((v, j) => expect(v).toBeCloseTo(heads[1][i][j], 4)));
  });

  it('unfreezes the top blocks to fine-tune them at a lower learning rate (parameter groups), which a state dict restores', () => {
    const net = faceNet();
    const model = replaceHead(net, 'features', [new Dense({ units: 3 })], { seed: 1 });
    freeze(model.layers[0]);
    unfreeze(model, { from: 'dense3_conv0' });
    const backbone = model.layers[0].trainableParameters();
    expect(backbone.length).toBe(12); // dense3: conv0–conv3, a depthwise and a pointwise kernel and a bias each
    const head = model.layers[1].parameters();
    const groups = () => new Adam([{ params: backbone, lr: 1e-4, name: 'backbone' }, { params: head, lr: 1e-3, name: 'head' }]);
    const optimizer = groups();
    const frozenBefore = model.layers[0].parameterInfo().filter((p) => !p.trainable).map((p) => p.tensor.data());
    const history = fit(model, train, { epochs: 2, batchSize: 30, seed: 3, optimizer });
    expect(history.epochs[1].loss).toBeLessThan(history.epochs[0].loss);
    expect(optimizer.groups.map((g) => g.options.lr)).toEqual([1e-4, 1e-3]);
    model.layers[0].parameterInfo().filter((p) => !p.trainable).forEach((p, i) => expect(p.tensor.data()).toEqual(frozenBefore[i]));
    const restored = groups();
    restored.loadStateDict(optimizer.stateDict());
    expect(restored.steps).toBe(optimizer.steps);
    expect(restored.stateDict()).toEqual(optimizer.stateDict());
    net.dispose();
  });
});

describe('cut, replaceHead, freeze: names and shapes checked', () => {
  it('cut shares weights and stops at the named layer; findLayer knows paths and did-you-mean', () => {
    const net = faceNet();
    const backbone = cut(net, 'dense2_out');
    expect(backbone.builtInputShape).toEqual([112, 112, 3]);
    expect(backbone.outputShape([112, 112, 3])).toEqual([14, 14, 128]);
    expect(backbone.parameters()[0]).toBe(net.parameters()[0]);
    expect(findLayer(net, 'dense1_conv2').path).toBe('dense1_conv2');
    const headed = replaceHead(net, 'dense2_out', [new GlobalAvgPool2d(), new Dense({ units: 2 })]);
    expect(findLayer(headed, '0.dense1_conv2').module).toBe(net.node('dense1_conv2')!.layer);
    expect(() => findLayer(net, 'dense1_cnv2')).toThrow(RegistryError);
    expect(() => findLayer(net, 'dense1_cnv2')).toThrow(/no layer 'dense1_cnv2' in the model — did you mean 'dense1_conv2'\?/);
    expect(() => freeze(net, { upTo: 'dense9_out' })).toThrow(/no layer 'dense9_out'/);
    expect(() => cut(net, 'poool')).toThrow(/did you mean 'pool'\?/);
    net.dispose();
  });

  it('refuses a head that does not fit the cut point, saying what does', () => {
    const net = faceNet();
    expect(() => replaceHead(net, 'dense2_out', [new Dense({ units: 2 })])).toThrow(ShapeError);
    expect(() => replaceHead(net, 'dense2_out', [new Dense({ units: 2 })])).toThrow(
      /replaceHead: the head does not fit the cut at 'dense2_out', whose output is \[14, 14, 128\] per sample: .*start the head with 'globalAvgPool2d' or 'flatten'/,
    );
    net.dispose();
  });

  it('freeze up to a layer freezes everything before it in order; caching needs a frozen backbone', () => {
    const net = faceNet();
    freeze(net, { upTo: 'dense1_out' });
    expect(net.node('dense1_conv3')!.layer.trainable).toBe(false);
    expect(net.node('dense2_conv0')!.layer.trainable).toBe(true);
    const model = replaceHead(net, 'features', [new Dense({ units: 3 })]);
    expect(() => finetune(model, createDataset(new Float32Array(112 * 112 * 3), new Int32Array([0]), [112, 112, 3], { classes: 3 }), {
      epochs: 1, optimizer: new Adam(undefined, { lr: 0.01 }), cache: true,
    })).toThrow(/caching features needs a frozen backbone/);
    const features = cacheFeatures(cut(net, 'features'), createDataset(new Float32Array(2 * 112 * 112 * 3).fill(100), new Int32Array([0, 1]), [112, 112, 3], { classes: 2 }));
    expect(features.shape).toEqual([256]);
    expect(features.count).toBe(2);
    net.dispose();
  });
});


