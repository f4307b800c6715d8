// Watching a network train, as the lectures' "babysitting the learning process" asks: what each
// layer's activations look like (histograms, dead ReLUs, saturated tanh/sigmoid units), how
// big each update is next to its weights (healthy ≈ 1e-3), and, from those, what is wrong in
// words a person can act on.
import { ArgumentError, noGrad, scope, tensor, type Tensor } from '@minibatch/core';
import type { Dataset } from '@minibatch/data';
import type { Module } from '@minibatch/layers';
import { suggest } from '@minibatch/registry';

export interface Histogram {
  /** bins + 1 edges, from the smallest value to the largest. */
  edges: number[];
  counts: number[];
}

/** One layer's output over a batch. */
export interface LayerActivity {
  index: number;
  /** The layer's label, or its registry name and index ('dense 2'). */
  label: string;
  /** The activation applied at the layer's output ('relu', 'tanh', …), or null. */
  activation: string | null;
  /** Per-sample output shape. */
  shape: number[];
  /** Mean, std and histogram of the finite values. */
  mean: number;
  std: number;
  histogram: Histogram;
  /** The fraction of values that are NaN or ±Infinity (a diverged run). */
  nonFinite: number;
  /** After a ReLU: the fraction of units (last axis) not positive for any sample of the batch. */
  dead: number | null;
  /** After tanh or sigmoid: the fraction of values within 3% of the range's ends. */
  saturated: number | null;
}

/** One parameter's size, its gradient's and its last update's. */
export interface ParameterHealth {
  name: string;
  shape: number[];
  norm: number;
  /** ‖∇w‖, when the parameter has a gradient. */
  gradNorm: number | null;
  /** ‖Δw‖ / ‖w‖ since the snapshot (null without one); the lectures' healthy value is about 1e-3. */
  updateRatio: number | null;
}

/** A BatchNorm layer's running statistics and affine parameters, summarized over its channels. */
export interface BatchNormStats {
  /** The layer's path in the model ('2', '0.block.1'). */
  path: string;
  /** Mean over channels of |running mean| and of the running variance. */
  runningMean: number;
  runningVar: number;
  /** ‖γ‖ / √channels and ‖β‖ / √channels (root mean squares). */
  gamma: number | null;
  beta: number | null;
}

export interface Diagnosis {
  /** What the diagnosis is about: 'loss', a layer's label or a parameter's name. */
  subject: string;
  message: string;
}

/** The range ends of the bounded activations, for saturation. */
const BOUNDS: Record<string, [number, number]> = { tanh: [-1, 1], sigmoid: [0, 1], hardSigmoid: [0, 1], scaledTanh: [-1.7159, 1.7159] };
const RELUS = new Set(['relu', 'relu6', 'clippedRelu']);
const HEALTHY_RATIO = 1e-3;
/**
 * Steps before the update/weight ratio is judged: an optimizer's first steps are not typical
 * (Adam's first update is ±lr in every weight, 20× the healthy ratio for a 784-input layer).
 */
const RATIO_WARMUP = 10;

/** The activation at a layer's output: the layer itself (relu, tanh) or a fused one (dense, conv2d). */
function activationOf(layer: Module): string | null {
  if (layer.name in BOUNDS || RELUS.has(layer.name)) return layer.name;
  const fused = (layer as unknown as { activation?: { name?: unknown } | null }).activation;
  return typeof fused?.name === 'string' ? fused.name : null;
}

function histogramOf(values: Float32Array, bins: number, min: number, max: number): Histogram {
  const width = max > min ? (max - min) / bins : 1;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) counts[Math.min(bins - 1, Math.floor((values[i] - min) / width))]++;
  return { edges: Array.from({ length: bins + 1 }, (_, i) => min + i * width), counts };
}

/** The most values a layer's mean, std and histogram are computed from (an even stride through the rest). */
const STAT_VALUES = 1 << 16;

