// @minibatch/train/search (Node): runs a search. A job (one trial on one fold) runs in a
// process of its own — a trial that throws, runs out of memory or is killed is recorded as
// failed and the search goes on. Local searches keep K such processes busy; distributed ones
// hand the jobs to a BullMQ queue (search-queue.ts) and any number of `minibatch worker`s.
// Every finished trial is a line of DIR/trials.jsonl at once, so a search stopped anywhere and
// started again with the same command runs only what is missing.
import { type ChildProcess, fork } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { kFold, subset } from '@minibatch/data';
import { ConfigError, parseRunConfig } from './config.js';
import { experiment, loadConfigData, type DataSource } from './experiment.js';
import { writeFileAtomicSync } from './checkpoint-files.js';
import {
  edgeWarnings, firstTrials, medianCurve, parsePath, ranked, searchKey, secondTrials, setPath, trialJobs, trialResult, unfinished, better,
  type Distribution, type Job, type JobResult, type SearchConfig, type Trial, type TrialResult,
} from './search.js';

export * from './search.js';

/** The data of a fold: the base data's training split cut into `folds`, validating on fold `fold`. */
export function foldData(folds: number, fold: number): DataSource {
  return (data, seed) => {
    const { train, test } = loadConfigData({ ...data, validation: 0 }, seed);
    if (folds > train.count) throw new ConfigError(`objective.folds: ${folds} folds of ${train.count} training samples leave a fold empty; lower folds or raise data.limit`);
    const { train: t, val } = kFold(train.count, folds, { seed, stratified: true, labels: train.y })[fold];
    return { train: subset(train, t), validation: subset(train, val), test };
  };
}

/** Runs one job in this process (single-threaded by default: the engine is the caller's). */
export function runJob(job: Job): JobResult {
  const started = performance.now();
  const worker = `${hostname()}:${process.pid}`;
  const done = (rest: Omit<JobResult, 'id' | 'trial' | 'seconds' | 'worker'>): JobResult => ({
    id: job.id, trial: job.trial, ...(job.fold !== undefined ? { fold: job.fold } : {}), ...rest, seconds: (performance.now() - started) / 1000, worker,
  });
  const curve: number[] = [];
  let stop = false;
  let run: ReturnType<typeof experiment> | null = null;
  try {
    run = experiment(job.config, { source: `trial ${job.id}`, ...(job.fold !== undefined ? { data: foldData(job.folds!, job.fold) } : {}) });
    run.run({
      callbacks: {
        onEpochEnd: (logs) => {
          const value = logs[job.metric];
          if (typeof value !== 'number') throw new ConfigError(`trial ${job.id}: the run reports no ${job.metric} (does it validate?)`);
          curve.push(value);
          const median = job.stopping?.medians[curve.length - 1];
          if (median !== undefined && curve.length >= job.stopping!.grace && better(job.metric, median, value)) stop = true;
        },
      },
      shouldStop: () => stop,
    });
    const objective = curve.at(-1) ?? null;
    if (objective === null || !Number.isFinite(objective)) return done({ status: 'failed', objective: null, curve, error: `the ${job.metric} was ${objective}` });
    return done({ status: stop ? 'stopped' : 'ok', objective, curve });
  } catch (error) {
    return done({ status: 'failed', objective: null, curve, error: (error as Error).message });
  } finally {
    run?.dispose();
  }
}

/** Runs jobs somewhere: `slots` at a time. */
export interface JobRunner {
  readonly slots: number;
  run(job: Job): Promise<JobResult>;
  close(): Promise<void>;
}

const CHILD = new URL('./search-child.js', import.meta.url);

/**
 * K processes on this machine, each running one job at a time on `threads` threads (1: K jobs
 * use K cores). A process that dies takes only its job with it (recorded as failed); the next
 * job gets a fresh one.
 */
