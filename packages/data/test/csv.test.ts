import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DataError, readCsv, readCsvFile } from '../src/index.js';

describe('readCsv', () => {
  it('parses features and a label column by name, with a header', () => {
    const ds = readCsv('a,label,b\r\n0.5,1,-2\r\n\r\n3e2,0, 4 \n', { labelColumn: 'label' });
    expect(ds.shape).toEqual([2]);
    expect(ds.count).toBe(2);
    expect(Array.from(ds.x)).toEqual([0.5, -2, 300, 4]);
    expect(Array.from(ds.y)).toEqual([1, 0]);
    expect(ds.classes).toBe(2);
    expect(ds.featureNames).toEqual(['a', 'b']);
  });

  it('defaults to the last column, detects a missing header, takes negative and numeric indices', () => {
    const text = '1,2,0\n3,4,2\n';
    const ds = readCsv(text);
    expect(Array.from(ds.x)).toEqual([1, 2, 3, 4]);
    expect(Array.from(ds.y)).toEqual([0, 2]);
    expect(ds.classes).toBe(3);
    expect(ds.featureNames).toEqual(['column1', 'column2']);
    const first = readCsv('5,0.1,0.2\n7,0.3,0.4\n', { labelColumn: 0, header: false, classes: 10 });
    expect(Array.from(first.y)).toEqual([5, 7]);
    expect(first.classes).toBe(10);
    expect(Array.from(readCsv('1;2;1\n', { delimiter: ';', labelColumn: -1 }).x)).toEqual([1, 2]);
  });

  it('maps text labels to classes in sorted order', () => {
    const ds = readCsv('x,y,species\n1,2,virginica\n3,4,setosa\n5,6,virginica\n');
    expect(ds.classNames).toEqual(['setosa', 'virginica']);
    expect(Array.from(ds.y)).toEqual([1, 0, 1]);
  });

  it('errors name the line and column', () => {
    expect(() => readCsv('a,b,label\n1,2,0\n1,x,1\n')).toThrow(/line 3, column 2 \(b\): expected a finite float32 number, got 'x'/);
    expect(() => readCsv('1,2,0\n1,,1\n')).toThrow(/line 2, column 2 \(column2\): expected a finite float32 number, got an empty field/);
    expect(() => readCsv('1,2,0\n\n1,2\n')).toThrow(/line 3 has 2 columns, expected 3 \(as on line 1\)/);
    expect(() => readCsv('1,2,0\n1,2,\n')).toThrow(/line 2, column 3 \(label\): empty label/);
    expect(() => readCsv('1,2,0\n1,NaN,0\n')).toThrow(/line 2, column 2 .*'NaN'/);
    expect(() => readCsv('1,1e39,0\n')).toThrow(/line 1, column 2 .*'1e39'/);
    expect(() => readCsv('1,2,7\n', { classes: 3 })).toThrow(/line 1, column 3 \(label\): class 7 is not below classes = 3/);
    expect(() => readCsv('a,b\n1,2\n', { labelColumn: 'c' })).toThrow(/no column named 'c' in the header \(a, b\)/);
    expect(() => readCsv('1,2\n', { labelColumn: 5 })).toThrow(/labelColumn 5 is outside the 2 columns/);
    expect(() => readCsv('\n\n')).toThrow(/no data rows/);
    expect(() => readCsv('a,b\n')).toThrow(DataError);
  });

  it('reads files by path and by file URL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'minibatch-csv-'));
    try {
      const file = join(dir, 'data.csv');
      writeFileSync(file, 'f1,f2,label\n1,2,1\n3,oops,0\n');
      expect(() => readCsvFile(file)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: line 3, column 2 \\(f2\\)`));
      writeFileSync(file, 'f1,f2,label\n1,2,1\n3,4,0\n');
      expect(readCsvFile(file).count).toBe(2);
      expect(Array.from(readCsv(pathToFileURL(file)).y)).toEqual([1, 0]);
      expect(() => readCsvFile(join(dir, 'none.csv'))).toThrow(/cannot read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
