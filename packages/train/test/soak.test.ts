// A soak test: 20,000 training steps of a CNN with dropout, augmentation and BatchNorm, with an
// evaluation every 1,000 steps (each epoch's validation). After warm-up the WebAssembly heap
// does not grow at all, the live tensor bytes come back to the same figure at every
// evaluation, and the JS heap stays within a stated bound. (The pool's workers share the one
// WebAssembly memory measured here and keep no per-step state of their own.)
import { describe, expect, it } from 'vitest';
import { augmentationFromConfig, toBatchTransform } from '@minibatch/augment';
import { engine } from '@minibatch/core';
import { loadMnistSplit, trainTestSplit } from '@minibatch/data';
import { modelFromConfig } from '@minibatch/layers';
import { Adam } from '@minibatch/optimizers';
import { defaultRegistry, fit } from '../src/index.js';

const STEPS = 20_000;
const BATCH = 8;
/** JS heap growth allowed between the 2,000th step and the last (no forced GC: a loose bound). */
const JS_HEAP_GROWTH = 64 * 2 ** 20;

describe('soak', () => {
  it(`${STEPS.toLocaleString('en-US')} steps of a CNN with dropout, augmentation and BatchNorm: memory flat after warm-up`, () => {
    const registry = defaultRegistry();
    const { train: data, test } = loadMnistSplit(); // 8,000 digits: 1,000 steps an epoch
    expect(data.count).toBe(1000 * BATCH);
    const model = modelFromConfig(registry, [
      { name: 'conv2d', config: { filters: 8, kernelSize: 3, padding: 'same', useBias: false } }, { name: 'batchNorm' }, { name: 'relu' }, { name: 'maxPool2d', config: { poolSize: 2 } },
      { name: 'conv2d', config: { filters: 8, kernelSize: 3, padding: 'same' } }, { name: 'relu' }, { name: 'maxPool2d', config: { poolSize: 2 } },
      { name: 'flatten' }, { name: 'dropout', config: { rate: 0.3 } }, { name: 'dense', config: { units: 10 } },
    ]);
    const samples: { step: number; live: number; heap: number; memory: number; js: number }[] = [];
    let step = 0;
    const validation = trainTestSplit(test, { testCount: 500, seed: 3, stratified: true }).test;
    const history = fit(model, data, {
      epochs: STEPS / (data.count / BATCH), batchSize: BATCH, seed: 9, validation, optimizer: new Adam(undefined, { lr: 1e-3 }),
      transform: toBatchTransform(augmentationFromConfig(registry, [{ name: 'translate', config: { x: 0.1, y: 0.1 } }, { name: 'rotate', config: { degrees: 8 } }]), { classes: 10 }),
      callbacks: {
        onBatchEnd: () => void step++,
        // After each epoch's evaluation, i.e. every 1,000 steps.
        onEpochEnd: () => {
          const s = engine().stats();
          samples.push({ step, live: s.liveBytes, heap: s.heapBytes, memory: s.memoryBytes, js: process.memoryUsage().heapUsed });
        },
      },
    });
    model.dispose();
    expect(step).toBe(STEPS);
    expect(samples).toHaveLength(STEPS / 1000);
    const warm = samples[1];
    const last = samples.at(-1)!;
    for (const s of samples.slice(1)) {
      expect(s.live, `live tensor bytes at step ${s.step}`).toBe(warm.live);
      expect(s.heap, `WebAssembly heap at step ${s.step}`).toBe(warm.heap);
      expect(s.memory, `WebAssembly memory at step ${s.step}`).toBe(warm.memory);
    }
    expect(last.js - warm.js).toBeLessThan(JS_HEAP_GROWTH);
    expect(history.epochs.at(-1)!.val_accuracy).toBeGreaterThan(0.9); // a real run, not an idle loop
    console.log(`soak: ${STEPS} steps; WebAssembly heap ${(warm.heap / 2 ** 20).toFixed(1)} MiB from step ${warm.step} to ${last.step} (growth 0); ` +
      `JS heap ${(warm.js / 2 ** 20).toFixed(1)} → ${(last.js / 2 ** 20).toFixed(1)} MiB; validation accuracy ${history.epochs.at(-1)!.val_accuracy}`);
  }, 600_000);
});
