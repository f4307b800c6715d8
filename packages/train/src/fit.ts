// The training loop: mini-batch SGD with per-epoch reshuffling by default (the data loader),
// one memory scope per step, metrics summed exactly over the epoch, validation after each
// epoch, and callbacks. The optimizer is any @minibatch/optimizers Optimizer (or its registry spec).
import { ArgumentError, Tensor, add, noGrad, scope, softmax, tensor, Rng } from '@minibatch/core';
import { DataLoader, type BatchTransform, type Dataset, type ShuffleMode } from '@minibatch/data';
import { losses, type Loss, type Module, type Target } from '@minibatch/layers';
import { Optimizer } from '@minibatch/optimizers';
import type { Registry, Spec } from '@minibatch/registry';
import { checkDataset } from './checks.js';
import { correctCount, topKCount } from './metrics.js';
import { Monitor, type MonitorOptions, type MonitorRecord } from './monitors.js';
import type { RunPosition, TrainingState } from './checkpoint.js';
import type { WeightAverage } from './average.js';
import type { Snapshots } from './snapshots.js';
import { loadMaskStates, maskStates } from '@minibatch/regularizers';

/** A metric name: 'accuracy', or 'top5' (any k). */
export type MetricName = 'accuracy' | `top${number}`;

/**
 * Figures of one epoch; validation figures appear when validation data is given. `loss` is
 * the data loss (comparable with `val_loss`); with penalties in `regularization`, `penalty` is
 * their mean over the epoch's steps, and the objective minimized was `loss + penalty`.
 */
export interface EpochLogs {
  epoch: number;
  loss: number;
  /** Per metric: 'accuracy', 'top5', …, 'val_loss', 'val_accuracy', …, and 'penalty'. */
  [metric: string]: number;
  samples_per_s: number;
  seconds: number;
  lr: number;
}

export interface BatchLogs {
  epoch: number;
  batch: number;
  size: number;
  /** The data loss of the batch. */
  loss: number;
  /** The batch's penalty term, when `regularization` has penalties. */
  penalty?: number;
}

export interface Callbacks {
  onBatchEnd?(logs: BatchLogs): void;
  /** Return false to stop training after this epoch (early stopping). */
  onEpochEnd?(logs: EpochLogs): void | boolean;
  onTrainEnd?(history: History): void;
  /** A watched step's figures and diagnoses (with FitOptions.monitors). */
  onMonitor?(record: MonitorRecord): void;
}

export interface History {
  epochs: EpochLogs[];
  /** True when a callback, or shouldStop, stopped the run early. */
  stopped: boolean;
  /** True when shouldStop interrupted the run before its last epoch (a checkpoint was written, when asked). */
  interrupted?: boolean;
}

/**
 * A weight penalty (e.g. @minibatch/regularizers' l1, l2, elasticNet): a scalar tensor on the
 * tape, added to each step's loss.
 */
export interface PenaltyTerm {
  penalty(model: Module): Tensor;
}

/** A constraint (e.g. maxNorm, nonNegative): projects parameters in place after each step. */
export interface ParameterConstraint {
  constrain(model: Module): void;
}

