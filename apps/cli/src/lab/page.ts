// The lab's pages: one report per experiment (claim, rule, verdict, table, plots), a partial
// one when a run was interrupted, and the index page of `lab all`.
import type { LabExperiment, LabResult, Verdict } from './kit.js';

const STYLE = `body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 1.5rem auto; padding: 0 1rem; line-height: 1.4; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; } td, th { padding: 0.2rem 0.7rem; border-bottom: 1px solid #ddd; text-align: left; }
figure { margin: 1.5rem 0; overflow-x: auto; } figcaption { font-weight: 600; } .verdict { font-size: 1.2rem; } .interrupted { color: #a40; }`;

const head = (title: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} — minibatch lab</title>
<style>${STYLE}</style>
</head><body>`;

/** What result.json holds: the experiment's statement, then what the run found. */
export interface LabRecord extends Pick<LabExperiment, 'name' | 'title' | 'claim' | 'source' | 'measures' | 'rule'> {
  figures: Record<string, number>;
  /** null when the run was interrupted before its verdict. */
  verdict: Verdict | null;
  seeds: readonly number[];
  finding: string | null;
  table: LabResult['table'] | null;
  seconds: number;
  quick: boolean;
  interrupted?: true;
  /** The parts that finished before an interruption. */
  finished?: string[];
}

async function statement(experiment: LabExperiment, esc: (s: string) => string): Promise<string> {
  return `<h1>${esc(experiment.title)}</h1>
<p><strong>Claim.</strong> ${esc(experiment.claim)} <em>(${esc(experiment.source)})</em></p>
<p><strong>Measured.</strong> ${esc(experiment.measures)}</p>
<p><strong>Rule.</strong> ${esc(experiment.rule)}</p>`;
}

/** The report of a finished experiment, and its plots as SVG (for PNGs). */
export async function labPage(experiment: LabExperiment, result: LabResult, record: LabRecord): Promise<{ html: string; plots: { name: string; svg: string }[] }> {
  const { escapeHtml: esc, renderSvg } = await import('@minibatch/train/report');
  const plots = [];
  for (const f of result.plots) plots.push({ name: f.name, title: f.title, svg: await renderSvg(f.spec) });
  const html = `${head(esc(experiment.title))}
${await statement(experiment, esc)}
<p class="verdict"><strong>Verdict: ${esc(record.verdict ?? '')}.</strong> ${esc(result.finding)}</p>
<p>${record.quick ? 'Quick run (small data, few steps). ' : ''}${record.seconds.toFixed(0)} s; seeds ${record.seeds.join(', ')}: the same command gives the same figures.</p>
<table><tr>${result.table.columns.map((c) => `<th>${esc(String(c))}</th>`).join('')}</tr>${result.table.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`).join('')}</table>
${plots.map((f) => `<figure id="${f.name}"><figcaption>${esc(f.title)}</figcaption>${f.svg}</figure>`).join('\n')}
<details><summary>Figures (result.json)</summary><pre>${esc(JSON.stringify(record.figures, null, 1))}</pre></details>
</body></html>
`;
  return { html, plots };
}

/** The report of an interrupted experiment: what finished, and no verdict. */
export async function partialPage(experiment: LabExperiment, record: LabRecord, signal: string): Promise<string> {
  const { escapeHtml: esc } = await import('@minibatch/train/report');
  const finished = record.finished ?? [];
  return `${head(esc(experiment.title))}
${await statement(experiment, esc)}
<p class="verdict interrupted"><strong>Interrupted by ${esc(signal)} after ${record.seconds.toFixed(0)} s: no verdict.</strong> The figures below are partial; run the experiment again for the full result.</p>
${finished.length > 0 ? `<p>Finished before the interruption:</p><ul>${finished.map((line) => `<li>${esc(line)}</li>`).join('')}</ul>` : '<p>Nothing had finished.</p>'}
</body></html>
`;
}

/** The index of `lab all`: each experiment's claim and verdict, linked to its report. */
export async function indexPage(entries: readonly { experiment: LabExperiment; record: LabRecord | null; href: string }[], quick: boolean): Promise<string> {
  const { escapeHtml: esc } = await import('@minibatch/train/report');
  const row = ({ experiment, record, href }: (typeof entries)[number]) => {
    const verdict = record === null ? 'not run' : record.interrupted ? 'interrupted' : record.verdict ?? '';
    const title = record === null ? esc(experiment.title) : `<a href="${esc(href)}">${esc(experiment.title)}</a>`;
    return `<tr><td>${title}<br><code>${esc(experiment.name)}</code></td><td>${esc(experiment.claim)} <em>(${esc(experiment.source)})</em></td><td><strong>${esc(verdict)}</strong></td><td>${esc(record?.finding ?? '')}</td></tr>`;
  };
  return `${head('The lab')}
<h1>The lab: claims of the lectures on training, measured</h1>
<p>${quick ? 'Quick runs (small data, few steps). ' : ''}Each experiment states its claim and the rule that decides its verdict before it runs; every figure is seeded.</p>
<table><tr><th>experiment</th><th>claim</th><th>verdict</th><th>found</th></tr>
${entries.map(row).join('\n')}
</table>
</body></html>
`;
}
