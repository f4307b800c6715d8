// Containers: Sequential (a chain of layers) and Residual (x + block(x), He et al. 2016).
import { type Rng, ShapeError, type Tensor, add, isGradEnabled, scope } from '@minibatch/core';
import { RegistryError, createAt, z, type JsonPath, type Registry } from '@minibatch/registry';
import type { Activation } from './activations.js';
import { Conv2d } from './conv.js';
import { Dense } from './dense.js';
import { Module } from './module.js';
import { resolveActivation } from './resolve.js';
import { fmtShape, namedSpec, parseConfig, positiveInt, sameShape, type NamedSpec } from './util.js';

/** A layer in a config: 'relu', { name: 'dense', config: { units: 10 } }, or a full spec with kind 'layer'. */
export const layerSpecSchema = z.union([
  z.string().min(1),
  z.strictObject({
    kind: z.literal('layer').optional(),
    name: z.string().min(1),
    config: z.record(z.string(), z.unknown()).optional(),
    /** false: the layer is frozen (Module.setTrainable). */
    trainable: z.boolean().optional(),
  }),
], { error: 'a layer name, or { "name": "dense", "config": { "units": 10 } } (kind, if given, must be "layer")' });
export type LayerSpec = z.input<typeof layerSpecSchema>;

/**
 * Creates a layer from a spec through the registry; the result must be a Module. `path`
 * locates the spec in an enclosing document for messages (['model', 3] → 'model[3].config.units').
 */
export function layerFromSpec(registry: Registry, spec: LayerSpec, path: JsonPath = []): Module {
  const parsed = layerSpecSchema.safeParse(spec);
  if (!parsed.success) {
    const extra = spec !== null && typeof spec === 'object' && !Array.isArray(spec) && typeof (spec as { name?: unknown }).name === 'string'
      ? Object.keys(spec).filter((k) => !['kind', 'name', 'config', 'trainable'].includes(k)) : [];
    if (extra.length > 0) {
      // The common slip: a layer option put beside "config" instead of inside it.
      throw new RegistryError('invalid-spec', `unknown key '${extra[0]}' beside "name" and "config" — a layer's options go inside "config"`, { path: [...path, extra[0]] });
    }
    throw new RegistryError('invalid-spec', `expected a layer name, or { "name": "dense", "config": { "units": 10 } } (kind, if given, must be "layer"), got ${JSON.stringify(spec)?.slice(0, 80)}`, { path });
  }
  const s = parsed.data;
  const [name, config] = typeof s === 'string' ? [s, {}] : [s.name, s.config ?? {}];
  const layer = createAt(registry, 'layer', name, config, path);
  if (!(layer instanceof Module)) throw new TypeError(`layer '${name}' from the registry is not a Module (got ${typeof layer})`);
  if (typeof s !== 'string' && s.trainable === false) layer.setTrainable(false);
  return layer;
}

export const sequentialSchema = z.strictObject({
  layers: z.array(layerSpecSchema),
  /** Per-sample input shape: lets summary() run from the config alone. Building stays explicit. */
  inputShape: z.array(positiveInt).optional(),
  seed: z.number().int().optional(),
  label: z.string().optional(),
});

export interface SequentialOptions {
  inputShape?: readonly number[] | undefined;
  seed?: number | undefined;
  label?: string | undefined;
}

/**
 * Layers applied in order; children are named '0', '1', … (parameter paths '0.weight').
 *
 * @example
 * const model = new Sequential([new Dense({ units: 128, activation: 'relu' }), new Dense({ units: 10 })]);
 * model.build([784], new Rng(42));
 * const logits = model.forward(x);
 */
export class Sequential extends Module {
  readonly name = 'sequential';
  readonly inputShape: number[] | undefined;
  private readonly list: Module[] = [];

  constructor(layers: readonly Module[] = [], options: SequentialOptions = {}, registry?: Registry) {
    super(options, registry);
    this.inputShape = options.inputShape?.slice();
    for (const layer of layers) this.add(layer);
  }

  /** Builds from a parsed config, creating each layer spec through the registry. */
  static fromConfig(registry: Registry, config: z.input<typeof sequentialSchema>): Sequential {
    const c = parseConfig('layer', 'sequential', sequentialSchema, config);
    return new Sequential(c.layers.map((s, i) => layerFromSpec(registry, s, ['layers', i])), c, registry);
  }

