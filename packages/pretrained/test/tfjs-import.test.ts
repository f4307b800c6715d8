// Real pretrained networks from npm packages, imported and checked against TF.js running the
// same files on the same inputs: nsfwjs's MobileNetV2 (a TF.js layers model, uint8 weights)
// and face-api's expression network (a bare weights manifest; its architecture is code).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, noGrad, rand, scope, softmax, type Tensor } from '@minibatch/core';
import { Graph } from '@minibatch/layers';
import { cut, inspect, loadFaceExpressionNet, modelFiles, type Inspection } from '../src/index.js';
import { inspectFile, loadFile, readModelFiles } from '../src/node.js';
import { FACE_API_MODELS, MOBILENET_DIR, faceApi, tfjs, worstRelative } from './helpers.js';

/** The relative tolerance of the issue: outputs and features within 1e-4 of TF.js's. */
const RTOL = 1e-4;

describe('MobileNetV2 from nsfwjs (TF.js layers model, uint8 weights, .min.js wrappers)', () => {
  let model: Graph;
  let x: Tensor;
  beforeAll(async () => {
    model = (await loadFile(join(MOBILENET_DIR(), 'model.min.js'))) as Graph;
    x = rand([2, 224, 224, 3], { rng: new Rng(1), low: 0, high: 1 });
  });

  it('imports as an ordinary Graph: Keras layer names, 2.6 M parameters, its 98 non-trainable layers frozen', () => {
    expect(model).toBeInstanceOf(Graph);
    expect(model.builtInputShape).toEqual([224, 224, 3]);
    expect(model.parameterCount()).toBe(2_585_349);
    expect(model.node('block_12_add')?.layer.name).toBe('add');
    expect(model.node('Conv1_relu')?.layer.name).toBe('relu6');
    const frozen = model.nodes.filter((n) => !n.layer.trainable).map((n) => n.name);
    expect(frozen.length).toBe(98);
    expect(frozen.at(-1)).toBe('block_10_project_BN');
    expect(model.node('block_11_expand')?.layer.trainable).toBe(true);
    expect(model.training).toBe(false);
  });

  it('gives TF.js\'s outputs and features at three named layers within 1e-4 relative', async () => {
    const tf = await tfjs();
    const files = await readModelFiles(join(MOBILENET_DIR(), 'model.min.js'));
    const json = JSON.parse(new TextDecoder().decode(files.bytes));
    const shard = files.sibling('group1-shard1of1');
    const reference = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: shard.slice().buffer,
    }));
    const taps = ['expanded_conv_project_BN', 'block_12_add', 'out_relu'];
    const probe = tf.model({ inputs: reference.inputs, outputs: [...taps.map((n) => reference.getLayer(n).output as never), reference.outputs[0]] });
    const theirs = (probe.predict(tf.tensor4d(x.data(), [2, 224, 224, 3])) as { dataSync(): Float32Array }[]).map((t) => t.dataSync());
    const ours = [...taps.map((n) => cut(model, n)), model].map((m) => scope(() => noGrad(() => m.forward(x).data())));
    ours.forEach((values, i) => {
      const label = i < taps.length ? taps[i] : 'output';
      expect(values.length, label).toBe(theirs[i].length);
      expect(worstRelative(values, theirs[i]), label).toBeLessThan(RTOL);
    });
  }, 120_000);

  it('inspects the file: format, layers, stored scalars (BatchNorm statistics included), quantization', async () => {
    const info: Inspection = await inspectFile(join(MOBILENET_DIR(), 'model.min.js'));
    expect(info).toMatchObject({ format: 'tfjs-layers', parameters: 2_619_461, inputShape: [224, 224, 3], quantization: ['uint8'], preprocessing: null });
    expect(info.layers.length).toBe(162);
    expect(info.layers.find((l) => l.name === 'Conv1')).toEqual({ name: 'Conv1', type: 'Conv2D', parameters: 864 });
  });
});

describe("face-api's expression network (a weights manifest; the architecture defined in TypeScript)", () => {
  const files = () => modelFiles({
    'face_expression_model-weights_manifest.json': readFileSync(join(FACE_API_MODELS(), 'face_expression_model-weights_manifest.json')),
    'face_expression_model.bin': readFileSync(join(FACE_API_MODELS(), 'face_expression_model.bin')),
  }, 'face_expression_model-weights_manifest.json');

  it("gives face-api's own expression probabilities and features (its code, on TF.js's cpu backend) within 1e-4", async () => {
    const api = await faceApi();
    const manifest = JSON.parse(readFileSync(join(FACE_API_MODELS(), 'face_expression_model-weights_manifest.json'), 'utf8'));
    const bin = readFileSync(join(FACE_API_MODELS(), 'face_expression_model.bin'));
    const net = new api.FaceExpressionNet();
    net.loadFromWeightMap(api.tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length), manifest[0].weights));
    const model = loadFaceExpressionNet(files());
    expect(model.parameterCount()).toBe(323_687);
    const x = rand([3, 112, 112, 3], { rng: new Rng(2), low: 0, high: 255 });
    const input = await api.toNetInput(api.tf.unstack(api.tf.tensor4d(x.data(), [3, 112, 112, 3])));
    const theirs = net.forwardInput(input).dataSync();
    const theirFeatures = net.faceFeatureExtractor.forwardInput(input).dataSync();
    const ours = scope(() => noGrad(() => softmax(model.forward(x)).data()));
    const features = scope(() => noGrad(() => cut(model, 'pool').forward(x).data()));
    expect(worstRelative(ours, theirs)).toBeLessThan(RTOL);
    expect(worstRelative(features, theirFeatures)).toBeLessThan(RTOL);
    model.dispose();
  }, 60_000);

  it('inspects a manifest without topology as its list of tensors', () => {
    const info = inspect(files());
    expect(info.format).toBe('tfjs-weights');
    expect(info.parameters).toBe(323_687);
    expect(info.inputShape).toBeNull();
    expect(info.quantization).toEqual(['float32', 'uint8']);
    expect(info.layers[0]).toEqual({ name: 'dense0/conv0/filters', type: 'tensor', parameters: 864, shape: [3, 3, 3, 32] });
  });
});


