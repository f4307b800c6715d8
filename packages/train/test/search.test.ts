// The search's pure part: reading a search config (each bad input named), the trials each
// strategy makes, coarse-to-fine's narrowing, median stopping's thresholds, the edge warning.
import { describe, expect, it } from 'vitest';
import {
  checkPath, edgeWarnings, gridTrials, medianCurve, narrowSpace, parsePath, parseSearchConfig, randomTrials, ranked, trialJobs, trialResult,
  type Distribution, type JobResult, type TrialResult,
} from '../src/search.js';
import { parseRunConfig } from '../src/config.js';

const base = {
  data: { name: 'mnist', limit: 300 },
  model: [{ name: 'flatten' }, { name: 'dense', config: { units: 16 } }, { name: 'relu' }, { name: 'dropout', config: { rate: 0.1 } }, { name: 'dense', config: { units: 10 } }],
  optimizer: { name: 'adam', config: { lr: 0.001 } },
  epochs: 1,
};
const lr: Distribution = { kind: 'logUniform', low: 1e-4, high: 1e-1 };

describe('search config', () => {
  it('reads paths into config keys and list indices', () => {
    expect(parsePath('model[3].config.rate')).toEqual(['model', 3, 'config', 'rate']);
    expect(parsePath('batchSize')).toEqual(['batchSize']);
    for (const bad of ['', 'a..b', '[1]', 'a.', 'a[x]', 'a b']) expect(() => parsePath(bad), bad).toThrow(/is not a config path; write it like optimizer\.config\.lr/);
  });

  it('names a path that leads nowhere, with the nearest key', () => {
    expect(() => checkPath(base, 'optimizer.confg.lr')).toThrow(/optimizer has no 'confg' — did you mean 'optimizer\.config'\?/);
    expect(() => checkPath(base, 'model[9].config.rate')).toThrow(/model has 5 entries \(0–4\), not \[9\]/);
    expect(() => checkPath(base, 'epochs.x')).toThrow(/epochs holds no keys/);
    expect(() => checkPath(parseRunConfig(base), 'bachSize')).toThrow(/did you mean 'batchSize'\?/);
    // A new option inside a `config` object is allowed here; its schema judges its value.
    expect(checkPath(base, 'optimizer.config.weightDecay')).toEqual(['optimizer', 'config', 'weightDecay']);
  });

  it('refuses empty, inverted and non-positive log ranges, options a part does not have, folds with a hold-out split', () => {
    const parse = (space: Record<string, unknown>, extra: Record<string, unknown> = {}) => () => parseSearchConfig({ base, space, ...extra }, { source: 's.json' });
    expect(parse({ 'optimizer.config.lr': { kind: 'uniform', low: 0.1, high: 0.1 } })).toThrow(/the range \[0\.1, 0\.1\] is empty; give low < high/);
    expect(parse({ 'optimizer.config.lr': { kind: 'uniform', low: 0.2, high: 0.1 } })).toThrow(/is inverted/);
    expect(parse({ 'optimizer.config.lr': { kind: 'logUniform', low: 0, high: 0.1 } })).toThrow(/logUniform needs bounds > 0/);
    expect(parse({ 'optimizer.config.momentum': { kind: 'uniform', low: 0.5, high: 0.9 } })).toThrow(/s\.json: space\["optimizer\.config\.momentum"\]: the value 0\.5 does not make a valid config/);
    expect(parse({ 'model[3].config.rate': { kind: 'uniform', low: 0, high: 1.5 } })).toThrow(/space\["model\[3\]\.config\.rate"\]: the value 1\.5 does not make a valid config/);
    expect(parse({})).toThrow(/the space needs at least one config path/);
    expect(parse({ 'optimizer.config.lr': { kind: 'normal', mean: 0 } })).toThrow(/s\.json: invalid search config\n  - space\["optimizer\.config\.lr"\]/);
    expect(() => parseSearchConfig({ base: { ...base, data: { ...base.data, validation: 0.2 } }, space: { 'optimizer.config.lr': lr }, objective: { folds: 3 } }))
      .toThrow(/objective\.folds cross-validates on the training split; remove data\.validation/);
    expect(() => parseSearchConfig({ base: 'base.json', space: { 'optimizer.config.lr': lr } })).toThrow(/base names a file/);
  });
});

