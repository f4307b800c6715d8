// ONNX export checked by an independent runtime (onnxruntime-node runs the exported file),
// import of the exported file back (a round trip), real networks through both, and the bad
// files an importer meets: external data, missing initializers, unsupported ops, fuzz.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng, noGrad, rand, scope, transpose, type Tensor } from '@minibatch/core';
import {
  Add, BatchNorm, Concatenate, Conv2d, Dense, DepthwiseConv2d, Flatten, GlobalAvgPool2d, Graph, MaxPool2d, ReLU6, Sequential, Softmax, ZeroPadding2d,
  type Module,
} from '@minibatch/layers';
import { Dropout } from '@minibatch/regularizers';
import { FormatError } from '@minibatch/train';
import { exportOnnx, importOnnx, loadFaceExpressionNet, modelFiles, pretrainedRegistry } from '../src/index.js';
import { loadFile } from '../src/node.js';
import { encodeOnnx, decodeOnnx } from '../src/onnx/proto.js';
import { FACE_API_MODELS, MOBILENET_DIR, worstRelative } from './helpers.js';

const require = createRequire(import.meta.url);
type Ort = { InferenceSession: { create(bytes: Uint8Array): Promise<{ run(feeds: Record<string, unknown>): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>>; inputNames: string[]; outputNames: string[] }> }; Tensor: new (type: string, data: Float32Array, dims: number[]) => unknown };
const ort = require('onnxruntime-node') as Ort;

/** minibatch's outputs and onnxruntime's on the exported file, for one NHWC batch (fed NCHW to ORT). */
async function againstOrt(model: Module, x: Tensor): Promise<number> {
  const bytes = exportOnnx(model);
  const session = await ort.InferenceSession.create(bytes);
  const image = x.rank === 4;
  const feed = scope(() => (image ? transpose(x, [0, 3, 1, 2]) : x).data());
  const dims = image ? [x.shape[0], x.shape[3], x.shape[1], x.shape[2]] : [...x.shape];
  const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', feed, dims) });
  const theirs = result[session.outputNames[0]];
  const ours = scope(() => noGrad(() => {
    const y = model.forward(x);
    return (y.rank === 4 ? transpose(y, [0, 3, 1, 2]) : y).data();
  }));
  expect([...theirs.dims]).toEqual(theirs.dims.length === 4 ? [ours.length / sizeOf(theirs.dims.slice(1)), ...theirs.dims.slice(1)] : [x.shape[0], ...theirs.dims.slice(1)]);
  return worstRelative(ours, theirs.data);
}
const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** A small network with most exportable layers, weights drawn from a seed, BatchNorm statistics non-trivial. */
function zoo(): Graph {
  const g = new Graph([
    { name: 'pad', layer: new ZeroPadding2d({ padding: [[1, 0], [0, 1]] }), inputs: ['input'] },
    { name: 'conv', layer: new Conv2d({ filters: 8, kernelSize: 3, strides: 2, activation: 'relu' }), inputs: ['pad'] },
    { name: 'bn', layer: new BatchNorm(), inputs: ['conv'] },
    { name: 'act', layer: new ReLU6(), inputs: ['bn'] },
    { name: 'dw', layer: new DepthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'hardSwish' }), inputs: ['act'] },
    { name: 'sum', layer: new Add(), inputs: ['dw', 'act'] },
    { name: 'grouped', layer: new Conv2d({ filters: 4, kernelSize: 1, groups: 2, padding: 'same' }), inputs: ['sum'] },
    { name: 'cat', layer: new Concatenate(), inputs: ['sum', 'grouped'] },
    { name: 'pool', layer: new MaxPool2d({ poolSize: 2, padding: 'same' }), inputs: ['cat'] },
    { name: 'flat', layer: new Flatten(), inputs: ['pool'] },
    { name: 'drop', layer: new Dropout({ rate: 0.5 }), inputs: ['flat'] },
    { name: 'fc', layer: new Dense({ units: 5, activation: 'tanh' }), inputs: ['drop'] },
    { name: 'prob', layer: new Softmax(), inputs: ['fc'] },
  ]);
  g.build([11, 9, 3], new Rng(5));
  const bn = g.node('bn')!.layer;
  const rng = new Rng(6);
  for (const [, t] of bn.namedBuffers()) t.view().forEach((_, i, v) => (v[i] = 0.5 + rng.uniform()));
  return g.eval();
}

