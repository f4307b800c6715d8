// What every lab experiment is made of: its claim, source and rule stated before it runs, a
// run that returns named figures, and a judge that turns those figures into the verdict — a
// pure function, so a test can check that the verdict follows from the rule.
import { type Tensor, matmul, mul, sum, tensor } from '@minibatch/core';
import { center, loadMnistSplit, subset, type Dataset } from '@minibatch/data';
import { modelFromConfig, type Loss, type Module } from '@minibatch/layers';
import { LBFGS, SGD, type Optimizer } from '@minibatch/optimizers';
import { defaultRegistry, evaluate, fitAsync, type EpochLogs, type Figure } from '@minibatch/train';

export type Verdict = 'supported' | 'not supported' | 'mixed';

/** Named numbers: what the rule reads and result.json keeps (a mean over seeds has its `…_std` beside it). */
export type Figures = Record<string, number>;

export interface LabContext {
  /** Smaller data and fewer steps (tests, a first look): still the real code path. */
  quick: boolean;
  /** The seeds a noisy measurement is repeated over (at least three). */
  seeds: readonly number[];
  /** A finished part, with its figure: shown as it runs, and kept for a partial report. */
  progress: (line: string) => void;
  /** Lets the event loop run (so Ctrl-C is seen); throws LabInterrupted once a stop was asked. */
  tick: () => Promise<void>;
  /** True once a stop was asked (fit's shouldStop). */
  stopping: () => boolean;
}

export interface LabResult {
  table: { columns: string[]; rows: (string | number)[][] };
  plots: Figure[];
  figures: Figures;
  /** What the experiment found, in one sentence with its figures. */
  finding: string;
}

export interface LabExperiment {
  name: string;
  title: string;
  /** The claim, in one sentence, as the source makes it. */
  claim: string;
  source: string;
  /** What is measured. */
  measures: string;
  /** How the figures decide the verdict, in words; judge() is the same rule in code. */
  rule: string;
  judge(figures: Figures): Verdict;
  run(ctx: LabContext): Promise<LabResult>;
}

/** Thrown out of a run when Ctrl-C (or SIGTERM) asked it to stop. */
export class LabInterrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'LabInterrupted';
  }
}

/** All parts hold: supported; none: not supported; some: mixed. */
export function verdictOf(parts: readonly boolean[]): Verdict {
  const held = parts.filter(Boolean).length;
  return held === parts.length ? 'supported' : held === 0 ? 'not supported' : 'mixed';
}

/**
 * Mean `a` lies below mean `b` by more than the larger of their standard deviations (`…_std`):
 * a difference within the seeds' noise does not count for a verdict.
 */
export function clearlyBelow(f: Figures, a: string, b: string): boolean {
  const noise = Math.max(f[`${a}_std`] ?? 0, f[`${b}_std`] ?? 0);
  return f[a] + noise < f[b];
}

/** Said in every rule that compares means over seeds. */
export const NOISE_RULE = ' A "lower" or "higher" between means over seeds counts only when the difference exceeds the larger of their standard deviations.';

export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return { mean, std };
}

/** Puts `name` (the mean) and `name_std` into figures; returns the mean. */
export function record(figures: Figures, name: string, values: readonly number[]): number {
  const { mean, std } = meanStd(values);
  figures[name] = mean;
  figures[`${name}_std`] = std;
  return mean;
}

/** The mean of a curve's last `n` values (a training loss at the end, without one step's noise). */
export const lastMean = (curve: readonly number[], n = 20) => curve.slice(-n).reduce((a, b) => a + b, 0) / Math.min(n, curve.length);

/** One optimizer step on a closure that evaluates the loss and its gradients; returns the loss before the step. */
export interface Stepper {
  step(closure: () => Tensor): number;
  dispose(): void;
}

/** A gradient-transform optimizer (SGD, Adam, …) as a Stepper. */
export function stepper(opt: Optimizer<object>): Stepper {
  return {
    step(closure) {
      opt.zeroGrad();
      const loss = closure().item();
      opt.step();
      return loss;
    },
    dispose: () => opt.dispose(),
  };
}