function activityOf(all: Float32Array, shape: number[], index: number, label: string, activation: string | null, bins: number): LayerActivity {
  // A big conv output (256 × 28 × 28 × 8 = 1.6M values) is summarized from an even sample:
  // the monitors must cost little next to training (bench/monitors.mjs).
  const stride = Math.max(1, Math.ceil(all.length / STAT_VALUES));
  let values = all;
  if (stride > 1) {
    values = new Float32Array(Math.ceil(all.length / stride));
    for (let j = 0; j < values.length; j++) values[j] = all[j * stride];
  }
  let sum = 0;
  let count = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    sum += v;
    count++;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = count > 0 ? sum / count : NaN;
  let squares = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) squares += (values[i] - mean) ** 2;
  const finite = count === values.length ? values : values.filter((v) => Number.isFinite(v));
  const histogram = count > 0 ? histogramOf(finite, bins, min, max) : { edges: [], counts: [] };
  let dead: number | null = null;
  if (activation !== null && RELUS.has(activation)) {
    const units = shape[shape.length - 1];
    const alive = new Uint8Array(units);
    for (let i = 0; i < all.length; i++) if (all[i] > 0) alive[i % units] = 1;
    dead = 1 - alive.reduce((a, b) => a + b, 0) / units;
  }
  let saturated: number | null = null;
  const bounds = activation === null ? undefined : BOUNDS[activation];
  if (bounds !== undefined) {
    const margin = 0.03 * (bounds[1] - bounds[0]);
    let count = 0;
    for (let i = 0; i < values.length; i++) if (values[i] < bounds[0] + margin || values[i] > bounds[1] - margin) count++;
    saturated = count / values.length;
  }
  return { index, label, activation, shape, mean, std: count > 0 ? Math.sqrt(squares / count) : NaN, histogram, nonFinite: 1 - count / values.length, dead, saturated };
}

/**
 * Runs `x` through the layers of `model` (a Sequential, or any module with `layers`) one at a
 * time, without recording gradients and in the mode the model is in, and describes each
 * layer's output.
 *
 * @example
 * for (const a of layerActivity(model, batch.x)) console.log(a.label, a.std, a.dead);
 */
export function layerActivity(model: Module, x: Tensor, options: { bins?: number } = {}): LayerActivity[] {
  const { bins = 30 } = options;
  const list = (model as unknown as { layers?: readonly Module[] }).layers ?? [model];
  const out: LayerActivity[] = [];
  noGrad(() => scope(() => {
    let h = x;
    list.forEach((layer, i) => {
      h = layer.forward(h);
      out.push(activityOf(h.data(), h.shape.slice(1), i, layer.label ?? `${layer.name} ${i}`, activationOf(layer), bins));
    });
  }));
  return out;
}

const rms = (values: ArrayLike<number>): number => Math.sqrt(Array.from(values).reduce((a, v) => a + v * v, 0) / Math.max(1, values.length));

/** Every BatchNorm layer of `model`, at any depth, with its running statistics. */
export function batchNormStats(model: Module): BatchNormStats[] {
  const out: BatchNormStats[] = [];
  const visit = (m: Module, path: string) => {
    if (m.name === 'batchNorm') {
      const buffers = new Map(m.namedBuffers());
      const params = new Map(m.namedParameters());
      const mean = buffers.get('runningMean')?.data() ?? new Float32Array();
      const variance = buffers.get('runningVar')?.data() ?? new Float32Array();
      out.push({
        path,
        runningMean: mean.reduce((a, v) => a + Math.abs(v), 0) / Math.max(1, mean.length),
        runningVar: variance.reduce((a, v) => a + v, 0) / Math.max(1, variance.length),
        gamma: params.has('gamma') ? rms(params.get('gamma')!.data()) : null,
        beta: params.has('beta') ? rms(params.get('beta')!.data()) : null,
      });
    }
    for (const [name, child] of m.children()) visit(child, path === '' ? name : `${path}.${name}`);
  };
  visit(model, '');
  return out;
}

/** What `fit` watches, and how often (FitOptions.monitors). */
export interface MonitorOptions {
  /** Every how many steps (default 100; the first step is watched too). */
  every?: number;
  /** Samples of the probe batch whose activations are described (default 128; from the validation data, else the training data). */
  probe?: number;
  /** Histogram bins (default 30). */
  bins?: number;
  /** Only these layers' activations, by label ('dense 2', as layerActivity names them). Default: all. */
  layers?: readonly string[];
}

/** One look at a training run (Callbacks.onMonitor). */
export interface MonitorRecord {
  step: number;
  epoch: number;
  /** The last step's data loss. */
  loss: number;
  parameters: ParameterHealth[];
  activity: LayerActivity[];
  batchNorm: BatchNormStats[];
  diagnoses: Diagnosis[];
}

/**
 * The watcher `fit` runs with `monitors`: before a watched step it copies the weights, after
 * it measures the update, the gradients, the probe batch's activations (in eval mode, so
 * BatchNorm statistics and dropout draws are those of an unwatched run) and diagnoses.
 */
