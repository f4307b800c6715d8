// The augmentation preview: a batch of training images through the page's pipeline — specs of
// @minibatch/augment by registry name, exactly as a run config's "augment" list — with a new
// draw per seed.
import { scope, tensor } from '@minibatch/core';
import { augment, augmentationFromConfig } from '@minibatch/augment';
import { defaultRegistry } from '@minibatch/train';
import { loadData } from './data.js';

export async function augmentPreview(options: { dataset: string; specs: unknown[]; count: number; seed: number }): Promise<Record<string, unknown>> {
  const { train } = await loadData(options.dataset);
  const [h, w, c] = train.shape;
  const n = Math.min(options.count, train.count);
  const originals = train.x.slice(0, n * h * w * c);
  if (options.specs.length === 0) return { originals, augmented: originals, count: n, h, w };
  const pipeline = augmentationFromConfig(defaultRegistry(), options.specs);
  pipeline.fit?.({ x: train.x, shape: train.shape });
  const augmented = scope(() => {
    const out = augment(pipeline, tensor(originals, [n, h, w, c]), { seed: options.seed, labels: train.y.subarray(0, n), classes: train.classes }).x;
    if (out.shape[1] !== h || out.shape[2] !== w) throw new Error(`the pipeline changes the image size to ${out.shape[1]}×${out.shape[2]}; the preview shows ${h}×${w} images`);
    return out.data().slice();
  });
  return { originals, augmented, count: n, h, w };
}
