// Fashion-MNIST comes from the Debian package dataset-fashion-mnist. Without it these tests
// skip and say why — except in CI (CI=true), which installs the package and must not skip.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DataError, FASHION_MNIST_CLASSES, FASHION_MNIST_ENV, classCounts, fashionMnistFiles, fashionMnistSearchPath, loadFashionMnist,
} from '../src/index.js';

function findFiles(): string | null {
  try {
    fashionMnistFiles();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

const missing = findFiles();
const inCi = process.env.CI === 'true';
const skip = missing !== null && !inCi;
if (skip) console.warn(`Fashion-MNIST tests skipped (outside CI): ${missing}`);

describe('Fashion-MNIST from the Debian package', () => {
  it.skipIf(skip)('loads 60,000 train and 10,000 test images with sane statistics', () => {
    const { train, test } = loadFashionMnist();
    expect([train.count, test.count]).toEqual([60000, 10000]);
    expect(train.shape).toEqual([28, 28, 1]);
    expect(train.x).toHaveLength(60000 * 784);
    expect(classCounts(train)).toEqual(new Array(10).fill(6000));
    expect(classCounts(test)).toEqual(new Array(10).fill(1000));
    expect(train.classNames).toEqual(FASHION_MNIST_CLASSES);
    // Known first labels of the official files: an ankle boot opens both sets.
    expect(Array.from(train.y.subarray(0, 5))).toEqual([9, 0, 0, 3, 0]);
    expect(Array.from(test.y.subarray(0, 5))).toEqual([9, 2, 1, 1, 6]);
    let sum = 0;
    let max = 0;
    for (const v of train.x) {
      sum += v;
      max = Math.max(max, v);
    }
    expect(sum / train.x.length).toBeGreaterThan(0.28); // Fashion-MNIST's pixel mean is 0.286
    expect(sum / train.x.length).toBeLessThan(0.292);
    expect(max).toBe(1);
  });
});

describe('Fashion-MNIST location and errors (always run)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'minibatch-fashion-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing data set names the package, the install command and the paths searched', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    let error: unknown;
    try {
      loadFashionMnist({ dir: empty });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataError);
    const message = (error as DataError).message;
    expect((error as DataError).code).toBe('not-found');
    expect(message).toContain('dataset-fashion-mnist');
    expect(message).toContain('sudo apt-get install dataset-fashion-mnist');
    expect(message).toContain(join(empty, 'train-images-idx3-ubyte.gz'));
    expect(message).toContain(join(empty, 't10k-labels-idx1-ubyte'));
    expect(message).toContain(FASHION_MNIST_ENV);
  });

  it('searches the Debian location by default, or only the folder in the env var', () => {
    const saved = process.env[FASHION_MNIST_ENV];
    try {
      delete process.env[FASHION_MNIST_ENV];
      expect(fashionMnistSearchPath()).toContain('/usr/share/datasets/fashion-mnist');
      process.env[FASHION_MNIST_ENV] = '/nowhere/fashion';
      expect(fashionMnistSearchPath()).toEqual(['/nowhere/fashion']);
      expect(() => fashionMnistFiles()).toThrow(/MINIBATCH_FASHION_MNIST_DIR=\/nowhere\/fashion[\s\S]*\/nowhere\/fashion\/train-images-idx3-ubyte\.gz/);
      expect(fashionMnistSearchPath({ dir: '/elsewhere' })).toEqual(['/elsewhere']);
    } finally {
      if (saved === undefined) delete process.env[FASHION_MNIST_ENV];
      else process.env[FASHION_MNIST_ENV] = saved;
    }
  });

  it('loads the four IDX files from a custom folder (gzip or not)', () => {
    const custom = join(dir, 'custom');
    mkdirSync(custom);
    const idx = (code: number, shape: number[], values: number[]): Uint8Array => {
      const out = new Uint8Array(4 + 4 * shape.length + values.length);
      out[2] = code;
      out[3] = shape.length;
      shape.forEach((d, i) => new DataView(out.buffer).setUint32(4 + 4 * i, d));
      out.set(values, 4 + 4 * shape.length);
      return out;
    };
    const pixels = (n: number): number[] => Array.from({ length: n * 784 }, (_, k) => k % 256);
    writeFileSync(join(custom, 'train-images-idx3-ubyte.gz'), gzipSync(idx(0x08, [3, 28, 28], pixels(3))));
    writeFileSync(join(custom, 'train-labels-idx1-ubyte.gz'), gzipSync(idx(0x08, [3], [4, 1, 9])));
    writeFileSync(join(custom, 't10k-images-idx3-ubyte'), idx(0x08, [2, 28, 28], pixels(2)));
    writeFileSync(join(custom, 't10k-labels-idx1-ubyte'), idx(0x08, [2], [0, 7]));
    const { train, test } = loadFashionMnist({ dir: custom });
    expect([train.count, test.count]).toEqual([3, 2]);
    expect(Array.from(train.y)).toEqual([4, 1, 9]);
    expect(train.classes).toBe(10);
    expect(train.x[255]).toBe(1);
    expect(loadFashionMnist({ dir: custom, normalize: false }).test.x[200]).toBe(200);
    // A labels file of the wrong split: the counts disagree.
    writeFileSync(join(custom, 't10k-labels-idx1-ubyte'), idx(0x08, [3], [0, 7, 1]));
    expect(() => loadFashionMnist({ dir: custom })).toThrow(/dimension mismatch — the images have 2 samples/);
  });
});
