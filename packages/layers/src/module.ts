// The Module base: named parameters and buffers, train/eval modes, building for an input
// shape, state dicts, configs and a printable summary. Layers are written from core ops.
import { Rng, ShapeError, type Tensor, full, keep } from '@minibatch/core';
import type { Registry, Spec } from '@minibatch/registry';

/** A layer's spec as JSON: its registry spec, plus `trainable: false` when the layer is frozen. */
export type LayerSpecJSON = Spec & { trainable?: false };
import type { Initializer } from './initializers.js';
import { checkShape, fmtShape, jsonClone, sameShape, sizeOf } from './util.js';

/**
 * What a parameter is, for regularizers and optimizers that treat groups differently
 * (weight decay and max-norm apply to 'weight' only, by convention):
 *   'weight' — dense and conv kernels;  'bias' — additive biases;
 *   'norm'   — BatchNorm's scale γ and shift β.
 */
export type ParamKind = 'weight' | 'bias' | 'norm';

/** A parameter a layer creates when it is built. */
export interface ParamSpec {
  name: string;
  shape: number[];
  kind: ParamKind;
  init: Initializer;
  fanIn?: number;
  fanOut?: number;
}

/** A non-trained state tensor (BatchNorm's running statistics), filled with `value`. */
export interface BufferSpec {
  name: string;
  shape: number[];
  value: number;
}

export interface ParameterInfo {
  /** Dotted path from this module: '0.weight', 'block.1.gamma'. */
  name: string;
  tensor: Tensor;
  kind: ParamKind;
  /** The module that owns the parameter. */
  module: Module;
  /** False for a frozen parameter: it gets no gradient and optimizers leave it alone. */
  trainable: boolean;
}

/** Values by dotted path: parameters and buffers, as copies. */
export type StateDict = Record<string, { shape: number[]; data: Float32Array }>;

/** What loadStateDict() accepts: data may be any array of numbers (e.g. from JSON). */
export type StateDictInput = Record<string, { shape: readonly number[]; data: ArrayLike<number> }>;

/** A state dict that does not fit the model; `problems` has one line per entry. */
export class StateDictError extends Error {
  override readonly name = 'StateDictError';
  constructor(message: string, readonly problems: string[]) {
    super(message);
  }
}

/** A child module, the (first) input shape it sees, and every input's shape when it has several. */
export type ChildShape = [name: string, module: Module, inputShape: number[], inputShapes?: number[][]];

/** One layer of a model for a given input shape: what summary() prints and size checks read. */
export interface LayerRow {
  /** Dotted path from the model ('0', 'block.1'); '' for the model itself. */
  path: string;
  /** The label, or the path, with the layer type: 'conv1 (conv2d)'. */
  label: string;
  module: Module;
  /** Nesting depth (children of the model: 0). */
  depth: number;
  inputShape: number[];
  outputShape: number[];
  /** Parameters of this layer and everything inside it. */
  params: number;
  /** True for a layer without children (where the work happens). */
  leaf: boolean;
}
/**
 * Base class of every layer and model.
 *
 * Shapes given to build() and outputShape() are per sample (no batch dimension); tensors given
 * to forward() have the batch dimension first. Parameters are created once, at the first
 * build(inputShape, rng?) or lazily at the first forward(), from the generator chosen by the
 * seed rule: the layer's own `seed` config if it has one, else the `rng` passed to build(),
 * else `new Rng(0)`. Containers hand each child `rng.fork()` in order, so a child's weights
 * depend on its position, not on the sizes of the layers before it.
 *
 * @example
 * class Scale extends Module {
 *   readonly name = 'scale';
 *   outputShape(s: readonly number[]) { return [...s]; }
 *   protected override parameterSpecs(s: readonly number[]) {
 *     return [{ name: 'weight', shape: [s[s.length - 1]], kind: 'weight' as const, init: initializers.constant({ value: 1 }) }];
 *   }
 *   forward(x: Tensor) { this.ensureBuilt(x); return mul(x, this.param('weight')); }
 * }
 */
