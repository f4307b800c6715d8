// A model format is a registry plugin of kind 'format': it recognizes its files, imports them
// onto an ordinary minibatch Module, and describes them without importing (inspect).
import type { Module } from '@minibatch/layers';
import type { Registry } from '@minibatch/registry';
import type { ModelFiles } from './files.js';

/** One row of an inspection: a layer (or, for files of weights only, a tensor). */
export interface InspectedLayer {
  name: string;
  /** The layer class or op ('Conv2D', 'Conv'), or 'tensor' for a bare weight. */
  type: string;
  /** Stored scalars that belong to it. */
  parameters: number;
  shape?: number[];
}

/** What `minibatch inspect` prints: a file described without building a model. */
export interface Inspection {
  format: string;
  layers: InspectedLayer[];
  /** Every stored scalar: weights and buffers such as BatchNorm statistics. */
  parameters: number;
  /** Per-sample input shape as minibatch sees it (NHWC), or null when the file does not say. */
  inputShape: number[] | null;
  /** How weights are stored: 'float32', 'uint8', 'float16', … */
  quantization: string[];
  /** The input preprocessing the file states, or null when it states none. */
  preprocessing: string | null;
  /** Layer classes or ops in the file that this version cannot import (absent when none). */
  unsupported?: string[];
}

export interface ModelFormat {
  readonly kind: 'format';
  readonly name: string;
  readonly description: string;
  /** Whether the files look like this format (by name and content; cheap). */
  detect(files: ModelFiles): boolean;
  /** The file imported onto a built Module, in eval mode, layer names kept. */
  load(files: ModelFiles, registry: Registry): Module;
  inspect(files: ModelFiles, registry: Registry): Inspection;
}

/** Sum of the sizes of shapes. */
export function countOf(shapes: readonly (readonly number[])[]): number {
  return shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
}
