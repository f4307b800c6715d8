// Serving the built demo with Vite's preview server — cross-origin isolated, or not — and
// opening it in Debian's Chromium through playwright-core. Shared by the tests and the bench.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';

export const CHROMIUM = '/usr/bin/chromium';
export const DEMO = fileURLToPath(new URL('..', import.meta.url));
export const BUILT = existsSync(`${DEMO}dist/index.html`) && existsSync(`${DEMO}dist/data/datasets.json`);

/** Starts the preview server over dist/; `isolated: false` serves it as a plain static host would. */
export async function serve(isolated: boolean): Promise<{ url: string; close: () => Promise<void> }> {
  const before = process.env.DEMO_ISOLATION;
  process.env.DEMO_ISOLATION = isolated ? 'on' : 'off';
  let server: PreviewServer;
  try {
    server = await preview({ root: DEMO, logLevel: 'silent', preview: { port: 0, host: '127.0.0.1', strictPort: false, open: false } });
  } finally {
    if (before === undefined) delete process.env.DEMO_ISOLATION;
    else process.env.DEMO_ISOLATION = before;
  }
  const address = server.httpServer.address();
  if (address === null || typeof address === 'string') throw new Error('the preview server has no port');
  return { url: `http://127.0.0.1:${address.port}/`, close: () => server.close() };
}

export async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** What went wrong on a page: console errors, uncaught exceptions, failed and refused requests. */
export function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`exception: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return problems;
}
