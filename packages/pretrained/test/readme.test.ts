// The README's example runs, and prints what the README says it prints.
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../test-support/readme.js';

it('the README example prints the documented output', async () => {
  const { printed, documented } = await runReadmeExample(new URL('.', import.meta.url), '@minibatch/pretrained');
  expect(printed).toBe(documented);
});
