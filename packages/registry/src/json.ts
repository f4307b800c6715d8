// JSON text from outside (configs, model-file metadata) parsed within bounds, so a hostile or
// broken document is a clear error rather than a stack overflow deep inside a validator or a
// heap that fills for minutes. JSON.parse itself does not recurse in V8; everything after it
// (validation, stringify, building objects) may, so depth is checked right after parsing.
import { RegistryError, formatPath } from './errors.js';

export interface JsonLimits {
  /** Largest text accepted, in bytes (UTF-16 code units, close enough for a bound). */
  maxBytes: number;
  /** Deepest nesting of arrays and objects accepted. */
  maxDepth: number;
}

/** What configs are held to: 16 MiB of text, 64 levels of nesting. */
export const JSON_LIMITS: Readonly<JsonLimits> = Object.freeze({ maxBytes: 16 * 2 ** 20, maxDepth: 64 });

/**
 * JSON.parse within limits; every failure is a RegistryError with code 'invalid-json' that
 * names `source` (a file name) and, for nesting, the path where the limit was passed.
 *
 * @example
 * parseJson('{"a": [[[1]]]}', { source: 'run.json', maxDepth: 2 });
 * // RegistryError: run.json: nested deeper than 2 levels at a[0][0]
 */
export function parseJson(text: string, options: Partial<JsonLimits> & { source?: string } = {}): unknown {
  const { maxBytes, maxDepth } = { ...JSON_LIMITS, ...options };
  const source = options.source ?? 'JSON';
  if (typeof text !== 'string') throw new RegistryError('invalid-json', `${source}: expected JSON text, got ${typeof text}`);
  if (text.length > maxBytes) {
    throw new RegistryError('invalid-json', `${source}: ${(text.length / 2 ** 20).toFixed(1)} MiB of text is more than the ${(maxBytes / 2 ** 20).toFixed(0)} MiB a config may have`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RegistryError('invalid-json', `${source}: not valid JSON (${(error as Error).message})`);
  }
  checkNesting(value, { source, maxDepth });
  return value;
}

/**
 * Refuses a parsed value nested deeper than `maxDepth` (default 64), naming the path; for
 * values that did not come through parseJson (built in code, or from structured clone).
 */
export function checkNesting(value: unknown, options: { source?: string; maxDepth?: number } = {}): void {
  const maxDepth = options.maxDepth ?? JSON_LIMITS.maxDepth;
  const tooDeep = deeperThan(value, maxDepth);
  if (tooDeep !== null) {
    // Where the nesting starts matters; its 64 levels of [0][0]… do not.
    const shown = tooDeep.length > 10 ? `${formatPath(tooDeep.slice(0, 8))}…` : formatPath(tooDeep);
    throw new RegistryError('invalid-json', `${options.source ?? 'JSON'}: nested deeper than ${maxDepth} levels at ${shown}`);
  }
}

/** The path of the first container below `maxDepth` levels, or null; iterative, so any depth is safe. */
function deeperThan(value: unknown, maxDepth: number): (string | number)[] | null {
  const stack: [unknown, (string | number)[]][] = [[value, []]];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (path.length >= maxDepth) return path;
    if (Array.isArray(v)) v.forEach((item, i) => stack.push([item, [...path, i]]));
    else for (const [key, item] of Object.entries(v)) stack.push([item, [...path, key]]);
  }
  return null;
}
