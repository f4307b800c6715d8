// A property of the run-config validator (parse + resolve every name + shapes + sizes): any
// mutation of a real example config — a key renamed, moved a level up or down, a value of the
// wrong type, a number out of range, deep nesting — is either accepted, or refused with a typed
// error whose message names the mutated path; never an internal error.
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RegistryError, formatPath, type JsonPath } from '@minibatch/registry';
import { ConfigError, defaultRegistry, parseRunConfig, resolveRun } from '../src/index.js';

const examplesDir = new URL('../../../examples/', import.meta.url);
const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.json'));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a value inside `value` (not the root). */
function paths(value: Json, at: JsonPath = []): JsonPath[] {
  if (value === null || typeof value !== 'object') return [];
  const entries: [string | number, Json][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return entries.flatMap(([k, v]) => [[...at, k], ...paths(v, [...at, k])]);
}

function get(value: Json, path: JsonPath): Json {
  return path.reduce<Json>((v, k) => (v as Record<string | number, Json>)[k], value);
}

const OTHER_TYPES: Json[] = ['text', 7, -1, true, null, [], {}, [1, 2], { name: 'dense' }];
const BAD_NUMBERS = [-1, 0, 0.5, 1e12, -1e300, 2 ** 53];

type Mutation = { kind: 'rename' | 'up' | 'down' | 'type' | 'number' | 'deep'; pick: number; variant: number };

/** Applies a mutation; returns the mutated config and the path a message must name, or null when it does not apply here. */
function mutate(config: Json, m: Mutation): { config: Json; path: JsonPath } | null {
  const all = paths(config);
  const path = all[m.pick % all.length];
  const copy = structuredClone(config);
  const parentPath = path.slice(0, -1);
  const parent = get(copy, parentPath) as Record<string | number, Json>;
  const key = path[path.length - 1];
  const value = parent[key];
  switch (m.kind) {
    case 'rename': {
      if (typeof key !== 'string') return null;
      const renamed = m.variant % 2 === 0 ? `${key}z` : key.length > 1 ? `${key[1]}${key[0]}${key.slice(2)}` : `${key}${key}`;
      delete parent[renamed];
      parent[renamed] = value;
      delete parent[key];
      return { config: copy, path: [...parentPath, renamed] };
    }
    case 'up': {
      if (typeof key !== 'string' || parentPath.length === 0) return null;
      const grand = get(copy, parentPath.slice(0, -1));
      if (grand === null || typeof grand !== 'object' || Array.isArray(grand)) return null;
      delete parent[key];
      (grand as Record<string, Json>)[key] = value;
      return { config: copy, path: [...parentPath.slice(0, -1), key] };
    }
    case 'down':
      parent[key] = { [typeof key === 'string' ? key : 'value']: value };
      return { config: copy, path };
    case 'type':
      parent[key] = OTHER_TYPES[m.variant % OTHER_TYPES.length];
      return { config: copy, path };
    case 'number':
      if (typeof value !== 'number') return null;
      parent[key] = BAD_NUMBERS[m.variant % BAD_NUMBERS.length];
      return { config: copy, path };
    case 'deep': {
      let nested: Json = value;
      for (let i = 0; i < 100 + m.variant; i++) nested = [nested];
      parent[key] = nested;
      return { config: copy, path };
    }
  }
}

/** The validator: everything a run checks before any data is loaded. */
function validate(config: Json): void {
  const text = JSON.stringify(config);
  const run = resolveRun(parseRunConfig(text, 'run.json'), defaultRegistry());
  run.model.dispose();
}

describe('the run-config validator under mutation (fast-check)', () => {
  it('has real examples to mutate, and they are valid as shipped', () => {
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const file of examples) validate(JSON.parse(readFileSync(new URL(file, examplesDir), 'utf8')));
  });

  for (const file of examples) {
    it(`${file}: every mutation is accepted or refused naming its path`, () => {
      const original = JSON.parse(readFileSync(new URL(file, examplesDir), 'utf8')) as Json;
      const mutation = fc.record({
        kind: fc.constantFrom('rename', 'up', 'down', 'type', 'number', 'deep'),
        pick: fc.nat(),
        variant: fc.nat({ max: 50 }),
      }) as fc.Arbitrary<Mutation>;
      fc.assert(fc.property(mutation, (m) => {
        const mutated = mutate(original, m);
        if (mutated === null) return;
        try {
          validate(mutated.config);
        } catch (error) {
          if (!(error instanceof ConfigError || error instanceof RegistryError)) throw new Error(`internal error for ${JSON.stringify(m)}: ${String(error)}`);
          const message = (error as Error).message;
          // The mutated path itself, or an enclosing one at least two levels deep ('model[1]', 'data.name').
          const named = [];
          for (let k = mutated.path.length; k >= Math.min(2, mutated.path.length); k--) named.push(formatPath(mutated.path.slice(0, k)));
          expect(named.some((p) => message.includes(p)), `${JSON.stringify(m)} at ${formatPath(mutated.path)}:\n${message}`).toBe(true);
          expect(message.split('\n').length, message).toBeLessThanOrEqual(12);
        }
      }), { seed: 2026, numRuns: 400 });
    });
  }
});
