// Learning-rate schedules are plain functions of the step (0, 1, 2, … = the number of
// updates already made), so they compose, plot and test like any function. Each one made
// here also carries `kind`, `name` and `getConfig()`, so the registry can save it by name.
import type { Spec } from '@minibatch/registry';
import { ArgumentError } from '@minibatch/core';
import * as v from './validate.js';

/** A learning rate (or any factor) as a function of the step. */
export type Schedule = (step: number) => number;

/** A number is a constant schedule. */
export type ScheduleLike = number | Schedule;

/** A schedule that knows its registry name and config (every schedule made by this module). */
export interface NamedSchedule<C extends object = Record<string, unknown>> extends Schedule {
  readonly kind: 'schedule';
  readonly name: string;
  getConfig(): C;
}

/** The config form of a schedule argument: a number, or the spec of a named schedule. */
export type ScheduleConfig = number | Spec;

function named<C extends object>(name: string, config: () => C, fn: Schedule): NamedSchedule<C> {
  const s = ((step: number) => fn(step)) as NamedSchedule<C> & { kind: 'schedule' };
  Object.defineProperty(s, 'name', { value: name });
  s.kind = 'schedule';
  s.getConfig = config;
  return s;
}

/** A schedule argument as config: numbers stay, named schedules become specs. */
export function scheduleConfig(s: ScheduleLike, owner = 'schedule'): ScheduleConfig {
  if (typeof s === 'number') return s;
  const n = s as Partial<NamedSchedule>;
  if (n.kind === 'schedule' && typeof n.getConfig === 'function') return { kind: 'schedule', name: s.name, config: n.getConfig() as Record<string, unknown> };
  throw new ArgumentError(
    `${owner}: cannot serialize a plain function schedule — build it from this package's schedules (cosine, stepDecay, …) or register it, so it has a name and a config`,
  );
}

/** Reads a schedule argument: a number ≥ 0 or a function. */
export function toSchedule(owner: string, parameter: string, s: unknown): Schedule {
  if (typeof s === 'function') return s as Schedule;
  const value = v.nonNegative(owner, parameter, s);
  return () => value;
}

function checkStep(step: number): number {
  if (!(step >= 0) || !Number.isFinite(step)) throw new ArgumentError(`schedule: step must be a finite number ≥ 0, got ${step}`);
  return step;
}

/** The same value at every step. */
export function constant(value: number): NamedSchedule<{ value: number }> {
  v.nonNegative('constant', 'value', value);
  return named('constant', () => ({ value }), (t) => (checkStep(t), value));
}

export interface StepDecayOptions { initial: number; stepSize: number; gamma?: number }

/** initial · gamma^⌊t / stepSize⌋ (torch StepLR). */
export function stepDecay(options: StepDecayOptions): NamedSchedule<Required<StepDecayOptions>> {
  const initial = v.nonNegative('stepDecay', 'initial', options.initial);
  const stepSize = v.integer('stepDecay', 'stepSize', options.stepSize);
  const gamma = v.factor('stepDecay', 'gamma', options.gamma ?? 0.1);
  return named('stepDecay', () => ({ initial, stepSize, gamma }), (t) => initial * gamma ** Math.floor(checkStep(t) / stepSize));
}

export interface MultiStepOptions { initial: number; milestones: number[]; gamma?: number }

/** initial · gamma^(number of milestones ≤ t) (torch MultiStepLR). */
export function multiStep(options: MultiStepOptions): NamedSchedule<Required<MultiStepOptions>> {
  const initial = v.nonNegative('multiStep', 'initial', options.initial);
  const milestones = [...(options.milestones ?? [])];
  milestones.forEach((m, i) => v.integer('multiStep', `milestones[${i}]`, m, 0));
  for (let i = 1; i < milestones.length; i++) {
    if (milestones[i] <= milestones[i - 1]) throw new v.HyperParameterError('multiStep', 'milestones', milestones, 'strictly increasing steps');
  }
  const gamma = v.factor('multiStep', 'gamma', options.gamma ?? 0.1);
  return named('multiStep', () => ({ initial, milestones: [...milestones], gamma }), (t) => {
    checkStep(t);
    return initial * gamma ** milestones.filter((m) => m <= t).length;
  });
}

