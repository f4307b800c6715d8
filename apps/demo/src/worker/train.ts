// Live training: a run built from the page's settings by @minibatch/train's experiment() — the
// same config → run assembly as the `minibatch` command — stepped in slices so the page can
// pause it, reset it and ask for predictions while it trains.
import { toBatchTransform } from '@minibatch/augment';
import { createDataset, DataLoader, type Batch, type Dataset } from '@minibatch/data';
import type { Module } from '@minibatch/layers';
import {
  correctCount, experiment, learningRate, predict, splitConfigData, trainStep, type Experiment, type ParameterConstraint, type PenaltyTerm, type Splits,
} from '@minibatch/train';
import { loadData } from './data.js';
import { SliceLoop } from './loop.js';

type Post = (message: Record<string, unknown>, transfer?: Transferable[]) => void;

/** How many validation samples the page shows with their predictions. */
const GRID = 32;
/** The least time between two validation passes; and at most this share of the time goes to them. */
const EVAL_MS = 300;
const EVAL_SHARE = 0.2;

interface Session {
  run: Experiment;
  raw: Splits;
  batches: Generator<Batch, never>;
  penalties: PenaltyTerm[];
  constraints: ParameterConstraint[];
  loop: SliceLoop;
  step: number;
  epoch: number;
  /** Since the last progress message: summed loss, hits, samples, and when it began. */
  window: { loss: number; hits: number; samples: number; started: number; steps: number };
  lastEval: number;
  stepsAtEval: number;
  /** How long the last validation pass took. */
  evalCost: number;
}

let session: Session | null = null;

export function stopTraining(): void {
  if (session === null) return;
  session.loop.stop();
  session.run.dispose();
  session = null;
}

/** The first layer's weights as one image per unit or filter, each scaled to [0, 1]. */
function filtersOf(model: Module, inputShape: readonly number[]): { images: Float32Array; count: number; h: number; w: number } | null {
  const first = model.namedParameters().find(([, p]) => p.shape.length >= 2);
  if (first === undefined) return null;
  const [, p] = first;
  const values = p.data();
  let h: number;
  let w: number;
  let count: number;
  let at: (unit: number, i: number) => number;
  if (p.shape.length === 4 && p.shape[2] === 1) {
    // conv2d HWIO with one input channel: a kh × kw image per filter.
    [h, w, , count] = p.shape;
    at = (unit, i) => values[i * count + unit];
  } else if (p.shape.length === 2 && p.shape[0] === inputShape.reduce((a, b) => a * b, 1) && inputShape.length === 3 && inputShape[2] === 1) {
    // dense on flattened grey images: the input weights of a unit, as an image.
    [h, w] = inputShape;
    count = p.shape[1];
    at = (unit, i) => values[i * count + unit];
  } else {
    return null;
  }
  count = Math.min(count, 32);
  const images = new Float32Array(count * h * w);
  for (let u = 0; u < count; u++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < h * w; i++) {
      lo = Math.min(lo, at(u, i));
      hi = Math.max(hi, at(u, i));
    }
    for (let i = 0; i < h * w; i++) images[u * h * w + i] = hi > lo ? (at(u, i) - lo) / (hi - lo) : 0.5;
  }
  return { images, count, h, w };
}

/** Validation loss and accuracy, the confusion matrix, and the grid's predictions. */
function validate(s: Session, post: Post): void {
  const data = s.run.data.validation ?? s.run.data.test;
  const probs = predict(s.run.model, data, { probabilities: true });
  const classes = data.classes;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let loss = 0;
  let hits = 0;
  const predicted = new Int32Array(data.count);
  for (let i = 0; i < data.count; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c] > probs[i * classes + best]) best = c;
    predicted[i] = best;
    confusion[data.y[i]][best]++;
    if (best === data.y[i]) hits++;
    loss -= Math.log(Math.max(probs[i * classes + data.y[i]], 1e-12));
  }
  const filters = filtersOf(s.run.model, s.run.data.train.shape);
  post({
    type: 'train:validation',
    step: s.step,
    loss: loss / data.count,
    accuracy: hits / data.count,
    confusion,
    grid: Array.from(predicted.subarray(0, GRID)),
    confidence: Array.from({ length: Math.min(GRID, data.count) }, (_, i) => probs[i * classes + predicted[i]]),
    filters,
  });
}

/** The next training batch, or null when the run's epochs are done. */
function nextBatch(s: Session): Batch | null {
  if (s.epoch >= s.run.config.epochs) return null;
  const batch = s.batches.next().value;
  s.epoch = batch.epoch;
  return batch.epoch >= s.run.config.epochs ? null : batch;
}

