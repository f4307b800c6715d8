import { Rng } from '@minibatch/core';
import { describe, expect, it } from 'vitest';
import {
  DataError, Pca, Zca, center, covariance, columnMeans, createDataset, decodeArray, eigh, encodeArray, grayToRgb, pca, pipeline,
  preprocessorFromJSON, scale, standardize, zca, type Preprocessor, type Samples,
} from '../src/index.js';

const samples = (rows: number[][], shape: number[]): Samples => ({ x: Float32Array.from(rows.flat()), shape });
const rowsOf = (s: Samples): number[][] => {
  const d = s.shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: s.x.length / d }, (_, i) => Array.from(s.x.subarray(i * d, (i + 1) * d)));
};

/** n samples of d correlated features: z·A + offset, z standard normal, A a random mixing. */
function correlated(n: number, d: number, seed: number): Samples {
  const rng = new Rng(seed);
  const a = Array.from({ length: d * d }, () => rng.normal());
  const x = new Float32Array(n * d);
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) z[k] = rng.normal();
    for (let j = 0; j < d; j++) {
      let v = 5 * j - 3; // offsets, so centering matters
      for (let k = 0; k < d; k++) v += z[k] * a[k * d + j];
      x[i * d + j] = v;
    }
  }
  return { x, shape: [d] };
}

/** Float64 covariance (1/n) of flat samples, the reference for the whitening tests. */
function cov64(s: Samples): number[][] {
  const d = s.shape.reduce((a, b) => a * b, 1);
  const n = s.x.length / d;
  const mean = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += s.x[i * d + j] / n;
  const c = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < d; p++) {
      const dp = s.x[i * d + p] - mean[p];
      for (let q = 0; q < d; q++) c[p][q] += (dp * (s.x[i * d + q] - mean[q])) / n;
    }
  }
  return c;
}

function maxIdentityError(c: number[][]): number {
  let worst = 0;
  c.forEach((row, p) => row.forEach((v, q) => (worst = Math.max(worst, Math.abs(v - (p === q ? 1 : 0))))));
  return worst;
}

// Three samples of shape [2, 2] (2 pixels × 2 channels, channels last).
const train = samples([[1, 2, 3, 4], [3, 6, 5, 0], [5, 1, 1, 2]], [2, 2]);
const test = samples([[4, 0, 2, 6]], [2, 2]);

describe('scale', () => {
  it('divides by a given max, or by the training max', () => {
    expect(rowsOf(scale({ max: 255 }).transform(samples([[0, 51, 255]], [3])))[0]).toEqual([0, 0.2, 1].map(Math.fround));
    const s = scale().fit(train);
    expect(rowsOf(s.transform(test))[0].map((v) => +v.toFixed(6))).toEqual([4 / 6, 0, 2 / 6, 1].map((v) => +v.toFixed(6)));
    expect(() => scale({ max: 0 })).toThrow(/max must be a finite number > 0, got 0/);
  });
});

describe('grayToRgb', () => {
  it('copies one channel into three, needs no fitting, and round-trips through JSON', () => {
    const grey = createDataset(new Float32Array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]), new Int32Array([0, 1]), [2, 2, 1]);
    const rgb = grayToRgb().transform(grey);
    expect(rgb.shape).toEqual([2, 2, 3]);
    expect(Array.from(rgb.x.subarray(0, 6))).toEqual([0.1, 0.1, 0.1, 0.2, 0.2, 0.2].map(Math.fround));
    const again = preprocessorFromJSON(JSON.parse(JSON.stringify(pipeline([grayToRgb()]).fit(grey).toJSON())));
    expect(Array.from(again.transform(grey).x)).toEqual(Array.from(rgb.x));
    expect(() => grayToRgb().transform(rgb)).toThrow(/grayToRgb: expects grey images \[height, width, 1\], got \[2, 2, 3\]/);
  });
});