/** Makes a Stepper over the given parameters. */
export type Maker = (params: Tensor[]) => Stepper;
export const sgd = (lr: number, momentum = 0, nesterov = false): Maker => (p) => stepper(new SGD(p, { lr, momentum, nesterov }));
/** L-BFGS, one iteration per step (its strong-Wolfe line search evaluates the closure more often). */
export const lbfgs = (): Maker => (p) => {
  const o = new LBFGS(p, { lr: 1, maxIter: 1, historySize: 10, lineSearch: 'strongWolfe' });
  return { step: (closure) => o.step(closure), dispose: () => o.dispose() };
};

export const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
export const pm = (values: readonly number[], digits = 1, scale = 100) => {
  const { mean, std } = meanStd(values);
  return `${(mean * scale).toFixed(digits)} ± ${(std * scale).toFixed(digits)}`;
};

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
export const chart = (title: string, values: object[], spec: object): Figure['spec'] => ({
  $schema: SCHEMA, title, width: 460, height: 220, data: { values }, config: { font: 'sans-serif', legend: { orient: 'bottom' } }, ...spec,
});
/** A line chart of `y` against `x`, one line per `series`. */
export const lines = (title: string, values: object[], x: string, y: string, series: string, options: { logX?: boolean; logY?: boolean; yTitle?: string; xTitle?: string } = {}): Figure['spec'] =>
  chart(title, values, {
    mark: { type: 'line', clip: true },
    encoding: {
      x: { field: x, type: 'quantitative', ...(options.logX ? { scale: { type: 'log' } } : {}), ...(options.xTitle ? { title: options.xTitle } : {}) },
      y: { field: y, type: 'quantitative', ...(options.logY ? { scale: { type: 'log' } } : {}), ...(options.yTitle ? { title: options.yTitle } : {}) },
      color: { field: series, type: 'nominal', title: null, sort: null }, strokeDash: { field: series, type: 'nominal', title: null, sort: null },
    },
  });
/** Bars of `y` per `x`, side by side per `group`; on a log scale they rise from 0.5 (a log axis has no 0; a count of 1 still shows). */
export const bars = (title: string, values: object[], x: string, y: string, group: string, options: { logY?: boolean; yTitle?: string } = {}): Figure['spec'] =>
  chart(title, values, {
    mark: 'bar',
    encoding: {
      x: { field: x, type: 'nominal', sort: null, title: null }, xOffset: { field: group, sort: null },
      y: { field: y, type: 'quantitative', ...(options.logY ? { scale: { type: 'log' } } : {}), ...(options.yTitle ? { title: options.yTitle } : {}) },
      ...(options.logY ? { y2: { datum: 0.5 } } : {}),
      color: { field: group, type: 'nominal', title: null, sort: null },
    },
  });

const indices = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

/** MNIST: 8,000 / 2,000 (quick: 1,500 / 500 unless told), pixels in [0, 1]. */
export function mnist(ctx: LabContext, sizes?: { train: number; test: number }): { train: Dataset; test: Dataset } {
  const { train, test } = loadMnistSplit();
  const want = sizes ?? (ctx.quick ? { train: 1500, test: 500 } : { train: train.count, test: test.count });
  return {
    train: want.train >= train.count ? train : subset(train, indices(want.train)),
    test: want.test >= test.count ? test : subset(test, indices(want.test)),
  };
}

/** MNIST with the training set's per-pixel mean subtracted. */
export function centered(ctx: LabContext, sizes?: { train: number; test: number }): { train: Dataset; test: Dataset } {
  const { train, test } = mnist(ctx, sizes);
  const fitted = center({ per: 'feature' }).fit(train);
  return { train: fitted.transform(train), test: fitted.transform(test) };
}

export const first = (d: Dataset, n: number): Dataset => (n >= d.count ? d : subset(d, indices(n)));

export const model = (spec: object[]): Module => modelFromConfig(defaultRegistry(), spec as never);

