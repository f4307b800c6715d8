// Checkpoints: a run stopped anywhere — mid-epoch or between epochs — and resumed from its
// checkpoint file ends with weights bit-identical to the run that was never stopped, with
// dropout, BatchNorm and augmentation on; a checkpoint that does not fit is refused.
import { describe, expect, it } from 'vitest';
import { augmentationFromConfig, toBatchTransform } from '@minibatch/augment';
import { createDataset, type Dataset } from '@minibatch/data';
import { modelFromConfig } from '@minibatch/layers';
import { Rng } from '@minibatch/core';
import { configChanges, decodeCheckpoint, defaultRegistry, encodeCheckpoint, fit, type FitOptions, type TrainingState } from '../src/index.js';
import { Adam } from '@minibatch/optimizers';
// The writer's thread runs the compiled file, so it is tested through the built package.
import { CheckpointWriter, loadCheckpoint, saveCheckpoint } from '@minibatch/train/node';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const registry = defaultRegistry();

/** Small 6×6 images in 3 classes (a bright row per class), so augmentation applies. */
function images(count: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = new Float32Array(count * 36);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    y[i] = i % 3;
    for (let p = 0; p < 36; p++) x[i * 36 + p] = (Math.floor(p / 6) === y[i] * 2 ? 1 : 0) + 0.3 * rng.normal();
  }
  return createDataset(x, y, [6, 6, 1], { classes: 3 });
}

const net = () => modelFromConfig(registry, [
  { name: 'conv2d', config: { filters: 4, kernelSize: 3, padding: 'same', useBias: false } },
  { name: 'batchNorm' },
  { name: 'relu' },
  { name: 'flatten' },
  { name: 'dropout', config: { rate: 0.3 } },
  { name: 'dense', config: { units: 3 } },
]);

const data = images(90, 1);
const options = (): FitOptions => ({
  epochs: 3, batchSize: 16, seed: 4, validation: images(30, 2), optimizer: new Adam(undefined, { lr: 0.01 }),
  transform: toBatchTransform(augmentationFromConfig(registry, [{ name: 'translate', config: { x: 0.2, y: 0.2 } }]), { classes: 3 }),
});
const weights = (m: ReturnType<typeof net>) => m.parameters().map((p) => Array.from(p.data())).concat(m.namedBuffers().map(([, b]) => Array.from(b.data())));

describe('checkpoints', () => {
  it('stopped at any step and resumed from the file: bit-identical weights and the same history', () => {
    const whole = net();
    const unbroken = fit(whole, data, options());
    const expected = weights(whole);
    whole.dispose();
    // 6 batches per epoch, 18 steps: mid-epoch (1, 5, 8, 13) and between epochs (6, 12).
    for (const stopAt of [1, 5, 6, 8, 12, 13]) {
      const first = net();
      let steps = 0;
      let saved: Uint8Array | null = null;
      const stopped = fit(first, data, {
        ...options(), shouldStop: () => ++steps >= stopAt,
        checkpoint: { every: 1000, save: (state) => void (saved = encodeCheckpoint({ state, config: { stopAt } })) },
      });
      expect(stopped.stopped).toBe(true);
      first.dispose();
      const { state, config } = decodeCheckpoint(saved!, 'test.ckpt');
      expect(config).toEqual({ stopAt });
      const second = net();
      const resumed = fit(second, data, { ...options(), resume: state });
      expect(weights(second), `stopped after step ${stopAt}`).toEqual(expected);
      expect(resumed.epochs.map((e) => [e.loss, e.accuracy, e.val_loss])).toEqual(unbroken.epochs.map((e) => [e.loss, e.accuracy, e.val_loss]));
      second.dispose();
    }
  });

  it('every N steps and after every epoch; the last one resumes to the end', () => {
    const states: TrainingState[] = [];
    const model = net();
    fit(model, data, { ...options(), checkpoint: { every: 4, save: (s) => void states.push(s) } });
    const final = weights(model);
    model.dispose();
    // Steps 4, 8, 16 (12 falls on an epoch's end, which writes its own), and the 3 epoch ends.
    expect(states.map((s) => [s.epoch, s.batch])).toEqual([[0, 4], [1, 0], [1, 2], [2, 0], [2, 4], [3, 0]]);
    const again = net();
    fit(again, data, { ...options(), resume: decodeCheckpoint(encodeCheckpoint({ state: states[2] })).state });
    expect(weights(again)).toEqual(final);
    again.dispose();
  });

  it('a checkpoint that does not fit is refused, naming why', async () => {
    const model = net();
    let state: TrainingState | null = null;
    fit(model, data, { ...options(), epochs: 1, checkpoint: { save: (s) => void (state = s) } });
    model.dispose();
    const bytes = encodeCheckpoint({ state: state! });
    const other = modelFromConfig(registry, [{ name: 'flatten' }, { name: 'dense', config: { units: 3 } }]);
    expect(() => fit(other, data, { ...options(), resume: state! })).toThrow(/the checkpoint's weights do not fit this model \(another architecture\?\)/);
    other.dispose();
    expect(() => fit(net(), data, { ...options(), batchSize: 64, resume: { ...state!, batch: 5 } })).toThrow(/checkpoint is at batch 5 of an epoch, but an epoch here has 2 batches/);
    const { encodeSafetensors } = await import('../src/safetensors.js');
    expect(() => decodeCheckpoint(encodeSafetensors({}, { format: 'minibatch-checkpoint/2', state: '{}' }), 'new.ckpt'))
      .toThrow(/new\.ckpt: a checkpoint of format minibatch-checkpoint\/2; this minibatch reads minibatch-checkpoint\/1 — resume with the version that wrote it/);
    expect(() => decodeCheckpoint(encodeSafetensors({}, { format: 'minibatch/1' }), 'model.safetensors')).toThrow(/a model file, which has no optimizer state to resume from/);
    const flipped = bytes.slice();
    flipped[flipped.length - 3] ^= 0xff;
    expect(() => decodeCheckpoint(flipped, 'run.ckpt')).toThrow(/run\.ckpt: .*checksum/);
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 100), 'run.ckpt')).toThrow(/run\.ckpt/);
  });

  it('names what changed between two configs', () => {
    expect(configChanges({ epochs: 5, optimizer: { name: 'adam', config: { lr: 1e-3 } } }, { epochs: 8, optimizer: { name: 'adam', config: { lr: 3e-3 } } }))
      .toEqual(['epochs: 5 → 8', 'optimizer.config.lr: 0.001 → 0.003']);
    expect(configChanges({ model: [{ name: 'dense' }] }, { model: [{ name: 'dense' }, { name: 'relu' }] })).toEqual(['model[1]: (none) → {"name":"relu"}']);
    expect(configChanges({ a: 1 }, { a: 1 })).toEqual([]);
  });
});