export interface FitOptions {
  epochs: number;
  batchSize?: number;
  /** A Loss, or a registry name/spec of kind 'loss'. Default: softmax cross-entropy. */
  loss?: Loss | string | Spec;
  /** An Optimizer, or a registry spec of kind 'optimizer' (needs `registry`). */
  optimizer: Optimizer<object> | Spec;
  metrics?: readonly MetricName[];
  validation?: Dataset;
  callbacks?: Callbacks | readonly Callbacks[];
  /** Seeds the data order and the batch transforms (and builds an unbuilt model). */
  seed?: number;
  /**
   * The data order: 'epoch' (default) reshuffles every epoch from (seed, epoch), 'once' keeps
   * one permutation drawn from the seed for the whole run, false keeps the data set's order
   * (LeCun et al., "Efficient BackProp" 1998, §4.2 compares them). Resuming replays the same order.
   */
  shuffle?: ShuffleMode;
  /** Augmentation applied to training batches only. */
  transform?: BatchTransform;
  dropLast?: boolean;
  /** Resolves names and specs (loss, optimizer). */
  registry?: Registry;
  /** Epoch to start from when resuming (the loader replays the same order). */
  initialEpoch?: number;
  /**
   * Penalties and constraints: objects with penalty(model) and/or constrain(model), or
   * registry names/specs of kind 'regularizer' (need `registry`). Each step minimizes
   * data loss + Σ penalties, and then applies every constraint after optimizer.step(). The
   * epoch logs keep `loss` as the data loss and report the penalty as `penalty`.
   */
  regularization?: readonly (PenaltyTerm | ParameterConstraint | Spec | string)[];
  /**
   * Watch the run (true: every 100 steps): update/weight ratios, gradient norms, activations
   * of a probe batch, BatchNorm statistics and diagnoses, to callbacks' onMonitor. Watching
   * reads the model in eval mode and draws no random numbers: the run is the same as unwatched.
   */
  monitors?: MonitorOptions | true;
  /** Continue a run from its checkpointed state (its weights, optimizer, generators and position). */
  resume?: TrainingState;
  /** Hands the run's state to `save` after every epoch (default) or every `every` steps, and when shouldStop stops it. */
  checkpoint?: { every?: number | 'epoch'; save(state: TrainingState): void };
  /** Read after every step: true stops the run there (after writing a checkpoint, when asked). */
  shouldStop?: () => boolean;
  /** A running average of the weights (EMA or Polyak), updated after every step and kept in checkpoints. */
  average?: WeightAverage;
  /** A snapshot collector: the weights at each learning-rate cycle's end, kept in checkpoints. */
  snapshots?: Snapshots;
}

export interface EvaluateOptions {
  batchSize?: number;
  loss?: Loss | string | Spec;
  metrics?: readonly MetricName[];
  registry?: Registry;
}

function resolveLoss(loss: FitOptions['loss'], registry: Registry | undefined): Loss {
  if (loss === undefined) return losses.softmaxCrossEntropy();
  if (typeof loss === 'function') return loss;
  if (registry === undefined) throw new ArgumentError('fit: a loss given by name needs options.registry to resolve it');
  return typeof loss === 'string' ? registry.create<Loss>('loss', loss) : registry.fromJSON<Loss>(loss);
}

/** The optimizer over the model's trainable parameters (frozen ones are never updated, not even by weight decay). */
function resolveOptimizer(model: Module, optimizer: FitOptions['optimizer'], registry: Registry | undefined): Optimizer<object> {
  if (optimizer instanceof Optimizer) {
    if (optimizer.groups.length === 0) optimizer.addParamGroup(model.trainableParameters());
    return optimizer;
  }
  if (registry === undefined) throw new ArgumentError('fit: an optimizer given as a spec needs options.registry to resolve it');
  const made = registry.fromJSON<Optimizer<object>>(optimizer);
  made.addParamGroup(model.trainableParameters());
  return made;
}

function resolveRegularization(items: FitOptions['regularization'], registry: Registry | undefined): {
  penalties: PenaltyTerm[];
  constraints: ParameterConstraint[];
} {
  const penalties: PenaltyTerm[] = [];
  const constraints: ParameterConstraint[] = [];
  (items ?? []).forEach((item, i) => {
    let made: unknown = item;
    if (typeof item === 'string' || (item !== null && typeof item === 'object' && 'kind' in item && 'name' in item && !('penalty' in item) && !('constrain' in item))) {
      if (registry === undefined) throw new ArgumentError(`fit: regularization[${i}] is given by name; it needs options.registry to resolve it`);
      made = typeof item === 'string' ? registry.create('regularizer', item) : registry.fromJSON(item);
    }
    const asPenalty = made as Partial<PenaltyTerm>;
    const asConstraint = made as Partial<ParameterConstraint>;
    const isPenalty = typeof asPenalty?.penalty === 'function';
    const isConstraint = typeof asConstraint?.constrain === 'function';
    if (!isPenalty && !isConstraint) {
      throw new ArgumentError(`fit: regularization[${i}] has neither penalty(model) nor constrain(model); expected a penalty (l1, l2, elasticNet), a constraint (maxNorm, nonNegative) or a registry spec of kind 'regularizer'`);
    }
    if (isPenalty) penalties.push(made as PenaltyTerm);
    if (isConstraint) constraints.push(made as ParameterConstraint);
  });
  return { penalties, constraints };
}

