// Files on disk (Node only; the browser uses encodeModel/decodeModel on bytes): model files,
// and the two rules every file minibatch writes follows — written atomically, and never over
// one of the command's own inputs.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Module } from '@minibatch/layers';
import type { Registry } from '@minibatch/registry';
import { decodeModel, encodeModel, type LoadedModel, type ModelExtras } from './model-file.js';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint.js';
import { FormatError } from './safetensors.js';

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

/** writeFileAtomic for synchronous callers (a checkpoint written between two training steps). */
export function writeFileAtomicSync(path: string, bytes: Uint8Array | string): void {
  const temporary = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  let fd: number | null = null;
  try {
    fd = openSync(temporary, 'wx');
    writeSync(fd, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(temporary, path);
  } catch (error) {
    if (fd !== null) closeSync(fd);
    rmSync(temporary, { force: true });
    throw new Error(`could not write ${path}: ${(error as Error).message}`, { cause: error });
  }
}

const CHECKPOINT_NAME = /^step-(\d+)\.ckpt$/;

/**
 * Writes a checkpoint into `dir` as step-<step>.ckpt (atomically: a kill mid-write leaves the
 * previous checkpoints intact) and removes all but the newest `keep`. Returns its path.
 */
export function saveCheckpoint(dir: string, checkpoint: Checkpoint, options: { keep?: number } = {}): string {
  const { keep = 3 } = options;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `step-${String(checkpoint.state.step).padStart(9, '0')}.ckpt`);
  writeFileAtomicSync(path, encodeCheckpoint(checkpoint));
  const all = readdirSync(dir).filter((f) => CHECKPOINT_NAME.test(f)).sort();
  for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(join(dir, old), { force: true });
  return path;
}

/**
 * A checkpoint file, or the newest complete checkpoint in a folder: a newest file that does
 * not read (cut short by a full disk, altered) is passed over for the one before, and named
 * in `skipped`.
 */
export function loadCheckpoint(path: string): { checkpoint: Checkpoint; path: string; skipped: string[] } {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new FileError(`no checkpoint at ${path}`);
  }
  const candidates = isDir ? readdirSync(path).filter((f) => CHECKPOINT_NAME.test(f)).sort().reverse().map((f) => join(path, f)) : [path];
  if (candidates.length === 0) throw new FileError(`${path} holds no checkpoint (step-*.ckpt); write some with train --checkpoint ${path}`);
  const skipped: string[] = [];
  for (const file of candidates) {
    try {
      return { checkpoint: decodeCheckpoint(new Uint8Array(readFileSync(file)), file), path: file, skipped };
    } catch (error) {
      if (!isDir) throw error;
      skipped.push(`${basename(file)} (${(error as Error).message.replace(`${file}: `, '')})`);
    }
  }
  throw new FormatError(`${path}: no checkpoint in it could be read: ${skipped.join('; ')}`);
}
