// The fused update kernels (core/assembly/optim.ts) give the same bits in the SIMD build and
// in the scalar fallback, on a length that exercises both the vector loop and the tail.
import { Rng, createEngine, type Engine } from '@minibatch/core';
import { describe, expect, it } from 'vitest';

const N = 23;
const rng = new Rng(11);
const inputs = Array.from({ length: 5 }, (_, k) => Float32Array.from({ length: N }, () => (k === 2 ? Math.abs(rng.normal()) : rng.normal())));

/** Copies the inputs into a fresh engine, runs `call` on their offsets, returns all five arrays after. */
function run(e: Engine, call: (e: Engine, p: number[]) => number | void): [Float32Array[], number | void] {
  const ptrs = inputs.map((data) => {
    const p = e.alloc(N * 4);
    e.f32(p, N).set(data);
    return p;
  });
  const result = call(e, ptrs);
  return [ptrs.map((p) => e.f32(p, N).slice()), result];
}

const bits = (arrays: Float32Array[]): number[][] => arrays.map((a) => Array.from(new Uint32Array(a.buffer)));

describe('fused optimizer kernels: SIMD and scalar builds agree bit for bit', async () => {
  const simd = await createEngine({ build: 'simd' });
  const scalar = await createEngine({ build: 'scalar' });
  const cases: [string, (e: Engine, p: number[]) => number | void][] = [
    ['adamUpdate', (e, [g, m, v, out]) => e.kernels.adamUpdate(N, g, m, v, out, 0.9, 0.1, 0.999, 0.001, 1 / (1 - 0.9 ** 3), 1 / Math.sqrt(1 - 0.999 ** 3), 1e-8)],
    ['momentumUpdate', (e, [g, buf, , out]) => e.kernels.momentumUpdate(N, g, buf, out, 0.9, 0.8, 0)],
    ['momentumUpdate (nesterov)', (e, [g, buf, , out]) => e.kernels.momentumUpdate(N, g, buf, out, 0.9, 1, 1)],
    ['rmspropUpdate', (e, [g, , v, , out]) => e.kernels.rmspropUpdate(N, g, v, 0, 0, out, 0.99, 0.01, 1e-8, 0, 0, 0)],
    ['rmspropUpdate (centered, momentum)', (e, [g, avg, v, buf, out]) => e.kernels.rmspropUpdate(N, g, v, avg, buf, out, 0.9, 0.1, 1e-8, 0.5, 1, 1)],
    ['adagradUpdate', (e, [g, , acc, , out]) => e.kernels.adagradUpdate(N, g, acc, out, 1e-10)],
    ['clipByValue', (e, [x, , , , out]) => e.kernels.clipByValue(N, x, out, -0.5, 0.75)],
  ];
  for (const [name, call] of cases) {
    it(name, () => {
      const [a] = run(simd, call);
      const [b] = run(scalar, call);
      expect(bits(a)).toEqual(bits(b));
      expect(bits(a)).not.toEqual(bits(inputs)); // it did something
    });
  }

  it('dotF64 accumulates in float64 (the two builds sum in different orders)', () => {
    const [, a] = run(simd, (e, [x, y]) => e.kernels.dotF64(N, x, y));
    const [, b] = run(scalar, (e, [x, y]) => e.kernels.dotF64(N, x, y));
    let exact = 0;
    for (let i = 0; i < N; i++) exact += inputs[0][i] * inputs[1][i];
    expect(a).toBeCloseTo(exact, 12);
    expect(b).toBeCloseTo(exact, 12);
  });
});
