// The cost of checkpointing every epoch: `fit` on MNIST (8,000 samples, batch 64, Adam) with
// a checkpoint written after the epoch (the whole training state, atomically, fsync'd) against
// the same epoch without, alternating; and the cost of one write on its own. Target: ≤ 2%.
//
//   node checkpoint.mjs [--json] [--runs 5] [--case mlp,cnn]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnistSplit } from '@minibatch/data';
import { modelFromConfig } from '@minibatch/layers';
import { Adam } from '@minibatch/optimizers';
import { defaultRegistry, fit } from '@minibatch/train';
import { saveCheckpoint } from '@minibatch/train/node';
import { MNIST_MODELS, runsFlag } from './models.mjs';
import { listFlag, summary } from './timing.mjs';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const RUNS = runsFlag(argv, 5);
const CASES = MNIST_MODELS;
const cases = listFlag(argv, 'checkpoint', 'case', Object.keys(CASES));
const { train } = loadMnistSplit();
const dir = mkdtempSync(join(tmpdir(), 'minibatch-bench-checkpoint-'));

/** Seconds of one epoch, with or without a checkpoint after it; and the seconds of each write. */
function epoch(spec, checkpoint, writes) {
  const model = modelFromConfig(defaultRegistry(), spec);
  const t0 = performance.now();
  fit(model, train, {
    epochs: 1, batchSize: 64, seed: 1, metrics: [], optimizer: new Adam(undefined, { lr: 1e-3 }),
    ...(checkpoint ? {
      checkpoint: {
        save: (state) => {
          const w0 = performance.now();
          saveCheckpoint(dir, { state }, { keep: 1 });
          writes.push(performance.now() - w0);
        },
      },
    } : {}),
  });
  const seconds = (performance.now() - t0) / 1000;
  model.dispose();
  return seconds;
}

const records = [];
try {
  for (const name of cases) {
    const writes = [];
    epoch(CASES[name], false, writes); // warm-up
    const plain = [];
    const saved = [];
    for (let r = 0; r < RUNS; r++) {
      plain.push(train.count / epoch(CASES[name], false, writes));
      saved.push(train.count / epoch(CASES[name], true, writes));
    }
    records.push({ bench: 'checkpoint', case: name, system: 'no-checkpoint', metric: 'samples_per_s', ...summary(plain) });
    records.push({ bench: 'checkpoint', case: name, system: 'checkpoint-every-epoch', metric: 'samples_per_s', ...summary(saved) });
    records.push({ bench: 'checkpoint', case: name, system: 'checkpoint-write', metric: 'ms', ...summary(writes) });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (json) for (const r of records) console.log(JSON.stringify(r));
else {
  console.log(`checkpoint — one epoch of fit on 8,000 MNIST digits (batch 64, Adam), median [min–max] of ${RUNS} alternating runs`);
  for (const name of cases) {
    const [plain, saved, write] = ['no-checkpoint', 'checkpoint-every-epoch', 'checkpoint-write'].map((s) => records.find((r) => r.case === name && r.system === s));
    const epochMs = (train.count / plain.value) * 1000;
    console.log(`${name}  no checkpoint ${plain.value} [${plain.min}–${plain.max}]  checkpoint every epoch ${saved.value} [${saved.min}–${saved.max}] samples/s  ratio ${(saved.value / plain.value).toFixed(3)}`);
    console.log(`${' '.repeat(name.length)}  one checkpoint write ${write.value} ms [${write.min}–${write.max}]: ${((write.value / epochMs) * 100).toFixed(2)}% of an epoch (target ≤ 2%)`);
  }
}
