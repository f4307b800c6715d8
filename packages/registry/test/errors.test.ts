import { describe, it, expect } from 'vitest';
import { createAt, createRegistry, define, locate, parseJson, RegistryError, z } from '../src/index.js';
import { layers, optimizers } from './fixtures.js';

/** Run fn, insist it throws a RegistryError, and hand it back for inspection. */
function thrown(fn: () => unknown): RegistryError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RegistryError);
    return e as RegistryError;
  }
  throw new Error('expected a RegistryError, nothing was thrown');
}

const registry = createRegistry().use(optimizers).use(layers);

describe('unknown names and kinds', () => {
  it('suggest the nearest name and list the known ones', () => {
    const error = thrown(() => registry.create('optimizer', 'adma'));
    expect(error.code).toBe('unknown-name');
    expect(error.name).toBe('RegistryError');
    expect(error.message).toBe("unknown optimizer 'adma' — did you mean 'adam'? Known optimizers: adam, sgd.");
  });

  it('ignore case when suggesting', () => {
    expect(thrown(() => registry.get('optimizer', 'SGD')).message).toContain("did you mean 'sgd'?");
  });

  it('make no suggestion when nothing is close, but still list the known names', () => {
    const error = thrown(() => registry.get('optimizer', 'lbfgs'));
    expect(error.message).toBe("unknown optimizer 'lbfgs'. Known optimizers: adam, sgd.");
  });

  it('pluralize the kind properly', () => {
    expect(thrown(() => registry.get('loss', 'mae')).message).toContain('Known losses: mse.');
  });

  it('tell an unknown kind apart, with a suggestion and the known kinds', () => {
    const error = thrown(() => registry.create('optimiser', 'adam'));
    expect(error.code).toBe('unknown-kind');
    expect(error.message).toContain("unknown kind 'optimiser' — did you mean 'optimizer'?");
    expect(error.message).toContain('Known kinds: activation, layer, loss, optimizer, regularizer.');
    expect(error.message).toContain('registry.use()');
  });

  it('say when nothing is registered at all', () => {
    const error = thrown(() => createRegistry().create('optimizer', 'adam'));
    expect(error.code).toBe('unknown-kind');
    expect(error.message).toContain('Nothing is registered yet');
  });
});

describe('config validation', () => {
  it('applies schema defaults, also when config is left out', () => {
    expect(registry.create('optimizer', 'adam')).toEqual({ lr: 0.001, betas: [0.9, 0.999], eps: 1e-8 });
    expect(registry.create('optimizer', 'adam', { lr: 0.1 })).toEqual({ lr: 0.1, betas: [0.9, 0.999], eps: 1e-8 });
  });

  it('names kind, name, each bad field, what was expected and what came', () => {
    const error = thrown(() => registry.create('optimizer', 'adam', { lr: -1, betas: [0.9, 'x'] }));
    expect(error.code).toBe('invalid-config');
    expect(error.message).toBe(
      "invalid config for optimizer 'adam':\n" +
        '  - lr: expected a number > 0, got -1\n' +
        '  - betas[1]: expected number, got "x"',
    );
    expect(error.cause).toBeInstanceOf(z.ZodError);
  });

  it('reports missing fields, enums, integers and upper bounds in words', () => {
    const error = thrown(() => registry.create('layer', 'dense', { activation: 'gelu' }));
    expect(error.message).toContain('  - units: expected number, but it is missing');
    expect(error.message).toContain('  - activation: expected one of "relu", "tanh", "linear", got "gelu"');
    expect(thrown(() => registry.create('layer', 'dense', { units: 2.5 })).message).toContain('units: expected int, got 2.5');
    expect(thrown(() => registry.create('optimizer', 'sgd', { momentum: 1.5 })).message).toContain(
      'momentum: expected a number <= 1, got 1.5',
    );
  });

  it('suggests the right key for an unknown one in a strict config', () => {
    const error = thrown(() => registry.create('optimizer', 'adam', { learningRate: 0.1, lrr: 0.1 }));
    expect(error.message).toContain("unknown key 'learningRate'");
    expect(error.message).toContain("unknown key 'lrr' (did you mean 'lr'?)");
  });

  it('formats unions, lengths and custom refinements readably', () => {
    const odd = define(
      'metric',
      'odd',
      z.object({
        k: z.union([z.number(), z.string()]),
        tag: z.string().min(2),
        n: z.number().refine((v) => v % 2 === 1, 'n must be odd'),
      }),
      (c) => c,
    );
    const message = thrown(() => createRegistry().register(odd).create('metric', 'odd', { k: true, tag: 'x', n: 4 })).message;
    expect(message).toContain('k: expected number or string, got true');
    expect(message).toContain('tag: expected a string of at least 2 characters, got "x"');
    expect(message).toContain('n: n must be odd, got 4');
    expect(message).not.toContain('"code"'); // no JSON dump of zod issues
  });

  it('rejects a config that is not an object', () => {
    const error = thrown(() => registry.create('optimizer', 'sgd', 0.1));
    expect(error.code).toBe('invalid-config');
    expect(error.message).toContain('config: expected object, got 0.1');
  });
});

