// Runs one lab experiment quick, as a person would (`minibatch lab NAME --quick --out DIR --json`),
// and checks what every experiment owes: the stated claim, source and rule, finite figures,
// at least three seeds, and a verdict that follows from its own rule applied to its figures.
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { run } from '../src/index.js';
import { LAB } from '../src/lab/experiments.js';
import { capture } from './helpers.js';

export async function checkExperiment(name: string): Promise<Record<string, number>> {
  const experiment = LAB.find((e) => e.name === name)!;
  const out = await mkdtemp(join(tmpdir(), `minibatch-lab-${name}-`));
  const t = capture();
  expect(await run(['lab', name, '--quick', '--out', out, '--json'], t.io), t.err).toBe(0);
  const line = JSON.parse(t.out.trim().split('\n').at(-1)!);
  expect(line).toMatchObject({ kind: 'lab', name, out });
  const result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8'));
  expect(result).toMatchObject({ name, claim: experiment.claim, source: experiment.source, rule: experiment.rule, quick: true });
  expect(result.seeds.length).toBeGreaterThanOrEqual(3);
  const figures = result.figures as Record<string, number>;
  expect(Object.keys(figures).length).toBeGreaterThan(0);
  for (const [key, value] of Object.entries(figures)) expect(Number.isFinite(value), `${name}: figure ${key} = ${value}`).toBe(true);
  expect(['supported', 'not supported', 'mixed']).toContain(result.verdict);
  expect(result.verdict).toBe(experiment.judge(figures));
  expect(line.verdict).toBe(result.verdict);
  const page = await readFile(join(out, 'report.html'), 'utf8');
  expect(page).toContain(`Verdict: ${result.verdict}.`);
  expect(page).toContain('<strong>Rule.</strong>');
  expect(page).toContain('<svg');
  expect((await readdir(out)).sort()).toEqual(['report.html', 'result.json']);
  return figures;
}
