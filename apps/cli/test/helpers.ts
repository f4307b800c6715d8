// Shared by the CLI tests: in-process stdout/stderr capture and config files on disk.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

/** Streams for run(argv, io) that collect what the command prints. */
export function capture() {
  let out = '';
  let err = '';
  const io = {
    out: new Writable({ write(chunk, _e, cb) { out += chunk; cb(); } }),
    err: new Writable({ write(chunk, _e, cb) { err += chunk; cb(); } }),
  };
  return { io, get out() { return out; }, get err() { return err; } };
}

/** Writes a config (an object, or raw text) to a fresh temporary folder and returns its path. */
export async function configFile(config: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'minibatch-cli-'));
  const path = join(dir, 'config.json');
  await writeFile(path, typeof config === 'string' ? config : JSON.stringify(config));
  return path;
}