describe('crc32', () => {
  it('gives the standard check values, over any split of the bytes', async () => {
    const { crc32 } = await import('../src/safetensors.js');
    const text = new TextEncoder().encode('123456789');
    expect(crc32([text])).toBe(0xcbf43926); // the CRC-32/IEEE check value
    expect(crc32([text.subarray(0, 3), text.subarray(3)])).toBe(0xcbf43926);
    expect(crc32([new Uint8Array(0)])).toBe(0);
    const big = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff);
    let slow = ~0;
    for (const b of big) {
      slow ^= b;
      for (let k = 0; k < 8; k++) slow = slow & 1 ? 0xedb88320 ^ (slow >>> 1) : slow >>> 1;
    }
    expect(crc32([big.subarray(0, 13), big.subarray(13)])).toBe(~slow >>> 0);
  });
});

describe('CheckpointWriter', () => {
  it('writes on its own thread the same files as saveCheckpoint, in order, keeping the newest K and the copies', () => {
    const dir = mkdtempSync(join(tmpdir(), 'minibatch-writer-'));
    try {
      const states: TrainingState[] = [];
      const model = net();
      const writer = new CheckpointWriter(join(dir, 'bg'), { keep: 2 });
      fit(model, data, {
        ...options(), checkpoint: { every: 2, save: (state) => {
          states.push(state);
          writer.save({ state, config: { n: 1 } }, { copies: states.length === 3 ? ['best.ckpt'] : [] });
        } },
      });
      model.dispose();
      writer.close();
      for (const state of states) saveCheckpoint(join(dir, 'sync'), { state, config: { n: 1 } }, { keep: 2 });
      const written = readdirSync(join(dir, 'bg')).sort();
      expect(written).toEqual(['best.ckpt', ...readdirSync(join(dir, 'sync')).sort()]);
      expect(written).toEqual(['best.ckpt', 'step-000000016.ckpt', 'step-000000018.ckpt']);
      for (const name of written.slice(1)) expect(readFileSync(join(dir, 'bg', name)).equals(readFileSync(join(dir, 'sync', name))), name).toBe(true);
      expect(loadCheckpoint(join(dir, 'bg', 'best.ckpt')).checkpoint.state.step).toBe(states[2].step);
      expect(() => writer.save({ state: states[0] })).toThrow(/save after close/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a write that fails is thrown by the next save or by flush, naming the problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'minibatch-writer-'));
    try {
      const model = net();
      let state = null as TrainingState | null;
      fit(model, data, { ...options(), epochs: 1, checkpoint: { save: (s) => void (state = s) } });
      model.dispose();
      // A folder under a file cannot be made, even by root (who writes into read-only folders).
      const file = saveCheckpoint(dir, { state: state! });
      const writer = new CheckpointWriter(join(file, 'inside'));
      writer.save({ state: state! });
      expect(() => writer.flush()).toThrow(/checkpoint not written: .*(ENOTDIR|not a directory)/);
      writer.save({ state: state! });
      expect(() => writer.close()).toThrow(/checkpoint not written/);
      expect(loadCheckpoint(file).checkpoint.state.step).toBe(state!.step);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
