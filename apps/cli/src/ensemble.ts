// `minibatch train CONFIG --ensemble N`: N members trained from seeds seed, seed + 1, …, as
// separate processes (one thread each, as many at once as there are cores), then combined
// into one Ensemble — each member's and the ensemble's test accuracy reported, the ensemble
// saved as one model file.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ensemble, ConfigError, evaluate, experiment, type RunConfig } from '@minibatch/train';
import { loadModel, saveModel } from '@minibatch/train/node';
import type { Io } from './commands.js';

// The built command (from src/ in tests, or from dist/ when installed: both sit beside dist/).
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** Runs one member's training in its own process; resolves when it has saved its model. */
function trainMember(configPath: string, seed: number, out: string, extra: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'train', configPath, '--seed', String(seed), '--threads', '1', '--out', out, '--json', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`member with seed ${seed} failed (exit ${code}): ${err.trim().split('\n').pop()}`))));
  });
}

export async function ensembleCommand(args: { config: string; members: number; out?: string; json?: boolean; passThrough: string[] }, config: RunConfig, io: Io): Promise<number> {
  if (!Number.isInteger(args.members) || args.members < 2 || args.members > 64) throw new ConfigError(`--ensemble must be an integer from 2 to 64, got ${args.members}`);
  const dir = await mkdtemp(join(tmpdir(), 'minibatch-ensemble-'));
  const seeds = Array.from({ length: args.members }, (_, i) => config.seed + i);
  const parallel = Math.min(args.members, availableParallelism());
  if (!args.json) io.out.write(`training ${args.members} members (seeds ${seeds[0]}…${seeds.at(-1)}), ${parallel} at a time, one thread each\n`);
  const started = performance.now();
  try {
    const queue = [...seeds];
    await Promise.all(Array.from({ length: parallel }, async () => {
      for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
        await trainMember(args.config, seed, join(dir, `member-${seed}.safetensors`), args.passThrough);
        if (!args.json) io.out.write(`  member seed ${seed} trained\n`);
      }
    }));
    const run = experiment(config, { source: args.config });
    const registry = run.registry;
    const members = [];
    for (const seed of seeds) members.push((await loadModel(join(dir, `member-${seed}.safetensors`), registry)).model);
    const each = members.map((m) => evaluate(m, run.data.test, { loss: run.loss, metrics: ['accuracy'] }));
    const ensemble = new Ensemble(members);
    const combined = evaluate(ensemble, run.data.test, { loss: run.loss, metrics: ['accuracy'] });
    const seconds = (performance.now() - started) / 1000;
    if (args.json) {
      io.out.write(`${JSON.stringify({ final: true, members: each.map((r, i) => ({ seed: seeds[i], test_accuracy: r.accuracy })), test_loss: combined.loss, test_accuracy: combined.accuracy, seconds })}\n`);
    } else {
      each.forEach((r, i) => io.out.write(`member seed ${seeds[i]}: test accuracy ${(r.accuracy * 100).toFixed(2)}%\n`));
      const best = Math.max(...each.map((r) => r.accuracy));
      io.out.write(`ensemble of ${args.members}: test accuracy ${(combined.accuracy * 100).toFixed(2)}% (best member ${(best * 100).toFixed(2)}%; ${seconds.toFixed(0)} s)\n`);
    }
    if (args.out !== undefined) {
      await saveModel(args.out, ensemble, run.data.train.shape, run.extras(combined.accuracy));
      if (!args.json) io.out.write(`saved ${args.out}\n`);
    }
    ensemble.dispose();
    run.dispose();
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
