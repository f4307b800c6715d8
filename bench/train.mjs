// Training speed and final accuracy on MNIST: minibatch (1 and all threads) against TF.js
// (wasm backend with one thread, cpu backend) and PyTorch (CPU, 1 and all threads; see
// train_torch.py). Same models, same data, same optimizer; each system/case trains in its
// own child process, so no JIT, heap or thread pool carries over from one to the next.
// minibatch runs twice: `minibatch-Nt` with the kernels init() picks by default (on Node 20:
// 'simd'), `minibatch-relaxed-Nt` with the 'relaxed-simd' build, whose multiply-adds are
// fused (an FMA): the build Node 22+ and Chrome 114+ pick by default, which Node 20 runs with
// --experimental-wasm-relaxed-simd (given to that child only).
//
//   node bench/train.mjs                  a human table per case, then ratios
//   node bench/train.mjs --json           one JSON object per line per figure (see DESIGN.md)
//   node bench/train.mjs --case cnn --system tfjs-cpu,torch-1t    re-run some cells
//   node bench/train.mjs --quick          a 15 s budget per cell instead of 120 s
//   node bench/train.mjs --rounds 5       every cell 5 times, the systems taking turns
//
// Rounds: this machine's cores are shared with other virtual machines, and a core's speed on
// SIMD work moves by 1.5× from one second to the next and by 2× within minutes (a scalar
// loop's by 3%), so a ratio of two cells run a minute apart says as much about the host as
// about the code (bench/README.md has the figures). With
// --rounds N every system trains N times, round after round, each round starting one system
// further on (none always first); a cell's figure is the median of its rounds' medians, and
// a ratio is the median of the rounds' ratios, each taken within one round, so both systems
// met the same host. A system that runs out of budget in the first round is not repeated (its
// first figure stands); one that errs in any round is not repeated and its row is that error.
//
// Data: the project's standard split of the `mnist` package (loadMnistSplit: 8,000 train /
// 2,000 test, seed 0), pixels in [0, 1]. This process exports it once as raw little-endian
// files (x float32 NHWC, y int32) into a temporary directory and every child reads those, so
// all systems train on the same samples.
//
// Cases: softmax cross-entropy, Adam (lr 1e-3, β 0.9/0.999, ε 1e-8), batch 64, reshuffled
// every epoch, each library's default initializers; no metric is computed during training,
// only the loss is read back after every step (as each training loop does anyway).
//   mlp  flatten → dense 256 relu → dense 128 relu → dense 10; 10 epochs = 1,250 steps
//   cnn  conv 5×5×8 'same' relu → maxpool 2 → conv 5×5×16 'same' relu → maxpool 2 →
//        flatten → dense 10; 5 epochs = 625 steps
// Long enough that the first second is a small part of a cell: V8 compiles the optimized
// code of the kernels and of the training loop in its own threads, on the same 2 cores as
// the workers, and until it is done a 2-thread run is up to 2× slower (its worker sits out
// 20–40% of the calls). The MLP's 3 epochs (375 steps, under a second) were mostly that.
//
// Runs: a run is a window of 25 consecutive training steps, timed from the end of the step
// before it to the end of its last step (the loss read-back and, across an epoch boundary,
// the reshuffle included). The first 5 steps (fewer once 10 s have passed) are a warm-up and
// are not timed. samples/s = the median window's samples / seconds, min and max the slowest
// and fastest windows: 49 windows for the MLP, 24 for the CNN (the steps after the last whole
// window train but are not timed). Test accuracy is a fraction of the 2,000 test digits,
// measured after the whole training, outside the timing.
// Budget (120 s a cell, 15 s with --quick): a system trains to the end when its pace says it
// will finish within 1.25 × the budget. Otherwise — judged after the warm-up, then again after
// each window at the pace measured so far — it times windows short enough that 3 fit in the
// budget, as many as fit (at least 3), and stops; its samples/s stands and its test accuracy
// is null, with a note saying how long the whole training would take (TF.js-cpu's CNN: an hour).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listFlag, summary, threadsFlag } from './timing.mjs';

const CASES = {
  mlp: { title: 'MLP 784-256-128-10', epochs: 10 },
  cnn: { title: 'CNN conv5×5×8 → pool → conv5×5×16 → pool → dense 10', epochs: 5 },
};
const BATCH = 64;
const LR = 1e-3;
const PACE = { window: 25, warmupSteps: 5, warmupS: 10 }; // see "Runs" above
const BUDGET_S = 120; // per cell: keeps the whole bench under 10 minutes on 2 noisy cores
const QUICK_BUDGET_S = 15;

