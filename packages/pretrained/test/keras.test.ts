// TF.js layers models written by TF.js itself (tf.sequential / tf.model, saved through a save
// handler), imported and run against TF.js: Sequential and functional topologies, every layer
// class the importer claims, quantized weights, and the files a careless writer produces.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng, engine, noGrad, rand, scope } from '@minibatch/core';
import { FormatError } from '@minibatch/train';
import { load, modelFiles, readTfjsWeights } from '../src/index.js';
import { tfjs, worstRelative } from './helpers.js';

type Tf = Awaited<ReturnType<typeof tfjs>>;
type Artifacts = { modelTopology: unknown; weightSpecs: { name: string; shape: number[]; dtype: string }[]; weightData: ArrayBuffer };

/** The artifacts TF.js writes for a model (topology, weight specs, one binary buffer). */
async function saved(model: { save(handler: unknown): Promise<unknown> }, tf: Tf): Promise<Artifacts> {
  let artifacts: Artifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a: unknown) => {
    artifacts = a as Artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return artifacts!;
}

function files(a: Artifacts, manifest: unknown = [{ paths: ['w.bin'], weights: a.weightSpecs }], weights: Uint8Array = new Uint8Array(a.weightData)) {
  return modelFiles({ 'model.json': JSON.stringify({ modelTopology: a.modelTopology, weightsManifest: manifest }), 'w.bin': weights }, 'model.json');
}

/** Ours and TF.js's outputs for the same random input. */
async function compare(tfModel: { predict(x: unknown): unknown }, a: Artifacts, inputShape: number[], tf: Tf): Promise<number> {
  const ours = load(files(a));
  const x = rand([3, ...inputShape], { rng: new Rng(9), low: -1, high: 1 });
  const mine = scope(() => noGrad(() => ours.forward(x).data()));
  const theirs = (tfModel.predict(tf.tensor(x.data(), [3, ...inputShape])) as { dataSync(): Float32Array }).dataSync();
  ours.dispose();
  return worstRelative(mine, theirs);
}

describe('TF.js layers models written by TF.js', () => {
  it('a Sequential CNN with every single-input layer class the importer claims', async () => {
    const tf = await tfjs();
    const L = tf.layers;
    const model = tf.sequential({ layers: [
      L.zeroPadding2d({ inputShape: [12, 12, 3], padding: [[1, 0], [0, 1]] }),
      L.conv2d({ filters: 8, kernelSize: 3, strides: 2, activation: 'relu' }),
      L.batchNormalization({ momentum: 0.9, epsilon: 1e-3 }),
      L.reLU({ maxValue: 6 }),
      L.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 2, useBias: true }),
      L.leakyReLU({ alpha: 0.1 }),
      L.separableConv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'sigmoid' }),
      L.upSampling2d({ size: [2, 2] }),
      L.maxPooling2d({ poolSize: 2 }),
      L.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
      L.activation({ activation: 'tanh' }),
      L.reshape({ targetShape: [6, 6 * 6] }),
      L.flatten(),
      L.dropout({ rate: 0.3 }),
      L.dense({ units: 5, activation: 'softmax' }),
    ] });
    // Nonzero BatchNorm statistics, so they are really read.
    const bn = model.layers[2];
    bn.setWeights(bn.getWeights().map((w, i) => tf.randomUniform(w.shape, i === 3 ? 0.5 : -0.5, i === 3 ? 2 : 0.5)));
    expect(await compare(model, await saved(model, tf), [12, 12, 3], tf)).toBeLessThan(1e-4);
  });

  it('a functional model with residual adds, concatenation, global pooling and a frozen layer', async () => {
    const tf = await tfjs();
    const L = tf.layers;
    const input = tf.input({ shape: [8, 8, 4] });
    const a = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'a' }).apply(input) as never;
    const sum = L.add({ name: 'sum' }).apply([a, input]) as never;
    const b = L.conv2d({ filters: 3, kernelSize: 1, name: 'b', trainable: false }).apply(sum) as never;
    const both = L.concatenate({ axis: -1, name: 'both' }).apply([sum, b]) as never;
    const pooled = L.globalAveragePooling2d({ name: 'pool' }).apply(both) as never;
    const out = L.dense({ units: 3, name: 'logits' }).apply(pooled) as never;
    const model = tf.model({ inputs: input, outputs: out });
    const a2 = await saved(model, tf);
    expect(await compare(model, a2, [8, 8, 4], tf)).toBeLessThan(1e-4);
    const ours = load(files(a2));
    expect(ours.namedParameters().map(([n]) => n)).toEqual(['a.weight', 'a.bias', 'b.weight', 'b.bias', 'logits.weight', 'logits.bias']);
    expect(ours.parameterInfo().filter((p) => !p.trainable).map((p) => p.name)).toEqual(['b.weight', 'b.bias']);
    ours.dispose();
  });

  it('dequantizes uint8 and uint16 weights (q·scale + min) and widens float16, as TF.js decodes them', async () => {
    const tf = await tfjs();
    const rng = new Rng(4);
    const values = Array.from({ length: 40 }, () => rng.normal());
    const u8 = new Uint8Array(40).map((_, i) => Math.round(((values[i] + 3) / 6) * 255));
    const u16 = new Uint16Array(40).map((_, i) => Math.round(((values[i] + 3) / 6) * 65535));
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0x8400]);
    const specs = [
      { name: 'a', shape: [5, 8], dtype: 'float32', quantization: { dtype: 'uint8', scale: 6 / 255, min: -3 } },
      { name: 'b', shape: [40], dtype: 'float32', quantization: { dtype: 'uint16', scale: 6 / 65535, min: -3 } },
      { name: 'c', shape: [2, 3], dtype: 'float32', quantization: { dtype: 'float16' } },
      { name: 'd', shape: [2], dtype: 'int32' },
    ];
    const bytes = new Uint8Array([...u8, ...new Uint8Array(u16.buffer), ...new Uint8Array(f16.buffer), ...new Uint8Array(new Int32Array([7, -3]).buffer)]);
    const ours = readTfjsWeights(modelFiles({ 'm.json': JSON.stringify([{ paths: ['m.bin'], weights: specs }]), 'm.bin': bytes }, 'm.json'));
    const theirs = tf.io.decodeWeights(bytes.slice().buffer, specs as never);
    for (const { name } of specs) expect(Array.from(ours.get(name)!.data), name).toEqual(Array.from(theirs[name].dataSync()));
    expect([...ours.values()].map((w) => w.stored)).toEqual(['uint8', 'uint16', 'float16', 'int32']);
  });
});

