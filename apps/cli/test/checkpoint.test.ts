// Checkpoints from the command line: a real `minibatch train` process stopped with SIGTERM or
// killed with SIGKILL at some step, then resumed (at another thread count), ends with a model
// file byte-identical to the run that was never stopped.
import { spawn, spawnSync } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../src/index.js';
import { capture, configFile } from './helpers.js';

const binary = join(import.meta.dirname, '../dist/main.js');
const config = {
  data: { name: 'mnist', limit: 3000 },
  preprocessing: [{ name: 'center', config: { per: 'feature' } }],
  augment: [{ name: 'translate', config: { x: 0.1, y: 0.1 } }],
  model: [{ name: 'flatten' }, { name: 'dense', config: { units: 64, activation: 'relu' } }, { name: 'dropout', config: { rate: 0.3 } }, { name: 'dense', config: { units: 10 } }],
  optimizer: { name: 'adam', config: { lr: 0.002 } },
  epochs: 4,
  batchSize: 32,
  seed: 2,
};

const cli = (args: string[]) => spawnSync(process.execPath, [binary, ...args], { encoding: 'utf8' });

/** Starts a training process and stops it with `signal` once it has checkpointed step `after` × 10 or later (or ended). */
async function interrupted(args: string[], dir: string, signal: NodeJS.Signals, after: number): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, [binary, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise<number | null>((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig === 'SIGKILL' ? 137 : null))));
  let ended = false;
  void done.then(() => (ended = true));
  for (;;) {
    const steps = existsSync(dir) ? (await readdir(dir)).map((f) => /^step-(\d+)\.ckpt$/.exec(f)).filter((m) => m !== null).map((m) => Number(m![1])) : [];
    if (ended || Math.max(0, ...steps) >= after * 10) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill(signal);
  return { code: await done, err };
}

