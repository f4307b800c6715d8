// The config's "augment" list (training batches only) and `minibatch augment-preview`.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { loadConfigData } from '@minibatch/train';
import { run } from '../src/index.js';
import { capture, configFile } from './helpers.js';

const small = {
  data: { name: 'mnist', limit: 600 },
  preprocessing: [{ name: 'center', config: { per: 'global' } }],
  model: [{ name: 'flatten' }, { name: 'dense', config: { units: 32, activation: 'relu' } }, { name: 'dense', config: { units: 10 } }],
  optimizer: { name: 'adam', config: { lr: 0.002 } },
  epochs: 2,
  batchSize: 32,
  seed: 3,
};
const pipeline = [
  { name: 'randomCrop', config: { padding: 2 } },
  { name: 'rotate', config: { degrees: 10, p: 0.5 } },
  { name: 'mixup', config: { alpha: 0.2 } },
];

async function train(config: unknown): Promise<Record<string, number>[]> {
  const t = capture();
  expect(await run(['train', await configFile(config), '--json'], t.io), t.err).toBe(0);
  return t.out.trim().split('\n').map((l) => JSON.parse(l));
}

describe('"augment" in a run config', () => {
  it('augments the training batches (mixup soft targets included) and still learns; eval of the saved model agrees', async () => {
    const config = await configFile({ ...small, augment: pipeline });
    const model = join(config, '..', 'model.safetensors');
    const t = capture();
    expect(await run(['train', config, '--json', '--out', model], t.io), t.err).toBe(0);
    const lines = t.out.trim().split('\n').map((l) => JSON.parse(l));
    const plain = await train(small);
    expect(lines[0].loss).not.toBe(plain[0].loss); // the batches were augmented
    expect(lines[1].loss).toBeLessThan(lines[0].loss);
    expect(lines[2].test_accuracy).toBeGreaterThan(0.7);
    const e = capture();
    expect(await run(['eval', model, '--json'], e.io)).toBe(0);
    expect(JSON.parse(e.out).test_accuracy).toBeCloseTo(lines[2].test_accuracy, 10);
  });

  it('never at evaluation: a model trained on fully erased (blank) images is validated on the real ones', async () => {
    // After global standardization a blank image (the mean) is all zeros, and zero inputs give
    // zero gradients to every weight but the output bias: the training loss stays at the class
    // entropy (≈ ln 10). The validation images — not erased — meet the untrained weights and
    // score a far higher loss; were they erased too, it would equal the training loss.
    const erased = await train({
      ...small, preprocessing: [{ name: 'standardize', config: { per: 'global' } }], epochs: 1, data: { name: 'mnist', limit: 600, validation: 0.2 },
      augment: [{ name: 'randomErasing', config: { p: 1, scale: [1, 1], ratio: [1, 1], value: 0 } }],
    });
    expect(Math.abs(erased[0].loss - Math.log(10))).toBeLessThan(0.05);
    expect(erased[0].val_loss).toBeGreaterThan(erased[0].loss + 0.15); // 2.64 vs 2.30 here
  });

  it('names a wrong augmentation and its position; refuses non-image preprocessing (exit 2)', async () => {
    const typo = capture();
    expect(await run(['train', await configFile({ ...small, augment: [{ name: 'flip' }, { name: 'rotat' }] })], typo.io)).toBe(2);
    expect(typo.err).toMatch(/augment\[1\]: unknown augmentation 'rotat' — did you mean 'rotate'\?/);
    const bad = capture();
    expect(await run(['train', await configFile({ ...small, augment: [{ name: 'flip', config: { p: 3 } }] })], bad.io)).toBe(2);
    expect(bad.err).toMatch(/config.json: invalid config for augmentation 'flip' at augment\[0\]\.config:\n  - augment\[0\]\.config\.p: expected a number <= 1, got 3/);
    const flat = capture();
    const pca = { ...small, preprocessing: [{ name: 'pca', config: { components: 20 } }], augment: [{ name: 'flip' }] };
    expect(await run(['train', await configFile(pca)], flat.io)).toBe(2);
    expect(flat.err).toMatch(/need image samples \[height, width, channels\].*\[20\]/);
  });
});

describe('minibatch augment-preview', () => {
  it('writes a PNG grid: originals in the first column, augmented versions after, reproducible by seed', async () => {
    const config = await configFile({ ...small, augment: [{ name: 'randomCrop', config: { padding: 3 } }, { name: 'rotate', config: { degrees: 20 } }] });
    const out = join(config, '..', 'grid.png');
    const t = capture();
    expect(await run(['augment-preview', config, '--out', out, '--count', '3', '--variants', '2', '--scale', '1'], t.io), t.err).toBe(0);
    expect(t.out).toMatch(/wrote .*grid\.png: 3 samples × \(original \+ 2 augmented\), 94×92 pixels/);
    const bytes = await readFile(out);
    const png = decode(bytes);
    expect([png.width, png.height, png.channels, png.depth]).toEqual([94, 92, 1, 8]);
    // The original cells are the first training samples, min–max mapped to 0…255 (global
    // centering is a shift, so the raw pixels map the same way).
    const { train } = loadConfigData({ name: 'mnist', limit: 600, validation: 0, testCount: 2000 }, small.seed);
    const raw = train.x.subarray(0, 3 * 784);
    let [lo, hi] = [Infinity, -Infinity];
    for (const v of raw) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    const cell = (row: number, col: number) => {
      const [top, left] = [2 + row * 30, 2 + col * 30 + (col > 0 ? 2 : 0)];
      return Array.from({ length: 784 }, (_, i) => png.data[(top + Math.floor(i / 28)) * 94 + left + (i % 28)]);
    };
    for (let r = 0; r < 3; r++) {
      const expected = Array.from(raw.subarray(r * 784, (r + 1) * 784), (v) => Math.round(((v - lo) / (hi - lo)) * 255));
      const original = cell(r, 0);
      expect(Math.max(...original.map((v, i) => Math.abs(v - expected[i])))).toBeLessThanOrEqual(1);
      expect(cell(r, 1)).not.toEqual(original);
      expect(cell(r, 2)).not.toEqual(cell(r, 1));
    }
    const again = join(config, '..', 'again.png');
    expect(await run(['augment-preview', config, '--out', again, '--count', '3', '--variants', '2', '--scale', '1'], capture().io)).toBe(0);
    expect((await readFile(again)).equals(bytes)).toBe(true);
    const other = join(config, '..', 'other.png');
    expect(await run(['augment-preview', config, '--out', other, '--count', '3', '--variants', '2', '--scale', '1', '--seed', '9'], capture().io)).toBe(0);
    expect((await readFile(other)).equals(bytes)).toBe(false);
  });

  it('asks for --out, and for an "augment" list', async () => {
    const config = await configFile(small);
    const noOut = capture();
    expect(await run(['augment-preview', config], noOut.io)).toBe(2);
    expect(noOut.err).toMatch(/pass --out grid\.png/);
    const none = capture();
    expect(await run(['augment-preview', config, '--out', join(config, '..', 'x.png')], none.io)).toBe(2);
    expect(none.err).toMatch(/has no "augment" list to preview/);
  });
});
