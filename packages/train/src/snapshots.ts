// Snapshot ensembles (Huang et al. 2017): with a cyclic learning rate (SGDR's cosine with warm
// restarts), the weights at the end of each cycle — where the rate is lowest, just before it
// jumps back up — are different, good models; the last few, averaged, form an ensemble for
// the price of one run.
import { ArgumentError, Rng } from '@minibatch/core';
import { modelFromConfig, modelToConfig, type Module, type StateDict } from '@minibatch/layers';
import type { Optimizer } from '@minibatch/optimizers';
import type { Registry } from '@minibatch/registry';
import { Ensemble } from './ensemble.js';
import type { NamedArray } from './safetensors.js';
import { learningRate } from './fit.js';

/** What a checkpoint keeps of a Snapshots collector: the snapshots taken so far. */
export interface SnapshotsState {
  taken: Record<string, NamedArray>[];
}

/** The steps (0-based) after which a cycle ends: where the next step's rate jumps up, and the last step. */
export function cycleEnds(rate: (t: number) => number, steps: number): number[] {
  const ends: number[] = [];
  for (let t = 0; t + 1 < steps; t++) if (rate(t + 1) > rate(t) * (1 + 1e-9)) ends.push(t);
  ends.push(steps - 1);
  return ends;
}

/**
 * Collects the weights at the end of each learning-rate cycle (keeping the last `count`) and
 * makes them an Ensemble.
 *
 * @example
 * const snapshots = new Snapshots(model, optimizer, { count: 5, steps: epochs * batchesPerEpoch });
 * fit(model, train, { …, optimizer, snapshots });
 * evaluate(snapshots.ensemble(registry), test);
 */
export class Snapshots {
  readonly count: number;
  readonly ends: ReadonlySet<number>;
  readonly #model: Module;
  #taken: StateDict[] = [];

  constructor(model: Module, optimizer: Optimizer<object>, options: { count: number; steps: number }) {
    const { count, steps } = options;
    if (!Number.isInteger(count) || count < 2) throw new ArgumentError(`snapshots: count must be an integer ≥ 2, got ${count}`);
    const ends = cycleEnds((t) => learningRate(optimizer, t), steps);
    if (count > ends.length) {
      throw new ArgumentError(
        `snapshots: ${count} snapshots asked, but the learning rate goes through ${ends.length} cycle${ends.length === 1 ? '' : 's'} in ${steps} steps; ` +
          'use a cyclic schedule (cosineWarmRestarts) with at least as many cycles, or fewer snapshots',
      );
    }
    this.count = count;
    this.ends = new Set(ends);
    this.#model = model;
  }

  /** Snapshots taken so far (at most `count`: the newest). */
  get taken(): number {
    return this.#taken.length;
  }

  /** After step `step` (0-based over the run; fit calls it): a snapshot when a cycle ends there. */
  take(step: number): void {
    if (!this.ends.has(step)) return;
    const copy: StateDict = {};
    for (const [name, t] of Object.entries(this.#model.stateDict())) copy[name] = { shape: t.shape.slice(), data: t.data.slice() };
    this.#taken.push(copy);
    if (this.#taken.length > this.count) this.#taken.shift();
  }

  /** For checkpoints. */
  state(): SnapshotsState {
    return { taken: this.#taken.map((s) => Object.fromEntries(Object.entries(s).map(([n, t]) => [n, { shape: t.shape.slice(), data: t.data.slice() }]))) };
  }

  load(state: SnapshotsState): void {
    const names = new Set(Object.keys(this.#model.stateDict()));
    for (const snapshot of state.taken) {
      const odd = Object.keys(snapshot).find((n) => !names.has(n));
      if (odd !== undefined || Object.keys(snapshot).length !== names.size) throw new ArgumentError(`snapshots: a saved snapshot does not fit this model (${odd !== undefined ? `unknown weight '${odd}'` : 'weights missing'}) — another architecture?`);
    }
    this.#taken = state.taken.map((s) => Object.fromEntries(Object.entries(s).map(([n, t]) => [n, { shape: t.shape.slice(), data: Float32Array.from(t.data) }])));
  }

  /** The snapshots as one Ensemble (each a fresh model with a snapshot's weights and buffers). */
  ensemble(registry: Registry): Ensemble {
    if (this.#taken.length < 2) throw new ArgumentError(`snapshots: ${this.#taken.length} taken so far; an ensemble needs at least two (train through more cycles)`);
    const shape = this.#model.builtInputShape;
    if (shape === null) throw new ArgumentError('snapshots: the model is not built');
    const spec = modelToConfig(this.#model);
    const members = this.#taken.map((state) => {
      const m = modelFromConfig(registry, spec as never);
      m.build(shape, new Rng(0));
      m.loadStateDict(state);
      m.eval();
      return m;
    });
    const ensemble = new Ensemble(members);
    ensemble.build(shape);
    ensemble.eval();
    return ensemble;
  }
}
