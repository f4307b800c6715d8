// The demo in a real browser: Debian's Chromium, driven by playwright-core, against the built
// site served by Vite's preview server (cross-origin isolated, and not).
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT, CHROMIUM, DEMO, launch, serve, watch } from './site.js';

const available = existsSync(CHROMIUM) && BUILT;
if (!available) {
  const why = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing: .ci/run installs the Debian package 'chromium'` : 'apps/demo/dist is missing: build it (pnpm --filter demo build)';
  if (process.env.CI === 'true') throw new Error(why);
  console.log(`demo.test: skipped — ${why}`);
}

const ROUTES = ['train', 'race', 'babysit', 'augment', 'finetune'] as const;
/** Where the screenshots go: the README's folder with UPDATE_SCREENSHOTS=1, else a temporary one. */
const SHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(DEMO, 'screenshots') : join(tmpdir(), 'minibatch-demo-screenshots');

describe.runIf(available)('the demo in Chromium', () => {
  let browser: Browser;
  let isolated: { url: string; close: () => Promise<void> };
  let plain: { url: string; close: () => Promise<void> };

  beforeAll(async () => {
    [isolated, plain] = [await serve(true), await serve(false)];
    browser = await launch();
    mkdirSync(SHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await isolated?.close();
    await plain?.close();
  });

  async function open(route: string, options: { base?: string; query?: string; width?: number } = {}): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: options.width ?? 1280, height: 900 } });
    const problems = watch(page);
    await page.goto(`${options.base ?? isolated.url}${options.query ?? ''}#/${route}`);
    return { page, problems };
  }

  /** The engine banner once the worker has started: its build and thread count. */
  async function engineOf(page: Page): Promise<{ build: string; threads: number; text: string }> {
    const banner = page.locator('.banner[data-threads]');
    await banner.waitFor({ timeout: 30_000 });
    return { build: (await banner.getAttribute('data-build'))!, threads: Number(await banner.getAttribute('data-threads')), text: await banner.innerText() };
  }

  const status = (page: Page) => page.locator('#train-status');
  async function stepOf(page: Page): Promise<number> {
    return Number(await status(page).getAttribute('data-step'));
  }

  it('every page loads with no console error and no failed request, and fits a phone', async () => {
    for (const route of ROUTES) {
      const { page, problems } = await open(route);
      await engineOf(page);
      if (route === 'finetune') await page.locator('#finetune-backbone[data-ready="true"]').waitFor({ timeout: 60_000 });
      if (route === 'race') await page.locator('#surface-table').waitFor({ timeout: 30_000 });
      if (route === 'augment') await page.locator('#aug-pipeline[data-key^="["]').waitFor({ timeout: 30_000 });
      expect(problems, route).toEqual([]);
      await page.setViewportSize({ width: 375, height: 800 });
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${route} at 375 px`).toBeLessThanOrEqual(0);
      await page.close();
    }
  }, 180_000);

  it('trains the MLP to ≥ 90% validation accuracy within 400 steps, updating the curves and the predictions as it goes; the drawing gets probabilities that sum to 1', async () => {
    const { page, problems } = await open('train');
    const engine = await engineOf(page);
    expect(engine.threads).toBeGreaterThan(1); // cross-origin isolated: the worker pool runs
    expect(engine.text).toMatch(/cross-origin isolated/);
    await page.fill('#epochs', '20'); // long enough to watch it change
    // Keyboard: tab to Start and press Enter.
    await page.locator('#start:not([disabled])').waitFor();
    for (let i = 0; i < 30 && !(await page.evaluate(() => document.activeElement?.id === 'start')); i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.locator('#train-status[data-status="running"]').waitFor({ timeout: 30_000 });
    // The grid shows predictions, and they and the curves change while it trains.
    await page.locator('.grid figcaption:has-text("%")').first().waitFor({ timeout: 30_000 });
    const firstVal = await status(page).getAttribute('data-val-accuracy');
    const firstShot = await page.locator('.chart canvas').first().screenshot();
    await page.waitForFunction((v) => document.querySelector('#train-status')?.getAttribute('data-val-accuracy') !== v, firstVal, { timeout: 30_000 });
    expect((await page.locator('.chart canvas').first().screenshot()).equals(firstShot)).toBe(false);
    await page.waitForFunction(() => Number(document.querySelector('#train-status')?.getAttribute('data-val-accuracy') || 0) >= 0.9, null, { timeout: 120_000 });
    expect(await stepOf(page)).toBeLessThanOrEqual(400 + 200); // reported after at most one more slice of steps
    const reachedAt = Number(await status(page).getAttribute('data-step'));
    expect(reachedAt).toBeGreaterThan(0);
    await page.click('#pause');
    await page.locator('#train-status[data-status="paused"]').waitFor();

    // Draw a "1", then turn it into a "0": probabilities that sum to 1, and that change.
    const pad = page.locator('.drawpad canvas');
    const box = (await pad.boundingBox())!;
    const stroke = async (points: [number, number][]) => {
      await page.mouse.move(box.x + points[0][0] * box.width, box.y + points[0][1] * box.height);
      await page.mouse.down();
      for (const [x, y] of points.slice(1)) await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 4 });
      await page.mouse.up();
    };
    const probabilities = async () => page.locator('.probs meter').evaluateAll((ms) => ms.map((m) => (m as HTMLMeterElement).value));
    await stroke([[0.5, 0.15], [0.5, 0.85]]);
    await page.waitForFunction(() => document.querySelector('.probs li.best') !== null, null, { timeout: 10_000 });
    const one = await probabilities();
    expect(one.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    const circle = Array.from({ length: 25 }, (_, i) => [0.5 + 0.3 * Math.sin((i / 24) * 2 * Math.PI), 0.5 - 0.35 * Math.cos((i / 24) * 2 * Math.PI)] as [number, number]);
    await stroke(circle);
    await page.waitForFunction((before) => {
      const now = Array.from(document.querySelectorAll('.probs meter')).map((m) => (m as HTMLMeterElement).value);
      return now.some((v, i) => Math.abs(v - before[i]) > 1e-3);
    }, one, { timeout: 10_000 });
    const zero = await probabilities();
    expect(zero.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    await page.screenshot({ path: join(SHOTS, 'train.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 240_000);

  it('without cross-origin isolation it trains on one thread, and says so', async () => {
    const { page, problems } = await open('train', { base: plain.url });
    const engine = await engineOf(page);
    expect(engine.threads).toBe(1);
    expect(engine.text).toMatch(/not cross-origin isolated.*one thread/);
    await page.click('#start');
    await page.waitForFunction(() => Number(document.querySelector('#train-status')?.getAttribute('data-step')) > 20, null, { timeout: 60_000 });
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it('with the scalar build (as in a browser without WebAssembly SIMD) it says so and still trains', async () => {
    const { page, problems } = await open('train', { query: '?build=scalar' });
    const engine = await engineOf(page);
    expect(engine.build).toBe('scalar');
    expect(engine.text).toMatch(/no WebAssembly SIMD/);
    await page.click('#start');
    await page.waitForFunction(() => Number(document.querySelector('#train-status')?.getAttribute('data-step')) > 10, null, { timeout: 60_000 });
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it('a number out of range is said inline and training does not start', async () => {
    const { page } = await open('train');
    await engineOf(page);
    await page.fill('#lr', '50');
    await page.fill('#batch', '0.5');
    await expect.poll(() => page.locator('#lr-error').innerText()).toMatch(/learning rate must be between 1e-6 and 10; got 50/);
    expect(await page.locator('#batch-error').innerText()).toMatch(/batch size: a whole number/);
    expect(await page.locator('#start').isDisabled()).toBe(true);
    await page.keyboard.press('Enter');
    expect(await status(page).getAttribute('data-status')).toBe('idle');
    await page.close();
  }, 60_000);

  it('a worker that crashes is reported, and Reset gives a working one', async () => {
    const { page } = await open('train');
    await engineOf(page);
    const [worker] = page.workers();
    await worker.evaluate(() => setTimeout(() => {
      throw new Error('simulated crash');
    }));
    await page.locator('.banner.failure').waitFor({ timeout: 10_000 });
    expect(await page.locator('.banner.failure').innerText()).toMatch(/the training worker crashed: .*simulated crash/);
    await page.click('.banner.failure button');
    await engineOf(page);
    await page.click('#start');
    await page.waitForFunction(() => Number(document.querySelector('#train-status')?.getAttribute('data-step')) > 10, null, { timeout: 60_000 });
    await page.close();
  }, 120_000);

  it('the optimizer race runs every optimizer, and draws each one’s path on the test functions', async () => {
    const { page, problems } = await open('race');
    await engineOf(page);
    await page.fill('#race-steps', '30');
    await page.click('#race-start');
    await page.locator('#race-table[data-state="done"]').waitFor({ timeout: 120_000 });
    const steps = await page.locator('#race-table tr[data-racer]').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-racer'), Number(r.getAttribute('data-steps'))]));
    expect(steps).toEqual(['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam', 'lbfgs'].map((r) => [r, 30]));
    for (const surface of ['rosenbrock', 'saddle', 'ravine']) {
      await page.selectOption('#surface', surface);
      await page.locator(`#surface-table[data-surface="${surface}"]`).waitFor({ timeout: 30_000 });
      expect(await page.locator('#surface-table tr[data-racer]').count()).toBe(7);
    }
    await page.screenshot({ path: join(SHOTS, 'race.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 180_000);

  it('augmentation controls change the preview', async () => {
    const { page, problems } = await open('augment');
    await engineOf(page);
    const pipeline = page.locator('#aug-pipeline');
    await page.locator('#aug-pipeline[data-key^="["]').waitFor({ timeout: 30_000 });
    const augmented = () => page.locator('[aria-label="augmented images"] canvas').evaluateAll((cs) => cs.map((c) => (c as HTMLCanvasElement).toDataURL()).join());
    const before = await augmented();
    const key = await pipeline.getAttribute('data-key');
    await page.check('#aug-cutout');
    await page.waitForFunction((k) => document.querySelector('#aug-pipeline')?.getAttribute('data-key') !== k, key, { timeout: 30_000 });
    expect(await pipeline.innerText()).toMatch(/rotate → translate → cutout/);
    await expect.poll(augmented).not.toBe(before);
    await page.fill('#aug-rotate-value', '500');
    expect(await page.locator('#aug-rotate-value-error').innerText()).toMatch(/between 0 and 180/);
    await page.fill('#aug-rotate-value', '30');
    await page.screenshot({ path: join(SHOTS, 'augment.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);

  it('babysitting: the monitors run and diagnose a learning rate far too high, and the init experiment shows vanishing activations', async () => {
    const { page, problems } = await open('babysit');
    await engineOf(page);
    await page.fill('#bs-lr', '3');
    await page.click('#babysit-start');
    await page.waitForFunction(() => /too high|became (NaN|Infinity)|never fire/.test(document.querySelector('#babysit-diagnoses')?.textContent ?? ''), null, { timeout: 60_000 });
    await page.locator('#babysit-layers .histogram').first().waitFor();
    await page.selectOption('#init-activation', 'tanh');
    await page.selectOption('#init-init', 'gaussian');
    await page.click('#init-run');
    await page.waitForFunction(() => /vanished/.test(document.querySelector('#init-diagnoses')?.textContent ?? ''), null, { timeout: 30_000 });
    expect(await page.locator('#init-layers .histogram').count()).toBe(10);
    await page.selectOption('#init-init', 'xavierNormal');
    await page.click('#init-run');
    await page.locator('#init-diagnoses[data-count="0"]').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(SHOTS, 'babysit.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it('fine-tune: a new head on MobileNetV2 learns two classes from a few pictures; a file that is not an image is refused', async () => {
    const { page, problems } = await open('finetune');
    await engineOf(page);
    await page.locator('#finetune-backbone[data-ready="true"]').waitFor({ timeout: 90_000 });
    // Two kinds of picture: red discs on dark, and blue stripes on light, with noise.
    const picture = (kind: 0 | 1, seed: number) => {
      const w = 64;
      const data = new Uint8Array(w * w * 3);
      let s = seed * 7919 + 1;
      const noise = () => ((s = (s * 48271) % 2147483647) / 2147483647) * 60;
      for (let y = 0; y < w; y++) {
        for (let x = 0; x < w; x++) {
          const i = (y * w + x) * 3;
          const on = kind === 0 ? (x - 32) ** 2 + (y - 32) ** 2 < (14 + seed) ** 2 : Math.floor((x + seed) / 6) % 2 === 0;
          const [r, g, b] = kind === 0 ? (on ? [220, 30, 30] : [20, 20, 30]) : (on ? [30, 60, 220] : [230, 230, 230]);
          data[i] = Math.min(255, r + noise());
          data[i + 1] = Math.min(255, g + noise());
          data[i + 2] = Math.min(255, b + noise());
        }
      }
      return { name: `${kind}-${seed}.png`, mimeType: 'image/png', buffer: Buffer.from(encode({ width: w, height: w, data, channels: 3 })) };
    };
    await page.setInputFiles('#finetune-files-0', [1, 2, 3, 4].map((s) => picture(0, s)));
    await page.locator('[data-class="0"][data-count="4"]').waitFor({ timeout: 30_000 });
    await page.setInputFiles('#finetune-files-1', [...[1, 2, 3, 4].map((s) => picture(1, s)), { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') }]);
    await page.locator('[data-class="1"][data-count="4"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('#finetune-message').innerText()).toMatch(/Not added — not images: notes\.txt \(text\/plain\)/);
    await page.click('#finetune-train');
    await page.locator('#finetune-result').waitFor({ timeout: 120_000 });
    expect(Number(await page.locator('#finetune-result').getAttribute('data-accuracy'))).toBe(1);
    for (const kind of [0, 1] as const) {
      await page.setInputFiles('#finetune-test', [picture(kind, 9)]);
      await page.waitForFunction((k) => document.querySelector(`.probs li.best`)?.getAttribute('data-class') === String(k), kind, { timeout: 30_000 });
    }
    const probs = await page.locator('.probs meter').evaluateAll((ms) => ms.map((m) => (m as HTMLMeterElement).value));
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    await page.screenshot({ path: join(SHOTS, 'finetune.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 240_000);
});
