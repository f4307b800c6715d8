// Hyper-parameter search, the part that needs no processes: a search config (a base run config,
// a space of config paths and how to draw each, a strategy, an objective), the trials it makes
// (grid, seeded random, coarse-to-fine), the jobs a trial is run as (one per fold), and the
// reading of results (the best trial, a value at the edge of its range). Running the jobs —
// local processes or a job queue — is @minibatch/train/search (Node).
import { Rng } from '@minibatch/core';
import { describeIssues, formatPath, suggest, z } from '@minibatch/registry';
import { ConfigError, defaultRegistry, parseRunConfig, type RunConfig } from './config.js';
import { resolveRun } from './experiment.js';

const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });

/** How one config path is drawn: a list of values, or a range (log-uniform for scales such as learning rates). */
export const distributionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('choice'), values: z.array(z.unknown()).min(1, { message: 'choice needs at least one value' }) }),
  z.strictObject({ kind: z.literal('uniform'), low: finite, high: finite }),
  z.strictObject({ kind: z.literal('logUniform'), low: finite, high: finite }),
  z.strictObject({ kind: z.literal('intUniform'), low: z.number().int(), high: z.number().int() }),
]);
export type Distribution = z.output<typeof distributionSchema>;

export const SEARCH_STRATEGIES = ['random', 'grid', 'coarseToFine'] as const;

export const searchConfigSchema = z.strictObject({
  /** The run config every trial starts from (or, in a file, the path of one, relative to the search file). */
  base: z.union([z.string(), z.record(z.string(), z.unknown())]),
  /** Config paths (`optimizer.config.lr`, `model[3].config.rate`, `batchSize`) and how to draw each. */
  space: z.record(z.string(), distributionSchema).refine((s) => Object.keys(s).length > 0, { message: 'the space needs at least one config path to search' }),
  strategy: z.enum(SEARCH_STRATEGIES).default('random'),
  /** Trials to run (a grid runs its whole product, up to this many). */
  trials: z.number().int().positive().max(100_000).default(20),
  /** Grid only: points per range (default: as many as the trial budget allows). */
  gridPoints: z.number().int().min(2).optional(),
  objective: z.strictObject({
    metric: z.enum(['val_accuracy', 'val_loss']).default('val_accuracy'),
    /** Cross-validate with this many folds of the training split (each fold a job of its own). */
    folds: z.number().int().min(2).max(100).optional(),
    /** Without folds: the fraction of the training split held out to validate on, where the base config holds out none. */
    validation: z.number().gt(0).lt(1).default(0.1),
  }).default({ metric: 'val_accuracy', validation: 0.1 }),
  /** Early termination: stop a trial whose metric after an epoch is worse than the median of the finished trials at that epoch. */
  stopping: z.strictObject({ kind: z.literal('median'), grace: z.number().int().min(1).default(1), minTrials: z.number().int().min(1).default(3) }).optional(),
  seed: z.number().int().default(0),
});
export type SearchConfigInput = z.input<typeof searchConfigSchema>;
export type SearchConfig = Omit<z.output<typeof searchConfigSchema>, 'base'> & { base: RunConfig };

/** One point of the space: a value for each searched path. */
export type Values = Record<string, unknown>;

export interface Trial {
  /** Stable across runs of the same search (resuming skips the trials already done). */
  id: string;
  values: Values;
  /** 1 or 2 (coarse-to-fine's narrowed stage). */
  stage: number;
}

/** One unit of work: a trial's config on one fold (or its hold-out split). */
export interface Job {
  id: string;
  trial: string;
  fold?: number;
  folds?: number;
  config: RunConfig;
  metric: 'val_accuracy' | 'val_loss';
  /** Median stopping: the metric's median at each epoch among finished jobs, and the epochs of grace. */
  stopping?: { medians: number[]; grace: number };
}

/** 'cancelled': the search stopped while the job ran (it runs again when the search resumes). */
export type JobStatus = 'ok' | 'failed' | 'stopped' | 'cancelled';

export interface JobResult {
  id: string;
  trial: string;
  fold?: number;
  status: JobStatus;
  /** The metric after the last epoch run (null when the job failed). */
  objective: number | null;
  /** The metric after each epoch. */
  curve: number[];
  seconds: number;
  error?: string;
  /** Who ran it (a host and process id), for the record. */
  worker?: string;
}

