// How training behaves: batch size, the order of the examples, activation functions, and the
// sharpness of the minimum a run ends in.
import { Rng, keep, randn, scope, sum, tensor } from '@minibatch/core';
import { createDataset, subset, type Dataset } from '@minibatch/data';
import { losses } from '@minibatch/layers';
import { Adam, SGD } from '@minibatch/optimizers';
import { evaluate, largestEigenvalue, smoothed } from '@minibatch/train';
import {
  type Figures, type LabExperiment, NOISE_RULE, centered, lastMean, clearlyBelow, chart, lines, meanStd, mlp, model, pct, pm, record, train, verdictOf,
} from './kit.js';

/** The training set with `share` of its labels moved to another class (seeded). */
function flipLabels(d: Dataset, share: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const y = d.y.slice();
  for (let i = 0; i < y.length; i++) if (rng.uniform() < share) y[i] = (y[i] + 1 + Math.floor(rng.uniform() * (d.classes - 1))) % d.classes;
  return createDataset(d.x, y, d.shape, { classes: d.classes });
}

const trainingLoss = (m: Parameters<typeof evaluate>[0], d: Dataset) => evaluate(m, d, { metrics: ['accuracy'] }).loss;

export const batchSize: LabExperiment = {
  name: 'batch-size',
  title: 'One sample, a mini-batch, or the full batch',
  claim: 'Stochastic updates make far more progress per pass over the data than full-batch gradient descent, mini-batches keep that at a fraction of the cost per sample, and single-sample updates are the most hurt by noisy labels.',
  source: 'LeCun et al., Efficient BackProp, §4.1; CS231n, lecture 6',
  measures: 'The MLP trained with SGD at batch 1 (lr 0.005), 64 (lr 0.05) and the whole training set (lr 0.5) for the same number of epochs: training loss per epoch and per second, test accuracy — on clean labels and with 20% of the training labels flipped — over 3 seeds.',
  rule: 'Three parts: batch 64 ends at a lower training loss than the full batch; batch 1 does too; flipping 20% of the labels costs batch 1 more test accuracy than batch 64. Supported if all hold, not supported if none, mixed otherwise.' + NOISE_RULE,
  judge: (f) => verdictOf([clearlyBelow(f, 'loss_64', 'loss_full'), clearlyBelow(f, 'loss_1', 'loss_full'), clearlyBelow(f, 'noise_cost_64', 'noise_cost_1')]),
  async run(ctx) {
    const data = centered(ctx);
    const epochs = ctx.quick ? 2 : 5;
    const figures: Figures = {};
    const rows: (string | number)[][] = [];
    const values: object[] = [];
    const sizes: [string, string, number, number][] = [['1', '1', 1, 0.005], ['64', '64', 64, 0.1], [`${data.train.count} (full)`, 'full', data.train.count, 0.5]];
    for (const [label, key, size, lr] of sizes) {
      const cleanAcc = [];
      const noisyAcc: number[] = [];
      const finals = [];
      const speed = [];
      for (const seed of ctx.seeds) {
        for (const noisy of [false, true]) {
          const trainSet = noisy ? flipLabels(data.train, 0.2, seed) : data.train;
          const net = mlp([100], 'relu', undefined, 'heNormal');
          const result = await train(ctx, net, { train: trainSet, test: data.test }, { epochs, seed, batchSize: size, optimizer: new SGD(undefined, { lr }), keep: true });
          if (noisy) noisyAcc.push(result.accuracy);
          else {
            cleanAcc.push(result.accuracy);
            finals.push(result.diverged ? 100 : trainingLoss(net, data.train));
            speed.push((epochs * data.train.count) / result.seconds);
            if (seed === ctx.seeds[0]) {
              const perEpoch = result.seconds / epochs;
              result.epochs.forEach((e) => values.push({ batch: `batch ${label}`, epoch: e.epoch + 1, seconds: perEpoch * (e.epoch + 1), loss: e.loss }));
            }
          }
          net.dispose();
        }
      }
      const loss = record(figures, `loss_${key}`, finals);
      const clean = record(figures, `acc_${key}`, cleanAcc);
      const noisy = record(figures, `acc_noisy_${key}`, noisyAcc);
      record(figures, `noise_cost_${key}`, cleanAcc.map((c, i) => c - noisyAcc[i]));
      record(figures, `samples_per_second_${key}`, speed);
      rows.push([label, lr, loss.toFixed(4), pm(cleanAcc), pm(noisyAcc), `${((clean - noisy) * 100).toFixed(1)} points`, meanStd(speed).mean.toFixed(0)]);
      ctx.progress(`batch ${label}: loss ${loss.toFixed(3)}, test ${pm(cleanAcc)}% clean, ${pm(noisyAcc)}% with 20% flipped labels`);
    }
    return {
      table: { columns: ['batch size', 'lr (SGD)', `training loss after ${epochs} epochs`, 'test accuracy %', 'with 20% labels flipped %', 'cost of the noise', 'samples/s'], rows },
      plots: [
        { name: 'batch-size-epochs', title: 'Training loss per epoch', spec: lines('training loss per epoch (log scale)', values, 'epoch', 'loss', 'batch', { logY: true }) },
        { name: 'batch-size-seconds', title: 'Training loss against seconds', spec: lines('training loss against seconds (log scales)', values, 'seconds', 'loss', 'batch', { logY: true, logX: true }) },
      ],
      figures,
      finding: `training loss after ${epochs} epochs: batch 1 ${figures.loss_1.toFixed(3)}, batch 64 ${figures.loss_64.toFixed(3)}, full batch ${figures.loss_full.toFixed(3)}; 20% flipped labels cost batch 1 ${(figures.noise_cost_1 * 100).toFixed(1)} points and batch 64 ${(figures.noise_cost_64 * 100).toFixed(1)}; batch 1 trains at ${figures.samples_per_second_1.toFixed(0)} samples/s, batch 64 at ${figures.samples_per_second_64.toFixed(0)}.`,
    };
  },
};

