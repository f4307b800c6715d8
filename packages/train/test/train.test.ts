import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng, mul, noGrad, relu, square, sum, tensor } from '@minibatch/core';
import { DataLoader, createDataset, type Dataset } from '@minibatch/data';
import { layers, losses, modelFromConfig } from '@minibatch/layers';
import { Adam, SGD, optimizers } from '@minibatch/optimizers';
import { createRegistry, define, z } from '@minibatch/registry';
import {
  type EpochLogs, type PenaltyTerm, FormatError, correctCount, decodeModel, decodeSafetensors, encodeModel, encodeSafetensors, evaluate, fit, predict, topKCount, trainStep,
} from '../src/index.js';
import { loadModel, saveModel } from '../src/node.js';

const registry = createRegistry().use(layers).use(optimizers);

/** Three Gaussian blobs in 4-D: linearly separable, so a small MLP reaches ~100%. */
function blobs(count: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = new Float32Array(count * 4);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    y[i] = i % 3;
    for (let d = 0; d < 4; d++) x[i * 4 + d] = (d === y[i] ? 3 : 0) + rng.normal() * 0.7;
  }
  return createDataset(x, y, [4], { classes: 3 });
}

const mlp = () =>
  modelFromConfig(registry, [
    { name: 'dense', config: { units: 16, activation: 'relu', seed: 1 } },
    { name: 'dense', config: { units: 3, seed: 2 } },
  ]);

describe('fit', () => {
  it('lowers the loss, reports metrics and validation per epoch, and calls back', () => {
    const model = mlp();
    const batches: number[] = [];
    const epochs: number[] = [];
    let ended = false;
    const history = fit(model, blobs(300, 1), {
      epochs: 5, batchSize: 32, seed: 3, validation: blobs(90, 2), metrics: ['accuracy', 'top2'],
      optimizer: new Adam(undefined, { lr: 0.01 }),
      callbacks: { onBatchEnd: (b) => batches.push(b.batch), onEpochEnd: (e) => void epochs.push(e.epoch), onTrainEnd: () => (ended = true) },
    });
    expect(history.epochs).toHaveLength(5);
    const [first, last] = [history.epochs[0], history.epochs[4]];
    expect(last.loss).toBeLessThan(first.loss * 0.5);
    expect(last.accuracy).toBeGreaterThan(0.95);
    expect(last.val_accuracy).toBeGreaterThan(0.95);
    expect(last.top2).toBeGreaterThanOrEqual(last.accuracy);
    expect(last.samples_per_s).toBeGreaterThan(0);
    expect(epochs).toEqual([1, 2, 3, 4, 5]);
    expect(batches.length).toBe(5 * Math.ceil(300 / 32));
    expect(ended).toBe(true);
    expect(model.training).toBe(false);
    model.dispose();
  });

  it('is reproducible: the same seed gives the same history', () => {
    const run = () => {
      const model = mlp();
      const h = fit(model, blobs(120, 4), { epochs: 2, batchSize: 16, seed: 9, optimizer: new SGD(undefined, { lr: 0.1, momentum: 0.9 }) });
      model.dispose();
      return h.epochs.map((e) => e.loss);
    };
    expect(run()).toEqual(run());
  });

  it('is a loop of trainStep: the same batches stepped by hand give the same weights and losses', () => {
    const data = blobs(100, 5);
    const viaFit = mlp();
    const fitLosses: number[] = [];
    fit(viaFit, data, { epochs: 2, batchSize: 25, seed: 7, optimizer: new Adam(undefined, { lr: 0.01 }), callbacks: { onBatchEnd: (b) => void fitLosses.push(b.loss) } });
    const byHand = mlp();
    byHand.build(data.shape, new Rng(7));
    byHand.train();
    const optimizer = new Adam(byHand.trainableParameters(), { lr: 0.01 });
    const loader = new DataLoader(data, { batchSize: 25, seed: 7, shuffle: true });
    const stepped: number[] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      for (const batch of loader) {
        const result = trainStep(byHand, batch, { loss: losses.softmaxCrossEntropy(), optimizer, scores: true });
        expect(result.scores).toHaveLength(25 * 3);
        expect(result.penalty).toBe(0);
        stepped.push(result.loss);
      }
    }
    expect(stepped).toEqual(fitLosses);
    // An optimizer over nothing would train nothing, silently: refused.
    const [batch] = new DataLoader(data, { batchSize: 25 });
    expect(() => trainStep(byHand, batch, { loss: losses.softmaxCrossEntropy(), optimizer: new Adam() })).toThrow(/the optimizer has no parameters to update; create it over model.trainableParameters\(\)/);
    const weights = (m: typeof viaFit) => m.parameters().map((p) => Array.from(p.data()));
    expect(weights(byHand)).toEqual(weights(viaFit));
    viaFit.dispose();
    byHand.dispose();
    optimizer.dispose();
  });

  it('builds an unbuilt model from the run seed', () => {
    const weightsAfter = (seed: number) => {
      const model = modelFromConfig(registry, [{ name: 'dense', config: { units: 3 } }]);
      fit(model, blobs(30, 1), { epochs: 1, seed, optimizer: new SGD(undefined, { lr: 0 }) });
      const w = Array.from(model.parameters()[0].data());
      model.dispose();
      return w;
    };
    expect(weightsAfter(5)).toEqual(weightsAfter(5));
    expect(weightsAfter(5)).not.toEqual(weightsAfter(6));
  });

  it('takes the optimizer and loss as registry specs, and stops early on request', () => {
    const model = mlp();
    const history = fit(model, blobs(60, 5), {
      epochs: 10, batchSize: 20, registry,
      optimizer: { kind: 'optimizer', name: 'adam', config: { lr: 0.01 } },
      loss: { kind: 'loss', name: 'softmaxCrossEntropy', config: { labelSmoothing: 0.1 } },
      callbacks: { onEpochEnd: (logs) => logs.epoch < 3 },
    });
    expect(history.epochs).toHaveLength(3);
    expect(history.stopped).toBe(true);
    model.dispose();
  });

  it('says what to do when the loss diverges', () => {
    const model = mlp();
    expect(() => fit(model, blobs(60, 6), { epochs: 3, optimizer: new SGD(undefined, { lr: 1e6 }) }))
      .toThrow(/learning rate is probably too high/);
    model.dispose();
  });

  it('validates its options', () => {
    const model = mlp();
    expect(() => fit(model, blobs(30, 1), { epochs: 0, optimizer: new SGD(undefined, { lr: 0.1 }) })).toThrow(/epochs must be a positive integer, got 0/);
    expect(() => fit(model, blobs(30, 1), { epochs: 1, optimizer: { kind: 'optimizer', name: 'adam', config: {} } })).toThrow(/needs options.registry/);
    expect(() => fit(model, blobs(30, 1), { epochs: 1, metrics: ['precision' as never], optimizer: new SGD(undefined, { lr: 0.1 }) })).toThrow(/unknown metric 'precision'/);
    model.dispose();
  });
});

