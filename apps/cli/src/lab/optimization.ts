// Optimization experiments on functions with a known shape — ravines, saddles, Rosenbrock,
// convex problems — where "steps to reach a tolerance" is a clean figure, and on the MLP.
import { Rng, type Tensor, add, keep, mul, scope, sub, sum, tensor } from '@minibatch/core';

const sq = (t: Tensor) => mul(t, t);
import { pca } from '@minibatch/data';
import { losses } from '@minibatch/layers';
import { Adagrad, Adam, Newton, RMSprop, SGD } from '@minibatch/optimizers';
import { smoothed } from '@minibatch/train';
import {
  type Figures, type LabContext, type LabExperiment, type Maker, NOISE_RULE, bars, lastMean, lbfgs, sgd, stepper, clearlyBelow, centered, first, lines, meanStd, mlp, model, pm, quadratic, record, rotation, train, verdictOf, withEigenvalues,
} from './kit.js';

const adagrad = (lr: number): Maker => (p) => stepper(new Adagrad(p, { lr }));
const rmsprop = (lr: number): Maker => (p) => stepper(new RMSprop(p, { lr }));
const adam = (lr: number, biasCorrection = true): Maker => (p) => stepper(new Adam(p, { lr, biasCorrection }));
const newton = (): Maker => (p) => {
  const o = new Newton(p, { damping: 1e-4 });
  return { step: (closure) => o.step(closure), dispose: () => o.dispose() };
};

/**
 * Minimizes f from x0 until `done(loss, x)` or `maxSteps`; the steps taken (maxSteps when it
 * never got there) and the loss after each step.
 */
async function minimize(ctx: LabContext, f: (x: Tensor) => Tensor, x0: Float32Array, make: Maker, done: (loss: number, x: Float32Array) => boolean, maxSteps: number): Promise<{ steps: number; reached: boolean; curve: number[]; x: Float32Array }> {
  const x = keep(tensor(x0.slice(), [1, x0.length]).setRequiresGrad());
  const opt = make([x]);
  const closure = () => {
    const l = f(x);
    l.backward();
    return l;
  };
  const curve: number[] = [];
  try {
    for (let step = 0; step < maxSteps; step++) {
      scope(() => opt.step(closure));
      const loss = scope(() => f(x).item());
      curve.push(loss);
      if (!Number.isFinite(loss)) return { steps: maxSteps, reached: false, curve, x: x.data().slice() };
      if (done(loss, x.data())) return { steps: step + 1, reached: true, curve, x: x.data().slice() };
      if (step % 500 === 499) await ctx.tick();
    }
    return { steps: maxSteps, reached: false, curve, x: x.data().slice() };
  } finally {
    opt.dispose();
    x.dispose();
  }
}

// ------------------------------------------------------------------ rotated ravine

const RAVINE_OPTIMIZERS: [string, string, number[], (lr: number) => Maker][] = [
  ['SGD', 'sgd', [0.005, 0.01, 0.019], (lr) => sgd(lr)],
  ['momentum 0.9', 'momentum', [0.002, 0.005, 0.01, 0.019], (lr) => sgd(lr, 0.9)],
  ['Nesterov 0.9', 'nesterov', [0.002, 0.005, 0.01, 0.019], (lr) => sgd(lr, 0.9, true)],
  ['AdaGrad', 'adagrad', [0.1, 0.3, 1, 3], adagrad],
  ['RMSProp', 'rmsprop', [0.001, 0.003, 0.01, 0.03], rmsprop],
  ['Adam', 'adam', [0.01, 0.03, 0.1, 0.3], adam],
  ['L-BFGS', 'lbfgs', [1], () => lbfgs()],
  ['Newton', 'newton', [1], () => newton()],
];
const ADAPTIVE = ['adagrad', 'rmsprop', 'adam'];
const ROTATION_INVARIANT = ['sgd', 'momentum', 'nesterov'];

