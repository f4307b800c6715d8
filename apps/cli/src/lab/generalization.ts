// Generalization: dropout as an ensemble inside one model, ensembles of models, and how to
// search for the hyper-parameters that generalize best.
import { Rng, keep, noGrad, scope, softmax, tensor } from '@minibatch/core';
import type { Dataset } from '@minibatch/data';
import type { Module } from '@minibatch/layers';
import { Adam, SGD, cosineWarmRestarts } from '@minibatch/optimizers';
import { Snapshots, correctCount, defaultRegistry, evaluate, fitAsync, predict } from '@minibatch/train';
import {
  type Figures, type LabContext, type LabExperiment, LabInterrupted, NOISE_RULE, clearlyBelow, centered, chart, first, lines, meanStd, mlp, pct, pm, record, train, verdictOf,
} from './kit.js';

/** Share of rows of summed class probabilities ([count × classes]) whose largest entry is the label. */
const accuracyOf = (sums: Float32Array, labels: Int32Array, classes: number) => correctCount(sums, labels, classes) / labels.length;

/** The mean of T stochastic passes (dropout on) of the model's class probabilities, after each T in `counts`. */
function monteCarlo(m: Module, test: Dataset, counts: readonly number[]): Map<number, number> {
  const x = keep(tensor(test.x, [test.count, ...test.shape]));
  const sums = new Float32Array(test.count * test.classes);
  const out = new Map<number, number>();
  m.train();
  try {
    for (let t = 1; t <= Math.max(...counts); t++) {
      const p = noGrad(() => scope(() => softmax(m.forward(x)).data().slice()));
      for (let i = 0; i < p.length; i++) sums[i] += p[i];
      if (counts.includes(t)) out.set(t, accuracyOf(sums, test.y, test.classes));
    }
  } finally {
    m.eval();
    x.dispose();
  }
  return out;
}

const PASSES = [1, 2, 5, 10, 20, 50];

