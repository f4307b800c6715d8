// `minibatch lab`: claims of the lectures on training networks, each as a seeded experiment on
// real MNIST digits, with its table and figures. They are code here, not files in examples/,
// so the command runs them wherever it is installed.
import { Rng, keep, meanSquaredError, randn, scope, tensor, type Tensor } from '@minibatch/core';
import { center, createDataset, loadMnistSplit, standardize, subset, zca, type Dataset } from '@minibatch/data';
import { losses, modelFromConfig, type Loss, type Module, type Target } from '@minibatch/layers';
import { Adagrad, Adam, LBFGS, RMSprop, SGD, type Optimizer } from '@minibatch/optimizers';
import { augmentationFromConfig, toBatchTransform } from '@minibatch/augment';
import { defaultRegistry, evaluate, fit, layerActivity, lrFind, smoothed, type EpochLogs, type Figure } from '@minibatch/train';

export interface LabContext {
  /** Smaller data and fewer runs (tests, a first look). */
  quick: boolean;
  /** Progress lines. */
  progress: (line: string) => void;
}

export interface LabResult {
  table: { columns: string[]; rows: (string | number)[][] };
  figures: Figure[];
  /** What the experiment found, in one sentence with its figures. */
  finding: string;
}

export interface LabExperiment {
  name: string;
  title: string;
  /** The claim, as the lectures make it. */
  claim: string;
  run(ctx: LabContext): LabResult;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const chart = (title: string, values: object[], spec: object): Figure['spec'] => ({
  $schema: SCHEMA, title, width: 460, height: 220, data: { values }, config: { font: 'sans-serif', legend: { orient: 'bottom' } }, ...spec,
});

/** MNIST 8,000 / 2,000 (quick: 1,500 / 500), pixels in [0, 1]. */
function mnist(ctx: LabContext): { train: Dataset; test: Dataset } {
  const { train, test } = loadMnistSplit();
  if (!ctx.quick) return { train, test };
  return { train: subset(train, Int32Array.from({ length: 1500 }, (_, i) => i)), test: subset(test, Int32Array.from({ length: 500 }, (_, i) => i)) };
}

function centered(ctx: LabContext): { train: Dataset; test: Dataset } {
  const { train, test } = mnist(ctx);
  const fitted = center({ per: 'feature' }).fit(train);
  return { train: fitted.transform(train), test: fitted.transform(test) };
}

const model = (spec: object[]): Module => modelFromConfig(defaultRegistry(), spec as never);
const mlp = (hidden: number[], activation: string | null, extra: (i: number) => object[] = () => [], init?: unknown) => model([
  { name: 'flatten' },
  ...hidden.flatMap((units, i) => [
    { name: 'dense', config: { units, ...(activation !== null ? { activation } : {}), ...(init !== undefined ? { kernelInitializer: init } : {}) } },
    ...extra(i),
  ]),
  { name: 'dense', config: { units: 10 } },
]);

/** Trains and tests; the per-epoch logs and the test accuracy. */
function train(m: Module, data: { train: Dataset; test: Dataset }, options: { epochs: number; optimizer: Optimizer<object>; loss?: Loss; validation?: boolean; regularization?: never[]; transform?: never; batchSize?: number; steps?: (loss: number) => void }) {
  const history = fit(m, data.train, {
    epochs: options.epochs, batchSize: options.batchSize ?? 64, seed: 1, optimizer: options.optimizer, loss: options.loss,
    ...(options.validation ? { validation: data.test } : {}), ...(options.regularization ? { regularization: options.regularization } : {}),
    ...(options.transform ? { transform: options.transform } : {}),
    ...(options.steps ? { callbacks: { onBatchEnd: (b) => options.steps!(b.loss) } } : {}),
  });
  const test = evaluate(m, data.test, { loss: options.loss, metrics: ['accuracy'] });
  m.dispose();
  return { epochs: history.epochs, accuracy: test.accuracy, loss: test.loss };
}

const GAUSS = (std: number) => ({ name: 'gaussian', config: { std } });

const initialization: LabExperiment = {
  name: 'init',
  title: 'Weight initialization in a deep network',
  claim: 'In a 10-layer network, small Gaussian weights make the activations collapse to zero with depth, large ones saturate tanh; Xavier init keeps tanh healthy and He init keeps ReLU healthy (CS231n, lecture 6).',
  run(ctx) {
    const inits: [string, unknown][] = [['Gaussian 0.01', GAUSS(0.01)], ['Gaussian 1.0', GAUSS(1)], ['Xavier', 'xavierNormal'], ['He', 'heNormal']];
    const rows: (string | number)[][] = [];
    const stds: object[] = [];
    const hists: object[] = [];
    for (const activation of ['tanh', 'relu']) {
      for (const [label, init] of inits) {
        const net = model(Array.from({ length: 10 }, () => ({ name: 'dense', config: { units: 256, activation, useBias: false, kernelInitializer: init } })));
        net.build([256], new Rng(7));
        const activity = scope(() => layerActivity(net, randn([ctx.quick ? 200 : 1000, 256], { rng: new Rng(8) })));
        net.dispose();
        for (const a of activity) {
          stds.push({ activation, init: label, layer: a.index + 1, std: Math.max(a.std, 1e-12) });
          if (activation === 'tanh' && (a.index === 0 || a.index === 4 || a.index === 9)) {
            const total = a.histogram.counts.reduce((s, c) => s + c, 0);
            a.histogram.counts.forEach((c, b) => hists.push({ init: label, layer: `layer ${a.index + 1}`, index: a.index, value: (a.histogram.edges[b] + a.histogram.edges[b + 1]) / 2, share: c / total }));
          }
        }
        const last = activity[9];
        rows.push([activation, label, activity[0].std.toPrecision(3), activity[4].std.toPrecision(3), last.std.toPrecision(3),
          last.saturated !== null ? pct(last.saturated) : last.dead !== null ? pct(last.dead) : '—']);
      }
    }
    const std = (act: string, init: string) => Number(rows.find((r) => r[0] === act && r[1] === init)![4]);
    return {
      table: { columns: ['activation', 'init', 'std layer 1', 'std layer 5', 'std layer 10', 'layer 10 saturated (tanh) / dead (ReLU)'], rows },
      figures: [
        {
          name: 'init-std', title: 'Activation std per layer',
          spec: chart('std of each layer\'s activations (log scale)', stds, {
            mark: { type: 'line', point: true },
            encoding: {
              x: { field: 'layer', type: 'quantitative' }, y: { field: 'std', type: 'quantitative', scale: { type: 'log' } },
              color: { field: 'init', type: 'nominal' }, strokeDash: { field: 'init', type: 'nominal' }, column: { field: 'activation', type: 'nominal' },
            },
            width: 260,
          }),
        },
        {
          name: 'init-tanh-histograms', title: 'tanh activations at layers 1, 5 and 10',
          spec: {
            $schema: SCHEMA, title: 'tanh: histograms of activations at layers 1, 5, 10 per init', data: { values: hists },
            facet: { row: { field: 'init', type: 'nominal' }, column: { field: 'layer', type: 'nominal', sort: { field: 'index', op: 'min' } } },
            spec: { width: 160, height: 70, mark: { type: 'area', interpolate: 'step' }, encoding: { x: { field: 'value', type: 'quantitative' }, y: { field: 'share', type: 'quantitative' } } },
            resolve: { scale: { x: 'independent', y: 'independent' } }, config: { font: 'sans-serif' },
          },
        },
      ],
      finding: `tanh at layer 10: std ${std('tanh', 'Gaussian 0.01').toExponential(1)} with Gaussian 0.01 (collapsed), ${std('tanh', 'Xavier').toFixed(2)} with Xavier; ReLU at layer 10: ${std('relu', 'Gaussian 0.01').toExponential(1)} with Gaussian 0.01, ${std('relu', 'He').toFixed(2)} with He.`,
    };
  },
};

const batchnorm: LabExperiment = {
  name: 'batchnorm',
  title: 'Batch normalization allows higher learning rates',
  claim: 'With batch normalization a network trains well over a wider range of learning rates, including rates at which the same network without it diverges (Ioffe & Szegedy 2015; CS231n, lecture 6).',
  run(ctx) {
    const data = centered(ctx);
    const lrs = ctx.quick ? [0.03, 0.3, 3] : [0.01, 0.03, 0.1, 0.3, 1, 3];
    const rows: (string | number)[][] = [];
    const values: object[] = [];
    for (const bn of [false, true]) {
      for (const lr of lrs) {
        const net = mlp([100, 100], bn ? null : 'relu', () => (bn ? [{ name: 'batchNorm' }, { name: 'relu' }] : []), 'heNormal');
        let accuracy: number;
        try {
          accuracy = train(net, data, { epochs: ctx.quick ? 1 : 2, optimizer: new SGD(undefined, { lr, momentum: 0.9 }) }).accuracy;
        } catch {
          net.dispose();
          accuracy = 0.1; // the loss diverged: chance
        }
        ctx.progress(`${bn ? 'with' : 'without'} BN, lr ${lr}: ${pct(accuracy)}`);
        rows.push([bn ? 'with BatchNorm' : 'without', lr, pct(accuracy)]);
        values.push({ variant: bn ? 'with BatchNorm' : 'without', lr, accuracy });
      }
    }
    const good = (bn: boolean) => lrs.filter((lr) => (values.find((v) => (v as { variant: string; lr: number }).variant === (bn ? 'with BatchNorm' : 'without') && (v as { lr: number }).lr === lr) as { accuracy: number }).accuracy >= 0.9);
    return {
      table: { columns: ['network', 'learning rate (SGD, momentum 0.9)', 'test accuracy'], rows },
      figures: [{
        name: 'batchnorm-lr', title: 'Test accuracy against the learning rate',
        spec: chart('test accuracy after the same training, against the learning rate', values, {
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'lr', type: 'quantitative', scale: { type: 'log' }, title: 'learning rate (log scale)' },
            y: { field: 'accuracy', type: 'quantitative', axis: { format: '%' } },
            color: { field: 'variant', type: 'nominal', title: null }, strokeDash: { field: 'variant', type: 'nominal', title: null },
          },
        }),
      }],
      finding: `≥ 90% test accuracy at ${good(false).length} of ${lrs.length} learning rates without BatchNorm (${good(false).join(', ') || 'none'}) and at ${good(true).length} with it (${good(true).join(', ') || 'none'}).`,
    };
  },
};