export const rotatedRavine: LabExperiment = {
  name: 'rotated-ravine',
  title: 'Adaptive methods adapt per axis only',
  claim: 'AdaGrad, RMSProp and Adam scale each coordinate separately, so they flatten a ravine that lies along the axes but not one at an angle; SGD and momentum do not care about the rotation.',
  source: 'CS231n, lecture 7',
  measures: 'Steps to reach f ≤ 1e-6 on ½xᵀAx with condition number 100, axis-aligned and rotated (2-D at 45°; 100-D by 3 seeded random rotations), from the same seeded start in the eigenbasis, for SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam, L-BFGS and Newton; each optimizer\'s rate is the best of a small grid on the aligned problem, kept for the rotated one.',
  rule: 'Three parts: rotation multiplies the steps of each of AdaGrad, RMSProp and Adam by ≥ 3 in 2-D; by ≥ 3 in 100-D; and the steps of SGD, momentum and Nesterov by ≤ 1.1 in both. Supported if all hold, not supported if none, mixed otherwise.',
  judge: (f) => verdictOf([
    ADAPTIVE.every((k) => f[`ratio_${k}_2d`] >= 3),
    ADAPTIVE.every((k) => f[`ratio_${k}_100d`] >= 3),
    ROTATION_INVARIANT.every((k) => f[`ratio_${k}_2d`] <= 1.1 && f[`ratio_${k}_100d`] <= 1.1),
  ]),
  async run(ctx) {
    const maxSteps = ctx.quick ? 1500 : 10_000;
    const figures: Figures = {};
    const rows: (string | number)[][] = [];
    const plotted: object[] = [];
    const problems = [
      { dims: 2, key: '2d', eigen: [1, 100], rotations: [rotation45()] },
      { dims: 100, key: '100d', eigen: Array.from({ length: 100 }, (_, i) => 100 ** (i / 99)), rotations: ctx.seeds.map((s) => rotation(100, new Rng(s))) },
    ];
    for (const { dims, key, eigen, rotations } of problems) {
      const identity = Float64Array.from({ length: dims * dims }, (_, i) => (i % (dims + 1) === 0 ? 1 : 0));
      // The same start in the eigenbasis for every problem: seeded coordinates along the eigenvectors.
      const rng = new Rng(99);
      const along = Array.from({ length: dims }, () => 0.5 + rng.uniform());
      const start = (q: Float64Array) => {
        const x = new Float32Array(dims);
        for (let k = 0; k < dims; k++) for (let i = 0; i < dims; i++) x[i] += along[k] * q[k * dims + i];
        return x;
      };
      const done = (loss: number) => loss <= 1e-6;
      for (const [label, name, grid, make] of RAVINE_OPTIMIZERS) {
        // The best rate on the aligned problem.
        let best = { lr: grid[0], steps: Infinity };
        const aligned = quadratic(withEigenvalues(identity, eigen), dims);
        for (const lr of grid) {
          const r = await minimize(ctx, aligned, start(identity), make(lr), done, maxSteps);
          if (r.steps < best.steps) best = { lr, steps: r.steps };
        }
        const rotated = [];
        for (const q of rotations) rotated.push((await minimize(ctx, quadratic(withEigenvalues(q, eigen), dims), start(q), make(best.lr), done, maxSteps)).steps);
        const mean = meanStd(rotated).mean;
        figures[`steps_${name}_${key}_aligned`] = best.steps;
        record(figures, `steps_${name}_${key}_rotated`, rotated);
        figures[`ratio_${name}_${key}`] = mean / best.steps;
        rows.push([`${dims}-D`, label, name === 'lbfgs' || name === 'newton' ? '—' : best.lr, best.steps >= maxSteps ? `> ${maxSteps}` : best.steps, mean >= maxSteps ? `> ${maxSteps}` : mean.toFixed(0), (mean / best.steps).toFixed(2)]);
        plotted.push({ problem: `${dims}-D`, optimizer: label, case: 'aligned', steps: best.steps }, { problem: `${dims}-D`, optimizer: label, case: 'rotated', steps: mean });
        ctx.progress(`${dims}-D, ${label}: ${best.steps} steps aligned, ${mean.toFixed(0)} rotated`);
      }
    }
    const worst = (keys: string[], dim: string) => Math.min(...keys.map((k) => figures[`ratio_${k}_${dim}`]));
    return {
      table: { columns: ['problem', 'optimizer', 'rate (best on aligned)', 'steps, aligned', 'steps, rotated', 'rotated / aligned'], rows },
      plots: [{ name: 'rotated-ravine', title: 'Steps to f ≤ 1e-6, aligned vs rotated', spec: { ...bars('steps to f ≤ 1e-6 (log scale; capped at the step budget)', plotted.filter((p) => (p as { problem: string }).problem === '2-D'), 'optimizer', 'steps', 'case', { logY: true }), title: 'steps to f ≤ 1e-6 on the 2-D ravine (log scale)' } },
        { name: 'rotated-ravine-100d', title: 'The same in 100-D', spec: bars('steps to f ≤ 1e-6 on the 100-D ravine (log scale)', plotted.filter((p) => (p as { problem: string }).problem === '100-D'), 'optimizer', 'steps', 'case', { logY: true }) }],
      figures,
      finding: `rotation multiplies the steps of the adaptive methods by ${ADAPTIVE.map((k) => figures[`ratio_${k}_2d`].toFixed(1)).join(', ')} (AdaGrad, RMSProp, Adam; 2-D) and ${ADAPTIVE.map((k) => figures[`ratio_${k}_100d`].toFixed(1)).join(', ')} (100-D); SGD, momentum, Nesterov: ${ROTATION_INVARIANT.map((k) => figures[`ratio_${k}_2d`].toFixed(2)).join(', ')} (2-D) — smallest adaptive ratio ${Math.min(worst(ADAPTIVE, '2d'), worst(ADAPTIVE, '100d')).toFixed(1)}.`,
    };
  },
};

