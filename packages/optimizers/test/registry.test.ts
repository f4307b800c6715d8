// Every optimizer and schedule is registered with a zod schema; configs round-trip through
// JSON by name, and what comes back behaves the same.
import { RegistryError, createRegistry } from '@minibatch/registry';
import { describe, expect, it } from 'vitest';
import { Adam, AdamW, LBFGS, Optimizer, SGD, type Schedule, cosine, linearWarmup, optimizers } from '../src/index.js';
import { param, quadratic, train } from './helpers.js';

const registry = createRegistry().use(optimizers);
const roundTrip = <T>(instance: unknown): [T, unknown] => {
  const text = JSON.stringify(registry.serialize(instance));
  const again = registry.fromJSON<T>(JSON.parse(text));
  return [again, JSON.parse(text)];
};

describe('the optimizers plugin', () => {
  it('registers every optimizer and schedule', () => {
    expect(registry.list('optimizer')).toEqual(['adagrad', 'adam', 'adamw', 'lbfgs', 'newton', 'rmsprop', 'sgd']);
    expect(registry.list('schedule')).toEqual([
      'constant', 'cosine', 'cosineWarmRestarts', 'cyclic', 'exponential', 'inverseTime', 'linearWarmup', 'multiStep',
      'oneCycle', 'oneCycleMomentum', 'polynomial', 'reduceOnPlateau', 'stepDecay',
    ]);
  });
});

describe('optimizer configs round-trip through JSON', () => {
  const optimizerConfigs: [string, Record<string, unknown>][] = [
    ['sgd', { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4, clipNorm: 5 }],
    ['adam', { lr: { kind: 'schedule', name: 'cosine', config: { initial: 0.01, steps: 100 } }, beta2: 0.99 }],
    ['adamw', { lr: 3e-4, weightDecay: 0.05, clipValue: 1 }],
    ['rmsprop', { lr: 0.001, decay: 0.9, centered: true, momentum: 0.5 }],
    ['adagrad', { lr: 0.05, initialAccumulatorValue: 0.1 }],
    ['lbfgs', { historySize: 5, lineSearch: 'backtracking', maxIter: 50 }],
  ];
  for (const [name, config] of optimizerConfigs) {
    it(name, () => {
      const opt = registry.create<Optimizer<object> | LBFGS>('optimizer', name, config);
      const spec = registry.serialize(opt);
      expect(spec.kind).toBe('optimizer');
      expect(spec.name).toBe(name);
      expect(spec.config).toMatchObject(config);
      const [again, json] = roundTrip<Optimizer<object> | LBFGS>(opt);
      expect(again.constructor).toBe(opt.constructor);
      expect(registry.serialize(again)).toEqual(json);
    });
  }

  it('an optimizer made from config steps exactly like one made by hand', () => {
    const a = param([1, -2, 3, 0.5, -1]), b = param([1, -2, 3, 0.5, -1]);
    const fromConfig = registry.fromJSON<Adam>({
      kind: 'optimizer', name: 'adam',
      config: { lr: { kind: 'schedule', name: 'linearWarmup', config: { warmupSteps: 3, schedule: { kind: 'schedule', name: 'cosine', config: { initial: 0.1, steps: 20 } } } } },
    });
    fromConfig.addParamGroup([a]);
    const byHand = new Adam([b], { lr: linearWarmup({ warmupSteps: 3, schedule: cosine({ initial: 0.1, steps: 20 }) }) });
    train(fromConfig, () => quadratic(a, [1, 2, 3, 4, 5], [0, 0, 0, 0, 0]), 10);
    train(byHand, () => quadratic(b, [1, 2, 3, 4, 5], [0, 0, 0, 0, 0]), 10);
    expect(Array.from(a.data())).toEqual(Array.from(b.data()));
    expect(a.data()[0]).not.toBe(1);
    fromConfig.dispose();
    byHand.dispose();
  });

  it('an optimizer built by hand serializes by name, schedule included', () => {
    const x = param([1, 2]);
    const opt = new AdamW([x], { lr: cosine({ initial: 1e-3, steps: 500 }), weightDecay: 0.02 });
    expect(registry.serialize(opt)).toEqual({
      kind: 'optimizer', name: 'adamw',
      config: { lr: { kind: 'schedule', name: 'cosine', config: { initial: 1e-3, steps: 500, final: 0 } }, weightDecay: 0.02, beta1: 0.9, beta2: 0.999, eps: 1e-8, biasCorrection: true },
    });
    opt.dispose();
  });

  it('a plain-function schedule cannot be saved by name, and says so', () => {
    const opt = new SGD([], { lr: (t: number) => 0.1 / (1 + t) });
    expect(() => registry.serialize(opt)).toThrow(/cannot serialize a plain function schedule/);
  });
});

