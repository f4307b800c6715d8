// Helpers shared by the regularizers: config parsing for direct construction, the zod
// pieces of the schemas, and parameter selection by kind and dotted path.
import { ArgumentError } from '@minibatch/core';
import type { Module, ParamKind, ParameterInfo } from '@minibatch/layers';
import { z } from '@minibatch/registry';

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export { parseConfig } from '@minibatch/registry';
/** A JSON copy without undefined fields (what getConfig() returns). */
export function jsonClone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A drop probability: 0 ≤ rate < 1 (rate 1 would drop everything and divide by zero). */
export const rateSchema = z.number().min(0).lt(1);
export const seedSchema = z.number().int().optional();
export const labelSchema = z.string().optional();

/** Checks a rate given outside a config (a setter), naming the owner. */
export function checkRate(owner: string, rate: number): number {
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
    throw new ArgumentError(`${owner}: invalid rate: ${rate} — expected a drop probability in [0, 1)`);
  }
  return rate;
}

// ------------------------------------------------------------------ parameter selection

const PARAM_KINDS = ['weight', 'bias', 'norm'] as const;

/**
 * Which parameters of a model a penalty or a constraint acts on. Default: every parameter
 * of kind 'weight' (dense and conv kernels), none of the biases or BatchNorm γ/β.
 */
export const selectionSchema = {
  /** Parameter kinds to include (default ['weight']). */
  kinds: z.array(z.enum(PARAM_KINDS)).min(1).default(['weight']),
  /**
   * Dotted-path patterns ('0.weight', '2.*', 'block.**'); default: every path. '*' matches
   * within one path segment, '**' across segments. A parameter must match a pattern and
   * have one of `kinds`.
   */
  paths: z.array(z.string().min(1)).min(1).optional(),
};

export interface Selection {
  kinds?: readonly ParamKind[];
  paths?: readonly string[] | undefined;
}

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (ch === '*') {
      source += '[^.]*';
    } else {
      source += ch.replace(/[\\^$+?.()|[\]{}]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

/** Whether a dotted parameter path matches a pattern ('*' within a segment, '**' across). */
export function matchesPath(path: string, pattern: string): boolean {
  return globToRegExp(pattern).test(path);
}

/**
 * The parameters of `model` a selection names. When `paths` are given and nothing matches,
 * it throws and lists the parameters (a typo in a path should not silently penalize nothing).
 */
export function selectParameters(owner: string, model: Module, selection: Selection): ParameterInfo[] {
  const kinds = selection.kinds ?? ['weight'];
  const all = model.parameterInfo();
  const patterns = selection.paths?.map(globToRegExp);
  const chosen = all.filter((p) => kinds.includes(p.kind) && (patterns === undefined || patterns.some((re) => re.test(p.name))));
  if (chosen.length === 0 && selection.paths !== undefined) {
    const known = all.map((p) => `${p.name} (${p.kind})`);
    throw new ArgumentError(
      `${owner}: no parameter of kind ${kinds.map((k) => `'${k}'`).join(' or ')} matches paths ${JSON.stringify(selection.paths)}; ` +
        `parameters: ${known.length > 0 ? known.join(', ') : '(none — is the model built?)'}`,
    );
  }
  return chosen;
}

