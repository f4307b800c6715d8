// Node built-ins, reached through process.getBuiltinModule (as core does) so that importing
// this package in a browser bundle pulls in no node: module; only the file loaders need them.
import type * as Fs from 'node:fs';
import type * as Path from 'node:path';
import type * as Zlib from 'node:zlib';
import type * as Module from 'node:module';

interface Builtins {
  'node:fs': typeof Fs;
  'node:path': typeof Path;
  'node:zlib': typeof Zlib;
  'node:module': typeof Module;
}

/** A Node built-in module, or undefined outside Node. */
export function maybeBuiltin<K extends keyof Builtins>(id: K): Builtins[K] | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return proc?.getBuiltinModule?.(id) as Builtins[K] | undefined;
}

/** A Node built-in module; `what` names the feature that needs it, for the error. */
export function builtin<K extends keyof Builtins>(id: K, what: string): Builtins[K] {
  const mod = maybeBuiltin(id);
  if (mod === undefined) {
    throw new Error(`${what} reads files and needs Node.js ≥ 20.16 (process.getBuiltinModule('${id}') is not available here)`);
  }
  return mod;
}

/** An environment variable, or undefined (also outside Node). */
export function env(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const value = proc?.env?.[name];
  return value === undefined || value === '' ? undefined : value;
}