describe('center', () => {
  it('per feature: subtracts the mean image of the training set', () => {
    const c = center().fit(train);
    expect(Array.from(c.mean)).toEqual([3, 3, 3, 2]);
    expect(rowsOf(c.transform(test))[0]).toEqual([1, -3, -1, 4]);
    // The training data itself comes out with mean zero.
    expect(Array.from(columnMeans(c.transform(train).x, 3, 4))).toEqual([0, 0, 0, 0]);
  });

  it('per channel and global', () => {
    const ch = center({ per: 'channel' }).fit(train);
    expect(Array.from(ch.mean)).toEqual([3, 2.5]);
    expect(rowsOf(ch.transform(test))[0]).toEqual([1, -2.5, -1, 3.5]);
    expect(Array.from(center({ per: 'global' }).fit(train).mean)).toEqual([2.75]);
    // Per channel, other image sizes with the same channels are fine; per feature they are not.
    expect(ch.transform(samples([[1, 1, 1, 1, 1, 1]], [3, 2])).shape).toEqual([3, 2]);
    expect(() => center().fit(train).transform(samples([[1, 1, 1, 1, 1, 1]], [3, 2]))).toThrow(/fitted per feature on samples of shape \[2, 2\], got \[3, 2\]/);
    expect(() => ch.transform(samples([[1, 1, 1]], [1, 3]))).toThrow(/fitted on 2 channels/);
  });
});

describe('standardize', () => {
  it('per feature: (x − mean) / sqrt(var + eps), statistics from the training data only', () => {
    const s = standardize({ epsilon: 1e-8 }).fit(train);
    const variance = [8 / 3, 14 / 3, 8 / 3, 8 / 3];
    s.std.forEach((v, j) => expect(v).toBeCloseTo(Math.sqrt(variance[j] + 1e-8), 6));
    const out = rowsOf(s.transform(test))[0];
    [1, -3, -1, 4].forEach((centered, j) => expect(out[j]).toBeCloseTo(centered / Math.sqrt(variance[j]), 5));
    // Train comes out with mean 0 and variance 1 per feature.
    const t = s.transform(train);
    const c = cov64(t);
    for (let j = 0; j < 4; j++) expect(c[j][j]).toBeCloseTo(1, 5);
    columnMeans(t.x, 3, 4).forEach((m) => expect(Math.abs(m)).toBeLessThan(1e-6));
  });

  it('per channel, and constant features are only centered', () => {
    const s = standardize({ per: 'channel' }).fit(train);
    // channel 0: 1,3,3,5,5,1 (mean 3, var 8/3); channel 1: 2,4,6,0,1,2 (mean 2.5, var 47/12).
    expect(s.std[0]).toBeCloseTo(Math.sqrt(8 / 3), 6);
    expect(s.std[1]).toBeCloseTo(Math.sqrt(47 / 12), 6);
    const constant = standardize().fit(samples([[7, 1], [7, 3]], [2]));
    expect(Array.from(constant.std)).toEqual([1, 1]);
    expect(rowsOf(constant.transform(samples([[9, 2]], [2])))[0]).toEqual([2, 0]);
  });

  it('train-fitted statistics are applied to test data unchanged', () => {
    const all = correlated(400, 3, 1);
    const tr = { x: all.x.subarray(0, 300 * 3), shape: [3] };
    const te = { x: all.x.subarray(300 * 3), shape: [3] };
    const s = standardize().fit(tr);
    const onTest = s.transform(te);
    const refit = standardize().fit(te).transform(te);
    // Test data standardized with training statistics is not exactly mean 0 / var 1 …
    expect(Array.from(onTest.x)).not.toEqual(Array.from(refit.x));
    // … and equals the hand formula with the training mean and std.
    const mt = columnMeans(tr.x, 300, 3);
    for (let i = 0; i < 100; i++) {
      for (let j = 0; j < 3; j++) expect(onTest.x[i * 3 + j]).toBeCloseTo((te.x[i * 3 + j] - mt[j]) / s.std[j], 4);
    }
  });
});

describe('eigh and covariance', () => {
  it('decomposes a known matrix', () => {
    const { values, vectors } = eigh([2, 1, 1, 2], 2);
    expect(values[0]).toBeCloseTo(3, 12);
    expect(values[1]).toBeCloseTo(1, 12);
    const r = Math.SQRT1_2;
    [r, r, r, -r].forEach((v, i) => expect(vectors[i]).toBeCloseTo(v, 12));
  });

  it('A·v = λ·v with orthonormal vectors on a random symmetric matrix, zero rows included', () => {
    const n = 40;
    const rng = new Rng(4);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = i % 7 === 3 || j % 7 === 3 ? 0 : rng.normal();
    const { values, vectors } = eigh(a, n);
    for (let k = 1; k < n; k++) expect(values[k]).toBeLessThanOrEqual(values[k - 1]);
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j] * vectors[k * n + j];
        expect(Math.abs(av - values[k] * vectors[k * n + i])).toBeLessThan(1e-10);
      }
      for (let l = 0; l <= k; l++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += vectors[k * n + i] * vectors[l * n + i];
        expect(Math.abs(dot - (k === l ? 1 : 0))).toBeLessThan(1e-10);
      }
    }
  });

  it('covariance on core GEMM matches a float64 loop', () => {
    const s = correlated(1000, 6, 2);
    const c = covariance(s.x, 1000, 6, columnMeans(s.x, 1000, 6));
    const ref = cov64(s);
    ref.forEach((row, p) => row.forEach((v, q) => expect(Math.abs(c[p * 6 + q] - v)).toBeLessThan(1e-4 * (1 + Math.abs(v)))));
  });
});