export interface ExponentialOptions { initial: number; gamma: number; decaySteps?: number; staircase?: boolean }

/** initial · gamma^(t / decaySteps), floored exponent with `staircase` (tf ExponentialDecay). */
export function exponential(options: ExponentialOptions): NamedSchedule<Required<ExponentialOptions>> {
  const initial = v.nonNegative('exponential', 'initial', options.initial);
  const gamma = v.factor('exponential', 'gamma', options.gamma);
  const decaySteps = v.integer('exponential', 'decaySteps', options.decaySteps ?? 1);
  const staircase = v.boolean('exponential', 'staircase', options.staircase ?? false);
  return named('exponential', () => ({ initial, gamma, decaySteps, staircase }), (t) => {
    const p = checkStep(t) / decaySteps;
    return initial * gamma ** (staircase ? Math.floor(p) : p);
  });
}

export interface InverseTimeOptions { initial: number; decayRate: number; decaySteps?: number; staircase?: boolean }

/** 1/t decay: initial / (1 + decayRate · t / decaySteps) (CS231n's α₀/(1 + kt); tf InverseTimeDecay). */
export function inverseTime(options: InverseTimeOptions): NamedSchedule<Required<InverseTimeOptions>> {
  const initial = v.nonNegative('inverseTime', 'initial', options.initial);
  const decayRate = v.nonNegative('inverseTime', 'decayRate', options.decayRate);
  const decaySteps = v.integer('inverseTime', 'decaySteps', options.decaySteps ?? 1);
  const staircase = v.boolean('inverseTime', 'staircase', options.staircase ?? false);
  return named('inverseTime', () => ({ initial, decayRate, decaySteps, staircase }), (t) => {
    const p = checkStep(t) / decaySteps;
    return initial / (1 + decayRate * (staircase ? Math.floor(p) : p));
  });
}

export interface PolynomialOptions { initial: number; steps: number; final?: number; power?: number }

/** (initial − final) · (1 − min(t, steps)/steps)^power + final (tf PolynomialDecay). */
export function polynomial(options: PolynomialOptions): NamedSchedule<Required<PolynomialOptions>> {
  const initial = v.nonNegative('polynomial', 'initial', options.initial);
  const steps = v.integer('polynomial', 'steps', options.steps);
  const final = v.nonNegative('polynomial', 'final', options.final ?? 0);
  const power = v.positive('polynomial', 'power', options.power ?? 1);
  return named('polynomial', () => ({ initial, steps, final, power }), (t) => {
    const p = Math.min(checkStep(t), steps) / steps;
    return (initial - final) * (1 - p) ** power + final;
  });
}

const cosineBetween = (from: number, to: number, p: number): number => to + ((from - to) * (1 + Math.cos(Math.PI * p))) / 2;

export interface CosineOptions { initial: number; steps: number; final?: number }

/** Cosine annealing from initial to final over `steps`, then final (Loshchilov & Hutter 2017, without restarts). */
export function cosine(options: CosineOptions): NamedSchedule<Required<CosineOptions>> {
  const initial = v.nonNegative('cosine', 'initial', options.initial);
  const steps = v.integer('cosine', 'steps', options.steps);
  const final = v.nonNegative('cosine', 'final', options.final ?? 0);
  return named('cosine', () => ({ initial, steps, final }), (t) => cosineBetween(initial, final, Math.min(checkStep(t), steps) / steps));
}

export interface CosineWarmRestartsOptions { initial: number; period: number; periodMult?: number; final?: number }

/**
 * SGDR (Loshchilov & Hutter 2017): cosine from initial to final over `period` steps, then
 * restart at `initial` with the period multiplied by `periodMult` (torch CosineAnnealingWarmRestarts).
 * Snapshot ensembles take a model at the end of each cycle.
 */
