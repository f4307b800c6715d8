// Training-state checkpoints: everything a run needs to continue exactly where it stopped —
// weights and buffers, the optimizer's state (every transform's, every group's, the schedule's
// position through its step count), every stochastic layer's generator, the position in the
// data (epoch and batch: the loader's order and augmentation draws are functions of those),
// the current epoch's running sums, the history so far, and the run's config. One safetensors
// file: tensors for the numbers, JSON in its metadata, a CRC-32 over all of it.
import type { RngState } from '@minibatch/core';
import type { EpochLogs } from './fit.js';
import type { OptimizerStateDict } from '@minibatch/optimizers';
import { parseJson } from '@minibatch/registry';
import type { AverageState } from './average.js';
import type { SnapshotsState } from './snapshots.js';
import { FormatError, decodeSafetensors, encodeSafetensors, type NamedArray } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'minibatch-checkpoint/1';

/** Where a run is, between two steps. */
export interface RunPosition {
  /** The epoch being trained (0-based) and the index of its next batch. */
  epoch: number;
  batch: number;
  /** Steps taken since the run began. */
  step: number;
  /** The current epoch's sums so far, so that its logs come out as in an unbroken run. */
  sums: { loss: number; penalty: number; seen: number; hits: number[]; seconds: number };
  history: EpochLogs[];
}

/** A run's whole state (TrainingState.model holds weights and buffers by name). */
export interface TrainingState extends RunPosition {
  model: Record<string, NamedArray>;
  optimizer: OptimizerStateDict;
  /** Generator states of the stochastic layers (dropout, DropConnect, …), by path. */
  masks: Record<string, RngState>;
  /** The running weight average (fit's `average`), when the run keeps one. */
  average?: AverageState;
  /** The snapshots taken so far (fit's `snapshots`), when the run takes them. */
  snapshots?: SnapshotsState;
}

export interface Checkpoint {
  state: TrainingState;
  /** The run config the checkpoint was made with (when the run came from one). */
  config?: unknown;
}

type Leaf = { dtype: 'float32'; shape: number[]; data: Float32Array };
const isLeaf = (v: unknown): v is Leaf => v !== null && typeof v === 'object' && (v as Leaf).dtype === 'float32' && Array.isArray((v as Leaf).shape) && ArrayBuffer.isView((v as Leaf).data);

/** The optimizer state with its tensors moved out into `tensors` (by reference name). */
function splitTensors(value: unknown, tensors: Record<string, NamedArray>): unknown {
  if (isLeaf(value)) {
    const name = `optimizer.${Object.keys(tensors).filter((k) => k.startsWith('optimizer.')).length}`;
    tensors[name] = { shape: value.shape.slice(), data: value.data };
    return { tensor: name };
  }
  if (Array.isArray(value)) return value.map((v) => splitTensors(v, tensors));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, splitTensors(v, tensors)]));
  return value;
}

function joinTensors(value: unknown, tensors: Record<string, NamedArray>, source: string): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as { tensor?: unknown }).tensor === 'string' && Object.keys(value).length === 1) {
    const name = (value as { tensor: string }).tensor;
    const t = tensors[name];
    if (t === undefined) throw new FormatError(`${source}: the optimizer state refers to tensor '${name}', which the file does not hold`);
    return { dtype: 'float32', shape: t.shape, data: t.data };
  }
  if (Array.isArray(value)) return value.map((v) => joinTensors(v, tensors, source));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, joinTensors(v, tensors, source)]));
  return value;
}

/** The bytes of a checkpoint. */
export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const { state, config } = checkpoint;
  const tensors: Record<string, NamedArray> = {};
  for (const [name, t] of Object.entries(state.model)) tensors[`model.${name}`] = t;
  const optimizer = splitTensors(state.optimizer, tensors);
  const { model: _model, optimizer: _optimizer, average, snapshots, ...rest } = state;
  if (average !== undefined) for (const [name, t] of Object.entries(average.weights)) tensors[`average.${name}`] = t;
  snapshots?.taken.forEach((snapshot, i) => {
    for (const [name, t] of Object.entries(snapshot)) tensors[`snapshot.${i}.${name}`] = t;
  });
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    state: JSON.stringify({
      ...rest, optimizer,
      ...(average !== undefined ? { average: { count: average.count, steps: average.steps } } : {}),
      ...(snapshots !== undefined ? { snapshots: snapshots.taken.length } : {}),
    }),
  };
  if (config !== undefined) metadata.config = JSON.stringify(config);
  return encodeSafetensors(tensors, metadata);
}

