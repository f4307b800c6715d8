// Nothing silently accepted, nothing overwritten: strict model files, data checked before
// training, sizes checked before work, atomic writes.
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { engine } from '@minibatch/core';
import { createDataset, DataError, type Dataset } from '@minibatch/data';
import { layers, modelFromConfig } from '@minibatch/layers';
import { SGD, optimizers } from '@minibatch/optimizers';
import { createRegistry } from '@minibatch/registry';
import {
  ConfigError, FormatError, decodeModel, decodeSafetensors, encodeModel, encodeSafetensors, estimateTrainingMemory, evaluate, fit, formatBytes,
  parseBytes, parseRunConfig, resolveRun,
} from '../src/index.js';
import { checkOutputs, FileError, writeFileAtomic } from '../src/node.js';

const registry = createRegistry().use(layers).use(optimizers);

/** A safetensors file from a header object and a data section, as a hostile writer would make it. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32 = (...values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);

describe('safetensors: the reader follows the format strictly', () => {
  const bad: [string, Uint8Array, RegExp][] = [
    ['a null header', rawFile(null), /the header must be a JSON object, got null/],
    ['an array header', rawFile([1, 2]), /the header must be a JSON object, got an array/],
    ['a missing shape', rawFile({ w: { dtype: 'F32', data_offsets: [0, 8] } }, f32(1, 2)), /tensor 'w': shape must be a list of non-negative integers, got undefined/],
    ['missing offsets', rawFile({ w: { dtype: 'F32', shape: [2] } }, f32(1, 2)), /tensor 'w': data_offsets must be \[begin, end\]/],
    ['offsets written as strings', rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: ['0', '8'] } }, f32(1, 2)), /tensor 'w': data_offsets must be \[begin, end\] with integers/],
    ['a fractional dimension', rawFile({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, f32(1)), /tensor 'w': shape must be a list of non-negative integers, got \[1\.5\]/],
    ['an unsupported dtype', rawFile({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, f32(1, 2)), /tensor 'w': dtype "I64" is not one minibatch reads/],
    ['a size that disagrees with the shape', rawFile({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32(1, 2)), /tensor 'w': shape \[3\] of F32 needs 12 bytes, but data_offsets \[0, 8\] span 8/],
    ['overlapping tensors', rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32(1, 2, 3)), /tensor 'b' at bytes \[4, 12\) overlaps the tensor before it/],
    ['a gap between tensors', rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, f32(1, 2, 3)), /tensor 'b' starts at byte 8, leaving bytes \[4, 8\) that belong to no tensor/],
    ['a range past the end', rawFile({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32(1, 2)), /the tensors need 16 data bytes but the file has 8/],
    ['bytes after the last tensor', rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1, 2)), /4 bytes after the last tensor belong to no tensor/],
    ['a metadata number', rawFile({ __metadata__: { epochs: 3 } }), /metadata 'epochs' is number; metadata values must be strings/],
    ['a header that is not JSON', rawFile('{"w": '), /the header is not valid JSON/],
    ['a header length beyond the file', new Uint8Array([255, 255, 255, 255, 0, 0, 0, 0, 123, 125]), /header length 4294967295 does not fit the file/],
  ];
  for (const [what, bytes, message] of bad) {
    it(`refuses ${what}, naming the file`, () => {
      expect(() => decodeSafetensors(bytes, 'bad.safetensors')).toThrow(FormatError);
      expect(() => decodeSafetensors(bytes, 'bad.safetensors')).toThrow(new RegExp(`^bad\\.safetensors: ${message.source}`));
    });
  }

  it('reads float16 and bfloat16 tensors (widened to float32)', () => {
    const half = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00]).buffer); // 1, -2, 0.333…, 2^-24, ∞
    const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xc040, 0x3eab]).buffer); // 1, -3, ~0.334
    const file = decodeSafetensors(rawFile({
      h: { dtype: 'F16', shape: [5], data_offsets: [0, 10] }, b: { dtype: 'BF16', shape: [3], data_offsets: [10, 16] },
    }, new Uint8Array([...half, ...bf16])));
    expect(Array.from(file.tensors.h.data)).toEqual([1, -2, Math.fround(0.333251953125), Math.fround(2 ** -24), Infinity]);
    expect(Array.from(file.tensors.b.data)).toEqual([1, -3, Math.fround(0.333984375)]);
    expect(file.dtypes).toEqual({ h: 'F16', b: 'BF16' });
    expect(file.checksum).toBe('absent');
  });

  it('detects every single-bit flip of a minibatch file (checksum over header and data); a flip in the checksum key itself leaves a file without one', () => {
    const bytes = encodeSafetensors({ w: { shape: [4, 3], data: new Float32Array(12).map((_, i) => i / 7) }, b: { shape: [3], data: new Float32Array([1, 2, 3]) } }, { note: 'x' });
    expect(decodeSafetensors(bytes).checksum).toBe('verified');
    fc.assert(fc.property(fc.integer({ min: 0, max: bytes.length * 8 - 1 }), (bit) => {
      const flipped = bytes.slice();
      flipped[bit >> 3] ^= 1 << (bit & 7);
      let read: ReturnType<typeof decodeSafetensors> | null = null;
      try {
        read = decodeSafetensors(flipped, 'm.safetensors');
      } catch (error) {
        expect(error).toBeInstanceOf(FormatError);
      }
      // Loaded only when the flip renamed the checksum's key: then the file reads as one
      // without a checksum (which decodeModel reports), never as verified.
      if (read !== null) expect([read.checksum, 'checksum' in read.metadata]).toEqual(['absent', false]);
    }), { seed: 21, numRuns: 1500 });
    const data = bytes.slice();
    data[data.length - 1] ^= 0x10;
    expect(() => decodeSafetensors(data, 'm.safetensors')).toThrow(/^m\.safetensors: corrupted: checksum mismatch \(the file says crc32:[0-9a-f]{8}, its contents give crc32:[0-9a-f]{8}\)$/);
  });

  it('survives random bytes and mutations: only FormatErrors, never an internal error', () => {
    const good = encodeSafetensors({ w: { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } });
    fc.assert(fc.property(fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.tuple(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 0, max: 255 })).map(([i, v]) => { const b = good.slice(); b[i] = v; return b; }),
      fc.integer({ min: 0, max: good.length }).map((n) => good.slice(0, n)),
    ), (bytes) => {
      try {
        decodeSafetensors(bytes, 'f');
      } catch (error) {
        expect(error).toBeInstanceOf(FormatError);
      }
    }), { seed: Number(process.env.FUZZ_SEED ?? 7), numRuns: Number(process.env.FUZZ_RUNS ?? 2000) });
  });
});

describe('model files: checked whole before a model is returned', () => {
  const model = () => modelFromConfig(registry, [{ name: 'dense', config: { units: 3, seed: 1 } }]);

  it('names a broken metadata string, and a foreign (unchecksummed) file loads with a notice', () => {
    const m = model();
    const bytes = encodeModel(m, [2]);
    const { tensors, metadata } = decodeSafetensors(bytes);
    const broken = encodeSafetensors(tensors, { ...metadata, inputShape: '[2,' });
    expect(() => decodeModel(broken, registry, 'm.safetensors')).toThrow(/^m\.safetensors: metadata 'inputShape' is not valid JSON/);
    const weird = encodeSafetensors(tensors, { ...metadata, inputShape: '[2.5]' });
    expect(() => decodeModel(weird, registry, 'm.safetensors')).toThrow(/^m\.safetensors: metadata 'inputShape' must be a list of positive integers/);
    const noLayer = encodeSafetensors(tensors, { ...metadata, model: '{"kind":"layer","name":"dens","config":{}}' });
    expect(() => decodeModel(noLayer, registry, 'm.safetensors')).toThrow(/^m\.safetensors: the architecture in its metadata .*unknown layer 'dens'/);
    const foreign = encodeSafetensors(tensors, metadata, { checksum: false });
    const loaded = decodeModel(foreign, registry, 'old.safetensors');
    expect(loaded.notice).toMatch(/^old\.safetensors carries no checksum/);
    expect(decodeModel(bytes, registry).notice).toBeUndefined();
    loaded.model.dispose();
    m.dispose();
  });

  it('mutations of a real model file (fuzz): loads or is refused naming the file, and leaves no WebAssembly memory behind', () => {
    const m = modelFromConfig(registry, [{ name: 'dense', config: { units: 4, seed: 1 } }, { name: 'relu' }, { name: 'dense', config: { units: 2, seed: 2 } }]);
    const good = encodeModel(m, [3]);
    m.dispose();
    const { tensors, metadata } = decodeSafetensors(good);
    const metadataEdits: Record<string, string>[] = [
      { inputShape: '[1e9]' }, { inputShape: '[-3]' }, { inputShape: '[]' }, { inputShape: '[3,3,3,3,3,3,3,3,3]' }, { inputShape: 'null' },
      { model: '{"kind":"layer","name":"sequential","config":{"layers":[{"kind":"layer","name":"dense","config":{"units":1000000000}}]}}' },
      { model: '[]' }, { model: '{"kind":"layer","name":"dense","config":{"units":-1}}' }, { format: 'minibatch/9' }, { info: '{' },
    ];
    const file = fc.oneof(
      fc.tuple(fc.nat(good.length - 1), fc.nat(255)).map(([i, v]) => { const b = good.slice(); b[i] = v; return b; }),
      fc.nat(good.length).map((n) => good.slice(0, n)),
      fc.constantFrom(...metadataEdits).map((edit) => encodeSafetensors(tensors, { ...metadata, ...edit })),
      fc.constantFrom(...Object.keys(tensors)).map((name) => encodeSafetensors({ ...tensors, [name]: { shape: [1], data: new Float32Array([NaN]) } }, metadata)),
    );
    const live = () => engine().stats().liveBytes;
    const before = live();
    fc.assert(fc.property(file, (bytes) => {
      try {
        decodeModel(bytes, registry, 'f.safetensors').model.dispose();
      } catch (error) {
        expect((error as Error).name, String(error)).not.toMatch(/^(TypeError|RangeError|ReferenceError)$/);
        expect((error as Error).message, String(error)).toMatch(/^f\.safetensors/);
      }
      expect(live()).toBe(before);
    }), { seed: Number(process.env.FUZZ_SEED ?? 5), numRuns: Number(process.env.FUZZ_RUNS ?? 600) });
  });

  it('regression (found by the fuzzer): metadata claiming an input of 10⁹ features is refused at once, before a 15 GiB model is built', () => {
    const m = model();
    const { tensors, metadata } = decodeSafetensors(encodeModel(m, [2]));
    m.dispose();
    const started = performance.now();
    expect(() => decodeModel(encodeSafetensors(tensors, { ...metadata, inputShape: '[1000000000]' }), registry, 'm.safetensors'))
      .toThrow(/^m\.safetensors: the architecture in its metadata needs 11 GiB of weights for input \[1000000000\], the file holds 36 bytes; its metadata does not describe its weights$/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses weights that do not fit the architecture, naming the file and the tensor', () => {
    const m = model();
    const { tensors, metadata } = decodeSafetensors(encodeModel(m, [2]));
    const wrong = encodeSafetensors({ ...tensors, '0.weight': { shape: [3, 3], data: new Float32Array(9) } }, metadata);
    expect(() => decodeModel(wrong, registry, 'm.safetensors')).toThrow(/^m\.safetensors: the weights do not fit the architecture: .*'0\.weight' is \[2, 3\] in the model but \[3, 3\]/s);
    m.dispose();
  });
});

describe('data checked before the first step', () => {
  const model = () => modelFromConfig(registry, [{ name: 'dense', config: { units: 3, seed: 1 } }]);
  const opt = () => new SGD(undefined, { lr: 0.1 });
  const named = (x: number[], y: number[], classes = 3): Dataset => createDataset(new Float32Array(x), new Int32Array(y), [2], { classes, name: 'toy.csv' });

  it('refuses an empty data set, labels beyond the outputs, and non-finite inputs, naming the data and the sample', () => {
    const m = model();
    const cases: [Dataset, RegExp][] = [
      [named([], []), /^the training data \(toy\.csv\) is empty/],
      [named([1, 2, 3, 4], [0, 5], 6), /^the training data \(toy\.csv\): sample 1 has label 5, but the model has 3 outputs \(labels 0…2\); give the last layer as many units as there are classes \(6\)/],
      [named([1, 2, 3, NaN], [0, 1]), /^the training data \(toy\.csv\): sample 1 has NaN at value 1; inputs must be finite/],
      [named([1, Infinity], [0]), /sample 0 has Infinity at value 1/],
      [{ ...named([1, 2, 3, 4], [0, 1]), y: new Int32Array([0]) }, /2 samples of shape \[2\] need 4 values and 2 labels; got 4 values and 1 labels/],
    ];
    for (const [data, message] of cases) {
      let steps = 0;
      expect(() => fit(m, data, { epochs: 1, optimizer: opt(), callbacks: { onBatchEnd: () => void steps++ } })).toThrow(message);
      expect(steps).toBe(0);
      expect(() => fit(m, data, { epochs: 1, optimizer: opt() })).toThrow(DataError);
    }
    expect(() => fit(m, named([1, 2], [0]), { epochs: 1, optimizer: opt(), validation: named([1, NaN], [0]) })).toThrow(/^the validation data \(toy\.csv\): sample 0 has NaN/);
    expect(() => evaluate(m, named([1, 2], [7], 8))).toThrow(/^the evaluation data \(toy\.csv\): sample 0 has label 7/);
    m.dispose();
  });
});

describe('sizes checked before work', () => {
  const config = (model: unknown[], extra: Record<string, unknown> = {}) => parseRunConfig({ data: { name: 'mnist' }, model, optimizer: { name: 'adam' }, ...extra });

  it('refuses a layer of a million units at once, naming it and the numbers, with nothing allocated', () => {
    const started = performance.now();
    let message = '';
    try {
      resolveRun(config([{ name: 'flatten' }, { name: 'dense', config: { units: 1_000_000 } }, { name: 'dense', config: { units: 10 } }]));
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/^one training step needs about \d+ GiB — weights 3\.0 GiB \(795,000,010 parameters\), gradients and adam state 8\.9 GiB/);
    expect(message).toMatch(/but the engine can hold at most 4\.0 GiB\.\nThe weights alone are too large: model\[1\] \(dense\) has 785,000,000 parameters; make it smaller\.$/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('suggests a batch size when the activations are what does not fit', () => {
    const conv = [{ name: 'conv2d', config: { filters: 64, kernelSize: 3, padding: 'same' } }, { name: 'flatten' }, { name: 'dense', config: { units: 10 } }];
    const small = resolveRun(config(conv, { batchSize: 64 }));
    small.model.dispose();
    expect(() => resolveRun(config(conv, { batchSize: 64 }), undefined, 20 * 2 ** 20)).toThrow(
      /activations at batch size 64 .*\nThe largest activations come from model\[0\] \(conv2d\), output \[28, 28, 64\] per sample; lower batchSize to \d+ or less, or make that layer smaller\./,
    );
  });

  it('estimates from shapes alone, close to what a training step takes', () => {
    const model = modelFromConfig(registry, [{ name: 'flatten' }, { name: 'dense', config: { units: 256 } }, { name: 'dense', config: { units: 10 } }]);
    const est = estimateTrainingMemory(model, [28, 28, 1], 64, 'adam');
    expect(est.parameters).toBe(784 * 256 + 256 + 2570);
    expect(est.weightBytes).toBe(est.parameters * 4);
    expect(est.stateBytes).toBe(est.parameters * 4 * 3);
    expect(est.largestParams?.path).toBe('1');
    expect(model.built).toBe(false);
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(parseBytes('2GB')).toBe(2 * 2 ** 30);
    expect(parseBytes('512 MiB')).toBe(512 * 2 ** 20);
    expect(() => parseBytes('lots')).toThrow(/'lots' is not a size/);
  });
});

describe('files: atomic writes, outputs never over inputs', () => {
  it('a failed write leaves the previous file intact and no temporary file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'minibatch-atomic-'));
    const path = join(dir, 'model.safetensors');
    await writeFile(path, 'previous');
    await expect(writeFileAtomic(path, 42 as never)).rejects.toThrow(/^could not write .*model\.safetensors/);
    expect(await readFile(path, 'utf8')).toBe('previous');
    expect(await readdir(dir)).toEqual(['model.safetensors']);
    await writeFileAtomic(path, 'next');
    expect(await readFile(path, 'utf8')).toBe('next');
    expect(await readdir(dir)).toEqual(['model.safetensors']);
  });

  it('a full disk while saving a model (a file-size limit: EFBIG): a clear error naming the file, the previous model intact, nothing left behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'minibatch-full-'));
    const path = join(dir, 'model.safetensors');
    await writeFile(path, 'previous model');
    // A child process whose writes stop at 8 KiB (SIGXFSZ ignored, so a write fails with EFBIG
    // as on a full disk), saving a 400 KB model over the previous one.
    const script = `
      import { createRegistry } from '@minibatch/registry';
      import { layers, modelFromConfig } from '@minibatch/layers';
      import { saveModel } from '@minibatch/train/node';
      const m = modelFromConfig(createRegistry().use(layers), [{ name: 'dense', config: { units: 100 } }]);
      m.build([1000]);
      try { await saveModel(${JSON.stringify(path)}, m, [1000]); console.log('saved'); } catch (e) { console.log(e.message); process.exitCode = 3; }`;
    const child = spawnSync('bash', ['-c', `trap '' XFSZ; ulimit -f 8; exec "${process.execPath}" --input-type=module -e "$0"`, script], {
      cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8',
    });
    expect(child.status, child.stderr).toBe(3);
    expect(child.stdout).toMatch(/^saveModel: could not write .*model\.safetensors: EFBIG: file too large/);
    expect(await readFile(path, 'utf8')).toBe('previous model');
    expect(await readdir(dir)).toEqual(['model.safetensors']);
    // A folder that cannot be written (root writes anywhere, so only as another user).
    if (process.getuid?.() !== 0) {
      await chmod(dir, 0o500);
      await expect(writeFileAtomic(path, 'next')).rejects.toThrow(/^could not write .*model\.safetensors: EACCES/);
      await chmod(dir, 0o700);
      expect(await readFile(path, 'utf8')).toBe('previous model');
    }
  });

  it('refuses an output that is an input however it is spelled, or a folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'minibatch-out-'));
    const input = join(dir, 'run.json');
    await writeFile(input, '{}');
    const { symlink, mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'sub'));
    await symlink(input, join(dir, 'link.json'));
    for (const out of [input, join(dir, 'sub', '..', 'run.json'), join(dir, 'link.json')]) {
      await expect(checkOutputs({ '--out': out }, [input])).rejects.toThrow(FileError);
    }
    await expect(checkOutputs({ '--out': join(dir, 'sub') }, [input])).rejects.toThrow(/--out .*sub is a folder/);
    await expect(checkOutputs({ '--out': join(dir, 'new.safetensors') }, [input])).resolves.toBeUndefined();
  });
});