export const dropoutEnsemble: LabExperiment = {
  name: 'dropout-ensemble',
  title: 'Dropout as an ensemble inside one model',
  claim: 'Dropout trains an exponential ensemble of sub-networks: scaling the weights at test time approximates averaging many stochastic passes; it trains slower but generalizes better; about 20% dropout on the inputs and 50% on hidden units works well.',
  source: 'Srivastava et al. 2014; CS231n, lecture 7',
  measures: 'A 256-256 MLP (Adam, 4,000 digits, 25 epochs) with dropout rates (inputs, hidden) from (0, 0) to (0.2, 0.8): test accuracy with weight-scaled inference, and for (0.2, 0.5) with Monte-Carlo averages of T = 1…50 stochastic passes; epochs to reach a training loss of 0.15 with and without dropout — over 3 seeds.',
  rule: 'Five parts: Monte-Carlo averaging with T = 50 is within 0.5 points of weight scaling; a single stochastic pass (T = 1) is below weight scaling; dropout (0.2, 0.5) needs more epochs to the loss target than no dropout; it ends with a higher test accuracy than no dropout; and it is within 0.5 points of the best rate pair tried. Supported if all hold, not supported if none, mixed otherwise.' + NOISE_RULE,
  judge: (f) => verdictOf([
    Math.abs(f.acc_mc_50 - f.acc_rates_0_2_0_5) <= 0.005,
    clearlyBelow(f, 'acc_mc_1', 'acc_rates_0_2_0_5'),
    clearlyBelow(f, 'epochs_to_target_none', 'epochs_to_target_dropout'),
    clearlyBelow(f, 'acc_rates_0_0', 'acc_rates_0_2_0_5'),
    f.acc_rates_0_2_0_5 >= f.best_rates - 0.005,
  ]),
  async run(ctx) {
    // 4,000 samples and 25 epochs: long enough for the network without dropout to overfit.
    const data = centered(ctx, ctx.quick ? undefined : { train: 4000, test: 2000 });
    const epochs = ctx.quick ? 6 : 25;
    const target = 0.15;
    const figures: Figures = {};
    const rows: (string | number)[][] = [];
    const mcValues: object[] = [];
    const curves: object[] = [];
    const rates: [number, number][] = [[0, 0], [0.2, 0.5], [0, 0.5], [0.5, 0.5], [0.2, 0.2], [0.2, 0.8]];
    const mc = new Map<number, number[]>(PASSES.map((t) => [t, []]));
    for (const [input, hidden] of rates) {
      const accs = [];
      const reach = [];
      for (const seed of ctx.seeds) {
        const net = mlp([256, 256], 'relu', () => (hidden > 0 ? [{ name: 'dropout', config: { rate: hidden } }] : []), 'heNormal', input > 0 ? [{ name: 'dropout', config: { rate: input } }] : []);
        const result = await train(ctx, net, data, { epochs, seed, optimizer: new Adam(undefined, { lr: 1e-3 }), keep: true });
        accs.push(result.accuracy);
        const at = result.epochs.findIndex((e) => e.loss <= target);
        reach.push(at < 0 ? epochs + 1 : at + 1);
        if (seed === ctx.seeds[0] && (hidden === 0 || (input === 0.2 && hidden === 0.5))) result.epochs.forEach((e) => curves.push({ model: hidden === 0 ? 'no dropout' : 'dropout 0.2 / 0.5', epoch: e.epoch + 1, loss: e.loss }));
        if (input === 0.2 && hidden === 0.5) for (const [t, acc] of monteCarlo(net, data.test, PASSES)) mc.get(t)!.push(acc);
        net.dispose();
      }
      const key = `rates_${input}_${hidden}`.replace(/\./g, '_');
      record(figures, `acc_${key}`, accs);
      rows.push([`dropout ${input} on inputs, ${hidden} on hidden units`, pm(accs), reach.every((r) => r > epochs) ? `> ${epochs}` : pm(reach, 1, 1)]);
      if (input === 0 && hidden === 0) record(figures, 'epochs_to_target_none', reach);
      if (input === 0.2 && hidden === 0.5) record(figures, 'epochs_to_target_dropout', reach);
      ctx.progress(`dropout ${input} / ${hidden}: ${pm(accs)}%`);
    }
    figures.best_rates = Math.max(...rates.map(([i, h]) => figures[`acc_rates_${i}_${h}`.replace(/\./g, '_')]));
    for (const [t, accs] of mc) {
      const acc = record(figures, `acc_mc_${t}`, accs);
      mcValues.push({ passes: t, accuracy: acc, inference: 'Monte-Carlo average' }, { passes: t, accuracy: figures.acc_rates_0_2_0_5, inference: 'weight scaling' });
      rows.push([`(0.2, 0.5): Monte-Carlo average of ${t} pass${t === 1 ? '' : 'es'}`, pm(accs), '']);
    }
    ctx.progress(`Monte-Carlo: T = 1 ${pct(figures.acc_mc_1)}, T = 50 ${pct(figures.acc_mc_50)}; weight scaling ${pct(figures.acc_rates_0_2_0_5)}`);
    return {
      table: { columns: ['model (256-256 MLP, Adam)', 'test accuracy %', `epochs to training loss ≤ ${target}`], rows },
      plots: [
        { name: 'dropout-mc', title: 'Monte-Carlo averaging against weight scaling', spec: lines('test accuracy against the number of stochastic passes T', mcValues, 'passes', 'accuracy', 'inference', { logX: true }) },
        { name: 'dropout-training', title: 'Training loss per epoch with and without dropout', spec: lines('training loss per epoch (log scale)', curves, 'epoch', 'loss', 'model', { logY: true }) },
      ],
      figures,
      finding: `weight scaling ${pct(figures.acc_rates_0_2_0_5)} vs Monte-Carlo T = 1 ${pct(figures.acc_mc_1)}, T = 50 ${pct(figures.acc_mc_50)}; epochs to loss ≤ ${target}: ${figures.epochs_to_target_none.toFixed(1)} without dropout, ${figures.epochs_to_target_dropout.toFixed(1)} with; test ${pct(figures.acc_rates_0_0)} without, ${pct(figures.acc_rates_0_2_0_5)} with 0.2 / 0.5 (best pair ${pct(figures.best_rates)}).`,
    };
  },
};