export const shuffling: LabExperiment = {
  name: 'shuffling',
  title: 'The order of the training examples',
  claim: 'Successive training examples should rarely belong to the same class: a network trained on data sorted by class learns poorly, while a random order works.',
  source: 'LeCun et al., Efficient BackProp, §4.2',
  measures: 'Test accuracy and final-epoch training loss of the MLP (SGD, momentum 0.9, batch 32) with the examples reshuffled every epoch (shuffle: \'epoch\'), shuffled once (\'once\') and sorted by class (shuffle: false), over 3 seeds.',
  rule: 'Two parts: sorted-by-class data ends ≥ 5 points of test accuracy below reshuffling every epoch; shuffling once ends within 1 point of reshuffling every epoch. Supported if both hold, not supported if neither, mixed otherwise.',
  judge: (f) => verdictOf([f.acc_sorted <= f.acc_epoch - 0.05, f.acc_once >= f.acc_epoch - 0.01]),
  async run(ctx) {
    const data = centered(ctx);
    const byClass = Int32Array.from({ length: data.train.count }, (_, i) => i).sort((a, b) => data.train.y[a] - data.train.y[b] || a - b);
    const sorted = { train: subset(data.train, byClass), test: data.test };
    const figures: Figures = {};
    const rows: (string | number)[][] = [];
    const values: object[] = [];
    const variants: [string, string, 'epoch' | 'once' | false][] = [['reshuffled every epoch', 'epoch', 'epoch'], ['shuffled once', 'once', 'once'], ['sorted by class (no shuffling)', 'sorted', false]];
    for (const [label, key, shuffle] of variants) {
      const accs = [];
      const finals = [];
      for (const seed of ctx.seeds) {
        const curve: number[] = [];
        const result = await train(ctx, mlp([100], 'relu', undefined, 'heNormal'), sorted, { epochs: ctx.quick ? 3 : 5, seed, batchSize: 32, shuffle, optimizer: new SGD(undefined, { lr: 0.01, momentum: 0.9 }), steps: (l) => curve.push(l) });
        accs.push(result.accuracy);
        finals.push(result.epochs.at(-1)!.loss);
        if (seed === ctx.seeds[0]) smoothed(curve, 0.95).forEach((loss, step) => step % 5 === 0 && values.push({ order: label, step, loss }));
      }
      record(figures, `acc_${key}`, accs);
      record(figures, `loss_${key}`, finals);
      rows.push([label, pm(accs), pm(finals, 4, 1)]);
      ctx.progress(`${label}: ${pm(accs)}%`);
    }
    return {
      table: { columns: ['order of the examples', 'test accuracy %', 'last epoch\'s training loss'], rows },
      plots: [{ name: 'shuffling', title: 'Training loss per step', spec: lines('training loss per step (smoothed; sorted data swings with each class)', values, 'step', 'loss', 'order', { logY: true }) }],
      figures,
      finding: `test accuracy: reshuffled every epoch ${pct(figures.acc_epoch)}, shuffled once ${pct(figures.acc_once)}, sorted by class ${pct(figures.acc_sorted)}.`,
    };
  },
};