export class Monitor {
  readonly every: number;
  readonly #options: Required<Omit<MonitorOptions, 'layers'>> & { layers: readonly string[] | null };
  readonly #probe: { x: Float32Array; shape: number[] };
  readonly #losses: number[] = [];
  #before: Map<string, Float32Array> | null = null;
  accuracy: { train: number; validation: number; classes: number } | undefined;

  constructor(options: MonitorOptions | true, data: Dataset, validation?: Dataset) {
    const o = options === true ? {} : options;
    const every = o.every ?? 100;
    const probe = o.probe ?? 128;
    const bins = o.bins ?? 30;
    for (const [name, v] of [['every', every], ['probe', probe], ['bins', bins]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`monitors.${name} must be a positive integer, got ${v}`);
    }
    this.every = every;
    this.#options = { every, probe, bins, layers: o.layers ?? null };
    const source = validation ?? data;
    const n = Math.min(probe, source.count);
    const size = source.shape.reduce((a, b) => a * b, 1);
    this.#probe = { x: source.x.slice(0, n * size), shape: [n, ...source.shape] };
  }

  /** Checks the watched layer names against the model (did-you-mean for a typo). */
  check(model: Module): void {
    if (this.#options.layers === null) return;
    const known = this.#activity(model).map((a) => a.label);
    for (const name of this.#options.layers) {
      if (!known.includes(name)) {
        const near = suggest(name, known);
        throw new ArgumentError(`monitors.layers: no layer '${name}'${near ? ` — did you mean '${near}'?` : ''} (layers: ${known.join(', ')})`);
      }
    }
  }

  /** Whether step `step` (0-based, over the whole run) is watched; then it copies the weights. */
  before(model: Module, step: number): boolean {
    if (step % this.every !== 0) return false;
    this.#before = snapshotParameters(model);
    return true;
  }

  /** Every step's loss (for the loss diagnoses). */
  record(loss: number): void {
    this.#losses.push(loss);
    if (this.#losses.length > 200) this.#losses.shift();
  }

  /** The record of a watched step, after it ran. */
  after(model: Module, step: number, epoch: number): MonitorRecord {
    const parameters = parameterHealth(model, this.#before ?? undefined);
    this.#before = null;
    const wasTraining = model.training;
    model.eval();
    let activity: LayerActivity[];
    try {
      activity = this.#activity(model);
    } finally {
      if (wasTraining) model.train();
    }
    if (this.#options.layers !== null) activity = activity.filter((a) => this.#options.layers!.includes(a.label));
    return {
      step, epoch, loss: this.#losses[this.#losses.length - 1] ?? NaN, parameters, activity, batchNorm: batchNormStats(model),
      diagnoses: diagnose({
        losses: this.#losses, activity, ...(step >= RATIO_WARMUP ? { parameters } : {}), ...(this.accuracy !== undefined ? { accuracy: this.accuracy } : {}),
      }),
    };
  }

  #activity(model: Module): LayerActivity[] {
    return scope(() => layerActivity(model, tensor(this.#probe.x, this.#probe.shape), { bins: this.#options.bins }));
  }
}

/** A copy of every parameter's values, to measure the next update against. */
export function snapshotParameters(model: Module): Map<string, Float32Array> {
  return new Map(model.namedParameters().map(([name, p]) => [name, p.data().slice()]));
}

const norm = (values: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return Math.sqrt(s);
};

/**
 * Norms of each parameter and of its gradient, and ‖Δw‖ / ‖w‖ since `before` (a
 * snapshotParameters() taken before the step).
 */
export function parameterHealth(model: Module, before?: ReadonlyMap<string, Float32Array>): ParameterHealth[] {
  return model.namedParameters().map(([name, p]) => {
    const now = p.data();
    const w = norm(now);
    let updateRatio: number | null = null;
    const previous = before?.get(name);
    if (previous !== undefined && previous.length === now.length) {
      let s = 0;
      for (let i = 0; i < now.length; i++) s += (now[i] - previous[i]) ** 2;
      updateRatio = w > 0 ? Math.sqrt(s) / w : null;
    }
    return { name, shape: p.shape.slice(), norm: w, gradNorm: p.grad === null ? null : norm(p.grad.data()), updateRatio };
  });
}

const percent = (f: number): string => `${Math.round(f * 100)}%`;
const times = (f: number): string => `${f >= 10 ? Math.round(f) : f.toFixed(1)}×`;

/** What the figures say is wrong, each as something to do; an empty list when nothing is. */
export function diagnose(input: {
  losses?: readonly number[];
  activity?: readonly LayerActivity[];
  parameters?: readonly ParameterHealth[];
  /** Accuracy on the training and on the validation data, to tell over- and underfitting (underfitting needs `classes`). */
  accuracy?: { train: number; validation: number; classes?: number };
}): Diagnosis[] {
  const found: Diagnosis[] = [];
  const losses = input.losses ?? [];
  const bad = losses.findIndex((l) => !Number.isFinite(l));
  if (bad >= 0) {
    found.push({ subject: 'loss', message: `the loss became ${losses[bad]} at step ${bad + 1}: the learning rate is too high or the inputs are not normalized; lower the learning rate 10× and check the data` });
  } else if (losses.length >= 10) {
    const window = losses.slice(-50);
    const low = Math.min(...window);
    const last = window[window.length - 1];
    if (low > 0 && last > 10 * low) {
      found.push({ subject: 'loss', message: `learning rate too high: the loss rose ${times(last / low)} in ${window.length} steps; try a learning rate 10× lower` });
    } else if (losses.length >= 100) {
      const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const first = mean(losses.slice(0, 20));
      if (mean(losses.slice(-20)) > 0.99 * first) {
        found.push({ subject: 'loss', message: `the loss has not fallen in ${losses.length} steps: the learning rate is likely too low (or so high that it bounces); check the update/weight ratios` });
      }
    }
  }
  for (const p of input.parameters ?? []) {
    if (p.shape.length < 2) continue;
    if (p.gradNorm === 0) {
      // Not a learning-rate problem: nothing reaches these weights (every unit they feed is dead, or the graph is cut).
      found.push({ subject: p.name, message: 'gets no gradient at all: the units it feeds are dead or the graph is cut; see the layer diagnoses (dead ReLUs: lower the learning rate, He init)' });
      continue;
    }
    if (p.updateRatio === null || p.updateRatio === 0) continue;
    const factor = p.updateRatio / HEALTHY_RATIO;
    if (factor > 10) found.push({ subject: p.name, message: `updates are ${p.updateRatio.toExponential(1)} of the weights (healthy ≈ 1e-3): the learning rate is likely ~${times(factor)} too high` });
    else if (factor < 0.1) found.push({ subject: p.name, message: `updates are ${p.updateRatio.toExponential(1)} of the weights (healthy ≈ 1e-3): the learning rate is likely ~${times(1 / factor)} too low` });
  }
  const broken = (input.activity ?? []).find((a) => a.nonFinite > 0);
  if (broken !== undefined) {
    found.push({ subject: broken.label, message: `${percent(broken.nonFinite)} of the outputs are NaN or Infinity, first in this layer: the weights diverged; lower the learning rate 10× (or clip gradients) and restart` });
  }
  for (const a of input.activity ?? []) {
    if (a.dead !== null && a.dead > 0.5) {
      found.push({ subject: a.label, message: `${percent(a.dead)} of the units never fire (dead ReLUs): check the initialization and the learning rate — try He init, a lower learning rate, or leaky ReLU` });
    }
    if (a.saturated !== null && a.saturated > 0.5) {
      found.push({ subject: a.label, message: `${percent(a.saturated)} of the ${a.activation} outputs are saturated (gradients vanish there): normalize the inputs, use LeCun's 1.7159·tanh(2x/3) (scaledTanh) and Xavier or LeCun init` });
    }
    if (a.std < 1e-3 && a.histogram.counts.length > 0) {
      found.push({ subject: a.label, message: `the activations have all but vanished (std ${a.std.toExponential(1)}): the initial weights are too small; use Xavier init for tanh, He init for ReLU` });
    }
  }
  if (input.accuracy !== undefined) {
    const { train, validation } = input.accuracy;
    if (train - validation > 0.1) {
      found.push({ subject: 'accuracy', message: `overfitting: training accuracy ${percent(train)} against ${percent(validation)} on validation; add regularization (L2, dropout, augmentation) or more data` });
    } else if (input.accuracy.classes !== undefined) {
      // Underfitting: both accuracies less than halfway from chance to perfect.
      const chance = 1 / input.accuracy.classes;
      const halfway = chance + (1 - chance) / 2;
      if (train < halfway && validation < halfway) {
        found.push({ subject: 'accuracy', message: `underfitting: training accuracy ${percent(train)} and validation ${percent(validation)}, both less than halfway from chance (${percent(chance)}) to 100%; try a bigger model, more epochs or a higher learning rate` });
      }
    }
  }
  return found;
}
