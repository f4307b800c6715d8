// The cost of checkpointing every epoch: `fit` on MNIST (8,000 samples, batch 64, Adam) with
// a checkpoint written after each of 3 epochs (the whole training state, atomically, fsync'd)
// against the same run without, alternating; written on the training thread (saveCheckpoint) and on a
// background thread (CheckpointWriter, what `minibatch train --checkpoint` uses); and the
// time the training thread spends in one save. Target: ≤ 2%.
//
//   node checkpoint.mjs [--json] [--runs 5] [--case mlp,cnn]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnistSplit } from '@minibatch/data';
import { modelFromConfig } from '@minibatch/layers';
import { Adam } from '@minibatch/optimizers';
import { defaultRegistry, fit } from '@minibatch/train';
import { CheckpointWriter, saveCheckpoint } from '@minibatch/train/node';
import { MNIST_MODELS, runsFlag } from './models.mjs';
import { listFlag, summary } from './timing.mjs';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const RUNS = runsFlag(argv, 5);
const CASES = MNIST_MODELS;
const cases = listFlag(argv, 'checkpoint', 'case', Object.keys(CASES));
const { train } = loadMnistSplit();
const dir = mkdtempSync(join(tmpdir(), 'minibatch-bench-checkpoint-'));

// One writer, as a run has one: its thread starts once, not per epoch.
const writer = new CheckpointWriter(dir, { keep: 1 });

const EPOCHS = 3;

/** Seconds of a run of EPOCHS epochs, with a checkpoint after each written by `how` ('none', 'sync', 'background'); pushes the seconds of each save call. */
function epoch(spec, how, saves) {
  const model = modelFromConfig(defaultRegistry(), spec);
  const t0 = performance.now();
  fit(model, train, {
    epochs: EPOCHS, batchSize: 64, seed: 1, metrics: [], optimizer: new Adam(undefined, { lr: 1e-3 }),
    ...(how === 'none' ? {} : {
      checkpoint: {
        save: (state) => {
          const w0 = performance.now();
          if (how === 'background') writer.save({ state });
          else saveCheckpoint(dir, { state }, { keep: 1 });
          saves.push(performance.now() - w0);
        },
      },
    }),
  });
  writer.flush(); // a run ends by waiting for its last checkpoint: on the clock
  const seconds = (performance.now() - t0) / 1000;
  model.dispose();
  return seconds;
}

const SYSTEMS = { none: 'no-checkpoint', sync: 'checkpoint-every-epoch-sync', background: 'checkpoint-every-epoch' };
const records = [];
try {
  for (const name of cases) {
    epoch(CASES[name], 'none', []); // warm-up
    const speeds = { none: [], sync: [], background: [] };
    const saves = { sync: [], background: [] };
    for (let r = 0; r < RUNS; r++) {
      for (const how of Object.keys(SYSTEMS)) speeds[how].push((EPOCHS * train.count) / epoch(CASES[name], how, saves[how] ?? []));
    }
    for (const [how, system] of Object.entries(SYSTEMS)) records.push({ bench: 'checkpoint', case: name, system, metric: 'samples_per_s', ...summary(speeds[how]) });
    records.push({ bench: 'checkpoint', case: name, system: 'checkpoint-save-sync', metric: 'ms', ...summary(saves.sync) });
    records.push({ bench: 'checkpoint', case: name, system: 'checkpoint-save-background', metric: 'ms', ...summary(saves.background) });
  }
} finally {
  writer.close();
  rmSync(dir, { recursive: true, force: true });
}

if (json) for (const r of records) console.log(JSON.stringify(r));
else {
  console.log(`checkpoint — fit for ${EPOCHS} epochs of 8,000 MNIST digits (batch 64, Adam), a checkpoint after each epoch; median [min–max] of ${RUNS} alternating runs`);
  const get = (name, system) => records.find((r) => r.case === name && r.system === system);
  for (const name of cases) {
    const plain = get(name, 'no-checkpoint');
    const epochMs = (train.count / plain.value) * 1000;
    console.log(`${name}  no checkpoint ${plain.value} [${plain.min}–${plain.max}] samples/s`);
    for (const [label, system, save] of [['on the training thread', 'checkpoint-every-epoch-sync', 'checkpoint-save-sync'], ['on a background thread', 'checkpoint-every-epoch', 'checkpoint-save-background']]) {
      const r = get(name, system);
      const s = get(name, save);
      console.log(`${' '.repeat(name.length)}  written ${label}: ${r.value} [${r.min}–${r.max}] samples/s, ratio ${(r.value / plain.value).toFixed(3)}; ` +
        `the training thread spends ${s.value} ms [${s.min}–${s.max}] per save: ${((s.value / epochMs) * 100).toFixed(2)}% of an epoch (target ≤ 2%)`);
    }
  }
}
