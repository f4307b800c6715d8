// biasActivation fuses a layer's bias and activation: its values and gradients (x, bias) must
// be those of add then the activation, bit for bit, for every activation it takes, with and
// without a bias, for channel counts with SIMD tails, on 1 and 2 threads; and its gradients
// pass the numeric check.
import { describe, expect, it } from 'vitest';
import * as mb from '../src/index.js';
import { Rng, gradcheck, scope, useEngine, type Engine, type FusedActivation, type Tensor } from '../src/index.js';
import { oneAndTwoThreads } from './engines.js';

const engines = oneAndTwoThreads();

const CASES: [FusedActivation, number, (x: Tensor) => Tensor][] = [
  ['relu', 0, mb.relu],
  ['leakyRelu', 0.1, (x) => mb.leakyRelu(x, 0.1)],
  ['elu', 1, (x) => mb.elu(x, 1)],
  ['sigmoid', 0, mb.sigmoid],
  ['tanh', 0, mb.tanh],
];

/** Output and gradients (x, bias) of Σ w·f, fused or composed, in engine e. */
function run(e: Engine, shape: number[], withBias: boolean, act: FusedActivation, alpha: number, composed: ((x: Tensor) => Tensor) | null): Buffer[] {
  const previous = useEngine(e);
  try {
    return scope(() => {
      const rng = new Rng(shape.reduce((a, b) => a * b, 1));
      const c = shape[shape.length - 1];
      const n = shape.reduce((a, b) => a * b, 1);
      const x = mb.tensor(Float32Array.from({ length: n }, (_, i) => (i % 37 === 0 ? 0 : rng.normal())), shape).setRequiresGrad();
      const bias = withBias ? mb.tensor(Float32Array.from({ length: c }, () => rng.normal()), [c]).setRequiresGrad() : null;
      const w = mb.tensor(Float32Array.from({ length: n }, () => rng.normal()), shape);
      const y = composed === null ? mb.biasActivation(x, bias, act, alpha) : composed(bias === null ? x : mb.add(x, bias));
      mb.sum(mb.mul(y, w)).backward();
      return [y, x.grad!, ...(bias === null ? [] : [bias.grad!])].map((t) => Buffer.from(t.data().buffer));
    });
  } finally {
    useEngine(previous);
  }
}

describe('biasActivation', () => {
  for (const [act, alpha, composed] of CASES) {
    it(`${act}: the values and gradients of add then ${act}, bit for bit, on 1 and 2 threads`, () => {
      for (const shape of [[64, 28, 28, 8], [33, 7], [5, 3, 3, 16], [9, 5, 12], [130]]) {
        for (const withBias of [true, false]) {
          const expected = run(engines.one, shape, withBias, act, alpha, composed);
          const fused = run(engines.one, shape, withBias, act, alpha, null);
          const threaded = run(engines.two, shape, withBias, act, alpha, null);
          expected.forEach((b, i) => {
            expect(fused[i].equals(b), `${act} [${shape}] bias ${withBias}: output ${i}`).toBe(true);
            expect(threaded[i].equals(b), `${act} [${shape}] bias ${withBias}, 2 threads: output ${i}`).toBe(true);
          });
        }
      }
    });
  }

  it('passes the numeric gradient check', () => {
    const rng = new Rng(5);
    for (const [act, alpha] of CASES) {
      scope(() => {
        // x + b kept at least 0.2 from relu's, leakyRelu's and elu's kink at 0.
        const bias = Array.from({ length: 6 }, () => rng.normal());
        const sums = Array.from({ length: 24 }, () => { const v = rng.normal(); return v + Math.sign(v) * 0.2; });
        const x = mb.tensor(sums.map((v, i) => v - bias[i % 6]), [4, 6]).setRequiresGrad();
        const b = mb.tensor(bias, [6]).setRequiresGrad();
        const result = gradcheck((a, c) => mb.biasActivation(a, c, act, alpha), [x, b]);
        expect(result.ok, `${act}: ${JSON.stringify(result.failures)}`).toBe(true);
      });
    }
  });

  it('says what is wrong with its arguments', () => {
    const x = mb.zeros([4, 3]);
    expect(() => mb.biasActivation(x, mb.zeros([2]), 'relu')).toThrow(/the bias must be \[3\] \(the last axis of \[4, 3\]\), got \[2\]/);
    expect(() => mb.biasActivation(x, null, 'leakyRelu', 0)).toThrow(/leakyRelu needs alpha > 0/);
    expect(() => mb.biasActivation(x, null, 'softplus' as FusedActivation)).toThrow(/activation must be one of relu, leakyRelu, elu, sigmoid, tanh, got softplus/);
  });
});