describe('schedule configs round-trip through JSON', () => {
  const configs: [string, Record<string, unknown>][] = [
    ['constant', { value: 0.1 }],
    ['stepDecay', { initial: 1, stepSize: 10, gamma: 0.5 }],
    ['multiStep', { initial: 1, milestones: [3, 7] }],
    ['exponential', { initial: 1, gamma: 0.9, decaySteps: 5, staircase: true }],
    ['inverseTime', { initial: 1, decayRate: 0.5 }],
    ['polynomial', { initial: 1, steps: 50, power: 2, final: 0.01 }],
    ['cosine', { initial: 1, steps: 100 }],
    ['cosineWarmRestarts', { initial: 1, period: 10, periodMult: 2 }],
    ['cyclic', { low: 0.01, high: 0.1, stepSize: 4, mode: 'triangular2' }],
    ['oneCycle', { max: 0.1, steps: 100, pctStart: 0.2 }],
    ['linearWarmup', { warmupSteps: 5, schedule: { kind: 'schedule', name: 'stepDecay', config: { initial: 1, stepSize: 3 } } }],
    ['reduceOnPlateau', { schedule: 0.1, patience: 3 }],
  ];
  for (const [name, config] of configs) {
    it(name, () => {
      const s = registry.create<Schedule>('schedule', name, config);
      const [again, json] = roundTrip<Schedule>(s);
      expect((json as { config: unknown }).config).toMatchObject(config);
      for (const t of [0, 1, 4, 5, 9, 10, 33, 99, 150]) expect(again(t)).toBe(s(t));
      expect(registry.serialize(again)).toEqual(json);
    });
  }
});

describe('bad configs are clear errors', () => {
  it('unknown names suggest the closest', () => {
    expect(() => registry.create('optimizer', 'adma')).toThrow(/unknown optimizer 'adma' — did you mean 'adam'\?/);
    expect(() => registry.create('schedule', 'cosin')).toThrow(/did you mean 'cosine'\?/);
  });

  it('bad values and unknown keys name the field', () => {
    expect(() => registry.create('optimizer', 'adam', { lr: -1 })).toThrow(RegistryError);
    expect(() => registry.create('optimizer', 'adam', { beta2: 1 })).toThrow(/beta2: expected a number < 1, got 1/);
    expect(() => registry.create('optimizer', 'sgd', { weightdecay: 0.1 })).toThrow(/unknown key 'weightdecay' \(did you mean 'weightDecay'\?\)/);
    expect(() => registry.create('optimizer', 'lbfgs', { lineSearch: 'wolfe' })).toThrow(/lineSearch/);
  });

  it('a nested learning-rate spec must be a schedule', () => {
    expect(() => registry.create('optimizer', 'sgd', { lr: { kind: 'optimizer', name: 'adam', config: {} } })).toThrow(/must be a number or a spec of kind 'schedule'/);
    expect(() => registry.create('optimizer', 'sgd', { lr: { kind: 'schedule', name: 'cosnie', config: {} } })).toThrow(/did you mean 'cosine'/);
  });

  it('checks that pass zod but not the optimizer still name the value', () => {
    expect(() => registry.create('optimizer', 'sgd', { nesterov: true })).toThrow(/invalid nesterov: true — expected momentum > 0/);
  });
});
