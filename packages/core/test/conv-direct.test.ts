// The direct convolution's one-channel kernels (a first layer on grayscale images): the
// forward kernel, which puts 8 neighbouring output pixels in the SIMD lanes, must add every
// output's products in the strip kernel's order (so a pixel's value does not depend on which
// kernel computed it), and the filter gradient, which sums up to 5 taps of a kernel row in
// registers, must pass the numeric check for every tap count and stride.
import { describe, expect, it } from 'vitest';
import * as mb from '../src/index.js';
import { Rng, gradcheck, scope, type Padding } from '../src/index.js';

function normals(rng: Rng, shape: number[]): mb.Tensor {
  return mb.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
}

describe('direct convolution with one input channel', () => {
  it('computes every output pixel bit for bit as the strip kernel does (rows of 8 pixels and more, and fewer)', () => {
    // Output rows of 5–7 pixels take the strip kernel; the same image widened to rows of 8 or
    // more takes the pixel kernel (with a last group that overlaps the one before when the
    // row is not a multiple of 8). Without padding left or right, the first columns see the
    // same windows in both.
    const rng = new Rng(11);
    const cases: { kernel: [number, number]; co: number; strides: [number, number]; padding: Padding; narrow: number; wide: number }[] = [
      { kernel: [5, 5], co: 8, strides: [1, 1], padding: 'valid', narrow: 11, wide: 32 },
      { kernel: [5, 5], co: 16, strides: [1, 1], padding: 'valid', narrow: 10, wide: 17 },
      { kernel: [3, 7], co: 24, strides: [2, 1], padding: 'valid', narrow: 12, wide: 19 },
      { kernel: [2, 3], co: 32, strides: [1, 1], padding: [[1, 0], [0, 0]], narrow: 9, wide: 13 },
      { kernel: [1, 1], co: 8, strides: [1, 1], padding: [[1, 1], [0, 0]], narrow: 5, wide: 12 }, // padded: not the pointwise GEMM
    ];
    for (const c of cases) {
      scope(() => {
        const x = normals(rng, [2, 9, c.wide, 1]);
        const f = normals(rng, [c.kernel[0], c.kernel[1], 1, c.co]);
        const wide = mb.conv2d(x, f, { strides: c.strides, padding: c.padding });
        const narrow = mb.conv2d(mb.slice(x, [0, 0, 0, 0], [2, 9, c.narrow, 1]), f, { strides: c.strides, padding: c.padding });
        const [n, oh, ow, co] = narrow.shape;
        expect(ow, `${JSON.stringify(c)}: the narrow image must take the strip kernel`).toBeLessThan(8);
        expect(wide.shape[2]).toBeGreaterThanOrEqual(8);
        const same = Buffer.from(mb.slice(wide, [0, 0, 0, 0], [n, oh, ow, co]).data().buffer).equals(Buffer.from(narrow.data().buffer));
        expect(same, JSON.stringify(c)).toBe(true);
      });
    }
  });

  it('filter gradients pass the numeric check for 1 to 7 taps per kernel row, strides 1 and 2, taps in registers or strips', () => {
    const rng = new Rng(12);
    // 8 channels, or whole groups of 5 taps: taps in registers; 16 channels otherwise: strips.
    const cases: { kernel: [number, number]; co: number; strides: [number, number]; padding: Padding }[] = [
      { kernel: [1, 1], co: 8, strides: [1, 1], padding: 1 }, // padded: the direct kernel, not the pointwise GEMM
      { kernel: [2, 2], co: 8, strides: [1, 1], padding: 'valid' },
      { kernel: [3, 3], co: 8, strides: [1, 2], padding: 'same' },
      { kernel: [2, 4], co: 8, strides: [2, 1], padding: 'same' },
      { kernel: [3, 5], co: 8, strides: [1, 1], padding: 'same' },
      { kernel: [2, 6], co: 8, strides: [2, 2], padding: 'valid' },
      { kernel: [3, 7], co: 8, strides: [1, 1], padding: 'same' },
      { kernel: [2, 5], co: 16, strides: [1, 1], padding: 'same' },
      { kernel: [3, 3], co: 16, strides: [1, 1], padding: 'same' },
    ];
    for (const c of cases) {
      scope(() => {
        const x = normals(rng, [2, 6, 10, 1]).setRequiresGrad();
        const f = normals(rng, [c.kernel[0], c.kernel[1], 1, c.co]).setRequiresGrad();
        const result = gradcheck((a, w) => mb.conv2d(a, w, { strides: c.strides, padding: c.padding }), [x, f], { maxEntries: 60, seed: 3 });
        expect(result.ok, `${JSON.stringify(c)}: ${JSON.stringify(result.failures.slice(0, 3))}`).toBe(true);
      });
    }
  });
});