/** A trial's record: its values, and its objective (the mean over folds, with their std). */
export interface TrialResult {
  id: string;
  stage: number;
  values: Values;
  status: JobStatus;
  objective: number | null;
  std?: number;
  folds?: number[];
  seconds: number;
  error?: string;
}

// ---- paths ----

type Segment = string | number;

/** Where a searched path sits in the search config, as every error names it: space["model[3].config.rate"]. */
const at = (path: string) => formatPath(['space', path]);

const PATH = /^[A-Za-z_$][\w$]*(\[\d+\])*(\.[A-Za-z_$][\w$]*(\[\d+\])*)*$/;

/** `model[3].config.rate` → ['model', 3, 'config', 'rate']. */
export function parsePath(path: string): Segment[] {
  if (!PATH.test(path)) throw new ConfigError(`${at(path)}: '${path}' is not a config path; write it like optimizer.config.lr, model[3].config.rate or batchSize`);
  return path.split('.').flatMap((part) => {
    const [name, ...indices] = part.split('[');
    return [name, ...indices.map((s) => Number(s.slice(0, -1)))];
  });
}

const show = (segments: readonly Segment[]) => segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');

/**
 * Checks that `path` leads somewhere in `config`: every step but the last must exist; the last
 * may be new only inside a `config` object (a layer's or optimizer's options, checked by its
 * schema when a trial is made). A wrong step is named, with the nearest existing key.
 */
export function checkPath(config: unknown, path: string): Segment[] {
  const segments = parsePath(path);
  let node: unknown = config;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    const last = i === segments.length - 1;
    if (typeof seg === 'number') {
      if (!Array.isArray(node)) throw new ConfigError(`${at(path)}: ${show(segments.slice(0, i)) || 'the config'} is not a list, so [${seg}] leads nowhere`);
      if (seg >= node.length) throw new ConfigError(`${at(path)}: ${show(segments.slice(0, i))} has ${node.length} entries (0–${node.length - 1}), not [${seg}]`);
      node = node[seg];
      continue;
    }
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      throw new ConfigError(`${at(path)}: ${show(segments.slice(0, i)) || 'the config'} holds no keys, so .${seg} leads nowhere`);
    }
    const keys = Object.keys(node);
    if (!(seg in node)) {
      const parentIsOptions = i > 0 && segments[i - 1] === 'config';
      if (last && parentIsOptions) return segments; // a new option, checked by its schema
      const near = suggest(seg, keys);
      throw new ConfigError(`${at(path)}: ${show(segments.slice(0, i)) || 'the config'} has no '${seg}'${near !== undefined ? ` — did you mean '${show([...segments.slice(0, i), near])}'?` : ` (it has: ${keys.join(', ') || 'nothing'})`}`);
    }
    node = (node as Record<string, unknown>)[seg];
  }
  return segments;
}

/** A deep copy of `config` with `value` at `path` (a missing `config` object on the way is made). */
export function setPath<T>(config: T, segments: readonly Segment[], value: unknown): T {
  const copy = structuredClone(config) as unknown;
  let node = copy as Record<string | number, unknown>;
  for (let i = 0; i < segments.length - 1; i++) {
    const next = node[segments[i]];
    if (next === undefined || next === null) node[segments[i]] = {};
    node = node[segments[i]] as Record<string | number, unknown>;
  }
  node[segments[segments.length - 1]] = structuredClone(value);
  return copy as T;
}

// ---- the search config ----

function checkDistribution(path: string, d: Distribution): void {
  if (d.kind === 'choice') return;
  if (!(d.low < d.high)) throw new ConfigError(`${at(path)}: the range [${d.low}, ${d.high}] is ${d.low === d.high ? 'empty' : 'inverted'}; give low < high`);
  if (d.kind === 'logUniform' && d.low <= 0) throw new ConfigError(`${at(path)}: logUniform needs bounds > 0 (got low ${d.low}); use uniform for ranges that include 0 or negative values`);
}

/** The values a distribution can give at its ends (or all of a choice), to check that the configs they make are valid. */
const extremes = (d: Distribution): unknown[] => (d.kind === 'choice' ? d.values : [d.low, d.high]);

/**
 * Reads a search config: the base run config (already loaded when `base` was a file), every
 * path checked against it, every range checked, and each path's extreme values tried in a
 * config (an option a layer does not have, or a value its schema refuses, is named here, not in
 * the middle of the search).
 */
