// Optimizer state is plain data: numbers, flags, strings and tensors in arrays and records.
// That is all a checkpoint needs: saveState() copies it out as JSON-able data, loadState()
// copies it back into the tensors of a freshly initialized state of the same structure.
import { ArgumentError, ShapeError, Tensor } from '@minibatch/core';
import type { OptimizerStateDict } from './optimizer.js';

/** What transforms keep between steps. Tensors in it are kept (not scope-owned). */
export type TransformState =
  | number
  | boolean
  | string
  | null
  | Tensor
  | readonly TransformState[]
  | { readonly [key: string]: TransformState };

/** A tensor in a saved state. `data` is a Float32Array, or a number[] for JSON. */
export interface SavedTensor {
  dtype: 'float32';
  shape: number[];
  data: Float32Array | number[];
}

/**
 * A saved state: the same structure with tensors as {@link SavedTensor} and non-finite
 * numbers as the strings 'Infinity', '-Infinity', 'NaN' (JSON has no such numbers).
 */
export type SavedState = number | boolean | string | null | SavedTensor | SavedState[] | { [key: string]: SavedState };

export interface SaveOptions {
  /** Tensor data as 'float32' (Float32Array, default: for binary checkpoints) or 'number' (number[]: JSON.stringify-able). */
  arrays?: 'float32' | 'number';
}

/**
 * A deep copy of `state` as plain data. Float32 values survive a trip through JSON numbers
 * exactly, so either array form restores bit for bit.
 *
 * @example
 * const saved = saveState(state, { arrays: 'number' });
 * const text = JSON.stringify(saved);   // into a checkpoint
 */
