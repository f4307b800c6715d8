// Entry of the CLI as a library: run(argv, io) is what the `minibatch` binary calls.
//
// Exit codes, one contract for every command:
//   0    success
//   2    usage, config and input errors (refused before any work; nothing written)
//   1    a failure while running
//   130  interrupted (SIGINT), 143 terminated (SIGTERM): the signal's default action, so a
//        run stopped mid-way leaves no file behind (outputs are written atomically at the end)
import { parseArgs } from 'node:util';
import { ShapeError, init } from '@minibatch/core';
import { DataError } from '@minibatch/data';
import { StateDictError } from '@minibatch/layers';
import { RegistryError } from '@minibatch/registry';
import { ConfigError, FormatError } from '@minibatch/train';
import { FileError } from '@minibatch/train/node';
import { augmentPreviewCommand } from './augment.js';
import { checkCommand, lrFindCommand, reportCommand } from './babysit.js';
import { labCommand } from './lab/command.js';
import { finetuneCommand, inspectCommand } from './pretrained.js';
import { evalCommand, summaryCommand, trainCommand, type Io } from './commands.js';
import { searchCommand, workerCommand } from './search.js';
import { suggest } from '@minibatch/registry';

export type { Io } from './commands.js';

const USAGE = `usage:
  minibatch train <config.json> [--epochs N] [--seed S] [--limit N] [--out model.safetensors] [--threads N] [--memory SIZE] [--monitor] [--monitor-every N] [--log run.jsonl] [--report report.html]
                  [--checkpoint DIR [--checkpoint-every N] [--keep K] [--keep-best METRIC]] [--resume DIR|FILE [--force]] [--ensemble N] [--json]
  minibatch check <config.json> [--threads N] [--json]
  minibatch lr-find <config.json> [--steps N] [--start LR] [--end LR] [--report report.html] [--threads N] [--json]
  minibatch report <run.jsonl> [--out report.html] [--png DIR]
  minibatch search <search.json> [--trials N] [--workers K] [--out DIR] [--queue redis://HOST:PORT] [--threads N] [--json]
  minibatch worker --queue redis://HOST:PORT [--threads N] [--lock-seconds S]
  minibatch lab --list [--json] | minibatch lab <name|all> [--quick] [--out DIR] [--png DIR] [--json]
  minibatch eval <model.safetensors> [--data mnist|fashion-mnist] [--threads N] [--json]
  minibatch summary <config.json>
  minibatch augment-preview <config.json> --out grid.png [--count N] [--variants N] [--scale N] [--seed S]
  minibatch finetune <finetune.json> [--limit N] [--seed S] [--out model.safetensors] [--threads N] [--json]
  minibatch inspect <model file: model.json, .min.js, *-weights_manifest.json, .onnx, .safetensors> [--json]`;

/** The usage lines of one command (all of them for an unknown one). */
function usageOf(command: string): string {
  const lines = USAGE.split('\n');
  const own = lines.findIndex((l) => l.startsWith(`  minibatch ${command} `) || l === `  minibatch ${command}`);
  if (own < 0) return USAGE;
  let end = own + 1;
  while (end < lines.length && !lines[end].startsWith('  minibatch ')) end++;
  return ['usage:', ...lines.slice(own, end)].join('\n');
}

/** The options each command takes (any other is a usage error, not silently ignored). */
const COMMANDS: Record<string, readonly string[]> = {
  train: ['epochs', 'seed', 'limit', 'out', 'threads', 'memory', 'monitor', 'monitor-every', 'log', 'report', 'checkpoint', 'checkpoint-every', 'keep', 'keep-best', 'resume', 'force', 'ensemble', 'json'],
  check: ['threads', 'json'],
  'lr-find': ['steps', 'start', 'end', 'report', 'threads', 'json'],
  report: ['out', 'png'],
  lab: ['list', 'out', 'quick', 'png', 'json'],
  search: ['trials', 'workers', 'out', 'queue', 'threads', 'json'],
  worker: ['queue', 'threads', 'lock-seconds'],
  eval: ['data', 'threads', 'json'],
  summary: [],
  'augment-preview': ['out', 'count', 'variants', 'scale', 'seed'],
  finetune: ['limit', 'seed', 'out', 'threads', 'json'],
  inspect: ['json'],
};

/** Errors that mean "the command line, a config or an input file is wrong": exit 2. */
const INPUT_ERRORS = [ConfigError, RegistryError, FormatError, DataError, StateDictError, ShapeError, FileError];

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new ConfigError(`--${name} must be an integer, got '${value}'`);
  return n;
}

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new ConfigError(`--${name} must be a positive number, got '${value}'`);
  return n;
}

