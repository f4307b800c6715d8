// check, lr-find, report and train --log/--report, as a person runs them.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLog } from '@minibatch/train';
import { run } from '../src/index.js';
import { capture, configFile } from './helpers.js';

const small = {
  data: { name: 'mnist', limit: 600, validation: 0.2 },
  preprocessing: [{ name: 'center', config: { per: 'feature' } }],
  model: [{ name: 'flatten' }, { name: 'dense', config: { units: 32, activation: 'relu' } }, { name: 'dense', config: { units: 10 } }],
  optimizer: { name: 'adam', config: { lr: 0.003 } },
  epochs: 2,
  batchSize: 32,
  seed: 3,
};

describe('minibatch check', () => {
  it('a sound config passes: chance-level initial loss, gradients, overfitting 20 samples, a learning rate near the range test', async () => {
    const t = capture();
    expect(await run(['check', await configFile(small)], t.io)).toBe(0);
    expect(t.out).toMatch(/^PASS {2}initial loss {13}2\.\d+ \(chance: ln 10 = 2\.303\)/m);
    expect(t.out).toMatch(/^(PASS|WARN) {1,2}gradient check .*worst relative error/m);
    expect(t.out).toMatch(/^PASS {2}overfit 20 samples {7}100% training accuracy after \d+ steps/m);
    expect(t.out).toMatch(/^PASS {2}learning rate {12}configured 0\.003, range test suggests/m);
  });

  it('a last layer that starts confident fails the initial loss (exit 1); a learning rate far too low warns, with the figures', async () => {
    const bad = {
      ...small,
      model: [small.model[0], small.model[1], { name: 'dense', config: { units: 10, kernelInitializer: { name: 'gaussian', config: { std: 3 } } } }],
      optimizer: { name: 'sgd', config: { lr: 1e-7 } },
    };
    const t = capture();
    expect(await run(['check', await configFile(bad)], t.io)).toBe(1);
    expect(t.out).toMatch(/^FAIL {2}initial loss {13}\d+\.\d+ \(chance: ln 10 = 2\.303\)\n {6}the untrained model is confidently wrong: check the last layer's initialization/m);
    expect(t.out).toMatch(/^WARN {2}overfit 20 samples {7}\d+% after 300 steps\n {6}the model cannot memorize even a tiny subset/m);
    expect(t.out).toMatch(/^(WARN|FAIL) {1,2}learning rate .*configured 1e-7.*\n {6}the configured rate is \d+× below the suggestion; try/m);
    const j = capture();
    await run(['check', await configFile(bad), '--json'], j.io);
    const records = j.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(records.filter((r) => r.kind === 'check').map((r) => r.name)).toEqual(['initial loss', 'penalty raises the loss', 'gradient check', 'overfit 20 samples', 'learning rate']);
    expect(records.some((r) => r.kind === 'lr-find')).toBe(true);
  });
});

describe('minibatch lr-find', () => {
  it('prints the sweep, the suggestion and LeCun\'s 1/λmax, and writes the plot as a report', async () => {
    const config = await configFile(small);
    const report = join(dirname(config), 'lr.html');
    const t = capture();
    expect(await run(['lr-find', config, '--steps', '120', '--report', report], t.io)).toBe(0);
    expect(t.out).toMatch(/LR range test: \d+ steps from 1\.0e-7 to/);
    expect(t.out).toMatch(/suggested learning rate: \d\.\de-\d \(a decade below the lowest loss\)/);
    expect(t.out).toMatch(/LeCun's estimate: λmax \d+(\.\d+)? \(Gauss-Newton, 256 samples\) → η ≈ 1\/λmax = \d\.\de[-+]\d for plain SGD/);
    expect(await readFile(report, 'utf8')).toMatch(/<figure id="lr-find">/);
  });

  it('an empty or negative range is refused before any work (exit 2)', async () => {
    const config = await configFile(small);
    const a = capture();
    expect(await run(['lr-find', config, '--start', '1', '--end', '0.1'], a.io)).toBe(2);
    expect(a.err).toMatch(/lr-find: the range is empty: end \(0\.1\) must be above start \(1\)/);
    const b = capture();
    expect(await run(['lr-find', config, '--start=-1'], b.io)).toBe(2);
    expect(b.err).toMatch(/--start must be a positive number, got '-1'/);
  });
});

describe('train --log / --report and minibatch report', () => {
  it('logs the run as it goes, reports it as HTML, and report redraws it from the log, with PNG figures', async () => {
    const config = await configFile(small);
    const dir = dirname(config);
    const t = capture();
    expect(await run(['train', config, '--log', join(dir, 'run.jsonl'), '--report', join(dir, 'run.html'), '--monitor-every', '5'], t.io)).toBe(0);
    const log = readLog(await readFile(join(dir, 'run.jsonl'), 'utf8'));
    expect(log.skipped).toEqual([]);
    expect(log.records[0]).toMatchObject({ kind: 'run', source: config });
    expect(log.records.filter((r) => r.kind === 'epoch')).toHaveLength(2);
    expect(log.records.at(-1)).toMatchObject({ kind: 'final' });
    const html = await readFile(join(dir, 'run.html'), 'utf8');
    for (const id of ['loss', 'accuracy', 'update-ratio', 'activations']) expect(html).toContain(`<figure id="${id}">`);
    const r = capture();
    expect(await run(['report', join(dir, 'run.jsonl'), '--png', join(dir, 'figures')], r.io)).toBe(0);
    expect(r.out).toMatch(/wrote .*run\.html, .*figures\/loss\.png/);
    const pngs = await readdir(join(dir, 'figures'));
    expect(pngs).toContain('loss.png');
    const png = await readFile(join(dir, 'figures', 'loss.png'));
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
  });

  it('a truncated or foreign log: the unreadable lines are named and the rest is drawn; a log with nothing readable is refused', async () => {
    const config = await configFile(small);
    const dir = dirname(config);
    await run(['train', config, '--log', join(dir, 'run.jsonl'), '--epochs', '1'], capture().io);
    const text = await readFile(join(dir, 'run.jsonl'), 'utf8');
    await writeFile(join(dir, 'cut.jsonl'), `not a record\n${text.slice(0, text.length - 30)}`);
    const r = capture();
    expect(await run(['report', join(dir, 'cut.jsonl')], r.io)).toBe(0);
    expect(r.err).toMatch(/note: 2 line\(s\) of .*cut\.jsonl could not be read and are left out: line 1 \(not JSON: not a record\); line \d+ \(not JSON/);
    expect(await readFile(join(dir, 'cut.html'), 'utf8')).toMatch(/2 line\(s\) of the log could not be read/);
    await writeFile(join(dir, 'foreign.jsonl'), '{"a": 1}\n{"b": 2}\n');
    const f = capture();
    expect(await run(['report', join(dir, 'foreign.jsonl')], f.io)).toBe(2);
    expect(f.err).toMatch(/no minibatch log records in it \(2 line\(s\) unreadable, e\.g\. line 1: not a minibatch log record/);
    const missing = capture();
    expect(await run(['report', join(dir, 'nothing.jsonl')], missing.io)).toBe(2);
    expect(missing.err).toMatch(/no log at .*nothing\.jsonl/);
  });
});