  get layers(): readonly Module[] {
    return this.list;
  }

  get length(): number {
    return this.list.length;
  }

  /** Appends a layer (before the model is built). */
  add(layer: Module): this {
    if (!(layer instanceof Module)) throw new TypeError(`sequential: expected a layer (Module), got ${typeof layer}`);
    if (this.built) throw new Error('sequential: cannot add a layer after the model is built');
    this.addModule(String(this.list.length), layer);
    this.list.push(layer);
    return this;
  }

  outputShape(inputShape: readonly number[]): number[] {
    return this.list.reduce<number[]>((shape, layer, i) => {
      try {
        return layer.outputShape(shape);
      } catch (e) {
        if (e instanceof ShapeError) throw new ShapeError(`layer ${i} (${layer.label ?? layer.name}) of ${this.label ?? this.name}: ${e.message}`);
        throw e;
      }
    }, [...inputShape]);
  }

  protected override childShapes(inputShape: readonly number[]): [string, Module, number[]][] {
    const rows: [string, Module, number[]][] = [];
    let shape = [...inputShape];
    this.list.forEach((layer, i) => {
      rows.push([String(i), layer, shape]);
      shape = layer.outputShape(shape);
    });
    return rows;
  }

  protected override createState(inputShape: number[], rng: Rng): void {
    let shape = inputShape;
    for (const layer of this.list) shape = layer.build(shape, rng.fork());
  }

  protected override defaultInputShape(): number[] | null {
    return this.builtInputShape ?? this.inputShape?.slice() ?? null;
  }

  forward(x: Tensor): Tensor {
    this.ensureBuilt(x);
    const recording = isGradEnabled();
    // A layer that records no gradient (inference, or frozen with an input that needs none) runs
    // in its own scope, and its input goes as soon as it is done: nothing on the tape holds it.
    return this.list.reduce((h, layer) => {
      if (recording && (h.requiresGrad || layer.parameters().some((p) => p.requiresGrad))) return layer.forward(h);
      const y = scope(() => layer.forward(h));
      if (h !== x && h !== y) h.dispose();
      return y;
    }, x);
  }

  protected override layerConfig(): Record<string, unknown> {
    return {
      layers: this.list.map((l) => l.toSpec()),
      ...(this.inputShape !== undefined ? { inputShape: this.inputShape } : {}),
      ...(this.seed !== undefined ? { seed: this.seed } : {}),
    };
  }
}

export const residualSchema = z.strictObject({
  block: z.array(layerSpecSchema).min(1),
  /**
   * 'auto': a linear projection of x when the block changes the shape (a dense layer for
   * [features], a strided 1×1 convolution for images; no bias); 'always'; 'none' (shapes
   * must then match).
   */
  projection: z.enum(['auto', 'always', 'none']).default('auto'),
  /** Applied after the sum (ResNet v1 puts a ReLU there). */
  activation: namedSpec.nullable().optional(),
  seed: z.number().int().optional(),
  label: z.string().optional(),
});

export interface ResidualOptions {
  projection?: 'auto' | 'always' | 'none';
  activation?: NamedSpec | null | undefined;
  seed?: number | undefined;
  label?: string | undefined;
}

/**
 * output = activation(block(x) + shortcut(x)), shortcut = x or a projection of x.
 * Children: 'block' (a Sequential) and, when needed, 'projection'.
 *
 * @example
 * new Residual([new Conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
 *               new Conv2d({ filters: 16, kernelSize: 3, padding: 'same' })], { activation: 'relu' });
 */
export class Residual extends Module {
  readonly name = 'residual';
  readonly block: Sequential;
  readonly mode: 'auto' | 'always' | 'none';
  readonly activation: Activation | null;
  private readonly activationSpec: NamedSpec | null;
  private projectionLayer: Module | null = null;

  constructor(block: readonly Module[] | Sequential, options: ResidualOptions = {}, registry?: Registry) {
    super(options, registry);
    this.block = this.addModule('block', block instanceof Sequential ? block : new Sequential(block, {}, registry));
    if (this.block.length === 0) throw new TypeError('residual: the block needs at least one layer');
    this.mode = options.projection ?? 'auto';
    if (!['auto', 'always', 'none'].includes(this.mode)) throw new TypeError(`residual: projection must be 'auto', 'always' or 'none', got '${this.mode}'`);
    this.activationSpec = options.activation ?? null;
    this.activation = this.activationSpec === null ? null : resolveActivation(this.activationSpec, registry, ['activation']);
  }