export const ensembleSize: LabExperiment = {
  name: 'ensemble-size',
  title: 'How many models to average',
  claim: 'Averaging the predictions of about 10 independently trained models gains around 2% of test accuracy; a snapshot ensemble from one cyclic-learning-rate run gets part of that gain at the cost of one model.',
  source: 'CS231n, lecture 7; Huang et al. 2017',
  measures: 'Test accuracy of the average of the first N of 10 (quick: 5) independently seeded 256-unit MLPs (SGD, momentum 0.9, 12 epochs), N = 1…10, and of a snapshot ensemble of the cycles of one run of the same length with a cosine schedule with warm restarts — over 3 groups of seeds.',
  rule: 'Two parts: the ensemble of all members beats the mean single model by ≥ 1.5 points (three quarters of the claim); the snapshot ensemble beats the mean single model. Supported if both hold, not supported if neither, mixed otherwise.' + NOISE_RULE,
  judge: (f) => verdictOf([f.gain_all >= 0.015, clearlyBelow(f, 'acc_single', 'acc_snapshots')]),
  async run(ctx) {
    const data = centered(ctx);
    const members = ctx.quick ? 5 : 10;
    const epochs = ctx.quick ? 3 : 12;
    const figures: Figures = {};
    const curve = new Map<number, number[]>(Array.from({ length: members }, (_, i) => [i + 1, []]));
    const singles: number[] = [];
    const snapshotAccs: number[] = [];
    const lastSnapshot: number[] = [];
    for (const group of ctx.seeds) {
      const sums = new Float32Array(data.test.count * data.test.classes);
      for (let i = 0; i < members; i++) {
        const net = mlp([256], 'relu', undefined, 'heNormal');
        const result = await train(ctx, net, data, { epochs, seed: group * 1000 + i, optimizer: new SGD(undefined, { lr: 0.02, momentum: 0.9 }), keep: true });
        singles.push(result.accuracy);
        const p = predict(net, data.test, { probabilities: true });
        net.dispose();
        for (let k = 0; k < p.length; k++) sums[k] += p[k];
        curve.get(i + 1)!.push(accuracyOf(sums, data.test.y, data.test.classes));
      }
      snapshotAccs.push(await snapshotEnsemble(ctx, data, epochs, group, lastSnapshot));
      ctx.progress(`seed group ${group}: single ${pct(meanStd(singles.slice(-members)).mean)}, ensemble of ${members} ${pct(curve.get(members)!.at(-1)!)}, snapshots ${pct(snapshotAccs.at(-1)!)}`);
    }
    const single = record(figures, 'acc_single', singles);
    const rows: (string | number)[][] = [];
    const values: object[] = [];
    for (const [n, accs] of curve) {
      const acc = record(figures, `acc_ensemble_${n}`, accs);
      values.push({ n, accuracy: acc, kind: 'independent members' });
      rows.push([`average of ${n} member${n === 1 ? '' : 's'}`, pm(accs), `${((acc - single) * 100).toFixed(2)} points`, n]);
    }
    figures.gain_all = figures[`acc_ensemble_${members}`] - single;
    const snapshots = record(figures, 'acc_snapshots', snapshotAccs);
    record(figures, 'acc_last_snapshot', lastSnapshot);
    values.push({ n: 1, accuracy: snapshots, kind: 'snapshot ensemble (one run)' });
    rows.push(['snapshot ensemble (one run, 4 cycles)', pm(snapshotAccs), `${((snapshots - single) * 100).toFixed(2)} points`, 1]);
    const errorCut = 1 - (1 - figures[`acc_ensemble_${members}`]) / (1 - single);
    return {
      table: { columns: ['model', 'test accuracy %', 'gain over one model', 'training cost (models)'], rows },
      plots: [{
        name: 'ensemble-size', title: 'Test accuracy against the number of members',
        spec: chart('test accuracy against the training cost (models trained)', values, {
          mark: { type: 'line', point: true },
          encoding: { x: { field: 'n', type: 'quantitative', title: 'models trained' }, y: { field: 'accuracy', type: 'quantitative', scale: { zero: false }, axis: { format: '%' } }, color: { field: 'kind', type: 'nominal', title: null }, shape: { field: 'kind', type: 'nominal', title: null } },
        }),
      }],
      figures,
      finding: `one model ${pct(single)}; the average of ${members} ${pct(figures[`acc_ensemble_${members}`])} (+${(figures.gain_all * 100).toFixed(2)} points, ${(errorCut * 100).toFixed(0)}% fewer errors); a snapshot ensemble at one model's cost ${pct(snapshots)} (its last snapshot alone ${pct(figures.acc_last_snapshot)}).`,
    };
  },
};

/** One run with 4 cosine cycles (SGD, momentum 0.9); the accuracy of its snapshots' ensemble. */
async function snapshotEnsemble(ctx: LabContext, data: { train: Dataset; test: Dataset }, epochs: number, seed: number, last: number[]): Promise<number> {
  const net = mlp([256], 'relu', undefined, 'heNormal');
  net.build(data.train.shape, new Rng(seed));
  const steps = epochs * Math.ceil(data.train.count / 64);
  const cycles = 4;
  const optimizer = new SGD(undefined, { lr: cosineWarmRestarts({ initial: 0.05, period: Math.floor(steps / cycles) }), momentum: 0.9 });
  const snapshots = new Snapshots(net, optimizer, { count: cycles, steps });
  await fitAsync(net, data.train, { epochs, batchSize: 64, seed, optimizer, snapshots, shouldStop: ctx.stopping });
  if (ctx.stopping()) {
    net.dispose();
    throw new LabInterrupted();
  }
  last.push(evaluate(net, data.test, { metrics: ['accuracy'] }).accuracy);
  const ensemble = snapshots.ensemble(defaultRegistry());
  net.dispose();
  const accuracy = evaluate(ensemble, data.test, { metrics: ['accuracy'] }).accuracy;
  ensemble.dispose();
  return accuracy;
}

