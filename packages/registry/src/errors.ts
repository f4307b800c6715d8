import type { z } from 'zod';

/** What went wrong, for code that wants to branch on it rather than parse the message. */
export type RegistryErrorCode =
  | 'unknown-kind'
  | 'unknown-name'
  | 'invalid-config'
  | 'duplicate'
  | 'invalid-spec'
  | 'invalid-json'
  | 'not-serializable';

/** A place inside a JSON document: keys and array indices, e.g. ['model', 3, 'config', 'units']. */
export type JsonPath = readonly (string | number)[];

/** One bad field of a config: where it is (relative to the config) and what is wrong with it. */
export interface ConfigIssue {
  readonly path: JsonPath;
  /** "unknown key 'unitz' (did you mean 'units'?)", "expected a number > 0, got -1". */
  readonly text: string;
}

/**
 * The one error type the registry throws. The message is written for a person (what was
 * asked, what is known, what to do); `code` is for programs. An error raised inside a larger
 * document (a layer of a model in a run config) is located with `at(path)`, so the message
 * names the full path: `model[3].config.unitz`.
 *
 * @example
 * try { registry.create('optimizer', 'adma'); }
 * catch (e) { if (e instanceof RegistryError && e.code === 'unknown-name') console.error(e.message); }
 */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  /** The bad fields of an 'invalid-config' error (empty for the other codes). */
  readonly issues: readonly ConfigIssue[];
  /** Where in the enclosing document the error happened (empty: at the top). */
  readonly path: JsonPath;
  /** What the config was for ("optimizer 'adam'"), for 'invalid-config' errors. */
  readonly subject: string | undefined;
  readonly #bare: string;

  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    options?: { cause?: unknown; issues?: readonly ConfigIssue[]; subject?: string; path?: JsonPath },
  ) {
    const issues = options?.issues ?? [];
    const path = options?.path ?? [];
    super(render(message, options?.subject, issues, path), options?.cause === undefined ? undefined : { cause: options.cause });
    this.issues = issues;
    this.path = path;
    this.subject = options?.subject;
    this.#bare = message;
  }

  /** The same error, located at `prefix` inside an enclosing document. */
  at(prefix: JsonPath): RegistryError {
    if (prefix.length === 0) return this;
    return new RegistryError(this.code, this.#bare, {
      cause: this.cause, issues: this.issues, path: [...prefix, ...this.path], ...(this.subject !== undefined ? { subject: this.subject } : {}),
    });
  }
}

function render(message: string, subject: string | undefined, issues: readonly ConfigIssue[], path: JsonPath): string {
  if (issues.length === 0) return path.length === 0 ? message : `${formatPath(path)}: ${message}`;
  const where = path.length === 0 ? '' : ` at ${formatPath(path)}`;
  const lines = issues.map((issue) => `  - ${formatPath([...path, ...issue.path])}: ${issue.text}`);
  return `invalid config for ${subject ?? 'this'}${where}:\n${lines.join('\n')}`;
}

/**
 * Runs `fn`; a RegistryError it throws is located at `path` (see RegistryError.at), so nested
 * configs report full paths. Other errors pass through unchanged.
 */
export function locate<T>(path: JsonPath, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof RegistryError) throw error.at(path);
    throw error;
  }
}

/** Optimal-string-alignment distance: Levenshtein plus adjacent swaps, so 'adma' is 1 from 'adam'. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * The closest known name, or undefined when nothing is close. Case is ignored ('Adam' finds
 * 'adam'); the threshold grows slowly with length so short names only forgive one slip.
 */
export function suggest(input: string, known: readonly string[]): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(input.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const distance = editDistance(input.toLowerCase(), name.toLowerCase());
    if (distance <= limit && distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return best;
}

/** 'optimizer' -> 'optimizers', 'loss' -> 'losses', for "Known losses: ...". */
export function plural(word: string): string {
  if (/(s|x|z|ch|sh)$/.test(word)) return `${word}es`;
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  return `${word}s`;
}

/** A value as a person would type it, cut short so one huge array can't drown the message. */
export function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return String(value); // JSON would turn NaN into null
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value); // cycles
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** ['model', 3, 'config'] -> 'model[3].config'; the root is called 'config' so the line still reads. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || 'config';
}

function bound(issue: { origin: string; inclusive?: boolean; exact?: boolean }, size: number | bigint, op: string): string {
  const count = issue.exact ? 'exactly' : op === '>' ? 'at least' : 'at most';
  if (issue.origin === 'string') return `a string of ${count} ${size} characters`;
  if (issue.origin === 'array' || issue.origin === 'set') return `${count} ${size} items`;
  if (issue.origin === 'file') return `a file of ${count} ${size} bytes`;
  return `a ${issue.origin} ${op}${issue.inclusive ? '=' : ''} ${size}`;
}

/** What the schema wanted, in words. Zod's own messages are the fallback (refine() texts are already written for people). */
function expected(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'too_small':
      return `expected ${bound(issue, issue.minimum, '>')}`;
    case 'too_big':
      return `expected ${bound(issue, issue.maximum, '<')}`;
    case 'invalid_value':
      return `expected ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map(show).join(', ')}`;
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}`;
    case 'invalid_format':
      return issue.format === 'regex' ? `expected a string matching ${issue.pattern}` : `expected a valid ${issue.format}`;
    case 'invalid_union': {
      // When every branch failed on the type alone, "number or string" says it all.
      const kinds = issue.errors.map((branch) => (branch.length === 1 && branch[0].code === 'invalid_type' && branch[0].path.length === 0 ? branch[0].expected : undefined));
      return kinds.length > 0 && kinds.every(Boolean) ? `expected ${kinds.join(' or ')}` : `expected one of the allowed forms (${issue.message})`;
    }
    default:
      return issue.message;
  }
}

/**
 * The bad fields of a failed parse, in words: `{ path: ['lr'], text: 'expected a number > 0, got -1' }`.
 * Issues need `input`, so parse with `{ reportInput: true }`. `knownKeys(path)` gives the keys an
 * object at `path` allows, for did-you-mean on unknown keys.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], knownKeys: (path: readonly PropertyKey[]) => readonly string[] = () => []): ConfigIssue[] {
  return issues.flatMap((issue) => {
    const path = issue.path.map((k) => (typeof k === 'number' ? k : String(k)));
    if (issue.code === 'unrecognized_keys') {
      // One line per key, located at the key itself: 'layers[3].config.unitz'.
      const known = knownKeys(issue.path);
      return issue.keys.map((key) => {
        const near = suggest(key, known);
        return { path: [...path, key], text: `unknown key '${key}'${near ? ` (did you mean '${near}'?)` : ''}` };
      });
    }
    if (issue.code === 'invalid_union') {
      // The value had the right type for exactly one form (an object where "a name, or
      // { name, config }" was allowed): report what is wrong inside that form.
      const fitting = issue.errors.filter((branch) => !branch.some((b) => b.code === 'invalid_type' && b.path.length === 0));
      // Only for objects (issues inside the value); a scalar's own union message says more.
      if (fitting.length === 1 && fitting[0].every((b) => b.path.length > 0 || b.code === 'unrecognized_keys')) {
        return describeIssues(fitting[0].map((b) => ({ ...b, path: [...issue.path, ...b.path] })), knownKeys);
      }
    }
    const got = issue.input === undefined ? 'but it is missing' : `got ${show(issue.input)}`;
    return [{ path, text: `${expected(issue)}, ${got}` }];
  });
}
