// `minibatch inspect` on every supported file kind, and `minibatch finetune` end to end on a
// real pretrained network (nsfwjs's MobileNetV2, cut early and fed small images so it is
// CI-sized), the saved model evaluated by `minibatch eval`.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '@minibatch/core';
import { Conv2d, Dense, Flatten, Sequential } from '@minibatch/layers';
import { exportOnnx } from '@minibatch/pretrained';
import { resolveModelPath } from '@minibatch/pretrained/node';
import { saveModel } from '@minibatch/train/node';
import { run } from '../src/index.js';
import { capture, configFile } from './helpers.js';

const MOBILENET = resolveModelPath('nsfwjs/dist/models/mobilenet_v2/model.min.js', process.cwd());
const FACE_MANIFEST = resolveModelPath('@vladmandic/face-api/model/face_expression_model-weights_manifest.json', process.cwd());

async function exec(argv: string[]) {
  const t = capture();
  const code = await run(argv, t.io);
  return { code, out: t.out, err: t.err };
}

describe('minibatch inspect', () => {
  it('a TF.js layers model (.min.js wrapper): one JSON record with format, layers, parameters and input shape', async () => {
    const r = await exec(['inspect', MOBILENET, '--json']);
    expect(r.code, r.err).toBe(0);
    const record = JSON.parse(r.out);
    expect(record).toMatchObject({ format: 'tfjs-layers', parameters: 2_619_461, inputShape: [224, 224, 3], quantization: ['uint8'] });
    expect(record.layers).toHaveLength(162);
    const text = await exec(['inspect', MOBILENET]);
    expect(text.out).toMatch(/format {9}tfjs-layers\ninput {10}\[batch, 224, 224, 3\]\nparameters {5}2,619,461 stored values/);
    expect(text.out).toMatch(/block_12_add\s+Add\s+0/);
  });

  it('a weights manifest without topology, as its list of tensors', async () => {
    const r = await exec(['inspect', FACE_MANIFEST, '--json']);
    expect(r.code, r.err).toBe(0);
    const record = JSON.parse(r.out);
    expect(record).toMatchObject({ format: 'tfjs-weights', parameters: 323_687, inputShape: null });
    expect(record.layers[0]).toEqual({ name: 'dense0/conv0/filters', type: 'tensor', parameters: 864, shape: [3, 3, 3, 32] });
  });

  it('an .onnx file and a minibatch .safetensors model file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'minibatch-inspect-'));
    const model = new Sequential([new Conv2d({ filters: 4, kernelSize: 3 }), new Flatten(), new Dense({ units: 3 })]);
    model.build([6, 6, 2], new Rng(1));
    await writeFile(join(dir, 'm.onnx'), exportOnnx(model));
    await saveModel(join(dir, 'm.safetensors'), model, [6, 6, 2]);
    const onnx = JSON.parse((await exec(['inspect', join(dir, 'm.onnx'), '--json'])).out);
    expect(onnx).toMatchObject({ format: 'onnx', parameters: 4 * 18 + 4 + 64 * 3 + 3, inputShape: [6, 6, 2] });
    expect(onnx.layers.map((l: { type: string }) => l.type)).toEqual(['Conv', 'Transpose', 'Flatten', 'Gemm', 'Identity']);
    const st = JSON.parse((await exec(['inspect', join(dir, 'm.safetensors'), '--json'])).out);
    expect(st).toMatchObject({ format: 'safetensors (minibatch model)', parameters: 4 * 18 + 4 + 64 * 3 + 3, inputShape: [6, 6, 2], quantization: ['F32'] });
    const bad = await exec(['inspect', join(dir, 'none.onnx')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/no model file at .*none\.onnx/);
  });
});

describe('minibatch finetune', () => {
  const config = {
    pretrained: { file: MOBILENET, cut: 'block_2_add' },
    input: [{ name: 'resizing', config: { height: 32, width: 32 } }],
    head: [{ name: 'flatten' }, { name: 'dense', config: { units: 10 } }],
    data: { name: 'mnist', limit: 200, testCount: 300 },
    preprocessing: [{ name: 'grayToRgb' }],
    stages: [
      { epochs: 6, train: 'head', optimizer: { name: 'adam', config: { lr: 0.003 } } },
      { epochs: 1, train: { from: 'block_2_expand' }, optimizer: { name: 'adam', config: { lr: 0.0003 } }, backboneLr: 0.1 },
    ],
    batchSize: 25,
    seed: 2,
  };

  it('a linear probe on cached features, then the top blocks fine-tuned; the saved model evaluates the same', async () => {
    const file = await configFile(config);
    const out = join(dirname(file), 'tuned.safetensors');
    const r = await exec(['finetune', file, '--json', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    const finals = lines.filter((l) => l.final);
    expect(finals.map((f) => f.cached)).toEqual([true, false]);
    const epochs = lines.filter((l) => !l.final && l.stage === 1);
    expect(epochs.at(-1).loss).toBeLessThan(epochs[0].loss);
    expect(finals[0].test_accuracy).toBeGreaterThan(0.6);
    const e = await exec(['eval', out, '--json']);
    expect(e.code, e.err).toBe(0);
    expect(JSON.parse(e.out).test_accuracy).toBeCloseTo(finals[1].test_accuracy, 10);
  }, 120_000);

  it('names a cut point or a thaw point that does not exist, and a head that does not fit (exit 2)', async () => {
    const cut = await exec(['finetune', await configFile({ ...config, pretrained: { ...config.pretrained, cut: 'block_2_ad' } })]);
    expect(cut.code).toBe(2);
    expect(cut.err).toMatch(/pretrained\.cut: no layer 'block_2_ad' in the model — did you mean 'block_2_add'\?/);
    const from = await exec(['finetune', await configFile({ ...config, stages: [{ ...config.stages[1], train: { from: 'block_9_expand' } }] })]);
    expect(from.code).toBe(2);
    expect(from.err).toMatch(/stages\[0\]\.train\.from: no layer 'block_9_expand'/);
    const head = await exec(['finetune', await configFile({ ...config, head: [{ name: 'dense', config: { units: 10 } }] })]);
    expect(head.code).toBe(2);
    expect(head.err).toMatch(/the head does not fit: .*dense: expects \[batch, features\] input/);
    const key = await exec(['finetune', await configFile({ ...config, stages: [{ ...config.stages[0], epoch: 3 }] })]);
    expect(key.code).toBe(2);
    expect(key.err).toMatch(/stages\[0\]\.epoch: unknown key 'epoch' \(did you mean 'epochs'\?\)/);
  }, 60_000);
});
