// The core in a real browser: headless Chromium loads dist/ as native ES modules from a
// local server, so the loader must find and stream-compile build/*.wasm by itself
// (new URL(…, import.meta.url) + fetch), pick the SIMD build, and compute what Node computes.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matmul, softmaxCrossEntropy, tensor } from '../src/index.js';

const CHROMIUM = '/usr/bin/chromium';
const root = new URL('..', import.meta.url).pathname;
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs the Debian package 'chromium'`);
  console.log(`browser.test: skipped — ${CHROMIUM} not found (sudo apt-get install chromium)`);
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

const page = `<!doctype html><script type="module">
import { init, tensor, matmul, softmaxCrossEntropy, engine } from '/dist/index.js';
try {
  await init();
  const a = tensor([[1, 2, 3], [4, 5, 6]]).setRequiresGrad();
  const b = tensor([[1, 0], [0, 1], [1, 1]]);
  const loss = softmaxCrossEntropy(matmul(a, b), [1, 0]);
  loss.backward();
  window.result = { build: engine().build, loss: loss.item(), grad: Array.from(a.grad.data()) };
} catch (error) {
  window.result = { error: String(error && error.stack || error) };
}
</script>`;

describe.runIf(available)('in Chromium', () => {
  let server: Server;
  let port = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
      if (path === '/') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(page);
        return;
      }
      const file = join(root, path);
      if (!file.startsWith(root) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('loads the SIMD build by itself and computes what Node computes', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    try {
      const tab = await browser.newPage();
      await tab.goto(`http://127.0.0.1:${port}/`);
      await tab.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, null, { timeout: 30_000 });
      const result = await tab.evaluate(() => (window as unknown as { result: { build?: string; loss?: number; grad?: number[]; error?: string } }).result);
      expect(result.error).toBeUndefined();
      expect(result.build).toBe('simd');
      const a = tensor([[1, 2, 3], [4, 5, 6]]).setRequiresGrad();
      const loss = softmaxCrossEntropy(matmul(a, tensor([[1, 0], [0, 1], [1, 1]])), [1, 0]);
      loss.backward();
      expect(result.loss).toBe(loss.item());
      expect(result.grad).toEqual(Array.from(a.grad!.data()));
    } finally {
      await browser.close();
    }
  }, 60_000);
});
