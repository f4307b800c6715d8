// Shared by the packages' tests: runs a README's first ```js example against the package's
// own sources and returns what it printed, so "the README example prints X" is tested.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';

export interface ReadmeExample {
  /** What the example printed (console.log lines, newline-terminated). */
  printed: string;
  /** The README's documented output: the code block after a line ending in "prints". */
  documented: string;
}

/** `testDir` is the test folder's URL (`new URL('.', import.meta.url)`); `pkg` the package name the example imports. */
export async function runReadmeExample(testDir: URL, pkg: string): Promise<ReadmeExample> {
  const readme = readFileSync(new URL('../README.md', testDir), 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(readme)![1];
  const documented = /prints\n\n```\n([\s\S]*?)```/.exec(readme)![1];
  const file = fileURLToPath(new URL(`./readme-example-${process.pid}.tmp.ts`, testDir));
  writeFileSync(file, code.replace(`from '${pkg}'`, "from '../src/index.js'"));
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    log.mockRestore();
    rmSync(file, { force: true });
  }
  return { printed: `${lines.join('\n')}\n`, documented };
}
