// Shared test helpers: random images and plain-JavaScript reference implementations (float64,
// written from the definitions, independent of the kernels).
import { Rng, tensor, type Tensor } from '@minibatch/core';

export function randomImages(shape: [number, number, number, number], seed = 1): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: n }, () => rng.normal()), shape);
}

/** Per-sample images as flat arrays. */
export function samples(x: Tensor): Float32Array[] {
  const size = x.size / x.shape[0];
  const data = x.data();
  return Array.from({ length: x.shape[0] }, (_, i) => data.slice(i * size, (i + 1) * size));
}

export function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Border index rule of the kernels, written independently: -1 means "the fill value". */
export function refBorder(i: number, n: number, mode: 'constant' | 'reflect' | 'edge'): number {
  if (i >= 0 && i < n) return i;
  if (mode === 'constant') return -1;
  if (mode === 'edge' || n === 1) return Math.min(Math.max(i, 0), n - 1);
  // Unfold the mirror step by step (slow and obviously right).
  let j = i;
  while (j < 0 || j >= n) j = j < 0 ? -j : 2 * (n - 1) - j;
  return j;
}

/** Bilinear sampling of one image [h, w, c] at (sy, sx), taps by border mode, in float64. */
export function refBilinear(img: ArrayLike<number>, h: number, w: number, c: number, sy: number, sx: number, ch: number,
  mode: 'constant' | 'reflect' | 'edge', fill: number): number {
  const x0 = Math.floor(sx);
  const y0 = Math.floor(sy);
  const fx = sx - x0;
  const fy = sy - y0;
  const at = (y: number, x: number) => {
    const by = refBorder(y, h, mode);
    const bx = refBorder(x, w, mode);
    return by < 0 || bx < 0 ? fill : img[(by * w + bx) * c + ch];
  };
  const top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx;
  const bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx;
  return top * (1 - fy) + bottom * fy;
}

/** Kolmogorov–Smirnov statistic of samples against a CDF. */
export function ksStatistic(values: readonly number[], cdf: (x: number) => number): number {
  const sorted = [...values].sort((a, b) => a - b);
  let d = 0;
  sorted.forEach((v, i) => {
    const f = cdf(v);
    d = Math.max(d, Math.abs(f - i / sorted.length), Math.abs(f - (i + 1) / sorted.length));
  });
  return d;
}
