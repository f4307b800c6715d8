// Hyper-parameters are validated where they enter, and the error names the bad value.
import { ArgumentError, tensor } from '@minibatch/core';
import { describe, expect, it } from 'vitest';
import {
  Adagrad, Adam, AdamW, HyperParameterError, LBFGS, Optimizer, RMSprop, SGD, chain, clipByGlobalNorm, clipByValue, cosine,
  cyclic, multiStep, oneCycle, scaleByAdam, scaleByLearningRate, stepDecay, trace,
} from '../src/index.js';
import { param, quadratic, train } from './helpers.js';

describe('optimizer hyper-parameters', () => {
  const x = param([1, 2]);

  it('a negative learning rate', () => {
    expect(() => new SGD([x], { lr: -0.1 })).toThrow('sgd: invalid learning rate: -0.1 — expected a finite number ≥ 0');
    expect(() => new Adam([x], { lr: -1e-3 })).toThrow(/adam: invalid learning rate: -0\.001/);
  });

  it('betas outside [0, 1)', () => {
    expect(() => new Adam([x], { beta1: 1 })).toThrow('adam: invalid beta1: 1 — expected a number in [0, 1)');
    expect(() => new AdamW([x], { beta2: -0.5 })).toThrow(/adamw: invalid beta2: -0\.5/);
    expect(() => new Adam([x], { beta2: 1.5 })).toThrow(/invalid beta2: 1\.5/);
  });

  it('non-finite values', () => {
    expect(() => new Adam([x], { lr: NaN })).toThrow(/invalid learning rate: NaN/);
    expect(() => new SGD([x], { lr: Infinity })).toThrow(/invalid learning rate: Infinity/);
    expect(() => new Adam([x], { eps: -Infinity })).toThrow(/invalid eps: -Infinity/);
    expect(() => new RMSprop([x], { decay: NaN })).toThrow(/invalid decay: NaN/);
  });

  it('every other range', () => {
    expect(() => new SGD([x], { momentum: 1 })).toThrow(/invalid momentum: 1/);
    expect(() => new SGD([x], { weightDecay: -1e-4 })).toThrow(/invalid weightDecay: -0\.0001/);
    expect(() => new SGD([x], { nesterov: true })).toThrow(/invalid nesterov: true — expected momentum > 0 and dampening 0/);
    expect(() => new SGD([x], { momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(/dampening 0\.1/);
    expect(() => new Adagrad([x], { initialAccumulatorValue: -1 })).toThrow(/invalid initialAccumulatorValue: -1/);
    expect(() => new Adam([x], { clipNorm: 0 })).toThrow(/invalid clipNorm: 0 — expected a finite number > 0/);
    expect(() => new SGD([x], { nesterov: 'yes' as unknown as boolean })).toThrow(/invalid nesterov: "yes" — expected true or false/);
  });

  it('a misspelt option is an error, not ignored', () => {
    expect(() => new Adam([x], { weightdecay: 0.1 } as object)).toThrow(/unknown option 'weightdecay' — known options: lr, weightDecay/);
  });

  it('the error says which parameter and which value, for programs too', () => {
    try {
      new Adam([x], { beta2: 1 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(HyperParameterError);
      expect(e).toBeInstanceOf(ArgumentError);
      expect(e).toBeInstanceOf(RangeError);
      expect(e).toMatchObject({ name: 'HyperParameterError', owner: 'adam', parameter: 'beta2', value: 1 });
    }
  });

  it('group options are checked with the group named', () => {
    const y = param([3]);
    expect(() => new SGD([{ params: [x] }, { params: [y], lr: -2 }], { lr: 0.1 })).toThrow(/sgd: parameter group 1: invalid learning rate: -2/);
    expect(() => new SGD([{ params: [x] }, { params: [x] }])).toThrow(/appears more than once/);
    expect(() => new SGD([{ params: [x, 3 as unknown as typeof x] }])).toThrow(/params\[1\] is not a Tensor/);
    y.dispose();
  });

  it('l-bfgs', () => {
    expect(() => new LBFGS([x], { historySize: 0 })).toThrow(/lbfgs: invalid historySize: 0 — expected an integer ≥ 1/);
    expect(() => new LBFGS([x], { lineSearch: 'wolfe' as 'none' })).toThrow(/invalid lineSearch: "wolfe" — expected one of 'strongWolfe', 'backtracking', 'none'/);
    expect(() => new LBFGS([x], { lr: 0 })).toThrow(/invalid learning rate: 0/);
    expect(() => new LBFGS([x]).step(undefined as unknown as () => number)).toThrow(/needs a closure/);
  });

  it('a schedule that goes bad is caught at the step where it does', () => {
    const opt = new SGD([x], { lr: (t: number) => 0.1 - 0.05 * t });
    train(opt, () => quadratic(x, [1, 1], [0, 0]), 3);
    expect(() => train(opt, () => quadratic(x, [1, 1], [0, 0]))).toThrow(/invalid learning rate at step 3: -0\.05/);
    opt.dispose();
  });
});

describe('transform and schedule arguments', () => {
  it('transforms', () => {
    expect(() => scaleByAdam({ beta2: 1 })).toThrow(/scaleByAdam: invalid beta2: 1/);
    expect(() => clipByGlobalNorm(0)).toThrow(/clipByGlobalNorm: invalid maxNorm: 0/);
    expect(() => clipByValue(-1)).toThrow(/clipByValue: invalid maxDelta: -1/);
    expect(() => trace({ decay: 0, nesterov: true })).toThrow(/trace: invalid nesterov/);
    expect(() => scaleByLearningRate(-1)).toThrow(/invalid learning rate: -1/);
    expect(() => chain(scaleByAdam(), {} as never)).toThrow(/chain: argument 1 is not a gradient transform/);
    const tx = scaleByAdam();
    expect(() => tx.update([tensor([1, 2])], tx.init([tensor([1, 2, 3])]))).toThrow(/update 0 has shape \[2\], its parameter \[3\]/);
  });

  it('schedules', () => {
    expect(() => cosine({ initial: 1, steps: 0 })).toThrow('cosine: invalid steps: 0 — expected an integer ≥ 1');
    expect(() => cosine({ initial: -1, steps: 10 })).toThrow(/cosine: invalid initial: -1/);
    expect(() => stepDecay({ initial: 1, stepSize: 10, gamma: 1.5 })).toThrow(/invalid gamma: 1\.5 — expected a number in \(0, 1\]/);
    expect(() => multiStep({ initial: 1, milestones: [5, 3] })).toThrow(/invalid milestones: \[5, 3\] — expected strictly increasing steps/);
    expect(() => cyclic({ low: 1, high: 0.1, stepSize: 2 })).toThrow(/cyclic: invalid high: 0\.1 — expected a number ≥ low \(1\)/);
    expect(() => oneCycle({ max: 1, steps: 100, pctStart: 1 })).toThrow(/oneCycle: invalid pctStart: 1/);
  });

  it('an Optimizer over a hand-built transform takes no options', () => {
    expect(() => new Optimizer([], scaleByAdam(), { lr: 1 } as never)).toThrow(/options are for named optimizers/);
  });
});