describe('ONNX export, run by onnxruntime-node', () => {
  it('a network with most exportable layers matches within 1e-4', async () => {
    const model = zoo();
    expect(await againstOrt(model, rand([3, 11, 9, 3], { rng: new Rng(1), low: -1, high: 1 }))).toBeLessThan(1e-4);
    const mlp = new Sequential([new Dense({ units: 7, activation: 'elu' }), new BatchNorm(), new Dense({ units: 3 })]);
    mlp.build([4], new Rng(2));
    expect(await againstOrt(mlp.eval(), rand([5, 4], { rng: new Rng(3) }))).toBeLessThan(1e-4);
    const global = new Sequential([new Conv2d({ filters: 4, kernelSize: 3, padding: 'same' }), new GlobalAvgPool2d(), new Dense({ units: 2 })]);
    global.build([6, 6, 2], new Rng(4));
    expect(await againstOrt(global.eval(), rand([2, 6, 6, 2], { rng: new Rng(5) }))).toBeLessThan(1e-4);
  });

  it("face-api's expression network (normalization, separable convolutions, dense-block adds) matches within 1e-4", async () => {
    const model = loadFaceExpressionNet(modelFiles({
      'manifest.json': readFileSync(join(FACE_API_MODELS(), 'face_expression_model-weights_manifest.json')),
      'face_expression_model.bin': readFileSync(join(FACE_API_MODELS(), 'face_expression_model.bin')),
    }, 'manifest.json'));
    expect(await againstOrt(model, rand([2, 112, 112, 3], { rng: new Rng(7), low: 0, high: 255 }))).toBeLessThan(1e-4);
    model.dispose();
  });

  it('MobileNetV2 from nsfwjs, exported and run by onnxruntime, matches within 1e-4; re-imported it is the same network', async () => {
    const model = await loadFile(join(MOBILENET_DIR(), 'model.min.js'));
    const x = rand([2, 224, 224, 3], { rng: new Rng(8), low: 0, high: 1 });
    expect(await againstOrt(model, x)).toBeLessThan(1e-4);
    const again = importOnnx(exportOnnx(model), pretrainedRegistry(), 'mobilenet.onnx');
    expect(again.parameterCount()).toBe(model.parameterCount());
    const [a, b] = [model, again].map((m) => scope(() => noGrad(() => m.forward(x).data())));
    expect(worstRelative(b, a)).toBeLessThan(1e-5);
    again.dispose();
    model.dispose();
  }, 120_000);

  it('refuses a layer it cannot write, naming it', () => {
    const model = new Sequential([new Dense({ units: 3, activation: 'maxout' })]);
    model.build([4]);
    expect(() => exportOnnx(model)).toThrow(/activation 'maxout' cannot be exported to ONNX/);
    expect(() => exportOnnx(new Sequential([new Dense({ units: 2 })]))).toThrow(/build the model first/);
  });
});

describe('ONNX import: bad files get a FormatError naming the problem; nothing is half-loaded', () => {
  const base = (): Uint8Array => {
    const m = new Sequential([new Conv2d({ filters: 2, kernelSize: 3, padding: 'same' }), new Flatten(), new Dense({ units: 2 })]);
    m.build([4, 4, 1], new Rng(9));
    return exportOnnx(m, { name: 'small' });
  };

  it('external data, a missing initializer, an unsupported op, and garbage', () => {
    const edit = (f: (model: ReturnType<typeof decodeOnnx>) => void): Uint8Array => {
      const model = decodeOnnx(base(), 'small');
      f(model);
      return encodeOnnx(model);
    };
    const cases: [Uint8Array, RegExp][] = [
      [edit((m) => { m.graph!.initializer![0] = { ...m.graph!.initializer![0], raw_data: undefined, data_location: 1, external_data: [{ key: 'location', value: 'w.bin' }] }; }),
        /^small\.onnx: tensor 'weight' keeps its data in an external file, which is not supported/],
      [edit((m) => { m.graph!.initializer!.splice(0, 1); }), /^small\.onnx: the graph has 2 inputs \(input, weight\)|node '.*' \(Conv\): the kernel W \('weight'\) must be an initializer/],
      [edit((m) => { m.graph!.node![0].op_type = 'DeformConv'; }), /^small\.onnx: node '.*' \(DeformConv\): op 'DeformConv' is not supported; supported: Conv, BatchNormalization/],
      [new Uint8Array([1, 2, 3, 4, 5]), /^small\.onnx: not an ONNX model/],
      // Found by the fuzzer (it was a RegistryError): attributes that make no layer.
      [edit((m) => { m.graph!.node![0].attribute!.find((a) => a.name === 'dilations')!.ints = [1, 0]; }), /^small\.onnx: node '.*' cannot be built as \w+: /],
    ];
    for (const [bytes, message] of cases) {
      expect(() => importOnnx(bytes, pretrainedRegistry(), 'small.onnx')).toThrow(FormatError);
      expect(() => importOnnx(bytes, pretrainedRegistry(), 'small.onnx')).toThrow(message);
    }
    // A missing initializer that no graph input names either.
    const missing = edit((m) => { m.graph!.initializer!.splice(0, 1); m.graph!.input = m.graph!.input!.slice(0, 1); });
    expect(() => importOnnx(missing, pretrainedRegistry(), 'small.onnx')).toThrow(/the kernel W \('weight_?\d*'\) must be an initializer or a Constant/);
  });

  it('fuzz: random bytes and mutations of a real .onnx only ever give FormatErrors (fast-check)', () => {
    const good = base();
    fc.assert(fc.property(fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.tuple(fc.nat(good.length - 1), fc.nat(255)).map(([i, v]) => good.map((b, k) => (k === i ? v : b))),
      fc.nat(good.length).map((n) => good.slice(0, n)),
    ), (bytes) => {
      try {
        importOnnx(bytes, pretrainedRegistry(), 'fuzz.onnx').dispose();
      } catch (error) {
        expect(error, String(error)).toBeInstanceOf(FormatError);
      }
    }), { seed: Number(process.env.FUZZ_SEED ?? 31), numRuns: Number(process.env.FUZZ_RUNS ?? 600) });
  });
});
