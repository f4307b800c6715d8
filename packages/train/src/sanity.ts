// The lectures' sanity checks before a long run, on the run a config makes:
// 1. the initial loss is what chance predicts (ln C for softmax over C classes), and adding a
//    weight penalty raises it;
// 2. the analytic gradients agree with central differences, tensor by tensor;
// 3. the model can overfit a tiny subset (no regularization) to 100%;
// 4. the configured learning rate is near what an LR range test suggests.
// Each gives PASS, WARN or FAIL with its figure and what to do. The run is left as it was.
import { Rng, keep, noGrad, scope, tensor } from '@minibatch/core';
import { DataLoader, subset, type Batch } from '@minibatch/data';
import type { Module } from '@minibatch/layers';
import { trainStep } from './fit.js';
import { holdState, lrFind } from './lr.js';
import type { Experiment } from './experiment.js';
import type { LogRecord } from './log.js';
import type { PenaltyTerm } from './fit.js';
import { correctCount } from './metrics.js';

export type Check = Extract<LogRecord, { kind: 'check' }>;

export interface SanityOptions {
  /** Samples of the tiny subset to overfit (default 20). */
  overfitSamples?: number;
  /** Steps it may take (default 300). */
  overfitSteps?: number;
  /** Steps of the LR sweep (default 100; 0 leaves the sweep out). */
  sweepSteps?: number;
  /** Entries checked per parameter tensor (default 12). */
  gradientEntries?: number;
}

/** The layers whose derivative has kinks or is random (a gradient check may disagree there). */
const KINKED = new Set(['relu', 'relu6', 'clippedRelu', 'leakyRelu', 'maxPool2d', 'fractionalMaxPool2d', 'hardSigmoid', 'hardSwish', 'clip', 'maxout', 'dropout', 'spatialDropout', 'dropConnect', 'dropConnectConv2d', 'stochasticDepth']);

/** Every module of the tree, depth first. */
function modulesOf(model: Module): Module[] {
  return [model, ...model.children().flatMap(([, child]) => modulesOf(child))];
}

function initialLoss(run: Experiment): Check[] {
  const data = run.data.train;
  const n = Math.min(256, data.count);
  const batch = subset(data, Int32Array.from({ length: n }, (_, i) => i));
  const classes = data.classes;
  const checks: Check[] = [];
  run.model.eval();
  // The penalty: the config's, or else an L2 of 1e-3 — raising the regularization must raise the loss.
  const configured = run.regularization.filter((r): r is PenaltyTerm => 'penalty' in r);
  const penalties = configured.length > 0 ? configured : [run.registry.create<PenaltyTerm>('regularizer', 'l2', { lambda: 1e-3 })];
  const { loss, penalty } = noGrad(() => scope(() => {
    const l = run.loss(run.model.forward(tensor(batch.x, [n, ...batch.shape])), batch.y).item();
    const p = penalties.reduce((a, term) => a + term.penalty(run.model).item(), 0);
    return { loss: l, penalty: p };
  }));
  run.model.train();
  if (run.loss.name === 'softmaxCrossEntropy' && classes > 1) {
    const expected = Math.log(classes);
    const ratio = loss / expected;
    const status = Math.abs(ratio - 1) <= 0.25 ? 'PASS' : ratio > 0.5 && ratio < 2 ? 'WARN' : 'FAIL';
    checks.push({
      kind: 'check', name: 'initial loss', status, figure: `${loss.toFixed(3)} (chance: ln ${classes} = ${expected.toFixed(3)})`,
      message: status === 'PASS' ? 'the untrained model predicts chance, as it should'
        : `the untrained model is ${ratio > 1 ? 'confidently wrong' : 'already confident'}: check the last layer's initialization (small weights, zero bias) and the preprocessing`,
    });
  } else {
    checks.push({ kind: 'check', name: 'initial loss', status: Number.isFinite(loss) ? 'PASS' : 'FAIL', figure: loss.toFixed(4), message: `${run.loss.name}: no chance level to compare with; the loss is ${Number.isFinite(loss) ? 'finite' : 'not finite — check the data and the model'}` });
  }
  checks.push({
    kind: 'check', name: 'penalty raises the loss', status: penalty > 0 ? 'PASS' : 'FAIL',
    figure: `${loss.toFixed(3)} → ${(loss + penalty).toFixed(3)} (${configured.length > 0 ? 'the configured penalty' : 'an L2 penalty of 1e-3'})`,
    message: penalty > 0 ? 'adding the weight penalty raises the loss' : 'the penalty adds nothing: is λ 0, or does it select no weights?',
  });
  return checks;
}