describe('train --checkpoint / --resume', () => {
  it('SIGTERM: the step finishes, a checkpoint is written, exit 143 with how to resume; resuming on 1 thread gives the unbroken run\'s model, byte for byte', async () => {
    const file = await configFile(config);
    const dir = dirname(file);
    expect(cli(['train', file, '--out', join(dir, 'full.safetensors')]).status).toBe(0);
    const ck = join(dir, 'ck');
    const stopped = await interrupted(['train', file, '--checkpoint', ck, '--checkpoint-every', '10', '--out', join(dir, 'part.safetensors')], ck, 'SIGTERM', 2);
    expect(stopped.code).toBe(143);
    expect(stopped.err).toMatch(/stopped by SIGTERM during epoch \d; checkpoint written: .*step-\d+\.ckpt\nresume with: minibatch train .*config\.json --resume .*ck/);
    expect(existsSync(join(dir, 'part.safetensors'))).toBe(false);
    const resumed = cli(['train', file, '--resume', ck, '--threads', '1', '--out', join(dir, 'resumed.safetensors')]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect((await readFile(join(dir, 'resumed.safetensors'))).equals(await readFile(join(dir, 'full.safetensors')))).toBe(true);
  }, 120_000);

  it('SIGKILL at several points: the newest complete checkpoint is the place to resume; a newest file cut short is passed over, named', async () => {
    const file = await configFile(config);
    const dir = dirname(file);
    expect(cli(['train', file, '--out', join(dir, 'full.safetensors')]).status).toBe(0);
    const full = await readFile(join(dir, 'full.safetensors'));
    for (const after of [1, 4, 9]) {
      const ck = join(dir, `ck-${after}`);
      const killed = await interrupted(['train', file, '--checkpoint', ck, '--checkpoint-every', '10', '--keep', '2'], ck, 'SIGKILL', after);
      if (killed.code === 0) continue; // finished before the kill landed: nothing to resume
      expect(killed.code).toBe(137);
      const files = (await readdir(ck)).filter((f) => f.endsWith('.ckpt'));
      // --keep 2, plus one: a new checkpoint is renamed into place before the oldest is removed
      // (so a kill never leaves fewer than 2), and a kill between the two leaves 3.
      expect(files.length).toBeLessThanOrEqual(3);
      expect(files.length).toBeGreaterThanOrEqual(1);
      // A write cut short by a full disk or a crash (the atomic rename prevents it; simulate the worst).
      const newest = files.sort().at(-1)!;
      const bytes = await readFile(join(ck, newest));
      await writeFile(join(ck, 'step-999999999.ckpt'), bytes.subarray(0, bytes.length >> 1));
      const resumed = cli(['train', file, '--resume', ck, '--out', join(dir, `resumed-${after}.safetensors`)]);
      expect(resumed.status, resumed.stderr).toBe(0);
      expect(resumed.stderr).toMatch(/note: passed over step-999999999\.ckpt \(/);
      expect((await readFile(join(dir, `resumed-${after}.safetensors`))).equals(full), `killed after ${after} checkpoints`).toBe(true);
    }
  }, 180_000);

  it('a changed config is refused, naming what changed; more epochs need --force', async () => {
    const file = await configFile({ ...config, epochs: 1 });
    const dir = dirname(file);
    const ck = join(dir, 'ck');
    expect(await run(['train', file, '--checkpoint', ck], capture().io)).toBe(0);
    const other = await configFile({ ...config, epochs: 1, optimizer: { name: 'adam', config: { lr: 0.01 } } });
    const t = capture();
    expect(await run(['train', other, '--resume', ck], t.io)).toBe(2);
    expect(t.err).toMatch(/was made with another config; what changed: optimizer\.config\.lr: 0\.002 → 0\.01\. Resume with the config it was made with/);
    const longer = capture();
    expect(await run(['train', file, '--resume', ck, '--epochs', '2'], longer.io)).toBe(2);
    expect(longer.err).toMatch(/what changed: epochs: 1 → 2\. Pass --force to continue the run with the new number of epochs/);
    const forced = capture();
    expect(await run(['train', file, '--resume', ck, '--epochs', '2', '--force', '--json'], forced.io)).toBe(0);
    expect(forced.out.trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.epoch !== undefined).map((r) => r.epoch)).toEqual([2]);
    const lonely = capture();
    expect(await run(['train', file, '--checkpoint-every', '5'], lonely.io)).toBe(2);
    expect(lonely.err).toMatch(/--checkpoint-every, --keep and --keep-best need --checkpoint DIR/);
    const noValidation = capture();
    expect(await run(['train', file, '--checkpoint', ck, '--keep-best', 'val_accuracy'], noValidation.io)).toBe(2);
    expect(noValidation.err).toMatch(/--keep-best val_accuracy needs validation data: set "data": \{ "validation": 0\.1 \}/);
    const missing = capture();
    expect(await run(['train', file, '--resume', join(dir, 'nowhere')], missing.io)).toBe(2);
    expect(missing.err).toMatch(/no checkpoint at .*nowhere/);
  }, 120_000);
});

describe('train --keep-best', () => {
  it('keeps DIR/best.ckpt: the epoch-end checkpoint with the best validation accuracy so far', async () => {
    const file = await configFile({ ...config, data: { name: 'mnist', limit: 600, validation: 0.2 }, epochs: 3 });
    const ck = join(dirname(file), 'ck');
    const t = capture();
    expect(await run(['train', file, '--checkpoint', ck, '--keep-best', 'val_accuracy', '--keep', '1', '--json'], t.io)).toBe(0);
    const epochs = t.out.trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.epoch !== undefined);
    const bestEpoch = epochs.reduce((a, e) => (e.val_accuracy > a.val_accuracy ? e : a));
    const { decodeCheckpoint } = await import('@minibatch/train');
    const best = decodeCheckpoint(new Uint8Array(await readFile(join(ck, 'best.ckpt'))));
    expect(best.state.epoch).toBe(bestEpoch.epoch);
    expect(best.state.history.at(-1)!.val_accuracy).toBe(bestEpoch.val_accuracy);
    expect((await readdir(ck)).filter((f) => f.startsWith('step-'))).toHaveLength(1);
  }, 60_000);
});

