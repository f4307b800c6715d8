// The CLI as a careless or hostile user meets it: one exit-code contract for every command,
// nothing silently accepted, nothing overwritten, sizes refused before work.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { run } from '../src/index.js';
import { capture, configFile } from './helpers.js';

const small = {
  data: { name: 'mnist', limit: 300 },
  model: [{ name: 'flatten' }, { name: 'dense', config: { units: 16, activation: 'relu' } }, { name: 'dense', config: { units: 10 } }],
  optimizer: { name: 'adam', config: { lr: 0.002 } },
  augment: [{ name: 'flip' }],
  epochs: 1,
  batchSize: 32,
  seed: 3,
};

async function exec(argv: string[]) {
  const t = capture();
  const code = await run(argv, t.io);
  return { code, out: t.out, err: t.err };
}

const binary = join(import.meta.dirname, '../dist/main.js');

/**
 * Starts the built CLI from bash (with job control, so the job keeps SIGINT), sends `signal`
 * once the first epoch is printed, and returns the exit status bash reports.
 */
function interrupted(config: string, signal: 'INT' | 'TERM'): Promise<string> {
  const out = `${config}.out`;
  const script = `set -m; "${process.execPath}" "${binary}" train "${config}" --json --epochs 50 > "${out}" & pid=$!; ` +
    `for i in $(seq 400); do grep -q epoch "${out}" 2>/dev/null && break; sleep 0.05; done; kill -${signal} $pid; wait $pid; echo "status $?"`;
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.on('close', () => resolve(/status (\d+)/.exec(text)?.[1] ?? 'none'));
  });
}

