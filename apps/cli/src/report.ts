// Writing a training report: the HTML page, and each figure as a PNG (rendered from its SVG by
// resvg) for READMEs and slides.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import type { LogRecord, ReadLog } from '@minibatch/train';
import { writeFileAtomic } from '@minibatch/train/node';
import { renderReport } from '@minibatch/train/report';

/** Writes a report (and, with `png`, each figure as a PNG in that folder). */
export async function writeReport(records: LogRecord[] | ReadLog, out: string, title: string, png?: string): Promise<string[]> {
  const report = await renderReport(records, { title });
  await writeFileAtomic(out, report.html);
  const written = [out];
  if (png !== undefined) {
    await mkdir(png, { recursive: true });
    for (const f of report.figures) {
      const file = join(png, `${f.name}.png`);
      await writeFileAtomic(file, pngOf(f.svg));
      written.push(file);
    }
  }
  return written;
}


/** An SVG figure as a PNG at twice its size, on white. */
export function pngOf(svg: string): Uint8Array {
  return new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true } }).render().asPng();
}
