// `minibatch search` and `minibatch worker` as processes: a local search's files and table; a
// distributed one through a real Redis (started here on a free port) with two workers, one
// killed with SIGKILL in the middle of a trial — its trial goes to the other worker, and every
// trial is on record exactly once; a worker of another version refused; no Redis, a clear error.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/index.js';
import { capture, configFile } from './helpers.js';

const binary = join(import.meta.dirname, '../dist/main.js');
const base = {
  data: { name: 'mnist', limit: 400 },
  preprocessing: [{ name: 'scale' }],
  model: [{ name: 'flatten' }, { name: 'dense', config: { units: 32, activation: 'relu' } }, { name: 'dense', config: { units: 10 } }],
  optimizer: { name: 'adam', config: { lr: 0.001 } },
  epochs: 2,
  seed: 1,
};
const space = { 'optimizer.config.lr': { kind: 'logUniform', low: 0.0003, high: 0.03 } };
const trialIds = (dir: string) => readFileSync(join(dir, 'trials.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; status: string; objective: number });

describe('minibatch search (local)', () => {
  it('runs the trials on K processes, prints the table, writes trials.jsonl, best.json (which train runs) and the report', async () => {
    const file = await configFile({ base, space, trials: 3, seed: 2 });
    const out = join(dirname(file), 'out');
    const t = capture();
    expect(await run(['search', file, '--workers', '2', '--out', out], t.io)).toBe(0);
    expect(t.out).toMatch(/searching optimizer\.config\.lr \(random, 3 trials\) on 2 local processes/);
    expect(t.out).toMatch(/#\s+trial\s+optimizer\.config\.lr\s+val_accuracy\s+status\s+s\n1\s+t000\d/);
    expect(t.out).toMatch(/best: t000\d, val_accuracy 0\.\d{4}; its config: .*best\.json/);
    expect(trialIds(out).map((r) => r.id).sort()).toEqual(['t0000', 't0001', 't0002']);
    const report = readFileSync(join(out, 'report.html'), 'utf8');
    expect(report).toContain('val_accuracy against optimizer.config.lr (log axis)');
    expect(report).toContain('<svg');
    const trained = spawnSync(process.execPath, [binary, 'train', join(out, 'best.json'), '--epochs', '1', '--json'], { encoding: 'utf8' });
    expect(trained.status, trained.stderr).toBe(0);
    // Again: everything is done already.
    const again = capture();
    expect(await run(['search', file, '--workers', '2', '--out', out, '--json'], again.io)).toBe(0);
    expect(JSON.parse(again.out.trim().split('\n').at(-1)!)).toMatchObject({ final: true, trials: 3, resumed: 3 });
  });

  it('bad input: a path that does not exist, an unknown command, a worker without a queue, an unreachable Redis', async () => {
    const typo = await configFile({ base, space: { 'optimizer.config.lrr': { kind: 'uniform', low: 0.001, high: 0.01 } } });
    const t = capture();
    expect(await run(['search', typo], t.io)).toBe(2);
    expect(t.err).toMatch(/space\["optimizer\.config\.lrr"\]: the value 0\.001 does not make a valid config/);
    const wrongKey = await configFile({ base, space: { 'optimiser.config.lr': { kind: 'uniform', low: 0.001, high: 0.01 } } });
    const w = capture();
    expect(await run(['search', wrongKey], w.io)).toBe(2);
    expect(w.err).toMatch(/the config has no 'optimiser' — did you mean 'optimizer'\?/);
    const u = capture();
    expect(await run(['serch', typo], u.io)).toBe(2);
    expect(u.err).toMatch(/unknown command 'serch' — did you mean 'search'\?/);
    const q = capture();
    expect(await run(['worker'], q.io)).toBe(2);
    expect(q.err).toMatch(/worker: which queue\? pass --queue redis:\/\/HOST:PORT/);
    const good = await configFile({ base, space, trials: 2 });
    const r = capture();
    const started = Date.now();
    expect(await run(['search', good, '--queue', 'redis://127.0.0.1:1', '--out', join(dirname(good), 'o')], r.io)).toBe(2);
    expect(r.err).toMatch(/could not reach Redis at redis:\/\/127\.0\.0\.1:1 \(.*\); start redis-server there, or check --queue/);
    expect(Date.now() - started).toBeLessThan(8000);
    const bad = capture();
    expect(await run(['search', good, '--queue', 'http://x'], bad.io)).toBe(2);
    expect(bad.err).toMatch(/not a redis:\/\/ address/);
  });
});

// Redis from the Debian package, which CI installs; outside CI its absence skips these with a reason.
const redisServer = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
if (redisServer === undefined && process.env.CI === 'true') throw new Error('redis-server is not installed; .ci/run installs it (Debian package redis-server)');
if (redisServer === undefined) console.warn('distributed search tests skipped (outside CI): redis-server is not installed (apt-get install redis-server)');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(redisServer === undefined)('minibatch search --queue with minibatch worker (a real Redis)', () => {
  let redis: ChildProcess;
  let url = '';
  let port = 0;
  beforeAll(async () => {
    port = await freePort();
    redis = spawn(redisServer!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG') return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('redis-server did not start');
  });
  afterAll(() => {
    redis?.kill();
  });

  const worker = () => {
    const child = spawn(process.execPath, [binary, 'worker', '--queue', url, '--lock-seconds', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const state = { out: '', child };
    child.stdout!.on('data', (d) => (state.out += d));
    child.stderr!.on('data', (d) => (state.out += d));
    return state;
  };

  it('two workers take the trials; one killed mid-trial: its trial is run again by the other, none lost or counted twice', async () => {
    const file = await configFile({ base: { ...base, data: { name: 'mnist', limit: 1500 }, epochs: 4 }, space, trials: 5, seed: 4 });
    const out = join(dirname(file), 'out');
    const a = worker();
    const b = worker();
    const search = spawn(process.execPath, [binary, 'search', file, '--queue', url, '--out', out, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let searchOut = '';
    search.stdout!.on('data', (d) => (searchOut += d));
    search.stderr!.on('data', (d) => (searchOut += d));
    const searchDone = new Promise<number | null>((resolve) => search.on('exit', (code) => resolve(code)));
    // Kill worker a as soon as it has started a trial.
    let killed = '';
    for (let i = 0; i < 600 && killed === ''; i++) {
      const m = /running (t\d{4})/.exec(a.out);
      if (m !== null) {
        killed = m[1];
        a.child.kill('SIGKILL');
      } else await new Promise((r) => setTimeout(r, 50));
    }
    expect(killed, a.out).not.toBe('');
    expect(await searchDone, searchOut).toBe(0);
    b.child.kill('SIGTERM');
    await new Promise((r) => b.child.on('exit', r));
    const trials = trialIds(out);
    expect(trials.map((r) => r.id).sort()).toEqual(['t0000', 't0001', 't0002', 't0003', 't0004']);
    expect(trials.every((r) => r.status === 'ok' && r.objective > 0.2)).toBe(true);
    // The killed worker's trial was run (again) by the other worker.
    expect(b.out).toContain(`running ${killed}`);
    expect(b.out).toMatch(new RegExp(`${killed}: ok val_accuracy`));
    const final = JSON.parse(searchOut.trim().split('\n').at(-1)!);
    expect(final).toMatchObject({ final: true, trials: 5 });
  });

  it('a worker of another minibatch version is refused with a message', async () => {
    spawnSync('redis-cli', ['-p', String(port), 'set', 'minibatch:minibatch-trials:meta', JSON.stringify({ version: '0.0.1-other', protocol: 'minibatch-search/1', search: 'x' })]);
    const refused = spawnSync(process.execPath, [binary, 'worker', '--queue', url], { encoding: 'utf8', timeout: 20_000 });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/the search on redis:\/\/127\.0\.0\.1:\d+ \(queue minibatch-trials\) runs minibatch 0\.0\.1-other \(minibatch-search\/1\); this worker is \d+\.\d+\.\d+ .* run a worker of the same version/);
  });
});
