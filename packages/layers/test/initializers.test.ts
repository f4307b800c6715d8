// Initializer statistics against their formulas: mean and std within sampling error for the
// given fan-in/fan-out, uniform bounds, and the shape of the distribution (kurtosis).
import { describe, expect, it } from 'vitest';
import { Rng, scope } from '@minibatch/core';
import { RegistryError } from '@minibatch/registry';
import { fans, initializers, type Initializer } from '../src/index.js';
import { registry } from './helpers.js';

interface Stats { n: number; mean: number; std: number; kurtosis: number; min: number; max: number }

function stats(values: Float32Array): Stats {
  const n = values.length;
  let s = 0;
  for (const v of values) s += v;
  const mean = s / n;
  let m2 = 0;
  let m4 = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    const d = v - mean;
    m2 += d * d;
    m4 += d * d * d * d;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  m2 /= n;
  m4 /= n;
  return { n, mean, std: Math.sqrt(m2), kurtosis: m4 / (m2 * m2), min, max };
}

function draw(init: Initializer, shape: number[], seed = 7, fanOptions: { fanIn?: number; fanOut?: number } = {}): Float32Array {
  return scope(() => init(shape, { rng: new Rng(seed), ...fanOptions }).data());
}

type Family = 'normal' | 'uniform';

/**
 * Mean within 5 standard errors (σ/√n); std within 5 standard errors of the std
 * (σ·√(κ − 1)/(2√n), κ = 3 for normal, 9/5 for uniform); kurtosis identifies the family.
 */
function expectDistribution(values: Float32Array, family: Family, mean: number, std: number): void {
  const s = stats(values);
  const kappa = family === 'normal' ? 3 : 1.8;
  expect(Math.abs(s.mean - mean)).toBeLessThan((5 * std) / Math.sqrt(s.n));
  expect(Math.abs(s.std - std)).toBeLessThan((5 * std * Math.sqrt(kappa - 1)) / (2 * Math.sqrt(s.n)));
  expect(Math.abs(s.kurtosis - kappa)).toBeLessThan(0.1);
  if (family === 'uniform') {
    const limit = std * Math.sqrt(3);
    expect(s.min).toBeGreaterThanOrEqual(mean - limit);
    expect(s.max).toBeLessThan(mean + limit);
    // 60,000 draws reach within 0.1% of both ends.
    expect(s.min).toBeLessThan(mean - 0.999 * limit);
    expect(s.max).toBeGreaterThan(mean + 0.999 * limit);
  }
}

describe('fans', () => {
  it('dense [in, out], conv HWIO (receptive field × channels), vectors', () => {
    expect(fans([784, 256])).toEqual({ fanIn: 784, fanOut: 256 });
    expect(fans([3, 3, 16, 32])).toEqual({ fanIn: 144, fanOut: 288 });
    expect(fans([5, 1, 2, 4])).toEqual({ fanIn: 10, fanOut: 20 });
    expect(fans([10])).toEqual({ fanIn: 10, fanOut: 10 });
  });
});