export function parseSearchConfig(input: unknown, options: { source?: string; loadBase?: (path: string) => unknown } = {}): SearchConfig {
  const source = options.source ?? 'search config';
  const parsed = searchConfigSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    const known = (path: readonly PropertyKey[]) => (path.length === 0 ? Object.keys(searchConfigSchema.shape) : path[0] === 'objective' ? ['metric', 'folds', 'validation'] : []);
    const lines = describeIssues(parsed.error.issues, known).map((issue) => `  - ${formatPath(issue.path)}: ${issue.text}`);
    throw new ConfigError(`${source}: invalid search config\n${lines.join('\n')}`);
  }
  const raw = parsed.data;
  let baseInput: unknown = raw.base;
  if (typeof raw.base === 'string') {
    if (options.loadBase === undefined) throw new ConfigError(`${source}: base names a file (${raw.base}), but no loader was given; pass the base config itself`);
    baseInput = options.loadBase(raw.base);
  }
  const base = parseRunConfig(baseInput, typeof raw.base === 'string' ? raw.base : `${source}: base`);
  if (raw.objective.folds !== undefined && base.data.validation > 0) {
    throw new ConfigError(`${source}: objective.folds cross-validates on the training split; remove data.validation (${base.data.validation}) from the base config`);
  }
  const registry = defaultRegistry();
  for (const [path, d] of Object.entries(raw.space)) {
    checkDistribution(path, d);
    const segments = checkPath(base, path);
    for (const value of extremes(d)) {
      try {
        const run = resolveRun(parseRunConfig(setPath(base, segments, value), 'trial'), registry);
        run.optimizer.dispose();
        run.model.dispose();
      } catch (error) {
        throw new ConfigError(`${source}: ${at(path)}: the value ${JSON.stringify(value)} does not make a valid config: ${(error as Error).message.replace(/^trial: /, '')}`);
      }
    }
  }
  return { ...raw, base };
}

// ---- trials ----

const logOf = (d: { low: number; high: number }) => [Math.log(d.low), Math.log(d.high)];

function draw(d: Distribution, rng: Rng): unknown {
  switch (d.kind) {
    case 'choice': return d.values[rng.int(d.values.length)];
    case 'uniform': return d.low + (d.high - d.low) * rng.uniform();
    case 'logUniform': {
      const [a, b] = logOf(d);
      return Math.exp(a + (b - a) * rng.uniform());
    }
    case 'intUniform': return d.low + rng.int(d.high - d.low + 1);
  }
}

/** Evenly spaced points of a distribution (log-spaced for logUniform), for a grid. */
export function gridPoints(d: Distribution, points: number): unknown[] {
  if (d.kind === 'choice') return d.values;
  const at = (t: number) => {
    if (d.kind === 'logUniform') {
      const [a, b] = logOf(d);
      return Math.exp(a + (b - a) * t);
    }
    return d.low + (d.high - d.low) * t;
  };
  const values = Array.from({ length: points }, (_, i) => at(points === 1 ? 0.5 : i / (points - 1)));
  if (d.kind === 'intUniform') return [...new Set(values.map((v) => Math.round(v)))];
  return values.map((v) => Number(v.toPrecision(6)));
}

const id = (stage: number, i: number) => `${stage === 1 ? '' : `s${stage}-`}t${String(i).padStart(4, '0')}`;

/** The random draws of a space (seeded: the same seed gives the same trials, so a search resumes). */
export function randomTrials(space: Record<string, Distribution>, count: number, seed: number, stage = 1): Trial[] {
  const rng = new Rng(seed * 1009 + stage);
  const paths = Object.keys(space);
  return Array.from({ length: count }, (_, i) => ({ id: id(stage, i), stage, values: Object.fromEntries(paths.map((p) => [p, draw(space[p], rng)])) }));
}

/**
 * The grid of a space: every combination of each path's points. Ranges get `points` points
 * each, or as many as keep the grid within `budget` trials.
 */
export function gridTrials(space: Record<string, Distribution>, budget: number, points?: number): Trial[] {
  const paths = Object.keys(space);
  const fixed = paths.filter((p) => space[p].kind === 'choice').reduce((n, p) => n * (space[p] as { values: unknown[] }).values.length, 1);
  const ranges = paths.filter((p) => space[p].kind !== 'choice').length;
  const per = points ?? Math.max(2, Math.floor((budget / fixed) ** (1 / Math.max(1, ranges)) + 1e-9));
  let combos: Values[] = [{}];
  for (const p of paths) combos = combos.flatMap((c) => gridPoints(space[p], per).map((v) => ({ ...c, [p]: v })));
  if (combos.length > budget) {
    throw new ConfigError(`search: the grid has ${combos.length} points (${paths.map((p) => `${p}: ${gridPoints(space[p], per).length}`).join(' × ')}), more than the ${budget} trials asked; raise trials or lower gridPoints`);
  }
  return combos.map((values, i) => ({ id: id(1, i), stage: 1, values }));
}

