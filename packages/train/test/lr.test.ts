// Choosing the learning rate: the LR range test and LeCun's 1/λmax, each checked on a problem
// whose answer is known, and both leaving the model as they found it.
import { describe, expect, it } from 'vitest';
import { blobs } from './blobs.js';
import { Rng, tensor } from '@minibatch/core';
import { loadMnistSplit, subset } from '@minibatch/data';
import { layers, losses, modelFromConfig } from '@minibatch/layers';
import { Adam, SGD } from '@minibatch/optimizers';
import { createRegistry } from '@minibatch/registry';
import { fit, largestEigenvalue, lrFind } from '../src/index.js';

const registry = createRegistry().use(layers);


const mlp = () => modelFromConfig(registry, [{ name: 'dense', config: { units: 32, activation: 'relu', seed: 1 } }, { name: 'dense', config: { units: 4, seed: 2 } }]);
const weights = (m: ReturnType<typeof mlp>) => m.parameters().map((p) => Array.from(p.data()));

describe('lrFind (the LR range test)', () => {
  it('sweeps exponentially, stops when the loss diverges, suggests a rate that trains, and restores the model', () => {
    const model = mlp();
    model.build([8], new Rng(1));
    const before = weights(model);
    const found = lrFind(model, blobs(512, 1), { loss: losses.softmaxCrossEntropy(), optimizer: new SGD(), start: 1e-5, end: 100, steps: 150, seed: 2 });
    expect(weights(model)).toEqual(before);
    expect(found.stopped).toBe('diverged');
    expect(found.lrs.length).toBeLessThan(150);
    for (let i = 1; i < found.lrs.length; i++) expect(found.lrs[i] / found.lrs[i - 1]).toBeCloseTo((100 / 1e-5) ** (1 / 149), 6);
    expect(found.steepest).toBeLessThanOrEqual(found.minimum);
    expect(found.suggestion).toBeCloseTo(found.minimum / 10, 12);
    expect(found.suggestion).toBeGreaterThan(1e-3);
    expect(found.suggestion).toBeLessThan(3);
    // The suggestion trains: loss well below ln 4 after two epochs.
    const history = fit(model, blobs(512, 1), { epochs: 2, seed: 3, optimizer: new SGD(undefined, { lr: found.suggestion }) });
    expect(history.epochs[1].loss).toBeLessThan(0.5 * Math.log(4));
    model.dispose();
  });

  it('refuses an empty or negative range, too few steps, and an optimizer that already has parameters', () => {
    const model = mlp();
    const data = blobs(64, 1);
    const loss = losses.softmaxCrossEntropy();
    expect(() => lrFind(model, data, { loss, optimizer: new SGD(), start: 1, end: 1 })).toThrow(/the range is empty: end \(1\) must be above start \(1\)/);
    expect(() => lrFind(model, data, { loss, optimizer: new SGD(), start: -1 })).toThrow(/start must be a positive number, got -1/);
    expect(() => lrFind(model, data, { loss, optimizer: new SGD(), steps: 3 })).toThrow(/steps must be an integer ≥ 10, got 3/);
    model.build([8], new Rng(1));
    expect(() => lrFind(model, data, { loss, optimizer: new SGD(model.parameters()) })).toThrow(/give an optimizer without parameter groups/);
    model.dispose();
  });
});

