// `pnpm bench:browser`: the browser training benchmark. Serves the built demo (cross-origin
// isolated), opens bench.html in Debian's Chromium, and prints its records — MLP training
// samples/s with minibatch on 1 and all threads and with TF.js-wasm on 1 thread, in the same
// page — as a table, or with --json one shared-format record per line. Also the demo's first
// contentful paint from the local server.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { preview } from 'vite';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('.', import.meta.url));
const json = process.argv.includes('--json');

if (!existsSync(CHROMIUM)) {
  console.error(`bench:browser: ${CHROMIUM} is missing — apt-get install chromium`);
  process.exit(2);
}
if (!existsSync(`${root}dist/bench.html`)) {
  console.error('bench:browser: the demo is not built — pnpm --filter demo build');
  process.exit(2);
}

const server = await preview({ root, logLevel: 'silent', preview: { port: 0, host: '127.0.0.1' } });
const url = `http://127.0.0.1:${server.httpServer.address().port}/`;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${url}bench.html`);
  await page.waitForFunction(() => window.benchRecords !== undefined, null, { timeout: 300_000 });
  const records = await page.evaluate(() => window.benchRecords);

  // First contentful paint of the demo's main page, median of 5 fresh loads.
  const paints = [];
  for (let i = 0; i < 5; i++) {
    const tab = await browser.newPage();
    await tab.goto(url);
    await tab.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0);
    paints.push(await tab.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0].startTime));
    await tab.close();
  }
  paints.sort((a, b) => a - b);
  const round = (v) => Number(v.toPrecision(4));
  records.push({ bench: 'browser', case: 'first-paint', system: 'demo', metric: 'ms', value: round(paints[2]), min: round(paints[0]), max: round(paints[4]), runs: 5 });

  if (json) {
    for (const r of records) console.log(JSON.stringify(r));
  } else {
    console.log('browser — MLP 784-256-128-10 training, batch 64, Adam, in Chromium (samples per s, median [min–max] of 5 windows of 25 steps)');
    for (const r of records.filter((r) => r.case === 'mlp')) {
      console.log(r.metric === 'error' ? `${r.system.padEnd(24)}   —   ${r.note}` : `${r.system.padEnd(24)} ${String(r.value).padStart(8)}  [${r.min}–${r.max}]   ${r.note ?? ''}`);
    }
    const get = (s) => records.find((r) => r.system === s && r.metric === 'samples_per_s')?.value;
    const peer = get('tfjs-wasm-browser-1t');
    console.log('\nratio (medians, same page)');
    for (const s of records.filter((r) => r.case === 'mlp' && r.metric === 'samples_per_s' && r.system.startsWith('minibatch'))) {
      console.log(`${s.system} ÷ tfjs-wasm-browser-1t   ${peer ? `${(s.value / peer).toFixed(2)}×` : '— (TF.js did not run)'}`);
    }
    const fcp = records.find((r) => r.case === 'first-paint');
    console.log(`\nfirst contentful paint of the demo from a local server: ${fcp.value} ms median [${fcp.min}–${fcp.max}] of 5 loads (target < 1000 ms)`);
  }
  if (records.some((r) => r.metric === 'error' && r.system.startsWith('minibatch-browser-1t'))) process.exitCode = 1;
} finally {
  await browser.close();
  await server.close();
}