function rotation45(): Float64Array {
  const c = Math.SQRT1_2;
  return Float64Array.from([c, c, -c, c]);
}

// ------------------------------------------------------------------ second order

export const secondOrder: LabExperiment = {
  name: 'second-order',
  title: 'Newton, quasi-Newton and gradient descent',
  claim: 'Newton\'s method converges in a handful of iterations on a convex problem, L-BFGS in more, gradient descent in far more; but L-BFGS does poorly in the stochastic (mini-batch) setting.',
  source: 'CS231n, lecture 7',
  measures: 'Iterations and seconds to reach a loss within 1e-4 of the optimum for softmax regression with L2 (λ = 1e-3) on 20 PCA features of MNIST, by Newton (Levenberg–Marquardt damping), L-BFGS and gradient descent (best rate of a grid); then the MLP trained by L-BFGS on the full batch, by L-BFGS on mini-batches of 64 and by Adam on mini-batches, at an equal budget of per-sample gradients, over 3 seeds.',
  rule: 'Three parts: Newton needs fewer iterations than L-BFGS; L-BFGS fewer than gradient descent; mini-batch L-BFGS ends at a higher training loss than mini-batch Adam. Supported if all hold, not supported if none, mixed otherwise.' + NOISE_RULE,
  judge: (f) => verdictOf([f.iterations_newton < f.iterations_lbfgs, f.iterations_lbfgs < f.iterations_gd, clearlyBelow(f, 'loss_adam_minibatch', 'loss_lbfgs_minibatch')]),
  async run(ctx) {
    const figures: Figures = {};
    const rows: (string | number)[][] = [];
    const curves: object[] = [];
    // 1. convex: softmax regression on PCA features
    const data = centered(ctx, ctx.quick ? { train: 1000, test: 300 } : { train: 8000, test: 2000 });
    const features = pca({ components: 20 }).fit(data.train).transform(data.train);
    const x = keep(tensor(features.x, [features.count, 20]));
    const ce = losses.softmaxCrossEntropy();
    const net = () => {
      const m = model([{ name: 'dense', config: { units: 10, kernelInitializer: 'zeros' } }]);
      m.build([20], new Rng(1));
      return m;
    };
    const objective = (m: ReturnType<typeof net>) => () => {
      let penalty: Tensor | number = 0;
      for (const p of m.trainableParameters()) penalty = add(penalty, sum(sq(p)));
      return add(ce(m.forward(x), features.y), mul(0.5e-3, penalty));
    };
    const solve = async (make: Maker, iterations: number, target: number) => {
      const m = net();
      const f = objective(m);
      const opt = make(m.trainableParameters());
      const started = performance.now();
      const curve: number[] = [];
      let reached = -1;
      let seconds = NaN;
      try {
        for (let i = 0; i < iterations; i++) {
          scope(() => opt.step(() => {
            const l = f();
            l.backward();
            return l;
          }));
          const loss = scope(() => f().item());
          curve.push(loss);
          if (loss <= target) {
            reached = i + 1;
            seconds = (performance.now() - started) / 1000;
            break;
          }
          if (target === -Infinity && i > 0 && curve[i - 1] - loss < 1e-9) break; // converged: the optimum in float32
          if (i % 20 === 19) await ctx.tick();
        }
      } finally {
        opt.dispose();
        m.dispose();
      }
      if (reached < 0) seconds = (performance.now() - started) / 1000; // the whole budget, spent without reaching it
      return { curve, reached, seconds };
    };
    try {
      const optimum = Math.min(...(await solve(newton(), 30, -Infinity)).curve);
      const target = optimum + 1e-4;
      const budget = ctx.quick ? 1500 : 5000;
      let gd = { lr: 0, result: { curve: [] as number[], reached: -1, seconds: NaN } };
      for (const lr of [0.3, 1, 3]) {
        const r = await solve(sgd(lr), budget, target);
        const score = (v: typeof r) => (v.reached < 0 ? Infinity : v.reached);
        if (gd.result.curve.length === 0 || score(r) < score(gd.result) || (score(r) === Infinity && score(gd.result) === Infinity && r.curve.at(-1)! < gd.result.curve.at(-1)!)) gd = { lr, result: r };
      }
      const methods: [string, string, { curve: number[]; reached: number; seconds: number }][] = [
        ['Newton (LM damping)', 'newton', await solve(newton(), 50, target)],
        ['L-BFGS', 'lbfgs', await solve(lbfgs(), 500, target)],
        [`gradient descent (lr ${gd.lr})`, 'gd', gd.result],
      ];
      for (const [label, key, r] of methods) {
        figures[`iterations_${key}`] = r.reached < 0 ? r.curve.length : r.reached;
        figures[`seconds_${key}`] = r.seconds;
        rows.push(['convex (softmax regression, 210 weights)', label, r.reached < 0 ? `> ${r.curve.length}` : r.reached, r.reached < 0 ? `> ${r.seconds.toFixed(3)}` : r.seconds.toFixed(3), (r.curve.at(-1)! - optimum).toExponential(1)]);
        r.curve.forEach((loss, i) => i < 300 && curves.push({ method: label, iteration: i + 1, gap: Math.max(loss - optimum, 1e-7) }));
        ctx.progress(`${label}: ${r.reached < 0 ? `not within 1e-4 in ${r.curve.length}` : `${r.reached} iterations, ${r.seconds.toFixed(3)} s`}`);
      }
      figures.optimum = optimum;
    } finally {
      x.dispose();
    }
    // 2. L-BFGS in the stochastic setting: the MLP at an equal budget of per-sample gradients.
    const mlpData = { train: first(data.train, ctx.quick ? 500 : 2000), test: data.test };
    const budget = (ctx.quick ? 5 : 20) * mlpData.train.count;
    const xs = keep(tensor(mlpData.train.x, [mlpData.train.count, ...mlpData.train.shape]));
    const fullLoss = (m: ReturnType<typeof mlp>) => scope(() => ce(m.forward(xs), mlpData.train.y).item());
    try {
      const variants: [string, string, number, Maker][] = [
        ['L-BFGS, full batch', 'lbfgs_full', mlpData.train.count, lbfgs()],
        ['L-BFGS, mini-batches of 64', 'lbfgs_minibatch', 64, lbfgs()],
        ['Adam 1e-3, mini-batches of 64', 'adam_minibatch', 64, adam(1e-3)],
      ];
      for (const [label, key, batch, make] of variants) {
        const finals = [];
        for (const seed of ctx.seeds) {
          const m = mlp([100], 'relu', undefined, 'heNormal');
          m.build(mlpData.train.shape, new Rng(seed));
          const opt = make(m.trainableParameters());
          const rng = new Rng(seed);
          let used = 0;
          try {
            for (let step = 0; used < budget; step++) {
              const order = rng.shuffle(Array.from({ length: mlpData.train.count }, (_, i) => i)).slice(0, batch);
              const rowsOf = new Float32Array(batch * 784);
              order.forEach((i, r) => rowsOf.set(mlpData.train.x.subarray(i * 784, (i + 1) * 784), r * 784));
              const bx = tensor(rowsOf, [batch, 784]);
              const by = Int32Array.from(order, (i) => mlpData.train.y[i]);
              keep(bx);
              try {
                scope(() => opt.step(() => {
                  used += batch;
                  const l = ce(m.forward(bx), by);
                  l.backward();
                  return l;
                }));
              } finally {
                bx.dispose();
              }
              if (step % 20 === 19) await ctx.tick();
            }
            finals.push(fullLoss(m));
          } finally {
            opt.dispose();
            m.dispose();
          }
        }
        const loss = record(figures, `loss_${key}`, finals);
        rows.push(['MLP, equal gradient budget', label, '', '', loss.toFixed(4)]);
        ctx.progress(`${label}: training loss ${pm(finals, 3, 1)}`);
      }
    } finally {
      xs.dispose();
    }
    return {
      table: { columns: ['problem', 'method', 'iterations to optimum + 1e-4', 'seconds', 'final loss (convex: − optimum)'], rows },
      plots: [{ name: 'second-order', title: 'Distance to the optimum per iteration (softmax regression)', spec: lines('loss − optimum (log scale) per iteration', curves, 'iteration', 'gap', 'method', { logY: true, logX: true }) }],
      figures,
      finding: `to within 1e-4 of the optimum: Newton ${figures.iterations_newton} iterations (${figures.seconds_newton.toFixed(2)} s: each builds a 210 × 210 Hessian from 422 gradients), L-BFGS ${figures.iterations_lbfgs} (${figures.seconds_lbfgs.toFixed(2)} s), gradient descent ${figures.iterations_gd} (${figures.seconds_gd.toFixed(2)} s); MLP at an equal budget: L-BFGS full batch ${figures.loss_lbfgs_full.toFixed(3)}, L-BFGS mini-batch ${figures.loss_lbfgs_minibatch.toFixed(3)}, Adam mini-batch ${figures.loss_adam_minibatch.toFixed(3)}.`,
    };
  },
};