describe('largestEigenvalue (LeCun: η ≈ 1/λmax)', () => {
  it('finds the known largest eigenvalue of a quadratic within 1%, and puts the weights back', () => {
    // Least squares through a linear layer: L(w) = mean((Xw − y)²), so H = (2/N)·XᵀX exactly.
    const rng = new Rng(3);
    const [n, d] = [200, 12];
    const x = Float32Array.from({ length: n * d }, (_, i) => rng.normal() * (1 + (i % d) / 4));
    const y = Float32Array.from({ length: n }, () => rng.normal());
    const model = modelFromConfig(registry, [{ name: 'dense', config: { units: 1, useBias: false } }]);
    model.build([d], new Rng(1));
    const before = weights(model);
    const run = (curvature: 'gaussNewton' | 'hessian') =>
      largestEigenvalue(model, tensor(x, [n, d]), tensor(y, [n, 1]), losses.meanSquaredError(), { curvature, iterations: 100, tolerance: 1e-7 });
    const result = run('gaussNewton');
    const hessian = run('hessian'); // a linear model: the Gauss-Newton matrix is the Hessian
    // The reference, in float64: power iteration on (2/N)·XᵀX.
    const h = Array.from({ length: d }, (_, a) => Array.from({ length: d }, (_, b) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += x[i * d + a] * x[i * d + b];
      return (2 / n) * s;
    }));
    let v = Array.from({ length: d }, (_, i) => 1 + i);
    let lambda = 0;
    for (let k = 0; k < 500; k++) {
      const hv = h.map((row) => row.reduce((s, e, j) => s + e * v[j], 0));
      const norm = Math.hypot(...hv);
      lambda = hv.reduce((s, e, i) => s + e * v[i], 0) / v.reduce((s, e) => s + e * e, 0);
      v = hv.map((e) => e / norm);
    }
    expect(Math.abs(result.eigenvalue - lambda) / lambda).toBeLessThan(0.01);
    expect(Math.abs(hessian.eigenvalue - lambda) / lambda).toBeLessThan(0.01);
    expect(result.lr).toBeCloseTo(1 / result.eigenvalue, 12);
    expect(result.converged).toBe(true);
    expect(weights(model)).toEqual(before);
    model.dispose();
  });

  it('on the MNIST MLP, SGD at 1/λmax trains', () => {
    const { train } = loadMnistSplit();
    const data = subset(train, Int32Array.from({ length: 2000 }, (_, i) => i));
    const model = modelFromConfig(registry, [
      { name: 'flatten' }, { name: 'dense', config: { units: 64, activation: 'relu' } }, { name: 'dense', config: { units: 10 } },
    ]);
    model.build(data.shape, new Rng(1));
    const batch = subset(data, Int32Array.from({ length: 256 }, (_, i) => i));
    const estimate = (seed: number) => largestEigenvalue(model, tensor(batch.x, [256, 28, 28, 1]), batch.y, losses.softmaxCrossEntropy(), { seed });
    const { eigenvalue, lr, converged } = estimate(0);
    expect(converged).toBe(true);
    expect(eigenvalue).toBeGreaterThan(0);
    // Another random start finds the same eigenvalue (ReLU kinks would not: see EigenOptions.curvature).
    expect(Math.abs(estimate(1).eigenvalue - eigenvalue) / eigenvalue).toBeLessThan(0.02);
    const history = fit(model, data, { epochs: 2, batchSize: 64, seed: 1, optimizer: new SGD(undefined, { lr }) });
    expect(history.epochs[0].loss).toBeLessThan(Math.log(10) * 0.6);
    expect(history.epochs[1].accuracy).toBeGreaterThan(0.85);
    // Adam is not what 1/λ is for, but the sweep's optimizer may be any.
    expect(() => lrFind(model, data, { loss: losses.softmaxCrossEntropy(), optimizer: new Adam(), steps: 20, end: 1e-2 })).not.toThrow();
    expect(() => largestEigenvalue(model, tensor(batch.x, [256, 28, 28, 1]), batch.y, losses.softmaxCrossEntropy(), { curvature: 'exact' as never })).toThrow(/curvature must be 'gaussNewton' or 'hessian'/);
    expect(() => largestEigenvalue(model, tensor(batch.x, [256, 28, 28, 1]), batch.y, losses.softmaxCrossEntropy(), { curvature: 'exact' as never })).toThrow(/curvature must be 'gaussNewton' or 'hessian'/);
    model.dispose();
  });
});