/** flatten → dense(units, activation) per hidden layer (+ extra layers after each) → dense(10). */
export const mlp = (hidden: number[], activation: string | null, extra: (i: number) => object[] = () => [], init?: unknown, inputExtra: object[] = []) => model([
  { name: 'flatten' },
  ...inputExtra,
  ...hidden.flatMap((units, i) => [
    { name: 'dense', config: { units, ...(activation !== null ? { activation } : {}), ...(init !== undefined ? { kernelInitializer: init } : {}) } },
    ...extra(i),
  ]),
  { name: 'dense', config: { units: 10 } },
]);

export interface TrainOptions {
  epochs: number;
  optimizer: Optimizer<object>;
  seed?: number;
  loss?: Loss;
  batchSize?: number;
  validation?: boolean;
  regularization?: never[];
  transform?: never;
  shuffle?: 'epoch' | 'once' | false;
  /** Each step's training loss. */
  steps?: (loss: number) => void;
  /** Keep the model (the caller disposes it); default: disposed after the test. */
  keep?: boolean;
}

/**
 * Trains (fitAsync, so Ctrl-C is seen between steps) and tests. A loss that becomes NaN is
 * the run's outcome, not an error: `diverged` is then true and the accuracy is chance.
 */
export async function train(ctx: LabContext, m: Module, data: { train: Dataset; test: Dataset }, options: TrainOptions): Promise<{ epochs: EpochLogs[]; accuracy: number; loss: number; seconds: number; diverged: boolean }> {
  const started = performance.now();
  let epochs: EpochLogs[] = [];
  let diverged = false;
  try {
    const history = await fitAsync(m, data.train, {
      epochs: options.epochs, batchSize: options.batchSize ?? 64, seed: options.seed ?? 1, optimizer: options.optimizer, loss: options.loss,
      ...(options.shuffle !== undefined ? { shuffle: options.shuffle } : {}),
      ...(options.validation ? { validation: data.test } : {}), ...(options.regularization ? { regularization: options.regularization } : {}),
      ...(options.transform ? { transform: options.transform } : {}),
      ...(options.steps ? { callbacks: { onBatchEnd: (b) => options.steps!(b.loss) } } : {}),
      shouldStop: ctx.stopping,
    });
    epochs = history.epochs;
  } catch (error) {
    if (ctx.stopping() || !/^fit: the (loss|penalty) became/.test((error as Error).message)) {
      if (!options.keep) m.dispose();
      throw ctx.stopping() ? new LabInterrupted() : error;
    }
    diverged = true;
  }
  if (ctx.stopping()) {
    if (!options.keep) m.dispose();
    throw new LabInterrupted();
  }
  const seconds = (performance.now() - started) / 1000;
  const test = diverged ? { accuracy: 0.1, loss: Infinity } : evaluate(m, data.test, { loss: options.loss, metrics: ['accuracy'] });
  if (!options.keep) m.dispose();
  return { epochs, accuracy: test.accuracy, loss: test.loss, seconds, diverged };
}

/** ½·xᵀAx as a tensor function of x ([1, n]): the quadratics of the optimization experiments. */
export function quadratic(a: Float32Array, n: number): (x: Tensor) => Tensor {
  const matrix = tensor(a, [n, n]);
  return (x) => mul(0.5, sum(mul(matmul(x, matrix), x)));
}

/** A seeded rotation of R^n (Gram–Schmidt of a Gaussian matrix), row-major, float64. */
export function rotation(n: number, rng: { normal(): number }): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = Float64Array.from({ length: n }, () => rng.normal());
    for (let j = 0; j < i; j++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += row[k] * q[j * n + k];
      for (let k = 0; k < n; k++) row[k] -= dot * q[j * n + k];
    }
    const norm = Math.hypot(...row);
    for (let k = 0; k < n; k++) q[i * n + k] = row[k] / norm;
  }
  return q;
}

/** Q·diag(d)·Qᵀ as float32 (Q row-major, its rows the eigenvectors). */
export function withEigenvalues(q: Float64Array, d: readonly number[]): Float32Array {
  const n = d.length;
  const a = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[k * n + i] * d[k] * q[k * n + j];
      a[i * n + j] = s;
    }
  }
  return a;
}

