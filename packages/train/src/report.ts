// @minibatch/train/report: a training report as one self-contained HTML page — the figures of
// reportFigures() rendered to SVG with Vega (no browser needed), the diagnoses, the checks and
// the run's figures. A separate entry, so that the main one stays free of Vega.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { reportDiagnoses, reportFigures } from './figures.js';
import type { LogRecord, ReadLog } from './log.js';
import type { Distribution, TrialResult } from './search.js';

export interface RenderedFigure {
  name: string;
  title: string;
  svg: string;
}

export interface Report {
  html: string;
  figures: RenderedFigure[];
}

const STYLE = `<style>
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 1.5rem auto; padding: 0 1rem; color: #1d1d1f; line-height: 1.4; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; } td, th { padding: 0.2rem 0.7rem; border-bottom: 1px solid #ddd; text-align: left; }
figure { margin: 1.5rem 0; overflow-x: auto; } figcaption { font-weight: 600; margin-bottom: 0.3rem; }
.PASS { color: #1b6e20; } .WARN { color: #8a5a00; } .FAIL { color: #b3261e; font-weight: 700; }
li { margin-bottom: 0.3rem; }
</style>`;

/** Text made safe inside HTML. */
export const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const pct = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(2)}%` : '—');
const num = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? v.toPrecision(4) : '—');

/** A Vega-Lite spec as SVG text. */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec as unknown as TopLevelSpec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * The report of a run's log records (`readLog(text)`), with its figures as SVG.
 *
 * @example
 * const { html } = await renderReport(readLog(await readFile('run.jsonl', 'utf8')), { title: 'mnist-mlp' });
 */
export async function renderReport(log: ReadLog | readonly LogRecord[], options: { title?: string } = {}): Promise<Report> {
  const records = Array.isArray(log) ? (log as readonly LogRecord[]) : (log as ReadLog).records;
  const skipped = Array.isArray(log) ? [] : (log as ReadLog).skipped;
  const figures: RenderedFigure[] = [];
  for (const f of reportFigures(records)) figures.push({ name: f.name, title: f.title, svg: await renderSvg(f.spec) });
  const run = records.find((r) => r.kind === 'run') as Extract<LogRecord, { kind: 'run' }> | undefined;
  const epochs = records.filter((r): r is Extract<LogRecord, { kind: 'epoch' }> => r.kind === 'epoch');
  const final = records.find((r) => r.kind === 'final') as Extract<LogRecord, { kind: 'final' }> | undefined;
  const checks = records.filter((r): r is Extract<LogRecord, { kind: 'check' }> => r.kind === 'check');
  const diagnoses = reportDiagnoses(records);
  const title = options.title ?? run?.source ?? 'training run';
  const last = epochs.at(-1);
  const bestVal = Math.max(...epochs.map((e) => (typeof e.val_accuracy === 'number' ? e.val_accuracy : -Infinity)));
  const seconds = epochs.reduce((a, e) => a + (typeof e.seconds === 'number' ? e.seconds : 0), 0);
  const facts: [string, string][] = [
    ['epochs', String(epochs.length)],
    ...(last !== undefined ? [['last training loss', num(last.loss)], ['last training accuracy', pct(last.accuracy)]] as [string, string][] : []),
    ...(Number.isFinite(bestVal) ? [['best validation accuracy', pct(bestVal)]] as [string, string][] : []),
    ...(final !== undefined ? [['test accuracy', pct(final.test_accuracy)], ['test loss', num(final.test_loss)]] as [string, string][] : []),
    ...(seconds > 0 ? [['training time', `${seconds.toFixed(1)} s`]] as [string, string][] : []),
    ...(run?.engine ? [['engine', `${run.engine.build} kernels, ${run.engine.threads} thread(s)`]] as [string, string][] : []),
  ];
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — minibatch report</title>
${STYLE}</head><body>
<h1>${escapeHtml(title)}</h1>
<p>A minibatch training report${run?.time ? `, run started ${escapeHtml(run.time)}` : ''}.</p>
<table>${facts.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>
${checks.length > 0 ? `<h2>Checks</h2><table><tr><th>check</th><th>result</th><th>figure</th><th>what it means</th></tr>${checks.map((c) => `<tr><td>${escapeHtml(c.name)}</td><td class="${c.status}">${c.status}</td><td>${escapeHtml(c.figure)}</td><td>${escapeHtml(c.message)}</td></tr>`).join('')}</table>` : ''}
<h2>Diagnoses</h2>
${diagnoses.length === 0
    ? `<p>${records.some((r) => r.kind === 'monitor') ? '✓ Nothing looked wrong at any watched step.' : 'The run was not watched (train with --monitor for diagnoses).'}</p>`
    : `<ul>${diagnoses.map((d) => `<li>⚠ <strong>${escapeHtml(d.subject)}</strong> (steps ${d.first}–${d.last}, ${d.count}×): ${escapeHtml(d.message)}</li>`).join('')}</ul>`}
${figures.map((f) => `<figure id="${f.name}"><figcaption>${escapeHtml(f.title)}</figcaption>${f.svg}</figure>`).join('\n')}
${skipped.length > 0 ? `<h2>Lines left out</h2><p>${skipped.length} line(s) of the log could not be read: ${skipped.slice(0, 10).map((s) => `line ${s.line} (${escapeHtml(s.reason)})`).join('; ')}${skipped.length > 10 ? '; …' : ''}.</p>` : ''}
</body></html>
`;
  return { html, figures };
}

