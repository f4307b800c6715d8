import { describe, expect, it } from 'vitest';
import { Rng, randn, rand } from '../src/index.js';

describe('Rng (xoshiro128**)', () => {
  it('gives the same stream for the same seed, a different one for another seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(sa);
  });

  it('matches the reference xoshiro128** output for a known state', () => {
    // State (1, 2, 3, 4): the first outputs of the reference C implementation.
    const rng = Rng.restore({ s: [1, 2, 3, 4], spare: null });
    expect([rng.nextU32(), rng.nextU32(), rng.nextU32()]).toEqual([11520, 0, 5927040]);
  });

  it('uniform draws lie in [0, 1) with mean ½ and variance 1/12', () => {
    const rng = new Rng(1);
    const n = 100_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
      sq += u * u;
    }
    const mean = sum / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(sq / n - mean * mean - 1 / 12)).toBeLessThan(0.002);
  });

  it('normal draws have mean 0 and std 1 within sampling error', () => {
    const t = randn([50_000], { seed: 3, mean: 2, std: 3 });
    const v = t.data();
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
    expect(Math.abs(m - 2)).toBeLessThan(5 * 3 / Math.sqrt(v.length));
    expect(Math.abs(sd - 3)).toBeLessThan(0.05);
    t.dispose();
  });

  it('int(n) is unbiased and shuffle is a permutation', () => {
    const rng = new Rng(9);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[rng.int(3)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
    const perm = rng.shuffle(Array.from({ length: 50 }, (_, i) => i));
    expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(perm).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('state() and restore() continue the exact stream', () => {
    const rng = new Rng(5);
    rng.normal();
    const saved = rng.state();
    const next = [rng.normal(), rng.uniform(), rng.nextU32()];
    const again = Rng.restore(saved);
    expect([again.normal(), again.uniform(), again.nextU32()]).toEqual(next);
  });

  it('seeded tensors are reproducible', () => {
    const a = rand([10], { seed: 11, low: -1, high: 1 });
    const b = rand([10], { seed: 11, low: -1, high: 1 });
    expect(Array.from(a.data())).toEqual(Array.from(b.data()));
    a.dispose();
    b.dispose();
  });

  it('rejects bad arguments with a message', () => {
    expect(() => new Rng(NaN)).toThrow(/finite/);
    expect(() => new Rng(1).int(0)).toThrow(/positive integer/);
    expect(() => randn([2], { std: -1 })).toThrow(/std ≥ 0/);
  });
});
