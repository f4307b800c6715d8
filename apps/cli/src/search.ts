// `minibatch search CONFIG`: a hyper-parameter search on this machine's cores or, with
// --queue, on every `minibatch worker` attached to a Redis; `minibatch worker --queue URL`: one
// such worker. The search itself lives in @minibatch/train/search; this is its shell.
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseJson } from '@minibatch/registry';
import { ConfigError } from '@minibatch/train';
import { writeFileAtomic } from '@minibatch/train/node';
import { renderSearchReport, formatValue } from '@minibatch/train/report';
import { LocalRunner, QueueRunner, parseSearchConfig, runSearch, runWorker, type JobRunner, type SearchConfig, type TrialResult } from '@minibatch/train/search';
import { readConfigText, type Io } from './commands.js';

/** Reads a search config file; a `base` that is a path is read relative to it (both through readConfigText). */
export async function readSearchConfig(path: string, trials?: number): Promise<SearchConfig> {
  const input = parseJson(await readConfigText(path), { source: path }) as Record<string, unknown>;
  if (trials !== undefined) {
    if (!(trials >= 1)) throw new ConfigError(`--trials must be at least 1, got ${trials}`);
    if (input !== null && typeof input === 'object') input.trials = trials;
  }
  const basePath = typeof input?.base === 'string' ? resolve(dirname(path), input.base) : null;
  const base = basePath === null ? undefined : parseJson(await readConfigText(basePath), { source: basePath });
  return parseSearchConfig(input, { source: path, loadBase: () => base });
}

function table(search: SearchConfig, results: readonly TrialResult[]): string {
  const paths = Object.keys(search.space);
  const head = ['#', 'trial', ...paths, search.objective.metric, 'status', 's'];
  const rows = results.map((r, i) => [
    String(i + 1), r.id, ...paths.map((p) => formatValue(r.values[p])),
    r.objective === null ? '—' : `${r.objective.toFixed(4)}${r.std !== undefined ? ` ±${r.std.toFixed(4)}` : ''}`,
    r.status === 'failed' ? `failed: ${(r.error ?? '').slice(0, 60)}` : r.status, r.seconds.toFixed(1),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  return [head, ...rows].map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

export interface SearchArgs {
  config: string;
  trials?: number;
  workers?: number;
  out?: string;
  queue?: string;
  threads?: number;
  json?: boolean;
}

export async function searchCommand(args: SearchArgs, io: Io): Promise<number> {
  const search = await readSearchConfig(args.config, args.trials);
  const name = basename(args.config).replace(/\.json$/, '');
  const out = args.out ?? `${name}${name.endsWith('search') ? '-results' : '-search'}`;
  if (args.workers !== undefined && !(args.workers >= 1)) throw new ConfigError(`--workers must be at least 1, got ${args.workers}`);
  const runner: JobRunner = args.queue !== undefined
    ? await QueueRunner.connect(args.queue, search, { slots: args.workers ?? 64 })
    : new LocalRunner({ workers: args.workers ?? availableParallelism(), threads: args.threads ?? 1 });
  let signal: NodeJS.Signals | null = null;
  const onSignal = (s: NodeJS.Signals) => {
    if (signal !== null) process.exit(s === 'SIGINT' ? 130 : 143);
    signal = s;
    void runner.close(); // local jobs in progress stop; they run again on resume
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (!args.json) {
    io.out.write(`searching ${Object.keys(search.space).join(', ')} (${search.strategy}, ${search.trials} trials${search.objective.folds ? `, ${search.objective.folds}-fold` : ''}) ` +
      `${args.queue !== undefined ? `through ${args.queue}` : `on ${runner.slots} local process${runner.slots === 1 ? '' : 'es'}`}; trials in ${join(out, 'trials.jsonl')}\n` +
      (args.queue !== undefined ? `the trials wait for workers: start them on any machine with  minibatch worker --queue ${args.queue}\n` : ''));
  }
  let outcome;
  try {
    outcome = await runSearch(search, {
      out, runner, shouldStop: () => signal !== null,
      onTrial: (r) => {
        if (args.json) io.out.write(`${JSON.stringify({ trial: true, ...r })}\n`);
        else io.out.write(`${r.id}  ${Object.entries(r.values).map(([p, v]) => `${p}=${formatValue(v)}`).join('  ')}  → ${r.objective === null ? `failed: ${r.error}` : `${search.objective.metric} ${r.objective.toFixed(4)}${r.std !== undefined ? ` ±${r.std.toFixed(4)}` : ''}${r.status === 'stopped' ? ' (stopped early)' : ''}`}\n`);
      },
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await runner.close();
  }
  if (signal !== null) {
    io.err.write(`minibatch: search stopped by ${signal}; ${outcome.results.length} trials are in ${join(out, 'trials.jsonl')}\nresume with the same command: minibatch search ${args.config}${args.out ? ` --out ${args.out}` : ''}\n`);
    return signal === 'SIGINT' ? 130 : 143;
  }
  const report = await renderSearchReport(search, outcome.results, { title: basename(args.config), warnings: outcome.warnings });
  await writeFileAtomic(join(out, 'report.html'), report.html);
  if (args.json) {
    io.out.write(`${JSON.stringify({ final: true, best: outcome.best ?? null, warnings: outcome.warnings, trials: outcome.results.length, resumed: outcome.resumed, seconds: outcome.seconds })}\n`);
  } else {
    io.out.write(`\n${table(search, outcome.results)}\n\n`);
    for (const w of outcome.warnings) io.out.write(`⚠ ${w}\n`);
    if (outcome.best !== undefined) io.out.write(`best: ${outcome.best.id}, ${search.objective.metric} ${outcome.best.objective!.toFixed(4)}; its config: ${join(out, 'best.json')} (minibatch train ${join(out, 'best.json')})\n`);
    else io.out.write('no trial finished\n');
    io.out.write(`report: ${join(out, 'report.html')}  (${outcome.seconds.toFixed(1)} s${outcome.resumed > 0 ? `; ${outcome.resumed} trials were done already` : ''})\n`);
  }
  return outcome.best === undefined ? 1 : 0;
}

export interface WorkerArgs {
  queue?: string;
  threads?: number;
  lockSeconds?: number;
}

export async function workerCommand(args: WorkerArgs, io: Io): Promise<number> {
  if (args.queue === undefined) throw new ConfigError('worker: which queue? pass --queue redis://HOST:PORT (where `minibatch search --queue` puts its trials)');
  const stop = new AbortController();
  let signal: NodeJS.Signals | null = null;
  const onSignal = (s: NodeJS.Signals) => {
    if (signal !== null) process.exit(s === 'SIGINT' ? 130 : 143);
    signal = s;
    io.err.write(`minibatch: ${s}: the worker stops after its job in progress\n`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const lockMs = args.lockSeconds !== undefined ? args.lockSeconds * 1000 : undefined;
    const { jobs } = await runWorker(args.queue, {
      threads: args.threads, signal: stop.signal, log: (line) => io.out.write(`${line}\n`),
      ...(lockMs !== undefined ? { lockMs, stalledMs: lockMs } : {}),
    });
    io.out.write(`worker done: ${jobs} job${jobs === 1 ? '' : 's'}\n`);
    return signal === null ? 0 : signal === 'SIGINT' ? 130 : 143;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