export abstract class Module {
  /** Registry kind, read by registry.serialize(). */
  readonly kind = 'layer' as const;
  /** Registry name of the layer ('dense', 'conv2d', …): a static string, safe from minifiers. */
  abstract readonly name: string;
  /** A user-given name for this instance, shown by summary() and kept in the config. */
  label: string | undefined;
  /** Training mode (batch statistics in BatchNorm); set with train() / eval(). */
  training = true;
  /**
   * False when the layer is frozen (setTrainable(false)): its parameters get no gradients (no
   * work is spent on them in backward), optimizers leave them alone, and BatchNorm uses its
   * running statistics even in training mode — the transfer-learning setup.
   */
  trainable = true;
  /** The registry that created this layer, used to resolve nested names. */
  protected readonly registry: Registry | undefined;
  /** A fixed seed for this layer's parameters (config `seed`), overriding the build rng. */
  protected seed: number | undefined;
  private readonly params = new Map<string, { tensor: Tensor; kind: ParamKind }>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly modules = new Map<string, Module>();
  private builtFor: number[] | null = null;

  constructor(options: { label?: string | undefined; seed?: number | undefined } = {}, registry?: Registry) {
    this.label = options.label;
    this.seed = options.seed;
    this.registry = registry;
  }

  /**
   * The output shape (no batch) for an input shape (no batch). Pure: creates nothing;
   * throws a ShapeError naming the layer when the input does not fit.
   */
  abstract outputShape(inputShape: readonly number[]): number[];

  /** Runs the layer on a batch (batch dimension first). Builds the layer on first use. */
  abstract forward(x: Tensor): Tensor;

  /** The parameters a leaf layer needs for an input shape (used by build and summary). */
  protected parameterSpecs(_inputShape: readonly number[]): ParamSpec[] {
    return [];
  }

  /** The buffers a leaf layer needs for an input shape. */
  protected bufferSpecs(_inputShape: readonly number[]): BufferSpec[] {
    return [];
  }

  /** The layer's own config fields (without `label`); getConfig() adds the label. */
  protected layerConfig(): Record<string, unknown> {
    return {};
  }

  /**
   * Child modules with the input shape each would see for `inputShape` (and, for a child with
   * several inputs, all of them): what containers override so summary() can walk them without
   * building.
   */
  protected childShapes(_inputShape: readonly number[]): ChildShape[] {
    return [];
  }

  /** Whether parameters have been created. */
  get built(): boolean {
    return this.builtFor !== null;
  }

  /** The per-sample input shape the layer was built for, or null. */
  get builtInputShape(): number[] | null {
    return this.builtFor === null ? null : this.builtFor.slice();
  }

  /**
   * Creates the parameters for a per-sample `inputShape` (once; later calls only check the
   * shape) and returns the per-sample output shape.
   */
  build(inputShape: readonly number[], rng?: Rng): number[] {
    const shape = checkShape(this.name, inputShape);
    const out = this.outputShape(shape); // checks everything before anything is created
    if (this.builtFor === null) {
      this.createState(shape, this.seed !== undefined ? new Rng(this.seed) : (rng ?? new Rng(0)));
      this.builtFor = shape;
    }
    return out;
  }

  /** Creates parameters and buffers from the specs; containers build their children instead. */
  protected createState(inputShape: number[], rng: Rng): void {
    for (const spec of this.parameterSpecs(inputShape)) {
      const options = { rng, ...(spec.fanIn !== undefined ? { fanIn: spec.fanIn } : {}), ...(spec.fanOut !== undefined ? { fanOut: spec.fanOut } : {}) };
      const tensor = spec.init(spec.shape, options);
      if (!sameShape(tensor.shape, spec.shape)) {
        throw new ShapeError(`${this.name}: initializer '${spec.init.name}' gave ${fmtShape(tensor.shape)} for parameter '${spec.name}' ${fmtShape(spec.shape)}`);
      }
      this.addParameter(spec.name, tensor, spec.kind);
    }
    for (const spec of this.bufferSpecs(inputShape)) this.addBuffer(spec.name, full(spec.shape, spec.value));
  }

  /** Builds on the first forward, from the batch's per-sample shape. */
  protected ensureBuilt(x: Tensor): void {
    if (this.builtFor === null) {
      if (x.rank < 1) throw new ShapeError(`${this.name}: expected a batch (batch dimension first), got a scalar`);
      this.build(x.shape.slice(1));
    }
  }

