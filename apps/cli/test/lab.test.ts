// `minibatch lab`: listing, names, outputs, the index page, and an interrupted run.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../src/index.js';
import { LAB } from '../src/lab/experiments.js';
import { verdictOf } from '../src/lab/kit.js';
import { indexPage, type LabRecord } from '../src/lab/page.js';
import { capture } from './helpers.js';

const NAMES = [
  'init-activation', 'batchnorm', 'learning-rate', 'regularization', 'optimizers', 'input-scaling', 'batch-size', 'shuffling', 'activations',
  'rotated-ravine', 'second-order', 'nesterov', 'adam-bias-correction', 'saddles', 'sharpness', 'dropout-ensemble', 'ensemble-size', 'random-vs-grid',
];
const binary = join(import.meta.dirname, '../dist/main.js');

describe('minibatch lab', () => {
  it('--list names every experiment with its claim and source; --json gives the rule too', async () => {
    const t = capture();
    expect(await run(['lab', '--list'], t.io)).toBe(0);
    for (const name of NAMES) expect(t.out).toMatch(new RegExp(`^${name} `, 'm'));
    expect(t.out).toMatch(/\(LeCun et al\., Efficient BackProp, §4\.2\)/);
    const j = capture();
    expect(await run(['lab', '--list', '--json'], j.io)).toBe(0);
    const listed = j.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(listed.map((e) => e.name)).toEqual(NAMES);
    for (const e of listed) for (const field of ['title', 'claim', 'source', 'measures', 'rule']) expect(e[field], `${e.name}.${field}`).toMatch(/\w{3}/);
  });

  it('an unknown experiment gets a did-you-mean; no name asks for one (exit 2)', async () => {
    const u = capture();
    expect(await run(['lab', 'batchnrom'], u.io)).toBe(2);
    expect(u.err).toMatch(/lab: no experiment 'batchnrom' — did you mean 'batchnorm'\?/);
    const v = capture();
    expect(await run(['lab', 'nesterv'], v.io)).toBe(2);
    expect(v.err).toMatch(/did you mean 'nesterov'\?/);
    const none = capture();
    expect(await run(['lab'], none.io)).toBe(2);
    expect(none.err).toMatch(/lab: which experiment\? name one \(init-activation, batchnorm/);
  });

  it('--out that cannot be written is refused before anything runs (exit 2)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'minibatch-lab-'));
    await writeFile(join(dir, 'a-file'), 'x');
    const t = capture();
    expect(await run(['lab', 'saddles', '--quick', '--out', join(dir, 'a-file', 'lab')], t.io)).toBe(2);
    expect(t.err).toMatch(/lab: cannot write into --out .*a-file\/lab \(ENOTDIR\); choose a folder you can write/);
    const p = capture();
    expect(await run(['lab', 'saddles', '--quick', '--out', join(dir, 'ok'), '--png', join(dir, 'a-file', 'png')], p.io)).toBe(2);
    expect(p.err).toMatch(/cannot write into --png/);
    expect(await readdir(join(dir, 'ok'))).toEqual([]);
  });

  it('--png writes each plot as a PNG', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'minibatch-lab-'));
    const t = capture();
    expect(await run(['lab', 'adam-bias-correction', '--quick', '--out', join(dir, 'out'), '--png', join(dir, 'png')], t.io)).toBe(0);
    expect(t.out).toMatch(/verdict: (supported|not supported|mixed)\nwrote .*report\.html and 1 PNG\(s\)/);
    const png = await readFile(join(dir, 'png', 'adam-bias-correction.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  }, 120_000);

  it('verdictOf: all parts supported, none not supported, some mixed', () => {
    expect(verdictOf([true, true])).toBe('supported');
    expect(verdictOf([false, false])).toBe('not supported');
    expect(verdictOf([true, false])).toBe('mixed');
  });

  it('the index of lab all links each report with its verdict, and marks one not run or interrupted', async () => {
    const [a, b, c] = LAB;
    const record = (e: typeof a, extra: Partial<LabRecord>): LabRecord => ({
      name: e.name, title: e.title, claim: e.claim, source: e.source, measures: e.measures, rule: e.rule, figures: {}, verdict: 'mixed', seeds: [1, 2, 3], finding: 'found <this>', table: null, seconds: 3, quick: true, ...extra,
    });
    const html = await indexPage([
      { experiment: a, record: record(a, {}), href: `${a.name}/report.html` },
      { experiment: b, record: record(b, { verdict: null, interrupted: true }), href: `${b.name}/report.html` },
      { experiment: c, record: null, href: `${c.name}/report.html` },
    ], true);
    expect(html).toContain(`<a href="${a.name}/report.html">`);
    expect(html).toMatch(/<strong>mixed<\/strong><\/td><td>found &lt;this&gt;/);
    expect(html).toContain('<strong>interrupted</strong>');
    expect(html).toContain('<strong>not run</strong>');
  });

  it('Ctrl-C finishes the step, writes a partial report that says so, and exits 130', async () => {
    const out = await mkdtemp(join(tmpdir(), 'minibatch-lab-stop-'));
    const child = spawn(process.execPath, [binary, 'lab', 'batchnorm', '--quick', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (chunk) => {
        err += chunk;
        if (/batchnorm: without BN, lr/.test(err) && !child.killed) child.kill('SIGINT'); // after the first finished part
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code, err).toBe(130);
    expect(err).toMatch(/SIGINT: finishing the step in progress/);
    expect(err).toMatch(/batchnorm interrupted after \d+ s; wrote the partial report .*report\.html \(no verdict\)/);
    const result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8'));
    expect(result).toMatchObject({ name: 'batchnorm', verdict: null, interrupted: true });
    expect(result.finished.length).toBeGreaterThanOrEqual(1);
    expect(result.finished[0]).toMatch(/without BN, lr 0\.03/);
    expect(await readFile(join(out, 'report.html'), 'utf8')).toMatch(/Interrupted by SIGINT after \d+ s: no verdict/);
    expect((await readdir(out)).sort()).toEqual(['report.html', 'result.json']); // no temporary files left
  }, 120_000);
});
