// runFinetune: a whole recipe from one config — checked before any work, BatchNorm kept frozen
// while the backbone thaws, and the random-init control built as the same architecture.
import { describe, expect, it } from 'vitest';
import { engine } from '@minibatch/core';
import type { Module } from '@minibatch/layers';
import { loadFile } from '../src/node.js';
import { layersOf, parseFinetuneConfig, runFinetune, type FinetuneConfig } from '../src/index.js';
import { MOBILENET_DIR } from './helpers.js';

const base = {
  pretrained: { file: 'nsfwjs/dist/models/mobilenet_v2/model.min.js', cut: 'block_2_add' },
  input: [{ name: 'resizing', config: { height: 32, width: 32 } }],
  head: [{ name: 'flatten' }, { name: 'dense', config: { units: 10 } }],
  data: { name: 'mnist', limit: 100, testCount: 100 },
  preprocessing: [{ name: 'grayToRgb' }],
  stages: [{ epochs: 1, train: 'all', optimizer: { name: 'adam', config: { lr: 0.001 } } }],
  batchSize: 25,
  seed: 3,
};

let loads = 0;
const load = async (): Promise<Module> => {
  loads++;
  return loadFile(`${MOBILENET_DIR()}/model.min.js`);
};
const config = (change: Partial<typeof base> | Record<string, unknown>): FinetuneConfig => parseFinetuneConfig({ ...base, ...change }, 'run.json');

/** The momentum of every BatchNorm layer of a model. */
const momenta = (model: Module): unknown[] => layersOf(model).filter((l) => l.module.name === 'batchNorm').map((l) => l.module.getConfig().momentum);

describe('runFinetune', () => {
  it('with freezeBatchNorm (the default) the backbone trains and its BatchNorm statistics stay as loaded', async () => {
    const loaded = (await load()).stateDict();
    const { model, stages } = await runFinetune(config({}), { load });
    expect(stages).toHaveLength(1);
    const tuned = model.stateDict(); // the backbone is model.0.1 (after the resizing layer)
    const stats = Object.keys(loaded).filter((k) => /running(Mean|Var)$/.test(k) && `0.1.${k}` in tuned);
    expect(stats.length).toBeGreaterThan(8);
    for (const k of stats) expect(tuned[`0.1.${k}`].data).toEqual(loaded[k].data);
    expect(tuned['0.1.block_2_project.weight'].data).not.toEqual(loaded['block_2_project.weight'].data);
    model.dispose();
  }, 60_000);

  it("weights: 'random' builds the same architecture from the seed, BatchNorm reset with momentum 0.9", async () => {
    const pretrained = await load();
    const { model } = await runFinetune(config({ pretrained: { ...base.pretrained, weights: 'random' }, stages: [{ ...base.stages[0], freezeBatchNorm: false }] }), { load });
    const trunk = model.layers[0] as Module;
    const fresh = trunk.stateDict();
    const loaded = pretrained.stateDict();
    const conv = Object.keys(fresh).find((k) => k.endsWith('Conv1.weight'))!;
    expect(conv).toBeDefined();
    expect(fresh[conv].shape).toEqual(loaded['Conv1.weight'].shape);
    expect(fresh[conv].data).not.toEqual(loaded['Conv1.weight'].data);
    expect(new Set(momenta(trunk))).toEqual(new Set([0.9]));
    expect(new Set(momenta(pretrained))).toEqual(new Set([0.999]));
    model.dispose();
    pretrained.dispose();
  }, 60_000);

  it('frees what it loaded: the layers past the cut at once, everything when a later check fails', async () => {
    const live = (): number => engine().stats().liveBytes;
    const before = live();
    const { model } = await runFinetune(config({ stages: [{ ...base.stages[0], train: 'head' }] }), { load });
    const kept = live() - before;
    const tensors = [...model.parameters(), ...model.parameters().flatMap((p) => (p.grad ? [p.grad] : [])), ...model.namedBuffers().map(([, t]) => t)];
    const bytes = tensors.reduce((n, t) => n + t.size * 4, 0);
    expect(kept).toBeLessThan(bytes * 1.1 + 4096); // the model's own weights (and the head's gradients), not the whole file's
    model.dispose();
    expect(live()).toBe(before);
    await expect(runFinetune(config({ head: [{ name: 'dense', config: { units: 10 } }] }), { load })).rejects.toThrow(/the head does not fit/);
    expect(live()).toBe(before);
  }, 60_000);

  it('refuses a scaled backbone LR under a schedule before loading anything', async () => {
    const before = loads;
    const scheduled = config({
      stages: [
        { epochs: 1, train: 'head', optimizer: { name: 'adam', config: { lr: 0.001 } } },
        { epochs: 1, train: 'all', backboneLr: 0.1, optimizer: { name: 'adam', config: { lr: { kind: 'schedule', name: 'cosine', config: { initial: 0.001, steps: 10 } } } } },
      ],
    });
    await expect(runFinetune(scheduled, { load, source: 'run.json' })).rejects.toThrow(/run\.json: stages\[1\]\.backboneLr needs a number as the optimizer's lr/);
    expect(loads).toBe(before);
  });
});