describe('initializer statistics', () => {
  const dense = [300, 200]; // fanIn 300, fanOut 200, 60,000 draws
  const conv = [5, 5, 40, 60]; // fanIn 1000, fanOut 1500, 60,000 draws

  it('gaussian: N(mean, std²), default std 0.01', () => {
    expectDistribution(draw(initializers.gaussian(), dense), 'normal', 0, 0.01);
    expectDistribution(draw(initializers.gaussian({ std: 0.5, mean: 2 }), dense), 'normal', 2, 0.5);
  });

  it('uniform: U(low, high)', () => {
    const low = -0.3;
    const high = 0.7;
    expectDistribution(draw(initializers.uniform({ low, high }), dense), 'uniform', (low + high) / 2, (high - low) / Math.sqrt(12));
    expectDistribution(draw(initializers.uniform(), dense), 'uniform', 0, 0.1 / Math.sqrt(12));
  });

  it('xavierNormal: std = gain·√(2/(fanIn + fanOut))', () => {
    expectDistribution(draw(initializers.xavierNormal(), dense), 'normal', 0, Math.sqrt(2 / 500));
    expectDistribution(draw(initializers.xavierNormal(), conv), 'normal', 0, Math.sqrt(2 / 2500));
    expectDistribution(draw(initializers.xavierNormal({ gain: 2 }), dense), 'normal', 0, 2 * Math.sqrt(2 / 500));
  });

  it('xavierUniform: U(±√(6/(fanIn + fanOut)))', () => {
    expectDistribution(draw(initializers.xavierUniform(), dense), 'uniform', 0, Math.sqrt(6 / 500) / Math.sqrt(3));
    expectDistribution(draw(initializers.xavierUniform(), conv), 'uniform', 0, Math.sqrt(6 / 2500) / Math.sqrt(3));
  });

  it('heNormal: std = √(2/fanIn)', () => {
    expectDistribution(draw(initializers.heNormal(), dense), 'normal', 0, Math.sqrt(2 / 300));
    expectDistribution(draw(initializers.heNormal(), conv), 'normal', 0, Math.sqrt(2 / 1000));
  });

  it('heUniform: U(±√(6/fanIn))', () => {
    expectDistribution(draw(initializers.heUniform(), dense), 'uniform', 0, Math.sqrt(6 / 300) / Math.sqrt(3));
    expectDistribution(draw(initializers.heUniform(), conv), 'uniform', 0, Math.sqrt(6 / 1000) / Math.sqrt(3));
  });

  it('lecunNormal: std = √(1/fanIn)', () => {
    expectDistribution(draw(initializers.lecunNormal(), dense), 'normal', 0, Math.sqrt(1 / 300));
    expectDistribution(draw(initializers.lecunNormal(), conv), 'normal', 0, Math.sqrt(1 / 1000));
  });

  it('explicit fanIn/fanOut override the shape', () => {
    expectDistribution(draw(initializers.heNormal(), dense, 3, { fanIn: 50 }), 'normal', 0, Math.sqrt(2 / 50));
    expectDistribution(draw(initializers.xavierUniform(), dense, 3, { fanIn: 10, fanOut: 20 }), 'uniform', 0, Math.sqrt(6 / 30) / Math.sqrt(3));
  });

  it('the checks can fail: a wrong formula is caught', () => {
    // He's std for fanIn 300 is 0.0816; Xavier's is 0.0632 — the test tells them apart.
    expect(() => expectDistribution(draw(initializers.heNormal(), dense), 'normal', 0, Math.sqrt(2 / 500))).toThrow();
    expect(() => expectDistribution(draw(initializers.heUniform(), dense), 'normal', 0, Math.sqrt(2 / 300))).toThrow();
  });

  it('zeros and constant fill exactly', () => {
    expect([...draw(initializers.zeros(), [3, 4])]).toEqual(new Array(12).fill(0));
    expect([...draw(initializers.constant({ value: 0.25 }), [5])]).toEqual(new Array(5).fill(0.25));
  });
});

describe('seeding', () => {
  it('the same seed gives the same draws; another seed differs', () => {
    for (const init of [initializers.heNormal(), initializers.xavierUniform(), initializers.gaussian()]) {
      expect(draw(init, [20, 10], 5)).toEqual(draw(init, [20, 10], 5));
      expect(draw(init, [20, 10], 5)).not.toEqual(draw(init, [20, 10], 6));
    }
  });

  it('draws advance the generator: two draws from one rng differ', () => {
    const rng = new Rng(1);
    const [a, b] = scope(() => [initializers.heNormal()([4, 4], { rng }).data(), initializers.heNormal()([4, 4], { rng }).data()]);
    expect(a).not.toEqual(b);
  });

  it('an initializer without an rng is an error that says what to pass', () => {
    expect(() => initializers.heNormal()([2, 2], {} as never)).toThrow(/pass a seeded generator/);
  });
});

describe('initializers in the registry', () => {
  it('every initializer is registered under its name and serializes', () => {
    expect(registry.list('initializer')).toEqual([
      'constant', 'gaussian', 'heNormal', 'heUniform', 'lecunNormal', 'uniform', 'xavierNormal', 'xavierUniform', 'zeros',
    ]);
    const init = registry.create<Initializer>('initializer', 'gaussian', { std: 0.02 });
    expect(registry.serialize(init)).toEqual({ kind: 'initializer', name: 'gaussian', config: { std: 0.02, mean: 0 } });
    expect(init.name).toBe('gaussian');
  });

  it('unknown names and bad configs are clear errors', () => {
    expect(() => registry.create('initializer', 'heNormall')).toThrow(/did you mean 'heNormal'/);
    expect(() => registry.create('initializer', 'uniform', { low: 1, high: 0 })).toThrow(RegistryError);
    expect(() => registry.create('initializer', 'gaussian', { std: -1 })).toThrow(/std/);
  });
});