describe('bad files: a clear FormatError, nothing half-loaded', () => {
  async function small(): Promise<Artifacts> {
    const tf = await tfjs();
    const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [4, 4, 2], filters: 2, kernelSize: 3 }), tf.layers.flatten(), tf.layers.dense({ units: 2 })] });
    return saved(model, tf);
  }

  it('names the problem: truncated shard, byte counts that disagree, unknown dtype or quantization, unsupported layer class, missing shard', async () => {
    const a = await small();
    // TF.js writes the Keras config itself as modelTopology (Python's converter wraps it in model_config).
    const lambda = structuredClone(a.modelTopology) as { config: { layers: { class_name: string }[] } };
    lambda.config.layers[1].class_name = 'Lambda';
    const cases: [ReturnType<typeof files>, RegExp][] = [
      [files(a, undefined, new Uint8Array(a.weightData).subarray(0, 100)), /^model\.json: group 0 \(w\.bin\): the manifest's weights need 224 bytes but the shards hold 100 \(a shard is truncated or missing\)$/],
      [files(a, [{ paths: ['w.bin'], weights: a.weightSpecs.map((w, i) => (i === 0 ? { ...w, shape: [3, 3, 2, 3] } : w)) }]), /the manifest's weights need 296 bytes but the shards hold 224/],
      [files(a, [{ paths: ['w.bin'], weights: a.weightSpecs.map((w, i) => (i === 1 ? { ...w, dtype: 'float64' } : w)) }]), /group 0, weight 'conv2d_\w+\/bias': dtype "float64" is not supported \(float32 or int32\)/],
      [files(a, [{ paths: ['w.bin'], weights: a.weightSpecs.map((w, i) => (i === 1 ? { ...w, quantization: { dtype: 'int4', scale: 1, min: 0 } } : w)) }]), /quantization dtype "int4" is not supported \(uint8, uint16, float16\)/],
      [files({ ...a, modelTopology: lambda }), /^model\.json: layer 'flatten_\w+' \(Lambda\): layer class 'Lambda' is not supported; supported: InputLayer, Conv2D/],
      [files(a, [{ paths: ['w.bin', 'w2.bin'], weights: a.weightSpecs }]), /^model\.json refers to 'w2\.bin', which was not given/],
      // Found by the fuzzer (it was a TypeError): a Sequential topology without its config.
      [files({ ...a, modelTopology: { class_name: 'Sequential', onfig: {} } }), /^model\.json: the model config has no layers/],
    ];
    const before = engine().stats().liveBytes;
    for (const [f, message] of cases) {
      expect(() => load(f)).toThrow(FormatError);
      expect(() => load(f)).toThrow(message);
    }
    expect(engine().stats().liveBytes).toBe(before); // every half-built model was freed
  });

  it('refuses weights that do not fit, listing every problem', async () => {
    const a = await small();
    const renamed = a.weightSpecs.map((w, i) => (i === 2 ? { ...w, name: 'dense_x/kernel' } : w));
    expect(() => load(files(a, [{ paths: ['w.bin'], weights: renamed }]))).toThrow(/the weights do not fit the model; nothing was loaded:\n {2}- no weight for dense_\w+\.weight \[8, 2\].*\n {2}- weights no layer uses: dense_x\/kernel/);
  });

  it('fuzz: random bytes and mutations of a real model.json only ever give FormatErrors (fast-check)', async () => {
    const a = await small();
    const text = JSON.stringify({ modelTopology: a.modelTopology, weightsManifest: [{ paths: ['w.bin'], weights: a.weightSpecs }] });
    const bin = new Uint8Array(a.weightData);
    fc.assert(fc.property(fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((b) => ({ json: b, bin })),
      fc.tuple(fc.nat(text.length - 1), fc.integer({ min: 32, max: 126 })).map(([i, c]) => ({ json: new TextEncoder().encode(text.slice(0, i) + String.fromCharCode(c) + text.slice(i + 1)), bin })),
      fc.nat(bin.length).map((n) => ({ json: new TextEncoder().encode(text), bin: bin.subarray(0, n) })),
      fc.tuple(fc.nat(bin.length - 1), fc.nat(255)).map(([i, v]) => ({ json: new TextEncoder().encode(text), bin: bin.map((b, k) => (k === i ? v : b)) })),
    ), ({ json, bin: weights }) => {
      try {
        load(modelFiles({ 'model.json': json, 'w.bin': weights }, 'model.json')).dispose();
      } catch (error) {
        expect(error, String(error)).toBeInstanceOf(FormatError);
      }
    }), { seed: Number(process.env.FUZZ_SEED ?? 12), numRuns: Number(process.env.FUZZ_RUNS ?? 400) });
  });
});