describe('one exit-code contract: 0 success, 2 usage/config/input, 1 failure while running, 130/143 interrupted', () => {
  it('0 for every command that succeeds', async () => {
    const config = await configFile(small);
    const model = join(config, '..', 'm.safetensors');
    expect((await exec(['train', config, '--out', model, '--json'])).code).toBe(0);
    expect((await exec(['eval', model, '--json'])).code).toBe(0);
    expect((await exec(['summary', config])).code).toBe(0);
    expect((await exec(['augment-preview', config, '--out', join(config, '..', 'grid.png'), '--count', '2', '--variants', '2'])).code).toBe(0);
  });

  it('2 for usage errors: unknown command or option, an option of another command, a missing or an extra argument', async () => {
    const config = await configFile(small);
    const cases: [string[], RegExp][] = [
      [['fly', config], /unknown command 'fly'/],
      [['train', config, '--colour'], /^minibatch: train: unknown option '--colour'\nusage:\n {2}minibatch train </],
      [['train', config, '--epoch', '3'], /^minibatch: train: unknown option '--epoch' — did you mean --epochs\?/],
      [['search', config, '--worker', '2'], /unknown option '--worker' — did you mean --workers\?/],
      [['trian', config], /^minibatch: unknown command 'trian' — did you mean 'train'\?/],
      [['eval', config, '--epochs', '2'], /^minibatch: eval has no option --epochs\nusage:\n {2}minibatch eval </],
      [['train', config, '--count', '3'], /^minibatch: train has no option --count/],
      [['summary', config, '--json'], /^minibatch: summary has no option --json/],
      [['train', config, 'extra.json'], /^minibatch: train takes one file, got also 'extra\.json'/],
      [['eval'], /eval: missing its file argument/],
      [[], /^minibatch: which command\? \(minibatch --help lists them\)\nusage:/],
      [['lab'], /^minibatch: lab: which experiment\? name one \(.*\) or all/],
      [['train', config, '--epochs', '0'], /--epochs must be at least 1, got 0/],
      [['train', config, '--memory', 'lots'], /--memory: 'lots' is not a size/],
    ];
    for (const [argv, message] of cases) {
      const r = await exec(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(message);
    }
  });

  it('2 for config and input errors of every command, naming the file and the path', async () => {
    const unitz = await configFile({ ...small, model: [{ name: 'flatten' }, { name: 'dense', config: { unitz: 10 } }] });
    const beside = await configFile({ ...small, model: [{ name: 'flatten' }, { name: 'dense', config: { units: 10 }, activation: 'relu' }] });
    const dir = await mkdtemp(join(tmpdir(), 'minibatch-contract-'));
    const corrupt = join(dir, 'corrupt.safetensors');
    await writeFile(corrupt, new Uint8Array([16, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode('{"w": 1}        ')]));
    const cases: [string[], RegExp][] = [
      [['train', unitz], /config\.json: invalid config for layer 'dense' at model\[1\]\.config:\n(.*\n)* {2}- model\[1\]\.config\.unitz: unknown key 'unitz' \(did you mean 'units'\?\)/],
      [['summary', unitz], /model\[1\]\.config\.unitz: unknown key 'unitz'/],
      [['augment-preview', unitz, '--out', join(dir, 'g.png')], /model\[1\]\.config\.unitz|unknown key 'unitz'/],
      [['train', beside], /config\.json: model\[1\]\.activation: unknown key 'activation' beside "name" and "config" — a layer's options go inside "config"/],
      [['eval', join(dir, 'none.safetensors')], /no model file at .*none\.safetensors/],
      [['eval', corrupt], /corrupt\.safetensors: tensor 'w': expected \{ dtype, shape, data_offsets \}/],
    ];
    for (const [argv, message] of cases) {
      const r = await exec(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(message);
    }
  });

  it('1 for a failure while running (the loss diverges), with what to change', async () => {
    const r = await exec(['train', await configFile({ ...small, optimizer: { name: 'sgd', config: { lr: 1e38 } } })]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/the loss became NaN at epoch 1, batch \d+ — the learning rate is probably too high/);
  });

  it('130 on SIGINT and 143 on SIGTERM, as a shell sees them', async () => {
    const config = () => configFile({ ...small, data: { name: 'mnist', limit: 2000 } });
    const [a, b] = [await config(), await config()];
    expect(await interrupted(a, 'INT')).toBe('130');
    expect(await interrupted(b, 'TERM')).toBe('143');
  }, 60_000);
});

describe('any command line (fuzz)', () => {
  it('exits 0 or 2, the problem on the first line, never an internal error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'minibatch-argv-'));
    const badJson = join(dir, 'bad.json');
    await writeFile(badJson, '{"data": {"name": "mnist",');
    const commands = ['train', 'check', 'lr-find', 'report', 'search', 'worker', 'lab', 'eval', 'summary', 'augment-preview', 'finetune', 'inspect', 'trian', 'x', ''];
    const flags = ['--epochs', '--seed', '--limit', '--out', '--threads', '--memory', '--monitor', '--log', '--checkpoint', '--keep', '--keep-best', '--resume',
      '--ensemble', '--json', '--trials', '--workers', '--queue', '--lock-seconds', '--steps', '--start', '--data', '--count', '--scale', '--list', '--quick',
      '--epoch', '--colour', '-h', '-x', '--'];
    const values = ['-1', '0', 'abc', '1e999', 'NaN', '', '0.5', join(dir, 'missing.json'), 'http://x', 'redis:', '--json'];
    const files = [join(dir, 'missing.json'), badJson, dir, ''];
    const argv = fc.tuple(
      fc.constantFrom(...commands), fc.option(fc.constantFrom(...files), { nil: undefined }),
      fc.array(fc.tuple(fc.constantFrom(...flags), fc.option(fc.constantFrom(...values), { nil: undefined })), { maxLength: 4 }),
    ).map(([command, file, rest]) => [command, ...(file !== undefined ? [file] : []), ...rest.flatMap(([f, v]) => (v === undefined ? [f] : [f, v]))].filter((a) => a !== ''));
    await fc.assert(fc.asyncProperty(argv, async (args) => {
      const r = await exec(args);
      expect([0, 2], `${args.join(' ')}\n${r.err}`).toContain(r.code);
      if (r.code === 2) {
        expect(r.err, args.join(' ')).toMatch(/^minibatch: \S/);
        expect(r.err, args.join(' ')).not.toMatch(/TypeError|RangeError|ReferenceError|\n {4}at /);
      }
    }), { seed: Number(process.env.FUZZ_SEED ?? 18), numRuns: Number(process.env.FUZZ_RUNS ?? 150) });
  });
});

describe('nothing silently accepted', () => {
  it('a data set left empty by the config, and labels beyond the model outputs, are refused before training (exit 2)', async () => {
    const empty = await exec(['train', await configFile({ ...small, data: { name: 'mnist', limit: 1, validation: 0.5 } })]);
    expect(empty.code).toBe(2);
    expect(empty.err).toMatch(/config\.json: data: splitIndices: need an integer n ≥ 2 samples, got 1/);
    const few = await exec(['train', await configFile({ ...small, model: [{ name: 'flatten' }, { name: 'dense', config: { units: 5 } }] })]);
    expect(few.code).toBe(2);
    expect(few.out).toBe('');
    expect(few.err).toMatch(/the training data \(mnist\): sample \d+ has label \d, but the model has 5 outputs \(labels 0…4\); give the last layer as many units as there are classes \(10\)/);
  });

  it('hostile configs are refused at once: deep nesting, a huge file, 20,000 layers, a layer of 10⁹ units', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'minibatch-hostile-'));
    const huge = join(dir, 'huge.json');
    await writeFile(huge, `{"model": [${'{"name":"relu"},'.repeat(1_200_000)}{"name":"relu"}]}`);
    const cases: [string, RegExp][] = [
      [await configFile(`{"data": {"name": "mnist"}, "model": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`), /nested deeper than 64 levels at model\[0\]/],
      [huge, /huge\.json: 18 MiB is more than the 16 MiB a config may have/],
      [await configFile({ ...small, model: Array.from({ length: 20_000 }, () => ({ name: 'relu' })) }), /the model has more than 10,000 layers/],
      [await configFile({ ...small, model: [{ name: 'flatten' }, { name: 'dense', config: { units: 1e9 } }] }), /The weights alone are too large: model\[1\] \(dense\) has 785,000,000,000 parameters; make it smaller/],
    ];
    for (const [config, message] of cases) {
      const started = performance.now();
      const r = await exec(['train', config]);
      expect(r.code, message.source).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/Maximum call stack|Invalid typed array length|heap/);
      expect(performance.now() - started, message.source).toBeLessThan(5000);
    }
  });

  it('--memory refuses a run that would not fit, naming the layer and a batch size that would', async () => {
    const r = await exec(['train', await configFile(small), '--memory', '1MB']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/but the engine can hold at most 1\.0 MiB\.\nThe (largest activations|weights alone)/);
  });
});

describe('outputs never destroy inputs', () => {
  it('train --out and augment-preview --out refuse the config, however the path is spelled, and leave it intact', async () => {
    const config = await configFile(small);
    const before = await readFile(config, 'utf8');
    const dir = join(config, '..');
    for (const out of [config, join(dir, '.', 'config.json'), join(dir, '..', dir.split('/').at(-1)!, 'config.json')]) {
      const t = await exec(['train', config, '--out', out]);
      expect(t.code).toBe(2);
      expect(t.err).toMatch(/--out .* writing it would destroy the input — choose another path/);
      const p = await exec(['augment-preview', config, '--out', out]);
      expect(p.code).toBe(2);
    }
    expect(await readFile(config, 'utf8')).toBe(before);
  });
});