function gradients(run: Experiment, entries: number): Check {
  const data = run.data.train;
  // One sample: the fewer kinks (ReLU zeros, max-pool ties) a difference step can straddle (CS231n's advice).
  const n = 1;
  const batch = subset(data, Int32Array.from({ length: n }, (_, i) => i));
  const x = keep(tensor(batch.x, [n, ...batch.shape]));
  const model = run.model;
  model.eval(); // dropout off, BatchNorm on running statistics: one fixed function
  const params = model.namedParameters().filter(([, p]) => p.requiresGrad);
  const objective = () => noGrad(() => scope(() => run.loss(model.forward(x), batch.y).item()));
  for (const [, p] of params) p.zeroGrad();
  scope(() => run.loss(model.forward(x), batch.y).backward());
  const rng = new Rng(0);
  const worst: { name: string; error: number }[] = [];
  let kinks = 0;
  let checked = 0;
  /** The central difference of the loss along entry i of p, with step h. */
  const numeric = (p: (typeof params)[number][1], i: number, h: number): number => {
    const original = p.view()[i];
    p.view()[i] = original + h;
    const up = objective();
    p.view()[i] = original - h;
    const down = objective();
    p.view()[i] = original;
    return (up - down) / (2 * h);
  };
  try {
    for (const [name, p] of params) {
      const analytic = p.grad === null ? new Float32Array(p.size) : p.grad.data().slice();
      const indices = rng.shuffle(Array.from({ length: p.size }, (_, i) => i)).slice(0, entries);
      let error = 0;
      for (const i of indices) {
        // Two step sizes: where they disagree, the difference straddles a kink (a ReLU at 0, a
        // max-pool tie) and says nothing about the gradient; that entry is counted, not judged.
        const coarse = numeric(p, i, 1e-2);
        const fine = numeric(p, i, 2e-3);
        if (Math.abs(coarse - fine) > 0.1 * Math.max(Math.abs(coarse), Math.abs(fine), 1e-3)) {
          kinks++;
          continue;
        }
        checked++;
        const scale = Math.max(Math.abs(coarse), Math.abs(analytic[i]), 1e-3);
        error = Math.max(error, Math.abs(coarse - analytic[i]) / scale);
      }
      worst.push({ name, error });
    }
  } finally {
    x.dispose();
    for (const [, p] of params) p.zeroGrad();
    model.train();
  }
  const max = worst.reduce((a, w) => (w.error > a.error ? w : a), { name: '', error: 0 });
  const status = max.error < 2e-2 ? 'PASS' : max.error < 2e-1 ? 'WARN' : 'FAIL';
  const activationOf = (m: Module) => (m as unknown as { activation?: { name?: string } | null }).activation?.name;
  const kinked = [...new Set(modulesOf(model).flatMap((m) => [m.name, activationOf(m) ?? '']).filter((name) => KINKED.has(name)))];
  return {
    kind: 'check', name: 'gradient check', status,
    figure: `worst relative error ${max.error.toExponential(1)} (${max.name}) over ${checked} entries${kinks > 0 ? `, ${kinks} at kinks left out` : ''}; thresholds: PASS < 2e-2, WARN < 2e-1`,
    message: status === 'PASS' ? `analytic gradients of ${worst.length} tensors agree with central differences`
      : `${max.name} disagrees with central differences${kinked.length > 0 ? `; the model has non-differentiable points (${kinked.join(', ')}), where a difference that straddles a kink is wrong: check a smooth variant (tanh for ReLU, average for max pooling) before suspecting a bug` : ': a layer computes its gradient wrongly'}`,
  };
}

