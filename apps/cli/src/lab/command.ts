// `minibatch lab`: runs experiments, writes DIR/result.json and DIR/report.html for each (and
// an index page for `lab all`). Ctrl-C finishes the step in progress, then writes a partial
// report that says so; every file is written whole (temporary file, rename) or not at all.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { suggest } from '@minibatch/registry';
import { ConfigError } from '@minibatch/train';
import { FileError, writeFileAtomic } from '@minibatch/train/node';
import type { Io } from '../commands.js';
import { pngOf } from '../report.js';
import { LabInterrupted, type LabContext, type LabExperiment } from './kit.js';
import { type LabRecord, indexPage, labPage, partialPage } from './page.js';

export interface LabArgs { name?: string; list?: boolean; out?: string; quick?: boolean; json?: boolean; png?: string }

/** Creates `dir` and proves a file can be written there, before any experiment runs. */
async function writableFolder(dir: string, flag: string): Promise<void> {
  const probe = join(dir, `.minibatch-write-test-${process.pid}`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(probe, '');
    await rm(probe);
  } catch (error) {
    throw new FileError(`lab: cannot write into ${flag} ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); choose a folder you can write`);
  }
}

/** `minibatch lab --list [--json]` and `minibatch lab <name|all> [--quick] [--out DIR] [--png DIR] [--json]` */
export async function labCommand(args: LabArgs, io: Io): Promise<number> {
  const { LAB } = await import('./experiments.js');
  const names = LAB.map((e) => e.name);
  if (args.list !== true && args.name === undefined) {
    throw new ConfigError(`lab: which experiment? name one (${names.join(', ')}) or all; minibatch lab --list says what each shows`);
  }
  if (args.list === true) {
    for (const e of LAB) {
      if (args.json) io.out.write(`${JSON.stringify({ name: e.name, title: e.title, claim: e.claim, source: e.source, measures: e.measures, rule: e.rule })}\n`);
      else io.out.write(`${e.name.padEnd(21)} ${e.title}\n${' '.repeat(22)}${e.claim} (${e.source})\n`);
    }
    return 0;
  }
  const chosen = args.name === 'all' ? LAB : LAB.filter((e) => e.name === args.name);
  if (chosen.length === 0) {
    const near = suggest(args.name!, [...names, 'all']);
    throw new ConfigError(`lab: no experiment '${args.name}'${near ? ` — did you mean '${near}'?` : ''}; minibatch lab --list names them (${names.join(', ')}, or all)`);
  }
  const all = args.name === 'all';
  const out = args.out ?? 'lab';
  await writableFolder(out, '--out');
  if (args.png !== undefined) await writableFolder(args.png, '--png');

  let signal: NodeJS.Signals | null = null;
  const onSignal = (s: NodeJS.Signals) => {
    if (signal !== null) process.exit(s === 'SIGINT' ? 130 : 143); // a second signal: stop now
    signal = s;
    io.err.write(`minibatch: ${s}: finishing the step in progress, then writing a partial report (press Ctrl-C again to stop at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const entries: { experiment: LabExperiment; record: LabRecord | null; href: string }[] = chosen.map((experiment) => ({ experiment, record: null, href: `${experiment.name}/report.html` }));
  try {
    for (const entry of entries) {
      const { experiment } = entry;
      const dir = all || args.out === undefined ? join(out, experiment.name) : out;
      await mkdir(dir, { recursive: true });
      const finished: string[] = [];
      const ctx: LabContext = {
        quick: args.quick === true,
        seeds: [1, 2, 3],
        progress: (line) => {
          finished.push(line);
          if (!args.json) io.err.write(`  ${experiment.name}: ${line}\n`);
        },
        tick: async () => {
          await nextTurn();
          if (signal !== null) throw new LabInterrupted();
        },
        stopping: () => signal !== null,
      };
      const base = { name: experiment.name, title: experiment.title, claim: experiment.claim, source: experiment.source, measures: experiment.measures, rule: experiment.rule, seeds: ctx.seeds, quick: ctx.quick };
      const started = performance.now();
      let result;
      try {
        result = await experiment.run(ctx);
      } catch (error) {
        if (!(error instanceof LabInterrupted) && signal === null) throw error;
        const record: LabRecord = { ...base, figures: {}, verdict: null, finding: null, table: null, seconds: (performance.now() - started) / 1000, interrupted: true, finished };
        entry.record = record;
        await writeFileAtomic(join(dir, 'result.json'), `${JSON.stringify(record, null, 2)}\n`);
        await writeFileAtomic(join(dir, 'report.html'), await partialPage(experiment, record, signal ?? 'a stop'));
        io.err.write(`minibatch: ${experiment.name} interrupted after ${record.seconds.toFixed(0)} s; wrote the partial report ${join(dir, 'report.html')} (no verdict)\n`);
        break;
      }
      const seconds = (performance.now() - started) / 1000;
      const record: LabRecord = { ...base, figures: result.figures, verdict: experiment.judge(result.figures), finding: result.finding, table: result.table, seconds };
      entry.record = record;
      const page = await labPage(experiment, result, record);
      await writeFileAtomic(join(dir, 'result.json'), `${JSON.stringify(record, null, 2)}\n`);
      await writeFileAtomic(join(dir, 'report.html'), page.html);
      if (args.png !== undefined) for (const p of page.plots) await writeFileAtomic(join(args.png, `${p.name}.png`), pngOf(p.svg));
      if (args.json) {
        io.out.write(`${JSON.stringify({ kind: 'lab', name: experiment.name, verdict: record.verdict, finding: record.finding, figures: record.figures, seconds, out: dir })}\n`);
      } else {
        io.out.write(`\n${experiment.title} (${experiment.name}, ${seconds.toFixed(0)} s)\nclaim: ${experiment.claim} (${experiment.source})\n`);
        const widths = result.table.columns.map((c, i) => Math.max(c.length, ...result.table.rows.map((r) => String(r[i]).length)));
        const line = (cells: (string | number)[]) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
        io.out.write(`${line(result.table.columns)}\n${result.table.rows.map(line).join('\n')}\n`);
        io.out.write(`found: ${result.finding}\nrule: ${experiment.rule}\nverdict: ${record.verdict}\nwrote ${join(dir, 'report.html')}${args.png !== undefined ? ` and ${page.plots.length} PNG(s) in ${args.png}` : ''}\n`);
      }
    }
    if (all) {
      await writeFileAtomic(join(out, 'index.html'), await indexPage(entries, args.quick === true));
      if (!args.json) io.out.write(`\nwrote ${join(out, 'index.html')}\n`);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return signal === null ? 0 : signal === 'SIGINT' ? 130 : 143;
}
