// The first lab experiments: initialization, batch normalization, the learning rate,
// regularization, the optimizers on one problem, and input scaling — each on real MNIST digits.
import { Rng, keep, randn, scope, tensor } from '@minibatch/core';
import { createDataset, standardize, zca, type Dataset } from '@minibatch/data';
import { losses } from '@minibatch/layers';
import { Adagrad, Adam, RMSprop, SGD, type Optimizer } from '@minibatch/optimizers';
import { augmentationFromConfig, toBatchTransform } from '@minibatch/augment';
import { defaultRegistry, evaluate, layerActivity, lrFind, smoothed, type EpochLogs } from '@minibatch/train';
import {
  type Figures, type LabExperiment, type Maker, NOISE_RULE, SCHEMA, clearlyBelow, lastMean, lbfgs, sgd, centered, chart, first, lines, meanStd, mlp, mnist, model, pct, pm, record, train, verdictOf,
} from './kit.js';

const GAUSS = (std: number) => ({ name: 'gaussian', config: { std } });

const INITS: [string, string, unknown][] = [['Gaussian 0.01', 'g001', GAUSS(0.01)], ['Gaussian 1.0', 'g1', GAUSS(1)], ['Xavier', 'xavier', 'xavierNormal'], ['He', 'he', 'heNormal']];

export const initActivation: LabExperiment = {
  name: 'init-activation',
  title: 'Weight initialization and the activation function in a deep network',
  claim: 'In a 10-layer network, N(0, 1) weights saturate sigmoid and tanh units, std 0.01 makes tanh activations collapse to zero with depth, Xavier init (N(0, 1)/√fan_in) collapses ReLU activations, and He init fixes ReLU.',
  source: 'CS231n, lecture 6',
  measures: 'The std and the saturated (sigmoid, tanh) or dead (ReLU) share of each layer\'s activations in a 10-layer, 256-unit network on Gaussian inputs, for 3 activations × 4 inits, averaged over 3 seeds of the weights.',
  rule: 'Five parts: tanh with std 0.01 has layer-10 std < 1e-3; tanh and sigmoid with N(0, 1) have > 50% saturated units at layer 10; ReLU with Xavier has layer-10 std < 0.2 × its layer-1 std; ReLU with He keeps layer-10 std within 0.5–2 × layer 1. Supported if all hold, not supported if none, mixed otherwise.',
  judge: (f) => verdictOf([
    f.std_tanh_g001_l10 < 1e-3,
    f.saturated_tanh_g1_l10 > 0.5,
    f.saturated_sigmoid_g1_l10 > 0.5,
    f.std_relu_xavier_l10 < 0.2 * f.std_relu_xavier_l1,
    f.std_relu_he_l10 > 0.5 * f.std_relu_he_l1 && f.std_relu_he_l10 < 2 * f.std_relu_he_l1,
  ]),
  async run(ctx) {
    const rows: (string | number)[][] = [];
    const stds: object[] = [];
    const hists: object[] = [];
    const figures: Figures = {};
    for (const activation of ['sigmoid', 'tanh', 'relu']) {
      for (const [label, key, init] of INITS) {
        const perSeed: ReturnType<typeof layerActivity>[] = [];
        for (const seed of ctx.seeds) {
          const net = model(Array.from({ length: 10 }, () => ({ name: 'dense', config: { units: 256, activation, useBias: false, kernelInitializer: init } })));
          net.build([256], new Rng(7 + seed));
          perSeed.push(scope(() => layerActivity(net, randn([ctx.quick ? 200 : 1000, 256], { rng: new Rng(100 + seed) }))));
          net.dispose();
        }
        await ctx.tick();
        const at = (layer: number, field: 'std' | 'saturated' | 'dead') => perSeed.map((a) => (a[layer][field] as number | null) ?? 0);
        for (let layer = 0; layer < 10; layer++) stds.push({ activation, init: label, layer: layer + 1, std: Math.max(meanStd(at(layer, 'std')).mean, 1e-12) });
        for (const layer of [0, 4, 9]) {
          const h = perSeed[0][layer].histogram;
          const total = h.counts.reduce((s, c) => s + c, 0);
          h.counts.forEach((c, b) => hists.push({ pair: `${activation}, ${label}`, layer: `layer ${layer + 1}`, index: layer, value: (h.edges[b] + h.edges[b + 1]) / 2, share: c / total }));
        }
        const l1 = record(figures, `std_${activation}_${key}_l1`, at(0, 'std'));
        const l10 = record(figures, `std_${activation}_${key}_l10`, at(9, 'std'));
        const share = record(figures, `${activation === 'relu' ? 'dead' : 'saturated'}_${activation}_${key}_l10`, at(9, activation === 'relu' ? 'dead' : 'saturated'));
        const std = (v: number) => (v < 1e-3 ? v.toExponential(1) : v.toPrecision(3));
        rows.push([activation, label, std(l1), std(meanStd(at(4, 'std')).mean), std(l10), pct(share)]);
        ctx.progress(`${activation}, ${label}: layer-10 std ${l10.toPrecision(3)}, ${activation === 'relu' ? 'dead' : 'saturated'} ${pct(share)}`);
      }
    }
    return {
      table: { columns: ['activation', 'init', 'std layer 1', 'std layer 5', 'std layer 10', 'layer 10 saturated (sigmoid, tanh) / dead (ReLU)'], rows },
      plots: [
        {
          name: 'init-std', title: 'Activation std per layer',
          spec: chart('std of each layer\'s activations (log scale)', stds, {
            mark: { type: 'line', point: true },
            encoding: {
              x: { field: 'layer', type: 'quantitative' }, y: { field: 'std', type: 'quantitative', scale: { type: 'log' } },
              color: { field: 'init', type: 'nominal' }, strokeDash: { field: 'init', type: 'nominal' }, column: { field: 'activation', type: 'nominal' },
            },
            width: 220,
          }),
        },
        {
          name: 'init-histograms', title: 'Activations at layers 1, 5 and 10 for each activation and init',
          spec: {
            $schema: SCHEMA, title: 'histograms of activations at layers 1, 5, 10 (rows: activation, init)', data: { values: hists },
            facet: { row: { field: 'pair', type: 'nominal', title: null, sort: null }, column: { field: 'layer', type: 'nominal', title: null, sort: { field: 'index', op: 'min' } } },
            spec: { width: 150, height: 50, mark: { type: 'area', interpolate: 'step' }, encoding: { x: { field: 'value', type: 'quantitative', title: null }, y: { field: 'share', type: 'quantitative', title: null } } },
            resolve: { scale: { x: 'independent', y: 'independent' } }, config: { font: 'sans-serif' },
          },
        },
      ],
      figures,
      finding: `layer-10 std: tanh ${figures.std_tanh_g001_l10.toExponential(1)} with std 0.01, ${figures.std_tanh_xavier_l10.toFixed(2)} with Xavier; ReLU ${figures.std_relu_xavier_l10.toFixed(3)} with Xavier (layer 1: ${figures.std_relu_xavier_l1.toFixed(2)}), ${figures.std_relu_he_l10.toFixed(2)} with He (layer 1: ${figures.std_relu_he_l1.toFixed(2)}); saturated at layer 10 with N(0, 1): sigmoid ${pct(figures.saturated_sigmoid_g1_l10)}, tanh ${pct(figures.saturated_tanh_g1_l10)}.`,
    };
  },
};

