// The cost of watching a run: `fit` on MNIST (8,000 samples, batch 64, Adam 1e-3) with the
// monitors at their default interval (every 100 steps: a copy of the weights, the update
// ratios, a 256-sample probe's activations, diagnoses) against the same epoch unwatched, in
// the same process, alternating so that drift hits both. Target: ≥ 0.95× the unwatched rate.
//
//   node monitors.mjs [--json] [--runs 5] [--case mlp,cnn]
import { loadMnistSplit } from '@minibatch/data';
import { modelFromConfig } from '@minibatch/layers';
import { Adam } from '@minibatch/optimizers';
import { Rng } from '@minibatch/core';
import { Monitor, defaultRegistry, fit } from '@minibatch/train';
import { MNIST_MODELS, runsFlag } from './models.mjs';
import { listFlag, summary } from './timing.mjs';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const RUNS = runsFlag(argv, 5);
const CASES = MNIST_MODELS;
const cases = listFlag(argv, 'monitors', 'case', Object.keys(CASES));
const { train, test } = loadMnistSplit();

/** Samples/s of one epoch of fit, watched or not, from the same initial weights. */
function epochRate(spec, watched) {
  const model = modelFromConfig(defaultRegistry(), spec);
  const records = [];
  const t0 = performance.now();
  fit(model, train, {
    epochs: 1, batchSize: 64, seed: 1, metrics: [], optimizer: new Adam(undefined, { lr: 1e-3 }),
    ...(watched ? { monitors: true, validation: test, callbacks: { onMonitor: (r) => records.push(r) } } : { validation: test }),
  });
  const rate = train.count / ((performance.now() - t0) / 1000);
  model.dispose();
  if (watched && records.length !== Math.ceil(Math.ceil(train.count / 64) / 100)) throw new Error(`expected a record every 100 steps, got ${records.length}`);
  return rate;
}

/** Milliseconds of one watched step's extra work (the copy before, the measurements after), median of 21. */
function recordCost(spec) {
  const model = modelFromConfig(defaultRegistry(), spec);
  model.build(train.shape, new Rng(1));
  const monitor = new Monitor(true, train, test);
  const times = [];
  for (let i = 0; i < 21; i++) {
    const t0 = performance.now();
    monitor.before(model, 0);
    monitor.after(model, 0, 1);
    times.push(performance.now() - t0);
  }
  model.dispose();
  return summary(times);
}

const records = [];
for (const name of cases) {
  records.push({ bench: 'monitors', case: name, system: 'monitor-record', metric: 'ms', ...recordCost(CASES[name]) });
  epochRate(CASES[name], false); // warm-up
  const plain = [];
  const watched = [];
  for (let r = 0; r < RUNS; r++) {
    plain.push(epochRate(CASES[name], false));
    watched.push(epochRate(CASES[name], true));
  }
  for (const [system, rates] of [['unwatched', plain], ['monitors-100', watched]]) {
    records.push({ bench: 'monitors', case: name, system, metric: 'samples_per_s', ...summary(rates) });
  }
}

if (json) for (const r of records) console.log(JSON.stringify(r));
else {
  console.log(`monitors — one epoch of fit on 8,000 MNIST digits (batch 64, Adam, with validation), median [min–max] of ${RUNS} alternating runs`);
  for (const name of cases) {
    const [plain, watched] = ['unwatched', 'monitors-100'].map((s) => records.find((r) => r.case === name && r.system === s));
    const cost = records.find((r) => r.case === name && r.system === 'monitor-record');
    // The steady-state share: one record per 100 steps of 64 samples at the unwatched rate.
    const share = cost.value / ((100 * 64 * 1000) / plain.value);
    console.log(`${name}  unwatched ${plain.value} [${plain.min}–${plain.max}]  monitors every 100 steps ${watched.value} [${watched.min}–${watched.max}] samples/s  ratio ${(watched.value / plain.value).toFixed(3)} (target ≥ 0.95)`);
    console.log(`${' '.repeat(name.length)}  one record costs ${cost.value} ms [${cost.min}–${cost.max}]: ${(share * 100).toFixed(1)}% of 100 steps (target ≤ 5%)`);
  }
}
