// Thread scaling: the 1024³ GEMM and the training of the MNIST MLP and CNN (bench/train.mjs's
// cases) at each thread count, with the speed-up over one thread and the parallel efficiency
// (speed-up ÷ threads) per point — so how minibatch scales on a bigger machine reads off one
// command there.
//
//   node bench/scaling.mjs [--threads-list 1,2,4,8] [--json] [--quick]
//
// Default thread counts: 1, 2, 4, … up to the machine's cores, and the cores. Every count
// gets an engine of its own in this one process, and the engines take turns, so a slow
// stretch of a shared host hits all counts alike: on this project's machine a core's speed on
// SIMD work moves by 1.5× from one second to the next and by 2× within minutes, and counts
// measured in separate processes a minute apart gave a 2-thread MLP anywhere from 0.9× to
// 1.4× its 1-thread speed (bench/README.md, train.mjs's rounds). The
// speed-up of a count is the median over the turns of its figure ÷ the 1-thread figure of the
// same turn; min and max its slowest and fastest turn.
// GEMM: one timed call per turn, 20 turns after 5 of warm-up. Training: each engine trains its
// own model (same initial weights, same batches) with trainStep, 25 steps a turn, each turn's samples/s
// one figure; 8 warm-up turns first (V8 compiles the optimized code of the kernels and of the
// training loop in the first second), then 20 timed turns (8 with --quick). Start-up and that
// first second are train.mjs's subject (`first_step_s` and its cells).
import { availableParallelism } from 'node:os';
import { Rng, createEngine, matmul, tensor, useEngine } from '@minibatch/core';
import { DataLoader, createDataset, loadMnistSplit } from '@minibatch/data';
import { losses, modelFromConfig } from '@minibatch/layers';
import { Adam } from '@minibatch/optimizers';
import { defaultRegistry, trainStep } from '@minibatch/train';
import { MNIST_MODELS } from './models.mjs';
import { summary, threadsFlag } from './timing.mjs';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const counts = threadsFlag(argv, 'scaling', availableParallelism());
const records = [];
/** Each record's figures turn by turn, for the speed-ups within a turn. */
const turnsOf = new Map();

/**
 * The runs take turns: each calls `run.call()` once a turn, on its own engine; after `warmup`
 * turns every call's rate (`units` per second) goes into run.rates.
 */
function takeTurns(runs, warmup, timed, units) {
  for (let turn = 0; turn < warmup + timed; turn++) {
    for (const run of runs) {
      useEngine(run.e);
      const t0 = performance.now();
      run.call();
      if (turn >= warmup) run.rates.push((units * 1000) / (performance.now() - t0));
    }
  }
}

// GEMM 1024³.
const N = 1024;
const rng = new Rng(1);
const A = Float32Array.from({ length: N * N }, () => rng.normal());
const B = Float32Array.from({ length: N * N }, () => rng.normal());
const engines = [];
for (const threads of counts) {
  const e = await createEngine({ threads });
  useEngine(e);
  const a = tensor(A, [N, N]);
  const b = tensor(B, [N, N]);
  engines.push({ threads, e, call: () => matmul(a, b).dispose(), rates: [] });
}
takeTurns(engines, 5, 20, (2 * N ** 3) / 1e9);
for (const x of engines) {
  const record = { bench: 'scaling', case: `gemm-${N}`, system: `minibatch-${x.threads}t`, threads: x.threads, metric: 'gflops', build: x.e.build, ...summary(x.rates) };
  records.push(record);
  turnsOf.set(record, x.rates);
  x.e.close();
}

// Training: the same turns, 25 steps each.
const { train: trainSet } = loadMnistSplit();
const trainData = createDataset(trainSet.x, trainSet.y, [28, 28, 1], { classes: 10 });
const STEPS = 25;
const WARMUP_TURNS = 8;
const TIMED_TURNS = argv.includes('--quick') ? 8 : 20;
for (const [kase, spec] of Object.entries(MNIST_MODELS)) {
  const runs = [];
  for (const threads of counts) {
    const e = await createEngine({ threads });
    await e.ready();
    useEngine(e);
    const model = modelFromConfig(defaultRegistry(), spec);
    model.build(trainData.shape);
    model.train();
    const optimizer = new Adam(model.trainableParameters(), { lr: 1e-3 });
    const batches = new DataLoader(trainData, { batchSize: 64, seed: 1 }).stream();
    const loss = losses.softmaxCrossEntropy();
    const call = () => {
      for (let i = 0; i < STEPS; i++) trainStep(model, batches.next().value, { loss, optimizer });
    };
    runs.push({ threads, e, model, optimizer, call, rates: [] });
  }
  takeTurns(runs, WARMUP_TURNS, TIMED_TURNS, STEPS * 64);
  for (const run of runs) {
    const record = { bench: 'scaling', case: kase, system: `minibatch-${run.threads}t`, threads: run.threads, metric: 'samples_per_s', build: run.e.build, ...summary(run.rates) };
    records.push(record);
    turnsOf.set(record, run.rates);
    run.optimizer.dispose();
    run.model.dispose();
    run.e.close();
  }
}

// Speed-up and efficiency against the one-thread figure of the same case and turn.
for (const r of records) {
  const one = records.find((o) => o.case === r.case && o.threads === 1);
  if (one === undefined) continue;
  const ones = turnsOf.get(one);
  const speedup = summary(turnsOf.get(r).map((v, i) => v / ones[i]), (x) => Number(x.toFixed(3)));
  r.speedup = speedup.value;
  [r.speedup_min, r.speedup_max] = [speedup.min, speedup.max];
  r.efficiency = Number((r.speedup / r.threads).toFixed(3));
}

if (json) for (const r of records) console.log(JSON.stringify(r));
else {
  console.log(`thread scaling on ${availableParallelism()} cores — medians [min–max] of the turns, speed-up over 1 thread in the same turn, parallel efficiency (speed-up ÷ threads)\n`);
  for (const kase of [...new Set(records.map((r) => r.case))]) {
    const unit = records.find((r) => r.case === kase).metric === 'gflops' ? 'GFLOP/s' : 'samples/s';
    console.log(kase);
    for (const r of records.filter((x) => x.case === kase)) {
      console.log(`  ${String(r.threads).padStart(2)} thread${r.threads === 1 ? ' ' : 's'}  ${String(r.value).padStart(8)} ${unit}  [${r.min}–${r.max}]` +
        (r.speedup !== undefined ? `  ${r.speedup.toFixed(2)}× [${r.speedup_min.toFixed(2)}–${r.speedup_max.toFixed(2)}]  efficiency ${(r.efficiency * 100).toFixed(0)}%` : ''));
    }
  }
}
