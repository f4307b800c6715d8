// Search throughput: the same trials (the MNIST MLP, about 10 s each on one thread) run by 1
// and by 2 local processes — trials per hour and the speed-up (target ≥ 1.8× at K = 2), beside
// the machine's own ceiling (two plain training processes at once against one) — and
// through the BullMQ queue with one `minibatch worker` against one local process: the queue's
// overhead per trial (target ≤ 5% of a 10-second trial). The queue part needs redis-server
// (Debian package); without it that part is left out, said so.
//
//   node search.mjs [--json] [--trials 6]
// (The queue's figure is the whole-search wall time against the mean of a local run before
// and after it, per trial; noise of ±5% of a trial between runs is normal here.)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRunner, QueueRunner, parseSearchConfig, runSearch } from '@minibatch/train/search';

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const at = argv.indexOf('--trials');
const TRIALS = at >= 0 ? Number(argv[at + 1]) : 6;
const CLI = new URL('../apps/cli/dist/main.js', import.meta.url).pathname;

const base = {
  data: { name: 'mnist', testCount: 2000 },
  preprocessing: [{ name: 'center', config: { per: 'feature' } }],
  model: [{ name: 'flatten' }, { name: 'dense', config: { units: 256, activation: 'relu' } }, { name: 'dense', config: { units: 10 } }],
  optimizer: { name: 'adam', config: { lr: 0.001 } },
  epochs: 30,
  seed: 1,
};
// A fresh seed per measurement: the trials are alike, but none is found done already.
const search = (seed) => parseSearchConfig({ base, space: { 'optimizer.config.lr': { kind: 'logUniform', low: 3e-4, high: 3e-3 } }, trials: TRIALS, seed });

async function timed(runner, seed) {
  const out = mkdtempSync(join(tmpdir(), 'minibatch-bench-search-'));
  try {
    const t0 = performance.now();
    const outcome = await runSearch(search(seed), { out, runner });
    const seconds = (performance.now() - t0) / 1000;
    if (outcome.results.some((r) => r.status !== 'ok')) throw new Error(`a trial failed: ${JSON.stringify(outcome.results.find((r) => r.status !== 'ok'))}`);
    return { seconds, trialSeconds: outcome.results.reduce((s, r) => s + r.seconds, 0) / outcome.results.length };
  } finally {
    await runner.close();
    rmSync(out, { recursive: true, force: true });
  }
}

const records = [];
const record = (system, metric, value, extra = {}) => records.push({ bench: 'search', case: `mnist-mlp-${TRIALS}-trials`, system, metric, value: Number(value.toPrecision(4)), ...extra });

/** Wall seconds of `count` plain `minibatch train` runs of the base config at once, one thread each: the machine's own ceiling. */
async function plainRuns(count) {
  const dir = mkdtempSync(join(tmpdir(), 'minibatch-bench-plain-'));
  const file = join(dir, 'base.json');
  writeFileSync(file, JSON.stringify({ ...base, data: { ...base.data, validation: 0.1 } }));
  const t0 = performance.now();
  await Promise.all(Array.from({ length: count }, () => new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'train', file, '--threads', '1', '--json'], { stdio: 'ignore' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`train exited ${code}`))));
  })));
  const seconds = (performance.now() - t0) / 1000;
  rmSync(dir, { recursive: true, force: true });
  return seconds;
}

const alone = await plainRuns(1);
const pair = await plainRuns(2);
record('plain-train-2-vs-1', 'speedup', (2 * alone) / pair);

const one = await timed(new LocalRunner({ workers: 1 }), 11);
const two = await timed(new LocalRunner({ workers: 2 }), 12);
record('local-1-process', 'trials_per_hour', (TRIALS / one.seconds) * 3600, { trial_s: Number(one.trialSeconds.toFixed(2)) });
record('local-2-processes', 'trials_per_hour', (TRIALS / two.seconds) * 3600, { trial_s: Number(two.trialSeconds.toFixed(2)) });
record('local-2-vs-1', 'speedup', one.seconds / two.seconds);

const redisServer = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
let queueNote = '';
if (redisServer === undefined) queueNote = 'queue: left out (redis-server is not installed: apt-get install redis-server)';
else {
  const port = await new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = server.address();
      server.close(() => resolve(free));
    });
  });
  const redis = spawn(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100 && spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 100));
    const url = `redis://127.0.0.1:${port}`;
    const s = search(13);
    const runner = await QueueRunner.connect(url, s, { slots: 1 });
    const worker = spawn(process.execPath, [CLI, 'worker', '--queue', url], { stdio: 'ignore' });
    // Local before and after the queue (order effects cancel); each run a search of its own.
    const before = await timed(new LocalRunner({ workers: 1 }), 14);
    const queued = await timed(runner, 13);
    const after = await timed(new LocalRunner({ workers: 1 }), 15);
    worker.kill('SIGTERM');
    const local = { seconds: (before.seconds + after.seconds) / 2, trialSeconds: (before.trialSeconds + after.trialSeconds) / 2 };
    const overhead = (queued.seconds - local.seconds) / TRIALS;
    record('local-1-process-again', 'trials_per_hour', (TRIALS / local.seconds) * 3600);
    record('queue-1-worker', 'trials_per_hour', (TRIALS / queued.seconds) * 3600);
    record('queue-overhead', 'seconds_per_trial', overhead, { share_of_trial: Number((overhead / local.trialSeconds).toFixed(4)) });
  } finally {
    redis.kill();
  }
}

if (json) for (const r of records) console.log(JSON.stringify(r));
else {
  const get = (system) => records.find((r) => r.system === system);
  console.log(`search — ${TRIALS} trials of the MNIST MLP (${base.epochs} epochs of 7,200 samples, 1 thread each), wall time of the whole search`);
  console.log(`  1 local process:   ${get('local-1-process').value} trials/hour (a trial: ${get('local-1-process').trial_s} s)`);
  console.log(`  2 local processes: ${get('local-2-processes').value} trials/hour — ${get('local-2-vs-1').value}× (target ≥ 1.8×)`);
  console.log(`  this machine's own ceiling: two plain \`minibatch train\` runs at once do ${get('plain-train-2-vs-1').value}× the work of one`);
  if (queueNote !== '') console.log(`  ${queueNote}`);
  else {
    const o = get('queue-overhead');
    console.log(`  queue, 1 worker:   ${get('queue-1-worker').value} trials/hour against ${get('local-1-process-again').value} local: ${o.value} s per trial, ${(o.share_of_trial * 100).toFixed(2)}% of a trial (target ≤ 5%)`);
  }
}
