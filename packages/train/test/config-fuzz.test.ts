// A property of the run-config validator (parse + resolve every name + shapes + sizes): any
// mutation of a real example run config — a key renamed, moved a level up or down, a value of the
// wrong type, a number out of range, deep nesting — is either accepted, or refused with a typed
// error whose message names the mutated path; never an internal error.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RegistryError } from '@minibatch/registry';
import { ConfigError, defaultRegistry, parseRunConfig, resolveRun } from '../src/index.js';
import { parseSearchConfig } from '../src/search.js';
import { checkMutations, type Json } from './mutations.js';

const examplesDir = new URL('../../../examples/', import.meta.url);
const read = (f: string) => JSON.parse(readFileSync(new URL(f, examplesDir), 'utf8')) as Record<string, Json>;
const jsonFiles = readdirSync(examplesDir).filter((f) => f.endsWith('.json'));
/** The example run configs (fine-tuning configs, which name a pretrained file, have their own test in @minibatch/pretrained). */
const examples = jsonFiles.filter((f) => !('pretrained' in read(f)) && !('space' in read(f)));
/** The example search configs: their space is mutated here; their base is a run config, mutated as one. */
const searches = jsonFiles.filter((f) => 'space' in read(f));

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
      checkMutations(JSON.parse(readFileSync(new URL(file, examplesDir), 'utf8')) as Json, validate, [ConfigError, RegistryError]);
    });
  }

  for (const file of searches) {
    const { base, ...search } = read(file);
    it(`${file}: every mutation of the search is accepted or refused naming its path; its base as a run config`, () => {
      expect(typeof base).toBe('object');
      checkMutations(search as Json, (mutated) => void parseSearchConfig({ ...(mutated as object), base }, { source: file }), [ConfigError, RegistryError]);
      checkMutations(base, validate, [ConfigError, RegistryError]);
    });
  }
});