const learningRate: LabExperiment = {
  name: 'learning-rate',
  title: 'Learning rate too low, good, too high — and the range test',
  claim: 'Too low a learning rate makes the loss fall slowly (nearly linearly); too high makes it fall fast and stall at a worse value, or explode; a good one is in between — and an LR range test finds it from one short sweep (CS231n, lecture 6; Smith 2017).',
  run(ctx) {
    const data = centered(ctx);
    const net = () => mlp([100], 'relu', undefined, 'heNormal');
    const probe = net();
    const found = lrFind(probe, data.train, { loss: losses.softmaxCrossEntropy(), optimizer: new SGD(), steps: 150, start: 1e-5, end: 30, seed: 1 });
    probe.dispose();
    const cases: [string, number][] = [['too low', 1e-4], ['suggested by the range test', found.suggestion], ['high', found.minimum], ['too high', found.minimum * 10]];
    const rows: (string | number)[][] = [];
    const values: object[] = [];
    for (const [label, lr] of cases) {
      const curve: number[] = [];
      let accuracy = 0.1;
      try {
        accuracy = train(net(), data, { epochs: ctx.quick ? 1 : 3, optimizer: new SGD(undefined, { lr }), steps: (l) => curve.push(l) }).accuracy;
      } catch {
        // diverged: the curve so far shows it
      }
      smoothed(curve, 0.9).forEach((loss, step) => Number.isFinite(loss) && values.push({ step, loss, lr: `${label} (${lr.toExponential(1)})` }));
      const final = curve.slice(-20).reduce((a, b) => a + b, 0) / Math.min(20, curve.length);
      rows.push([label, lr.toExponential(1), Number.isFinite(final) && final < 100 ? final : 'diverged', pct(accuracy)]);
      ctx.progress(`lr ${lr.toExponential(1)} (${label}): ${pct(accuracy)}`);
    }
    const sweep = found.lrs.map((lr, i) => ({ lr, loss: found.smoothed[i] }));
    return {
      table: { columns: ['learning rate', 'value (SGD)', 'final training loss (last 20 steps)', 'test accuracy'], rows: rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toFixed(4) : c))) },
      figures: [
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
      finding: `the range test suggested ${found.suggestion.toExponential(1)}: test accuracy ${rows[1][3]} there, against ${rows[0][3]} at 1e-4 and ${rows[3][3]} at ${(found.minimum * 10).toExponential(1)}.`,
    };
  },
};