/** Reads a checkpoint, checked whole: format, checksum, every field. Errors name `source`. */
export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): Checkpoint {
  const { tensors, metadata, checksum } = decodeSafetensors(bytes, source);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    const other = typeof metadata.format === 'string' ? metadata.format : 'none';
    throw new FormatError(
      other.startsWith('minibatch-checkpoint/')
        ? `${source}: a checkpoint of format ${other}; this minibatch reads ${CHECKPOINT_FORMAT} — resume with the version that wrote it`
        : `${source}: not a minibatch training checkpoint (metadata format ${JSON.stringify(metadata.format)}${other === 'minibatch/1' ? ': a model file, which has no optimizer state to resume from' : ''})`,
    );
  }
  if (checksum === 'absent') throw new FormatError(`${source}: the checkpoint carries no checksum; minibatch always writes one, so this file was altered`);
  let parsed: Record<string, unknown>;
  try {
    parsed = parseJson(metadata.state ?? '', { source: 'state' }) as Record<string, unknown>;
  } catch (error) {
    throw new FormatError(`${source}: its state is not valid JSON (${(error as Error).message})`);
  }
  const ints = ['epoch', 'batch', 'step'] as const;
  for (const k of ints) {
    if (!Number.isInteger(parsed[k]) || (parsed[k] as number) < 0) throw new FormatError(`${source}: state.${k} must be an integer ≥ 0, got ${JSON.stringify(parsed[k])}`);
  }
  if (!Array.isArray(parsed.history) || parsed.sums === null || typeof parsed.sums !== 'object' || parsed.masks === null || typeof parsed.masks !== 'object') {
    throw new FormatError(`${source}: the state lacks its history, running sums or generator states`);
  }
  const model: Record<string, NamedArray> = {};
  const averaged: Record<string, NamedArray> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (name.startsWith('model.')) model[name.slice('model.'.length)] = t;
    if (name.startsWith('average.')) averaged[name.slice('average.'.length)] = t;
  }
  const snapshotCount = parsed.snapshots;
  const state: TrainingState = { ...(parsed as unknown as Omit<TrainingState, 'model'>), model, optimizer: joinTensors(parsed.optimizer, tensors, source) as OptimizerStateDict };
  if (snapshotCount !== undefined) {
    if (!Number.isInteger(snapshotCount) || (snapshotCount as number) < 0) throw new FormatError(`${source}: state.snapshots must be a count, got ${JSON.stringify(snapshotCount)}`);
    state.snapshots = {
      taken: Array.from({ length: snapshotCount as number }, (_, i) => {
        const prefix = `snapshot.${i}.`;
        return Object.fromEntries(Object.entries(tensors).filter(([n]) => n.startsWith(prefix)).map(([n, t]) => [n.slice(prefix.length), t]));
      }),
    };
  }
  if (parsed.average !== undefined) {
    const { count, steps } = parsed.average as { count: number; steps: number };
    state.average = { count, steps, weights: averaged };
  }
  let config: unknown;
  if (metadata.config !== undefined) {
    try {
      config = parseJson(metadata.config, { source: 'config' });
    } catch (error) {
      throw new FormatError(`${source}: its config is not valid JSON (${(error as Error).message})`);
    }
  }
  return config === undefined ? { state } : { state, config };
}

/**
 * What differs between two configs, as dotted paths with both values ('epochs: 5 → 8');
 * empty when they are the same.
 */
export function configChanges(before: unknown, after: unknown, path = ''): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const isObject = (v: unknown) => v !== null && typeof v === 'object';
  if (isObject(before) && isObject(after) && Array.isArray(before) === Array.isArray(after)) {
    const keys = [...new Set([...Object.keys(before as object), ...Object.keys(after as object)])];
    return keys.flatMap((k) => configChanges((before as Record<string, unknown>)[k], (after as Record<string, unknown>)[k], Array.isArray(before) ? `${path}[${k}]` : path === '' ? k : `${path}.${k}`));
  }
  const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v).slice(0, 60));
  return [`${path || '(the config)'}: ${show(before)} → ${show(after)}`];
}