// ------------------------------------------------------------------ Nesterov

/** Rosenbrock's function of x = [a, b]: (1 − a)² + 100 (b − a²)². */
function rosenbrock(x: Tensor): Tensor {
  const u = sum(mul(x, tensor(Float32Array.from([1, 0]), [1, 2])));
  const v = sum(mul(x, tensor(Float32Array.from([0, 1]), [1, 2])));
  return add(sq(sub(1, u)), mul(100, sq(sub(v, sq(u)))));
}

export const nesterov: LabExperiment = {
  name: 'nesterov',
  title: 'Momentum vs Nesterov momentum',
  claim: 'Nesterov momentum converges faster than classical momentum on convex problems, but the advantage does not carry over to non-convex ones.',
  source: 'CS231n, lecture 7; Sutskever et al. 2013',
  measures: 'Steps to f ≤ 1e-6 on a 100-D convex quadratic (condition number 100, 3 seeded rotations); steps to f ≤ 1e-4 on Rosenbrock\'s function from (−1.2, 1) and from two nearby starts; the MLP\'s final training loss over 3 seeds — the same rate and momentum 0.9 for both methods.',
  rule: 'Three parts: Nesterov needs fewer steps on the quadratic; on Rosenbrock it needs no fewer than 0.9 × momentum\'s steps; on the MLP its final loss is no lower than 0.9 × momentum\'s. Supported if all hold, not supported if none, mixed otherwise.',
  judge: (f) => verdictOf([f.steps_nesterov_quadratic < f.steps_momentum_quadratic, f.steps_nesterov_rosenbrock >= 0.9 * f.steps_momentum_rosenbrock, f.loss_nesterov_mlp >= 0.9 * f.loss_momentum_mlp]),
  async run(ctx) {
    const figures: Figures = {};
    const rows: (string | number)[][] = [];
    const curves: object[] = [];
    const eigen = Array.from({ length: 100 }, (_, i) => 100 ** (i / 99));
    for (const nest of [false, true]) {
      const label = nest ? 'Nesterov' : 'momentum';
      const quad = [];
      for (const seed of ctx.seeds) {
        const q = rotation(100, new Rng(seed));
        const x0 = new Float32Array(100);
        for (let k = 0; k < 100; k++) for (let i = 0; i < 100; i++) x0[i] += q[k * 100 + i];
        const r = await minimize(ctx, quadratic(withEigenvalues(q, eigen), 100), x0, sgd(0.01, 0.9, nest), (l) => l <= 1e-6, ctx.quick ? 3000 : 10_000);
        quad.push(r.steps);
        if (seed === ctx.seeds[0]) r.curve.forEach((loss, i) => i % 4 === 0 && curves.push({ problem: 'quadratic', method: label, step: i + 1, loss }));
      }
      const rosen = [];
      for (const [seed, start] of [[0, [-1.2, 1]], [1, [-1.1, 1.1]], [2, [-1.3, 0.9]]] as const) {
        if (seed >= ctx.seeds.length) break;
        const r = await minimize(ctx, rosenbrock, Float32Array.from(start), sgd(2e-4, 0.9, nest), (l) => l <= 1e-4, ctx.quick ? 10_000 : 40_000);
        rosen.push(r.steps);
        if (seed === 0) r.curve.forEach((loss, i) => i % 20 === 0 && curves.push({ problem: 'Rosenbrock', method: label, step: i + 1, loss: Math.max(loss, 1e-8) }));
      }
      const mlpLoss = [];
      const data = centered(ctx);
      for (const seed of ctx.seeds) {
        const curve: number[] = [];
        await train(ctx, mlp([100, 100], 'relu', undefined, 'heNormal'), data, { epochs: ctx.quick ? 2 : 5, seed, optimizer: new SGD(undefined, { lr: 0.01, momentum: 0.9, nesterov: nest }), steps: (l) => curve.push(l) });
        mlpLoss.push(lastMean(curve));
        if (seed === ctx.seeds[0]) smoothed(curve, 0.9).forEach((loss, i) => i % 4 === 0 && curves.push({ problem: 'MLP', method: label, step: i + 1, loss }));
      }
      const key = nest ? 'nesterov' : 'momentum';
      record(figures, `steps_${key}_quadratic`, quad);
      record(figures, `steps_${key}_rosenbrock`, rosen);
      record(figures, `loss_${key}_mlp`, mlpLoss);
      rows.push([label, pm(quad, 0, 1), pm(rosen, 0, 1), pm(mlpLoss, 4, 1)]);
      ctx.progress(`${label}: quadratic ${pm(quad, 0, 1)} steps, Rosenbrock ${pm(rosen, 0, 1)} steps, MLP loss ${pm(mlpLoss, 4, 1)}`);
    }
    return {
      table: { columns: ['method (lr fixed, momentum 0.9)', 'steps, quadratic (f ≤ 1e-6)', 'steps, Rosenbrock (f ≤ 1e-4)', 'MLP final training loss'], rows },
      plots: [{
        name: 'nesterov', title: 'Loss per step: quadratic, Rosenbrock, MLP',
        spec: {
          $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: 'loss per step (log scale)', data: { values: curves },
          facet: { column: { field: 'problem', type: 'nominal', title: null, sort: null } },
          spec: { width: 240, height: 200, mark: { type: 'line', clip: true }, encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative', scale: { type: 'log' } }, color: { field: 'method', type: 'nominal', title: null }, strokeDash: { field: 'method', type: 'nominal', title: null } } },
          resolve: { scale: { x: 'independent', y: 'independent' } }, config: { font: 'sans-serif', legend: { orient: 'bottom' } },
        },
      }],
      figures,
      finding: `steps on the quadratic: momentum ${figures.steps_momentum_quadratic.toFixed(0)}, Nesterov ${figures.steps_nesterov_quadratic.toFixed(0)}; Rosenbrock: ${figures.steps_momentum_rosenbrock.toFixed(0)} vs ${figures.steps_nesterov_rosenbrock.toFixed(0)}; MLP loss ${figures.loss_momentum_mlp.toFixed(4)} vs ${figures.loss_nesterov_mlp.toFixed(4)}.`,
    };
  },
};

// ------------------------------------------------------------------ Adam's bias correction

export const adamBiasCorrection: LabExperiment = {
  name: 'adam-bias-correction',
  title: 'Adam with and without bias correction',
  claim: 'Adam\'s moment estimates start at zero, so without bias correction its first steps are wrong — the second moment is underestimated most, which makes the first updates too large — and the early loss suffers.',
  source: 'CS231n, lecture 7; Kingma & Ba 2015, §3',
  measures: 'The norm of each of the first 50 weight updates and the training loss over the first steps of the MLP (Adam, lr 1e-3) with and without bias correction, over 3 seeds.',
  rule: 'Two parts: the first 10 updates are on average ≥ 2× larger without the correction; the mean training loss over the early steps is higher without it. Supported if both hold, not supported if neither, mixed otherwise.' + NOISE_RULE,
  judge: (f) => verdictOf([f.update_norm_plain_10 >= 2 * f.update_norm_corrected_10, clearlyBelow(f, 'early_loss_corrected', 'early_loss_plain')]),
  async run(ctx) {
    const data = centered(ctx);
    const figures: Figures = {};
    const rows: (string | number)[][] = [];
    const values: object[] = [];
    const early = ctx.quick ? 60 : 200;
    for (const corrected of [true, false]) {
      const label = corrected ? 'with bias correction' : 'without';
      const norms: number[][] = [];
      const losses: number[] = [];
      for (const seed of ctx.seeds) {
        const net = mlp([100], 'relu', undefined, 'heNormal');
        net.build(data.train.shape, new Rng(seed));
        const params = net.trainableParameters();
        let before = params.map((p) => p.data().slice());
        const own: number[] = [];
        const curve: number[] = [];
        await train(ctx, net, data, {
          epochs: 1, seed, optimizer: new Adam(undefined, { lr: 1e-3, biasCorrection: corrected }),
          steps: (l) => {
            curve.push(l);
            if (own.length < 50) {
              const after = params.map((p) => p.data().slice());
              own.push(Math.sqrt(after.reduce((s, a, i) => s + a.reduce((t, v, j) => t + (v - before[i][j]) ** 2, 0), 0)));
              before = after;
            }
          },
        });
        norms.push(own);
        losses.push(curve.slice(0, early).reduce((a, b) => a + b, 0) / Math.min(early, curve.length));
        if (seed === ctx.seeds[0]) {
          own.forEach((n, i) => values.push({ what: 'update norm', variant: label, step: i + 1, value: n }));
          curve.slice(0, early).forEach((l, i) => values.push({ what: 'training loss', variant: label, step: i + 1, value: l }));
        }
      }
      const key = corrected ? 'corrected' : 'plain';
      const first10 = norms.map((n) => n.slice(0, 10).reduce((a, b) => a + b, 0) / 10);
      record(figures, `update_norm_${key}_10`, first10);
      record(figures, `update_norm_${key}_1`, norms.map((n) => n[0]));
      record(figures, `early_loss_${key}`, losses);
      rows.push([label, pm(norms.map((n) => n[0]), 3, 1), pm(first10, 3, 1), pm(losses, 4, 1)]);
      ctx.progress(`${label}: first update ${pm(norms.map((n) => n[0]), 3, 1)}, early loss ${pm(losses, 4, 1)}`);
    }
    return {
      table: { columns: ['Adam (lr 1e-3)', 'first update ‖Δw‖', 'mean ‖Δw‖, updates 1–10', `mean training loss, steps 1–${early}`], rows },
      plots: [{
        name: 'adam-bias-correction', title: 'Update norms and early loss',
        spec: {
          $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: 'with and without bias correction (seed 1)', data: { values },
          facet: { column: { field: 'what', type: 'nominal', title: null } },
          spec: { width: 280, height: 200, mark: 'line', encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: null }, color: { field: 'variant', type: 'nominal', title: null }, strokeDash: { field: 'variant', type: 'nominal', title: null } } },
          resolve: { scale: { x: 'independent', y: 'independent' } }, config: { font: 'sans-serif', legend: { orient: 'bottom' } },
        },
      }],
      figures,
      finding: `the first 10 updates average ‖Δw‖ ${figures.update_norm_plain_10.toFixed(3)} without the correction vs ${figures.update_norm_corrected_10.toFixed(3)} with it (${(figures.update_norm_plain_10 / figures.update_norm_corrected_10).toFixed(1)}×); early loss ${figures.early_loss_plain.toFixed(4)} without vs ${figures.early_loss_corrected.toFixed(4)} with.`,
    };
  },
};