describe('PCA and ZCA whitening', () => {
  const data = correlated(4000, 8, 3);

  it('ZCA-whitened data has identity covariance, and W is symmetric', () => {
    expect(maxIdentityError(cov64(data))).toBeGreaterThan(1); // strongly correlated before
    const z = zca({ epsilon: 1e-6 }).fit(data);
    const out = z.transform(data);
    expect(out.shape).toEqual([8]);
    expect(maxIdentityError(cov64(out))).toBeLessThan(2e-3);
    const w = z.matrix;
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) expect(w[i * 8 + j]).toBe(w[j * 8 + i]);
    // ZCA stays close to the input: every output feature correlates positively with its input.
    const joint = cov64({ x: Float32Array.from({ length: 4000 * 16 }, (_, k) => (k % 16 < 8 ? data.x[(k >> 4) * 8 + (k % 16)] : out.x[(k >> 4) * 8 + (k % 16) - 8])), shape: [16] });
    for (let j = 0; j < 8; j++) expect(joint[j][8 + j]).toBeGreaterThan(0);
  });

  it('PCA-whitened data has identity covariance over the kept components', () => {
    const p = pca({ components: 5, whiten: true, epsilon: 1e-6 }).fit(data);
    const out = p.transform(data);
    expect(out.shape).toEqual([5]);
    expect(out.x).toHaveLength(4000 * 5);
    expect(maxIdentityError(cov64(out))).toBeLessThan(2e-3);
  });

  it('PCA without whitening: variances are the eigenvalues, descending, components orthonormal', () => {
    const p = pca({ components: 8 }).fit(data);
    const c = cov64(p.transform(data));
    for (let j = 0; j < 8; j++) {
      expect(c[j][j]).toBeCloseTo(p.explainedVariance[j], 2);
      if (j > 0) expect(p.explainedVariance[j]).toBeLessThanOrEqual(p.explainedVariance[j - 1]);
      for (let k = 0; k < j; k++) expect(Math.abs(c[j][k])).toBeLessThan(1e-3 * c[0][0]);
    }
    const ratio = p.explainedVarianceRatio.reduce((a, b) => a + b, 0);
    expect(ratio).toBeCloseTo(1, 5);
    const m = p.componentMatrix;
    for (let a = 0; a < 8; a++) {
      let norm = 0;
      for (let i = 0; i < 8; i++) norm += m[a * 8 + i] ** 2;
      expect(norm).toBeCloseTo(1, 5);
    }
  });

  it('finds the principal axis of a rotated ellipse', () => {
    const rng = new Rng(5);
    const n = 5000;
    const angle = Math.PI / 6;
    const x = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const u = 3 * rng.normal();
      const v = 0.5 * rng.normal();
      x[2 * i] = Math.cos(angle) * u - Math.sin(angle) * v + 10;
      x[2 * i + 1] = Math.sin(angle) * u + Math.cos(angle) * v - 4;
    }
    const p = pca({ components: 1 }).fit({ x, shape: [2] });
    const [c0, c1] = p.componentMatrix;
    expect(c0).toBeCloseTo(Math.cos(angle), 2); // signed: largest component positive
    expect(c1).toBeCloseTo(Math.sin(angle), 2);
    expect(p.explainedVariance[0]).toBeGreaterThan(8.5);
    expect(p.explainedVariance[0]).toBeLessThan(9.5);
    expect(p.mean[0]).toBeCloseTo(10, 1);
  });

  it('fits on train and whitens test with the training statistics', () => {
    const tr = { x: data.x.subarray(0, 3000 * 8), shape: [8] };
    const te = { x: data.x.subarray(3000 * 8), shape: [8] };
    const z = zca({ epsilon: 1e-6 }).fit(tr);
    // Same distribution, so test covariance is near identity too, but not exactly.
    const err = maxIdentityError(cov64(z.transform(te)));
    expect(err).toBeGreaterThan(1e-3);
    expect(err).toBeLessThan(0.25);
  });

  it('rejects bad configurations', () => {
    expect(() => pca({ components: 0 })).toThrow(/components must be a positive integer, got 0/);
    expect(() => pca({ components: 9 }).fit(data)).toThrow(/9 components asked for, but samples have only 8 features/);
    expect(() => zca({ epsilon: -1 })).toThrow(/epsilon must be a finite number ≥ 0, got -1/);
    expect(() => zca({ epsilon: 0 }).fit(samples([[1, 2, 3], [4, 5, 7]], [3]))).toThrow(/epsilon 0 needs more samples/);
  });
});