export function cosineWarmRestarts(options: CosineWarmRestartsOptions): NamedSchedule<Required<CosineWarmRestartsOptions>> {
  const initial = v.nonNegative('cosineWarmRestarts', 'initial', options.initial);
  const period = v.integer('cosineWarmRestarts', 'period', options.period);
  const periodMult = v.integer('cosineWarmRestarts', 'periodMult', options.periodMult ?? 1);
  const final = v.nonNegative('cosineWarmRestarts', 'final', options.final ?? 0);
  return named('cosineWarmRestarts', () => ({ initial, period, periodMult, final }), (t) => {
    let rest = checkStep(t);
    let length = period;
    // Walk whole cycles: exact at the restarts, unlike a closed form through log().
    if (periodMult === 1) rest %= period;
    else while (rest >= length) [rest, length] = [rest - length, length * periodMult];
    return cosineBetween(initial, final, rest / length);
  });
}

export interface CyclicOptions { low: number; high: number; stepSize: number; mode?: 'triangular' | 'triangular2' | 'expRange'; gamma?: number }

/**
 * Cyclical learning rates (Smith 2017): up from low to high over `stepSize` steps and back
 * down; 'triangular2' halves the amplitude each cycle, 'expRange' scales it by gamma^t.
 */
export function cyclic(options: CyclicOptions): NamedSchedule<Required<CyclicOptions>> {
  const low = v.nonNegative('cyclic', 'low', options.low);
  const high = v.nonNegative('cyclic', 'high', options.high);
  if (high < low) throw new v.HyperParameterError('cyclic', 'high', high, `a number ≥ low (${low})`);
  const stepSize = v.integer('cyclic', 'stepSize', options.stepSize);
  const mode = v.oneOf('cyclic', 'mode', options.mode ?? 'triangular', ['triangular', 'triangular2', 'expRange'] as const);
  const gamma = v.factor('cyclic', 'gamma', options.gamma ?? 1);
  return named('cyclic', () => ({ low, high, stepSize, mode, gamma }), (t) => {
    checkStep(t);
    const cycle = Math.floor(1 + t / (2 * stepSize));
    const x = Math.abs(t / stepSize - 2 * cycle + 1);
    const scale = mode === 'triangular2' ? 1 / 2 ** (cycle - 1) : mode === 'expRange' ? gamma ** t : 1;
    return low + (high - low) * Math.max(0, 1 - x) * scale;
  });
}

export interface OneCycleOptions {
  max: number;
  steps: number;
  pctStart?: number;
  divFactor?: number;
  finalDivFactor?: number;
  anneal?: 'cos' | 'linear';
}

/**
 * One-cycle (Smith & Topin 2018, as torch OneCycleLR): from max/divFactor up to `max` at
 * step pctStart·steps − 1, then down to max/(divFactor·finalDivFactor) at step steps − 1.
 */
export function oneCycle(options: OneCycleOptions): NamedSchedule<Required<OneCycleOptions>> {
  const max = v.positive('oneCycle', 'max', options.max);
  const steps = v.integer('oneCycle', 'steps', options.steps, 2);
  const pctStart = options.pctStart ?? 0.3;
  if (!(pctStart > 0 && pctStart < 1)) throw new v.HyperParameterError('oneCycle', 'pctStart', pctStart, 'a number in (0, 1)');
  const divFactor = v.positive('oneCycle', 'divFactor', options.divFactor ?? 25);
  const finalDivFactor = v.positive('oneCycle', 'finalDivFactor', options.finalDivFactor ?? 1e4);
  const anneal = v.oneOf('oneCycle', 'anneal', options.anneal ?? 'cos', ['cos', 'linear'] as const);
  const initial = max / divFactor;
  const final = initial / finalDivFactor;
  const peak = pctStart * steps - 1;
  const last = steps - 1;
  const between = (from: number, to: number, p: number): number => (anneal === 'cos' ? cosineBetween(from, to, p) : from + (to - from) * p);
  return named('oneCycle', () => ({ max, steps, pctStart, divFactor, finalDivFactor, anneal }), (t) => {
    checkStep(t);
    if (t <= peak) return between(initial, max, peak > 0 ? t / peak : 1);
    return between(max, final, Math.min(t - peak, last - peak) / (last - peak));
  });
}