function metricK(name: string): number {
  if (name === 'accuracy') return 1;
  const match = /^top(\d+)$/.exec(name);
  if (match === null || Number(match[1]) < 1) throw new ArgumentError(`unknown metric '${name}' — known: 'accuracy', 'topK' (e.g. 'top5')`);
  return Number(match[1]);
}

function targetOf(batchTargets: Tensor | null, y: Int32Array): Target {
  return batchTargets ?? y;
}

/**
 * The learning rate of the optimizer's first group (or of its defaults, before it has groups)
 * at `step` — by default the step it is at: a number, or its schedule's value there.
 */
export function learningRate(opt: Optimizer<object>, step = opt.steps): number {
  const lr = (opt.groups[0]?.options as { lr?: unknown } | undefined)?.lr ?? (opt.defaults as { lr?: unknown }).lr;
  if (typeof lr === 'number') return lr;
  if (typeof lr === 'function') return (lr as (step: number) => number)(step);
  return NaN;
}

/** Feeds reduce-on-plateau schedules the monitored loss after each epoch. */
function reportPlateau(opt: Optimizer<object>, metric: number): void {
  for (const g of opt.groups) {
    const lr = (g.options as { lr?: unknown }).lr as { report?: (m: number) => boolean } | undefined;
    if (lr !== undefined && typeof lr.report === 'function') lr.report(metric);
  }
}

/** What one training step needs, resolved: the loss, the optimizer over the model's parameters, penalties and constraints. */
export interface StepParts {
  loss: Loss;
  optimizer: Optimizer<object>;
  penalties?: readonly PenaltyTerm[];
  constraints?: readonly ParameterConstraint[];
  /** Return the model's outputs for the batch (to count hits); default false. */
  scores?: boolean;
}

/** The figures of one step: the data loss, the penalty (0 without penalties) and, when asked, the outputs. */
export interface StepResult {
  loss: number;
  penalty: number;
  scores: Float32Array | null;
}

/**
 * One step of mini-batch SGD in its own memory scope: forward, data loss + penalties,
 * backward, the optimizer's update, then the constraints. `fit` is a loop of these; a caller
 * that must stay responsive between steps (a Web Worker that takes pause and predict
 * messages) runs them itself, with batches from a DataLoader.
 *
 * @example
 * for (const batch of loader) {
 *   const { loss } = trainStep(model, batch, { loss: losses.softmaxCrossEntropy(), optimizer });
 * }
 */
export function trainStep(model: Module, batch: { x: Tensor; y: Int32Array; targets?: Tensor | null }, parts: StepParts): StepResult {
  const { penalties = [], constraints = [], optimizer } = parts;
  if (optimizer.groups.length === 0) {
    throw new ArgumentError('trainStep: the optimizer has no parameters to update; create it over model.trainableParameters() or call optimizer.addParamGroup(...) first');
  }
  return scope(() => {
    const output = model.forward(batch.x);
    const l = parts.loss(output, targetOf(batch.targets ?? null, batch.y));
    let penalty: Tensor | null = null;
    for (const p of penalties) {
      const term = p.penalty(model);
      penalty = penalty === null ? term : add(penalty, term);
    }
    optimizer.zeroGrad();
    (penalty === null ? l : add(l, penalty)).backward();
    optimizer.step();
    for (const c of constraints) c.constrain(model);
    return { loss: l.item(), penalty: penalty === null ? 0 : penalty.item(), scores: parts.scores === true ? output.data().slice() : null };
  });
}

/**
 * Trains `model` on `data` and returns the per-epoch history.
 *
 * @example
 * const history = fit(model, train, {
 *   epochs: 5, batchSize: 64, seed: 1, validation: test,
 *   optimizer: new Adam(undefined, { lr: 1e-3 }),
 *   callbacks: { onEpochEnd: (logs) => console.log(logs) },
 * });
 */
export function fit(model: Module, data: Dataset, options: FitOptions): History {
  const run = fitSteps(model, data, options);
  for (let next = run.next(); ; next = run.next()) if (next.done === true) return next.value;
}

