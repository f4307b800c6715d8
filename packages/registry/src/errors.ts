import type { z } from 'zod';

/** What went wrong, for code that wants to branch on it rather than parse the message. */
export type RegistryErrorCode =
  | 'unknown-kind'
  | 'unknown-name'
  | 'invalid-config'
  | 'duplicate'
  | 'invalid-spec'
  | 'not-serializable';

/**
 * The one error type the registry throws. The message is written for a person (what was
 * asked, what is known, what to do); `code` is for programs.
 *
 * @example
 * try { registry.create('optimizer', 'adma'); }
 * catch (e) { if (e instanceof RegistryError && e.code === 'unknown-name') console.error(e.message); }
 */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
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

/** ['betas', 1] -> 'betas[1]'; the root is called 'config' so the line still reads. */
function showPath(path: readonly PropertyKey[]): string {
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
function expected(issue: z.core.$ZodIssue, knownKeys: readonly string[]): string {
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
    case 'unrecognized_keys':
      return issue.keys
        .map((key) => {
          const near = suggest(key, knownKeys);
          return `unknown key '${key}'${near ? ` (did you mean '${near}'?)` : ''}`;
        })
        .join('; ');
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
 * One readable message from zod issues, one line per bad field:
 * `invalid config for optimizer 'adam':\n  - lr: expected a number > 0, got -1`.
 * Issues need `input`, so parse with `{ reportInput: true }`.
 */
export function formatIssues(kind: string, name: string, issues: readonly z.core.$ZodIssue[], knownKeys: readonly string[] = []): string {
  const lines = issues.map((issue) => {
    const what = expected(issue, issue.path.length === 0 ? knownKeys : []);
    if (issue.code === 'unrecognized_keys') return `  - ${showPath(issue.path)}: ${what}`;
    const got = issue.input === undefined ? 'but it is missing' : `got ${show(issue.input)}`;
    return `  - ${showPath(issue.path)}: ${what}, ${got}`;
  });
  return `invalid config for ${kind} '${name}':\n${lines.join('\n')}`;
}
