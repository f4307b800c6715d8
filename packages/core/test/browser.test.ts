// The core in a real browser: headless Chromium loads dist/ as native ES modules from a
// local server, so the loader must find and stream-compile build/*.wasm by itself
// (new URL(…, import.meta.url) + fetch), pick the fastest build, and compute what Node
// computes; on a cross-origin-isolated page it runs worker threads over shared memory.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import * as mb from '../src/index.js';
import { createEngine, useEngine, type Build } from '../src/index.js';

const CHROMIUM = '/usr/bin/chromium';
const root = new URL('..', import.meta.url).pathname;
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs the Debian package 'chromium'`);
  console.log(`browser.test: skipped — ${CHROMIUM} not found (sudo apt-get install chromium)`);
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

/**
 * The work both sides do, the page and Node: a loss and its gradient, and a product big
 * enough to be split over the threads (its checksum must not depend on them). It runs as
 * it is in Node and as its source text in the page, so both do exactly the same.
 */
function work(mb: typeof import('../src/index.js')): { loss: number; grad: number[]; sum: number } {
  const a = mb.tensor([[1, 2, 3], [4, 5, 6]]).setRequiresGrad();
  const loss = mb.softmaxCrossEntropy(mb.matmul(a, mb.tensor([[1, 0], [0, 1], [1, 1]])), [1, 0]);
  loss.backward();
  const x = mb.tensor(Array.from({ length: 256 * 300 }, (_, i) => Math.sin(i)), [256, 300]);
  const y = mb.tensor(Array.from({ length: 300 * 200 }, (_, i) => Math.cos(i)), [300, 200]);
  const big = mb.matmul(x, y).data();
  let sum = 0;
  for (let i = 0; i < big.length; i++) sum += big[i] * ((i % 7) + 1);
  return { loss: loss.item(), grad: Array.from(a.grad!.data()), sum };
}

// `?threads=N` asks for N threads; the page reports what it got, or the error it met.
const page = `<!doctype html><script type="module">
import * as mb from '/dist/index.js';
try {
  const threads = new URLSearchParams(location.search).get('threads');
  await mb.init(threads ? { threads: Number(threads) } : {});
  window.result = { build: mb.engine().build, threads: mb.engine().threads, isolated: crossOriginIsolated,
    ...(${work.toString()})(mb) };
} catch (error) {
  window.result = { error: String(error && error.message || error) };
}
</script>`;

interface PageResult { build?: string; threads?: number; isolated?: boolean; loss?: number; grad?: number[]; sum?: number; error?: string }

describe.runIf(available)('in Chromium', () => {
  let server: Server;
  let port = 0;
  let browser: Browser;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = normalize(decodeURIComponent(url.pathname));
      // /isolated/ serves the page cross-origin isolated (shared memory allowed), / plainly.
      const isolated = path.startsWith('/isolated/');
      const headers = isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
      if (path === '/' || path === '/isolated/') {
        res.writeHead(200, { 'content-type': 'text/html', ...headers }).end(page);
        return;
      }
      const file = join(root, path);
      if (!file.startsWith(root) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...headers }).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function open(path: string): Promise<PageResult> {
    const tab = await browser.newPage();
    try {
      await tab.goto(`http://127.0.0.1:${port}${path}`);
      await tab.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, null, { timeout: 30_000 });
      return await tab.evaluate(() => (window as unknown as { result: PageResult }).result);
    } finally {
      await tab.close();
    }
  }

  /** What Node computes for the page's work, in an engine of the given build. */
  async function expected(build: Build): Promise<{ loss: number; grad: number[]; sum: number }> {
    const previous = useEngine(await createEngine({ build, threads: 1 }));
    try {
      return work(mb);
    } finally {
      useEngine(previous);
    }
  }

  it('a plain page: loads the fastest build by itself, one thread, and computes what Node computes', async () => {
    const result = await open('/');
    expect(result.error).toBeUndefined();
    expect(result.isolated).toBe(false);
    expect(result.threads).toBe(1);
    // Chromium runs relaxed SIMD; Node 20 runs it only behind a flag, so the reference is
    // computed with the SIMD build and the fused multiply-adds may differ in the last bits.
    expect(result.build).toBe('relaxed-simd');
    const want = await expected('simd');
    expect(result.loss).toBeCloseTo(want.loss, 6);
    expect(result.grad!.length).toBe(want.grad.length);
    result.grad!.forEach((g, i) => expect(g).toBeCloseTo(want.grad[i], 6));
    expect(Math.abs(result.sum! - want.sum)).toBeLessThan(1e-4 * Math.abs(want.sum));
  }, 60_000);

  it('a cross-origin-isolated page: 2 worker threads over shared memory, the same results as one thread', async () => {
    const [two, one] = [await open('/isolated/?threads=2'), await open('/isolated/?threads=1')];
    expect(two.error).toBeUndefined();
    expect(two.isolated).toBe(true);
    expect(two.threads).toBe(2);
    expect(one.threads).toBe(1);
    expect(two.sum).toBe(one.sum);
    expect(two.grad).toEqual(one.grad);
  }, 60_000);

  it('a plain page that asks for threads is told how to get them', async () => {
    const result = await open('/?threads=2');
    expect(result.error).toMatch(/needs shared memory.*Cross-Origin-Opener-Policy: same-origin.*or use threads: 1/);
  }, 60_000);
});
