// The figures of a training report as Vega-Lite specs, built from log records alone — one
// picture language for reports (rendered in Node by @minibatch/train/report) and any page
// that embeds the same specs.
import type { LogRecord } from './log.js';

export interface Figure {
  name: string;
  title: string;
  /** A Vega-Lite spec with its data inline. */
  spec: Record<string, unknown>;
}

type Of<K extends LogRecord['kind']> = Extract<LogRecord, { kind: K }>;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const WIDTH = 520;
const HEIGHT = 220;
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function chart(title: string, values: object[], layer: object | object[], extra: object = {}): Record<string, unknown> {
  return {
    $schema: SCHEMA, title, width: WIDTH, height: HEIGHT, data: { values },
    ...(Array.isArray(layer) ? { layer } : layer),
    config: { font: 'sans-serif', legend: { orient: 'bottom' } }, ...extra,
  };
}

/** An exponential moving average (bias-corrected, as Adam's moments), for noisy per-step losses. */
export function smoothed(values: readonly number[], beta = 0.95): number[] {
  let avg = 0;
  return values.map((v, i) => {
    avg = beta * avg + (1 - beta) * v;
    return avg / (1 - beta ** (i + 1));
  });
}

/** Every figure the records allow, in reading order. */
export function reportFigures(records: readonly LogRecord[]): Figure[] {
  const of = <K extends LogRecord['kind']>(kind: K) => records.filter((r): r is Of<K> => r.kind === kind);
  const steps = of('step').filter((s) => finite(s.loss));
  const epochs = of('epoch');
  const monitors = of('monitor');
  const figures: Figure[] = [];
  const stepsPerEpoch = epochs.length > 0 && steps.length > 0 ? steps.length / epochs.length : 1;

  if (steps.length > 0 || epochs.length > 0) {
    const averaged = smoothed(steps.map((s) => s.loss));
    const values = [
      ...steps.map((s) => ({ step: s.step, loss: s.loss, series: 'train (batches)' })),
      ...steps.map((s, i) => ({ step: s.step, loss: averaged[i], series: 'train (smoothed)' })),
      ...epochs.filter((e) => finite(e.val_loss)).map((e) => ({ step: Math.round(e.epoch * stepsPerEpoch) - 1, loss: e.val_loss, series: 'validation (per epoch)' })),
    ];
    figures.push({
      name: 'loss', title: 'Loss',
      spec: chart(epochs.some((e) => finite(e.val_loss)) ? 'loss: train vs validation' : 'training loss per step', values, {
        mark: { type: 'line', point: false, clip: true },
        encoding: {
          x: { field: 'step', type: 'quantitative' },
          y: { field: 'loss', type: 'quantitative', scale: { type: 'log' }, title: 'loss (log scale)' },
          color: { field: 'series', type: 'nominal', title: null },
          strokeDash: { field: 'series', type: 'nominal', title: null },
          opacity: { condition: { test: "datum.series === 'train (batches)'", value: 0.25 }, value: 1 },
        },
      }),
    });
  }
  const accuracy = epochs.flatMap((e) => [
    ...(finite(e.accuracy) ? [{ epoch: e.epoch, accuracy: e.accuracy, series: 'train' }] : []),
    ...(finite(e.val_accuracy) ? [{ epoch: e.epoch, accuracy: e.val_accuracy, series: 'validation' }] : []),
  ]);
  if (accuracy.length > 0) {
    figures.push({
      name: 'accuracy', title: 'Accuracy',
      spec: chart('accuracy per epoch: train vs validation', accuracy, {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
          y: { field: 'accuracy', type: 'quantitative', scale: { zero: false } },
          color: { field: 'series', type: 'nominal', title: null },
          strokeDash: { field: 'series', type: 'nominal', title: null },
        },
      }),
    });
  }
  if (epochs.some((e) => finite(e.lr))) {
    figures.push({
      name: 'lr', title: 'Learning rate',
      spec: chart('learning rate at the end of each epoch', epochs.filter((e) => finite(e.lr)).map((e) => ({ epoch: e.epoch, lr: e.lr })), {
        mark: { type: 'line', point: true },
        encoding: { x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } }, y: { field: 'lr', type: 'quantitative', scale: { type: 'log' }, title: 'learning rate' } },
      }),
    });
  }
  if (monitors.length > 0) {
    const ratios = monitors.flatMap((m) => m.parameters.filter((p) => p.shape.length >= 2 && finite(p.updateRatio) && p.updateRatio! > 0).map((p) => ({ step: m.step, ratio: p.updateRatio, weight: p.name })));
    if (ratios.length > 0) {
      figures.push({
        name: 'update-ratio', title: 'Update / weight ratio',
        spec: chart('update/weight ratio ‖Δw‖/‖w‖ per weight (the rule: ≈ 1e-3)', ratios, [
          {
            mark: { type: 'line', point: true },
            encoding: {
              x: { field: 'step', type: 'quantitative' },
              y: { field: 'ratio', type: 'quantitative', scale: { type: 'log' }, title: '‖Δw‖/‖w‖ (log scale)' },
              color: { field: 'weight', type: 'nominal' },
              strokeDash: { field: 'weight', type: 'nominal' },
            },
          },
          { data: { values: [{ rule: 1e-3 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { y: { field: 'rule', type: 'quantitative' } } },
        ]),
      });
    }
    // Histograms of each layer's activations at the first, middle and last watched step.
    const picks = [...new Set([0, Math.floor((monitors.length - 1) / 2), monitors.length - 1])].map((i) => monitors[i]);
    const bars = picks.flatMap((m) => m.activity.flatMap((a) => a.histogram.counts.map((count, b) => ({
      layer: a.label, index: a.index, step: `step ${m.step}`, center: (a.histogram.edges[b] + a.histogram.edges[b + 1]) / 2, fraction: count / Math.max(1, a.histogram.counts.reduce((s, c) => s + c, 0)),
    }))));
    if (bars.length > 0) {
      figures.push({
        name: 'activations', title: 'Activations per layer',
        spec: {
          $schema: SCHEMA, title: 'activation histograms per layer, early → late in the run', data: { values: bars },
          facet: { row: { field: 'layer', type: 'nominal', title: null, sort: { field: 'index', op: 'min' } } },
          spec: {
            width: WIDTH, height: 90,
            mark: { type: 'line', interpolate: 'step-after' },
            encoding: {
              x: { field: 'center', type: 'quantitative', title: 'activation' },
              y: { field: 'fraction', type: 'quantitative', title: 'share' },
              color: { field: 'step', type: 'nominal', title: null, sort: null },
              strokeDash: { field: 'step', type: 'nominal', title: null, sort: null },
            },
          },
          resolve: { scale: { x: 'independent' } },
          config: { font: 'sans-serif', legend: { orient: 'bottom' } },
        },
      });
    }
    const dead = monitors.flatMap((m) => m.activity.filter((a) => a.dead !== null || a.saturated !== null).map((a) => ({
      step: m.step, layer: a.label, fraction: a.dead ?? a.saturated, what: a.dead !== null ? 'dead ReLUs' : 'saturated',
    })));
    if (dead.length > 0) {
      figures.push({
        name: 'dead-units', title: 'Dead and saturated units',
        spec: chart('dead ReLUs (never positive on the probe) and saturated tanh/sigmoid outputs, per layer', dead, {
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'step', type: 'quantitative' },
            y: { field: 'fraction', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' } },
            color: { field: 'layer', type: 'nominal' },
            strokeDash: { field: 'what', type: 'nominal', title: null },
          },
        }),
      });
    }
  }
  for (const [i, sweep] of of('lr-find').entries()) {
    const values = sweep.lrs.map((lr, j) => ({ lr, loss: sweep.smoothed[j] }));
    const marks = [
      { lr: sweep.suggestion, label: `suggested ${sweep.suggestion.toExponential(1)}` },
      { lr: sweep.steepest, label: `steepest ${sweep.steepest.toExponential(1)}` },
    ];
    figures.push({
      name: i === 0 ? 'lr-find' : `lr-find-${i + 1}`, title: 'Learning-rate range test',
      spec: chart('LR range test: smoothed loss against the learning rate', values, [
        { mark: 'line', encoding: { x: { field: 'lr', type: 'quantitative', scale: { type: 'log' }, title: 'learning rate (log scale)' }, y: { field: 'loss', type: 'quantitative', title: 'smoothed loss' } } },
        { data: { values: marks }, mark: { type: 'rule', strokeDash: [4, 4] }, encoding: { x: { field: 'lr', type: 'quantitative' }, color: { field: 'label', type: 'nominal', title: null } } },
      ]),
    });
  }
  return figures;
}

export interface ReportedDiagnosis {
  subject: string;
  /** The latest wording (its figures are the latest). */
  message: string;
  first: number;
  last: number;
  /** How many watched steps gave it. */
  count: number;
}

/** The run's diagnoses, one per subject and kind (the figures in the wording may change), with when they appeared. */
export function reportDiagnoses(records: readonly LogRecord[]): ReportedDiagnosis[] {
  const seen = new Map<string, ReportedDiagnosis>();
  for (const r of records) {
    if (r.kind !== 'monitor') continue;
    for (const d of r.diagnoses) {
      const key = `${d.subject}\u0000${d.message.replace(/[0-9][0-9.e+×%-]*/g, '#')}`;
      const found = seen.get(key);
      if (found === undefined) seen.set(key, { subject: d.subject, message: d.message, first: r.step, last: r.step, count: 1 });
      else Object.assign(found, { message: d.message, last: r.step, count: found.count + 1 });
    }
  }
  return [...seen.values()];
}