  /** Registers a parameter: kept alive (not freed by scopes) and requiring gradients unless the layer is frozen. */
  protected addParameter(name: string, tensor: Tensor, kind: ParamKind): Tensor {
    this.checkName(name);
    keep(tensor);
    tensor.setRequiresGrad(this.trainable);
    this.params.set(name, { tensor, kind });
    return tensor;
  }

  /** Registers a buffer: kept alive, no gradient, saved in the state dict. */
  protected addBuffer(name: string, tensor: Tensor): Tensor {
    this.checkName(name);
    keep(tensor);
    this.buffers.set(name, tensor);
    return tensor;
  }

  /** Registers a child module under `name` (a path segment). */
  protected addModule<M extends Module>(name: string, module: M): M {
    this.checkName(name);
    this.modules.set(name, module);
    return module;
  }

  private checkName(name: string): void {
    if (name === '' || name.includes('.')) throw new TypeError(`${this.name}: '${name}' is not a valid parameter or module name (non-empty, no dots)`);
    if (this.params.has(name) || this.buffers.has(name) || this.modules.has(name)) {
      throw new TypeError(`${this.name}: '${name}' is already registered`);
    }
  }

  /** This layer's own parameter by name (throws if the layer is not built). */
  protected param(name: string): Tensor {
    const p = this.params.get(name);
    if (p === undefined) throw new Error(`${this.name}: parameter '${name}' does not exist (is the layer built?)`);
    return p.tensor;
  }

  protected buffer(name: string): Tensor {
    const b = this.buffers.get(name);
    if (b === undefined) throw new Error(`${this.name}: buffer '${name}' does not exist (is the layer built?)`);
    return b;
  }

  /** Direct children, in order. */
  children(): [string, Module][] {
    return [...this.modules];
  }

  /** Every parameter with its dotted path, kind and owner: own parameters first, then children's. */
  parameterInfo(prefix = ''): ParameterInfo[] {
    const own: ParameterInfo[] = [...this.params].map(([name, p]) => ({ name: prefix + name, tensor: p.tensor, kind: p.kind, module: this, trainable: this.trainable }));
    return own.concat(...[...this.modules].map(([name, m]) => m.parameterInfo(`${prefix}${name}.`)));
  }

  /** [path, tensor] of every parameter ('0.weight', 'block.1.gamma'). */
  namedParameters(): [string, Tensor][] {
    return this.parameterInfo().map((p) => [p.name, p.tensor]);
  }

  parameters(): Tensor[] {
    return this.parameterInfo().map((p) => p.tensor);
  }

  /** The parameters that are not frozen: what an optimizer should update. */
  trainableParameters(): Tensor[] {
    return this.parameterInfo().filter((p) => p.trainable).map((p) => p.tensor);
  }

  /**
   * Freezes (false) or unfreezes (true) this module and everything inside it; see `trainable`.
   * An optimizer built before the change keeps its parameter groups: build it after freezing.
   */
  setTrainable(flag: boolean): this {
    this.trainable = flag;
    for (const p of this.params.values()) p.tensor.setRequiresGrad(flag);
    for (const m of this.modules.values()) m.setTrainable(flag);
    return this;
  }

  /** The kind of the parameter at a dotted path: 'weight', 'bias' or 'norm'. */
  paramKind(name: string): ParamKind {
    const found = this.parameterInfo().find((p) => p.name === name);
    if (found === undefined) {
      const known = this.parameterInfo().map((p) => p.name);
      throw new Error(`paramKind: no parameter '${name}'; parameters: ${known.length > 0 ? known.join(', ') : '(none — is the model built?)'}`);
    }
    return found.kind;
  }

