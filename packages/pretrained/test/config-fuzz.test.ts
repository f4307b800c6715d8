// A property of the fine-tuning-config validator (parse + resolve every name + each stage's
// optimizer: all that is checked before the pretrained file is read): any mutation of the example
// fine-tuning configs is either accepted, or refused with a typed error naming the mutated path.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RegistryError } from '@minibatch/registry';
import { ConfigError } from '@minibatch/train';
import { parseFinetuneConfig, pretrainedRegistry, resolveFinetune } from '../src/index.js';
import { checkMutations, type Json } from '../../train/test/mutations.js';

const examplesDir = new URL('../../../examples/', import.meta.url);
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.json'))
  .filter((f) => 'pretrained' in JSON.parse(readFileSync(new URL(f, examplesDir), 'utf8')));
const registry = pretrainedRegistry();

function validate(config: Json): void {
  resolveFinetune(parseFinetuneConfig(JSON.stringify(config), 'run.json'), registry, 'run.json');
}

describe('the fine-tuning-config validator under mutation (fast-check)', () => {
  it('has the examples, valid as shipped', () => {
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const file of examples) validate(JSON.parse(readFileSync(new URL(file, examplesDir), 'utf8')));
  });

  for (const file of examples) {
    it(`${file}: every mutation is accepted or refused naming its path`, () => {
      checkMutations(JSON.parse(readFileSync(new URL(file, examplesDir), 'utf8')) as Json, validate, [ConfigError, RegistryError]);
    });
  }
});