describe('train --ensemble N', () => {
  it('trains N members in their own processes, reports each and the ensemble, and saves the ensemble as one model file', async () => {
    const file = await configFile({ ...config, data: { name: 'mnist', limit: 800 }, epochs: 2 });
    const out = join(dirname(file), 'ensemble.safetensors');
    const t = capture();
    expect(await run(['train', file, '--ensemble', '3', '--out', out, '--json'], t.io)).toBe(0);
    const final = JSON.parse(t.out.trim().split('\n').at(-1)!);
    expect(final.members.map((m: { seed: number }) => m.seed)).toEqual([2, 3, 4]);
    for (const m of final.members) expect(m.test_accuracy).toBeGreaterThan(0.6);
    expect(final.test_accuracy).toBeGreaterThan(0.6);
    const e = capture();
    expect(await run(['eval', out, '--json'], e.io)).toBe(0);
    expect(JSON.parse(e.out).test_accuracy).toBeCloseTo(final.test_accuracy, 10);
    for (const [args, message] of [
      [['--ensemble', '1'], /--ensemble must be an integer from 2 to 64, got 1/],
      [['--ensemble', '3', '--checkpoint', join(dirname(file), 'ck')], /--ensemble trains its members in their own processes; it does not take --checkpoint/],
    ] as const) {
      const bad = capture();
      expect(await run(['train', file, ...args], bad.io)).toBe(2);
      expect(bad.err).toMatch(message);
    }
  }, 120_000);
});

describe('a config with "average"', () => {
  it('reports the averaged weights\' test accuracy beside the last weights\'; a decay outside (0, 1) is refused', async () => {
    const file = await configFile({ ...config, data: { name: 'mnist', limit: 800 }, epochs: 2, average: { kind: 'ema', decay: 0.99 } });
    const t = capture();
    expect(await run(['train', file, '--json'], t.io)).toBe(0);
    const final = JSON.parse(t.out.trim().split('\n').at(-1)!);
    expect(final.average_test_accuracy).toBeGreaterThan(0.6);
    expect(final.average_test_accuracy).not.toBe(final.test_accuracy);
    const bad = capture();
    expect(await run(['train', await configFile({ ...config, average: { decay: 1 } })], bad.io)).toBe(2);
    expect(bad.err).toMatch(/average\.decay/);
  }, 60_000);
});

describe('a config with "snapshots"', () => {
  it('trains through the cycles, reports the snapshot ensemble (and the last weights) and saves the ensemble', async () => {
    const snap = {
      ...config, data: { name: 'mnist', limit: 640 }, epochs: 4, batchSize: 32, augment: [],
      optimizer: { name: 'sgd', config: { lr: { kind: 'schedule', name: 'cosineWarmRestarts', config: { initial: 0.05, period: 20 } }, momentum: 0.9 } },
      snapshots: { count: 3 },
    };
    const file = await configFile(snap);
    const out = join(dirname(file), 'snap.safetensors');
    const t = capture();
    expect(await run(['train', file, '--json', '--out', out], t.io)).toBe(0);
    const final = JSON.parse(t.out.trim().split('\n').at(-1)!);
    expect(final.snapshots).toBe(3);
    expect(final.test_accuracy).toBeGreaterThan(0.7);
    expect(typeof final.last_test_accuracy).toBe('number');
    // Each snapshot alone; the last snapshot is the last weights (the run ends at a cycle's end).
    expect(final.snapshot_test_accuracies).toHaveLength(3);
    for (const a of final.snapshot_test_accuracies) expect(a).toBeGreaterThan(0.5);
    expect(final.snapshot_test_accuracies[2]).toBe(final.last_test_accuracy);
    const e = capture();
    expect(await run(['eval', out, '--json'], e.io)).toBe(0);
    expect(JSON.parse(e.out).test_accuracy).toBeCloseTo(final.test_accuracy, 10);
    const many = capture();
    expect(await run(['train', await configFile({ ...snap, snapshots: { count: 5 } })], many.io)).toBe(2);
    expect(many.err).toMatch(/snapshots\.count: 5 snapshots asked, but the learning rate goes through 4 cycles in 80 steps/);
  }, 60_000);
});
