// Averages of the weights along a run (Polyak & Juditsky 1992; the exponential moving average
// of Polyak-style averaging in modern training): evaluated as a model of their own, they often
// beat the last weights. BatchNorm's running statistics belong to the last weights, not to
// their average, so the averaged model's are measured afresh on training data.
import { ArgumentError, Rng, noGrad, scope, tensor } from '@minibatch/core';
import type { Dataset } from '@minibatch/data';
import { modelFromConfig, modelToConfig, type Module } from '@minibatch/layers';
import type { Registry } from '@minibatch/registry';
import type { NamedArray } from './safetensors.js';

export interface AverageOptions {
  /** 'ema' (default): s ← decay·s + (1 − decay)·w after each step; 'polyak': the plain mean of all steps' weights. */
  kind?: 'ema' | 'polyak';
  /** The EMA's decay, in (0, 1) (default 0.999). */
  decay?: number;
  /** Steps to skip before averaging starts (default 0). */
  start?: number;
}

export interface AverageState {
  count: number;
  steps: number;
  weights: Record<string, NamedArray>;
}

/**
 * A running average of a model's trainable weights; `fit(…, { average })` updates it after
 * every step and keeps it in checkpoints.
 *
 * @example
 * const average = new WeightAverage(model, { decay: 0.999 });
 * fit(model, train, { …, average });
 * evaluate(average.averaged(registry, train), test);
 */
export class WeightAverage {
  readonly kind: 'ema' | 'polyak';
  readonly decay: number;
  readonly start: number;
  readonly #model: Module;
  #shadow: Map<string, Float32Array> | null = null;
  #count = 0;
  #steps = 0;

  constructor(model: Module, options: AverageOptions = {}) {
    const { kind = 'ema', decay = 0.999, start = 0 } = options;
    if (kind !== 'ema' && kind !== 'polyak') throw new ArgumentError(`WeightAverage: kind must be 'ema' or 'polyak', got '${String(kind)}'`);
    if (!(decay > 0 && decay < 1)) throw new ArgumentError(`WeightAverage: the EMA decay must be in (0, 1), got ${decay}`);
    if (!Number.isInteger(start) || start < 0) throw new ArgumentError(`WeightAverage: start must be an integer ≥ 0, got ${start}`);
    this.#model = model;
    this.kind = kind;
    this.decay = decay;
    this.start = start;
  }

  /** How many steps' weights are in the average. */
  get count(): number {
    return this.#count;
  }

  /** Folds the model's current weights in (call after each optimizer step). */
  update(): void {
    this.#steps++;
    if (this.#steps <= this.start) return;
    const params = this.#model.namedParameters();
    if (this.#shadow === null) {
      this.#shadow = new Map(params.map(([name, p]) => [name, p.data().slice()]));
      this.#count = 1;
      return;
    }
    this.#count++;
    // The EMA's weight on the new value; the first steps are averaged plainly (bias correction).
    const rate = this.kind === 'polyak' ? 1 / this.#count : Math.max(1 - this.decay, 1 / this.#count);
    for (const [name, p] of params) {
      const s = this.#shadow.get(name)!;
      const w = p.data();
      for (let i = 0; i < s.length; i++) s[i] += rate * (w[i] - s[i]);
    }
  }

  /** For checkpoints. */
  state(): AverageState {
    const weights: Record<string, NamedArray> = {};
    const shapes = new Map(this.#model.namedParameters().map(([n, p]) => [n, p.shape.slice()]));
    for (const [name, values] of this.#shadow ?? []) weights[name] = { shape: shapes.get(name)!, data: values.slice() };
    return { count: this.#count, steps: this.#steps, weights };
  }

  load(state: AverageState): void {
    const params = new Map(this.#model.namedParameters());
    if (state.count > 0) {
      for (const [name, p] of params) {
        const w = state.weights[name];
        if (w === undefined || w.data.length !== p.size) throw new ArgumentError(`WeightAverage: the saved average has no weights of the right size for '${name}' — another architecture?`);
      }
    }
    this.#shadow = state.count > 0 ? new Map(Object.entries(state.weights).map(([n, w]) => [n, Float32Array.from(w.data)])) : null;
    this.#count = state.count;
    this.#steps = state.steps;
  }

  /**
   * A new model with the averaged weights. With BatchNorm layers, give training `data`: their
   * running statistics are measured for the averaged weights on up to 2,048 of its samples.
   */
  averaged(registry: Registry, data?: Dataset): Module {
    if (this.#shadow === null) throw new ArgumentError('WeightAverage: nothing averaged yet — train first (fit with { average })');
    const shape = this.#model.builtInputShape;
    if (shape === null) throw new ArgumentError('WeightAverage: the model is not built');
    const spec = modelToConfig(this.#model);
    const hasBatchNorm = JSON.stringify(spec).includes('"name":"batchNorm"');
    const make = (s: unknown) => {
      const m = modelFromConfig(registry, s as never);
      m.build(shape, new Rng(0));
      m.loadStateDict(this.#model.stateDict());
      noGrad(() => {
        for (const [name, p] of m.namedParameters()) p.assign(tensor(this.#shadow!.get(name)!, p.shape));
      });
      return m;
    };
    const model = make(spec);
    if (hasBatchNorm) {
      if (data === undefined) throw new ArgumentError('WeightAverage.averaged: the model has BatchNorm layers; give training data to measure their statistics for the averaged weights');
      // A twin whose BatchNorm keeps only the last batch's statistics (momentum 0), fed one big batch.
      const twin = make(JSON.parse(JSON.stringify(spec), (k, v) => (v !== null && typeof v === 'object' && v.name === 'batchNorm' ? { ...v, config: { ...(v.config ?? {}), momentum: 0 } } : v)));
      const n = Math.min(2048, data.count);
      const size = data.shape.reduce((a, b) => a * b, 1);
      twin.train();
      noGrad(() => scope(() => void twin.forward(tensor(data.x.subarray(0, n * size), [n, ...data.shape]))));
      const measured = twin.namedBuffers();
      const buffers = new Map(model.namedBuffers());
      noGrad(() => {
        for (const [name, b] of measured) buffers.get(name)?.assign(tensor(b.data().slice(), b.shape));
      });
      twin.dispose();
    }
    model.eval();
    return model;
  }
}
