// Save after k steps, restore into a fresh optimizer, continue: the parameters must be
// bit-identical to an uninterrupted run — through JSON text and as Float32Arrays.
import { Rng, Tensor, add, keep, matmul, meanSquaredError, randn, scope, tensor } from '@minibatch/core';
import { describe, expect, it } from 'vitest';
import {
  Adagrad, Adam, AdamW, LBFGS, RMSprop, SGD, type OptimizerStateDict, type PlateauSchedule, cosine, linearWarmup,
  loadState, oneCycle, reduceOnPlateau, saveState, scaleByAdam,
} from '../src/index.js';

interface Checkpointable {
  step(closure: () => number): unknown;
  zeroGrad(): void;
  stateDict(options?: { arrays?: 'float32' | 'number' }): OptimizerStateDict;
  loadStateDict(dict: OptimizerStateDict): void;
  dispose(): void;
}

// A small regression problem: y ≈ x·w + b, with w [5, 3] (four SIMD lanes and a tail per row).
const rng = new Rng(3);
const X = keep(randn([16, 5], { rng }));
const Y = keep(randn([16, 3], { rng }));
const W0 = randn([5, 3], { rng }).data();
const B0 = new Float32Array([0.1, -0.2, 0.3]);

const makeParams = (w: ArrayLike<number> = W0, b: ArrayLike<number> = B0, frozen: ArrayLike<number> = [1, 2]): Tensor[] =>
  [w, b, frozen].map((v, i) => keep(tensor(v, i === 0 ? [5, 3] : [v.length]).setRequiresGrad()));

const loss = ([w, b, f]: Tensor[]): Tensor => add(meanSquaredError(add(matmul(X, w), b), Y), meanSquaredError(f, tensor([0, 0])));

/** One step; reports the loss to a plateau schedule when there is one. */
function stepOnce(opt: Checkpointable, params: Tensor[], plateau?: (opt: Checkpointable) => PlateauSchedule): void {
  if (opt instanceof LBFGS) {
    opt.step(() => {
      const l = loss(params);
      l.backward();
      return l;
    });
    return;
  }
  const value = scope(() => {
    const l = loss(params);
    l.backward();
    return l.item();
  });
  (opt as unknown as { step(): void }).step();
  opt.zeroGrad();
  plateau?.(opt).report(value);
}

const bits = (t: Tensor): number[] => Array.from(new Uint32Array(t.data().buffer));

