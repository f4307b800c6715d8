// The commands of `minibatch`: train, eval, summary. Each returns its exit code and writes
// to the streams it is given, so tests run them in-process. A config becomes a run through
// @minibatch/train's experiment(); the commands add only files, progress and printing.
import { createWriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { JSON_LIMITS } from '@minibatch/registry';
import cliProgress from 'cli-progress';
import { engine } from '@minibatch/core';
import { fashionMnistFiles, preprocessorFromJSON } from '@minibatch/data';
import {
  ConfigError, INPUT_SHAPES, buildModel, evaluate, experiment, formatBytes, inFile, loadConfigData, modelInputShape, parseBytes, parseRunConfig,
  configChanges, logCallbacks, logLine, type DatasetName, type EpochLogs, type History, type LogRecord, type RunConfig, type RunOptions, type TrainingState,
} from '@minibatch/train';
import { CheckpointWriter, FileError, checkOutputs, loadCheckpoint, loadModel, saveModel } from '@minibatch/train/node';
import { pretrainedRegistry } from '@minibatch/pretrained';
import { writeReport } from './report.js';
import { ensembleCommand } from './ensemble.js';

export interface Io {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream;
}

/** The text of a config file (run or search); a file over the JSON size limit is refused unread. */
export async function readConfigText(path: string): Promise<string> {
  try {
    const { size } = await stat(path);
    if (size > JSON_LIMITS.maxBytes) {
      throw new ConfigError(`${path}: ${formatBytes(size)} is more than the ${formatBytes(JSON_LIMITS.maxBytes)} a config may have`);
    }
    return await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new FileError(`cannot read config ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

/** Reads and validates a run config file. */
export async function readConfig(path: string): Promise<RunConfig> {
  return parseRunConfig(await readConfigText(path), path);
}

const fmt = (v: number | undefined, digits = 4): string => (v === undefined ? '-' : v.toFixed(digits));

function epochLine(logs: EpochLogs, epochs: number): string {
  const parts = [`epoch ${logs.epoch}/${epochs}`, `loss ${fmt(logs.loss)}`];
  if (logs.penalty !== undefined) parts.push(`penalty ${fmt(logs.penalty)}`);
  if (logs.accuracy !== undefined) parts.push(`acc ${fmt(logs.accuracy)}`);
  if (logs.val_loss !== undefined) parts.push(`val_loss ${fmt(logs.val_loss)}`, `val_acc ${fmt(logs.val_accuracy)}`);
  parts.push(`${Math.round(logs.samples_per_s)} samples/s`, `${logs.seconds.toFixed(1)} s`);
  return parts.join('  ');
}

export interface TrainArgs {
  config: string;
  epochs?: number;
  seed?: number;
  /** Train on this many samples (a stratified subset): overrides data.limit. */
  limit?: number;
  out?: string;
  json?: boolean;
  /** The most memory one training step may use ('2GB'); default: all the engine can hold. */
  memory?: string;
  /** Watch the run (every 100 steps) and report its diagnoses. */
  monitor?: boolean;
  /** Watch every N steps (implies monitor). */
  monitorEvery?: number;
  /** Write the run's records as JSON lines here, as it goes. */
  log?: string;
  /** Write an HTML report of the run here at the end (implies monitor). */
  report?: string;
  /** Write training-state checkpoints into this folder (every epoch, or every checkpointEvery steps, and on SIGINT/SIGTERM). */
  checkpoint?: string;
  checkpointEvery?: number;
  /** How many checkpoints to keep (default 3). */
  keep?: number;
  /** Also keep DIR/best.ckpt: the epoch-end checkpoint with the best value of this metric (val_accuracy, val_loss, accuracy, loss). */
  keepBest?: string;
  /** Continue from a checkpoint file, or the newest complete one in a folder. */
  resume?: string;
  /** Resume although the config's epochs changed (the only change allowed). */
  force?: boolean;
  /** Train this many members from consecutive seeds and combine them into an Ensemble. */
  ensemble?: number;
}

/** The files a run reads besides its config (an output must never replace one). */
function dataFiles(config: RunConfig): string[] {
  if (config.data.name !== 'fashion-mnist') return [];
  try {
    return Object.values(fashionMnistFiles());
  } catch {
    return []; // not installed: loading the data will say so
  }
}

/** `minibatch train <config.json> [--epochs N] [--seed S] [--out model.safetensors] [--memory SIZE] [--monitor] [--monitor-every N] [--json]` */
export async function trainCommand(args: TrainArgs, io: Io): Promise<number> {
  const config = await readConfig(args.config);
  if (args.epochs !== undefined) {
    if (args.epochs < 1) throw new ConfigError(`--epochs must be at least 1, got ${args.epochs}`);
    config.epochs = args.epochs;
  }
  if (args.seed !== undefined) config.seed = args.seed;
  if (args.limit !== undefined) {
    if (args.limit < 1) throw new ConfigError(`--limit must be at least 1, got ${args.limit}`);
    config.data.limit = args.limit;
  }
  let memoryLimit: number | undefined;
  if (args.memory !== undefined) {
    try {
      memoryLimit = parseBytes(args.memory);
    } catch (error) {
      throw new ConfigError(`--memory: ${(error as Error).message}`);
    }
  }
  if (args.monitorEvery !== undefined && args.monitorEvery < 1) throw new ConfigError(`--monitor-every must be at least 1, got ${args.monitorEvery}`);
  if (args.checkpointEvery !== undefined && args.checkpointEvery < 1) throw new ConfigError(`--checkpoint-every must be at least 1, got ${args.checkpointEvery}`);
  if (args.keep !== undefined && args.keep < 1) throw new ConfigError(`--keep must be at least 1, got ${args.keep}`);
  if ((args.checkpointEvery !== undefined || args.keep !== undefined || args.keepBest !== undefined) && args.checkpoint === undefined) {
    throw new ConfigError('--checkpoint-every, --keep and --keep-best need --checkpoint DIR (where to write the checkpoints)');
  }
  if (args.keepBest !== undefined) {
    const known = ['loss', 'accuracy', 'val_loss', 'val_accuracy'];
    if (!known.includes(args.keepBest)) throw new ConfigError(`--keep-best: no metric '${args.keepBest}'; one of ${known.join(', ')}`);
    if (args.keepBest.startsWith('val_') && !(config.data.validation > 0)) throw new ConfigError(`--keep-best ${args.keepBest} needs validation data: set "data": { "validation": 0.1 } in ${args.config}`);
  }
  const resumed = args.resume === undefined ? null : loadCheckpoint(args.resume);
  for (const skipped of resumed?.skipped ?? []) io.err.write(`minibatch: note: passed over ${skipped}\n`);
  await checkOutputs({ '--out': args.out, '--log': args.log, '--report': args.report }, [args.config, ...dataFiles(config)]);
  if (args.ensemble !== undefined) {
    const alone = (['checkpoint', 'resume', 'log', 'report', 'monitor', 'monitorEvery'] as const).filter((k) => args[k] !== undefined);
    if (alone.length > 0) throw new ConfigError(`--ensemble trains its members in their own processes; it does not take --${alone[0].replace('monitorEvery', 'monitor-every')}`);
    const passThrough = [...(args.epochs !== undefined ? ['--epochs', String(args.epochs)] : []), ...(args.limit !== undefined ? ['--limit', String(args.limit)] : [])];
    return ensembleCommand({ config: args.config, members: args.ensemble, out: args.out, json: args.json, passThrough }, config, io);
  }
  const run = experiment(config, { source: args.config, ...(memoryLimit !== undefined ? { memoryLimit } : {}) });
  if (resumed !== null) {
    // The run must be the one that was checkpointed: only more (or fewer) epochs may change, and only with --force.
    const changes = configChanges(resumed.checkpoint.config, run.config);
    const unsafe = changes.filter((c) => !c.startsWith('epochs:'));
    if (unsafe.length > 0 || (changes.length > 0 && args.force !== true)) {
      run.dispose();
      throw new ConfigError(
        `${resumed.path} was made with another config; what changed: ${changes.join('; ')}. ` +
          (unsafe.length > 0 ? 'Resume with the config it was made with, or start a new run without --resume.' : 'Pass --force to continue the run with the new number of epochs.'),
      );
    }
  }
  const { train, validation } = run.data;
  const json = args.json === true;
  const tty = !json && io.out.isTTY === true;
  const batchesPerEpoch = Math.ceil(train.count / config.batchSize);
  let bar: cliProgress.SingleBar | null = null;
  let samples = 0;
  let lossSum = 0;
  let epochStart = 0;
  // Monitors: the latest diagnosis in the progress bar; each new one printed once, after its epoch.
  const monitors = args.monitorEvery !== undefined ? { every: args.monitorEvery } : args.monitor === true || args.report !== undefined ? true : undefined;
  // The log is appended to as the run goes (a killed run can still be reported); the report needs the records too.
  const records: LogRecord[] = [];
  const log = args.log === undefined ? null : createWriteStream(args.log);
  const keep = (record: LogRecord) => {
    if (args.report !== undefined) records.push(record);
    log?.write(logLine(record));
  };
  keep({ kind: 'run', source: args.config, config, engine: { build: engine().build, threads: engine().threads }, time: new Date().toISOString() });
  const logging = logCallbacks(keep);
  let latest = '';
  const seen = new Set<string>();
  let fresh: string[] = [];
  if (!json) {
    const e = engine();
    io.out.write(`training on ${train.count} samples of ${config.data.name}${validation ? `, validating on ${validation.count}` : ''}` +
      ` (${e.build} kernels, ${e.threads} thread${e.threads === 1 ? '' : 's'})\n`);
  }
  // Checkpoints: after every epoch (or N steps) and, on SIGINT/SIGTERM, after the step in progress.
  let signal: NodeJS.Signals | null = null;
  let written: string | null = null;
  const onSignal = (s: NodeJS.Signals) => {
    if (signal !== null) process.exit(s === 'SIGINT' ? 130 : 143); // a second signal: stop now
    signal = s;
  };
  // --keep-best: the epoch-end checkpoint with the best value so far is also DIR/best.ckpt (lower is better for losses).
  let best = args.keepBest?.endsWith('loss') ? Infinity : -Infinity;
  const better = (v: number) => (args.keepBest!.endsWith('loss') ? v < best : v > best);
  for (const e of resumed?.checkpoint.state.history ?? []) {
    const v = e[args.keepBest ?? ''];
    if (typeof v === 'number' && better(v)) best = v; // a resumed run keeps the best of before the stop
  }
  // Written on a background thread: training goes on while a checkpoint is encoded and synced.
  const writer = args.checkpoint === undefined ? null : new CheckpointWriter(args.checkpoint, { keep: args.keep ?? 3 });
  const checkpointing = writer === null ? {} : {
    checkpoint: {
      every: args.checkpointEvery ?? ('epoch' as const),
      save: (state: TrainingState) => {
        const value = state.batch === 0 ? state.history.at(-1)?.[args.keepBest ?? ''] : undefined;
        const isBest = typeof value === 'number' && better(value);
        if (isBest) best = value;
        written = writer.save({ state, config: run.config }, { copies: isBest ? ['best.ckpt'] : [] });
      },
    },
    shouldStop: () => signal !== null,
  };
  if (args.checkpoint !== undefined) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const runOptions = {
    ...checkpointing,
    ...(resumed !== null ? { resume: resumed.checkpoint.state } : {}),
    callbacks: [logging, {
      onBatchEnd: (b) => {
        if (!tty) return;
        if (b.batch === 0) {
          bar = new cliProgress.SingleBar({
            format: `epoch ${b.epoch}/${config.epochs} {bar} {percentage}% | loss {loss} | {rate} samples/s{note}`,
            stream: io.out as NodeJS.WritableStream, hideCursor: true, clearOnComplete: true,
          }, cliProgress.Presets.shades_classic);
          bar.start(batchesPerEpoch, 0, { loss: '-', rate: '-', note: '' });
          samples = 0;
          lossSum = 0;
          epochStart = performance.now();
        }
        samples += b.size;
        lossSum += b.loss * b.size;
        const rate = Math.round(samples / ((performance.now() - epochStart) / 1000));
        bar?.update(b.batch + 1, { loss: (lossSum / samples).toFixed(4), rate, note: latest === '' ? '' : ` | ⚠ ${latest.length > 70 ? `${latest.slice(0, 69)}…` : latest}` });
      },
      onEpochEnd: (logs) => {
        (bar as cliProgress.SingleBar | null)?.stop();
        bar = null;
        if (json) {
          const record: Record<string, number> = { epoch: logs.epoch, loss: logs.loss, samples_per_s: logs.samples_per_s };
          if (logs.penalty !== undefined) record.penalty = logs.penalty;
          if (logs.accuracy !== undefined) record.accuracy = logs.accuracy;
          if (logs.val_loss !== undefined) Object.assign(record, { val_loss: logs.val_loss, val_accuracy: logs.val_accuracy });
          io.out.write(`${JSON.stringify(record)}\n`);
        } else {
          io.out.write(`${epochLine(logs, config.epochs)}\n`);
          for (const line of fresh) io.out.write(`  ⚠ ${line}\n`);
        }
        fresh = [];
      },
      onMonitor: (record) => {
        if (json) {
          io.out.write(`${JSON.stringify({ monitor: true, ...record })}\n`);
          return;
        }
        const lines = record.diagnoses.map((d) => `${d.subject}: ${d.message}`);
        latest = lines[0] ?? '';
        for (const line of lines) {
          if (seen.has(line)) continue;
          seen.add(line);
          fresh.push(`step ${record.step}: ${line}`);
        }
      },
    }],
    ...(monitors !== undefined ? { monitors } : {}),
  } satisfies RunOptions;
  let history: History;
  try {
    history = args.checkpoint === undefined ? run.run(runOptions) : await run.runAsync(runOptions);
  } catch (error) {
    try {
      writer?.close(); // the checkpoints queued before the failure still reach the disk
    } catch {
      // the run's own error is the one to report
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  writer?.close(); // every checkpoint on disk before the run is reported (throws a failed write)
  if (history.interrupted === true) {
    (bar as cliProgress.SingleBar | null)?.stop();
    log?.end();
    const at = history.epochs.length;
    io.err.write(`minibatch: stopped by ${signal} during epoch ${at + 1}; checkpoint written: ${written}\nresume with: minibatch train ${args.config} --resume ${args.checkpoint}\n`);
    run.dispose();
    return signal === 'SIGINT' ? 130 : 143;
  }
  const last = run.test();
  const averaged = run.testAverage();
  // With snapshots the run's model is their ensemble: its figures are the run's, the last weights' beside them.
  const snapshot = run.testSnapshots();
  const test = snapshot ?? last;
  keep({ kind: 'final', test_loss: test.loss, test_accuracy: test.accuracy });
  if (log !== null) await new Promise<void>((resolve, reject) => log.end((error?: Error | null) => (error ? reject(error) : resolve())));
  if (args.report !== undefined) {
    await writeReport(records, args.report, args.config);
    if (!json) io.out.write(`wrote ${args.report}\n`);
  }
  if (json) {
    io.out.write(`${JSON.stringify({
      final: true, test_loss: test.loss, test_accuracy: test.accuracy,
      ...(snapshot !== null ? { snapshots: run.snapshots!.taken, snapshot_test_accuracies: snapshot.members, last_test_loss: last.loss, last_test_accuracy: last.accuracy } : {}),
      ...(averaged !== null ? { average_test_loss: averaged.loss, average_test_accuracy: averaged.accuracy } : {}),
    })}\n`);
  } else {
    if (snapshot !== null) {
      io.out.write(`last weights: test loss ${fmt(last.loss)}  test accuracy ${(last.accuracy * 100).toFixed(2)}%\n` +
        `each snapshot: ${snapshot.members.map((a) => `${(a * 100).toFixed(2)}%`).join(', ')}\nsnapshot ensemble of ${run.snapshots!.taken}: `);
    }
    io.out.write(`test loss ${fmt(test.loss)}  test accuracy ${(test.accuracy * 100).toFixed(2)}% (${run.data.test.count} samples)\n`);
    if (averaged !== null) io.out.write(`averaged weights (${run.config.average!.kind}${run.config.average!.kind === 'ema' ? ` ${run.config.average!.decay}` : ''}): test loss ${fmt(averaged.loss)}  test accuracy ${(averaged.accuracy * 100).toFixed(2)}%\n`);
  }
  if (args.out !== undefined) {
    const saved = snapshot !== null ? run.snapshots!.ensemble(run.registry) : run.model;
    await saveModel(args.out, saved, train.shape, run.extras(test.accuracy));
    if (saved !== run.model) saved.dispose();
    if (!json) io.out.write(`saved ${args.out}\n`);
  }
  run.dispose();
  return 0;
}

export interface EvalArgs {
  model: string;
  data?: string;
  json?: boolean;
}

/** `minibatch eval <model.safetensors> [--data mnist|fashion-mnist]`: test-split loss and accuracy. */
export async function evalCommand(args: EvalArgs, io: Io): Promise<number> {
  const registry = pretrainedRegistry();
  const loaded = await loadModel(args.model, registry);
  if (loaded.notice !== undefined) io.err.write(`minibatch: note: ${loaded.notice}\n`);
  const info = (loaded.info ?? {}) as { data?: RunConfig['data']; loss?: RunConfig['loss'] };
  const name = (args.data ?? info.data?.name) as DatasetName | undefined;
  if (name === undefined || !(name in INPUT_SHAPES)) {
    throw new ConfigError(`eval: which data? pass --data ${Object.keys(INPUT_SHAPES).join('|')} (the model file does not name one)`);
  }
  const dataConfig = { validation: 0, testCount: 2000, ...(info.data ?? {}), name, limit: undefined };
  const { test } = loadConfigData(dataConfig, 0);
  const pre = loaded.preprocessing !== undefined ? preprocessorFromJSON(loaded.preprocessing as never) : null;
  const data = pre === null ? test : pre.transform(test);
  const loss = info.loss ? registry.fromJSON<never>({ kind: 'loss', ...info.loss }) : undefined;
  const result = evaluate(loaded.model, data, { loss, metrics: ['accuracy'] });
  if (args.json) io.out.write(`${JSON.stringify({ data: name, samples: data.count, test_loss: result.loss, test_accuracy: result.accuracy })}\n`);
  else io.out.write(`${name} test split (${data.count} samples): loss ${fmt(result.loss)}  accuracy ${(result.accuracy * 100).toFixed(2)}%\n`);
  loaded.model.dispose();
  return 0;
}

/** `minibatch summary <config.json>`: the model's layers, output shapes and parameter counts. */
export async function summaryCommand(args: { config: string }, io: Io): Promise<number> {
  const config = await readConfig(args.config);
  const model = inFile(args.config, () => buildModel(config));
  io.out.write(`${model.summary(modelInputShape(config))}\n`);
  model.dispose();
  return 0;
}
