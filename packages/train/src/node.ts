// Files on disk (Node only; the browser uses encodeModel/decodeModel on bytes): model files,
// and the two rules every file minibatch writes follows — written atomically, and never over
// one of the command's own inputs.
import { open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Module } from '@minibatch/layers';
import type { Registry } from '@minibatch/registry';
import { decodeModel, encodeModel, type LoadedModel, type ModelExtras } from './model-file.js';

/**
 * Writes `bytes` to `path` atomically: into a temporary file in the same folder, flushed to
 * disk (fsync), then renamed over `path`. A crash, a full disk or a kill leaves the previous
 * file (or none) in place — never a half-written one.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  let handle: Awaited<ReturnType<typeof open>> | null = null;
  try {
    handle = await open(temporary, 'wx');
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    handle = null;
    await rename(temporary, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temporary, { force: true }).catch(() => undefined); // nothing to clean when the folder is missing
    throw new Error(`could not write ${path}: ${(error as Error).message}`, { cause: error });
  }
  // Make the rename itself durable where the platform allows syncing a folder.
  const folder = await open(dirname(path), 'r').catch(() => null);
  await folder?.sync().catch(() => undefined);
  await folder?.close().catch(() => undefined);
}

/** Where a path leads once relative parts and symlinks are resolved (for a file that does not exist yet: its folder's real path). */
async function realTarget(path: string): Promise<string> {
  const absolute = resolve(path);
  try {
    return await realpath(absolute);
  } catch {
    try {
      return join(await realpath(dirname(absolute)), basename(absolute));
    } catch {
      return absolute;
    }
  }
}

/**
 * Refuses, before any work, to write an output that resolves (relative paths, `..`,
 * symlinks) to one of the command's inputs, or to a folder.
 *
 * @example
 * await checkOutputs({ '--out': args.out }, [args.config]);
 */
export async function checkOutputs(outputs: Record<string, string | undefined>, inputs: readonly string[]): Promise<void> {
  const sources = new Map<string, string>();
  for (const input of inputs) sources.set(await realTarget(input), input);
  for (const [flag, out] of Object.entries(outputs)) {
    if (out === undefined) continue;
    const target = await realTarget(out);
    const input = sources.get(target);
    if (input !== undefined) {
      throw new FileError(`${flag} ${out} is ${input === out ? 'an input of this command' : `the same file as the input ${input}`}; writing it would destroy the input — choose another path`);
    }
    const info = await stat(target).catch(() => null);
    if (info?.isDirectory()) throw new FileError(`${flag} ${out} is a folder; give a file name (e.g. ${join(out, 'model.safetensors')})`);
  }
}

/** A file argument that cannot be used: an input that cannot be read, or an output that would destroy an input. */
export class FileError extends Error {
  override readonly name = 'FileError';
}

/** Writes a model file atomically (see writeFileAtomic). */
export async function saveModel(path: string, model: Module, inputShape: readonly number[], extras: ModelExtras = {}): Promise<void> {
  try {
    await writeFileAtomic(path, encodeModel(model, inputShape, extras));
  } catch (error) {
    throw new Error(`saveModel: ${(error as Error).message}`, { cause: error });
  }
}

/** Reads a model file written by saveModel (checked whole before a model is returned). */
export async function loadModel(path: string, registry: Registry): Promise<LoadedModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FileError(code === 'ENOENT' ? `no model file at ${path}` : `could not read ${path}: ${(error as Error).message}`);
  }
  return decodeModel(bytes, registry, path);
}