export interface OneCycleMomentumOptions { steps: number; pctStart?: number; low?: number; high?: number; anneal?: 'cos' | 'linear' }

/**
 * The momentum (or Adam's β1) of the one-cycle policy, inverse to oneCycle's learning rate:
 * from `high` down to `low` while the rate warms up, then back to `high` (Smith 2018; torch
 * OneCycleLR's cycle_momentum, 0.95 → 0.85 → 0.95). Give it the same steps and pctStart.
 */
export function oneCycleMomentum(options: OneCycleMomentumOptions): NamedSchedule<Required<OneCycleMomentumOptions>> {
  const steps = v.integer('oneCycleMomentum', 'steps', options.steps, 2);
  const pctStart = options.pctStart ?? 0.3;
  if (!(pctStart > 0 && pctStart < 1)) throw new v.HyperParameterError('oneCycleMomentum', 'pctStart', pctStart, 'a number in (0, 1)');
  const low = v.unitInterval('oneCycleMomentum', 'low', options.low ?? 0.85);
  const high = v.unitInterval('oneCycleMomentum', 'high', options.high ?? 0.95);
  if (!(low <= high)) throw new v.HyperParameterError('oneCycleMomentum', 'low', low, `at most high (${high})`);
  const anneal = v.oneOf('oneCycleMomentum', 'anneal', options.anneal ?? 'cos', ['cos', 'linear'] as const);
  const peak = pctStart * steps - 1;
  const last = steps - 1;
  const between = (from: number, to: number, p: number): number => (anneal === 'cos' ? cosineBetween(from, to, p) : from + (to - from) * p);
  return named('oneCycleMomentum', () => ({ steps, pctStart, low, high, anneal }), (t) => {
    checkStep(t);
    if (t <= peak) return between(high, low, peak > 0 ? t / peak : 1);
    return between(low, high, Math.min(t - peak, last - peak) / (last - peak));
  });
}

export interface LinearWarmupOptions { schedule: ScheduleLike; warmupSteps: number; start?: number }

/**
 * Linear warmup wrapping any schedule: from `start` up to schedule(0) over `warmupSteps`,
 * then schedule(t − warmupSteps) (Goyal et al. 2017).
 */
export function linearWarmup(options: LinearWarmupOptions): NamedSchedule<{ schedule: ScheduleConfig; warmupSteps: number; start: number }> {
  const inner = toSchedule('linearWarmup', 'schedule', options.schedule);
  const warmupSteps = v.integer('linearWarmup', 'warmupSteps', options.warmupSteps, 0);
  const start = v.nonNegative('linearWarmup', 'start', options.start ?? 0);
  const wrapped = options.schedule;
  return named('linearWarmup', () => ({ schedule: scheduleConfig(wrapped, 'linearWarmup'), warmupSteps, start }), (t) => {
    if (checkStep(t) >= warmupSteps) return inner(t - warmupSteps);
    return start + ((inner(0) - start) * t) / warmupSteps;
  });
}

export interface ReduceOnPlateauOptions {
  /** The schedule (or number) to scale; default 1, a pure factor. */
  schedule?: ScheduleLike;
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  cooldown?: number;
  minValue?: number;
}

/** The mutable part of a plateau schedule, for checkpoints. */
export type PlateauState = { scale: number; best: number; badSteps: number; cooldownLeft: number; reports: number };

/** A schedule with state fed by a metric: call `report(metric)` once per evaluation (an epoch). */
export interface PlateauSchedule extends NamedSchedule<Required<Omit<ReduceOnPlateauOptions, 'schedule'>> & { schedule: ScheduleConfig }> {
  /** Feed the monitored metric; returns true when this report reduced the rate. */
  report(metric: number): boolean;
  /** The current multiplier of the wrapped schedule. */
  readonly scale: number;
  getState(): PlateauState;
  setState(state: PlateauState): void;
}