export const batchnorm: LabExperiment = {
  name: 'batchnorm',
  title: 'What batch normalization buys',
  claim: 'Batch normalization lets a network train at higher learning rates, makes it robust to bad initialization, acts as a regularizer (a smaller gap between training and validation accuracy), and keeps ReLUs from dying.',
  source: 'Ioffe & Szegedy 2015; CS231n, lecture 6',
  measures: 'Test accuracy of an MLP with and without BatchNorm over learning rates and from bad inits (std 0.01 and N(0, 1), 5 hidden layers); the train–validation gap on 500 samples for none / BN / dropout / both; the share of dead ReLU channels in a CNN after training at a high rate — each over 3 seeds.',
  rule: 'Four parts: BN reaches ≥ 90% at more learning rates than no BN; BN is ≥ 10 points better at each bad init; BN\'s train–validation gap is smaller than no regularization\'s; conv→BN→ReLU has fewer dead channels than conv→ReLU. Supported if all hold, not supported if none, mixed otherwise.' + NOISE_RULE,
  judge: (f) => verdictOf([
    f.good_lrs_bn > f.good_lrs_plain,
    f.acc_bn_g001 >= f.acc_plain_g001 + 0.1 && f.acc_bn_g1 >= f.acc_plain_g1 + 0.1,
    clearlyBelow(f, 'gap_bn', 'gap_none'),
    clearlyBelow(f, 'dead_bn', 'dead_plain'),
  ]),
  async run(ctx) {
    const data = centered(ctx);
    const figures: Figures = {};
    const rows: (string | number)[][] = [];
    const sweep: object[] = [];
    const bnAfter = (bn: boolean) => () => (bn ? [{ name: 'batchNorm' }, { name: 'relu' }] : []);
    // 1. learning rates
    const lrs = ctx.quick ? [0.03, 0.3, 3] : [0.01, 0.03, 0.1, 0.3, 1, 3];
    for (const bn of [false, true]) {
      let good = 0;
      for (const lr of lrs) {
        const accs = [];
        for (const seed of ctx.seeds) {
          const net = mlp([100, 100], bn ? null : 'relu', bnAfter(bn), 'heNormal');
          accs.push((await train(ctx, net, data, { epochs: ctx.quick ? 1 : 2, seed, optimizer: new SGD(undefined, { lr, momentum: 0.9 }) })).accuracy);
        }
        const mean = meanStd(accs).mean;
        if (mean >= 0.9) good++;
        sweep.push({ variant: bn ? 'with BatchNorm' : 'without', lr, accuracy: mean });
        rows.push(['learning rate', bn ? 'with BN' : 'without', `lr ${lr}`, pm(accs)]);
        ctx.progress(`${bn ? 'with' : 'without'} BN, lr ${lr}: ${pm(accs)}%`);
      }
      figures[bn ? 'good_lrs_bn' : 'good_lrs_plain'] = good;
    }
    // 2. bad inits, 5 hidden layers
    for (const [label, key, init] of INITS.slice(0, 2)) {
      for (const bn of [false, true]) {
        const accs = [];
        for (const seed of ctx.seeds) {
          const net = mlp([100, 100, 100, 100, 100], bn ? null : 'relu', bnAfter(bn), init);
          accs.push((await train(ctx, net, data, { epochs: ctx.quick ? 1 : 2, seed, optimizer: new SGD(undefined, { lr: 0.01, momentum: 0.9 }) })).accuracy);
        }
        record(figures, `acc_${bn ? 'bn' : 'plain'}_${key}`, accs);
        rows.push(['bad init (5 layers)', bn ? 'with BN' : 'without', label, pm(accs)]);
        ctx.progress(`init ${label}, ${bn ? 'with' : 'without'} BN: ${pm(accs)}%`);
      }
    }
    // 3. regularization: the train–validation gap on 500 samples
    const small = { train: first(data.train, 500), test: data.test };
    const gaps: object[] = [];
    for (const [label, key, bn, rate] of [['none', 'none', false, 0], ['BatchNorm', 'bn', true, 0], ['dropout 0.5', 'dropout', false, 0.5], ['both', 'both', true, 0.5]] as const) {
      const gap = [];
      for (const seed of ctx.seeds) {
        const net = mlp([256, 256], bn ? null : 'relu', () => [...(bn ? [{ name: 'batchNorm' }, { name: 'relu' }] : []), ...(rate > 0 ? [{ name: 'dropout', config: { rate } }] : [])], 'heNormal');
        const result = await train(ctx, net, small, { epochs: ctx.quick ? 10 : 30, seed, optimizer: new Adam(undefined, { lr: 1e-3 }), validation: true });
        const last = result.epochs.at(-1)!;
        gap.push(last.accuracy - last.val_accuracy);
      }
      record(figures, `gap_${key}`, gap);
      gaps.push({ variant: label, gap: meanStd(gap).mean });
      rows.push(['train − validation gap (500 samples)', label, '', `${pm(gap)} points`]);
      ctx.progress(`${label}: gap ${pm(gap)} points`);
    }
    // 4. dead ReLUs in a CNN trained at a high rate
    const images = mnist(ctx, ctx.quick ? { train: 1000, test: 300 } : { train: 4000, test: 1000 });
    for (const bn of [false, true]) {
      const dead = [];
      for (const seed of ctx.seeds) {
        const conv = (filters: number) => [{ name: 'conv2d', config: { filters, kernelSize: 3, padding: 'same' } }, ...(bn ? [{ name: 'batchNorm' }] : []), { name: 'relu' }, { name: 'maxPool2d', config: { poolSize: 2 } }];
        const net = model([...conv(16), ...conv(32), { name: 'flatten' }, { name: 'dense', config: { units: 10 } }]);
        await train(ctx, net, images, { epochs: 1, seed, optimizer: new SGD(undefined, { lr: 0.1, momentum: 0.9 }), keep: true });
        const probe = keep(tensor(images.test.x.subarray(0, 256 * 784), [256, 28, 28, 1]));
        const activity = scope(() => layerActivity(net, probe)).filter((a) => a.dead !== null);
        probe.dispose();
        net.dispose();
        dead.push(activity.reduce((s, a) => s + a.dead!, 0) / activity.length);
      }
      record(figures, bn ? 'dead_bn' : 'dead_plain', dead);
      rows.push(['dead ReLU channels (CNN, lr 0.1)', bn ? 'conv → BN → ReLU' : 'conv → ReLU', '', `${pm(dead)}%`]);
      ctx.progress(`${bn ? 'conv → BN → ReLU' : 'conv → ReLU'}: dead ${pm(dead)}%`);
    }
    return {
      table: { columns: ['part', 'network', 'setting', 'test accuracy % / figure (mean ± std)'], rows },
      plots: [
        {
          name: 'batchnorm-lr', title: 'Test accuracy against the learning rate',
          spec: chart('test accuracy after the same training, against the learning rate', sweep, {
            mark: { type: 'line', point: true },
            encoding: {
              x: { field: 'lr', type: 'quantitative', scale: { type: 'log' }, title: 'learning rate (log scale)' },
              y: { field: 'accuracy', type: 'quantitative', axis: { format: '%' } },
              color: { field: 'variant', type: 'nominal', title: null }, strokeDash: { field: 'variant', type: 'nominal', title: null },
            },
          }),
        },
        { name: 'batchnorm-gap', title: 'Train − validation accuracy gap', spec: chart('train − validation accuracy on 500 samples', gaps, { mark: 'bar', encoding: { x: { field: 'variant', type: 'nominal', sort: null, title: null }, y: { field: 'gap', type: 'quantitative', axis: { format: '%' } } } }) },
      ],
      figures,
      finding: `≥ 90% at ${figures.good_lrs_plain} of ${lrs.length} learning rates without BN, ${figures.good_lrs_bn} with it; from std 0.01: ${pct(figures.acc_plain_g001)} without, ${pct(figures.acc_bn_g001)} with; from N(0, 1): ${pct(figures.acc_plain_g1)} without, ${pct(figures.acc_bn_g1)} with; gap ${pct(figures.gap_none)} with nothing, ${pct(figures.gap_bn)} with BN, ${pct(figures.gap_dropout)} with dropout; dead channels ${pct(figures.dead_plain)} without BN, ${pct(figures.dead_bn)} with.`,
    };
  },
};

