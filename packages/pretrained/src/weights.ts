// Loading weights by name into a module defined in code: the path for files that hold weights
// but no architecture (TF.js weights manifests and graph models, foreign safetensors files).
import type { Module } from '@minibatch/layers';
import { FormatError } from '@minibatch/train';

/** A named weight: shape and float32 values. */
export interface NamedWeight {
  shape: readonly number[];
  data: Float32Array;
}

export interface LoadWeightsOptions {
  /**
   * Source weight name → the module's parameter or buffer path: a table, or a function that
   * returns null for a weight to skip. Default: the names are the paths.
   */
  map?: Record<string, string> | ((name: string) => string | null);
  /** Refuse source weights that no parameter takes (default true). */
  strict?: boolean;
  /** Where the weights come from, for messages. */
  source?: string;
}

/**
 * Copies `weights` into `model` (built) by name. Every parameter and buffer must receive a
 * weight of its shape, and (strict) every weight must be used; all problems are listed
 * together and nothing is written when there is any.
 *
 * @example
 * loadWeights(model, readTfjsWeights(files), { map: (name) => name.replace(/\//g, '.') });
 */
export function loadWeights(model: Module, weights: ReadonlyMap<string, NamedWeight> | Record<string, NamedWeight>, options: LoadWeightsOptions = {}): void {
  const source = options.source ?? 'weights';
  const entries = weights instanceof Map ? [...weights] : Object.entries(weights);
  const map = options.map;
  const pathOf = (name: string): string | null => (map === undefined ? name : typeof map === 'function' ? map(name) : (map[name] ?? null));
  if (!model.built) throw new FormatError(`${source}: build the model first (model.build(inputShape)), so it has parameters to load into`);
  const targets = new Map([...model.namedParameters(), ...model.namedBuffers()]);
  const state: Record<string, NamedWeight> = {};
  const problems: string[] = [];
  for (const [name, w] of entries) {
    const path = pathOf(name);
    if (path === null || !targets.has(path)) {
      if (options.strict ?? true) problems.push(`weight '${name}' [${w.shape.join(', ')}] goes to ${path === null ? 'no parameter' : `'${path}', which the model does not have`}`);
      continue;
    }
    if (state[path] !== undefined) problems.push(`two weights go to '${path}' (the second is '${name}')`);
    state[path] = w;
  }
  for (const [path, t] of targets) if (state[path] === undefined) problems.push(`no weight for '${path}' [${t.shape.join(', ')}]`);
  if (problems.length === 0) {
    try {
      model.loadStateDict(state as never);
      return;
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  throw new FormatError(`${source}: the weights do not fit the model; nothing was loaded:\n  - ${problems.slice(0, 20).join('\n  - ')}${problems.length > 20 ? `\n  - … (${problems.length} problems)` : ''}`);
}