function overfit(run: Experiment, samples: number, steps: number): Check {
  const data = run.data.train;
  const n = Math.min(samples, data.count);
  const tiny = subset(data, Int32Array.from({ length: n }, (_, i) => i));
  // The configured optimizer, fresh, without penalties or augmentation.
  const optimizer = run.registry.fromJSON<typeof run.optimizer>({ kind: 'optimizer', ...run.config.optimizer });
  optimizer.addParamGroup(run.model.trainableParameters());
  const loader = new DataLoader(tiny, { batchSize: n, seed: run.config.seed, shuffle: true });
  let accuracy = 0;
  let step = 0;
  run.model.train();
  try {
    while (step < steps && accuracy < 1) {
      for (const batch of loader as Iterable<Batch>) {
        const { scores } = trainStep(run.model, batch, { loss: run.loss, optimizer, scores: true });
        accuracy = correctCount(scores!, batch.y, data.classes) / batch.size;
        step++;
      }
    }
  } finally {
    optimizer.dispose();
  }
  return {
    kind: 'check', name: `overfit ${n} samples`, status: accuracy === 1 ? 'PASS' : 'WARN',
    figure: accuracy === 1 ? `100% training accuracy after ${step} steps` : `${(accuracy * 100).toFixed(0)}% after ${step} steps`,
    message: accuracy === 1 ? 'the model can learn: it memorizes a tiny subset'
      : 'the model cannot memorize even a tiny subset: a bug in the model or the data, a learning rate far off, or too little capacity',
  };
}

function sweep(run: Experiment, steps: number): { check: Check; record?: Extract<LogRecord, { kind: 'lr-find' }> } {
  const configured = (run.config.optimizer as { config?: { lr?: unknown } }).config?.lr;
  const lr = typeof configured === 'number' ? configured : (configured as { config?: { initial?: unknown } } | undefined)?.config?.initial;
  const optimizer = run.registry.fromJSON<typeof run.optimizer>({ kind: 'optimizer', ...run.config.optimizer });
  try {
    const found = lrFind(run.model, run.data.train, { loss: run.loss, optimizer, steps, batchSize: run.config.batchSize, seed: run.config.seed, start: 1e-6, end: 10 });
    const record = { kind: 'lr-find' as const, ...found };
    if (typeof lr !== 'number') {
      return { record, check: { kind: 'check', name: 'learning rate', status: 'PASS', figure: `suggested ${found.suggestion.toExponential(1)}`, message: 'the config gives no single initial learning rate to compare' } };
    }
    const factor = lr / found.suggestion;
    const status = factor <= 10 && factor >= 0.1 ? 'PASS' : factor <= 100 && factor >= 0.01 ? 'WARN' : 'FAIL';
    return {
      record,
      check: {
        kind: 'check', name: 'learning rate', status,
        figure: `configured ${lr}, range test suggests ${found.suggestion.toExponential(1)} (loss lowest at ${found.minimum.toExponential(1)})`,
        message: status === 'PASS' ? 'within 10× of the suggestion'
          : `the configured rate is ${factor > 1 ? `${factor.toFixed(0)}× above` : `${(1 / factor).toFixed(0)}× below`} the suggestion; try ${found.suggestion.toExponential(1)}`,
      },
    };
  } catch (error) {
    return { check: { kind: 'check', name: 'learning rate', status: 'WARN', figure: '—', message: `the range test did not finish: ${(error as Error).message}` } };
  } finally {
    optimizer.dispose();
  }
}

/**
 * Runs the sanity checks on a run made by experiment(); the model is restored after each.
 * Returns the checks and, when the sweep ran, its lr-find record (for a report).
 */
export function sanityChecks(run: Experiment, options: SanityOptions = {}): LogRecord[] {
  const { overfitSamples = 20, overfitSteps = 300, sweepSteps = 100, gradientEntries = 12 } = options;
  const restore = holdState(run.model);
  const out: LogRecord[] = [];
  try {
    out.push(...initialLoss(run));
    out.push(gradients(run, gradientEntries));
    restore();
    out.push(overfit(run, overfitSamples, overfitSteps));
    restore();
    if (sweepSteps > 0) {
      const result = sweep(run, sweepSteps);
      out.push(result.check);
      if (result.record !== undefined) out.push(result.record);
    }
  } finally {
    restore();
  }
  return out;
}
