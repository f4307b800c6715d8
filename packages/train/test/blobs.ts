// Shared by the train tests: four Gaussian blobs in 8-D, linearly separable, so a small MLP
// learns them in a few epochs; `scale` multiplies the inputs (unnormalized data).
import { Rng } from '@minibatch/core';
import { createDataset, type Dataset } from '@minibatch/data';

export function blobs(count: number, seed: number, scale = 1): Dataset {
  const rng = new Rng(seed);
  const x = new Float32Array(count * 8);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    y[i] = i % 4;
    for (let d = 0; d < 8; d++) x[i * 8 + d] = scale * ((d === y[i] ? 2 : 0) + rng.normal());
  }
  return createDataset(x, y, [8], { classes: 4 });
}
