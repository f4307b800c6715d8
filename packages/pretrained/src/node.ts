// Model files on disk (Node): the main file and the files next to it that it names. TF.js
// models shipped inside npm packages as UMD `.min.js` wrappers (nsfwjs) are read too: the
// wrapper is JavaScript that returns the model JSON or a base64 shard, so it is run — in a
// fresh node:vm context with nothing but `module`/`exports`, for at most 10 seconds. vm is no
// security boundary: load only wrappers from packages you trust.
import { readFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import type { Module } from '@minibatch/layers';
import { FormatError } from '@minibatch/train';
import { FileError } from '@minibatch/train/node';
import type { ModelFiles } from './files.js';
import type { Inspection } from './format.js';
import { inspect, load, type LoadOptions } from './plugin.js';

/** The value a UMD/CommonJS wrapper exports. */
function runWrapper(path: string, text: string): unknown {
  const module = { exports: {} as unknown };
  try {
    runInNewContext(text, { module, exports: module.exports }, { filename: path, timeout: 10_000 });
  } catch (error) {
    throw new FormatError(`${path}: running the .min.js wrapper failed (${(error as Error).message})`);
  }
  return module.exports;
}

/** A file's bytes; a `.min.js` wrapper gives its JSON (objects) or its decoded base64 (strings). */
function fileBytes(path: string, raw: Uint8Array): Uint8Array {
  if (!path.endsWith('.min.js')) return raw;
  const value = runWrapper(path, new TextDecoder().decode(raw));
  if (typeof value === 'string') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new FormatError(`${path}: the wrapper's string is not base64`);
    return new Uint8Array(Buffer.from(value, 'base64'));
  }
  if (value !== null && typeof value === 'object') return new TextEncoder().encode(JSON.stringify(value));
  throw new FormatError(`${path}: the wrapper exports ${typeof value}, neither model JSON nor a base64 shard`);
}

/**
 * The model at `file` — a path, or a path inside an installed npm package — with access to the
 * files next to it: a shard named 'group1-shard1of1' in a manifest is read from that file, or
 * from 'group1-shard1of1.min.js' beside it.
 */
export async function readModelFiles(file: string): Promise<ModelFiles> {
  // A path, or one inside an installed package ('nsfwjs/dist/models/mobilenet_v2/model.min.js').
  let path = file;
  try {
    path = resolveModelPath(file, process.cwd());
  } catch {
    // reported below, as the file that could not be read
  }
  let raw: Uint8Array;
  try {
    raw = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FileError(code === 'ENOENT' ? `no model file at ${file}` : `could not read ${path}: ${(error as Error).message}`);
  }
  const folder = dirname(path);
  const name = basename(path).replace(/\.min\.js$/, '.json');
  return {
    name: path,
    bytes: fileBytes(path, raw),
    sibling(other: string): Uint8Array {
      if (other.includes('..') || other.startsWith('/')) throw new FormatError(`${name}: refers to '${other}' outside its folder`);
      for (const candidate of [other, `${other}.min.js`]) {
        let bytes: Uint8Array;
        try {
          bytes = readFileSync(join(folder, candidate));
        } catch {
          continue;
        }
        return fileBytes(join(folder, candidate), bytes);
      }
      throw new FormatError(`${path}: refers to '${other}', which is not in ${folder}`);
    },
  };
}

/**
 * Imports the model file at `path` (TF.js model.json or .min.js wrapper, .onnx, a minibatch
 * .safetensors model file) onto a built Module with the source's layer names.
 *
 * @example
 * const model = await loadFile('node_modules/nsfwjs/dist/models/mobilenet_v2/model.min.js');
 */
export async function loadFile(path: string, options: LoadOptions = {}): Promise<Module> {
  return load(await readModelFiles(path), options);
}

/** Describes the model file at `path` without importing it. */
export async function inspectFile(path: string, options: LoadOptions = {}): Promise<Inspection> {
  return inspect(await readModelFiles(path), options);
}

/** The folder of an installed package, found from its entry point (exports maps hide package.json and data files). */
function packageDir(name: string, from: string): string | null {
  let dir: string;
  try {
    dir = dirname(createRequire(join(from, 'noop.js')).resolve(name));
  } catch {
    return null;
  }
  while (dir !== dirname(dir)) {
    try {
      if (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name === name) return dir;
    } catch {
      // not the package root: keep walking up
    }
    dir = dirname(dir);
  }
  return null;
}

/**
 * A model file named in a config: a path relative to `base` (the config's folder), or inside
 * an installed npm package ('nsfwjs/dist/models/mobilenet_v2/model.min.js'), looked up from
 * `base`, the working directory, and this package.
 */
export function resolveModelPath(file: string, base: string): string {
  const local = isAbsolute(file) ? file : resolve(base, file);
  if (existsSync(local)) return local;
  const parts = file.split('/');
  const name = file.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  const rest = parts.slice(file.startsWith('@') ? 2 : 1).join('/');
  for (const from of [base, process.cwd(), dirname(new URL(import.meta.url).pathname)]) {
    const dir = packageDir(name, from);
    if (dir !== null && existsSync(join(dir, rest))) return join(dir, rest);
  }
  throw new FileError(`no model file '${file}': not a file next to the config (${local}), nor a path inside an installed package`);
}