  static fromConfig(registry: Registry, config: z.input<typeof residualSchema>): Residual {
    const c = parseConfig('layer', 'residual', residualSchema, config);
    return new Residual(c.block.map((s, i) => layerFromSpec(registry, s, ['block', i])), c, registry);
  }

  /** The projection layer, once built (null when the shortcut is the identity). */
  get projection(): Module | null {
    return this.projectionLayer;
  }

  private needsProjection(inputShape: readonly number[], blockOut: readonly number[]): boolean {
    if (this.mode === 'always') return true;
    const same = sameShape(inputShape, blockOut);
    if (!same && this.mode === 'none') {
      throw new ShapeError(`${this.name}: the block maps ${fmtShape(inputShape)} to ${fmtShape(blockOut)}, so x cannot be added; use projection: 'auto'`);
    }
    return !same;
  }

  private makeProjection(inputShape: readonly number[], blockOut: readonly number[]): Module {
    if (inputShape.length === 1 && blockOut.length === 1) return new Dense({ units: blockOut[0], useBias: false }, this.registry);
    if (inputShape.length === 3 && blockOut.length === 3) {
      // A strided 1×1 convolution ('valid': output = ceil(input / stride)), as ResNet's option B.
      const strides: [number, number] = [Math.ceil(inputShape[0] / blockOut[0]), Math.ceil(inputShape[1] / blockOut[1])];
      return new Conv2d({ filters: blockOut[2], kernelSize: 1, strides, useBias: false }, this.registry);
    }
    throw new ShapeError(`${this.name}: cannot project ${fmtShape(inputShape)} to ${fmtShape(blockOut)} (only [features] → [features] and [h, w, c] → [h', w', c'])`);
  }

  private projectionFor(inputShape: readonly number[], blockOut: readonly number[]): Module | null {
    if (!this.needsProjection(inputShape, blockOut)) return null;
    const projection = this.projectionLayer ?? this.makeProjection(inputShape, blockOut);
    const out = projection.outputShape(inputShape);
    if (!sameShape(out, blockOut)) {
      throw new ShapeError(`${this.name}: the block gives ${fmtShape(blockOut)} but a strided 1×1 projection of ${fmtShape(inputShape)} gives ${fmtShape(out)}; make the block's output size ceil(input / stride)`);
    }
    return projection;
  }

  outputShape(inputShape: readonly number[]): number[] {
    const out = this.block.outputShape(inputShape);
    this.projectionFor(inputShape, out);
    return out;
  }

  protected override childShapes(inputShape: readonly number[]): [string, Module, number[]][] {
    const rows: [string, Module, number[]][] = [];
    let shape = [...inputShape];
    this.block.layers.forEach((layer, i) => {
      rows.push([`block.${i}`, layer, shape]);
      shape = layer.outputShape(shape);
    });
    const projection = this.projectionFor(inputShape, this.block.outputShape(inputShape));
    if (projection !== null) rows.push(['projection', projection, [...inputShape]]);
    return rows;
  }

  protected override createState(inputShape: number[], rng: Rng): void {
    const out = this.block.build(inputShape, rng.fork());
    const projectionRng = rng.fork();
    const projection = this.projectionFor(inputShape, out);
    if (projection !== null) {
      if (this.projectionLayer === null) this.projectionLayer = this.addModule('projection', projection);
      projection.build(inputShape, projectionRng);
    }
  }

  forward(x: Tensor): Tensor {
    this.ensureBuilt(x);
    const y = this.block.forward(x);
    const shortcut = this.projectionLayer === null ? x : this.projectionLayer.forward(x);
    if (!sameShape(y.shape, shortcut.shape)) {
      throw new ShapeError(`${this.name}: block output ${fmtShape(y.shape)} and shortcut ${fmtShape(shortcut.shape)} differ (the block was built for ${fmtShape(this.builtInputShape ?? [])})`);
    }
    const sum = add(y, shortcut);
    return this.activation === null ? sum : this.activation.apply(sum);
  }

  protected override layerConfig(): Record<string, unknown> {
    return {
      block: this.block.layers.map((l) => l.toSpec()),
      projection: this.mode,
      ...(this.activationSpec !== null ? { activation: this.activationSpec } : {}),
      ...(this.seed !== undefined ? { seed: this.seed } : {}),
    };
  }
}
