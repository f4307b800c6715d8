// One Adam step over 1M parameters: minibatch's Adam (fused SIMD update kernels) against
// TF.js `tf.train.adam` on the wasm backend (one thread), in the same process, on the same
// parameters and gradients. `--json` prints one record per figure in the shared format.
//
//   node optim.mjs [--json] [--runs 7] [--steps 20] [--size 1000000]
import { Rng, engine, keep, tensor } from '@minibatch/core';
import { Adam } from '@minibatch/optimizers';
import * as tf from '@tensorflow/tfjs-core';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const RUNS = arg('runs', 7);
const STEPS = arg('steps', 20);
const N = arg('size', 1_000_000);
const WARMUP = 5;
const CASE = N === 1_000_000 ? 'adam-1M' : `adam-${N}`;
const LR = 1e-3;

/** steps/s of `step`: WARMUP calls, then RUNS timings of STEPS calls each; median, min, max. */
function measure(step) {
  for (let i = 0; i < WARMUP; i++) step();
  const rates = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < STEPS; i++) step();
    rates.push((STEPS * 1000) / (performance.now() - t0));
  }
  rates.sort((a, b) => a - b);
  return { value: rates[Math.floor(rates.length / 2)], min: rates[0], max: rates[rates.length - 1], runs: RUNS };
}

// The same starting parameters and gradient for both systems.
const rng = new Rng(42);
const init = new Float32Array(N);
const grad = new Float32Array(N);
for (let i = 0; i < N; i++) {
  init[i] = rng.normal();
  grad[i] = rng.normal();
}

const records = [];
const round = (x) => Number(x.toPrecision(4));
const record = (system, m, extra = {}) =>
  records.push({ bench: 'optim', case: CASE, system, metric: 'steps_per_s', value: m === null ? null : round(m.value),
    ...(m === null ? {} : { min: round(m.min), max: round(m.max), runs: m.runs }), ...extra });

// ---------------------------------------------------------------- minibatch
const p = keep(tensor(init).setRequiresGrad());
p.grad = keep(tensor(grad));
const opt = new Adam([p], { lr: LR });
const mbStep = () => opt.step();
for (let i = 0; i < WARMUP; i++) mbStep();
const mbAfterWarmup = p.data();
const mb = measure(mbStep);
const live = engine().stats().liveBlocks;
record(engine().build === 'scalar' ? 'minibatch-scalar' : 'minibatch', mb);

// ---------------------------------------------------------------- TF.js, wasm backend
let note = '';
try {
  tfwasm.setThreadsCount?.(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
  await tf.ready();
  const v = tf.variable(tf.tensor1d(init), true, 'w');
  const g = tf.tensor1d(grad);
  const adam = tf.train.adam(LR, 0.9, 0.999, 1e-8); // same hyper-parameters (TF.js's default eps is 1e-7)
  const tfStep = () => adam.applyGradients({ w: g });
  for (let i = 0; i < WARMUP; i++) tfStep();
  // Same work: after the same number of steps both hold the same parameters (to float32 rounding).
  const tfAfterWarmup = v.dataSync();
  let diff = 0;
  for (let i = 0; i < N; i++) diff = Math.max(diff, Math.abs(tfAfterWarmup[i] - mbAfterWarmup[i]));
  note = `max |Δparam| after ${WARMUP} steps: ${diff.toExponential(2)}`;
  const tensorsBefore = tf.memory().numTensors;
  const tfm = measure(tfStep);
  if (tf.memory().numTensors !== tensorsBefore) note += `; TF.js tensors grew ${tensorsBefore} -> ${tf.memory().numTensors}`;
  record('tfjs-wasm', tfm);
} catch (error) {
  record('tfjs-wasm', null, { note: String(error?.message ?? error) });
}

if (json) {
  for (const r of records) console.log(JSON.stringify(r));
} else {
  const n = N.toLocaleString('en-US');
  console.log(`optim: one Adam step over ${n} parameters — median of ${RUNS} runs × ${STEPS} steps (after ${WARMUP} warm-up steps)\n`);
  console.log(`${'system'.padEnd(18)}${'steps/s'.padStart(10)}${'min'.padStart(10)}${'max'.padStart(10)}${'ms/step'.padStart(10)}`);
  for (const r of records) {
    if (r.value === null) console.log(`${r.system.padEnd(18)}${'error'.padStart(10)}  ${r.note}`);
    else console.log(`${r.system.padEnd(18)}${String(r.value).padStart(10)}${String(r.min).padStart(10)}${String(r.max).padStart(10)}${(1000 / r.value).toFixed(2).padStart(10)}`);
  }
  const [a, b] = records;
  if (a.value !== null && b.value !== null) console.log(`\n${a.system} / ${b.system}: ${(a.value / b.value).toFixed(2)}× (target ≥ 2×)`);
  if (note) console.log(note);
  console.log(`minibatch live blocks after the runs: ${live} (flat: state is kept, each step's temporaries are freed)`);
}
