// Single-thread f32 GEMM: minibatch (assembly/gemm.ts, SIMD build) against
// @tensorflow/tfjs-backend-wasm with one thread, same matrices, same process.
//
//   node bench/gemm.mjs          a human table of GFLOP/s (2·m·n·k / time)
//   node bench/gemm.mjs --json   one JSON object per line per figure (see DESIGN.md)
//
// Each figure: warm-up calls (so V8 has tiered the code up), then `runs` timed runs of
// one or more back-to-back calls; `value` is the median run, `min`/`max` the slowest and
// fastest. TF.js runs `tf.matMul(a, b, transposeA, transposeB)` + `dataSync()` on tensors
// already in its memory; minibatch runs `gemm` on matrices already in its memory.
import { createEngine, hardwareThreads, matmul, tensor, useEngine } from '@minibatch/core';
import { rates, summary } from './timing.mjs';
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

const json = process.argv.includes('--json');
const SIZES = [256, 512, 1024];
const CASES = ['NN', 'NT', 'TN'];
const RUN_MS = 150; // a timed run repeats the call until it lasts about this long
const FIGURE_MS = 2500; // aim for about this much timing per figure (3 to 7 runs)

/** Deterministic inputs in [-1, 1): both systems multiply the same numbers. */
function randomMatrix(len, seed) {
  const out = new Float32Array(len);
  let s = seed >>> 0;
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** GFLOP/s of each timed run of `call` (`flop` floating-point operations per call). */
const measure = (call, flop) => rates(call, flop / 1e9, { runMs: RUN_MS, figureMs: FIGURE_MS });
const oneDecimal = (x) => Math.round(x * 10) / 10;

const results = [];
function record(caseName, system, gflops, note) {
  const r = gflops
    ? { bench: 'gemm', case: caseName, system, metric: 'gflops', ...summary(gflops, oneDecimal) }
    : { bench: 'gemm', case: caseName, system, metric: 'gflops', value: null, note };
  results.push(r);
  if (json) console.log(JSON.stringify(r));
  else if (!gflops) console.error(`${caseName} ${system}: ${note}`);
  return r;
}

// minibatch: one engine, matrices allocated once at the largest size.
const engine = await createEngine({ build: 'simd' });
const N = Math.max(...SIZES);
const A = randomMatrix(N * N, 1), B = randomMatrix(N * N, 2);
const pa = engine.alloc(N * N * 4), pb = engine.alloc(N * N * 4), pc = engine.alloc(N * N * 4);
const scratch = engine.scratch(engine.kernels.gemmScratchBytes());
const k = engine.kernels;
{
  // Tier-up warm-up of every variant at a small size.
  engine.f32(pa, N * N).set(A);
  engine.f32(pb, N * N).set(B);
  for (let w = 0; w < 20; w++) for (const [ta, tb] of [[0, 0], [0, 1], [1, 0], [1, 1]]) k.gemm(ta, tb, 128, 128, 128, pa, 128, pb, 128, pc, 128, 0, scratch);
}

// TF.js, WebAssembly backend, one thread.
let tfError = null;
try {
  setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
  await tf.ready();
} catch (err) {
  tfError = String(err?.message ?? err);
}

if (!json) console.log(`gemm, f32, single thread — GFLOP/s, median [min–max] of timed runs\n`);
const rows = [];
for (const name of CASES) {
  const [ta, tb] = [name[0] === 'T' ? 1 : 0, name[1] === 'T' ? 1 : 0];
  for (const s of SIZES) {
    const caseName = `${name}-${s}`;
    const flop = 2 * s * s * s;
    const a = A.subarray(0, s * s), b = B.subarray(0, s * s);
    engine.f32(pa, s * s).set(a);
    engine.f32(pb, s * s).set(b);
    const mb = record(caseName, 'minibatch', measure(() => k.gemm(ta, tb, s, s, s, pa, s, pb, s, pc, s, 0, scratch), flop));
    let tfr;
    if (tfError) tfr = record(caseName, 'tfjs-wasm', null, tfError);
    else {
      const ta2 = tf.tensor2d(a, [s, s]), tb2 = tf.tensor2d(b, [s, s]);
      const call = () => {
        const c = tf.matMul(ta2, tb2, ta === 1, tb === 1);
        c.dataSync();
        c.dispose();
      };
      // Both systems must compute the same product before their speeds are compared.
      const c = tf.matMul(ta2, tb2, ta === 1, tb === 1);
      const ours = engine.f32(pc, s * s), theirs = c.dataSync();
      let worst = 0;
      for (let i = 0; i < s * s; i += 97) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]) / (1 + Math.abs(theirs[i])));
      c.dispose();
      if (worst > 1e-3) throw new Error(`${caseName}: minibatch and tfjs-wasm disagree (relative difference ${worst})`);
      tfr = record(caseName, 'tfjs-wasm', measure(call, flop));
      ta2.dispose();
      tb2.dispose();
    }
    rows.push([caseName, mb, tfr]);
  }
}

if (!json) {
  const cell = (r) => (r.value === null ? 'error' : `${r.value.toFixed(1)} [${r.min.toFixed(1)}–${r.max.toFixed(1)}]`);
  const header = ['case', 'minibatch', 'tfjs-wasm (1 thread)', 'ratio'];
  const lines = rows.map(([c, mb, t]) => [c, cell(mb), cell(t), t.value ? `${(mb.value / t.value).toFixed(2)}×` : '—']);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (l) => l.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('   ');
  console.log(fmt(header));
  console.log(widths.map((w) => '─'.repeat(w)).join('   '));
  for (const l of lines) console.log(fmt(l));
  console.log(`\nratio = minibatch / tfjs-wasm (medians). Node ${process.versions.node}, V8 ${process.versions.v8}.`);
}

// Thread scaling: the same 1024³ product through `matmul` (which splits it over the
// engine's worker pool) in an engine of 1 thread and one of every core. The engines take
// turns, one timed call each, so that a slow stretch of this shared host hits both alike.
const SCALE = 1024;
const counts = [...new Set([1, hardwareThreads()])];
const engines = [];
for (const threads of counts) {
  const e = await createEngine({ threads });
  useEngine(e);
  const a = tensor(A.subarray(0, SCALE * SCALE), [SCALE, SCALE]), b = tensor(B.subarray(0, SCALE * SCALE), [SCALE, SCALE]);
  engines.push({ e, call: () => matmul(a, b).dispose(), gflops: [] });
}
for (let r = 0; r < 25; r++) {
  for (const x of engines) {
    useEngine(x.e);
    const t0 = performance.now();
    x.call();
    if (r >= 5) x.gflops.push((2 * SCALE ** 3) / ((performance.now() - t0) * 1e6)); // the first 5 warm up
  }
}
const scaling = engines.map((x, i) => ({ ...record(`NN-${SCALE}`, `minibatch-${counts[i]}t`, x.gflops), build: x.e.build }));
for (const x of engines) x.e.close();
if (!json) {
  console.log(`\nthread scaling, NN-${SCALE} through matmul, engines taking turns — GFLOP/s, median [min–max]`);
  for (const r of scaling) {
    console.log(`${r.system.padEnd(14)} ${r.build.padEnd(13)} ${r.value.toFixed(1)} [${r.min.toFixed(1)}–${r.max.toFixed(1)}]   ${(r.value / scaling[0].value).toFixed(2)}×`);
  }
}