/**
 * fit() that lets the event loop run between steps (about every `yieldMs`, default 50 ms), so
 * that a signal handler or a message can set what `shouldStop` reads — the way a command line
 * stops a run cleanly on Ctrl-C: the step finishes, a checkpoint is written, fit returns.
 */
export async function fitAsync(model: Module, data: Dataset, options: FitOptions & { yieldMs?: number }): Promise<History> {
  const { yieldMs = 50 } = options;
  const run = fitSteps(model, data, options);
  let last = performance.now();
  for (let next = run.next(); ; next = run.next()) {
    if (next.done === true) return next.value;
    if (performance.now() - last >= yieldMs) {
      await new Promise((resolve) => setImmediate(resolve));
      last = performance.now();
    }
  }
}

/** The training loop, one step per `next()`; fit and fitAsync drive it. */
function* fitSteps(model: Module, data: Dataset, options: FitOptions): Generator<void, History> {
  const { epochs, batchSize = 32, metrics = ['accuracy'], seed = 0, shuffle = 'epoch', initialEpoch = 0, resume } = options;
  if (!Number.isInteger(epochs) || epochs < 1) throw new ArgumentError(`fit: epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`fit: batchSize must be a positive integer, got ${batchSize}`);
  if (shuffle !== 'epoch' && shuffle !== 'once' && shuffle !== false) {
    throw new ArgumentError(`fit: shuffle must be 'epoch', 'once' or false, got ${typeof shuffle === 'string' ? JSON.stringify(shuffle) : String(shuffle)}`);
  }
  const ks = metrics.map(metricK);
  const loss = resolveLoss(options.loss, options.registry);
  model.build(data.shape, new Rng(seed)); // an unbuilt model gets its weights from the run's seed
  checkDataset(model, data, 'the training data');
  if (options.validation !== undefined) checkDataset(model, options.validation, 'the validation data');
  const optimizer = resolveOptimizer(model, options.optimizer, options.registry);
  const { penalties, constraints } = resolveRegularization(options.regularization, options.registry);
  const callbacks = options.callbacks === undefined ? [] : Array.isArray(options.callbacks) ? options.callbacks : [options.callbacks as Callbacks];
  const loader = new DataLoader(data, { batchSize, seed, shuffle, dropLast: options.dropLast ?? false, transform: options.transform, epoch: initialEpoch });
  const history: History = { epochs: [], stopped: false };
  const monitor = options.monitors === undefined ? null : new Monitor(options.monitors, data, options.validation);
  monitor?.check(model);
  const every = options.checkpoint?.every ?? 'epoch';
  if (every !== 'epoch' && (!Number.isInteger(every) || every < 1)) throw new ArgumentError(`fit: checkpoint.every must be 'epoch' or a positive number of steps, got ${String(every)}`);
  const last = initialEpoch + epochs;
  if (resume !== undefined && options.average !== undefined && resume.average === undefined) {
    throw new ArgumentError('fit: this run keeps a weight average, but the checkpoint has none; resume without average, or from a checkpoint of a run that kept one');
  }
  // Where the run is; a resumed run starts from the checkpoint's position, weights and generators.
  const at: RunPosition = resume === undefined
    ? { epoch: initialEpoch, batch: 0, step: initialEpoch * loader.length, sums: { loss: 0, penalty: 0, seen: 0, hits: ks.map(() => 0), seconds: 0 }, history: [] }
    : restoreState(model, optimizer, resume, loader.length, ks.length);
  if (resume?.average !== undefined) options.average?.load(resume.average);
  if (resume !== undefined && options.snapshots !== undefined) options.snapshots.load(resume.snapshots ?? { taken: [] });
  history.epochs.push(...at.history);
  const capture = (): TrainingState => ({
    ...captureState(model, optimizer, at),
    ...(options.average !== undefined ? { average: options.average.state() } : {}),
    ...(options.snapshots !== undefined ? { snapshots: options.snapshots.state() } : {}),
  });

  for (; at.epoch < last; at.epoch++, at.batch = 0) {
    model.train();
    // A resumed epoch keeps counting the seconds it had before the stop.
    const started = performance.now() - at.sums.seconds * 1000;
    for (const batch of loader.batches(at.epoch, at.batch)) {
      const watched = monitor?.before(model, at.step) === true;
      const { loss: stepLoss, penalty: stepPenalty, scores } = trainStep(model, batch, { loss, optimizer, penalties, constraints, scores: ks.length > 0 });
      options.average?.update();
      options.snapshots?.take(at.step);
      monitor?.record(stepLoss);
      if (watched) {
        const record = monitor!.after(model, at.step, at.epoch + 1);
        for (const cb of callbacks) cb.onMonitor?.(record);
      }
      at.step++;
      if (scores !== null) ks.forEach((k, i) => (at.sums.hits[i] += k === 1 ? correctCount(scores, batch.y, data.classes) : topKCount(scores, batch.y, data.classes, k)));
      if (!Number.isFinite(stepLoss + stepPenalty)) {
        throw new ArgumentError(
          `fit: the ${Number.isFinite(stepLoss) ? 'penalty' : 'loss'} became ${Number.isFinite(stepLoss) ? stepPenalty : stepLoss} at epoch ${at.epoch + 1}, batch ${at.batch + 1} — the learning rate is probably too high (lower it 3–10×), or the inputs are not normalized`,
        );
      }
      at.sums.loss += stepLoss * batch.size;
      at.sums.penalty += stepPenalty * batch.size;
      at.sums.seen += batch.size;
      const batchLogs: BatchLogs = { epoch: at.epoch + 1, batch: at.batch, size: batch.size, loss: stepLoss };
      if (penalties.length > 0) batchLogs.penalty = stepPenalty;
      for (const cb of callbacks) cb.onBatchEnd?.(batchLogs);
      at.batch++;
      at.sums.seconds = (performance.now() - started) / 1000;
      const endOfEpoch = at.batch === loader.length;
      if (typeof every === 'number' && at.step % every === 0 && !endOfEpoch) options.checkpoint!.save(capture());
      if (options.shouldStop?.() === true && !endOfEpoch) {
        options.checkpoint?.save(capture());
        history.stopped = true;
        history.interrupted = true;
        model.eval();
        return history;
      }
      yield;
    }
    const seconds = at.sums.seconds;
    const { sums } = at;
    const logs: EpochLogs = { epoch: at.epoch + 1, loss: sums.loss / sums.seen, samples_per_s: sums.seen / seconds, seconds, lr: learningRate(optimizer) };
    if (penalties.length > 0) logs.penalty = sums.penalty / sums.seen;
    metrics.forEach((m, i) => (logs[m] = sums.hits[i] / sums.seen));
    if (options.validation !== undefined) {
      const val = evaluate(model, options.validation, { batchSize: Math.max(batchSize, 256), loss, metrics });
      for (const [key, value] of Object.entries(val)) logs[`val_${key}`] = value;
    }
    reportPlateau(optimizer, logs.val_loss ?? logs.loss);
    if (monitor !== null && logs.accuracy !== undefined && logs.val_accuracy !== undefined) {
      monitor.accuracy = { train: logs.accuracy, validation: logs.val_accuracy, classes: data.classes };
    }
    history.epochs.push(logs);
    at.history = history.epochs.slice();
    at.sums = { loss: 0, penalty: 0, seen: 0, hits: ks.map(() => 0), seconds: 0 };
    let stop = false;
    for (const cb of callbacks) if (cb.onEpochEnd?.(logs) === false) stop = true;
    const stopRequested = options.shouldStop?.() === true;
    if (options.checkpoint !== undefined) {
      // The next position: the start of the next epoch.
      at.epoch++;
      at.batch = 0;
      options.checkpoint.save(capture());
      at.epoch--;
    }
    if (stop || stopRequested) {
      history.stopped = true;
      if (stopRequested && at.epoch + 1 < last) history.interrupted = true;
      break;
    }
  }
  model.eval();
  for (const cb of callbacks) cb.onTrainEnd?.(history);
  return history;
}

/** The run's state now: copies, so training may go on while it is written. */
function captureState(model: Module, optimizer: Optimizer<object>, at: RunPosition): TrainingState {
  const weights: TrainingState['model'] = {};
  for (const [name, t] of Object.entries(model.stateDict())) weights[name] = { shape: t.shape.slice(), data: t.data.slice() };
  const opt = optimizer.stateDict();
  for (const g of opt.groups) if (g.state !== null) copyLeaves(g.state);
  return { ...structuredClone({ epoch: at.epoch, batch: at.batch, step: at.step, sums: at.sums, history: at.history }), model: weights, optimizer: opt, masks: maskStates(model) };
}

function copyLeaves(value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    if (ArrayBuffer.isView(v)) (value as Record<string, unknown>)[k] = (v as Float32Array).slice();
    else copyLeaves(v);
  }
}

/** Loads a checkpoint's state into the model and optimizer (checked first) and returns its position. */
function restoreState(model: Module, optimizer: Optimizer<object>, state: TrainingState, batches: number, metrics: number): RunPosition {
  if (state.batch > batches) throw new ArgumentError(`fit: the checkpoint is at batch ${state.batch} of an epoch, but an epoch here has ${batches} batches — was it made with another batch size or data set?`);
  if (state.sums.hits.length !== metrics) throw new ArgumentError(`fit: the checkpoint counted ${state.sums.hits.length} metrics, this run ${metrics}; resume with the same metrics`);
  try {
    model.loadStateDict(state.model);
  } catch (error) {
    throw new ArgumentError(`fit: the checkpoint's weights do not fit this model (another architecture?): ${(error as Error).message}`);
  }
  optimizer.loadStateDict(state.optimizer);
  loadMaskStates(model, state.masks);
  return { epoch: state.epoch, batch: state.batch, step: state.step, sums: structuredClone(state.sums), history: structuredClone(state.history) };
}