describe('serialization and pipelines', () => {
  const data = correlated(500, 20, 6);
  const makers: [string, () => Preprocessor][] = [
    ['scale', () => scale()],
    ['center/feature', () => center()],
    ['center/channel', () => center({ per: 'channel' })],
    ['standardize', () => standardize({ epsilon: 1e-6 })],
    ['pca', () => pca({ components: 4, whiten: true })],
    ['zca', () => zca({ epsilon: 0.01 })],
    ['pipeline', () => pipeline([scale({ max: 10 }), center(), pca({ components: 3 })])],
  ];

  for (const [label, make] of makers) {
    it(`${label}: toJSON → JSON text → preprocessorFromJSON transforms identically`, () => {
      const fitted = make().fit(data);
      const text = JSON.stringify(fitted);
      const again = preprocessorFromJSON(JSON.parse(text));
      expect(again.name).toBe(fitted.name);
      expect(again.fitted).toBe(true);
      expect(Array.from(again.transform(data).x)).toEqual(Array.from(fitted.transform(data).x));
      expect(preprocessorFromJSON(text).toJSON()).toEqual(JSON.parse(text));
    });
  }

  it('a pipeline fits each step on the output of the previous one', () => {
    const p = pipeline([scale({ max: 2 }), center()]).fit(train);
    const c = p.steps[1] as ReturnType<typeof center>;
    expect(Array.from(c.mean)).toEqual([1.5, 1.5, 1.5, 1]); // the mean of train / 2
    expect(rowsOf(p.transform(test))[0]).toEqual([0.5, -1.5, -0.5, 2]);
    expect(p.outputShape([20])).toEqual([20]);
    expect(pipeline([center(), pca({ components: 3 })]).outputShape([20])).toEqual([3]);
    expect(p.getConfig()).toEqual({ steps: [{ type: 'scale', config: { max: 2 } }, { type: 'center', config: { per: 'feature' } }] });
  });

  it('unfitted preprocessors serialize with state null and refuse to transform', () => {
    const json = JSON.parse(JSON.stringify(center({ per: 'channel' })));
    expect(json).toEqual({ type: 'center', config: { per: 'channel' }, state: null });
    const restored = preprocessorFromJSON(json);
    expect(restored.fitted).toBe(false);
    expect(() => restored.transform(train)).toThrow(DataError);
    expect(() => restored.transform(train)).toThrow(/transform\(\) before fit\(\)/);
  });

  it('arrays: short ones as numbers, long ones as float32 base64, both exact', () => {
    const short = Float32Array.from([0.1, -2, 3.5]);
    expect(encodeArray(short)).toEqual([Math.fround(0.1), -2, 3.5]);
    const long = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 1e3);
    const enc = encodeArray(long);
    expect(enc).toMatchObject({ dtype: 'float32' });
    expect(Array.from(decodeArray(JSON.parse(JSON.stringify(enc)), 1000, 'x'))).toEqual(Array.from(long));
    expect(() => decodeArray(enc, 999, 'zca: state.matrix')).toThrow(/zca: state.matrix: expected 999 values, got 1000/);
    expect(() => preprocessorFromJSON({ type: 'nope' } as never)).toThrow(/unknown preprocessor type "nope"; known: scale, center/);
  });

  it('classes are exported for instanceof checks', () => {
    expect(pca({ components: 1 })).toBeInstanceOf(Pca);
    expect(zca()).toBeInstanceOf(Zca);
  });
});