  /** [path, tensor] of every buffer (non-trained state such as running statistics). */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const own: [string, Tensor][] = [...this.buffers].map(([name, t]) => [prefix + name, t]);
    return own.concat(...[...this.modules].map(([name, m]) => m.namedBuffers(`${prefix}${name}.`)));
  }

  /** Number of trainable values. */
  parameterCount(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /** Sets training mode on this module and every child; returns this. */
  train(mode = true): this {
    this.training = mode;
    for (const m of this.modules.values()) m.train(mode);
    return this;
  }

  /** Evaluation mode (running statistics in BatchNorm); returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Frees the gradients of every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Copies of every parameter and buffer by dotted path. */
  stateDict(): StateDict {
    const state: StateDict = {};
    for (const [name, t] of [...this.namedParameters(), ...this.namedBuffers()]) state[name] = { shape: [...t.shape], data: t.data() };
    return state;
  }

  /**
   * Loads values saved by stateDict() into the built model. Every entry is checked first;
   * on any missing, unexpected (unless `strict: false`) or mis-shaped entry it throws a
   * StateDictError listing all of them, and nothing is written.
   */
  loadStateDict(state: StateDictInput, options: { strict?: boolean } = {}): void {
    const strict = options.strict ?? true;
    if (state === null || typeof state !== 'object') throw new TypeError(`loadStateDict: expected an object of { shape, data } entries, got ${String(state)}`);
    const targets = new Map<string, Tensor>([...this.namedParameters(), ...this.namedBuffers()]);
    const problems: string[] = [];
    for (const [name, t] of targets) {
      if (!(name in state)) problems.push(`missing: '${name}' ${fmtShape(t.shape)}`);
    }
    for (const [name, entry] of Object.entries(state)) {
      const t = targets.get(name);
      const shape = entry?.shape;
      const validShape = Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0);
      if (t === undefined) {
        if (strict) problems.push(`unexpected: '${name}'${validShape ? ` ${fmtShape(shape)}` : ''}`);
        continue;
      }
      if (!validShape) {
        problems.push(`bad entry: '${name}' needs { shape: number[], data: numbers }, got shape ${JSON.stringify(shape)}`);
      } else if (!sameShape(shape, t.shape)) {
        problems.push(`shape mismatch: '${name}' is ${fmtShape(t.shape)} in the model but ${fmtShape(shape)} in the state`);
      } else if (entry.data === null || typeof entry.data !== 'object' || entry.data.length !== sizeOf(shape)) {
        problems.push(`bad entry: '${name}' ${fmtShape(shape)} needs ${sizeOf(shape)} values, got ${entry.data?.length ?? String(entry.data)}`);
      }
    }
    if (problems.length > 0) {
      const hint = targets.size === 0 && !this.built ? ' The model is not built: call model.build(inputShape) first.' : '';
      throw new StateDictError(`loadStateDict: the state does not fit this model; nothing was loaded.${hint}\n  - ${problems.join('\n  - ')}`, problems);
    }
    for (const [name, t] of targets) {
      const data = state[name].data;
      const view = t.view();
      for (let i = 0; i < view.length; i++) {
        const v = data[i];
        if (typeof v !== 'number') throw new StateDictError(`loadStateDict: '${name}' has a non-number at index ${i}`, [name]);
        view[i] = v;
      }
    }
  }

  /** The layer's config as plain JSON (what the registry serializes). */
  getConfig(): Record<string, unknown> {
    return jsonClone({ ...this.layerConfig(), ...(this.label !== undefined ? { label: this.label } : {}) });
  }

  /** { kind: 'layer', name, config }: the registry spec of this layer, with `trainable: false` when frozen. */
  toSpec(): LayerSpecJSON {
    return { kind: 'layer', name: this.name, config: this.getConfig(), ...(this.trainable ? {} : { trainable: false as const }) };
  }

  /**
   * The output shape for the shapes of every input. One input for ordinary layers (this is
   * outputShape); merge layers (add, concatenate) take several, inside a Graph.
   */
  outputShapeOf(inputShapes: readonly (readonly number[])[]): number[] {
    if (inputShapes.length !== 1) throw new ShapeError(`${this.name}: takes one input, got ${inputShapes.length}`);
    return this.outputShape(inputShapes[0]);
  }

  /** Runs the layer on its inputs (one for ordinary layers; see outputShapeOf). */
  forwardMany(inputs: readonly Tensor[]): Tensor {
    if (inputs.length !== 1) throw new ShapeError(`${this.name}: takes one input, got ${inputs.length}`);
    return this.forward(inputs[0]);
  }

  /**
   * A table of the layers with output shapes and parameter counts, and the totals. Works on
   * unbuilt models too (it creates nothing). Default input shape: the built one, or a
   * Sequential's configured `inputShape`.
   *
   * @example
   * console.log(model.summary([784]));
   */
  summary(inputShape?: readonly number[]): string {
    const shape = inputShape ?? this.defaultInputShape();
    if (shape === null) throw new TypeError(`summary(): pass the per-sample input shape, e.g. model.summary([28, 28, 1])`);
    const input = checkShape(`${this.name} summary`, shape);
    const rows: LayerRow[] = [];
    const total = this.collectRows(input, '', 0, rows, true);
    const buffers = this.countBuffers(input);
    const fmtOut = (s: number[]): string => `[batch${s.map((d) => `, ${d}`).join('')}]`;
    const cells = rows.map((r) => [`${'  '.repeat(r.depth)}${r.label}`, fmtOut(r.outputShape), r.params.toLocaleString('en-US')]);
    const header = ['Layer (type)', 'Output shape', 'Params'];
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const line = (c: string[]): string => `${c[0].padEnd(widths[0])}   ${c[1].padEnd(widths[1])}   ${c[2].padStart(widths[2])}`;
    const rule = '─'.repeat(widths[0] + widths[1] + widths[2] + 6);
    return [
      `Input: ${fmtOut(input)}`,
      line(header),
      rule,
      ...cells.map(line),
      rule,
      `Total params: ${total.toLocaleString('en-US')} (${((total * 4) / 1024).toFixed(1)} KiB float32)`,
      `Non-trainable buffers: ${buffers.toLocaleString('en-US')}`,
    ].join('\n');
  }

  /**
   * Every layer inside this module for a per-sample input shape, in order (a container before
   * its children), with shapes and parameter counts. Pure: works on unbuilt models and
   * creates nothing, so sizes can be checked before any memory is taken. A leaf model gives
   * one row for itself.
   */
  layerTable(inputShape: readonly number[]): LayerRow[] {
    const rows: LayerRow[] = [];
    this.collectRows(checkShape(`${this.name} layerTable`, inputShape), '', 0, rows, true);
    return rows;
  }

  protected defaultInputShape(): number[] | null {
    return this.builtInputShape;
  }

  /** Own parameter count for an input shape: the real tensors when built, else the specs. */
  private ownParamCount(inputShape: readonly number[]): number {
    if (this.built) return [...this.params.values()].reduce((n, p) => n + p.tensor.size, 0);
    return this.parameterSpecs(inputShape).reduce((n, s) => n + sizeOf(s.shape), 0);
  }

  private countBuffers(inputShape: readonly number[]): number {
    const own = this.built
      ? [...this.buffers.values()].reduce((n, t) => n + t.size, 0)
      : this.bufferSpecs(inputShape).reduce((n, s) => n + sizeOf(s.shape), 0);
    return this.childShapes(inputShape).reduce((n, [, m, s]) => n + m.countBuffers(s), own);
  }

  /** Adds rows for this module (containers: for their children) and returns its parameter count. */
  private collectRows(inputShape: number[], path: string, depth: number, rows: LayerRow[], root: boolean, inputShapes?: number[][]): number {
    const out = inputShapes === undefined ? this.outputShape(inputShape) : this.outputShapeOf(inputShapes);
    const children = this.childShapes(inputShape);
    const type = `(${this.name})`;
    const label = `${this.label ?? (path === '' ? this.name : path)}${this.label === undefined && path === '' ? '' : ` ${type}`}`;
    const row: LayerRow = { path, label, module: this, depth, inputShape: [...inputShape], outputShape: out, params: this.ownParamCount(inputShape), leaf: children.length === 0 };
    // The root container lists its children at depth 0 without a row of its own.
    if (!root || row.leaf) rows.push(row);
    for (const [name, child, shape, shapes] of children) {
      row.params += child.collectRows(shape, path === '' ? name : `${path}.${name}`, root ? depth : depth + 1, rows, false, shapes);
    }
    return row.params;
  }

  /** Frees every parameter and buffer (and their gradients); the module is unbuilt again. */
  dispose(): void {
    for (const p of this.params.values()) p.tensor.dispose();
    for (const b of this.buffers.values()) b.dispose();
    this.params.clear();
    this.buffers.clear();
    for (const m of this.modules.values()) m.dispose();
    this.builtFor = null;
  }
}