describe('fit with regularization (penalties and constraints)', () => {
  // Stand-ins with the shape of @minibatch/regularizers' l2 and nonNegative (train does not
  // depend on that package): a penalty is penalty(model) → scalar tensor, a constraint is
  // constrain(model), applied in place.
  const weightsOf = (model: ReturnType<typeof mlp>) => model.parameterInfo().filter((p) => p.kind === 'weight').map((p) => p.tensor);
  const l2 = (lambda: number): PenaltyTerm => ({
    penalty: (model) => weightsOf(model as ReturnType<typeof mlp>).map((w) => mul(sum(square(w)), lambda / 2)).reduce((a, b) => a.add(b)),
  });
  const weightNorm = (model: ReturnType<typeof mlp>) => Math.sqrt(weightsOf(model).reduce((a, w) => a + Array.from(w.data()).reduce((s, v) => s + v * v, 0), 0));

  it("keeps 'loss' the data loss and reports the penalty term beside it, per epoch and per batch", () => {
    const run = (regularization?: PenaltyTerm[]) => {
      const model = mlp();
      const batches: { loss: number; penalty?: number; size: number }[] = [];
      const h = fit(model, blobs(100, 11), {
        epochs: 2, batchSize: 32, seed: 4, optimizer: new SGD(undefined, { lr: 0.1 }), regularization,
        callbacks: { onBatchEnd: (b) => void batches.push(b) },
      });
      model.dispose();
      return { epochs: h.epochs, batches };
    };
    // A constant penalty has no gradient: training is unchanged, 'loss' is identical, 'penalty' is the constant.
    const plain = run();
    const constant = run([{ penalty: () => tensor(5) }]);
    expect(constant.epochs.map((e) => e.loss)).toEqual(plain.epochs.map((e) => e.loss));
    expect(constant.epochs.map((e) => e.penalty)).toEqual([5, 5]);
    expect(constant.batches.every((b) => b.penalty === 5)).toBe(true);
    expect('penalty' in plain.epochs[0]).toBe(false);
    expect(plain.batches.every((b) => b.penalty === undefined)).toBe(true);
    // A real penalty: the epoch figure is the batch-size-weighted mean of the batch figures.
    const penalized = run([l2(0.05)]);
    const firstEpoch = penalized.batches.slice(0, 4);
    const mean = firstEpoch.reduce((a, b) => a + b.penalty! * b.size, 0) / 100;
    expect(penalized.epochs[0].penalty).toBeCloseTo(mean, 6);
    expect(penalized.epochs[0].penalty).toBeGreaterThan(0);
  });

  it('adds the penalty to the objective (weights shrink) and applies constraints after every step', () => {
    const train = (regularization: NonNullable<Parameters<typeof fit>[2]['regularization']>) => {
      const model = mlp();
      let calls = 0;
      const logs: EpochLogs[] = [];
      fit(model, blobs(90, 12), {
        epochs: 3, batchSize: 30, seed: 5, optimizer: new SGD(undefined, { lr: 0.1 }),
        regularization: [...regularization, { constrain: () => void calls++ }],
        callbacks: { onEpochEnd: (l) => void logs.push(l) },
      });
      const norm = weightNorm(model);
      const allNonNegative = weightsOf(model).every((w) => Array.from(w.data()).every((v) => v >= 0));
      model.dispose();
      return { norm, calls, allNonNegative, logs };
    };
    const free = train([]);
    const strong = train([l2(0.5)]);
    expect(strong.norm).toBeLessThan(0.8 * free.norm);
    expect(strong.logs[2].loss).toBeGreaterThan(free.logs[2].loss); // regularization costs training fit
    expect(free.calls).toBe(3 * 3); // once per batch
    const nonNegative = { constrain: (model: ReturnType<typeof mlp>) => noGrad(() => weightsOf(model).forEach((w) => w.assign(relu(w)))) };
    const clipped = train([nonNegative as never]);
    expect(clipped.allNonNegative).toBe(true);
    expect(free.allNonNegative).toBe(false);
  });

  it('resolves registry specs and names of kind regularizer, and says what is wrong', () => {
    const withToy = createRegistry().use(layers).use(optimizers).register(
      define('regularizer', 'toyL2', z.object({ lambda: z.number() }), (c) => l2(c.lambda)),
    );
    const model = mlp();
    const h = fit(model, blobs(30, 13), { epochs: 1, optimizer: new SGD(undefined, { lr: 0.1 }), registry: withToy, regularization: [{ kind: 'regularizer', name: 'toyL2', config: { lambda: 0.1 } }] });
    expect(h.epochs[0].penalty).toBeGreaterThan(0);
    expect(() => fit(model, blobs(30, 13), { epochs: 1, optimizer: new SGD(undefined, { lr: 0.1 }), regularization: ['toyL2'] })).toThrow(/regularization\[0\] is given by name; it needs options.registry/);
    expect(() => fit(model, blobs(30, 13), { epochs: 1, optimizer: new SGD(undefined, { lr: 0.1 }), registry: withToy, regularization: ['toyL3'] })).toThrow(/unknown regularizer 'toyL3' — did you mean 'toyL2'/);
    expect(() => fit(model, blobs(30, 13), { epochs: 1, optimizer: new SGD(undefined, { lr: 0.1 }), regularization: [{ apply: () => 0 } as never] })).toThrow(/regularization\[0\] has neither penalty\(model\) nor constrain\(model\)/);
    model.dispose();
  });
});

