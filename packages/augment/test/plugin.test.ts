// Registry and JSON round trips, PCA lighting fitted on data, the DataLoader hook, and
// memory that stays flat over many augmented batches.
import { Rng, engine, scope, tensor } from '@minibatch/core';
import { DataLoader, createDataset } from '@minibatch/data';
import { createRegistry } from '@minibatch/registry';
import { describe, expect, it } from 'vitest';
import {
  augment, augmentationFromConfig, augmentations, colorJitter, compose, fitPcaLighting, flip, mixup, pcaLighting, randomApply,
  randomChoice, randomCrop, randomErasing, symmetricEigen, toBatchTransform, type Augmentation,
} from '../src/index.js';
import { maxAbsDiff, randomImages, same, samples } from './helpers.js';

const registry = createRegistry().use(augmentations);
const REQUIRED: Record<string, Record<string, unknown>> = {
  centerCrop: { size: 6 },
  randomResizedCrop: { size: 6 },
  compose: { transforms: [{ name: 'flip' }] },
  randomChoice: { transforms: [{ name: 'flip' }, { name: 'rotate' }] },
  randomApply: { transforms: [{ name: 'flip' }] },
  pcaLighting: { eigenvalues: [1, 0.1, 0.01], eigenvectors: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] },
};

describe('the registry plugin', () => {
  it('every augmentation is registered, builds from defaults, and round-trips through JSON to the same outputs', () => {
    const names = registry.list('augmentation');
    expect(names).toEqual([
      'affine', 'centerCrop', 'colorJitter', 'compose', 'cutmix', 'cutout', 'flip', 'gaussianBlur', 'gaussianNoise', 'grayscale', 'mixup',
      'pcaLighting', 'randomApply', 'randomChoice', 'randomCrop', 'randomErasing', 'randomResizedCrop', 'rotate', 'saltAndPepper',
      'translate', 'zoom',
    ]);
    scope(() => {
      const x = randomImages([8, 8, 8, 3], 1);
      const labels = [0, 1, 2, 3, 0, 1, 2, 3];
      for (const name of names) {
        const t = registry.create<Augmentation>('augmentation', name, REQUIRED[name] ?? {});
        expect(t.name).toBe(name);
        const json = JSON.stringify(registry.serialize(t));
        const again = registry.fromJSON<Augmentation>(JSON.parse(json));
        expect(JSON.stringify(registry.serialize(again))).toBe(json);
        const [a, b] = [t, again].map((tr) => augment(tr, x, { seed: 5, labels, classes: 4 }));
        expect(same(a.x.data(), b.x.data()), name).toBe(true);
        expect(a.x.shape).toEqual(name === 'centerCrop' || name === 'randomResizedCrop' ? [8, 6, 6, 3] : [8, 8, 8, 3]);
      }
    });
  });

  it('pipelines from configs, and errors that name the field or suggest the name', () => {
    const pipeline = augmentationFromConfig(registry, [
      { name: 'randomCrop', config: { padding: 4, mode: 'reflect' } },
      { name: 'flip' },
      { name: 'randomApply', config: { p: 0.3, transforms: [{ name: 'colorJitter', config: { brightness: 0.1 } }] } },
    ]);
    expect(registry.serialize(pipeline)).toEqual({
      kind: 'augmentation', name: 'compose', config: { transforms: [
        { kind: 'augmentation', name: 'randomCrop', config: { padding: 4, mode: 'reflect', fill: 0, p: 1 } },
        { kind: 'augmentation', name: 'flip', config: { horizontal: true, vertical: false, p: 0.5 } },
        { kind: 'augmentation', name: 'randomApply', config: { p: 0.3, transforms: [
          { kind: 'augmentation', name: 'colorJitter', config: { brightness: 0.1, contrast: 0, saturation: 0, hue: 0, p: 1, clip: null } },
        ] } },
      ] },
    });
    expect(() => augmentationFromConfig(registry, [{ name: 'flp' }])).toThrow(/unknown augmentation 'flp' — did you mean 'flip'\?/);
    expect(() => augmentationFromConfig(registry, [{ name: 'randomCrop', config: { mode: 'mirror' } }])).toThrow(/mode/);
    expect(() => registry.create('augmentation', 'colorJitter', { hue: 0.7 })).toThrow(/hue/);
    expect(() => registry.create('augmentation', 'gaussianBlur', { kernelSize: 4 })).toThrow(/kernelSize must be odd/);
    expect(() => randomChoice([flip()], [-1])).toThrow(/weights/);
    expect(() => randomApply(1.5, flip())).toThrow(/p must be a probability/);
    // A transform that changes the size cannot run on a subset.
    scope(() => {
      const x = randomImages([4, 8, 8, 1], 2);
      expect(() => augment(randomApply(0.5, randomCrop({ size: 6, padding: 0 })), x, { seed: 1 })).toThrow(/changed the image shape/);
    });
  });
});