export const learningRate: LabExperiment = {
  name: 'learning-rate',
  title: 'Learning rate too low, good, too high — and the range test',
  claim: 'Too low a learning rate makes the loss fall slowly; too high makes it stall at a worse value or explode; a good one lies in between, and an LR range test finds it from one short sweep.',
  source: 'CS231n, lecture 6; Smith 2017',
  measures: 'An LR range test on an MLP, then 1-hidden-layer MLPs trained at 1e-4, at the suggested rate, at the sweep\'s minimum and at 10× that: training-loss curves and test accuracy over 3 seeds.',
  rule: 'Three parts: the suggested rate\'s test accuracy ≥ the too-low one\'s; ≥ the too-high one\'s; the too-low rate ends at a higher training loss than the suggested one. Supported if all hold, not supported if none, mixed otherwise.' + NOISE_RULE,
  judge: (f) => verdictOf([!clearlyBelow(f, 'acc_suggested', 'acc_low'), !clearlyBelow(f, 'acc_suggested', 'acc_too_high'), clearlyBelow(f, 'loss_suggested', 'loss_low')]),
  async run(ctx) {
    const data = centered(ctx);
    const net = () => mlp([100], 'relu', undefined, 'heNormal');
    const probe = net();
    const found = lrFind(probe, data.train, { loss: losses.softmaxCrossEntropy(), optimizer: new SGD(), steps: 150, start: 1e-5, end: 30, seed: 1 });
    probe.dispose();
    const cases: [string, string, number][] = [['too low', 'low', 1e-4], ['suggested by the range test', 'suggested', found.suggestion], ['high (the sweep\'s minimum)', 'high', found.minimum], ['too high', 'too_high', found.minimum * 10]];
    const figures: Figures = { suggestion: found.suggestion };
    const rows: (string | number)[][] = [];
    const values: object[] = [];
    for (const [label, key, lr] of cases) {
      const accs = [];
      const finals = [];
      for (const seed of ctx.seeds) {
        const curve: number[] = [];
        const result = await train(ctx, net(), data, { epochs: ctx.quick ? 1 : 3, seed, optimizer: new SGD(undefined, { lr }), steps: (l) => curve.push(l) });
        accs.push(result.accuracy);
        const final = lastMean(curve);
        finals.push(Number.isFinite(final) && !result.diverged ? Math.min(final, 100) : 100);
        if (seed === ctx.seeds[0]) smoothed(curve, 0.9).forEach((loss, step) => Number.isFinite(loss) && values.push({ step, loss, lr: `${label} (${lr.toExponential(1)})` }));
      }
      record(figures, `acc_${key}`, accs);
      const loss = record(figures, `loss_${key}`, finals);
      rows.push([label, lr.toExponential(1), loss >= 100 ? 'diverged' : loss.toFixed(4), pm(accs)]);
      ctx.progress(`lr ${lr.toExponential(1)} (${label}): ${pm(accs)}%`);
    }
    const sweep = found.lrs.map((lr, i) => ({ lr, loss: found.smoothed[i] }));
    return {
      table: { columns: ['learning rate', 'value (SGD)', 'final training loss (last 20 steps)', 'test accuracy %'], rows },
      plots: [
        {
          name: 'lr-curves', title: 'Loss curves at four learning rates',
          spec: chart('training loss (smoothed) at four learning rates', values, {
            mark: { type: 'line', clip: true },
            encoding: {
              x: { field: 'step', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative', scale: { type: 'log', domain: [0.05, 5] } },
              color: { field: 'lr', type: 'nominal', title: null }, strokeDash: { field: 'lr', type: 'nominal', title: null },
            },
          }),
        },
        {
          name: 'lr-range-test', title: 'The range test',
          spec: chart('LR range test on the same network', sweep, {
            layer: [
              { mark: 'line', encoding: { x: { field: 'lr', type: 'quantitative', scale: { type: 'log' } }, y: { field: 'loss', type: 'quantitative' } } },
              { data: { values: [{ lr: found.suggestion }] }, mark: { type: 'rule', strokeDash: [4, 4] }, encoding: { x: { field: 'lr', type: 'quantitative' } } },
            ],
          }),
        },
      ],
      figures,
      finding: `the range test suggested ${found.suggestion.toExponential(1)}: test accuracy ${pct(figures.acc_suggested)} there, ${pct(figures.acc_low)} at 1e-4 (final loss ${figures.loss_low.toFixed(3)} vs ${figures.loss_suggested.toFixed(3)}) and ${pct(figures.acc_too_high)} at ${(found.minimum * 10).toExponential(1)}.`,
    };
  },
};

export const regularization: LabExperiment = {
  name: 'regularization',
  title: 'Overfitting and regularization',
  claim: 'On a small training set a big network overfits — training accuracy reaches 100% while validation accuracy lags — and dropout, an L2 penalty and data augmentation narrow the gap.',
  source: 'CS231n, lecture 7',
  measures: 'Train and validation accuracy per epoch of a 256-256 MLP on 500 MNIST digits, with no regularization, dropout 0.5, L2 (λ = 0.01, 0.1) and augmentation (shifts, rotations), over 3 seeds.',
  rule: 'Supported if every regularizer\'s final train − validation gap is smaller than the unregularized one\'s; not supported if none is; mixed otherwise.' + NOISE_RULE,
  judge: (f) => verdictOf(['dropout', 'l2_001', 'l2_01', 'augmentation'].map((k) => clearlyBelow(f, `gap_${k}`, 'gap_none'))),
  async run(ctx) {
    const all = centered(ctx);
    const data = { train: first(all.train, 500), test: all.test };
    const registry = defaultRegistry();
    const variants: [string, string, object[], { regularization?: never[]; transform?: never }][] = [
      ['none', 'none', [], {}],
      ['dropout 0.5', 'dropout', [{ name: 'dropout', config: { rate: 0.5 } }], {}],
      ['L2 λ = 0.01', 'l2_001', [], { regularization: [registry.create('regularizer', 'l2', { lambda: 0.01 }) as never] }],
      ['L2 λ = 0.1', 'l2_01', [], { regularization: [registry.create('regularizer', 'l2', { lambda: 0.1 }) as never] }],
      ['augmentation (shifts, rotations)', 'augmentation', [], { transform: toBatchTransform(augmentationFromConfig(registry, [{ name: 'translate', config: { x: 0.1, y: 0.1 } }, { name: 'rotate', config: { degrees: 10 } }]), { classes: 10 }) as never }],
    ];
    const epochs = ctx.quick ? 10 : 40;
    const figures: Figures = {};
    const rows: (string | number)[][] = [];
    const values: object[] = [];
    for (const [label, key, extra, options] of variants) {
      const trainAcc = [];
      const valAcc: number[] = [];
      for (const seed of ctx.seeds) {
        const net = mlp([256, 256], 'relu', () => extra, 'heNormal');
        const result = await train(ctx, net, data, { epochs, seed, optimizer: new Adam(undefined, { lr: 1e-3 }), validation: true, ...options });
        if (seed === ctx.seeds[0]) {
          for (const e of result.epochs as EpochLogs[]) {
            values.push({ variant: label, epoch: e.epoch, accuracy: e.accuracy, split: 'train' });
            values.push({ variant: label, epoch: e.epoch, accuracy: e.val_accuracy, split: 'validation' });
          }
        }
        const last = result.epochs.at(-1)!;
        trainAcc.push(last.accuracy);
        valAcc.push(last.val_accuracy);
      }
      const gap = record(figures, `gap_${key}`, trainAcc.map((t, i) => t - valAcc[i]));
      record(figures, `val_${key}`, valAcc);
      rows.push([label, pm(trainAcc), pm(valAcc), `${(gap * 100).toFixed(1)} points`]);
      ctx.progress(`${label}: train ${pm(trainAcc)}%, validation ${pm(valAcc)}%`);
    }
    return {
      table: { columns: ['regularization (500 training samples)', 'train accuracy %', 'validation accuracy %', 'gap'], rows },
      plots: [{
        name: 'regularization', title: 'Train and validation accuracy per epoch (seed 1)',
        spec: {
          $schema: SCHEMA, title: 'train vs validation accuracy on 500 training samples', data: { values },
          facet: { field: 'variant', type: 'nominal', title: null, sort: null },
          columns: 3,
          spec: {
            width: 200, height: 160, mark: 'line',
            encoding: { x: { field: 'epoch', type: 'quantitative' }, y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0.5, 1] }, axis: { format: '%' } }, color: { field: 'split', type: 'nominal', title: null }, strokeDash: { field: 'split', type: 'nominal', title: null } },
          },
          config: { font: 'sans-serif', legend: { orient: 'bottom' } },
        },
      }],
      figures,
      finding: `train − validation gap: ${rows.map((r) => `${r[0]} ${r[3]} (validation ${r[2]}%)`).join(', ')}.`,
    };
  },
};

