// Data checked before training: a data set that cannot train the model is refused before the
// first step, naming the data set and the sample, rather than "training" to a NaN loss or
// failing inside a kernel halfway through an epoch.
import { DataError, type Dataset } from '@minibatch/data';
import type { Module } from '@minibatch/layers';

/**
 * Checks `data` against `model`: samples present, one label per sample, labels within the
 * model's outputs (for a model with a vector output), every input finite. `role` names the
 * data in messages ('training data', 'validation data').
 */
export function checkDataset(model: Module, data: Dataset, role: string): void {
  const what = `${role}${data.name !== undefined ? ` (${data.name})` : ''}`;
  const size = data.shape.reduce((a, b) => a * b, 1);
  if (!(data.count > 0) || data.x.length === 0) throw new DataError('mismatch', `${what} is empty: no samples to train or test on`);
  if (data.y.length !== data.count || data.x.length !== data.count * size) {
    throw new DataError('mismatch', `${what}: ${data.count} samples of shape [${data.shape.join(', ')}] need ${data.count * size} values and ${data.count} labels; got ${data.x.length} values and ${data.y.length} labels`);
  }
  const out = model.outputShape(data.shape);
  const outputs = out.length === 1 ? out[0] : null;
  if (outputs !== null) {
    // One output is a binary model (labels 0 and 1); otherwise a label indexes an output.
    const limit = outputs === 1 ? 2 : outputs;
    for (let i = 0; i < data.y.length; i++) {
      const label = data.y[i];
      if (!(label >= 0 && label < limit)) {
        throw new DataError('mismatch', `${what}: sample ${i} has label ${label}, but the model has ${outputs} output${outputs === 1 ? '' : 's'} (labels 0…${limit - 1}); give the last layer as many units as there are classes (${data.classes})`);
      }
    }
  }
  const x = data.x;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new DataError('bad-format', `${what}: sample ${Math.floor(i / size)} has ${x[i]} at value ${i % size}; inputs must be finite numbers (remove or repair the sample)`);
    }
  }
}
