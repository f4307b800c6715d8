// Babysitting from the command line: `check` (the sanity checks), `lr-find` (the LR range test
// and LeCun's 1/λmax) and `report` (a JSONL log → one HTML page, and PNG figures).
import { readFile } from 'node:fs/promises';
import { tensor } from '@minibatch/core';
import { subset } from '@minibatch/data';
import {
  ConfigError, experiment, inFile, largestEigenvalue, logLine, lrFind, readLog, sanityChecks, type LogRecord,
} from '@minibatch/train';
import { FileError, checkOutputs } from '@minibatch/train/node';
import { readConfig, type Io } from './commands.js';
import { writeReport } from './report.js';

/** `minibatch report <run.jsonl> [--out report.html] [--png DIR]` */
export async function reportCommand(args: { log: string; out?: string; png?: string }, io: Io): Promise<number> {
  let text: string;
  try {
    text = await readFile(args.log, 'utf8');
  } catch (error) {
    throw new FileError((error as NodeJS.ErrnoException).code === 'ENOENT' ? `no log at ${args.log}` : `could not read ${args.log}: ${(error as Error).message}`);
  }
  const log = readLog(text);
  if (log.records.length === 0) {
    throw new ConfigError(`${args.log}: no minibatch log records in it (${log.skipped.length} line(s) unreadable${log.skipped[0] ? `, e.g. line ${log.skipped[0].line}: ${log.skipped[0].reason}` : ''}); write one with train --log run.jsonl`);
  }
  const out = args.out ?? args.log.replace(/\.jsonl?$/i, '') + '.html';
  await checkOutputs({ '--out': out }, [args.log]);
  if (log.skipped.length > 0) {
    io.err.write(`minibatch: note: ${log.skipped.length} line(s) of ${args.log} could not be read and are left out: ${log.skipped.slice(0, 5).map((s) => `line ${s.line} (${s.reason})`).join('; ')}${log.skipped.length > 5 ? '; …' : ''}\n`);
  }
  const written = await writeReport(log, out, args.log, args.png);
  io.out.write(`wrote ${written.join(', ')}\n`);
  return 0;
}

/** `minibatch check <config.json> [--json]`: PASS/WARN/FAIL per check; exit 1 on a FAIL. */
export async function checkCommand(args: { config: string; json?: boolean }, io: Io): Promise<number> {
  const config = await readConfig(args.config);
  const run = experiment(config, { source: args.config });
  try {
    const records = sanityChecks(run);
    for (const r of records) {
      if (args.json) io.out.write(logLine(r));
      else if (r.kind === 'check') io.out.write(`${r.status.padEnd(5)} ${r.name.padEnd(24)} ${r.figure}\n      ${r.message}\n`);
    }
    return records.some((r) => r.kind === 'check' && r.status === 'FAIL') ? 1 : 0;
  } finally {
    run.dispose();
  }
}

/** `minibatch lr-find <config.json> [--steps N] [--start LR] [--end LR] [--report report.html] [--json]` */
export async function lrFindCommand(args: { config: string; steps?: number; start?: number; end?: number; report?: string; json?: boolean }, io: Io): Promise<number> {
  const [start, end] = [args.start ?? 1e-7, args.end ?? 10];
  if (!(end > start)) throw new ConfigError(`lr-find: the range is empty: end (${end}) must be above start (${start})`);
  const config = await readConfig(args.config);
  if (args.report !== undefined) await checkOutputs({ '--report': args.report }, [args.config]);
  const run = experiment(config, { source: args.config });
  try {
    const optimizer = run.registry.fromJSON<typeof run.optimizer>({ kind: 'optimizer', ...run.config.optimizer });
    let found;
    try {
      found = inFile(args.config, () => {
        try {
          return lrFind(run.model, run.data.train, {
            loss: run.loss, optimizer, batchSize: config.batchSize, seed: config.seed,
            ...(args.steps !== undefined ? { steps: args.steps } : {}), ...(args.start !== undefined ? { start: args.start } : {}), ...(args.end !== undefined ? { end: args.end } : {}),
          });
        } catch (error) {
          throw new ConfigError((error as Error).message.replace(/^lrFind: /, 'lr-find: '));
        }
      });
    } finally {
      optimizer.dispose();
    }
    // LeCun's estimate on one batch, from the same initial weights.
    const n = Math.min(256, run.data.train.count);
    const batch = subset(run.data.train, Int32Array.from({ length: n }, (_, i) => i));
    const eigen = largestEigenvalue(run.model, tensor(batch.x, [n, ...batch.shape]), batch.y, run.loss);
    const record: LogRecord = { kind: 'lr-find', ...found };
    if (args.json) {
      io.out.write(logLine(record));
      io.out.write(`${JSON.stringify({ kind: 'eigenvalue', eigenvalue: eigen.eigenvalue, lr: eigen.lr, converged: eigen.converged })}\n`);
    } else {
      io.out.write(`LR range test: ${found.lrs.length} steps from ${found.lrs[0].toExponential(1)} to ${found.lrs.at(-1)!.toExponential(1)} (${found.stopped === 'diverged' ? 'stopped: the loss diverged' : 'to the end'})\n`);
      const marks = [0.1, 0.25, 0.5, 0.75, 0.9].map((q) => Math.floor(q * (found.lrs.length - 1)));
      for (const i of [...new Set([...marks, found.lrs.indexOf(found.minimum)])].sort((a, b) => a - b)) {
        io.out.write(`  lr ${found.lrs[i].toExponential(2)}  smoothed loss ${found.smoothed[i].toFixed(4)}${found.lrs[i] === found.minimum ? '  ← lowest' : ''}\n`);
      }
      io.out.write(`steepest descent at ${found.steepest.toExponential(1)}; lowest loss at ${found.minimum.toExponential(1)}\n`);
      io.out.write(`suggested learning rate: ${found.suggestion.toExponential(1)} (a decade below the lowest loss)\n`);
      io.out.write(`LeCun's estimate: λmax ${eigen.eigenvalue.toPrecision(4)} (Gauss-Newton, ${n} samples${eigen.converged ? '' : ', not converged'}) → η ≈ 1/λmax = ${eigen.lr.toExponential(1)} for plain SGD\n`);
    }
    if (args.report !== undefined) {
      await writeReport([{ kind: 'run', source: args.config, time: new Date().toISOString() }, record], args.report, `${args.config}: learning-rate range test`);
      if (!args.json) io.out.write(`wrote ${args.report}\n`);
    }
    return 0;
  } finally {
    run.dispose();
  }
}