const ACTIVATIONS = ['sigmoid', 'tanh', 'relu'];

export const activations: LabExperiment = {
  name: 'activations',
  title: 'Activation functions: vanishing gradients, zig-zags and cost',
  claim: 'Sigmoid gradients vanish with depth while ReLU\'s do not; sigmoid outputs are not zero-centred, so all the weight gradients of a unit share one sign (zig-zag updates) and tanh trains faster; and exp() makes sigmoid and tanh expensive next to ReLU.',
  source: 'CS231n, lecture 6; LeCun et al., Efficient BackProp, §4.4',
  measures: '(a) The ratio of the first to the last hidden layer\'s weight-gradient norm in 2-, 5-, 10- and 20-layer nets (100 units, Xavier init for sigmoid and tanh, He for ReLU) on a batch of digits; (b) the share of second-layer units whose incoming weight gradients all have one sign, per sample, and the training loss of sigmoid, tanh and 1.7159·tanh(2x/3) MLPs; (c) forward + backward time per element of each activation kernel — over 3 seeds.',
  rule: 'Five parts: at depth 20 the sigmoid ratio is < 0.01; the ReLU ratio is > 0.1; ≥ 90% of sigmoid units get one-signed weight gradients and ≤ 10% of tanh units; tanh ends at a lower training loss than sigmoid; sigmoid costs ≥ 1.5× ReLU per element. Supported if all hold, not supported if none, mixed otherwise.' + NOISE_RULE,
  judge: (f) => verdictOf([f.ratio_sigmoid_20 < 0.01, f.ratio_relu_20 > 0.1, f.same_sign_sigmoid >= 0.9 && f.same_sign_tanh <= 0.1, clearlyBelow(f, 'loss_tanh', 'loss_sigmoid'), f.ns_sigmoid >= 1.5 * f.ns_relu]),
  async run(ctx) {
    const data = centered(ctx);
    const figures: Figures = {};
    const rows: (string | number)[][] = [];
    const norms: object[] = [];
    const ce = losses.softmaxCrossEntropy();
    const batch = keep(tensor(data.train.x.subarray(0, 256 * 784), [256, 784]));
    const labels = data.train.y.subarray(0, 256);
    try {
      // (a) gradient norms per layer
      for (const depth of [2, 5, 10, 20]) {
        for (const activation of ACTIVATIONS) {
          const ratios = [];
          for (const seed of ctx.seeds) {
            const net = mlp(Array.from({ length: depth }, () => 100), activation, undefined, activation === 'relu' ? 'heNormal' : 'xavierNormal');
            net.build([784], new Rng(seed));
            scope(() => ce(net.forward(batch), labels).backward());
            const kernels = net.trainableParameters().filter((p) => p.shape.length === 2).slice(0, depth);
            const layerNorms = kernels.map((p) => Math.sqrt(p.grad!.data().reduce((s, g) => s + g * g, 0)));
            ratios.push(layerNorms[0] / layerNorms[depth - 1]);
            if (seed === ctx.seeds[0] && depth === 20) layerNorms.forEach((n, i) => norms.push({ activation, layer: i + 1, norm: Math.max(n, 1e-30) }));
            net.dispose();
          }
          const ratio = record(figures, `ratio_${activation}_${depth}`, ratios);
          rows.push(['(a) ‖∇ layer 1‖ / ‖∇ last layer‖', `${activation}, ${depth} layers`, ratio.toExponential(2)]);
        }
        ctx.progress(`depth ${depth}: ${ACTIVATIONS.map((a) => `${a} ${figures[`ratio_${a}_${depth}`].toExponential(1)}`).join(', ')}`);
        await ctx.tick();
      }
      // (b) one-signed weight gradients, per sample
      for (const activation of ['sigmoid', 'tanh']) {
        const shares = [];
        for (const seed of ctx.seeds) {
          const net = mlp([100, 100], activation, undefined, 'xavierNormal');
          net.build([784], new Rng(seed));
          const kernel = net.trainableParameters().filter((p) => p.shape.length === 2)[1];
          let same = 0;
          const samples = ctx.quick ? 20 : 100;
          for (let s = 0; s < samples; s++) {
            for (const p of net.trainableParameters()) p.grad = null;
            const one = tensor(data.train.x.subarray(s * 784, (s + 1) * 784), [1, 784]);
            scope(() => ce(net.forward(one), data.train.y.subarray(s, s + 1)).backward());
            one.dispose();
            const g = kernel.grad!.data();
            const [fanIn, units] = kernel.shape;
            for (let u = 0; u < units; u++) {
              let pos = 0;
              let neg = 0;
              for (let i = 0; i < fanIn; i++) {
                const v = g[i * units + u];
                if (v > 0) pos++;
                else if (v < 0) neg++;
              }
              if ((pos === 0) !== (neg === 0)) same++;
            }
          }
          shares.push(same / (samples * kernel.shape[1]));
          net.dispose();
        }
        const share = record(figures, `same_sign_${activation}`, shares);
        rows.push(['(b) units with one-signed weight gradients', activation, pct(share)]);
      }
      const curves: object[] = [];
      for (const activation of ['sigmoid', 'tanh', 'scaledTanh']) {
        const finals = [];
        for (const seed of ctx.seeds) {
          const curve: number[] = [];
          await train(ctx, mlp([100, 100], activation, undefined, activation === 'scaledTanh' ? 'lecunNormal' : 'xavierNormal'), data, { epochs: ctx.quick ? 1 : 3, seed, optimizer: new SGD(undefined, { lr: 0.01, momentum: 0.9 }), steps: (l) => curve.push(l) });
          finals.push(lastMean(curve));
          if (seed === ctx.seeds[0]) smoothed(curve, 0.9).forEach((loss, step) => step % 4 === 0 && curves.push({ activation: activation === 'scaledTanh' ? '1.7159·tanh(2x/3)' : activation, step, loss }));
        }
        const loss = record(figures, `loss_${activation}`, finals);
        rows.push(['(b) final training loss', activation === 'scaledTanh' ? '1.7159·tanh(2x/3)' : activation, loss.toFixed(4)]);
      }
      ctx.progress(`one-signed gradients: sigmoid ${pct(figures.same_sign_sigmoid)}, tanh ${pct(figures.same_sign_tanh)}; loss sigmoid ${figures.loss_sigmoid.toFixed(3)}, tanh ${figures.loss_tanh.toFixed(3)}`);
      // (c) cost per element, forward + backward
      const cost: object[] = [];
      const elements = ctx.quick ? 1 << 18 : 1 << 21;
      for (const activation of ['relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'scaledTanh', 'hardSigmoid']) {
        const layer = model([{ name: activation }]);
        layer.build([elements / 256], new Rng(1));
        const x = keep(randn([256, elements / 256], { rng: new Rng(2) }).setRequiresGrad());
        const times = [];
        for (let r = 0; r < (ctx.quick ? 5 : 15); r++) {
          x.grad = null;
          const started = performance.now();
          scope(() => sum(layer.forward(x)).backward());
          times.push(performance.now() - started);
        }
        x.dispose();
        layer.dispose();
        times.sort((a, b) => a - b);
        const ns = (times[Math.floor(times.length / 2)] * 1e6) / elements;
        figures[`ns_${activation}`] = ns;
        cost.push({ activation, ns });
        rows.push(['(c) forward + backward, ns per element', activation, ns.toFixed(2)]);
        await ctx.tick();
      }
      ctx.progress(`cost per element: relu ${figures.ns_relu.toFixed(2)} ns, sigmoid ${figures.ns_sigmoid.toFixed(2)} ns, tanh ${figures.ns_tanh.toFixed(2)} ns`);
      return {
        table: { columns: ['part', 'case', 'figure'], rows },
        plots: [
          { name: 'activations-gradients', title: 'Weight-gradient norm per layer in a 20-layer net', spec: lines('‖∇W‖ per layer, 20 hidden layers (log scale)', norms, 'layer', 'norm', 'activation', { logY: true }) },
          { name: 'activations-loss', title: 'Training loss: sigmoid, tanh, LeCun\'s scaled tanh', spec: lines('training loss (smoothed)', curves, 'step', 'loss', 'activation', { logY: true }) },
          { name: 'activations-cost', title: 'Forward + backward time per element', spec: chart('ns per element, forward + backward', cost, { mark: 'bar', encoding: { x: { field: 'activation', type: 'nominal', sort: null, title: null }, y: { field: 'ns', type: 'quantitative', title: 'ns per element' } } }) },
        ],
        figures,
        finding: `at depth 20 the first layer gets ${figures.ratio_sigmoid_20.toExponential(1)} of the last layer's gradient norm with sigmoid, ${figures.ratio_tanh_20.toExponential(1)} with tanh, ${figures.ratio_relu_20.toFixed(2)} with ReLU; one-signed weight gradients: sigmoid ${pct(figures.same_sign_sigmoid)}, tanh ${pct(figures.same_sign_tanh)}; final loss sigmoid ${figures.loss_sigmoid.toFixed(3)}, tanh ${figures.loss_tanh.toFixed(3)}, scaled tanh ${figures.loss_scaledTanh.toFixed(3)}; ns per element: ReLU ${figures.ns_relu.toFixed(2)}, sigmoid ${figures.ns_sigmoid.toFixed(2)} (${(figures.ns_sigmoid / figures.ns_relu).toFixed(1)}×), tanh ${figures.ns_tanh.toFixed(2)}.`,
      };
    } finally {
      batch.dispose();
    }
  },
};

export const sharpness: LabExperiment = {
  name: 'sharpness',
  title: 'Flat and sharp minima',
  claim: 'Large-batch training ends in sharper minima (a larger top Hessian eigenvalue) that generalize worse than small-batch training\'s; adaptive methods such as Adam generalize worse than SGD with momentum.',
  source: 'CS231n, lecture 7; Keskar et al. 2017; Wilson et al. 2017',
  measures: 'λ_max of the Hessian of the training loss (power iteration on Hessian-vector products, the lab\'s estimator) at the end of training a tanh MLP, beside its test accuracy: SGD at batch 16 vs batch 1024 (same epochs), and SGD with momentum vs Adam at batch 64 — over 3 seeds.',
  rule: 'Four parts: λ_max is larger after batch 1024 than after batch 16; batch 1024\'s test accuracy is lower; Adam\'s test accuracy is lower than SGD with momentum\'s; Adam\'s λ_max is larger. Supported if all hold, not supported if none, mixed otherwise.' + NOISE_RULE,
  judge: (f) => verdictOf([clearlyBelow(f, 'lambda_b16', 'lambda_b1024'), clearlyBelow(f, 'acc_b1024', 'acc_b16'), clearlyBelow(f, 'acc_adam', 'acc_momentum'), clearlyBelow(f, 'lambda_momentum', 'lambda_adam')]),
  async run(ctx) {
    const data = centered(ctx, ctx.quick ? { train: 1024, test: 500 } : { train: 4096, test: 2000 });
    const epochs = ctx.quick ? 4 : 20;
    const figures: Figures = {};
    const rows: (string | number)[][] = [];
    const points: object[] = [];
    const probeCount = Math.min(1024, data.train.count);
    const probe = keep(tensor(data.train.x.subarray(0, probeCount * 784), [probeCount, 784]));
    const ce = losses.softmaxCrossEntropy();
    try {
      const variants: [string, string, number, () => SGD | Adam][] = [
        ['SGD, batch 16 (lr 0.02)', 'b16', 16, () => new SGD(undefined, { lr: 0.02 })],
        ['SGD, batch 1024 (lr 0.5)', 'b1024', 1024, () => new SGD(undefined, { lr: 0.5 })],
        ['SGD + momentum 0.9, batch 64 (lr 0.01)', 'momentum', 64, () => new SGD(undefined, { lr: 0.01, momentum: 0.9 })],
        ['Adam, batch 64 (lr 1e-3)', 'adam', 64, () => new Adam(undefined, { lr: 1e-3 })],
      ];
      for (const [label, key, size, make] of variants) {
        const accs = [];
        const lambdas = [];
        const finals = [];
        for (const seed of ctx.seeds) {
          const net = mlp([100], 'tanh', undefined, 'xavierNormal');
          const result = await train(ctx, net, data, { epochs, seed, batchSize: size, optimizer: make(), keep: true });
          accs.push(result.accuracy);
          finals.push(trainingLoss(net, data.train));
          lambdas.push(largestEigenvalue(net, probe, data.train.y.subarray(0, probeCount), ce, { curvature: 'hessian', iterations: ctx.quick ? 15 : 40, seed }).eigenvalue);
          net.dispose();
          await ctx.tick();
        }
        const acc = record(figures, `acc_${key}`, accs);
        const lambda = record(figures, `lambda_${key}`, lambdas);
        record(figures, `loss_${key}`, finals);
        points.push({ run: label, lambda, accuracy: acc });
        rows.push([label, pm(lambdas, 2, 1), pm(finals, 4, 1), pm(accs)]);
        ctx.progress(`${label}: λ_max ${pm(lambdas, 2, 1)}, test ${pm(accs)}%`);
      }
    } finally {
      probe.dispose();
    }
    return {
      table: { columns: ['training', 'λ_max of the Hessian', 'training loss', 'test accuracy %'], rows },
      plots: [{
        name: 'sharpness', title: 'Test accuracy against sharpness',
        spec: chart('test accuracy against λ_max at the end of training (mean of 3 seeds)', points, {
          mark: { type: 'point', filled: true, size: 90 },
          encoding: { x: { field: 'lambda', type: 'quantitative', scale: { type: 'log' }, title: 'λ_max (log scale)' }, y: { field: 'accuracy', type: 'quantitative', scale: { zero: false }, axis: { format: '%' } }, color: { field: 'run', type: 'nominal', title: null, sort: null }, shape: { field: 'run', type: 'nominal', title: null, sort: null } },
        }),
      }],
      figures,
      finding: `λ_max ${figures.lambda_b16.toFixed(2)} after batch 16 vs ${figures.lambda_b1024.toFixed(2)} after batch 1024 (test ${pct(figures.acc_b16)} vs ${pct(figures.acc_b1024)}); SGD + momentum ${figures.lambda_momentum.toFixed(2)} vs Adam ${figures.lambda_adam.toFixed(2)} (test ${pct(figures.acc_momentum)} vs ${pct(figures.acc_adam)}).`,
    };
  },
};