export class LocalRunner implements JobRunner {
  readonly slots: number;
  readonly threads: number;
  #idle: ChildProcess[] = [];
  #busy = new Set<ChildProcess>();
  #closing = false;
  /** Called with a job's process when it starts (tests kill it; logs name it). */
  onStart?: (job: Job, pid: number) => void;

  constructor(options: { workers?: number; threads?: number } = {}) {
    this.slots = options.workers ?? 1;
    this.threads = options.threads ?? 1;
    if (!Number.isInteger(this.slots) || this.slots < 1 || this.slots > 256) throw new ConfigError(`workers must be a whole number from 1 to 256, got ${options.workers}`);
    if (!Number.isInteger(this.threads) || this.threads < 1 || this.threads > 64) throw new ConfigError(`threads must be a whole number from 1 to 64, got ${options.threads}`);
  }

  run(job: Job): Promise<JobResult> {
    // Detached: Ctrl-C in a terminal reaches the search, which stops its jobs itself.
    const child = this.#idle.pop() ?? fork(CHILD, [String(this.threads)], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'], detached: true });
    this.#busy.add(child);
    let stderr = '';
    const onData = (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-2000));
    child.stderr?.on('data', onData);
    this.onStart?.(job, child.pid ?? 0);
    const started = performance.now();
    return new Promise<JobResult>((resolve) => {
      const finish = (result: JobResult, alive: boolean) => {
        child.off('message', onMessage);
        child.off('exit', onExit);
        child.stderr?.off('data', onData);
        this.#busy.delete(child);
        if (alive) this.#idle.push(child);
        resolve(result);
      };
      const onMessage = (result: JobResult) => finish(result, true);
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        const last = stderr.trim().split('\n').filter((l) => l.trim() !== '').slice(-3).join(' | ');
        const error = `the trial's process ended (${signal !== null ? `killed by ${signal}` : `exit code ${code}`})${last !== '' ? `: ${last}` : ''}`;
        finish(unfinished(job, (performance.now() - started) / 1000, error, this.#closing ? 'cancelled' : 'failed'), false);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(job);
    });
  }

  /** Ends every process; jobs still running come back 'cancelled'. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const child of [...this.#idle, ...this.#busy]) child.kill();
    this.#idle = [];
  }
}

/** What a search found. */
export interface SearchOutcome {
  results: TrialResult[];
  best: TrialResult | undefined;
  warnings: string[];
  /** The space of each stage (coarse-to-fine narrows the second). */
  spaces: Record<string, Distribution>[];
  /** Trials found done in DIR and not run again. */
  resumed: number;
  seconds: number;
}

export interface SearchOptions {
  /** Where the trials, best.json and the report go. */
  out: string;
  runner: JobRunner;
  /** Told each trial's record as it is written. */
  onTrial?: (result: TrialResult) => void;
  /** Read before each job is handed out: true stops the search there (what ran is kept). */
  shouldStop?: () => boolean;
}


function readLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const rows: T[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      rows.push(JSON.parse(line) as T);
    } catch {
      // the line a kill cut short: its trial runs again
    }
  }
  if (text.length > 0 && !text.endsWith('\n')) appendFileSync(path, '\n');
  return rows;
}

/** The best trial's config as a plain run config (the base's data settings, the trial's values). */
export function bestConfig(search: SearchConfig, best: TrialResult): unknown {
  let config: unknown = search.base;
  for (const [path, value] of Object.entries(best.values)) config = setPath(config, parsePath(path), value);
  return parseRunConfig(config, 'best');
}

/**
 * Runs a search: its trials (both stages for coarse-to-fine) on the runner, each finished
 * trial appended to OUT/trials.jsonl (and each fold to OUT/folds.jsonl), then OUT/best.json.
 * Trials already in OUT are not run again.
 */