type Make = (params: Tensor[]) => Checkpointable;
const cases: [string, Make, ((opt: Checkpointable) => PlateauSchedule)?][] = [
  ['sgd + nesterov, param groups (own lr schedule, frozen)', ([w, b, f]) => new SGD([
    { params: [w], lr: cosine({ initial: 0.1, steps: 20 }) },
    { params: [b], lr: 0.05, momentum: 0, nesterov: false },
    { params: [f], frozen: true },
  ], { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
  ['adam, clipped, one-cycle', (p) => new Adam([{ params: p.slice(0, 2) }, { params: [p[2]], frozen: true }], { lr: oneCycle({ max: 0.05, steps: 20 }), clipNorm: 0.5, clipValue: 0.3 })],
  ['adamw, warmup', (p) => new AdamW(p.slice(0, 2), { lr: linearWarmup({ schedule: 0.02, warmupSteps: 3 }), weightDecay: 0.05 })],
  ['rmsprop centered + momentum', (p) => new RMSprop(p.slice(0, 2), { lr: 0.01, centered: true, momentum: 0.5 })],
  ['adagrad', (p) => new Adagrad(p.slice(0, 2), { lr: 0.1, initialAccumulatorValue: 0.1 })],
  ['adam with reduce-on-plateau', (p) => new Adam(p.slice(0, 2), { lr: reduceOnPlateau({ schedule: 0.05, patience: 1, factor: 0.5, threshold: 0.05 }) }),
    (opt) => (opt as Adam).groups[0].options.lr as PlateauSchedule],
  ['l-bfgs (history, line search)', (p) => new LBFGS(p.slice(0, 2), { maxIter: 3, historySize: 4 })],
];

describe('save, restore, continue: bit-identical to an uninterrupted run', () => {
  const K = 4, M = 5;
  for (const [name, make, plateau] of cases) {
    for (const arrays of ['number', 'float32'] as const) {
      it(`${name} (${arrays === 'number' ? 'through JSON text' : 'Float32Array data'})`, () => {
        const straight = makeParams();
        const a = make(straight);
        for (let i = 0; i < K + M; i++) stepOnce(a, straight, plateau);

        const first = makeParams();
        const b = make(first);
        for (let i = 0; i < K; i++) stepOnce(b, first, plateau);
        const dict = arrays === 'number' ? JSON.parse(JSON.stringify(b.stateDict({ arrays }))) : b.stateDict();
        const saved = first.map((p) => p.data());
        b.dispose();

        const resumed = makeParams(saved[0], saved[1], saved[2]);
        const c = make(resumed);
        c.loadStateDict(dict);
        for (let i = 0; i < M; i++) stepOnce(c, resumed, plateau);

        resumed.forEach((p, i) => expect(bits(p), `parameter ${i}`).toEqual(bits(straight[i])));
        // …and the run did move: a resume that ignored the state would differ.
        expect(bits(straight[0])).not.toEqual(bits(tensor(W0, [5, 3])));
        for (const t of [...straight, ...first, ...resumed]) t.dispose();
        a.dispose();
        c.dispose();
      });
    }
  }

  it('a resume without the state does differ (the test can fail)', () => {
    const straight = makeParams();
    const a = new Adam(straight.slice(0, 2), { lr: 0.05 });
    for (let i = 0; i < K + M; i++) stepOnce(a, straight);
    const first = makeParams();
    const b = new Adam(first.slice(0, 2), { lr: 0.05 });
    for (let i = 0; i < K; i++) stepOnce(b, first);
    const c = new Adam(first.slice(0, 2), { lr: 0.05 }); // fresh moments, count 0
    for (let i = 0; i < M; i++) stepOnce(c, first);
    expect(bits(first[0])).not.toEqual(bits(straight[0]));
    for (const t of [...straight, ...first]) t.dispose();
    [a, b, c].forEach((o) => o.dispose());
  });
});

describe('state dicts are checked before anything is written', () => {
  it('wrong shapes, wrong optimizer, truncated data', () => {
    const p = makeParams();
    const opt = new Adam(p.slice(0, 2), { lr: 0.1 });
    stepOnce(opt, p);
    const dict = JSON.parse(JSON.stringify(opt.stateDict({ arrays: 'number' }))) as OptimizerStateDict;
    const other = [keep(tensor(new Float32Array(15), [3, 5])), keep(tensor(new Float32Array(3)))];
    const target = new Adam(other, { lr: 0.1 });
    expect(() => target.loadStateDict(dict)).toThrow(/has shape \[5, 3\], the optimizer's parameter needs \[3, 5\]/);
    expect(() => new SGD(p.slice(0, 2)).loadStateDict(dict)).toThrow(/state is of a 'adam' optimizer, this is 'sgd'/);

    const fresh = new Adam(p.slice(0, 2), { lr: 0.1 });
    const broken = structuredClone(dict);
    // corrupt the second parameter's second moment; the first parameter's moments come earlier
    const adamState = (broken.groups[0].state as unknown[])[3] as { nu: { data: number[] }[] };
    adamState.nu[1].data.pop();
    expect(() => fresh.loadStateDict(broken)).toThrow(/nu\[1\]\.data should be 3 values/);
    const untouched = (fresh.groups[0].state as { mu: Tensor[]; count: number }[])[3];
    expect(untouched.count).toBe(0);
    expect(Array.from(untouched.mu[0].data()).every((v) => v === 0)).toBe(true); // nothing half-written
    expect(fresh.steps).toBe(0);
    [opt, target, fresh].forEach((o) => o.dispose());
    for (const t of [...p, ...other]) t.dispose();
  });

  it('saveState / loadState keep non-finite numbers through JSON', () => {
    const state = { best: Infinity, worst: -Infinity, odd: NaN, n: 3, flag: true, name: 'x', none: null };
    const text = JSON.stringify(saveState(state));
    expect(loadState({ best: 0, worst: 0, odd: 0, n: 0, flag: false, name: '', none: null }, JSON.parse(text))).toEqual(state);
  });

  it('loadState copies into the template tensors', () => {
    const x = keep(tensor([1, 2, 3]));
    const tx = scaleByAdam();
    const s1 = tx.init([x]);
    const [, s2] = tx.update([x], s1);
    const saved = saveState(s2, { arrays: 'number' });
    const fresh = tx.init([x]);
    const loaded = loadState(fresh, saved);
    expect(loaded.count).toBe(1);
    expect(loaded.mu[0]).toBe(fresh.mu[0]);
    expect(Array.from(loaded.mu[0].data())).toEqual(Array.from(s2.mu[0].data()));
  });
});