describe('evaluate and predict', () => {
  it('agree with each other and with the metric helpers', () => {
    const model = mlp();
    const data = blobs(50, 7);
    fit(model, blobs(300, 8), { epochs: 3, optimizer: new Adam(undefined, { lr: 0.01 }) });
    const scores = predict(model, data, { batchSize: 7 });
    expect(scores.length).toBe(50 * 3);
    const result = evaluate(model, data, { batchSize: 11, metrics: ['accuracy'] });
    expect(result.accuracy).toBeCloseTo(correctCount(scores, data.y, 3) / 50, 10);
    const probs = predict(model, data, { probabilities: true });
    for (let r = 0; r < 50; r++) expect(probs[3 * r] + probs[3 * r + 1] + probs[3 * r + 2]).toBeCloseTo(1, 5);
    const loss = losses.softmaxCrossEntropy();
    expect(result.loss).toBeGreaterThan(0);
    expect(Number.isFinite(result.loss) && loss.name === 'softmaxCrossEntropy').toBe(true);
    model.dispose();
  });

  it('top-k counts by rank', () => {
    const scores = new Float32Array([0.1, 0.5, 0.4, 0.9, 0.05, 0.05]);
    expect(correctCount(scores, [1, 0], 3)).toBe(2);
    expect(topKCount(scores, [2, 1], 3, 1)).toBe(0);
    expect(topKCount(scores, [2, 0], 3, 2)).toBe(2);
    expect(topKCount(scores, [0, 1], 3, 2)).toBe(1); // row 0: 0.1 is third
    // Ties straddling the boundary count as hits (as TF's in_top_k): 0.05 ties for second.
    expect(topKCount(scores, [2, 1], 3, 2)).toBe(2);
  });
});

