// Searches run for real on local processes (through the built package: the jobs' processes run
// its compiled files): k-fold trials, a trial that diverges and one whose process is killed
// recorded as failed while the search goes on, a stopped search resumed without redoing or
// losing a trial, median stopping, and bad inputs refused before any job runs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '@minibatch/train';
import { LocalRunner, parseSearchConfig, runSearch, type TrialResult } from '@minibatch/train/search';

const base = {
  data: { name: 'mnist', limit: 240 },
  preprocessing: [{ name: 'scale' }],
  model: [{ name: 'flatten' }, { name: 'dense', config: { units: 16 } }, { name: 'relu' }, { name: 'dropout', config: { rate: 0.1 } }, { name: 'dense', config: { units: 10 } }],
  optimizer: { name: 'adam', config: { lr: 0.001 } },
  epochs: 1,
  seed: 1,
};
const dirs: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'minibatch-search-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const lines = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TrialResult);

describe('runSearch on local processes', () => {
  it('k-fold trials on 2 processes: mean ± std per trial, every fold on record; a diverging trial and a killed one fail, the rest go on', async () => {
    const out = tmp();
    const search = parseSearchConfig({
      base: { ...base, epochs: 4 }, trials: 4, objective: { folds: 3 },
      space: { 'optimizer.config.lr': { kind: 'choice', values: [0.003, 1e30, 0.01, 0.03] } }, strategy: 'grid',
    });
    const runner = new LocalRunner({ workers: 2 });
    let killed = '';
    runner.onStart = (job, pid) => {
      if (job.id === 't0002-f1') {
        killed = job.id;
        setTimeout(() => process.kill(pid, 'SIGKILL'), 50);
      }
    };
    const outcome = await runSearch(search, { out, runner });
    await runner.close();
    expect(killed).toBe('t0002-f1');
    const byId = Object.fromEntries(outcome.results.map((r) => [r.id, r]));
    expect(byId.t0000).toMatchObject({ status: 'ok', values: { 'optimizer.config.lr': 0.003 } });
    expect(byId.t0000.folds).toHaveLength(3);
    expect(byId.t0000.objective).toBeCloseTo(byId.t0000.folds!.reduce((a, b) => a + b, 0) / 3, 12);
    expect(byId.t0000.std).toBeGreaterThan(0);
    expect(byId.t0000.objective).toBeGreaterThan(0.3);
    expect(byId.t0001).toMatchObject({ status: 'failed', objective: null });
    expect(byId.t0001.error).toMatch(/the loss became (NaN|Infinity|-Infinity)|the val_accuracy was/);
    expect(byId.t0002).toMatchObject({ status: 'failed' });
    expect(byId.t0002.error).toMatch(/the trial's process ended \(killed by SIGKILL\)/);
    expect(byId.t0003.status).toBe('ok');
    expect(outcome.results.at(-1)!.status).toBe('failed');
    expect(outcome.best!.id).toBe(outcome.results[0].id);
    expect(lines(join(out, 'trials.jsonl')).map((r) => r.id).sort()).toEqual(['t0000', 't0001', 't0002', 't0003']);
    expect(lines(join(out, 'folds.jsonl'))).toHaveLength(12);
    const best = parseRunConfig(JSON.parse(readFileSync(join(out, 'best.json'), 'utf8')));
    expect(best.optimizer.config.lr).toBe(outcome.best!.values['optimizer.config.lr']);
    expect(best.data.validation).toBe(0); // the base's data, not the search's hold-out
  });

  it('a stopped search resumes with the trials it lacks: none redone, none lost; another search in its folder is refused', async () => {
    const out = tmp();
    const search = parseSearchConfig({ base, trials: 5, space: { 'optimizer.config.lr': { kind: 'logUniform', low: 1e-3, high: 3e-2 } }, seed: 3 });
    const first = new LocalRunner({ workers: 2 });
    let finished = 0;
    const stopped = await runSearch(search, {
      out, runner: first,
      onTrial: () => {
        if (++finished === 2) void first.close(); // as Ctrl-C does: jobs in progress are cancelled
      },
      shouldStop: () => finished >= 2,
    });
    expect(stopped.results.length).toBeGreaterThanOrEqual(2);
    expect(stopped.results.length).toBeLessThan(5);
    const before = lines(join(out, 'trials.jsonl'));
    const again = new LocalRunner({ workers: 2 });
    const ran: string[] = [];
    again.onStart = (job) => ran.push(job.id);
    const resumed = await runSearch(search, { out, runner: again });
    await again.close();
    expect(resumed.resumed).toBe(before.length);
    expect(ran.sort()).toEqual(['t0000', 't0001', 't0002', 't0003', 't0004'].filter((id) => !before.some((r) => r.id === id)));
    const all = lines(join(out, 'trials.jsonl'));
    expect(all.map((r) => r.id).sort()).toEqual(['t0000', 't0001', 't0002', 't0003', 't0004']);
    expect(all.every((r) => r.status === 'ok')).toBe(true);
    const other = parseSearchConfig({ base, trials: 5, space: { 'optimizer.config.lr': { kind: 'logUniform', low: 1e-4, high: 3e-2 } }, seed: 3 });
    await expect(runSearch(other, { out, runner: again })).rejects.toThrow(/holds the trials of another search/);
  });

  it('median stopping stops trials that trail the finished ones', async () => {
    const out = tmp();
    const search = parseSearchConfig({
      base: { ...base, epochs: 3 }, trials: 6, strategy: 'grid',
      space: { 'optimizer.config.lr': { kind: 'choice', values: [0.01, 0.005, 0.003, 1e-5, 2e-5, 3e-5] } },
      stopping: { kind: 'median', grace: 1, minTrials: 3 },
    });
    const runner = new LocalRunner({ workers: 1 });
    const outcome = await runSearch(search, { out, runner });
    await runner.close();
    const byLr = (lr: number) => outcome.results.find((r) => r.values['optimizer.config.lr'] === lr)!;
    for (const lr of [0.01, 0.005, 0.003]) expect(byLr(lr).status).toBe('ok');
    for (const lr of [1e-5, 2e-5, 3e-5]) expect(byLr(lr).status, `lr ${lr}`).toBe('stopped');
    expect(outcome.best!.status).toBe('ok');
  });

  it('more folds than training samples is refused before any job runs', async () => {
    const runner = new LocalRunner({ workers: 1 });
    let started = 0;
    runner.onStart = () => started++;
    const search = parseSearchConfig({ base: { ...base, data: { name: 'mnist', limit: 4 } }, space: { 'optimizer.config.lr': { kind: 'uniform', low: 0.001, high: 0.01 } }, objective: { folds: 5 } });
    await expect(runSearch(search, { out: tmp(), runner })).rejects.toThrow(/objective\.folds: 5 folds of 4 training samples leave a fold empty; lower folds or raise data\.limit/);
    expect(started).toBe(0);
    await runner.close();
  });
});