const argv = process.argv.slice(2);

// Thread counts: 1 and all cores, or --threads-list 1,2,4.
const THREADS = argv.includes('--threads-list') ? threadsFlag(argv, 'train', availableParallelism()) : [...new Set([1, availableParallelism()])];
const SYSTEMS = [...THREADS.map((n) => `minibatch-${n}t`), ...THREADS.map((n) => `minibatch-relaxed-${n}t`), 'tfjs-wasm', 'tfjs-cpu',
  ...THREADS.map((n) => `torch-${n}t`)];
/** What a Node older than 22 needs to run the relaxed-SIMD build (Node 22+ enables it). */
const RELAXED_FLAGS = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-wasm-relaxed-simd'] : [];

// ------------------------------------------------------------------ the orchestrator

async function main() {
  const json = argv.includes('--json');
  const cases = listFlag(argv, 'train', 'case', Object.keys(CASES));
  const systems = listFlag(argv, 'train', 'system', SYSTEMS);
  const budgetS = argv.includes('--quick') ? QUICK_BUDGET_S : BUDGET_S;
  const rounds = roundsFlag(argv);
  const dir = mkdtempSync(join(tmpdir(), 'minibatch-bench-train-'));
  const records = [];
  try {
    await exportData(dir);
    const python = systems.some((s) => s.startsWith('torch')) ? findTorchPython() : null;
    if (!json) {
      console.log(`train: MNIST 8,000 train / 2,000 test, batch ${BATCH}, Adam lr ${LR}; samples/s = median [min–max] ` +
        `of ${PACE.window}-step windows after a warm-up; budget ${budgetS} s per cell` +
        (rounds > 1 ? `\n${rounds} rounds: samples/s = the median of a system's rounds' medians, [min–max] = its slowest and fastest round` : ''));
    }
    for (const kase of cases) {
      const results = new Map(systems.map((system) => [system, []])); // each system's cells, round by round
      for (let round = 0; round < rounds; round++) {
        const turn = round % systems.length;
        for (const system of [...systems.slice(turn), ...systems.slice(0, turn)]) {
          const done = results.get(system);
          if (round > 0 && (!done[0].finished || done.some((r) => r.error))) continue;
          const started = performance.now();
          results.get(system).push(runCell({ kase, system, dir, budgetS, python }));
          if (!json) console.error(`  ${kase} ${system}${rounds > 1 ? ` (round ${round + 1})` : ''}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
        }
      }
      for (const system of systems) {
        for (const r of toRecords(kase, system, results.get(system), budgetS)) {
          records.push(r);
          if (json) console.log(JSON.stringify(r));
        }
      }
      if (!json) printCase(kase, records.filter((r) => r.case === kase));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Our own failures fail the run; a peer that cannot train a model, or a JavaScript engine
  // without relaxed SIMD, is a result.
  if (records.some((r) => r.metric === 'error' && r.system.startsWith('minibatch') && !r.note.startsWith('skipped'))) process.exitCode = 1;
}

/** Writes the standard split as raw little-endian files for the children. */
async function exportData(dir) {
  const { loadMnistSplit } = await import('@minibatch/data');
  const { train, test } = loadMnistSplit();
  for (const [name, ds] of [['train', train], ['test', test]]) {
    writeFileSync(join(dir, `${name}_x.f32`), ds.x);
    writeFileSync(join(dir, `${name}_y.i32`), ds.y);
  }
}

/** The first Python that imports torch: $PYTHON, python3 on the PATH, then Debian's. */
function findTorchPython() {
  const candidates = [...new Set([process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean))];
  // A pyenv/venv python3 first on the PATH often lacks Debian's python3-torch.
  return candidates.find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) ?? null;
}

/** Runs one system on one case in a child process; returns the child's result object. */
function runCell({ kase, system, dir, budgetS, python }) {
  const out = join(dir, `result-${kase}-${system}.json`);
  const threads = Number(/-(\d+)t$/.exec(system)?.[1] ?? 1);
  const job = { case: kase, system, threads, dir, out, epochs: CASES[kase].epochs, batch: BATCH, lr: LR, budgetS, ...PACE, spawnedAt: Date.now() };
  let command, args;
  const env = { ...process.env };
  if (system.startsWith('torch')) {
    if (python === null) {
      return { error: 'skipped: no Python with torch (`python3 -c "import torch"` fails) — apt install python3-torch, or set PYTHON=/path/to/python' };
    }
    [command, args] = [python, [fileURLToPath(new URL('train_torch.py', import.meta.url)), JSON.stringify(job)]];
    // A fair peer: OpenBLAS tuned for this CPU (no forced core type or cache size), n threads.
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    env.OMP_NUM_THREADS = String(threads);
  } else {
    const flags = system.startsWith('minibatch-relaxed') ? RELAXED_FLAGS : [];
    [command, args] = [process.execPath, [...flags, fileURLToPath(import.meta.url), '--child', JSON.stringify(job)]];
  }
  // The children's own output (TF.js's hints, Python warnings) stays out of the table and the JSON.
  const run = spawnSync(command, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: (budgetS * 4 + 300) * 1000 });
  if (existsSync(out)) return JSON.parse(readFileSync(out, 'utf8'));
  const said = `${run.stderr ?? ''}${run.stdout ?? ''}`.trim().split('\n').slice(-3).join(' | ');
  return { error: `${system} exited with ${run.signal ?? run.status}${run.error ? ` (${run.error.message})` : ''}: ${said}` };
}

const sig = (x) => Number(x.toPrecision(4));

function duration(s) {
  return s < 120 ? `${Math.round(s)} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

/** `--rounds N` (a whole number from 1; 1 without the flag). */
function roundsFlag(argv) {
  const at = argv.indexOf('--rounds');
  if (at < 0) return 1;
  const n = Number(argv[at + 1]);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`train: --rounds takes a whole number of rounds from 1, got '${argv[at + 1] ?? ''}' — e.g. --rounds 5`);
    process.exit(2);
  }
  return n;
}

/**
 * The shared-format records of one system's cells (one per round): samples_per_s,
 * test_accuracy, first_step_s and peak_rss_bytes, or one error. One round: samples/s is the
 * median window, min and max the slowest and fastest windows. Several: the median of the
 * rounds' medians, min and max the slowest and fastest round, and `round_values` every
 * round's median in order, from which ratios within a round are taken.
 */
function toRecords(kase, system, results, budgetS) {
  const base = { bench: 'train', case: kase, system };
  const failed = results.findIndex((r) => r.error);
  if (failed >= 0) return [{ ...base, metric: 'error', value: null, note: `${failed > 0 ? `round ${failed + 1}: ` : ''}${results[failed].error}` }];
  const [result] = results;
  const notes = [];
  if (!result.finished) notes.push(`${result.rates.length} windows of ${result.window} step${result.window > 1 ? 's' : ''} within the ${budgetS} s budget`);
  if (result.note) notes.push(result.note);
  const roundMedians = results.map((r) => summary(r.rates, sig).value);
  const speed = results.length === 1
    ? { ...base, metric: 'samples_per_s', ...summary(result.rates, sig) }
    : { ...base, metric: 'samples_per_s', ...summary(roundMedians, sig), round_values: roundMedians };
  if (notes.length > 0) speed.note = notes.join('; ');
  const rate = speed.value;
  const epochs = CASES[kase].epochs;
  const accuracy = result.finished
    ? { ...base, metric: 'test_accuracy', ...summary(results.filter((r) => r.finished).map((r) => r.accuracy), (x) => Number(x.toFixed(4))) }
    : { ...base, metric: 'test_accuracy', value: null,
        note: `not trained to the end: ${epochs} epochs would take ${duration((epochs * result.trainCount) / rate)} at ${rate} samples/s` };
  const startup = { ...base, metric: 'first_step_s', ...summary(results.map((r) => r.firstStepS), sig), note: 'from spawning the process to its first finished training step' };
  // The largest of the rounds: what a run may need.
  const memory = { ...base, metric: 'peak_rss_bytes', value: Math.max(...results.map((r) => r.rssPeak)), runs: results.length,
    ...(result.wasmBytes !== undefined ? { wasm_memory_bytes: Math.max(...results.map((r) => r.wasmBytes)) } : {}) };
  return [speed, accuracy, startup, memory];
}

function printCase(kase, records) {
  const get = (system, metric) => records.find((r) => r.system === system && r.metric === metric);
  const systems = [...new Set(records.map((r) => r.system))];
  const fmt = (x) => x.toLocaleString('en-US', { maximumFractionDigits: x < 100 ? 1 : 0 });
  console.log(`\n${kase} — ${CASES[kase].title}, ${CASES[kase].epochs} epochs\n`);
  const rows = systems.map((system) => {
    const err = get(system, 'error');
    if (err) return [system, '—', '', '—', `error: ${err.note}`];
    const sp = get(system, 'samples_per_s');
    const acc = get(system, 'test_accuracy');
    return [system, fmt(sp.value), `[${fmt(sp.min)}–${fmt(sp.max)}]`, acc.value === null ? '—' : `${(acc.value * 100).toFixed(2)}%`,
      [sp.note, acc.note].filter(Boolean).join('; ')];
  });
  const header = ['system', 'samples/s', '[min–max]', 'test acc.'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.slice(0, 4).map((x, i) => (i === 0 || i === 2 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(line(widths.map((w) => '─'.repeat(w))));
  for (const r of rows) console.log(line(r));
  for (const r of rows) if (r[4]) console.log(`  ${r[0]}: ${r[4]}`);
  const mib = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const lifes = systems.filter((system) => get(system, 'first_step_s'));
  if (lifes.length > 0) {
    console.log('\nstart-up (spawn → first finished step) and peak memory (process RSS, the whole run)');
    const nameWidth = Math.max(...lifes.map((system) => system.length));
    for (const system of lifes) {
      const m = get(system, 'peak_rss_bytes');
      console.log(`  ${system.padEnd(nameWidth)} ${String(get(system, 'first_step_s').value).padStart(6)} s  ${mib(m.value).padStart(8)} RSS${m.wasm_memory_bytes !== undefined ? `  (WebAssembly memory ${mib(m.wasm_memory_bytes)})` : ''}`);
    }
  }
  // Ratios of our samples/s to each peer's, and to our first system's (the thread scaling),
  // from the records: of the medians, or with rounds the median of the rounds' ratios.
  const ours = systems.filter((s) => s.startsWith('minibatch') && get(s, 'samples_per_s'));
  const peers = systems.filter((s) => !s.startsWith('minibatch') && get(s, 'samples_per_s'));
  const divisors = [...ours.slice(0, ours.length > 1 ? 1 : 0), ...peers];
  if (ours.length > 0 && divisors.length > 0) {
    const paired = ours.some((s) => get(s, 'samples_per_s').round_values);
    const width = (s) => Math.max(paired ? 22 : 13, s.length + 1);
    const cell = (a, b) => {
      const r = ratioOf(get(a, 'samples_per_s'), get(b, 'samples_per_s'));
      return (r.runs > 1 ? `${r.value.toFixed(2)}× [${r.min.toFixed(2)}–${r.max.toFixed(2)}]` : `${r.value.toFixed(2)}×`).padStart(width(a));
    };
    console.log(`\nsamples/s ratio (${paired ? 'median [min–max] of the rounds\' ratios' : 'medians'})${paired ? '\n' : ''}  ${' '.repeat(paired ? 26 : 0)}${ours.map((s) => s.padStart(width(s))).join('')}`);
    for (const d of divisors) console.log(`  ÷ ${d.padEnd(23)} ${ours.map((s) => cell(s, d)).join('')}`);
  }
}

/**
 * a's samples/s ÷ b's: per round where both ran that round (a round's two cells met the same
 * host), summarised; else the ratio of the medians.
 */
function ratioOf(a, b) {
  if (a.round_values && b.round_values) {
    const n = Math.min(a.round_values.length, b.round_values.length);
    if (n > 1) return summary(a.round_values.slice(0, n).map((v, i) => v / b.round_values[i]), (x) => x);
  }
  return { value: a.value / b.value, runs: 1 };
}

// ------------------------------------------------------------------ the children

/**
 * Decides, after each training step, where the warm-up ends, how long a timed window is, and
 * whether to stop early (budget). train_torch.py's Pacer follows the same rules.
 */
class Pacer {
  constructor(job, totalSteps) {
    this.job = job;
    this.total = totalSteps;
    this.steps = 0;
    this.rates = [];
    this.window = 0; // steps per timed window; 0 while warming up
    this.timed = { steps: 0, seconds: 0 };
    this.t0 = performance.now(); // each library's setup counts in the warm-up
  }

  /** Call after every step with its sample count; false means: stop training now. */
  step(size) {
    const now = performance.now();
    const job = this.job;
    const elapsed = (now - this.t0) / 1000;
    this.steps++;
    if (this.steps === 1) this.firstStepS = (Date.now() - job.spawnedAt) / 1000; // start-up: from spawn to one finished step
    if (this.window === 0) {
      if (this.steps === 1) this.t1 = now;
      if (this.steps < job.warmupSteps && elapsed < job.warmupS) return true;
      // The pace of the steps after the first (which pays for compiling and tracing).
      const pace = this.steps > 1 ? (now - this.t1) / 1000 / (this.steps - 1) : elapsed;
      // Whole windows when the training fits the budget; else short ones, 3 to what is left.
      this.window = this.fits(elapsed, pace) ? job.window : Math.min(job.window, Math.max(1, Math.floor((job.budgetS - elapsed) / (3 * pace))));
      [this.start, this.inWindow, this.samples] = [now, 0, 0];
      return true;
    }
    this.inWindow++;
    this.samples += size;
    if (this.inWindow < this.window) return true;
    const seconds = (now - this.start) / 1000;
    this.rates.push(this.samples / seconds);
    this.timed.steps += this.window;
    this.timed.seconds += seconds;
    [this.start, this.inWindow, this.samples] = [now, 0, 0];
    // At the measured pace: train to the end if that fits; else stop once 3 windows are
    // timed and the next one would end past the budget.
    const pace = this.timed.seconds / this.timed.steps;
    return this.fits(elapsed, pace) || this.rates.length < 3 || elapsed + this.window * pace <= job.budgetS;
  }

  /** Whether the remaining steps end within the budget, with a quarter's grace so that a nearly done training finishes. */
  fits(elapsed, pace) {
    return elapsed + (this.total - this.steps) * pace <= 1.25 * this.job.budgetS;
  }

  result(extra) {
    // Peak resident memory of the whole process (worker threads included), in bytes.
    const rssPeak = process.resourceUsage().maxRSS * 1024;
    return { rates: this.rates, window: this.window, steps: this.steps, finished: this.steps === this.total, firstStepS: this.firstStepS, rssPeak, ...extra };
  }
}

/** The exported split; each array copied out of its Buffer (which need not be 4-byte aligned). */
function readData(dir) {
  const read = (name, Type) => {
    const file = join(dir, name);
    if (!existsSync(file)) throw new Error(`train: ${file} is missing — run node bench/train.mjs, which exports the data for its children`);
    const b = readFileSync(file);
    return new Type(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  };
  return { trainX: read('train_x.f32', Float32Array), trainY: read('train_y.i32', Int32Array), testX: read('test_x.f32', Float32Array), testY: read('test_y.i32', Int32Array) };
}

async function child(job) {
  let result;
  try {
    result = await (job.system.startsWith('minibatch') ? trainMinibatch(job) : trainTfjs(job));
  } catch (error) {
    result = { error: explain(error) };
  }
  writeFileSync(job.out, JSON.stringify(result));
  process.exit(0); // done: no worker thread (minibatch's pool, TF.js's) may keep the child alive
}

async function trainMinibatch(job) {
  const { init } = await import('@minibatch/core');
  const relaxed = job.system.startsWith('minibatch-relaxed');
  let engine;
  try {
    engine = await init({ threads: job.threads, ...(relaxed ? { build: 'relaxed-simd' } : {}) }); // before anything allocates: the pool starts here
  } catch (error) {
    // A JavaScript engine without relaxed SIMD is a row that says so, not a failure.
    if (relaxed) return { error: `skipped: ${explain(error)}` };
    throw error;
  }
  const threads = engine.threads ?? 1; // a core without the threads option runs one
  const { createDataset } = await import('@minibatch/data');
  const { Conv2d, Dense, Flatten, MaxPool2d, Sequential } = await import('@minibatch/layers');
  const { Adam } = await import('@minibatch/optimizers');
  const { evaluate, fit } = await import('@minibatch/train');
  const d = readData(job.dir);
  const train = createDataset(d.trainX, d.trainY, [28, 28, 1], { classes: 10 });
  const test = createDataset(d.testX, d.testY, [28, 28, 1], { classes: 10 });
  const layers = job.case === 'mlp'
    ? [new Flatten(), new Dense({ units: 256, activation: 'relu' }), new Dense({ units: 128, activation: 'relu' }), new Dense({ units: 10 })]
    : [
        new Conv2d({ filters: 8, kernelSize: 5, padding: 'same', activation: 'relu' }), new MaxPool2d({ poolSize: 2 }),
        new Conv2d({ filters: 16, kernelSize: 5, padding: 'same', activation: 'relu' }), new MaxPool2d({ poolSize: 2 }),
        new Flatten(), new Dense({ units: 10 }),
      ];
  const model = new Sequential(layers, { seed: 1 });
  const pacer = new Pacer(job, job.epochs * Math.ceil(train.count / job.batch));
  const stop = new Error('budget spent'); // fit has no stop-mid-epoch switch: a callback throws this
  try {
    fit(model, train, {
      epochs: job.epochs, batchSize: job.batch, seed: 1, metrics: [], optimizer: new Adam(undefined, { lr: job.lr }),
      callbacks: { onBatchEnd: ({ size }) => { if (!pacer.step(size)) throw stop; } },
    });
  } catch (error) {
    if (error !== stop) throw error;
  }
  const finished = pacer.steps === pacer.total;
  const note = `${engine.build} kernels, ${threads} thread${threads > 1 ? 's' : ''}${threads !== job.threads ? ` (asked for ${job.threads})` : ''}`;
  const accuracy = finished ? evaluate(model, test).accuracy : null;
  return pacer.result({ trainCount: train.count, accuracy, note, wasmBytes: engine.stats().memoryBytes });
}

async function trainTfjs(job) {
  const tf = await import('@tensorflow/tfjs');
  const backend = job.system.slice('tfjs-'.length);
  if (backend === 'wasm') (await import('@tensorflow/tfjs-backend-wasm')).setThreadsCount(1); // before setBackend
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
  await tf.ready();
  const d = readData(job.dir);
  const n = d.trainY.length;
  const L = tf.layers;
  // Softmax output + categorical cross-entropy on one-hot labels: TF.js's usual classifier.
  const layers = job.case === 'mlp'
    ? [L.flatten({ inputShape: [28, 28, 1] }), L.dense({ units: 256, activation: 'relu' }), L.dense({ units: 128, activation: 'relu' }),
        L.dense({ units: 10, activation: 'softmax' })]
    : [
        L.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 5, padding: 'same', activation: 'relu' }), L.maxPooling2d({ poolSize: 2 }),
        L.conv2d({ filters: 16, kernelSize: 5, padding: 'same', activation: 'relu' }), L.maxPooling2d({ poolSize: 2 }),
        L.flatten(), L.dense({ units: 10, activation: 'softmax' }),
      ];
  const model = tf.sequential({ layers });
  model.compile({ optimizer: tf.train.adam(job.lr, 0.9, 0.999, 1e-8), loss: 'categoricalCrossentropy' }); // TF.js's default ε is 1e-7
  const x = tf.tensor4d(d.trainX, [n, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(d.trainY, 'int32'), 10);
  const pacer = new Pacer(job, job.epochs * Math.ceil(n / job.batch));
  await model.fit(x, y, {
    batchSize: job.batch, epochs: job.epochs, shuffle: true, verbose: 0,
    callbacks: { onBatchEnd: (_, logs) => { if (!pacer.step(logs.size)) model.stopTraining = true; } },
  });
  let accuracy = null;
  if (pacer.steps === pacer.total) {
    const predicted = tf.tidy(() => model.predict(tf.tensor4d(d.testX, [d.testY.length, 28, 28, 1]), { batchSize: 256 }).argMax(-1)).dataSync();
    accuracy = predicted.reduce((hits, p, i) => hits + (p === d.testY[i] ? 1 : 0), 0) / d.testY.length;
  }
  return pacer.result({ trainCount: n, accuracy });
}

/** An error's first line, with what to do when the packages have not been built. */
function explain(error) {
  const message = String(error?.message ?? error).split('\n')[0];
  return error?.code === 'ERR_MODULE_NOT_FOUND' ? `${message} — build the packages first: pnpm turbo run build` : message;
}

// Last, so that every const above is initialized: a child, or the orchestrator.
if (argv[0] === '--child') await child(JSON.parse(argv[1]));
else {
  await main().catch((error) => {
    console.error(`train: ${explain(error)}`);
    process.exitCode = 1;
  });
}
