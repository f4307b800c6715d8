// Entry of the CLI as a library: run(argv, io) is what the `minibatch` binary calls.
import { parseArgs } from 'node:util';
import { init } from '@minibatch/core';
import { ConfigError } from '@minibatch/train';
import { augmentPreviewCommand } from './augment.js';
import { evalCommand, summaryCommand, trainCommand, type Io } from './commands.js';

export type { Io } from './commands.js';

const USAGE = `usage:
  minibatch train <config.json> [--epochs N] [--seed S] [--out model.safetensors] [--threads N] [--json]
  minibatch eval <model.safetensors> [--data mnist|fashion-mnist] [--threads N] [--json]
  minibatch summary <config.json>
  minibatch augment-preview <config.json> --out grid.png [--count N] [--variants N] [--scale N] [--seed S]`;

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new ConfigError(`--${name} must be an integer, got '${value}'`);
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
      },
    });
    const threads = int('threads', values.threads);
    if (threads !== undefined) {
      // Default: one per core. The tensor core loads with this many before any tensor exists.
      if (threads < 1) throw new ConfigError(`--threads must be at least 1, got ${threads}`);
      await init({ threads });
    }
    const [command, target] = positionals;
    if (values.help || command === undefined) {
      io.out.write(`${USAGE}\n`);
      return command === undefined && !values.help ? 2 : 0;
    }
    if (target === undefined) throw new ConfigError(`${command}: missing its file argument\n${USAGE}`);
    switch (command) {
      case 'train':
        return await trainCommand({ config: target, epochs: int('epochs', values.epochs), seed: int('seed', values.seed), out: values.out, json: values.json }, io);
      case 'eval':
        return await evalCommand({ model: target, data: values.data, json: values.json }, io);
      case 'summary':
        return await summaryCommand({ config: target }, io);
      case 'augment-preview':
        return await augmentPreviewCommand({
          config: target, out: values.out, count: int('count', values.count), variants: int('variants', values.variants),
          scale: int('scale', values.scale), seed: int('seed', values.seed),
        }, io);
      default:
        throw new ConfigError(`unknown command '${command}'\n${USAGE}`);
    }
  } catch (error) {
    io.err.write(`minibatch: ${(error as Error).message}\n`);
    return error instanceof ConfigError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1;
  }
}
