// Sizes checked before work: from the model's shapes alone (nothing is allocated), the memory
// one training step will need, so a layer of a million units or a batch too large for the
// engine is refused at once with the numbers and what to change, instead of failing after
// minutes of allocation.
import type { Module } from '@minibatch/layers';

/** Bytes of one float32. */
const F32 = 4;

/**
 * Tensors of the size of a layer's output alive during one training step: the forward keeps
 * its output and an intermediate or two (pre-activation, normalized values) for backward, and
 * backward adds a few gradients of the same sizes (each freed once read); the allocator rounds
 * each block up to its size class. Measured (engine high-water mark of a training epoch, weights,
 * optimizer state and kernel workspace taken out) when backward still held every gradient to
 * its end: 5.8× the summed outputs for examples/mnist-mlp.json, 4.4× for examples/mnist-cnn.json;
 * since it frees them early, MobileNetV2 at 96×96 (batch 32, all layers training) grows the
 * memory by 1.1 GiB where this estimates 2.7 GiB. 6 keeps the estimate on the safe side.
 */
const ACTIVATION_COPIES = 6;

/**
 * Optimizer state per parameter, in floats (besides the gradient), by optimizer name. Newton
 * keeps only λ and counters; its n×n Hessian is a JS Float64Array outside the engine, and
 * its maxParams (5000 by default) caps it.
 */
const STATE_SLOTS: Record<string, number> = { sgd: 1, adam: 2, adamw: 2, rmsprop: 3, adagrad: 1, lbfgs: 24, newton: 0 };

export interface MemoryEstimate {
  parameters: number;
  /** Parameters and buffers (running statistics), in bytes. */
  weightBytes: number;
  /** Gradients and optimizer state, in bytes. */
  stateBytes: number;
  /** Activations of one training step at the batch size, in bytes. */
  activationBytes: number;
  totalBytes: number;
  /** The leaf layer with the most parameters, and the one with the largest output. */
  largestParams: { path: string; label: string; params: number } | null;
  largestOutput: { path: string; label: string; outputShape: number[]; bytes: number } | null;
  /** Activation bytes per sample (to suggest a batch size). */
  bytesPerSample: number;
}

/**
 * The memory one training step of `model` on batches of `batchSize` samples of `inputShape`
 * needs, estimated from shapes (pure: the model need not be built).
 *
 * @example
 * estimateTrainingMemory(model, [28, 28, 1], 64, 'adam').totalBytes;
 */
export function estimateTrainingMemory(model: Module, inputShape: readonly number[], batchSize: number, optimizer = 'adam'): MemoryEstimate {
  const rows = model.layerTable(inputShape).filter((r) => r.leaf);
  let parameters = 0;
  let outputFloats = inputShape.reduce((a, b) => a * b, 1);
  let largestParams: MemoryEstimate['largestParams'] = null;
  let largestOutput: MemoryEstimate['largestOutput'] = null;
  for (const row of rows) {
    parameters += row.params;
    const floats = row.outputShape.reduce((a, b) => a * b, 1);
    outputFloats += floats;
    if (largestParams === null || row.params > largestParams.params) largestParams = { path: row.path, label: row.label, params: row.params };
    const bytes = floats * F32 * batchSize;
    if (largestOutput === null || bytes > largestOutput.bytes) largestOutput = { path: row.path, label: row.label, outputShape: row.outputShape, bytes };
  }
  const weightBytes = parameters * F32;
  const stateBytes = parameters * F32 * (1 + (STATE_SLOTS[optimizer] ?? 2));
  const bytesPerSample = outputFloats * F32 * ACTIVATION_COPIES;
  const activationBytes = bytesPerSample * batchSize;
  return {
    parameters, weightBytes, stateBytes, activationBytes, totalBytes: weightBytes + stateBytes + activationBytes,
    largestParams, largestOutput, bytesPerSample,
  };
}

/** 1.5 GiB, 300 MiB, 12 KiB. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} bytes` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/**
 * '512MB', '2GiB', '1.5G', '100000000': bytes. Units are powers of 1024 (MB = MiB, as memory is
 * counted); the result is a positive integer or the function throws.
 */
export function parseBytes(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|bytes?|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?\s*$/i.exec(text);
  if (match === null) throw new RangeError(`'${text}' is not a size: write e.g. 512MB, 2GB or 1.5GiB`);
  const power = { b: 0, k: 1, m: 2, g: 3, t: 4 }[(match[2] ?? 'b')[0].toLowerCase() as 'b' | 'k' | 'm' | 'g' | 't'];
  const bytes = Math.floor(Number(match[1]) * 1024 ** power);
  if (!(bytes > 0)) throw new RangeError(`'${text}' is not a positive size`);
  return bytes;
}