/** Runs one command line; returns the exit code (errors are printed, not thrown). */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  try {
    const { positionals, values } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        epochs: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' },
        json: { type: 'boolean' }, data: { type: 'string' }, help: { type: 'boolean', short: 'h' },
        count: { type: 'string' }, variants: { type: 'string' }, scale: { type: 'string' }, threads: { type: 'string' },
        memory: { type: 'string' }, limit: { type: 'string' }, monitor: { type: 'boolean' }, 'monitor-every': { type: 'string' },
        log: { type: 'string' }, report: { type: 'string' }, list: { type: 'boolean' }, quick: { type: 'boolean' }, checkpoint: { type: 'string' }, 'checkpoint-every': { type: 'string' }, keep: { type: 'string' }, 'keep-best': { type: 'string' }, resume: { type: 'string' }, force: { type: 'boolean' }, ensemble: { type: 'string' }, png: { type: 'string' }, steps: { type: 'string' }, start: { type: 'string' }, end: { type: 'string' },
        trials: { type: 'string' }, workers: { type: 'string' }, queue: { type: 'string' }, 'lock-seconds': { type: 'string' },
      },
    });
    const [command, target, ...extra] = positionals;
    if (values.help) {
      io.out.write(`${USAGE}\n`);
      return 0;
    }
    if (command === undefined) throw new ConfigError(`which command? (minibatch --help lists them)\n${USAGE}`);
    const allowed = COMMANDS[command];
    if (allowed === undefined) {
      const near = suggest(command, Object.keys(COMMANDS));
      throw new ConfigError(`unknown command '${command}'${near !== undefined ? ` — did you mean '${near}'?` : ''}\n${USAGE}`);
    }
    if (target !== undefined && command === 'worker') throw new ConfigError(`worker takes no file (its trials come from the queue), got '${target}'\n${USAGE}`);
    if (target === undefined && command !== 'lab' && command !== 'worker') throw new ConfigError(`${command}: missing its file argument\n${USAGE}`);
    if (extra.length > 0) throw new ConfigError(`${command} takes one file, got also ${extra.map((e) => `'${e}'`).join(', ')}\n${USAGE}`);
    const unused = Object.keys(values).filter((k) => k !== 'help' && !allowed.includes(k));
    if (unused.length > 0) {
      const near = suggest(unused[0], allowed);
      throw new ConfigError(`${command} has no option --${unused[0]}${near !== undefined ? ` — did you mean --${near}?` : ''}\n${usageOf(command)}`);
    }
    const threads = int('threads', values.threads);
    // A search's and a worker's --threads are each trial's: their own process needs no engine.
    if (threads !== undefined && command !== 'search' && command !== 'worker') {
      // Default: one per core. The tensor core loads with this many before any tensor exists.
      if (threads < 1) throw new ConfigError(`--threads must be at least 1, got ${threads}`);
      await init({ threads });
    }
    switch (command) {
      case 'train':
        return await trainCommand({
          config: target, epochs: int('epochs', values.epochs), seed: int('seed', values.seed), limit: int('limit', values.limit), out: values.out, json: values.json, memory: values.memory,
          monitor: values.monitor, monitorEvery: int('monitor-every', values['monitor-every']), log: values.log, report: values.report,
          checkpoint: values.checkpoint, checkpointEvery: int('checkpoint-every', values['checkpoint-every']), keep: int('keep', values.keep), keepBest: values['keep-best'], resume: values.resume, force: values.force, ensemble: int('ensemble', values.ensemble),
        }, io);
      case 'check':
        return await checkCommand({ config: target, json: values.json }, io);
      case 'lr-find':
        return await lrFindCommand({
          config: target, steps: int('steps', values.steps), start: positive('start', values.start), end: positive('end', values.end), report: values.report, json: values.json,
        }, io);
      case 'report':
        return await reportCommand({ log: target, out: values.out, png: values.png }, io);
      case 'lab':
        return await labCommand({ name: target, list: values.list, out: values.out, quick: values.quick, png: values.png, json: values.json }, io);
      case 'search':
        return await searchCommand({
          config: target, trials: int('trials', values.trials), workers: int('workers', values.workers), out: values.out, queue: values.queue, threads, json: values.json,
        }, io);
      case 'worker':
        return await workerCommand({ queue: values.queue, threads, lockSeconds: positive('lock-seconds', values['lock-seconds']) }, io);
      case 'eval':
        return await evalCommand({ model: target, data: values.data, json: values.json }, io);
      case 'summary':
        return await summaryCommand({ config: target }, io);
      case 'finetune':
        return await finetuneCommand({ config: target, limit: int('limit', values.limit), seed: int('seed', values.seed), out: values.out, json: values.json }, io);
      case 'inspect':
        return await inspectCommand({ model: target, json: values.json }, io);
      default:
        return await augmentPreviewCommand({
          config: target, out: values.out, count: int('count', values.count), variants: int('variants', values.variants),
          scale: int('scale', values.scale), seed: int('seed', values.seed),
        }, io);
    }
  } catch (error) {
    const code = String((error as { code?: unknown }).code);
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      // Node says "Unknown option '--epoch'"; say which option was meant.
      const flag = /'(-{1,2}[^']*)'/.exec((error as Error).message)?.[1] ?? '';
      const command = argv.find((a) => !a.startsWith('-')) ?? '';
      const options = COMMANDS[command] ?? [...new Set(Object.values(COMMANDS).flat())];
      const near = suggest(flag.replace(/^-+/, '').split('=')[0], options);
      io.err.write(`minibatch: ${command in COMMANDS ? `${command}: ` : ''}unknown option '${flag}'${near !== undefined ? ` — did you mean --${near}?` : ''}\n${usageOf(command)}\n`);
      return 2;
    }
    io.err.write(`minibatch: ${(error as Error).message}\n`);
    const usage = INPUT_ERRORS.some((type) => error instanceof type) || String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
    return usage ? 2 : 1;
  }
}