/** Loss and metrics of `model` (in eval mode) over a whole data set. */
export function evaluate(model: Module, data: Dataset, options: EvaluateOptions = {}): Record<string, number> {
  const { batchSize = 256, metrics = ['accuracy'] } = options;
  const ks = metrics.map(metricK);
  const loss = resolveLoss(options.loss, options.registry);
  checkDataset(model, data, 'the evaluation data');
  const wasTraining = model.training;
  model.eval();
  const loader = new DataLoader(data, { batchSize, shuffle: false });
  let lossSum = 0;
  let seen = 0;
  const hits = ks.map(() => 0);
  noGrad(() => {
    for (const batch of loader) {
      lossSum += scope(() => {
        const output = model.forward(batch.x);
        const scores = output.data();
        ks.forEach((k, i) => (hits[i] += k === 1 ? correctCount(scores, batch.y, data.classes) : topKCount(scores, batch.y, data.classes, k)));
        return loss(output, batch.y).item() * batch.size;
      });
      seen += batch.size;
    }
  });
  if (wasTraining) model.train();
  const result: Record<string, number> = { loss: lossSum / seen };
  metrics.forEach((m, i) => (result[m] = hits[i] / seen));
  return result;
}

export interface PredictOptions {
  batchSize?: number;
  /** Apply softmax to the outputs (class probabilities). Default false: raw outputs. */
  probabilities?: boolean;
}

/** The model's outputs for every sample of `data`, flat [count × outputs], in eval mode. */
export function predict(model: Module, data: Pick<Dataset, 'x' | 'shape'>, options: PredictOptions = {}): Float32Array {
  const { batchSize = 256, probabilities = false } = options;
  const size = data.shape.reduce((a, b) => a * b, 1);
  const count = data.x.length / size;
  if (!Number.isInteger(count)) throw new ArgumentError(`predict: ${data.x.length} values are not whole samples of shape [${data.shape.join(', ')}]`);
  const wasTraining = model.training;
  model.eval();
  const chunks: Float32Array[] = [];
  noGrad(() => {
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start);
      chunks.push(scope(() => {
        const x = tensor(data.x.subarray(start * size, (start + n) * size), [n, ...data.shape]);
        const out = model.forward(x);
        return (probabilities ? softmax(out) : out).data();
      }));
    }
  });
  if (wasTraining) model.train();
  const total = chunks.reduce((a, c) => a + c.length, 0);
  const out = new Float32Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