export function saveState(state: TransformState, options: SaveOptions = {}): SavedState {
  const asNumbers = options.arrays === 'number';
  const walk = (value: TransformState): SavedState => {
    if (value instanceof Tensor) {
      const data = value.data();
      return { dtype: 'float32', shape: value.shape.slice(), data: asNumbers ? Array.from(data) : data };
    }
    if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map(walk);
    const out: { [key: string]: SavedState } = {};
    for (const [key, v] of Object.entries(value as { [key: string]: TransformState })) out[key] = walk(v);
    return out;
  };
  return walk(state);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (ArrayBuffer.isView(value)) return 'a typed array';
  if (typeof value === 'string') return JSON.stringify(value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function mismatch(path: string, expected: string, got: unknown): ArgumentError {
  return new ArgumentError(`loadState: ${path} should be ${expected}, got ${describe(got)} — was this state saved from the same optimizer and parameters?`);
}

function savedNumber(path: string, value: unknown): number {
  if (typeof value === 'number') return value;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  if (value === 'NaN') return NaN;
  throw mismatch(path, 'a number', value);
}

/** Checks `saved` against the structure of `template` and returns the tensors' data to copy, all before anything is written. */
function plan(template: TransformState, saved: unknown, path: string, writes: [Tensor, ArrayLike<number>][]): void {
  if (template instanceof Tensor) {
    if (!isRecord(saved) || saved.dtype !== 'float32' || !Array.isArray(saved.shape)) throw mismatch(path, 'a saved float32 tensor', saved);
    const shape = saved.shape as unknown[];
    const data = saved.data;
    if (shape.length !== template.rank || shape.some((d, i) => d !== template.shape[i])) {
      throw new ShapeError(`loadState: ${path} has shape [${shape.join(', ')}], the optimizer's parameter needs [${template.shape.join(', ')}]`);
    }
    if (!(data instanceof Float32Array) && !Array.isArray(data)) throw mismatch(`${path}.data`, 'a Float32Array or number[]', data);
    if (data.length !== template.size) throw mismatch(`${path}.data`, `${template.size} values`, data);
    writes.push([template, data as ArrayLike<number>]);
    return;
  }
  if (typeof template === 'number') {
    savedNumber(path, saved);
    return;
  }
  if (template === null || typeof template !== 'object') {
    if (typeof saved !== typeof template || (template === null) !== (saved === null)) throw mismatch(path, describe(template), saved);
    return;
  }
  if (Array.isArray(template)) {
    if (!Array.isArray(saved) || saved.length !== template.length) throw mismatch(path, `an array of ${template.length}`, saved);
    template.forEach((t: TransformState, i: number) => plan(t, saved[i], `${path}[${i}]`, writes));
    return;
  }
  if (!isRecord(saved)) throw mismatch(path, 'an object', saved);
  const keys = Object.keys(template);
  for (const key of Object.keys(saved)) if (!keys.includes(key)) throw mismatch(`${path}.${key}`, 'absent', saved[key]);
  for (const key of keys) plan((template as { [key: string]: TransformState })[key], saved[key], `${path}.${key}`, writes);
}

function rebuild(template: TransformState, saved: unknown): TransformState {
  if (template instanceof Tensor) return template;
  if (typeof template === 'number') return savedNumber('', saved);
  if (template === null || typeof template !== 'object') return saved as TransformState;
  if (Array.isArray(template)) return template.map((t: TransformState, i: number) => rebuild(t, (saved as unknown[])[i]));
  const out: { [key: string]: TransformState } = {};
  for (const [key, t] of Object.entries(template as { [key: string]: TransformState })) out[key] = rebuild(t, (saved as Record<string, unknown>)[key]);
  return out;
}

/** Throws (naming the first difference) unless `saved` fits the structure of `template`; writes nothing. */
export function checkState(template: TransformState, saved: unknown, path = 'state'): void {
  plan(template, saved, path, []);
}

/**
 * Restores `saved` into `template`, a fresh state of the same structure (from `init`):
 * tensor values are copied into the template's tensors, numbers and flags are taken from
 * `saved`. Everything is checked first, so a mismatch throws with nothing written.
 */
export function loadState<S extends TransformState>(template: S, saved: unknown, path = 'state'): S {
  const writes: [Tensor, ArrayLike<number>][] = [];
  plan(template, saved, path, writes);
  for (const [tensor, data] of writes) tensor.view().set(data);
  return rebuild(template, saved) as S;
}

/** Every tensor in a state, in a fixed order. */
export function stateTensors(state: TransformState, into: Tensor[] = []): Tensor[] {
  if (state instanceof Tensor) into.push(state);
  else if (Array.isArray(state)) for (const s of state) stateTensors(s, into);
  else if (state !== null && typeof state === 'object') for (const s of Object.values(state)) stateTensors(s as TransformState, into);
  return into;
}

/** Frees every tensor of a state. */
export function disposeState(state: TransformState): void {
  for (const t of stateTensors(state)) t.dispose();
}

/**
 * The state dict of an optimizer over one group of parameters that steps on a closure
 * (L-BFGS, Newton): the same format as Optimizer.stateDict(), one group, no schedule.
 */
export function singleGroupStateDict(optimizer: string, steps: number, params: readonly Tensor[], state: TransformState, options: SaveOptions): OptimizerStateDict {
  return {
    format: 'minibatch-optimizer',
    version: 1,
    optimizer,
    steps,
    groups: [{ name: null, shapes: params.map((p) => p.shape.slice()), frozen: false, state: saveState(state, options), schedule: null }],
  };
}

/**
 * Checks that `dict` is singleGroupStateDict()'s for `optimizer` over parameters of these
 * shapes, and returns its saved state. `described` names it in errors ('an L-BFGS').
 */
export function singleGroupSavedState(dict: OptimizerStateDict, optimizer: string, described: string, params: readonly Tensor[]): Record<string, unknown> {
  const where = `${optimizer}.loadStateDict`;
  if (dict?.format !== 'minibatch-optimizer' || dict.optimizer !== optimizer || !Array.isArray(dict.groups) || dict.groups.length !== 1) {
    throw new ArgumentError(`${where}: not ${described} state dict (format 'minibatch-optimizer', optimizer '${optimizer}', one group)`);
  }
  const shapes = params.map((p) => p.shape.join('x')).join(',');
  if (dict.groups[0].shapes.map((s) => s.join('x')).join(',') !== shapes) {
    throw new ArgumentError(`${where}: the saved parameter shapes differ from this optimizer's`);
  }
  return dict.groups[0].state as Record<string, unknown>;
}
