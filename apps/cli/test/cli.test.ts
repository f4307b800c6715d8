import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../src/index.js';
import { capture, configFile } from './helpers.js';
import { loadModel } from '@minibatch/train/node';
import { defaultRegistry } from '@minibatch/train';

const small = {
  data: { name: 'mnist', limit: 600 },
  preprocessing: [{ name: 'center', config: { per: 'feature' } }],
  model: [{ name: 'flatten' }, { name: 'dense', config: { units: 32, activation: 'relu' } }, { name: 'dense', config: { units: 10 } }],
  optimizer: { name: 'adam', config: { lr: 0.002 } },
  epochs: 2,
  batchSize: 32,
  seed: 3,
};

describe('minibatch train / eval / summary', () => {
  it('trains from a config, prints JSON per epoch and a final record, and saves a model that eval reads', async () => {
    const config = await configFile(small);
    const model = join(config, '..', 'model.safetensors');
    const t = capture();
    expect(await run(['train', config, '--json', '--epochs', '3', '--out', model], t.io)).toBe(0);
    const lines = t.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatchObject({ epoch: 1 });
    for (const key of ['loss', 'accuracy', 'samples_per_s']) expect(typeof lines[0][key]).toBe('number');
    expect(lines[2].loss).toBeLessThan(lines[0].loss);
    expect(lines[3].final).toBe(true);
    expect(lines[3].test_accuracy).toBeGreaterThan(0.75);
    const e = capture();
    expect(await run(['eval', model, '--json'], e.io)).toBe(0);
    const evaluated = JSON.parse(e.out);
    expect(evaluated.samples).toBe(2000);
    expect(evaluated.test_accuracy).toBeCloseTo(lines[3].test_accuracy, 10);
  });

  it('reports validation figures per epoch when the config holds out a validation split', async () => {
    const config = await configFile({ ...small, data: { name: 'mnist', limit: 600, validation: 0.2 }, epochs: 1 });
    const t = capture();
    expect(await run(['train', config, '--json'], t.io)).toBe(0);
    const first = JSON.parse(t.out.split('\n')[0]);
    expect(typeof first.val_loss).toBe('number');
    expect(typeof first.val_accuracy).toBe('number');
  });

  it('prints plain lines when stdout is not a terminal', async () => {
    const config = await configFile({ ...small, epochs: 1 });
    const t = capture();
    expect(await run(['train', config], t.io)).toBe(0);
    expect(t.out).toMatch(/epoch 1\/1 {2}loss \d\.\d{4} {2}acc \d\.\d{4} {2}\d+ samples\/s/);
    expect(t.out).toMatch(/test accuracy \d+\.\d\d% \(2000 samples\)/);
  });

  it('--monitor-every N watches the run: diagnoses after their epoch, monitor records with --json', async () => {
    const config = await configFile({ ...small, optimizer: { name: 'sgd', config: { lr: 2e-5 } }, epochs: 2 });
    const t = capture();
    expect(await run(['train', config, '--monitor-every', '5'], t.io)).toBe(0);
    expect(t.out).toMatch(/epoch 1\/2 .*\n {2}⚠ step \d+: \d\.weight: updates are .* the learning rate is likely ~\d+× too low/);
    const j = capture();
    expect(await run(['train', config, '--monitor-every', '10', '--json', '--epochs', '1'], j.io)).toBe(0);
    const records = j.out.trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.monitor === true);
    expect(records.map((r) => r.step)).toEqual([0, 10]); // 600 samples, batches of 32: 19 steps
    expect(records[1].parameters[0]).toMatchObject({ name: '1.weight', shape: [784, 32] });
    expect(records[1].activity.map((a: { label: string }) => a.label)).toEqual(['flatten 0', 'dense 1', 'dense 2']);
    expect(records[1].diagnoses.length).toBeGreaterThan(0);
    const bad = capture();
    expect(await run(['train', config, '--monitor-every', '0'], bad.io)).toBe(2);
    expect(bad.err).toMatch(/--monitor-every must be at least 1, got 0/);
  });

  it('--threads sets the thread count, and the run does not depend on it (the built binary, one process each)', () => {
    const binary = join(import.meta.dirname, '../dist/main.js');
    const runWith = async (threads: number) => {
      const config = await configFile({ ...small, model: [{ name: 'conv2d', config: { filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' } },
        { name: 'maxPool2d' }, { name: 'flatten' }, { name: 'dense', config: { units: 10 } }], epochs: 1 });
      const child = spawnSync(process.execPath, [binary, 'train', config, '--threads', String(threads)], { encoding: 'utf8' });
      expect(child.stderr).toBe('');
      expect(child.status).toBe(0);
      return child.stdout;
    };
    return Promise.all([runWith(1), runWith(2)]).then(([one, two]) => {
      expect(one).toMatch(/\((relaxed-)?simd kernels, 1 thread\)/);
      expect(two).toMatch(/\((relaxed-)?simd kernels, 2 threads\)/);
      const figures = (out: string) => out.replace(/\d+ samples\/s\s+[\d.]+ s|\(.*thread.*\)/g, ''); // timings differ, figures not
      expect(figures(two)).toBe(figures(one)); // same losses, accuracies, test figures
    });
  }, 60_000);

  it('summarizes a model with output shapes and parameter counts', async () => {
    const t = capture();
    expect(await run(['summary', join(import.meta.dirname, '../../../examples/mnist-mlp.json')], t.io)).toBe(0);
    expect(t.out).toContain('[batch, 256]');
    expect(t.out).toContain('Total params: 235,146');
  });
});

describe('regularization in the config', () => {
  it('adds penalties to the loss (logged as penalty), applies constraints after each step, and saves a model eval reads', async () => {
    const config = await configFile({
      ...small,
      model: [{ name: 'flatten' }, { name: 'dense', config: { units: 32, activation: 'relu' } }, { name: 'dropout', config: { rate: 0.2 } }, { name: 'dense', config: { units: 10 } }],
      regularization: [{ name: 'l2', config: { lambda: 1e-3 } }, { name: 'maxNorm', config: { maxValue: 1.5 } }],
    });
    const path = join(config, '..', 'model.safetensors');
    const t = capture();
    expect(await run(['train', config, '--json', '--out', path], t.io)).toBe(0);
    const lines = t.out.trim().split('\n').map((l) => JSON.parse(l));
    for (const epoch of lines.slice(0, 2)) {
      expect(epoch.penalty).toBeGreaterThan(0);
      expect(epoch.loss).toBeGreaterThan(0);
    }
    expect(lines[2].test_accuracy).toBeGreaterThan(0.7);
    // Max-norm held after the last step: every unit's incoming weights have norm ≤ 1.5.
    const loaded = await loadModel(path, defaultRegistry());
    const kernels = loaded.model.parameterInfo().filter((p) => p.kind === 'weight');
    expect(kernels.map((p) => p.name)).toEqual(['1.weight', '3.weight']);
    for (const { tensor } of kernels) {
      const [rows, cols] = tensor.shape;
      const w = tensor.data();
      for (let j = 0; j < cols; j++) {
        let norm = 0;
        for (let i = 0; i < rows; i++) norm += w[i * cols + j] ** 2;
        expect(Math.sqrt(norm)).toBeLessThanOrEqual(1.5 + 1e-5);
      }
    }
    loaded.model.dispose();
    const e = capture();
    expect(await run(['eval', path, '--json'], e.io)).toBe(0);
    expect(JSON.parse(e.out).test_accuracy).toBeCloseTo(lines[2].test_accuracy, 10);
    const plain = capture();
    expect(await run(['train', config, '--epochs', '1'], plain.io)).toBe(0);
    expect(plain.out).toMatch(/epoch 1\/1 {2}loss \d\.\d{4} {2}penalty \d\.\d{4} {2}acc/);
  });

  it('names a misspelt regularizer before loading any data (exit 2)', async () => {
    const config = await configFile({ ...small, regularization: [{ name: 'maxnorm', config: { maxValue: 3 } }] });
    const t = capture();
    expect(await run(['train', config], t.io)).toBe(2);
    expect(t.err).toMatch(/regularization\[0\]: unknown regularizer 'maxnorm' — did you mean 'maxNorm'\?/);
    const bad = capture();
    expect(await run(['train', await configFile({ ...small, regularization: [{ name: 'l2', config: { lambda: -1 } }] })], bad.io)).toBe(2);
    expect(bad.err).toMatch(/invalid config for regularizer 'l2' at regularization\[0\]\.config:\n {2}- regularization\[0\]\.config\.lambda: /);
  });
});

describe('errors a person can act on', () => {
  it('names each bad field, its value and what is allowed (exit 2)', async () => {
    const config = await configFile({ data: { name: 'mnst' }, model: [], epochs: 0 });
    const t = capture();
    expect(await run(['train', config], t.io)).toBe(2);
    expect(t.err).toContain('data.name');
    expect(t.err).toContain('"mnst"');
    expect(t.err).toMatch(/data\.name: expected one of "mnist", "fashion-mnist", got "mnst"/);
    expect(t.err).toContain('epochs');
    expect(t.err).toContain('model');
  });

  it('suggests the layer name that was meant', async () => {
    const config = await configFile({ ...small, model: [{ name: 'dens', config: { units: 3 } }] });
    const t = capture();
    expect(await run(['train', config], t.io)).not.toBe(0);
    expect(t.err).toMatch(/unknown layer 'dens' — did you mean 'dense'\?/);
  });

  it('bad JSON, a missing file, an unknown command', async () => {
    const broken = capture();
    expect(await run(['train', await configFile('{"data": ')], broken.io)).toBe(2);
    expect(broken.err).toMatch(/not valid JSON/);
    const missing = capture();
    expect(await run(['summary', '/nonexistent/config.json'], missing.io)).toBe(2);
    expect(missing.err).toMatch(/cannot read config \/nonexistent\/config.json: no such file/);
    const unknown = capture();
    expect(await run(['fly', 'x'], unknown.io)).toBe(2);
    expect(unknown.err).toMatch(/unknown command 'fly'/);
    const flag = capture();
    expect(await run(['train', 'x', '--epochs', 'many'], flag.io)).toBe(2);
    expect(flag.err).toMatch(/--epochs must be an integer, got 'many'/);
    const threads = capture();
    expect(await run(['train', 'x', '--threads', '0'], threads.io)).toBe(2);
    expect(threads.err).toMatch(/--threads must be at least 1, got 0/);
  });
});