/**
 * Builds the run (data, preprocessing, model, optimizer) from a RunConfig and starts it. The
 * page validated the numbers; experiment() checks everything again and says what is wrong.
 */
export async function startTraining(config: Record<string, unknown>, post: Post): Promise<Record<string, unknown>> {
  stopTraining();
  const name = (config.data as { name: string }).name;
  const { info, train, test } = await loadData(name);
  let raw: Splits | null = null;
  const run = experiment(config, {
    source: 'the settings',
    data: (data, seed) => (raw = splitConfigData(train, test, data, seed)),
  });
  const splits = raw as unknown as Splits;
  run.optimizer.addParamGroup(run.model.trainableParameters()); // fit() does this; stepping by hand, so do we
  const { batchSize, seed, shuffle = 'epoch' } = run.config;
  const transform = run.augmentation === null ? undefined : toBatchTransform(run.augmentation, { classes: run.data.train.classes });
  const loader = new DataLoader(run.data.train, { batchSize, seed, shuffle, transform });
  const s: Session = {
    run, raw: splits, batches: loader.stream(),
    penalties: run.regularization.filter((r): r is PenaltyTerm => 'penalty' in r),
    constraints: run.regularization.filter((r): r is ParameterConstraint => 'constrain' in r),
    loop: new SliceLoop(
      () => {
        const batch = nextBatch(s);
        if (batch === null) return false;
        const result = trainStep(run.model, batch, { loss: run.loss, optimizer: run.optimizer, penalties: s.penalties, constraints: s.constraints, scores: true });
        if (!Number.isFinite(result.loss + result.penalty)) {
          throw new Error(`the loss became ${result.loss} at step ${s.step + 1}: the learning rate is too high for this model — lower it 3–10× and press Reset`);
        }
        s.step++;
        s.window.loss += result.loss * batch.size;
        s.window.hits += correctCount(result.scores!, batch.y, run.data.train.classes);
        s.window.samples += batch.size;
        s.window.steps++;
        return true;
      },
      () => {
        const now = performance.now();
        const w = s.window;
        if (w.steps > 0) {
          post({
            type: 'train:progress', step: s.step, epoch: Math.min(s.epoch + 1, run.config.epochs), loss: w.loss / w.samples, accuracy: w.hits / w.samples,
            samplesPerSecond: (w.samples * 1000) / (now - w.started), lr: learningRate(run.optimizer),
          });
        }
        s.window = { loss: 0, hits: 0, samples: 0, steps: 0, started: performance.now() };
        const finished = s.epoch >= run.config.epochs;
        if ((finished || now - s.lastEval > Math.max(EVAL_MS, s.evalCost / EVAL_SHARE)) && s.step > s.stepsAtEval) {
          validate(s, post);
          s.lastEval = performance.now();
          s.evalCost = s.lastEval - now;
          s.stepsAtEval = s.step;
          s.window.started = performance.now();
        }
        if (finished) post({ type: 'train:done', step: s.step });
      },
      (error) => post({ type: 'train:failed', message: error instanceof Error ? error.message : String(error) }),
    ),
    step: 0,
    epoch: 0,
    window: { loss: 0, hits: 0, samples: 0, steps: 0, started: performance.now() },
    lastEval: 0,
    stepsAtEval: 0,
    evalCost: 0,
  };
  session = s;
  const shown = splits.validation ?? splits.test;
  const pixels = shown.shape.reduce((a, b) => a * b, 1);
  const gridCount = Math.min(GRID, shown.count);
  s.loop.start();
  return {
    parameters: run.model.parameterCount(),
    summary: run.model.summary(run.data.train.shape),
    dataset: info,
    trainCount: run.data.train.count,
    validationCount: shown.count,
    gridImages: shown.x.slice(0, gridCount * pixels),
    gridLabels: Array.from(shown.y.subarray(0, gridCount)),
  };
}

export function pauseTraining(): void {
  session?.loop.stop();
}

export function resumeTraining(): void {
  if (session === null) throw new Error('nothing to resume: press Start');
  session.loop.start();
}

/** Class probabilities for one image (pixels in [0, 1], the data set's shape), preprocessed as training saw it. */
export function predictImage(pixels: Float32Array): number[] {
  if (session === null) throw new Error('no model yet: press Start to train one');
  const { run } = session;
  let sample: Dataset = createDataset(pixels, new Int32Array(1), run.rawShape, { classes: run.data.train.classes });
  if (run.preprocessing !== null) sample = run.preprocessing.transform(sample);
  return Array.from(predict(run.model, sample, { probabilities: true }));
}
