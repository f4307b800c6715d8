// Config mutations for property tests of config validators (fast-check): a key renamed, moved a
// level up or down, a value of the wrong type, a number out of range, deep nesting. Shared by the
// run-config test here and the fine-tuning-config test of @minibatch/pretrained.
import fc from 'fast-check';
import { expect } from 'vitest';
import { formatPath, type JsonPath } from '@minibatch/registry';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

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

export type Mutation = { kind: 'rename' | 'up' | 'down' | 'type' | 'number' | 'deep'; pick: number; variant: number };

/** Applies a mutation; returns the mutated config and the path a message must name, or null when it does not apply here. */
export function mutate(config: Json, m: Mutation): { config: Json; path: JsonPath } | null {
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

/**
 * Every mutation of `original` is accepted by `validate`, or refused with one of the `typed`
 * errors (the caller's ConfigError and RegistryError classes) in at most 12 lines, naming the
 * mutated path or an enclosing one at least two levels deep ('model[1]', 'data.name'; for a
 * wrong plugin name, the spec it names).
 */
export function checkMutations(original: Json, validate: (config: Json) => void, typed: readonly (new (...args: never[]) => Error)[], numRuns = Number(process.env.FUZZ_RUNS ?? 400)): void {
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
      if (!typed.some((type) => error instanceof type)) throw new Error(`internal error for ${JSON.stringify(m)}: ${String(error)}`);
      const message = (error as Error).message;
      const path = mutated.path;
      const shortest = path[path.length - 1] === 'name' ? path.length - 1 : Math.min(2, path.length);
      const named = [];
      for (let k = path.length; k >= shortest; k--) named.push(formatPath(path.slice(0, k)));
      expect(named.some((p) => message.includes(p)), `${JSON.stringify(m)} at ${formatPath(path)}:\n${message}`).toBe(true);
      expect(message.split('\n').length, message).toBeLessThanOrEqual(12);
    }
  }), { seed: Number(process.env.FUZZ_SEED ?? 2026), numRuns });
}