describe('trials', () => {
  it('random: seeded, inside the ranges, log-uniform spread over the decades', () => {
    const space = { lr, batch: { kind: 'choice', values: [32, 64] } as Distribution, units: { kind: 'intUniform', low: 4, high: 6 } as Distribution };
    const a = randomTrials(space, 400, 7);
    expect(randomTrials(space, 400, 7)).toEqual(a);
    expect(randomTrials(space, 400, 8)).not.toEqual(a);
    const lrs = a.map((t) => t.values.lr as number);
    expect(Math.min(...lrs)).toBeGreaterThanOrEqual(1e-4);
    expect(Math.max(...lrs)).toBeLessThanOrEqual(1e-1);
    // Each of the three decades gets about a third of the draws.
    for (const [lo, hi] of [[1e-4, 1e-3], [1e-3, 1e-2], [1e-2, 1e-1]]) expect(lrs.filter((v) => v >= lo && v < hi).length).toBeGreaterThan(100);
    expect(new Set(a.map((t) => t.values.units))).toEqual(new Set([4, 5, 6]));
    expect(new Set(a.map((t) => t.values.batch))).toEqual(new Set([32, 64]));
    expect(a[3].id).toBe('t0003');
  });

  it('grid: every combination, log-spaced points for log ranges, within the budget', () => {
    const trials = gridTrials({ lr, batch: { kind: 'choice', values: [32, 64] } }, 8);
    expect(trials.length).toBe(8);
    expect([...new Set(trials.map((t) => t.values.lr))]).toEqual([0.0001, 0.001, 0.01, 0.1]);
    expect(() => gridTrials({ lr, batch: { kind: 'choice', values: [32, 64] } }, 8, 5)).toThrow(/the grid has 10 points \(lr: 5 × batch: 2\), more than the 8 trials asked/);
  });

  it('coarse-to-fine narrows each range around the best trials, inside the first range', () => {
    const results: TrialResult[] = [1e-4, 2e-4, 3e-3, 4e-3, 5e-3, 9e-2].map((v, i) => ({
      id: `t${i}`, stage: 1, values: { lr: v, act: i < 3 ? 'relu' : 'tanh' }, status: 'ok', objective: i >= 2 && i <= 4 ? 0.9 + i / 100 : 0.5, seconds: 1,
    }));
    const narrowed = narrowSpace({ lr, act: { kind: 'choice', values: ['relu', 'tanh', 'elu'] } }, results, 'val_accuracy');
    const n = narrowed.lr as { low: number; high: number };
    expect(n.low).toBeGreaterThan(1e-3);
    expect(n.high).toBeLessThan(1e-2);
    expect(n.low).toBeLessThan(3e-3);
    expect(n.high).toBeGreaterThan(5e-3);
    expect((narrowed.act as { values: unknown[] }).values).toEqual(['relu', 'tanh']);
  });

  it('ranks best first, failed last; val_loss ranks low first', () => {
    const r = (id: string, objective: number | null): TrialResult => ({ id, stage: 1, values: {}, status: objective === null ? 'failed' : 'ok', objective, seconds: 0 });
    expect(ranked([r('a', 0.5), r('b', null), r('c', 0.9)], 'val_accuracy').map((x) => x.id)).toEqual(['c', 'a', 'b']);
    expect(ranked([r('a', 0.5), r('b', null), r('c', 0.9)], 'val_loss').map((x) => x.id)).toEqual(['a', 'c', 'b']);
  });

  it('a k-fold trial is k jobs; its record is their mean ± std, failed when one fold failed', () => {
    const search = parseSearchConfig({ base, space: { 'optimizer.config.lr': lr }, objective: { folds: 3 } });
    const trial = randomTrials(search.space, 1, 0)[0];
    const jobs = trialJobs(search, trial);
    expect(jobs.map((j) => [j.id, j.fold, j.folds])).toEqual([['t0000-f0', 0, 3], ['t0000-f1', 1, 3], ['t0000-f2', 2, 3]]);
    expect(jobs[0].config.optimizer.config.lr).toBe(trial.values['optimizer.config.lr']);
    expect(jobs[0].config.data.validation).toBe(0);
    const result = (fold: number, objective: number | null): JobResult => ({ id: `t0000-f${fold}`, trial: 't0000', fold, status: objective === null ? 'failed' : 'ok', objective, curve: [], seconds: 1, ...(objective === null ? { error: 'the loss became NaN' } : {}) });
    const r = trialResult(trial, [result(0, 0.8), result(1, 0.9), result(2, 1.0)]);
    expect(r.objective).toBeCloseTo(0.9, 12);
    expect(r.std).toBeCloseTo(0.1, 12);
    expect(r.seconds).toBe(3);
    expect(trialResult(trial, [result(0, 0.8), result(1, null), result(2, 1.0)])).toMatchObject({ status: 'failed', objective: null, error: 'the loss became NaN' });
    // Without folds, a hold-out split of the training data validates.
    const holdOut = trialJobs(parseSearchConfig({ base, space: { 'optimizer.config.lr': lr } }), trial);
    expect(holdOut.map((j) => [j.id, j.config.data.validation])).toEqual([['t0000', 0.1]]);
  });

  it('median stopping: thresholds per epoch from finished jobs, none before enough finished', () => {
    const job = (curve: number[]): JobResult => ({ id: 'x', trial: 'x', status: 'ok', objective: curve.at(-1)!, curve, seconds: 0 });
    expect(medianCurve([job([0.1, 0.2]), job([0.3, 0.4])], 3)).toEqual([]);
    expect(medianCurve([job([0.1, 0.2]), job([0.3, 0.4]), job([0.5, 0.9]), job([0.2])], 3)).toEqual([0.25, 0.4]);
  });

  it('warns when the best value lies at the edge of its range', () => {
    const best = (v: number, b = 64): TrialResult => ({ id: 't', stage: 1, values: { lr: v, b }, status: 'ok', objective: 1, seconds: 0 });
    const space = { lr, b: { kind: 'choice', values: [32, 64, 128] } as Distribution };
    expect(edgeWarnings(space, best(1.5e-4))).toEqual([expect.stringMatching(/lr: the best value 0\.00015 lies at the low edge of \[0\.0001, 0\.1\] \(log scale\)/)]);
    expect(edgeWarnings(space, best(0.09))[0]).toMatch(/high edge/);
    expect(edgeWarnings(space, best(3e-3))).toEqual([]);
    expect(edgeWarnings(space, best(3e-3, 128))).toEqual([expect.stringMatching(/b: the best value 128 is the largest choice/)]);
    // A rate at 0 or 1 of a uniform [0, 1]-bounded range: nothing lies beyond, no warning; elsewhere the edge warns.
    const rate = (v: number): TrialResult => ({ id: 't', stage: 1, values: { rate: v }, status: 'ok', objective: 1, seconds: 0 });
    expect(edgeWarnings({ rate: { kind: 'uniform', low: 0, high: 0.7 } }, rate(0))).toEqual([]);
    expect(edgeWarnings({ rate: { kind: 'uniform', low: 0.2, high: 1 } }, rate(0.99))).toEqual([]);
    expect(edgeWarnings({ rate: { kind: 'uniform', low: 0, high: 0.7 } }, rate(0.69))[0]).toMatch(/rate: the best value 0\.69 lies at the high edge of \[0, 0\.7\]/);
  });
});
