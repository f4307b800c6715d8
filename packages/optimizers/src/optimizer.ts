// A thin PyTorch-like wrapper over gradient transforms: step(), zeroGrad(), parameter
// groups (each with its own options, or frozen), and a state dict for checkpoints.
import { ArgumentError, Tensor, noGrad, scope, zeros } from '@minibatch/core';
import { isStateful, type PlateauState } from './schedules.js';
import { type SaveOptions, type SavedState, type TransformState, checkState, disposeState, loadState, saveState } from './state.js';
import { type GradientTransformation, applyUpdates } from './transform.js';

/** A parameter group: its tensors, and options that override the optimizer's for them. */
export type ParamGroup<O extends object = Record<string, never>> = {
  params: readonly Tensor[];
  /** Frozen: never updated, no state (fine-tuning). */
  frozen?: boolean;
  /** A label for messages and state dicts. */
  name?: string;
} & Partial<O>;

/** Parameters: one list (one group), or a list of groups. */
export type ParamsArg<O extends object = Record<string, never>> = readonly Tensor[] | readonly ParamGroup<O>[];

/** How a named optimizer turns options into a transform (see optimizers.ts). */
export interface OptimizerRecipe<O extends object> {
  /** Registry name ('adam'). */
  readonly name: string;
  readonly defaults: Readonly<O>;
  /** Checks options (merged over the defaults), naming any bad value. */
  validate(options: Partial<O>, owner: string): O;
  build(options: O): GradientTransformation;
  /** The options as JSON config (schedules as specs). */
  config(options: O): Record<string, unknown>;
}

/** One group as the optimizer holds it. */
export interface Group<O extends object = Record<string, never>> {
  readonly params: readonly Tensor[];
  readonly options: Readonly<O>;
  readonly frozen: boolean;
  readonly name: string | undefined;
  readonly transform: GradientTransformation;
  /** The transform's state; null while frozen. */
  readonly state: TransformState | null;
}

/** What stateDict() returns: plain data (Float32Array or number[] tensor data). */
export interface OptimizerStateDict {
  format: 'minibatch-optimizer';
  version: 1;
  optimizer: string;
  steps: number;
  groups: {
    name: string | null;
    shapes: number[][];
    frozen: boolean;
    state: SavedState | null;
    /** State of a stateful learning-rate schedule (reduce-on-plateau), else null. */
    schedule: PlateauState | null;
  }[];
}

type MutableGroup<O extends object> = { -readonly [K in keyof Group<O>]: Group<O>[K] };

const GROUP_KEYS = ['params', 'frozen', 'name'];

function isTransform(x: unknown): x is GradientTransformation {
  return typeof (x as GradientTransformation)?.init === 'function' && typeof (x as GradientTransformation)?.update === 'function';
}

/**
 * Drives a gradient transform over parameters, PyTorch style.
 *
 * @example
 * const opt = new Optimizer(params, chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(1e-3)));
 * scope(() => { loss(params).backward(); });
 * opt.step();
 * opt.zeroGrad();
 */
export class Optimizer<O extends object = Record<string, never>> {
  readonly kind = 'optimizer' as const;
  /** Registry name for named optimizers ('adam'), else the transform's name. */
  readonly name: string;
  readonly #recipe: OptimizerRecipe<O> | null;
  readonly #transform: GradientTransformation | null;
  readonly #defaults: O;
  readonly #groups: MutableGroup<O>[] = [];
  #steps = 0;
  #disposed = false;

  /**
   * @param params a list of tensors (one group) or a list of groups, or nothing (add groups later)
   * @param transform a gradient transform (every group gets its own state), or a recipe that builds one per group's options
   * @param options the defaults every group starts from (recipes only)
   */
  constructor(params: ParamsArg<O> | undefined, transform: GradientTransformation | OptimizerRecipe<O>, options: Partial<O> = {}) {
    if (isTransform(transform)) {
      this.#recipe = null;
      this.#transform = transform;
      this.name = transform.name;
      if (Object.keys(options).length > 0) throw new ArgumentError(`Optimizer: options are for named optimizers; ${transform.name} is a transform — configure it where it is built`);
      this.#defaults = {} as O;
    } else if (transform !== null && typeof transform === 'object' && typeof (transform as OptimizerRecipe<O>).build === 'function') {
      this.#recipe = transform;
      this.#transform = null;
      this.name = transform.name;
      this.#defaults = transform.validate(options, transform.name);
    } else {
      throw new ArgumentError(`Optimizer: expected a gradient transform (init, update) or an optimizer recipe, got ${String(transform)}`);
    }
    if (params === undefined) return;
    if (!Array.isArray(params)) throw new ArgumentError(`${this.name}: params must be an array of tensors or of parameter groups, got ${typeof params}`);
    if (params.length === 0) return;
    if (params.every((p) => p instanceof Tensor)) this.addParamGroup({ params } as unknown as ParamGroup<O>);
    else for (const g of params as readonly ParamGroup<O>[]) this.addParamGroup(g);
  }

