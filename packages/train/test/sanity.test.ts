// The sanity checks on runs made from configs: a sound one passes; a model whose every ReLU
// sits exactly at its kink is named as non-differentiable; the run is left as it was.
import { describe, expect, it } from 'vitest';
import { experiment, sanityChecks, type Check } from '../src/index.js';

const base = {
  data: { name: 'mnist', limit: 300 },
  preprocessing: [{ name: 'center', config: { per: 'feature' } }],
  model: [{ name: 'flatten' }, { name: 'dense', config: { units: 16, activation: 'tanh' } }, { name: 'dense', config: { units: 10 } }],
  optimizer: { name: 'adam', config: { lr: 0.003 } },
  batchSize: 32,
  seed: 1,
};

const checks = (config: object) => {
  const run = experiment(config);
  const before = run.model.parameters().map((p) => Array.from(p.data()));
  const out = sanityChecks(run, { sweepSteps: 30 }).filter((r): r is Check => r.kind === 'check');
  expect(run.model.parameters().map((p) => Array.from(p.data()))).toEqual(before);
  run.dispose();
  return Object.fromEntries(out.map((c) => [c.name, c]));
};

describe('sanityChecks', () => {
  it('a smooth model passes every check and is left as it was', () => {
    const found = checks(base);
    expect(found['initial loss'].status).toBe('PASS');
    expect(found['penalty raises the loss']).toMatchObject({ status: 'PASS', figure: expect.stringMatching(/an L2 penalty of 1e-3/) });
    expect(found['gradient check'].status).toBe('PASS');
    expect(found['overfit 20 samples'].status).toBe('PASS');
    expect(found['learning rate'].figure).toMatch(/configured 0\.003, range test suggests/);
  });

  it('every ReLU at its kink (zero weights and biases): the gradient check names the non-differentiable layer', () => {
    const zero = { name: 'zeros' };
    const found = checks({
      ...base,
      model: [{ name: 'flatten' }, { name: 'dense', config: { units: 16, activation: 'relu', kernelInitializer: zero } }, { name: 'dense', config: { units: 10 } }],
    });
    expect(found['gradient check'].status).not.toBe('PASS');
    expect(found['gradient check'].message).toMatch(/non-differentiable points \(relu\).*check a smooth variant/);
  });
});