/** A search's value, short. */
export const formatValue = (v: unknown): string => (typeof v === 'number' && !Number.isInteger(v) ? String(Number(v.toPrecision(4))) : JSON.stringify(v));

/**
 * The report of a search: the trials ranked, and the objective against each searched value
 * (log axes for log-uniform ranges), as one self-contained HTML page.
 */
export async function renderSearchReport(
  search: { space: Record<string, Distribution>; objective: { metric: string } }, results: readonly TrialResult[], options: { title?: string; warnings?: readonly string[] } = {},
): Promise<Report> {
  const metric = search.objective.metric;
  const paths = Object.keys(search.space);
  const figures: RenderedFigure[] = [];
  const finished = results.filter((r) => r.objective !== null);
  for (const [i, path] of paths.entries()) {
    const d = search.space[path];
    const numeric = d.kind !== 'choice' || d.values.every((v) => typeof v === 'number');
    const spec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json', width: 420, height: 260, background: 'white',
      data: { values: finished.map((r) => ({ value: numeric ? Number(r.values[path]) : formatValue(r.values[path]), objective: r.objective, status: r.status, id: r.id, stage: `stage ${r.stage}` })) },
      mark: { type: 'point', filled: true, size: 60 },
      encoding: {
        x: { field: 'value', type: numeric ? 'quantitative' : 'nominal', title: path, ...(d.kind === 'logUniform' ? { scale: { type: 'log' } } : numeric ? { scale: { zero: false } } : {}) },
        y: { field: 'objective', type: 'quantitative', title: metric, scale: { zero: false } },
        color: { field: 'status', type: 'nominal', title: 'trial' },
        shape: { field: 'stage', type: 'nominal', title: 'stage' },
      },
    };
    figures.push({ name: `objective-${i}`, title: `${metric} against ${path}${d.kind === 'logUniform' ? ' (log axis)' : ''}`, svg: await renderSvg(spec) });
  }
  const title = options.title ?? 'search';
  const head = ['rank', 'trial', ...paths, metric, 'status', 'seconds'];
  const rows = results.map((r, i) => [
    String(i + 1), r.id, ...paths.map((p) => formatValue(r.values[p])),
    r.objective === null ? '—' : `${r.objective.toFixed(4)}${r.std !== undefined ? ` ± ${r.std.toFixed(4)}` : ''}`,
    r.status === 'failed' ? `failed: ${r.error ?? ''}` : r.status, r.seconds.toFixed(1),
  ]);
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — minibatch search</title>
${STYLE}</head><body>
<h1>${escapeHtml(title)}</h1>
<p>A minibatch hyper-parameter search: ${results.length} trials, ranked by ${escapeHtml(metric)}.</p>
${(options.warnings ?? []).length > 0 ? `<ul>${options.warnings!.map((w) => `<li class="WARN">⚠ ${escapeHtml(w)}</li>`).join('')}</ul>` : ''}
${figures.map((f) => `<figure id="${f.name}"><figcaption>${escapeHtml(f.title)}</figcaption>${f.svg}</figure>`).join('\n')}
<h2>Trials</h2>
<table><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>
${rows.map((row) => `<tr>${row.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n')}</table>
</body></html>
`;
  return { html, figures };
}