/** True when `a` is a better objective than `b` for `metric`. */
export const better = (metric: Job['metric'], a: number, b: number): boolean => (metric === 'val_loss' ? a < b : a > b);

/** The finished trials from best to worst (failed ones last). */
export function ranked(results: readonly TrialResult[], metric: Job['metric']): TrialResult[] {
  return [...results].sort((a, b) => {
    const ok = (r: TrialResult) => r.status === 'ok' && r.objective !== null;
    if (ok(a) !== ok(b)) return ok(a) ? -1 : 1;
    if (!ok(a)) return a.id < b.id ? -1 : 1;
    return better(metric, a.objective!, b.objective!) ? -1 : better(metric, b.objective!, a.objective!) ? 1 : a.id < b.id ? -1 : 1;
  });
}

/**
 * Coarse-to-fine's second stage: each range narrowed to the span of the best trials' values,
 * widened by a quarter of that span on each side (in log space for logUniform) and kept inside
 * the first range; a choice keeps the values the best trials used.
 */
export function narrowSpace(space: Record<string, Distribution>, results: readonly TrialResult[], metric: Job['metric']): Record<string, Distribution> {
  const good = ranked(results, metric).filter((r) => r.status === 'ok');
  const top = good.slice(0, Math.max(3, Math.ceil(good.length / 5)));
  if (top.length === 0) return space;
  const narrowed: Record<string, Distribution> = {};
  for (const [path, d] of Object.entries(space)) {
    const seen = top.map((r) => r.values[path]);
    if (d.kind === 'choice') {
      narrowed[path] = { kind: 'choice', values: d.values.filter((v) => seen.some((s) => JSON.stringify(s) === JSON.stringify(v))) };
      continue;
    }
    const log = d.kind === 'logUniform';
    const f = (v: number) => (log ? Math.log(v) : v);
    const g = (v: number) => (log ? Math.exp(v) : v);
    const nums = seen.map(Number).map(f);
    const [lo0, hi0] = [f(d.low), f(d.high)];
    let [lo, hi] = [Math.min(...nums), Math.max(...nums)];
    const pad = Math.max((hi - lo) / 4, (hi0 - lo0) / 20);
    [lo, hi] = [Math.max(lo0, lo - pad), Math.min(hi0, hi + pad)];
    if (d.kind === 'intUniform') {
      const [a, b] = [Math.round(lo), Math.round(hi)];
      narrowed[path] = { kind: 'intUniform', low: a, high: Math.max(b, a) };
    } else {
      narrowed[path] = { kind: d.kind, low: g(lo), high: g(hi) };
    }
  }
  return narrowed;
}

/** The trials of the first stage (all of them, for grid and random). */
export function firstTrials(search: SearchConfig): Trial[] {
  if (search.strategy === 'grid') return gridTrials(search.space, search.trials, search.gridPoints);
  const count = search.strategy === 'coarseToFine' ? Math.ceil(search.trials / 2) : search.trials;
  return randomTrials(search.space, count, search.seed, 1);
}

/** Coarse-to-fine's second stage, drawn in the space narrowed around the first stage's best trials. */
export function secondTrials(search: SearchConfig, firstResults: readonly TrialResult[]): { space: Record<string, Distribution>; trials: Trial[] } {
  const space = narrowSpace(search.space, firstResults, search.objective.metric);
  return { space, trials: randomTrials(space, search.trials - Math.ceil(search.trials / 2), search.seed, 2) };
}

/** The run config of a trial: the base with the trial's values, validating on a hold-out split unless folds do. */
export function trialConfig(search: SearchConfig, values: Values): RunConfig {
  let config: unknown = search.base;
  for (const [path, value] of Object.entries(values)) config = setPath(config, parsePath(path), value);
  const run = parseRunConfig(config, 'trial');
  if (search.objective.folds === undefined && !(run.data.validation > 0)) run.data = { ...run.data, validation: search.objective.validation };
  return run;
}