/**
 * Reduce-on-plateau (torch ReduceLROnPlateau): when the metric has not improved by
 * `threshold` for more than `patience` reports, multiply the rate by `factor` (not below
 * `minValue`), then wait `cooldown` reports. Its value is schedule(t) · scale.
 */
export function reduceOnPlateau(options: ReduceOnPlateauOptions = {}): PlateauSchedule {
  const wrapped = options.schedule ?? 1;
  const inner = toSchedule('reduceOnPlateau', 'schedule', wrapped);
  const mode = v.oneOf('reduceOnPlateau', 'mode', options.mode ?? 'min', ['min', 'max'] as const);
  const factor = v.unitInterval('reduceOnPlateau', 'factor', options.factor ?? 0.1);
  const patience = v.integer('reduceOnPlateau', 'patience', options.patience ?? 10, 0);
  const threshold = v.nonNegative('reduceOnPlateau', 'threshold', options.threshold ?? 1e-4);
  const thresholdMode = v.oneOf('reduceOnPlateau', 'thresholdMode', options.thresholdMode ?? 'rel', ['rel', 'abs'] as const);
  const cooldown = v.integer('reduceOnPlateau', 'cooldown', options.cooldown ?? 0, 0);
  const minValue = v.nonNegative('reduceOnPlateau', 'minValue', options.minValue ?? 0);
  let st: PlateauState = { scale: 1, best: mode === 'min' ? Infinity : -Infinity, badSteps: 0, cooldownLeft: 0, reports: 0 };
  const better = (a: number, best: number): boolean => {
    const margin = thresholdMode === 'rel' ? Math.abs(best) * threshold : threshold;
    return mode === 'min' ? a < best - (Number.isFinite(best) ? margin : 0) : a > best + (Number.isFinite(best) ? margin : 0);
  };
  const s = named(
    'reduceOnPlateau',
    () => ({ schedule: scheduleConfig(wrapped, 'reduceOnPlateau'), mode, factor, patience, threshold, thresholdMode, cooldown, minValue }),
    (t) => Math.max(inner(checkStep(t)) * st.scale, Math.min(minValue, inner(t))),
  ) as PlateauSchedule & { report: PlateauSchedule['report'] };
  s.report = (metric: number): boolean => {
    if (typeof metric !== 'number' || Number.isNaN(metric)) throw new ArgumentError(`reduceOnPlateau.report: the metric must be a number, got ${metric}`);
    st = { ...st, reports: st.reports + 1 };
    if (better(metric, st.best)) st = { ...st, best: metric, badSteps: 0 };
    else st = { ...st, badSteps: st.badSteps + 1 };
    if (st.cooldownLeft > 0) st = { ...st, cooldownLeft: st.cooldownLeft - 1, badSteps: 0 };
    if (st.badSteps > patience) {
      st = { ...st, scale: st.scale * factor, cooldownLeft: cooldown, badSteps: 0 };
      return true;
    }
    return false;
  };
  Object.defineProperty(s, 'scale', { get: () => st.scale });
  (s as { getState: () => PlateauState }).getState = () => ({ ...st });
  (s as { setState: (x: PlateauState) => void }).setState = (x: PlateauState) => {
    const fields = ['scale', 'best', 'badSteps', 'cooldownLeft', 'reports'] as const;
    for (const f of fields) if (typeof x?.[f] !== 'number') throw new ArgumentError(`reduceOnPlateau.setState: '${f}' must be a number, got ${String(x?.[f])}`);
    st = { scale: x.scale, best: x.best, badSteps: x.badSteps, cooldownLeft: x.cooldownLeft, reports: x.reports };
  };
  return s;
}

/** Whether a schedule carries state beyond the step (reduce-on-plateau). */
export function isStateful(s: unknown): s is PlateauSchedule {
  return typeof s === 'function' && typeof (s as Partial<PlateauSchedule>).getState === 'function' && typeof (s as Partial<PlateauSchedule>).setState === 'function';
}
