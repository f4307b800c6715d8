import { describe, it, expect, expectTypeOf } from 'vitest';
import * as registryModule from '../src/index.js';
import { createRegistry, define, definePlugin, RegistryError, z, type PluginEntry } from '../src/index.js';
import { adam, layers, optimizers, Sgd, sgd } from './fixtures.js';

describe('registration and lookup', () => {
  it('use() is chainable and makes entries findable by kind and name', () => {
    const registry = createRegistry();
    expect(registry.use(optimizers)).toBe(registry);
    registry.use(layers);
    expect(registry.has('optimizer', 'adam')).toBe(true);
    expect(registry.has('optimizer', 'nadam')).toBe(false);
    expect(registry.has('nope', 'adam')).toBe(false);
    expect(registry.get('optimizer', 'sgd')).toBe(sgd);
    expect(registry.get('optimizer', 'sgd').description).toBe('stochastic gradient descent');
  });

  it('list() gives sorted names of a kind, or every kind/name; kinds() is sorted', () => {
    const registry = createRegistry().use(optimizers).use(layers);
    expect(registry.list('optimizer')).toEqual(['adam', 'sgd']);
    expect(registry.list('layer')).toEqual(['dense', 'sequential']);
    expect(registry.list('metric')).toEqual([]);
    expect(registry.list()).toEqual([
      'activation/relu',
      'layer/dense',
      'layer/sequential',
      'loss/mse',
      'optimizer/adam',
      'optimizer/sgd',
      'regularizer/dropout',
    ]);
    expect(registry.kinds()).toEqual(['activation', 'layer', 'loss', 'optimizer', 'regularizer']);
  });

  it('register() adds a single entry', () => {
    const registry = createRegistry().register(sgd);
    expect(registry.list()).toEqual(['optimizer/sgd']);
  });

  it('create() builds the instance with the validated config', () => {
    const opt = createRegistry().use(optimizers).create<Sgd>('optimizer', 'sgd', { lr: 0.5 });
    expect(opt).toBeInstanceOf(Sgd);
    expect(opt).toEqual(new Sgd(0.5, 0));
  });

  it('create() passes the registry to the factory', () => {
    let seen: unknown;
    const probe = define('metric', 'probe', z.object({}), (_c, registry) => (seen = registry));
    const registry = createRegistry().register(probe);
    registry.create('metric', 'probe');
    expect(seen).toBe(registry);
  });

  it('define() infers the config type from the schema', () => {
    expectTypeOf(sgd.create).parameter(0).toEqualTypeOf<{ lr: number; momentum: number }>();
    expectTypeOf(sgd.create).returns.toEqualTypeOf<Sgd>();
    // Typed entries still fit in an untyped list.
    expectTypeOf(sgd).toExtend<PluginEntry>();
    expect(sgd).toMatchObject({ kind: 'optimizer', name: 'sgd' });
    expect('description' in adam).toBe(false);
  });

  it('definePlugin() returns { name, entries } and copies the list', () => {
    const entries: PluginEntry[] = [sgd];
    const plugin = definePlugin('p', entries);
    entries.push(adam);
    expect(plugin).toEqual({ name: 'p', entries: [sgd] });
  });
});

describe('nothing registers on import', () => {
  it('the module exports no registry instance and a fresh registry is empty', () => {
    expect(Object.keys(registryModule).sort()).toEqual(
      ['JSON_LIMITS', 'RegistryError', 'checkNesting', 'createAt', 'describeIssues', 'createRegistry', 'define', 'definePlugin', 'formatPath', 'locate', 'parseConfig', 'parseJson', 'specSchema', 'suggest', 'z'].sort(),
    );
    const registry = createRegistry();
    expect(registry.kinds()).toEqual([]);
    expect(registry.list()).toEqual([]);
  });

  it('defining plugins registers nothing, and registries do not share entries', () => {
    definePlugin('x', [define('metric', 'accuracy', z.object({}), () => 1)]);
    const a = createRegistry().use(optimizers);
    const b = createRegistry();
    expect(a.list()).toEqual(['optimizer/adam', 'optimizer/sgd']);
    expect(b.list()).toEqual([]);
    expect(b.has('optimizer', 'adam')).toBe(false);
  });
});

describe('duplicates', () => {
  it('throw, naming kind, name and both plugins', () => {
    const other = definePlugin('@other/optimizers', [define('optimizer', 'adam', z.object({}), () => 'mine')]);
    const registry = createRegistry().use(optimizers);
    let error: unknown;
    try {
      registry.use(other);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('duplicate');
    const message = (error as RegistryError).message;
    expect(message).toContain("optimizer 'adam'");
    expect(message).toContain("'@test/optimizers'");
    expect(message).toContain("'@other/optimizers'");
    expect(message).toContain('override: true');
  });

  it('leave the registry untouched when use() fails halfway', () => {
    const mixed = definePlugin('mixed', [define('metric', 'accuracy', z.object({}), () => 1), sgd]);
    const registry = createRegistry().use(optimizers);
    expect(() => registry.use(mixed)).toThrow(RegistryError);
    expect(registry.has('metric', 'accuracy')).toBe(false);
  });

  it('within one plugin also throw, even with override', () => {
    const twice = definePlugin('twice', [sgd, sgd]);
    expect(() => createRegistry().use(twice, { override: true })).toThrow(/plugin 'twice' lists it twice/);
  });

  it('register() throws too and names where the first came from', () => {
    const registry = createRegistry().use(optimizers);
    expect(() => registry.register(sgd)).toThrow(/already registered by '@test\/optimizers', registered again by '\(registered directly\)'/);
  });

  it('are replaced with { override: true }', () => {
    const mine = define('optimizer', 'adam', z.object({}), () => 'mine');
    const registry = createRegistry().use(optimizers);
    registry.use(definePlugin('mine', [mine]), { override: true });
    expect(registry.get('optimizer', 'adam')).toBe(mine);
    expect(registry.create('optimizer', 'adam')).toBe('mine');
    registry.register(adam, { override: true });
    expect(registry.get('optimizer', 'adam')).toBe(adam);
  });
});

describe('parseConfig', () => {
  it('fills defaults, and words errors exactly as create() does', async () => {
    const { parseConfig, RegistryError: Err } = await import('../src/index.js');
    const schema = z.strictObject({ units: z.number().int().positive(), bias: z.boolean().default(true) });
    expect(parseConfig('layer', 'dense', schema, { units: 3 })).toEqual({ units: 3, bias: true });
    const viaCreate = (() => {
      try {
        createRegistry().register(define('layer', 'dense', schema, (c) => c)).create('layer', 'dense', { units: -3 });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(() => parseConfig('layer', 'dense', schema, { units: -3 })).toThrow(Err);
    expect(() => parseConfig('layer', 'dense', schema, { units: -3 })).toThrow(viaCreate!.message);
    expect(viaCreate!.message).toMatch(/invalid config for layer 'dense'/);
  });
});
