// Thread scaling: the 1024³ GEMM and the training of the MNIST MLP and CNN (bench/train.mjs's
// cells, one child process per thread count) at each thread count, with the speed-up over one
// thread and the parallel efficiency (speed-up ÷ threads) per point — so how minibatch scales
// on a bigger machine reads off one command there.
//
//   node bench/scaling.mjs [--threads-list 1,2,4,8] [--json] [--quick]
//
// Default thread counts: 1, 2, 4, … up to the machine's cores, and the cores. GEMM: one engine
// per count, taking turns one timed call each (a slow stretch of a shared host hits all
// alike), 20 timed calls after 5 of warm-up. Training: train.mjs's rules (its budget per cell,
// 15 s with --quick).
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Rng, createEngine, matmul, tensor, useEngine } from '@minibatch/core';
import { summary, threadsFlag } from './timing.mjs';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const counts = threadsFlag(argv, 'scaling', availableParallelism());
const records = [];

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
  engines.push({ threads, e, call: () => matmul(a, b).dispose(), gflops: [] });
}
for (let r = 0; r < 25; r++) {
  for (const x of engines) {
    useEngine(x.e);
    const t0 = performance.now();
    x.call();
    if (r >= 5) x.gflops.push((2 * N ** 3) / ((performance.now() - t0) * 1e6));
  }
}
for (const x of engines) {
  records.push({ bench: 'scaling', case: `gemm-${N}`, system: `minibatch-${x.threads}t`, threads: x.threads, metric: 'gflops', build: x.e.build, ...summary(x.gflops) });
  x.e.close();
}

// Training: train.mjs's minibatch cells at each count, in its child processes.
const train = spawnSync(process.execPath, [
  fileURLToPath(new URL('./train.mjs', import.meta.url)), '--json', '--threads-list', counts.join(','),
  '--system', counts.map((n) => `minibatch-${n}t`).join(','), ...(argv.includes('--quick') ? ['--quick'] : []),
], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
if (train.status !== 0) {
  console.error(`scaling: train.mjs exited ${train.status}`);
  process.exit(1);
}
for (const line of train.stdout.split('\n').filter((l) => l.startsWith('{'))) {
  const r = JSON.parse(line);
  if (r.metric !== 'samples_per_s') continue;
  records.push({ ...r, bench: 'scaling', threads: Number(/-(\d+)t$/.exec(r.system)[1]) });
}

// Speed-up and efficiency against the one-thread figure of the same case.
for (const r of records) {
  const one = records.find((o) => o.case === r.case && o.threads === 1);
  if (one === undefined) continue;
  r.speedup = Number((r.value / one.value).toFixed(3));
  r.efficiency = Number((r.speedup / r.threads).toFixed(3));
}

if (json) for (const r of records) console.log(JSON.stringify(r));
else {
  console.log(`thread scaling on ${availableParallelism()} cores — medians, speed-up over 1 thread, parallel efficiency (speed-up ÷ threads)\n`);
  for (const kase of [...new Set(records.map((r) => r.case))]) {
    const unit = records.find((r) => r.case === kase).metric === 'gflops' ? 'GFLOP/s' : 'samples/s';
    console.log(kase);
    for (const r of records.filter((x) => x.case === kase)) {
      console.log(`  ${String(r.threads).padStart(2)} thread${r.threads === 1 ? ' ' : 's'}  ${String(r.value).padStart(8)} ${unit}  [${r.min}–${r.max}]` +
        (r.speedup !== undefined ? `  ${r.speedup.toFixed(2)}×  efficiency ${(r.efficiency * 100).toFixed(0)}%` : ''));
    }
  }
}
