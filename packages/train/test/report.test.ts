// Training logs and reports: records written by a real run, read back tolerantly, drawn as
// Vega-Lite figures rendered to SVG.
import { describe, expect, it } from 'vitest';
import { blobs } from './blobs.js';
import { layers, modelFromConfig } from '@minibatch/layers';
import { Adam } from '@minibatch/optimizers';
import { createRegistry } from '@minibatch/registry';
import { fit, logCallbacks, logLine, lrFind, readLog, reportDiagnoses, reportFigures, type LogRecord } from '../src/index.js';
import { renderReport } from '../src/report.js';
import { losses } from '@minibatch/layers';
import { SGD } from '@minibatch/optimizers';

const registry = createRegistry().use(layers);


function runLog(): LogRecord[] {
  const records: LogRecord[] = [{ kind: 'run', source: 'blobs', time: '2026-12-06T00:00:00Z' }];
  const model = modelFromConfig(registry, [{ name: 'dense', config: { units: 16, activation: 'relu', seed: 1 } }, { name: 'dense', config: { units: 4, seed: 2 } }]);
  fit(model, blobs(256, 1), {
    epochs: 3, batchSize: 32, seed: 1, validation: blobs(64, 2), optimizer: new Adam(undefined, { lr: 0.01 }), monitors: { every: 5 },
    callbacks: logCallbacks((r) => records.push(r)),
  });
  records.push({ kind: 'lr-find', ...lrFind(model, blobs(256, 1), { loss: losses.softmaxCrossEntropy(), optimizer: new SGD(), steps: 50, end: 10 }) });
  records.push({ kind: 'final', test_loss: 0.1, test_accuracy: 0.97 });
  model.dispose();
  return records;
}

describe('training logs', () => {
  it('a run logs one record per step and epoch and per watched step, and reads back as it was written', () => {
    const records = runLog();
    const count = (kind: string) => records.filter((r) => r.kind === kind).length;
    expect(count('step')).toBe(24);
    expect(count('epoch')).toBe(3);
    expect(count('monitor')).toBe(5);
    const text = records.map(logLine).join('');
    const back = readLog(text);
    expect(back.skipped).toEqual([]);
    expect(back.records).toEqual(JSON.parse(JSON.stringify(records)));
  });

  it('a truncated last line and foreign lines are counted and named; the rest is read', () => {
    const text = [logLine({ kind: 'step', step: 0, epoch: 1, loss: 2 }), '{"hello": 1}\n', 'plain text\n', logLine({ kind: 'step', step: 1, epoch: 1, loss: 1.5 }), '{"kind":"epoch","ep'].join('');
    const { records, skipped } = readLog(text);
    expect(records).toHaveLength(2);
    expect(skipped).toEqual([
      { line: 2, reason: 'not a minibatch log record (kind undefined)' },
      { line: 3, reason: 'not JSON: plain text' },
      { line: 5, reason: 'not JSON: {"kind":"epoch","ep' },
    ]);
  });

  it('non-finite numbers are written as null (JSON has no NaN)', () => {
    expect(logLine({ kind: 'step', step: 3, epoch: 1, loss: NaN })).toBe('{"kind":"step","step":3,"epoch":1,"loss":null}\n');
  });
});

describe('reports', () => {
  it('draws every figure the records allow, as Vega-Lite, rendered to SVG in one HTML page', async () => {
    const records = runLog();
    const figures = reportFigures(records);
    expect(figures.map((f) => f.name)).toEqual(['loss', 'accuracy', 'lr', 'update-ratio', 'activations', 'dead-units', 'lr-find']);
    for (const f of figures) expect(f.spec.$schema).toMatch(/vega-lite\/v6/);
    const report = await renderReport(readLog(records.map(logLine).join('')), { title: 'blobs run' });
    expect(report.figures).toHaveLength(7);
    for (const f of report.figures) expect(f.svg).toMatch(/^<svg[^>]*class="marks"/);
    expect(report.html).toMatch(/<title>blobs run — minibatch report<\/title>/);
    expect(report.html).toMatch(/test accuracy<\/th><td>97\.00%/);
    expect(report.html).toMatch(/best validation accuracy/);
    expect(report.html.match(/<figure /g)).toHaveLength(7);
  });

  it('says which lines it left out, and what a run without monitors lacks', async () => {
    const text = `${logLine({ kind: 'epoch', epoch: 1, loss: 1, accuracy: 0.5 })}garbage\n`;
    const { html } = await renderReport(readLog(text));
    expect(html).toMatch(/1 line\(s\) of the log could not be read: line 2 \(not JSON: garbage\)/);
    expect(html).toMatch(/The run was not watched \(train with --monitor for diagnoses\)/);
  });

  it('gathers a diagnosis repeated with changing figures into one, with its first and last step', () => {
    const monitor = (step: number, ratio: string): LogRecord => ({
      kind: 'monitor', step, epoch: 1, loss: 1, parameters: [], activity: [], batchNorm: [],
      diagnoses: [{ subject: '0.weight', message: `updates are ${ratio} of the weights (healthy ≈ 1e-3): the learning rate is likely ~300× too low` }],
    });
    const found = reportDiagnoses([monitor(10, '3.1e-6'), monitor(20, '2.9e-6'), monitor(30, '2.5e-6')]);
    expect(found).toEqual([{ subject: '0.weight', message: expect.stringContaining('2.5e-6'), first: 10, last: 30, count: 3 }]);
  });
});