  /** The groups, in order. */
  get groups(): readonly Group<O>[] {
    return this.#groups;
  }

  /** How many times step() has run. */
  get steps(): number {
    return this.#steps;
  }

  /** The options every group starts from. */
  get defaults(): Readonly<O> {
    return this.#defaults;
  }

  /** Adds a group (a list of tensors, or a group with its own options). Its state starts fresh. */
  addParamGroup(group: ParamGroup<O> | readonly Tensor[]): this {
    this.#alive();
    const g: ParamGroup<O> = Array.isArray(group) ? ({ params: group } as unknown as ParamGroup<O>) : (group as ParamGroup<O>);
    const where = `${this.name}: parameter group ${this.#groups.length}`;
    if (g === null || typeof g !== 'object' || !Array.isArray(g.params)) throw new ArgumentError(`${where}: expected { params: Tensor[], … }, got ${String(g)}`);
    g.params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new ArgumentError(`${where}: params[${i}] is not a Tensor (got ${typeof p})`);
      if (p.disposed) throw new ArgumentError(`${where}: params[${i}] was already freed`);
    });
    const seen = new Set(this.#groups.flatMap((x) => x.params));
    const inner = new Set<Tensor>();
    for (const p of g.params) {
      if (seen.has(p) || inner.has(p)) throw new ArgumentError(`${where}: tensor #${p.id} appears more than once across the groups; a parameter belongs to one group`);
      inner.add(p);
    }
    const { params, frozen = false, name, ...rest } = g as ParamGroup<O> & Record<string, unknown>;
    if (typeof frozen !== 'boolean') throw new ArgumentError(`${where}: frozen must be true or false, got ${String(frozen)}`);
    const options = this.#options(rest as Partial<O>, where);
    const transform = this.#build(options);
    this.#groups.push({ params: params.slice(), options, frozen, name, transform, state: frozen ? null : transform.init(params) });
    return this;
  }

  /**
   * Changes a group's options (learning rate, weight decay, frozen, …). Its state carries
   * over when the new options keep its structure; switching a stateful part on or off
   * (momentum) throws, as silently resetting moments would change the run.
   */
  setGroupOptions(index: number, options: Partial<O> & { frozen?: boolean }): void {
    this.#alive();
    const g = this.#groups[index];
    if (g === undefined) throw new ArgumentError(`${this.name}.setGroupOptions: no group ${index} (there are ${this.#groups.length})`);
    const { frozen = g.frozen, ...rest } = options as Partial<O> & { frozen?: boolean };
    const merged = this.#options({ ...(g.options as object), ...rest } as Partial<O>, `${this.name}: parameter group ${index}`, true);
    const transform = this.#build(merged);
    let state: TransformState | null = null;
    if (!frozen) {
      state = transform.init(g.params);
      if (g.state !== null) {
        try {
          state = loadState(state, saveState(g.state), `group ${index}`);
        } catch (e) {
          disposeState(state);
          throw new ArgumentError(`${this.name}.setGroupOptions: these options change the shape of the optimizer state of group ${index}; create a new optimizer instead (${(e as Error).message})`);
        }
      }
    }
    if (g.state !== null) disposeState(g.state);
    Object.assign(g, { options: merged, transform, frozen, state });
  }

  /** One update of every group that is not frozen, from each parameter's .grad (a missing grad counts as zero). */
  step(): void {
    this.#alive();
    scope(() =>
      noGrad(() => {
        for (const g of this.#groups) {
          if (g.frozen || g.params.length === 0) continue;
          const grads = g.params.map((p) => p.grad ?? zeros(p.shape));
          const t = g.transform;
          if (t.updateAndApply !== undefined) {
            g.state = t.updateAndApply(grads, g.state!, g.params);
          } else {
            const [updates, state] = t.update(grads, g.state!, g.params);
            g.state = state;
            applyUpdates(g.params, updates);
          }
        }
      }),
    );
    this.#steps++;
  }

  /** Frees the gradients of every parameter (frozen ones too). */
  zeroGrad(): void {
    for (const g of this.#groups) for (const p of g.params) p.zeroGrad();
  }

  /** Registry config: the optimizer-wide options (named optimizers only). */
  getConfig(): Record<string, unknown> {
    if (this.#recipe === null) {
      throw new ArgumentError(`${this.name}: an Optimizer over a hand-built transform has no config; use a named optimizer (Adam, SGD, …) to save it by name`);
    }
    return this.#recipe.config(this.#defaults);
  }

  /** Everything needed to continue the exact run: step count and each group's state. */
  stateDict(options: SaveOptions = {}): OptimizerStateDict {
    this.#alive();
    return {
      format: 'minibatch-optimizer',
      version: 1,
      optimizer: this.name,
      steps: this.#steps,
      groups: this.#groups.map((g) => {
        const lr = (g.options as { lr?: unknown }).lr;
        return {
          name: g.name ?? null,
          shapes: g.params.map((p) => p.shape.slice()),
          frozen: g.frozen,
          state: g.state === null ? null : saveState(g.state, options),
          schedule: isStateful(lr) ? lr.getState() : null,
        };
      }),
    };
  }

  /**
   * Restores a state dict into this optimizer, built like the saved one (same optimizer,
   * groups and shapes). Everything is checked before anything is written.
   */
  loadStateDict(dict: OptimizerStateDict): void {
    this.#alive();
    const where = `${this.name}.loadStateDict`;
    if (dict === null || typeof dict !== 'object' || dict.format !== 'minibatch-optimizer' || dict.version !== 1) {
      throw new ArgumentError(`${where}: not an optimizer state dict (expected format 'minibatch-optimizer', version 1)`);
    }
    if (dict.optimizer !== this.name) throw new ArgumentError(`${where}: the state is of a '${dict.optimizer}' optimizer, this is '${this.name}'`);
    if (!Number.isInteger(dict.steps) || dict.steps < 0) throw new ArgumentError(`${where}: steps must be an integer ≥ 0, got ${String(dict.steps)}`);
    if (!Array.isArray(dict.groups) || dict.groups.length !== this.#groups.length) {
      throw new ArgumentError(`${where}: the state has ${Array.isArray(dict.groups) ? dict.groups.length : 'no'} groups, this optimizer ${this.#groups.length}`);
    }
    this.#groups.forEach((g, i) => {
      const saved = dict.groups[i];
      if (saved.frozen !== g.frozen) throw new ArgumentError(`${where}: group ${i} is ${g.frozen ? '' : 'not '}frozen here but was ${saved.frozen ? '' : 'not '}when saved`);
      if (g.state !== null) checkState(g.state, saved.state, `group ${i}`);
    });
    this.#groups.forEach((g, i) => {
      const saved = dict.groups[i];
      if (g.state !== null) g.state = loadState(g.state, saved.state, `group ${i}`);
      const lr = (g.options as { lr?: unknown }).lr;
      if (isStateful(lr) && saved.schedule !== null) lr.setState(saved.schedule);
    });
    this.#steps = dict.steps;
  }

  /** Frees the optimizer state (not the parameters). The optimizer is unusable afterwards. */
  dispose(): void {
    for (const g of this.#groups) if (g.state !== null) disposeState(g.state);
    this.#groups.length = 0;
    this.#disposed = true;
  }

  #alive(): void {
    if (this.#disposed) throw new ArgumentError(`${this.name}: this optimizer was disposed`);
  }

  #options(overrides: Partial<O>, where: string, replace = false): O {
    if (this.#recipe === null) {
      const extra = Object.keys(overrides).filter((k) => !GROUP_KEYS.includes(k));
      if (extra.length > 0) throw new ArgumentError(`${where}: options (${extra.join(', ')}) need a named optimizer; this one runs a fixed transform`);
      return {} as O;
    }
    return this.#recipe.validate(replace ? overrides : ({ ...this.#defaults, ...overrides } as Partial<O>), where);
  }

  #build(options: O): GradientTransformation {
    return this.#recipe === null ? this.#transform! : this.#recipe.build(options);
  }
}