export const randomVsGrid: LabExperiment = {
  name: 'random-vs-grid',
  title: 'Random search against grid search',
  claim: 'At the same budget, random search finds better hyper-parameters than grid search, because it tries a distinct value of the important hyper-parameter in every trial where a grid repeats a few.',
  source: 'CS231n, lecture 6; Bergstra & Bengio 2012',
  measures: 'The best validation accuracy of 9 trials — a 3 × 3 grid against 9 random draws (the search\'s own grid and random strategies) — over the learning rate (important, log-uniform 1e-3…1) and an L2 penalty (unimportant, log-uniform 1e-6…1e-3) of an MLP trained with plain SGD, repeated over 5 search seeds; and the number of distinct learning rates each tried.',
  rule: 'Two parts: random search\'s mean best validation accuracy is higher than grid search\'s; random search tries more distinct learning rates. Supported if both hold, not supported if neither, mixed otherwise.' + NOISE_RULE,
  judge: (f) => verdictOf([clearlyBelow(f, 'best_grid', 'best_random'), f.distinct_lr_random > f.distinct_lr_grid]),
  async run(ctx) {
    const { gridTrials, randomTrials } = await import('@minibatch/train/search');
    const all = centered(ctx);
    const data = { train: first(all.train, ctx.quick ? 600 : 2000), test: first(all.test, 500) };
    const space = { 'optimizer.config.lr': { kind: 'logUniform' as const, low: 1e-3, high: 1 }, 'regularization[0].config.lambda': { kind: 'logUniform' as const, low: 1e-6, high: 1e-3 } };
    const registry = defaultRegistry();
    const figures: Figures = {};
    const best: Record<'grid' | 'random', number[]> = { grid: [], random: [] };
    const distinct: Record<'grid' | 'random', number[]> = { grid: [], random: [] };
    const trialsPlot: object[] = [];
    const searchSeeds = [1, 2, 3, 4, 5];
    for (const searchSeed of searchSeeds) {
      for (const strategy of ['grid', 'random'] as const) {
        const trials = strategy === 'grid' ? gridTrials(space, 9) : randomTrials(space, 9, searchSeed);
        let top = 0;
        for (const trial of trials) {
          const lr = trial.values['optimizer.config.lr'] as number;
          const lambda = trial.values['regularization[0].config.lambda'] as number;
          const result = await train(ctx, mlp([64], 'relu', undefined, 'heNormal'), data, { epochs: ctx.quick ? 2 : 3, seed: searchSeed, optimizer: new SGD(undefined, { lr }), regularization: [registry.create('regularizer', 'l2', { lambda }) as never] });
          top = Math.max(top, result.accuracy);
          if (searchSeed === 1) trialsPlot.push({ strategy, lr, accuracy: result.accuracy });
        }
        best[strategy].push(top);
        distinct[strategy].push(new Set(trials.map((t) => t.values['optimizer.config.lr'])).size);
      }
      ctx.progress(`search seed ${searchSeed}: best grid ${pct(best.grid.at(-1)!)}, best random ${pct(best.random.at(-1)!)}`);
    }
    const rows: (string | number)[][] = [];
    for (const strategy of ['grid', 'random'] as const) {
      record(figures, `best_${strategy}`, best[strategy]);
      figures[`distinct_lr_${strategy}`] = meanStd(distinct[strategy]).mean;
      figures[`worst_best_${strategy}`] = Math.min(...best[strategy]);
      rows.push([strategy, pm(best[strategy], 2), pct(Math.min(...best[strategy])), figures[`distinct_lr_${strategy}`]]);
    }
    return {
      table: { columns: ['strategy (9 trials)', 'best validation accuracy % (5 search seeds)', 'worst of the 5 bests', 'distinct learning rates tried'], rows },
      plots: [{
        name: 'random-vs-grid', title: 'Validation accuracy of each trial against its learning rate (search seed 1)',
        spec: chart('each trial: validation accuracy against the learning rate (the important one)', trialsPlot, {
          mark: { type: 'point', filled: true, size: 70 },
          encoding: { x: { field: 'lr', type: 'quantitative', scale: { type: 'log' }, title: 'learning rate (log scale)' }, y: { field: 'accuracy', type: 'quantitative', axis: { format: '%' } }, color: { field: 'strategy', type: 'nominal', title: null }, shape: { field: 'strategy', type: 'nominal', title: null } },
        }),
      }],
      figures,
      finding: `best validation accuracy over 5 searches: random ${pm(best.random, 2)}%, grid ${pm(best.grid, 2)}%; distinct learning rates tried: random ${figures.distinct_lr_random}, grid ${figures.distinct_lr_grid}.`,
    };
  },
};