export async function runSearch(search: SearchConfig, options: SearchOptions): Promise<SearchOutcome> {
  const started = performance.now();
  const { out, runner } = options;
  mkdirSync(out, { recursive: true });
  const keyPath = join(out, 'search.json');
  const key = searchKey(search);
  if (existsSync(keyPath)) {
    const before = readFileSync(keyPath, 'utf8');
    if (before !== key) throw new ConfigError(`${out} holds the trials of another search (its space, strategy, objective or base differ); give another --out, or delete ${out} to start afresh`);
  } else {
    writeFileAtomicSync(keyPath, key);
  }
  if (search.objective.folds !== undefined) foldData(search.objective.folds, 0)(search.base.data, search.base.seed); // too many folds: said before any job runs
  const trialsPath = join(out, 'trials.jsonl');
  const foldsPath = join(out, 'folds.jsonl');
  const done = new Map(readLines<TrialResult>(trialsPath).map((r) => [r.id, r]));
  const foldsDone = new Map(readLines<JobResult>(foldsPath).map((r) => [r.id, r]));
  const resumed = done.size;
  const finishedJobs: JobResult[] = [...foldsDone.values()];
  for (const r of done.values()) if (r.folds === undefined && r.status !== 'failed' && r.objective !== null) finishedJobs.push({ id: r.id, trial: r.id, status: r.status, objective: r.objective, curve: (r as TrialResult & { curve?: number[] }).curve ?? [], seconds: r.seconds });
  const stopping = search.stopping;

  const runStage = async (trials: Trial[]): Promise<void> => {
    const pending = trials.filter((t) => !done.has(t.id));
    const jobs = pending.flatMap((t) => trialJobs(search, t).filter((j) => !foldsDone.has(j.id)).map((j) => ({ job: j, trial: t })));
    const byTrial = new Map<string, JobResult[]>();
    for (const t of pending) byTrial.set(t.id, trialJobs(search, t).map((j) => foldsDone.get(j.id)).filter((j): j is JobResult => j !== undefined));
    const record = (trial: Trial) => {
      const jobsOfTrial = byTrial.get(trial.id)!;
      const result = trialResult(trial, jobsOfTrial);
      const line = search.objective.folds === undefined ? { ...result, curve: jobsOfTrial[0].curve } : result;
      appendFileSync(trialsPath, `${JSON.stringify(line)}\n`);
      done.set(trial.id, result);
      options.onTrial?.(result);
    };
    // Trials whose folds all finished before a stop are recorded now.
    for (const t of pending) if (byTrial.get(t.id)!.length === (search.objective.folds ?? 1)) record(t);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < jobs.length && options.shouldStop?.() !== true) {
        const { job, trial } = jobs[next++];
        if (stopping !== undefined) {
          const medians = medianCurve(finishedJobs, stopping.minTrials);
          if (medians.length > 0) job.stopping = { medians, grace: stopping.grace };
        }
        const result = await runner.run(job);
        if (result.status === 'cancelled') continue; // runs again when the search resumes
        finishedJobs.push(result);
        if (job.fold !== undefined) appendFileSync(foldsPath, `${JSON.stringify(result)}\n`);
        const list = byTrial.get(trial.id)!;
        list.push(result);
        if (list.length === (search.objective.folds ?? 1)) record(trial);
      }
    };
    await Promise.all(Array.from({ length: Math.min(runner.slots, Math.max(1, jobs.length)) }, lane));
  };

  const first = firstTrials(search);
  const spaces = [search.space];
  await runStage(first);
  if (search.strategy === 'coarseToFine' && options.shouldStop?.() !== true) {
    const stage = secondTrials(search, first.map((t) => done.get(t.id)).filter((r): r is TrialResult => r !== undefined));
    spaces.push(stage.space);
    await runStage(stage.trials);
  }
  const results = ranked([...done.values()], search.objective.metric);
  const best = results.find((r) => r.status === 'ok');
  if (best !== undefined) writeFileAtomicSync(join(out, 'best.json'), `${JSON.stringify(bestConfig(search, best), null, 2)}\n`);
  return { results, best, warnings: edgeWarnings(search.space, best), spaces, resumed, seconds: (performance.now() - started) / 1000 };
}