// ------------------------------------------------------------------ saddles and shallow minima

/** f(x, y) = x² + y⁴/4 − y²/2: a saddle at 0, minima at y = ±1. */
function saddle(p: Tensor): Tensor {
  const ex = tensor(Float32Array.from([1, 0]), [1, 2]);
  const ey = tensor(Float32Array.from([0, 1]), [1, 2]);
  const x = sum(mul(p, ex));
  const y = sum(mul(p, ey));
  const y2 = sq(y);
  return add(sq(x), sub(mul(0.25, sq(y2)), mul(0.5, y2)));
}

/** g(x) = x⁴/4 − 2x³/3 − 3x²/2: a shallow local minimum at −1 (g = −0.58), a barrier at 0, the global minimum at 3 (g = −11.25). */
function shallow(p: Tensor): Tensor {
  const x = sum(p);
  const x2 = sq(x);
  return add(mul(0.25, sq(x2)), add(mul(-2 / 3, mul(x2, x)), mul(-1.5, x2)));
}

const SADDLE_OPTIMIZERS: [string, string, Maker][] = [
  ['SGD 0.01', 'sgd', sgd(0.01)],
  ['momentum 0.9, 0.01', 'momentum', sgd(0.01, 0.9)],
  ['Nesterov 0.9, 0.01', 'nesterov', sgd(0.01, 0.9, true)],
  ['AdaGrad 0.1', 'adagrad', adagrad(0.1)],
  ['RMSProp 0.01', 'rmsprop', rmsprop(0.01)],
  ['Adam 0.01', 'adam', adam(0.01)],
];