describe('invalid specs', () => {
  it('reject a non-object', () => {
    for (const bad of [null, 42, []]) {
      const error = thrown(() => registry.fromJSON(bad));
      expect(error.code).toBe('invalid-spec');
      expect(error.message).toMatch(/^invalid spec/);
    }
    expect(thrown(() => registry.fromJSON(42)).message).toContain('expected an object like');
    const text = thrown(() => registry.fromJSON('{oops'));
    expect(text.code).toBe('invalid-json');
    expect(text.message).toMatch(/^spec: not valid JSON/);
  });

  it('reject a missing or empty kind or name', () => {
    expect(thrown(() => registry.fromJSON({ name: 'adam' })).message).toContain("'kind' must be a non-empty string, got undefined");
    expect(thrown(() => registry.fromJSON({ kind: 'optimizer', name: '' })).message).toContain("'name' must be a non-empty string");
    expect(thrown(() => registry.fromJSON({ kind: 'optimizer', name: 3 })).code).toBe('invalid-spec');
  });

  it('reject a config that is not an object', () => {
    const error = thrown(() => registry.fromJSON({ kind: 'optimizer', name: 'adam', config: [1, 2] }));
    expect(error.code).toBe('invalid-spec');
    expect(error.message).toBe("invalid spec for optimizer 'adam': 'config' must be an object (or left out), got [1,2]");
  });

  it('pass unknown names and bad configs through with their own codes', () => {
    expect(thrown(() => registry.fromJSON({ kind: 'optimizer', name: 'adma' })).code).toBe('unknown-name');
    expect(thrown(() => registry.fromJSON({ kind: 'optimizer', name: 'adam', config: { lr: 0 } })).code).toBe('invalid-config');
  });
});

describe('located errors: a config inside a larger document', () => {
  it('name the full path of each bad field, one line per unknown key, with did-you-mean from the nested schema', () => {
    const error = thrown(() => createAt(registry, 'optimizer', 'adam', { lrr: 0.1, betas: [0.9, 'x'] }, ['model', 3]));
    expect(error.code).toBe('invalid-config');
    expect(error.path).toEqual(['model', 3, 'config']);
    expect(error.message).toBe(
      "invalid config for optimizer 'adam' at model[3].config:\n" +
        '  - model[3].config.betas[1]: expected number, got "x"\n' +
        "  - model[3].config.lrr: unknown key 'lrr' (did you mean 'lr'?)",
    );
    expect(error.at(['runs', 0]).message).toContain('  - runs[0].model[3].config.lrr:');
  });

  it('locate an unknown name at the spec, and leave other errors alone', () => {
    const error = thrown(() => createAt(registry, 'optimizer', 'adma', {}, ['optimizer']));
    expect(error.code).toBe('unknown-name');
    expect(error.message).toMatch(/^optimizer: unknown optimizer 'adma' — did you mean 'adam'\?/);
    expect(() => locate(['x'], () => { throw new TypeError('plain'); })).toThrow(/^plain$/);
  });

  it('report what is wrong inside the one form of a union that fits', () => {
    const entry = define('metric', 'pick', z.strictObject({
      of: z.union([z.string(), z.strictObject({ name: z.string(), config: z.strictObject({ k: z.number() }).optional() })]),
    }), (c) => c);
    const error = thrown(() => createRegistry().register(entry).create('metric', 'pick', { of: { name: 'a', confg: {}, config: { k: 'x' } } }));
    expect(error.message).toContain("  - of.confg: unknown key 'confg' (did you mean 'config'?)");
    expect(error.message).toContain('  - of.config.k: expected number, got "x"');
  });
});

describe('parseJson: bounded JSON from outside', () => {
  it('parses within the limits', () => {
    expect(parseJson('{"a": [1, {"b": 2}]}')).toEqual({ a: [1, { b: 2 }] });
  });

  it('refuses too deep nesting with the path where the limit was passed, at any depth without overflowing the stack', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const error = thrown(() => parseJson(`{"model": [{"config": ${deep}}]}`, { source: 'run.json' }));
    expect(error.code).toBe('invalid-json');
    expect(error.message).toMatch(/^run\.json: nested deeper than 64 levels at model\[0\]\.config\[0\]\[0\]\[0\]\[0\]\[0\]…$/);
  });

  it('refuses text over the size limit, and names bad JSON with its source', () => {
    expect(thrown(() => parseJson('[1, 2, 3]', { maxBytes: 4, source: 'a.json' })).message).toMatch(/^a\.json: .* MiB of text is more than/);
    expect(thrown(() => parseJson('{"a": ', { source: 'b.json' })).message).toMatch(/^b\.json: not valid JSON/);
  });
});