export const optimizers: LabExperiment = {
  name: 'optimizers',
  title: 'Optimizers on the same problem',
  claim: 'Adam is a good default; SGD with momentum trains as well; AdaGrad slows down as its step sizes shrink (RMSProp\'s decaying average fixes it); L-BFGS converges in few iterations on a full batch.',
  source: 'CS231n, lecture 6',
  measures: 'Training loss and test accuracy of one MLP on 2,000 digits (quick: 500) under SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam at their usual rates, over 3 seeds; L-BFGS against gradient descent on the full batch for the same number of iterations.',
  rule: 'Four parts: Adam within 1 point of the best mini-batch optimizer; momentum within 1 point of Adam; AdaGrad ends at a higher training loss than RMSProp; full-batch L-BFGS ends at a lower training loss than full-batch gradient descent. Supported if all hold, not supported if none, mixed otherwise.' + NOISE_RULE,
  judge: (f) => verdictOf([
    f.acc_adam >= Math.max(f.acc_sgd, f.acc_momentum, f.acc_nesterov, f.acc_adagrad, f.acc_rmsprop, f.acc_adam) - 0.01,
    f.acc_momentum >= f.acc_adam - 0.01,
    clearlyBelow(f, 'loss_rmsprop', 'loss_adagrad'),
    clearlyBelow(f, 'loss_lbfgs', 'loss_gd_full'),
  ]),
  async run(ctx) {
    const all = centered(ctx);
    const n = ctx.quick ? 500 : 2000;
    const data = { train: first(all.train, n), test: all.test };
    const makers: [string, string, () => Optimizer<object>][] = [
      ['SGD 0.1', 'sgd', () => new SGD(undefined, { lr: 0.1 })],
      ['momentum 0.9, 0.01', 'momentum', () => new SGD(undefined, { lr: 0.01, momentum: 0.9 })],
      ['Nesterov 0.9, 0.01', 'nesterov', () => new SGD(undefined, { lr: 0.01, momentum: 0.9, nesterov: true })],
      ['AdaGrad 0.01', 'adagrad', () => new Adagrad(undefined, { lr: 0.01 })],
      ['RMSProp 1e-3', 'rmsprop', () => new RMSprop(undefined, { lr: 1e-3 })],
      ['Adam 1e-3', 'adam', () => new Adam(undefined, { lr: 1e-3 })],
    ];
    const epochs = ctx.quick ? 8 : 10;
    const figures: Figures = {};
    const rows: (string | number)[][] = [];
    const values: object[] = [];
    for (const [label, key, make] of makers) {
      const accs = [];
      const finals = [];
      for (const seed of ctx.seeds) {
        const curve: number[] = [];
        const result = await train(ctx, mlp([100], 'relu', undefined, 'heNormal'), data, { epochs, seed, optimizer: make(), steps: (l) => curve.push(l) });
        if (seed === ctx.seeds[0]) smoothed(curve, 0.9).forEach((loss, step) => values.push({ optimizer: label, step, loss }));
        accs.push(result.accuracy);
        finals.push(lastMean(curve));
      }
      record(figures, `acc_${key}`, accs);
      const loss = record(figures, `loss_${key}`, finals);
      rows.push([label, epochs * Math.ceil(n / 64), loss.toFixed(4), pm(accs)]);
      ctx.progress(`${label}: ${pm(accs)}%`);
    }
    // Full batch: L-BFGS (one iteration per step; its line search evaluates the loss more often) against gradient descent.
    const iterations = ctx.quick ? 30 : 100;
    const x = keep(tensor(data.train.x, [data.train.count, ...data.train.shape]));
    const ce = losses.softmaxCrossEntropy();
    const fullBatch = async (label: string, key: string, make: Maker) => {
      const accs = [];
      const finals = [];
      for (const seed of ctx.seeds) {
        const net = mlp([100], 'relu', undefined, 'heNormal');
        net.build(data.train.shape, new Rng(seed));
        const opt = make(net.trainableParameters());
        const closure = () => {
          const l = ce(net.forward(x), data.train.y);
          l.backward();
          return l;
        };
        let last = NaN;
        for (let i = 0; i < iterations; i++) {
          last = scope(() => opt.step(closure));
          if (seed === ctx.seeds[0]) values.push({ optimizer: label, step: i, loss: last });
          if (i % 10 === 9) await ctx.tick();
        }
        accs.push(evaluate(net, data.test, { metrics: ['accuracy'] }).accuracy);
        finals.push(last);
        opt.dispose();
        net.dispose();
      }
      record(figures, `acc_${key}`, accs);
      const loss = record(figures, `loss_${key}`, finals);
      rows.push([label, iterations, loss.toFixed(4), pm(accs)]);
      ctx.progress(`${label}: ${pm(accs)}%`);
    };
    try {
      await fullBatch('L-BFGS (full batch)', 'lbfgs', lbfgs());
      await fullBatch('gradient descent 0.1 (full batch)', 'gd_full', sgd(0.1));
    } finally {
      x.dispose();
    }
    const best = makers.map(([label, key]) => [label, figures[`acc_${key}`]] as const).sort((a, b) => b[1] - a[1])[0];
    return {
      table: { columns: ['optimizer', 'steps', 'final training loss', 'test accuracy %'], rows },
      plots: [{ name: 'optimizers', title: 'Training loss against steps (seed 1)', spec: lines(`training loss (smoothed) on ${n} MNIST digits; L-BFGS and GD on the full batch`, values, 'step', 'loss', 'optimizer', { logY: true }) }],
      figures,
      finding: `best mini-batch optimizer ${best[0]} (${pct(best[1])}); Adam ${pct(figures.acc_adam)}, momentum ${pct(figures.acc_momentum)}; final loss AdaGrad ${figures.loss_adagrad.toFixed(3)} vs RMSProp ${figures.loss_rmsprop.toFixed(3)}; full batch after ${iterations} iterations: L-BFGS ${figures.loss_lbfgs.toFixed(3)} vs gradient descent ${figures.loss_gd_full.toFixed(3)}.`,
    };
  },
};