describe('PCA lighting', () => {
  it('the Jacobi eigen-decomposition recovers a known basis', () => {
    // M = Q·diag(5, 2, 0.5)·Qᵀ for an orthonormal Q.
    const q = [[2 / 3, 1 / 3, 2 / 3], [-2 / 3, 2 / 3, 1 / 3], [1 / 3, 2 / 3, -2 / 3]];
    const d = [5, 2, 0.5];
    const m: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) m.push(d.reduce((s, dk, k) => s + q[k][i] * dk * q[k][j], 0));
    const { eigenvalues, eigenvectors } = symmetricEigen(m, 3);
    expect(maxAbsDiff(eigenvalues, d)).toBeLessThan(1e-12);
    eigenvectors.forEach((v, k) => expect(Math.abs(v.reduce((s, vi, i) => s + vi * q[k][i], 0))).toBeCloseTo(1, 12));
  });

  it('fits the color covariance of a data set and adds Σ αᵢλᵢeᵢ per sample (along the main component here)', () => {
    scope(() => {
      // Pixels vary along (1, 2, 2)/3 only, plus tiny noise.
      const rng = new Rng(3);
      const [n, h, w] = [20, 8, 8];
      const v = new Float32Array(n * h * w * 3);
      for (let p = 0; p < n * h * w; p++) {
        const t = rng.normal();
        for (let k = 0; k < 3; k++) v[p * 3 + k] = (t * [1, 2, 2][k]) / 3 + 1e-3 * rng.normal();
      }
      const basis = fitPcaLighting({ x: v, shape: [h, w, 3] });
      expect(basis.eigenvalues[0]).toBeCloseTo(1, 1);
      expect(basis.eigenvalues[1]).toBeLessThan(1e-4);
      expect(Math.abs(basis.eigenvectors[0][0] * 1 + basis.eigenvectors[0][1] * 2 + basis.eigenvectors[0][2] * 2) / 3).toBeCloseTo(1, 4);
      // An unfitted transform refuses to run, compose.fit() fits it, and the shift is along e₀.
      const x = tensor(v, [n, h, w, 3]);
      const lighting = pcaLighting({ std: 0.5 });
      expect(() => augment(lighting, x)).toThrow(/not fitted/);
      const pipeline = compose([flip({ p: 0 }), lighting]);
      pipeline.fit({ x: v, shape: [h, w, 3] });
      expect(lighting.getConfig().eigenvalues).toHaveLength(3);
      const out = samples(augment(pipeline, x, { seed: 4 }).x);
      samples(x).forEach((img, b) => {
        const shift = [0, 1, 2].map((k) => out[b][k] - img[k]);
        const along = (shift[0] + 2 * shift[1] + 2 * shift[2]) / 3;
        expect(maxAbsDiff(shift, [along / 3, (2 * along) / 3, (2 * along) / 3])).toBeLessThan(1e-4);
      });
    });
  });
});

describe('with a DataLoader', () => {
  it('the transform hook augments training batches, makes soft targets, and is the same on every read', () => {
    const n = 40;
    const rng = new Rng(5);
    const data = createDataset(Float32Array.from({ length: n * 6 * 6 }, () => rng.uniform()), Int32Array.from({ length: n }, (_, i) => i % 4), [6, 6, 1]);
    const transform = toBatchTransform(compose([randomCrop({ padding: 1 }), flip(), randomErasing({ p: 1 }), mixup({ alpha: 1 })]), { classes: 4 });
    const loader = new DataLoader(data, { batchSize: 16, seed: 7, transform });
    const plain = new DataLoader(data, { batchSize: 16, seed: 7 });
    const [aug, raw] = [[...loader.batches(0)], [...plain.batches(0)]].map((bs) => bs.length);
    expect(aug).toBe(raw);
    for (const batch of loader.batches(0)) {
      scope(() => {
        const x = batch.x.data();
        expect(same(x, batch.data)).toBe(false);
        expect(batch.targets!.shape).toEqual([batch.size, 4]);
        batch.dispose();
        expect(same(batch.x.data(), x)).toBe(true); // re-created from the same per-batch seed
      });
    }
  });
});

describe('memory', () => {
  it('stays flat over many augmented batches', () => {
    const pipeline = compose([randomCrop({ padding: 4, mode: 'reflect' }), flip(), colorJitter({ brightness: 0.2, contrast: 0.2 }), randomErasing(), mixup()]);
    const data = randomImages([32, 16, 16, 3], 6);
    const labels = Array.from({ length: 32 }, (_, i) => i % 10);
    const step = (seed: number) => scope(() => {
      const { x, targets } = augment(pipeline, data, { seed, labels, classes: 10 });
      return x.size + targets!.size;
    });
    for (let i = 0; i < 5; i++) step(i);
    const before = engine().stats();
    for (let i = 0; i < 300; i++) step(i);
    const after = engine().stats();
    expect(after.liveBlocks).toBe(before.liveBlocks);
    expect(after.liveBytes).toBe(before.liveBytes);
    // The heap only grows when a new size class first appears (the number of erased
    // rectangles varies per batch, so do the sizes of their parameter lists): a few KiB at most.
    expect(after.heapBytes - before.heapBytes).toBeLessThan(16 * 1024);
    data.dispose();
  });
});
