// Numeric CSV with one label column: every other column is a float32 feature. Errors name the
// line and column (both 1-based, as editors count) and the text found there.
import { createDataset, type Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { builtin } from './node.js';

export interface CsvOptions {
  /**
   * The label column: a 0-based index (negative counts from the end, −1 is the last) or a
   * header name. Default −1, the last column.
   */
  labelColumn?: number | string;
  /** Whether the first row names the columns; 'auto' (default) when it has a non-number field outside the label column. */
  header?: boolean | 'auto';
  /** Field separator. Default ','. */
  delimiter?: string;
  /** Number of classes; default from the labels. */
  classes?: number;
  name?: string;
}

/** A Dataset from CSV with the header names it had (if any). */
export interface CsvDataset extends Dataset {
  /** Names of the feature columns (from the header, else column1, column2, …). */
  readonly featureNames: readonly string[];
}

function splitLine(line: string, delimiter: string): string[] {
  return line.split(delimiter).map((f) => {
    const t = f.trim();
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t;
  });
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses numeric CSV text. Labels that are all non-negative integers are used as class
 * indices; otherwise each distinct label text is a class, numbered in sorted order, and the
 * names are kept in `classNames`. Blank lines are skipped; "\r\n" line ends are fine.
 *
 * @example
 * const ds = readCsv('x1,x2,label\n0.5,1.5,0\n2,3,1\n', { labelColumn: 'label' });
 * ds.shape; // [2]
 * ds.y;     // Int32Array [0, 1]
 */
export function readCsv(source: string | URL, options: CsvOptions = {}): CsvDataset {
  if (source instanceof URL) return readCsvFile(source, options);
  const delimiter = options.delimiter ?? ',';
  if (delimiter.length === 0) throw new DataError('csv', 'readCsv: the delimiter must not be empty');
  const where = options.name ?? 'CSV';
  const rows: { line: number; fields: string[] }[] = [];
  const lines = source.split(/\r?\n/);
  lines.forEach((text, i) => {
    if (text.trim() !== '') rows.push({ line: i + 1, fields: splitLine(text, delimiter) });
  });
  if (rows.length === 0) throw new DataError('csv', `${where}: no data rows`);

  const width = rows[0].fields.length;
  if (width < 2) {
    throw new DataError('csv', `${where}: line ${rows[0].line} has ${width} column; expected features and a label separated by '${delimiter}'`);
  }
  const labelIndex = resolveLabel(options.labelColumn ?? -1, rows[0].fields, width, options.header, where);
  let header: boolean;
  if (options.header === 'auto' || options.header === undefined) {
    header = typeof options.labelColumn === 'string' || rows[0].fields.some((f, c) => c !== labelIndex && !NUMBER.test(f));
  } else header = options.header;
  const names = header ? rows[0].fields : Array.from({ length: width }, (_, c) => `column${c + 1}`);
  const data = header ? rows.slice(1) : rows;
  if (data.length === 0) throw new DataError('csv', `${where}: a header but no data rows`);

  const features = width - 1;
  const x = new Float32Array(data.length * features);
  const labelText: string[] = [];
  data.forEach(({ line, fields }, r) => {
    if (fields.length !== width) {
      throw new DataError('csv', `${where}: line ${line} has ${fields.length} columns, expected ${width} (as on line ${rows[0].line})`);
    }
    let at = r * features;
    for (let c = 0; c < width; c++) {
      const f = fields[c];
      if (c === labelIndex) {
        if (f === '') throw new DataError('csv', `${where}: line ${line}, column ${c + 1} (label): empty label`);
        labelText.push(f);
        continue;
      }
      const v = NUMBER.test(f) ? Number(f) : NaN;
      if (!Number.isFinite(v) || Math.abs(v) > 3.4028234663852886e38) {
        throw new DataError('csv', `${where}: line ${line}, column ${c + 1} (${names[c]}): expected a finite float32 number, got ${f === '' ? 'an empty field' : `'${f}'`}`);
      }
      x[at++] = v;
    }
  });

  let y: Int32Array;
  let classNames: string[] | undefined;
  if (labelText.every((t) => /^\+?\d+$/.test(t))) {
    y = Int32Array.from(labelText, Number);
  } else {
    classNames = [...new Set(labelText)].sort();
    const index = new Map(classNames.map((n, i) => [n, i]));
    y = Int32Array.from(labelText, (t) => index.get(t)!);
  }
  if (options.classes !== undefined) {
    const bad = y.findIndex((v) => v >= options.classes!);
    if (bad >= 0) {
      throw new DataError('csv', `${where}: line ${data[bad].line}, column ${labelIndex + 1} (label): class ${y[bad]} is not below classes = ${options.classes}`);
    }
  }
  const ds = createDataset(x, y, [features], {
    ...(options.classes !== undefined ? { classes: options.classes } : {}),
    ...(classNames !== undefined ? { classNames } : {}),
    name: where,
  });
  return { ...ds, featureNames: names.filter((_, c) => c !== labelIndex) };
}

function resolveLabel(column: number | string, first: string[], width: number, header: CsvOptions['header'], where: string): number {
  if (typeof column === 'string') {
    if (header === false) throw new DataError('csv', `${where}: labelColumn '${column}' is a name, but header is false`);
    const i = first.indexOf(column);
    if (i < 0) throw new DataError('csv', `${where}: no column named '${column}' in the header (${first.join(', ')})`);
    return i;
  }
  if (!Number.isInteger(column) || column >= width || column < -width) {
    throw new DataError('csv', `${where}: labelColumn ${column} is outside the ${width} columns (use 0…${width - 1}, or −1 for the last)`);
  }
  return column < 0 ? width + column : column;
}

/** Reads a CSV file (a path or a file: URL) with readCsv(). */
export function readCsvFile(path: string | URL, options: CsvOptions = {}): CsvDataset {
  const fs = builtin('node:fs', 'readCsvFile');
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (error) {
    throw new DataError('not-found', `readCsvFile: cannot read ${String(path)}: ${(error as Error).message}`);
  }
  return readCsv(text, { name: String(path), ...options });
}