describe('safetensors', () => {
  it('round-trips tensors and metadata, 8-byte aligned', () => {
    const bytes = encodeSafetensors({ b: { shape: [2], data: new Float32Array([1, -2]) }, a: { shape: [1, 3], data: new Float32Array([0.5, 1e-8, 3e38]) } }, { note: 'hi' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual({ note: 'hi', checksum: expect.stringMatching(/^crc32:[0-9a-f]{8}$/) });
    expect(back.checksum).toBe('verified');
    expect(back.tensors.a.shape).toEqual([1, 3]);
    expect(Array.from(back.tensors.a.data)).toEqual(Array.from(new Float32Array([0.5, 1e-8, 3e38])));
    expect(Array.from(back.tensors.b.data)).toEqual([1, -2]);
  });

  it('reads a file written by the reference format by hand', () => {
    // header {"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} followed by 1.0, 2.0
    const header = new TextEncoder().encode('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}');
    const bytes = new Uint8Array(8 + header.length + 8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    new DataView(bytes.buffer).setFloat32(8 + header.length, 1, true);
    new DataView(bytes.buffer).setFloat32(8 + header.length + 4, 2, true);
    expect(Array.from(decodeSafetensors(bytes).tensors.x.data)).toEqual([1, 2]);
  });

  it('rejects truncated and foreign files with a reason', () => {
    const bytes = encodeSafetensors({ w: { shape: [4], data: new Float32Array(4) } });
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4), 'w.safetensors')).toThrow(/^w.safetensors: the tensors need 16 data bytes but the file has 12 \(truncated\?\)$/);
    expect(() => decodeSafetensors(new Uint8Array(4))).toThrow(FormatError);
    expect(() => decodeSafetensors(new TextEncoder().encode('PK\u0003\u0004 not a safetensors file at all'))).toThrow(/header length/);
    expect(() => encodeSafetensors({ w: { shape: [3], data: new Float32Array(2) } })).toThrow(/shape \[3\] \(3 values\) but 2 values/);
  });
});

describe('model files', () => {
  it('save and load give the same predictions, with preprocessing and info', async () => {
    const model = mlp();
    const data = blobs(40, 10);
    fit(model, data, { epochs: 2, optimizer: new Adam(undefined, { lr: 0.01 }) });
    const dir = await mkdtemp(join(tmpdir(), 'minibatch-'));
    const path = join(dir, 'model.safetensors');
    await saveModel(path, model, [4], { preprocessing: { mean: [1, 2] }, info: { classes: 3 } });
    const loaded = await loadModel(path, registry);
    expect(Array.from(predict(loaded.model, data))).toEqual(Array.from(predict(model, data)));
    expect(loaded.preprocessing).toEqual({ mean: [1, 2] });
    expect(loaded.info).toEqual({ classes: 3 });
    expect(loaded.inputShape).toEqual([4]);
    expect(await readdir(dir)).toEqual(['model.safetensors']); // no temporary left behind
    const same = decodeModel(encodeModel(model, [4]), registry);
    expect(Array.from(predict(same.model, data))).toEqual(Array.from(predict(model, data)));
    model.dispose();
    loaded.model.dispose();
    same.model.dispose();
  });

  it('a failed save leaves the old file intact and names the path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'minibatch-'));
    const model = mlp();
    await expect(saveModel(join(dir, 'missing-dir', 'm.safetensors'), model, [4])).rejects.toThrow(/could not write .*missing-dir/);
    const path = join(dir, 'keep.safetensors');
    await writeFile(path, 'old');
    await expect(saveModel(join(path, 'x'), model, [4])).rejects.toThrow(/could not write/);
    expect(await readFile(path, 'utf8')).toBe('old');
    model.dispose();
  });

  it('loading says what is wrong', async () => {
    await expect(loadModel('/nonexistent/m.safetensors', registry)).rejects.toThrow(/no model file at \/nonexistent/);
    const bare = encodeSafetensors({ w: { shape: [1], data: new Float32Array(1) } });
    expect(() => decodeModel(bare, registry, 'bare.safetensors')).toThrow(/not a minibatch model file/);
  });
});
