// Checkpoint files, written synchronously: what fit's checkpoint callback and the
// CheckpointWriter's thread both call. Kept apart from node.ts so that the writer's thread
// loads only this, the checkpoint format and node:fs.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { encodeCheckpoint, type Checkpoint } from './checkpoint.js';

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

export const CHECKPOINT_NAME = /^step-(\d+)\.ckpt$/;
export const checkpointName = (step: number) => `step-${String(step).padStart(9, '0')}.ckpt`;

/**
 * Writes a checkpoint into `dir` as step-<step>.ckpt (atomically: a kill mid-write leaves the
 * previous checkpoints intact) and removes all but the newest `keep`; `copies` are further
 * names in `dir` for the same bytes (e.g. best.ckpt). Returns its path.
 */
export function saveCheckpoint(dir: string, checkpoint: Checkpoint, options: { keep?: number; copies?: readonly string[] } = {}): string {
  const { keep = 3, copies = [] } = options;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, checkpointName(checkpoint.state.step));
  const bytes = encodeCheckpoint(checkpoint);
  writeFileAtomicSync(path, bytes);
  for (const name of copies) writeFileAtomicSync(join(dir, name), bytes);
  const all = readdirSync(dir).filter((f) => CHECKPOINT_NAME.test(f)).sort();
  for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(join(dir, old), { force: true });
  return path;
}
