// A 1-thread and a 2-thread SIMD engine for a test file that compares the two: created
// before its tests (the 2-thread one with its workers started), the pool closed after.
import { afterAll, beforeAll } from 'vitest';
import { createEngine, type Engine } from '../src/index.js';

export function oneAndTwoThreads(): { one: Engine; two: Engine } {
  const engines = {} as { one: Engine; two: Engine };
  beforeAll(async () => {
    engines.one = await createEngine({ build: 'simd', threads: 1 });
    engines.two = await createEngine({ build: 'simd', threads: 2 });
    await engines.two.ready();
  });
  afterAll(() => engines.two.close());
  return engines;
}
