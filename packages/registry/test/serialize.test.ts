import { describe, it, expect } from 'vitest';
import { createRegistry, define, RegistryError, z, type Spec } from '../src/index.js';
import { Dropout, layers, optimizers, Sgd } from './fixtures.js';

const registry = createRegistry().use(optimizers).use(layers);
const throughJson = (spec: Spec): unknown => JSON.parse(JSON.stringify(spec));

describe('serialize and fromJSON', () => {
  it('serialize returns the spec with defaults filled in', () => {
    const opt = registry.create('optimizer', 'sgd', { lr: 0.1 });
    expect(registry.serialize(opt)).toEqual({ kind: 'optimizer', name: 'sgd', config: { lr: 0.1, momentum: 0 } });
  });

  it('round-trips an instance through JSON.stringify/parse', () => {
    const opt = registry.create<Sgd>('optimizer', 'sgd', { lr: 0.3, momentum: 0.9 });
    const again = registry.fromJSON<Sgd>(throughJson(registry.serialize(opt)));
    expect(again).not.toBe(opt);
    expect(again).toBeInstanceOf(Sgd);
    expect(again).toEqual(opt);
    // ...and the copy serializes to the same spec.
    expect(registry.serialize(again)).toEqual(registry.serialize(opt));
  });

  it('accepts the JSON text itself and a spec without config', () => {
    expect(registry.fromJSON('{"kind":"optimizer","name":"sgd","config":{"lr":0.2}}')).toEqual(new Sgd(0.2, 0));
    expect(registry.fromJSON({ kind: 'optimizer', name: 'sgd' })).toEqual(new Sgd(0.01, 0));
  });

  it('round-trips nested specs (a container built through the registry)', () => {
    const model = registry.fromJSON({
      kind: 'layer',
      name: 'sequential',
      config: { layers: [{ kind: 'layer', name: 'dense', config: { units: 4, activation: 'relu' } }, { kind: 'layer', name: 'dense', config: { units: 1 } }] },
    });
    const spec = registry.serialize(model);
    expect(spec.config.layers).toEqual([
      { kind: 'layer', name: 'dense', config: { units: 4, activation: 'relu' } },
      { kind: 'layer', name: 'dense', config: { units: 1 } },
    ]);
    expect(registry.fromJSON(throughJson(spec))).toEqual(model);
  });

  it('remembers functions too (activations may be plain functions)', () => {
    const fn = registry.create<(x: number) => number>('activation', 'relu');
    expect(fn(-2)).toBe(0);
    expect(registry.serialize(fn)).toEqual({ kind: 'activation', name: 'relu', config: {} });
  });

  it('keeps the spec safe from later mutation of configs or returned specs', () => {
    const opt = registry.create<Record<string, unknown>>('optimizer', 'adam');
    (opt.betas as number[])[0] = 0.5; // the instance got the parsed config object
    const spec = registry.serialize(opt);
    expect(spec.config.betas).toEqual([0.9, 0.999]);
    spec.config.lr = 99;
    expect(registry.serialize(opt).config.lr).toBe(0.001);
  });

  it('uses getConfig() with kind and name when the instance has them', () => {
    const drop = registry.create<Dropout>('regularizer', 'dropout', { rate: 0.2 });
    drop.rate = 0.3; // getConfig reflects the instance as it is now
    expect(registry.serialize(drop)).toEqual({ kind: 'regularizer', name: 'dropout', config: { rate: 0.3 } });
    // Works for instances made outside the registry too, and they round-trip.
    const outside = new Dropout(0.1);
    const again = registry.fromJSON<Dropout>(throughJson(registry.serialize(outside)));
    expect(again).toBeInstanceOf(Dropout);
    expect(again).toEqual(outside);
  });

  it('refuses values it knows nothing about', () => {
    for (const value of [{ lr: 1 }, 42, null, new Sgd(1, 0)]) {
      let error: unknown;
      try {
        registry.serialize(value);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).code).toBe('not-serializable');
      expect((error as RegistryError).message).toContain('getConfig()');
    }
    // Another registry does not know this one's instances.
    expect(() => createRegistry().use(optimizers).serialize(registry.create('optimizer', 'sgd'))).toThrow(/not made by this registry/);
  });
});

describe('configs that are not JSON data', () => {
  it('still create, but serialize() refuses instead of create() crashing', () => {
    const hook = define('callback', 'hook', z.object({ onEpoch: z.custom<() => void>((v) => typeof v === 'function') }), (c) => ({ ...c }));
    const local = createRegistry().register(hook);
    const instance = local.create('callback', 'hook', { onEpoch: () => {} });
    expect(typeof (instance as { onEpoch: unknown }).onEpoch).toBe('function');
    expect(() => local.serialize(instance)).toThrow(RegistryError);
  });
});