const regularization: LabExperiment = {
  name: 'regularization',
  title: 'Overfitting and regularization',
  claim: 'On a small training set a big network overfits: training accuracy reaches 100% while validation accuracy lags; dropout, an L2 penalty and data augmentation narrow the gap (CS231n, lecture 7).',
  run(ctx) {
    // Augmentation works on images: the data keep their [28, 28, 1] shape; centering is per pixel.
    const all = centered(ctx);
    const data = { train: subset(all.train, Int32Array.from({ length: 500 }, (_, i) => i)), test: all.test };
    const registry = defaultRegistry();
    const variants: [string, object[], { regularization?: never[]; transform?: never }][] = [
      ['none', [], {}],
      ['dropout 0.5', [{ name: 'dropout', config: { rate: 0.5 } }], {}],
      ['L2 λ = 0.01', [], { regularization: [registry.create('regularizer', 'l2', { lambda: 0.01 }) as never] }],
      ['L2 λ = 0.1', [], { regularization: [registry.create('regularizer', 'l2', { lambda: 0.1 }) as never] }],
      ['augmentation (shifts, rotations)', [], { transform: toBatchTransform(augmentationFromConfig(registry, [{ name: 'translate', config: { x: 0.1, y: 0.1 } }, { name: 'rotate', config: { degrees: 10 } }]), { classes: 10 }) as never }],
    ];
    const epochs = ctx.quick ? 10 : 40;
    const rows: (string | number)[][] = [];
    const values: object[] = [];
    for (const [label, extra, options] of variants) {
      const net = mlp([256, 256], 'relu', () => extra, 'heNormal');
      const result = train(net, data, { epochs, optimizer: new Adam(undefined, { lr: 1e-3 }), validation: true, ...options });
      for (const e of result.epochs as EpochLogs[]) {
        values.push({ variant: label, epoch: e.epoch, accuracy: e.accuracy, split: 'train' });
        values.push({ variant: label, epoch: e.epoch, accuracy: e.val_accuracy, split: 'validation' });
      }
      const last = result.epochs.at(-1)!;
      rows.push([label, pct(last.accuracy), pct(last.val_accuracy), `${((last.accuracy - last.val_accuracy) * 100).toFixed(1)} points`]);
      ctx.progress(`${label}: train ${pct(last.accuracy)}, validation ${pct(last.val_accuracy)}`);
    }
    return {
      table: { columns: ['regularization (500 training samples)', 'train accuracy', 'validation accuracy', 'gap'], rows },
      figures: [{
        name: 'regularization', title: 'Train and validation accuracy per epoch',
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
      finding: `gap between train and validation accuracy: ${rows.map((r) => `${r[0]} ${r[3]} (validation ${r[2]})`).join(', ')}.`,
    };
  },
};

const optimizers: LabExperiment = {
  name: 'optimizers',
  title: 'Optimizers on the same problem',
  claim: 'Adam is a good default; SGD with momentum (or Nesterov) trains as well with a tuned rate; AdaGrad slows down as its step sizes shrink; L-BFGS converges in few iterations on a full batch (CS231n, lecture 6).',
  run(ctx) {
    const all = centered(ctx);
    const n = ctx.quick ? 500 : 2000;
    const data = { train: subset(all.train, Int32Array.from({ length: n }, (_, i) => i)), test: all.test };
    const makers: [string, () => Optimizer<object>][] = [
      ['SGD 0.1', () => new SGD(undefined, { lr: 0.1 })],
      ['momentum 0.9, 0.01', () => new SGD(undefined, { lr: 0.01, momentum: 0.9 })],
      ['Nesterov 0.9, 0.01', () => new SGD(undefined, { lr: 0.01, momentum: 0.9, nesterov: true })],
      ['AdaGrad 0.01', () => new Adagrad(undefined, { lr: 0.01 })],
      ['RMSProp 1e-3', () => new RMSprop(undefined, { lr: 1e-3 })],
      ['Adam 1e-3', () => new Adam(undefined, { lr: 1e-3 })],
    ];
    const epochs = ctx.quick ? 3 : 10;
    const rows: (string | number)[][] = [];
    const values: object[] = [];
    for (const [label, make] of makers) {
      const losses: number[] = [];
      const result = train(mlp([100], 'relu', undefined, 'heNormal'), data, { epochs, optimizer: make(), steps: (l) => losses.push(l) });
      smoothed(losses, 0.9).forEach((loss, step) => values.push({ optimizer: label, step, loss }));
      rows.push([label, losses.length, (losses.slice(-10).reduce((a, b) => a + b, 0) / 10).toFixed(4), pct(result.accuracy)]);
      ctx.progress(`${label}: ${pct(result.accuracy)}`);
    }
    // L-BFGS: full batch, one iteration per step (its line search evaluates the loss more often).
    const net = mlp([100], 'relu', undefined, 'heNormal');
    net.build(data.train.shape, new Rng(1));
    const x = keep(tensor(data.train.x, [data.train.count, ...data.train.shape]));
    const lbfgs = new LBFGS(net.trainableParameters(), { lr: 1, maxIter: 1, historySize: 10, lineSearch: 'strongWolfe' });
    const iterations = ctx.quick ? 30 : 100;
    const ce = losses.softmaxCrossEntropy();
    let last = NaN;
    for (let i = 0; i < iterations; i++) {
      last = lbfgs.step(() => {
        const l = ce(net.forward(x), data.train.y);
        l.backward();
        return l;
      });
      values.push({ optimizer: 'L-BFGS (full batch)', step: i, loss: last });
    }
    const accuracy = evaluate(net, data.test, { metrics: ['accuracy'] }).accuracy;
    rows.push(['L-BFGS (full batch)', iterations, last.toFixed(4), pct(accuracy)]);
    lbfgs.dispose();
    net.dispose();
    x.dispose();
    const best = [...rows].sort((a, b) => parseFloat(String(b[3])) - parseFloat(String(a[3])))[0];
    return {
      table: { columns: ['optimizer', 'steps', 'final training loss', 'test accuracy'], rows },
      figures: [{
        name: 'optimizers', title: 'Training loss against steps',
        spec: chart(`training loss (smoothed) on ${n} MNIST digits; L-BFGS on the full batch`, values, {
          mark: { type: 'line', clip: true },
          encoding: {
            x: { field: 'step', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative', scale: { type: 'log' } },
            color: { field: 'optimizer', type: 'nominal', title: null }, strokeDash: { field: 'optimizer', type: 'nominal', title: null },
          },
        }),
      }],
      finding: `best test accuracy: ${best[0]} (${best[3]}); ${rows.map((r) => `${r[0]} ${r[3]}`).join(', ')}.`,
    };
  },
};

/** Squared error against one-hot targets at `on` / `off` (LeCun's targets within the output's range). */
function squaredError(on: number, off: number): Loss {
  const loss = (output: Tensor, target: Target): Tensor => {
    const labels = target as Int32Array;
    const classes = output.shape[1];
    const t = new Float32Array(labels.length * classes).fill(off);
    labels.forEach((y, i) => (t[i * classes + y] = on));
    return meanSquaredError(output, tensor(t, output.shape));
  };
  Object.defineProperty(loss, 'name', { value: 'squaredError' });
  Object.defineProperty(loss, 'kind', { value: 'loss', enumerable: true });
  Object.defineProperty(loss, 'getConfig', { value: () => ({ on, off }) });
  return loss as unknown as Loss;
}

const inputs: LabExperiment = {
  name: 'inputs',
  title: 'Input normalization and LeCun\'s sigmoid',
  claim: 'Inputs should have zero mean and comparable variance (better: decorrelated); a symmetric sigmoid — LeCun\'s 1.7159·tanh(2x/3) with targets at ±1 — trains faster than the logistic sigmoid with 0/1 targets (LeCun et al., Efficient BackProp, §4).',
  run(ctx) {
    const { train: rawTrain, test: rawTest } = mnist(ctx);
    const scaled = (d: Dataset, k: number) => createDataset(d.x.map((v) => v * k), d.y, d.shape, { classes: d.classes });
    const pre: [string, () => { train: Dataset; test: Dataset }][] = [
      ['raw bytes 0…255', () => ({ train: scaled(rawTrain, 255), test: scaled(rawTest, 255) })],
      ['scaled to [0, 1]', () => ({ train: rawTrain, test: rawTest })],
      ['zero-centered', () => { const f = center({ per: 'feature' }).fit(rawTrain); return { train: f.transform(rawTrain), test: f.transform(rawTest) }; }],
      ['standardized', () => { const f = standardize({ per: 'global' }).fit(rawTrain); return { train: f.transform(rawTrain), test: f.transform(rawTest) }; }],
      ['ZCA-whitened', () => { const f = zca({ epsilon: 0.1 }).fit(rawTrain); return { train: f.transform(rawTrain), test: f.transform(rawTest) }; }],
    ];
    const epochs = ctx.quick ? 1 : 3;
    const rows: (string | number)[][] = [];
    const values: object[] = [];
    for (const [label, make] of pre) {
      const data = make();
      const curve: number[] = [];
      let accuracy = 0.1;
      try {
        accuracy = train(mlp([100], 'tanh', undefined, 'lecunNormal'), data, { epochs, optimizer: new SGD(undefined, { lr: 0.01, momentum: 0.9 }), steps: (l) => curve.push(l) }).accuracy;
      } catch {
        // diverged
      }
      curve.forEach((l, i) => i % 5 === 0 && Number.isFinite(l) && values.push({ part: 'inputs (tanh network)', variant: label, step: i, loss: l }));
      rows.push(['inputs', label, pct(accuracy)]);
      ctx.progress(`${label}: ${pct(accuracy)}`);
    }
    const standardized = pre[3][1]();
    const outputs: [string, string, Loss][] = [
      ['logistic sigmoid, targets 0/1', 'sigmoid', squaredError(1, 0)],
      ['1.7159·tanh(2x/3), targets ±1', 'scaledTanh', squaredError(1, -1)],
    ];
    for (const [label, activation, loss] of outputs) {
      const net = model([{ name: 'flatten' }, { name: 'dense', config: { units: 100, activation, kernelInitializer: 'lecunNormal' } }, { name: 'dense', config: { units: 10, activation, kernelInitializer: 'lecunNormal' } }]);
      const curve: number[] = [];
      const result = train(net, standardized, { epochs, optimizer: new SGD(undefined, { lr: 0.05, momentum: 0.9 }), loss, steps: (l) => curve.push(l) });
      curve.forEach((l, i) => i % 5 === 0 && values.push({ part: 'sigmoids (standardized inputs)', variant: label, step: i, loss: l }));
      rows.push(['sigmoid', label, pct(result.accuracy)]);
      ctx.progress(`${label}: ${pct(result.accuracy)}`);
    }
    return {
      table: { columns: ['part', 'variant', 'test accuracy'], rows },
      figures: [{
        name: 'inputs', title: 'Training loss per variant',
        spec: {
          $schema: SCHEMA, title: 'training loss: input preprocessing (left), sigmoid and targets (right)', data: { values },
          facet: { column: { field: 'part', type: 'nominal', title: null } },
          spec: {
            width: 300, height: 220, mark: { type: 'line', clip: true },
            encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative', scale: { type: 'log' } }, color: { field: 'variant', type: 'nominal', title: null }, strokeDash: { field: 'variant', type: 'nominal', title: null } },
          },
          resolve: { scale: { y: 'independent' } }, config: { font: 'sans-serif', legend: { orient: 'bottom', columns: 2 } },
        },
      }],
      finding: rows.map((r) => `${r[1]} ${r[2]}`).join(', ') + '.',
    };
  },
};

export const LAB: readonly LabExperiment[] = [initialization, batchnorm, learningRate, regularization, optimizers, inputs];

/** The lab's page for one experiment: the claim, the table, the finding and the figures. */
export async function labPage(experiment: LabExperiment, result: LabResult, seconds: number): Promise<{ html: string; figures: { name: string; svg: string }[] }> {
  const { escapeHtml: esc, renderSvg } = await import('@minibatch/train/report');
  const figures = [];
  for (const f of result.figures) figures.push({ name: f.name, title: f.title, svg: await renderSvg(f.spec) });
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(experiment.title)} — minibatch lab</title>
<style>body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 1.5rem auto; padding: 0 1rem; line-height: 1.4; } table { border-collapse: collapse; font-variant-numeric: tabular-nums; } td, th { padding: 0.2rem 0.7rem; border-bottom: 1px solid #ddd; text-align: left; } figure { margin: 1.5rem 0; overflow-x: auto; } figcaption { font-weight: 600; }</style>
</head><body>
<h1>${esc(experiment.title)}</h1>
<p><strong>Claim.</strong> ${esc(experiment.claim)}</p>
<p><strong>Found.</strong> ${esc(result.finding)} (${seconds.toFixed(0)} s, seeded: the same command gives the same figures.)</p>
<table><tr>${result.table.columns.map((c) => `<th>${esc(String(c))}</th>`).join('')}</tr>${result.table.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`).join('')}</table>
${figures.map((f) => `<figure id="${f.name}"><figcaption>${esc(f.title)}</figcaption>${f.svg}</figure>`).join('\n')}
</body></html>
`;
  return { html, figures };
}
