// Every schedule's value at chosen steps, computed by hand from its definition.
import { describe, expect, it } from 'vitest';
import {
  constant, cosine, cosineWarmRestarts, cyclic, exponential, inverseTime, linearWarmup, multiStep, oneCycle, polynomial,
  reduceOnPlateau, stepDecay, type Schedule,
} from '../src/index.js';

const at = (s: Schedule, steps: number[]): number[] => steps.map((t) => s(t));
const close = (actual: number[], expected: number[]): void => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(a, `value ${i}`).toBeCloseTo(expected[i], 12));
};

describe('schedules', () => {
  it('constant', () => {
    close(at(constant(0.1), [0, 1, 1000]), [0.1, 0.1, 0.1]);
  });

  it('step decay: initial · γ^⌊t/stepSize⌋', () => {
    close(at(stepDecay({ initial: 1, stepSize: 10, gamma: 0.5 }), [0, 9, 10, 19, 25]), [1, 1, 0.5, 0.5, 0.25]);
  });

  it('multi-step: γ per milestone passed', () => {
    close(at(multiStep({ initial: 1, milestones: [3, 7], gamma: 0.1 }), [0, 2, 3, 6, 7, 100]), [1, 1, 0.1, 0.1, 0.01, 0.01]);
  });

  it('exponential: initial · γ^(t/decaySteps), optionally staircase', () => {
    close(at(exponential({ initial: 2, gamma: 0.5 }), [0, 1, 3]), [2, 1, 0.25]);
    close(at(exponential({ initial: 2, gamma: 0.5, decaySteps: 10 }), [5, 20]), [2 * Math.SQRT1_2, 0.5]);
    close(at(exponential({ initial: 2, gamma: 0.5, decaySteps: 10, staircase: true }), [9, 15, 20]), [2, 1, 0.5]);
  });

  it('1/t (inverse time): initial / (1 + k·t/decaySteps)', () => {
    close(at(inverseTime({ initial: 1, decayRate: 0.5 }), [0, 2, 4]), [1, 0.5, 1 / 3]);
    close(at(inverseTime({ initial: 1, decayRate: 0.5, decaySteps: 10, staircase: true }), [9, 19]), [1, 1 / 1.5]);
  });

  it('polynomial: (initial − final)(1 − t/T)^p + final, then final', () => {
    close(at(polynomial({ initial: 1, final: 0.1, steps: 10, power: 2 }), [0, 5, 10, 20]), [1, 0.325, 0.1, 0.1]);
    close(at(polynomial({ initial: 1, steps: 4 }), [1, 3]), [0.75, 0.25]);
  });

  it('cosine annealing: final + (initial − final)(1 + cos(πt/T))/2, then final', () => {
    close(at(cosine({ initial: 1, steps: 100 }), [0, 25, 50, 100, 200]), [1, (1 + Math.SQRT1_2) / 2, 0.5, 0, 0]);
    close(at(cosine({ initial: 1, steps: 100, final: 0.2 }), [50]), [0.6]);
  });

  it('cosine with warm restarts (SGDR) restarts at initial, each period periodMult times longer', () => {
    const s = cosineWarmRestarts({ initial: 1, period: 10, periodMult: 2, final: 0.1 });
    // cycles: [0, 10), [10, 30), [30, 70)
    close(at(s, [0, 5, 10, 20, 30, 50, 70]), [1, 0.55, 1, 0.55, 1, 0.55, 1]);
    for (const restart of [10, 30, 70]) {
      expect(s(restart - 1)).toBeLessThan(0.13); // annealed down (0.1 + 0.9·(1 + cos(0.9π))/2 at the end of the first cycle)…
      expect(s(restart)).toBe(1); // …and restarted
    }
    for (let t = 31; t < 70; t++) expect(s(t)).toBeLessThan(s(t - 1)); // decreasing inside a cycle
    close(at(cosineWarmRestarts({ initial: 1, period: 10 }), [10, 15, 20, 25]), [1, 0.5, 1, 0.5]);
  });

  it('cyclic (triangular, triangular2, expRange)', () => {
    close(at(cyclic({ low: 0.1, high: 1, stepSize: 5 }), [0, 2, 5, 8, 10, 15]), [0.1, 0.46, 1, 0.46, 0.1, 1]);
    close(at(cyclic({ low: 0.1, high: 1, stepSize: 5, mode: 'triangular2' }), [5, 15, 25]), [1, 0.55, 0.325]);
    close(at(cyclic({ low: 0.1, high: 1, stepSize: 5, mode: 'expRange', gamma: 0.9 }), [5]), [0.1 + 0.9 * 0.9 ** 5]);
  });

  it('one-cycle peaks at max on step pctStart·T − 1, starting at max/div and ending at max/(div·finalDiv)', () => {
    const s = oneCycle({ max: 1, steps: 100, pctStart: 0.25, divFactor: 10, finalDivFactor: 100, anneal: 'linear' });
    const values = Array.from({ length: 100 }, (_, t) => s(t));
    expect(values.indexOf(Math.max(...values))).toBe(24);
    close(at(s, [0, 12, 24, 99]), [0.1, 0.55, 1, 0.001]);
    for (let t = 1; t <= 24; t++) expect(values[t]).toBeGreaterThan(values[t - 1]);
    for (let t = 25; t < 100; t++) expect(values[t]).toBeLessThan(values[t - 1]);
    const cos = oneCycle({ max: 0.5, steps: 1000 }); // torch defaults: pctStart 0.3, div 25, final div 1e4
    close(at(cos, [0, 299, 999]), [0.02, 0.5, 0.02 / 1e4]);
  });

  it('linear warmup wraps any schedule and hands over at warmupSteps', () => {
    const s = linearWarmup({ schedule: cosine({ initial: 1, steps: 100 }), warmupSteps: 10 });
    close(at(s, [0, 5, 10, 60, 110]), [0, 0.5, 1, 0.5, 0]);
    close(at(linearWarmup({ schedule: 0.2, warmupSteps: 4, start: 0.1 }), [0, 2, 4, 9]), [0.1, 0.15, 0.2, 0.2]);
  });

  it('reduce-on-plateau scales down after `patience` reports without improvement', () => {
    const s = reduceOnPlateau({ schedule: 0.1, patience: 2, factor: 0.5 });
    const reduced = [1, 0.9, 0.95, 0.95, 0.95].map((m) => s.report(m));
    expect(reduced).toEqual([false, false, false, false, true]);
    expect(s(0)).toBeCloseTo(0.05, 15);
    expect(s.scale).toBe(0.5);
    // improving again resets the count
    expect([0.5, 0.6, 0.6].map((m) => s.report(m))).toEqual([false, false, false]);
    expect(s(7)).toBeCloseTo(0.05, 15);
  });

  it('reduce-on-plateau: mode max, threshold, cooldown and a floor', () => {
    const s = reduceOnPlateau({ schedule: 1, mode: 'max', patience: 0, factor: 0.1, cooldown: 1, minValue: 0.005 });
    // each report that does not beat the best by 0.01% is bad; patience 0 reduces at once
    expect([0.5, 0.5, 0.5, 0.5, 0.5, 0.5].map((m) => s.report(m))).toEqual([false, true, false, true, false, true]);
    expect(s(0)).toBe(0.005); // 1 · 0.1³ = 0.001, floored
    const wrapped = reduceOnPlateau({ schedule: cosine({ initial: 1, steps: 10 }), patience: 0, factor: 0.5 });
    wrapped.report(1);
    wrapped.report(2);
    expect(wrapped(5)).toBeCloseTo(0.25, 15); // it scales the wrapped schedule
  });

  it('schedules are plain functions and compose', () => {
    const warm = linearWarmup({ schedule: stepDecay({ initial: 0.4, stepSize: 5, gamma: 0.5 }), warmupSteps: 2 });
    close([0, 1, 2, 6, 7, 12].map(warm), [0, 0.2, 0.4, 0.4, 0.2, 0.1]);
    expect(warm.name).toBe('linearWarmup');
    expect(warm.getConfig()).toEqual({
      schedule: { kind: 'schedule', name: 'stepDecay', config: { initial: 0.4, stepSize: 5, gamma: 0.5 } },
      warmupSteps: 2,
      start: 0,
    });
  });

  it('a step must be a finite number ≥ 0', () => {
    expect(() => cosine({ initial: 1, steps: 10 })(-1)).toThrow(/step must be a finite number ≥ 0, got -1/);
    expect(() => constant(1)(NaN)).toThrow(/got NaN/);
  });
});