export const inputScaling: LabExperiment = {
  name: 'input-scaling',
  title: 'Input scaling and normalization',
  claim: 'Inputs should be shifted to zero mean and scaled to comparable variance (better still, decorrelated): zero-centred inputs train faster than inputs in [0, 1], and raw 0–255 bytes train worst.',
  source: 'LeCun et al., Efficient BackProp, §4.3; CS231n, lecture 6',
  measures: 'Final training loss (mean of the last 20 steps) and test accuracy of sigmoid and tanh MLPs (SGD, momentum 0.9, lr 0.01) on raw bytes, min–max [0, 1], zero-centred, standardized and ZCA-whitened inputs, over 3 seeds.',
  rule: 'For each of sigmoid and tanh: the loss is ordered zero-centred < min–max [0, 1] < raw bytes. Supported if the order holds for both activations, mixed if for one, not supported if for neither.' + NOISE_RULE,
  judge: (f) => verdictOf(['sigmoid', 'tanh'].map((a) => clearlyBelow(f, `loss_${a}_centered`, `loss_${a}_minmax`) && clearlyBelow(f, `loss_${a}_minmax`, `loss_${a}_raw`))),
  async run(ctx) {
    const { train: rawTrain, test: rawTest } = mnist(ctx);
    const scaled = (d: Dataset, k: number) => createDataset(d.x.map((v) => v * k), d.y, d.shape, { classes: d.classes });
    const pre: [string, string, () => { train: Dataset; test: Dataset }][] = [
      ['raw bytes 0…255', 'raw', () => ({ train: scaled(rawTrain, 255), test: scaled(rawTest, 255) })],
      ['min–max [0, 1]', 'minmax', () => ({ train: rawTrain, test: rawTest })],
      ['zero-centred', 'centered', () => centered(ctx)],
      ['standardized', 'standardized', () => { const f = standardize({ per: 'global' }).fit(rawTrain); return { train: f.transform(rawTrain), test: f.transform(rawTest) }; }],
      ['ZCA-whitened', 'whitened', () => { const f = zca({ epsilon: 0.1 }).fit(rawTrain); return { train: f.transform(rawTrain), test: f.transform(rawTest) }; }],
    ];
    const epochs = ctx.quick ? 1 : 3;
    const figures: Figures = {};
    const rows: (string | number)[][] = [];
    const values: object[] = [];
    for (const [label, key, make] of pre) {
      const data = make();
      for (const activation of ['sigmoid', 'tanh']) {
        const accs = [];
        const finals = [];
        for (const seed of ctx.seeds) {
          const curve: number[] = [];
          const result = await train(ctx, mlp([100], activation, undefined, 'xavierNormal'), data, { epochs, seed, optimizer: new SGD(undefined, { lr: 0.01, momentum: 0.9 }), steps: (l) => curve.push(l) });
          accs.push(result.accuracy);
          const final = lastMean(curve);
          finals.push(result.diverged || !Number.isFinite(final) ? 100 : Math.min(final, 100));
          if (seed === ctx.seeds[0]) smoothed(curve, 0.9).forEach((l, i) => i % 5 === 0 && Number.isFinite(l) && values.push({ activation, variant: label, step: i, loss: l }));
        }
        record(figures, `acc_${activation}_${key}`, accs);
        const loss = record(figures, `loss_${activation}_${key}`, finals);
        rows.push([activation, label, loss >= 100 ? 'diverged' : loss.toFixed(4), pm(accs)]);
        ctx.progress(`${activation}, ${label}: loss ${loss.toFixed(3)}, ${pm(accs)}%`);
      }
    }
    return {
      table: { columns: ['activation', 'inputs', 'final training loss', 'test accuracy %'], rows },
      plots: [{
        name: 'input-scaling', title: 'Training loss per input scaling (seed 1)',
        spec: {
          $schema: SCHEMA, title: 'training loss (smoothed) per input scaling', data: { values },
          facet: { column: { field: 'activation', type: 'nominal', title: null } },
          spec: {
            width: 300, height: 220, mark: { type: 'line', clip: true },
            encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative', scale: { type: 'log' } }, color: { field: 'variant', type: 'nominal', title: null, sort: null }, strokeDash: { field: 'variant', type: 'nominal', title: null, sort: null } },
          },
          config: { font: 'sans-serif', legend: { orient: 'bottom', columns: 3 } },
        },
      }],
      figures,
      finding: ['sigmoid', 'tanh'].map((a) => `${a}: loss ${pre.map(([label, key]) => `${label} ${figures[`loss_${a}_${key}`].toFixed(3)}`).join(', ')}`).join('; ') + '.',
    };
  },
};