/** The jobs of a trial: one per fold, or one on the hold-out split. */
export function trialJobs(search: SearchConfig, trial: Trial): Job[] {
  const config = trialConfig(search, trial.values);
  const { metric, folds } = search.objective;
  if (folds === undefined) return [{ id: trial.id, trial: trial.id, config, metric }];
  return Array.from({ length: folds }, (_, fold) => ({ id: `${trial.id}-f${fold}`, trial: trial.id, fold, folds, config, metric }));
}

/** The result of a job that did not finish: failed, or 'cancelled' when the search stopped it. */
export function unfinished(job: Job, seconds: number, error: string, status: 'failed' | 'cancelled' = 'failed'): JobResult {
  return { id: job.id, trial: job.trial, ...(job.fold !== undefined ? { fold: job.fold } : {}), status, objective: null, curve: [], seconds, error };
}

/** What makes two searches the same search (their trial budget aside: raising it continues the search). */
export const searchKey = (search: SearchConfig): string => JSON.stringify({ ...search, trials: undefined });

/** A trial's record from its jobs' results: the mean objective over folds (and their std); failed if any fold failed. */
export function trialResult(trial: Trial, jobs: readonly JobResult[]): TrialResult {
  const seconds = jobs.reduce((s, j) => s + j.seconds, 0);
  const failed = jobs.find((j) => j.status === 'failed');
  if (failed !== undefined) return { id: trial.id, stage: trial.stage, values: trial.values, status: 'failed', objective: null, seconds, error: failed.error };
  const values = jobs.map((j) => j.objective!);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const status: JobStatus = jobs.some((j) => j.status === 'stopped') ? 'stopped' : 'ok';
  if (jobs.length === 1 && jobs[0].fold === undefined) return { id: trial.id, stage: trial.stage, values: trial.values, status, objective: mean, seconds };
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return { id: trial.id, stage: trial.stage, values: trial.values, status, objective: mean, std, folds: values, seconds };
}

/** Median stopping's thresholds: at each epoch, the median metric of the finished jobs that reached it (none before `minTrials` finished). */
export function medianCurve(finished: readonly JobResult[], minTrials: number): number[] {
  const curves = finished.filter((j) => j.status === 'ok').map((j) => j.curve);
  if (curves.length < minTrials) return [];
  const epochs = Math.max(0, ...curves.map((c) => c.length));
  const medians: number[] = [];
  for (let e = 0; e < epochs; e++) {
    const at = curves.map((c) => c[e]).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
    if (at.length < minTrials) break;
    medians.push(at.length % 2 === 1 ? at[(at.length - 1) / 2] : (at[at.length / 2 - 1] + at[at.length / 2]) / 2);
  }
  return medians;
}

/**
 * Warnings for a best value at the edge of its range (the lectures: widen the range and search
 * again, the optimum may lie outside it): within the outer 10% (in log space for logUniform).
 */
export function edgeWarnings(space: Record<string, Distribution>, best: TrialResult | undefined): string[] {
  if (best === undefined) return [];
  const warnings: string[] = [];
  for (const [path, d] of Object.entries(space)) {
    if (d.kind === 'choice') {
      const i = d.values.findIndex((v) => JSON.stringify(v) === JSON.stringify(best.values[path]));
      const numeric = d.values.length >= 3 && d.values.every((v) => typeof v === 'number');
      const sorted = numeric ? [...(d.values as number[])].sort((a, b) => a - b) : [];
      if (numeric && i >= 0 && (best.values[path] === sorted[0] || best.values[path] === sorted.at(-1))) {
        warnings.push(`${path}: the best value ${String(best.values[path])} is the ${best.values[path] === sorted[0] ? 'smallest' : 'largest'} choice; the optimum may lie beyond — add values past it`);
      }
      continue;
    }
    const v = Number(best.values[path]);
    const log = d.kind === 'logUniform';
    const f = (x: number) => (log ? Math.log(x) : x);
    const t = (f(v) - f(d.low)) / (f(d.high) - f(d.low));
    // 0 and 1 bounding a uniform range are taken as natural bounds (a rate, a probability): nothing lies beyond them.
    const natural = d.kind === 'uniform' && ((t <= 0.1 && d.low === 0) || (t >= 0.9 && d.high === 1));
    if ((t <= 0.1 || t >= 0.9) && !natural) {
      warnings.push(`${path}: the best value ${Number(v.toPrecision(4))} lies at the ${t <= 0.1 ? 'low' : 'high'} edge of [${d.low}, ${d.high}]${log ? ' (log scale)' : ''}; the optimum may lie outside — widen the range and search again`);
    }
  }
  return warnings;
}
