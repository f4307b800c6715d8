// Model files on disk (Node only; the browser uses encodeModel/decodeModel on bytes).
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Module } from '@minibatch/layers';
import type { Registry } from '@minibatch/registry';
import { decodeModel, encodeModel, type LoadedModel, type ModelExtras } from './model-file.js';

/**
 * Writes a model file atomically: to a temporary file first, renamed over `path` only when
 * complete, so a crash or a full disk never leaves a half-written model in its place.
 */
export async function saveModel(path: string, model: Module, inputShape: readonly number[], extras: ModelExtras = {}): Promise<void> {
  const bytes = encodeModel(model, inputShape, extras);
  const temporary = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined); // nothing to clean when the folder is missing
    throw new Error(`saveModel: could not write ${path}: ${(error as Error).message}`);
  }
}

/** Reads a model file written by saveModel. */
export async function loadModel(path: string, registry: Registry): Promise<LoadedModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `loadModel: no model file at ${path}` : `loadModel: could not read ${path}: ${(error as Error).message}`);
  }
  return decodeModel(bytes, registry, path);
}