export const saddles: LabExperiment = {
  name: 'saddles',
  title: 'Saddle points and shallow local minima',
  claim: 'Near a saddle point the gradient is tiny, so plain SGD crawls; momentum builds up speed and rolls through saddles and shallow local minima, while AdaGrad\'s shrinking steps make it stall.',
  source: 'CS231n, lecture 7',
  measures: 'Steps to leave the saddle of x² + y⁴/4 − y²/2 (|y| > 0.5) from (1, ε), ε ∈ {1e-3, 2e-3, 5e-4}; steps to pass the barrier of x⁴/4 − 2x³/3 − 3x²/2 into its deep minimum (x > 2) from x = −2.5, −2.4, −2.6 (a shallow local minimum lies at −1), within a budget of steps.',
  rule: 'Three parts: momentum leaves the saddle in fewer steps than SGD; momentum passes the shallow minimum in every run while SGD passes it in none; AdaGrad needs more steps than momentum on both tasks. Supported if all hold, not supported if none, mixed otherwise.',
  judge: (f) => verdictOf([
    f.saddle_momentum < f.saddle_sgd,
    f.escaped_momentum === 1 && f.escaped_sgd === 0,
    f.saddle_adagrad > f.saddle_momentum && f.minimum_adagrad > f.minimum_momentum,
  ]),
  async run(ctx) {
    const budget = ctx.quick ? 3000 : 10_000;
    const figures: Figures = {};
    const rows: (string | number)[][] = [];
    const paths: object[] = [];
    const epsilons = [1e-3, 2e-3, 5e-4].slice(0, ctx.seeds.length);
    const starts = [-2.5, -2.4, -2.6].slice(0, ctx.seeds.length);
    for (const [label, key, make] of SADDLE_OPTIMIZERS) {
      const out = [];
      for (const eps of epsilons) {
        const r = await minimize(ctx, saddle, Float32Array.from([1, eps]), make, (_, x) => Math.abs(x[1]) > 0.5, budget);
        out.push(r.steps);
        if (eps === epsilons[0]) r.curve.forEach((loss, i) => i % 10 === 0 && paths.push({ task: 'saddle', optimizer: label, step: i + 1, loss }));
      }
      const passed = [];
      const steps = [];
      for (const x0 of starts) {
        const r = await minimize(ctx, shallow, Float32Array.from([x0]), make, (_, x) => x[0] > 2, budget);
        passed.push(r.reached ? 1 : 0);
        steps.push(r.steps);
        if (x0 === starts[0]) r.curve.forEach((loss, i) => i % 10 === 0 && paths.push({ task: 'shallow minimum', optimizer: label, step: i + 1, loss }));
      }
      record(figures, `saddle_${key}`, out);
      record(figures, `minimum_${key}`, steps);
      figures[`escaped_${key}`] = meanStd(passed).mean;
      rows.push([label, pm(out, 0, 1), `${passed.filter(Boolean).length} of ${passed.length}`, pm(steps, 0, 1)]);
      ctx.progress(`${label}: saddle ${pm(out, 0, 1)} steps; passed the shallow minimum in ${passed.filter(Boolean).length} of ${passed.length}`);
    }
    return {
      table: { columns: ['optimizer', `steps to leave the saddle (budget ${budget})`, 'passed the shallow minimum', 'steps to the deep minimum (budget if never)'], rows },
      plots: [{
        name: 'saddles', title: 'Loss per step near a saddle and past a shallow minimum',
        spec: {
          $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: 'loss per step', data: { values: paths },
          facet: { column: { field: 'task', type: 'nominal', title: null } },
          spec: { width: 280, height: 200, mark: { type: 'line', clip: true }, encoding: { x: { field: 'step', type: 'quantitative', scale: { type: 'log' } }, y: { field: 'loss', type: 'quantitative' }, color: { field: 'optimizer', type: 'nominal', title: null, sort: null }, strokeDash: { field: 'optimizer', type: 'nominal', title: null, sort: null } } },
          resolve: { scale: { y: 'independent' } }, config: { font: 'sans-serif', legend: { orient: 'bottom', columns: 3 } },
        },
      }],
      figures,
      finding: `steps to leave the saddle: ${SADDLE_OPTIMIZERS.map(([l, k]) => `${l.split(' ')[0]} ${figures[`saddle_${k}`].toFixed(0)}`).join(', ')}; passed the shallow minimum: ${SADDLE_OPTIMIZERS.map(([l, k]) => `${l.split(' ')[0]} ${(figures[`escaped_${k}`] * starts.length).toFixed(0)}/${starts.length}`).join(', ')}.`,
    };
  },
};
