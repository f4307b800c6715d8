// Graph: a DAG of named layers, each node taking the outputs of earlier nodes (or the graph's
// input) — the functional models of Keras and the graphs of ONNX, where Sequential's chain is
// not enough (residual adds, concatenations). Node names are the children's names, so a
// parameter path reads like the source network: 'block_1_expand.weight'.
import { ShapeError, type Rng, type Tensor, isGradEnabled, scope } from '@minibatch/core';
import { RegistryError, suggest, z, type Registry } from '@minibatch/registry';
import { layerFromSpec, layerSpecSchema } from './containers.js';
import { Merge } from './merge.js';
import { Module, type ChildShape } from './module.js';
import { fmtShape, parseConfig, positiveInt } from './util.js';

export const graphSchema = z.strictObject({
  /** The name of the graph's input, or the names of its inputs. */
  input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).default('input'),
  /** With several inputs: the per-sample shape of each input after the first (the first comes with the batch). */
  extraInputShapes: z.array(z.array(positiveInt)).optional(),
  /** The nodes in an order where every node comes after the nodes it reads. */
  nodes: z.array(z.strictObject({ name: z.string().min(1), layer: layerSpecSchema, inputs: z.array(z.string().min(1)).min(1) })).min(1),
  /** The nodes whose values the graph returns; forward() returns the first. Default: the last node. */
  outputs: z.array(z.string().min(1)).min(1).optional(),
  /** Per-sample input shape: lets summary() run from the config alone. */
  inputShape: z.array(positiveInt).optional(),
  seed: z.number().int().optional(),
  label: z.string().optional(),
});

/** A node: its name (unique in the graph), its layer, and the names of the values it reads, in order. */
export interface GraphNode {
  name: string;
  layer: Module;
  inputs: readonly string[];
}

export interface GraphOptions {
  input?: string | readonly string[];
  extraInputShapes?: readonly (readonly number[])[];
  outputs?: readonly string[];
  inputShape?: readonly number[] | undefined;
  seed?: number | undefined;
  label?: string | undefined;
}

/**
 * A directed acyclic graph of named layers. Merge layers (add, concatenate) take several
 * inputs; every other layer one. Where no gradient is recorded (inference, a frozen part)
 * each node runs in its own memory scope and each value is freed as soon as the last node
 * that reads it has run, so memory holds a few activations, not the whole network's. A graph usually has one input; with
 * several, `run([a, b, …])` takes one batch each, and `extraInputShapes` gives the per-sample
 * shapes of all but the first (which build() and the first batch give).
 *
 * @example
 * const block = new Graph([
 *   { name: 'conv', layer: new Conv2d({ filters: 8, kernelSize: 3, padding: 'same' }), inputs: ['input'] },
 *   { name: 'relu', layer: new ReLU(), inputs: ['conv'] },
 *   { name: 'sum', layer: new Add(), inputs: ['relu', 'input'] },
 * ]);
 * block.forward(x);  // x: [n, h, w, 8]
 */
export class Graph extends Module {
  readonly name = 'graph';
  /** The first input's name. */
  readonly input: string;
  readonly inputs: readonly string[];
  readonly extraInputShapes: number[][];
  readonly outputs: readonly string[];
  readonly nodes: readonly GraphNode[];
  readonly inputShape: number[] | undefined;
  /** Per node: the values whose last reader it is (freed after it in inference). */
  private readonly releaseAfter: string[][];

  constructor(nodes: readonly GraphNode[], options: GraphOptions = {}, registry?: Registry) {
    super(options, registry);
    this.inputs = typeof options.input === 'string' || options.input === undefined ? [options.input ?? 'input'] : [...options.input];
    this.input = this.inputs[0];
    this.extraInputShapes = (options.extraInputShapes ?? []).map((shape) => [...shape]);
    if (this.extraInputShapes.length !== this.inputs.length - 1) {
      throw new RegistryError('invalid-config', `a graph with ${this.inputs.length} inputs needs extraInputShapes for the ${this.inputs.length - 1} after the first, got ${this.extraInputShapes.length}`, { path: ['extraInputShapes'] });
    }
    this.inputShape = options.inputShape?.slice();
    const defined = new Set<string>();
    this.inputs.forEach((name, k) => {
      if (defined.has(name)) throw new RegistryError('invalid-config', `input '${name}' is named twice`, { path: ['input', k] });
      defined.add(name);
    });
    const layers = new Set<Module>();
    nodes.forEach((node, i) => {
      if (defined.has(node.name)) throw new RegistryError('invalid-config', `node '${node.name}' is defined twice (names are unique, the input's included)`, { path: ['nodes', i, 'name'] });
      if (!(node.layer instanceof Module)) throw new TypeError(`graph: node '${node.name}' has no layer (Module)`);
      if (layers.has(node.layer)) throw new TypeError(`graph: node '${node.name}' reuses a layer instance of an earlier node; give each node its own layer`);
      node.inputs.forEach((name, k) => {
        if (!defined.has(name)) {
          const later = nodes.slice(i + 1).some((n) => n.name === name);
          const near = suggest(name, [...defined]);
          throw new RegistryError('invalid-config', later
            ? `node '${node.name}' reads '${name}', which comes after it; list nodes so that each comes after what it reads`
            : `node '${node.name}' reads '${name}', which is not the input or an earlier node${near ? ` (did you mean '${near}'?)` : ''}`, { path: ['nodes', i, 'inputs', k] });
        }
      });
      if (node.inputs.length > 1 && !(node.layer instanceof Merge)) {
        throw new RegistryError('invalid-config', `node '${node.name}' reads ${node.inputs.length} values, but its layer '${node.layer.name}' takes one (merge layers — add, concatenate, … — take several)`, { path: ['nodes', i, 'inputs'] });
      }
      if (node.name.includes('.')) throw new RegistryError('invalid-config', `node name '${node.name}' has a dot; dots separate parameter paths — use another character`, { path: ['nodes', i, 'name'] });
      this.addModule(node.name, node.layer);
      defined.add(node.name);
      layers.add(node.layer);
    });
    if (nodes.length === 0) throw new TypeError('graph: needs at least one node');
    this.nodes = nodes.map((n) => ({ name: n.name, layer: n.layer, inputs: [...n.inputs] }));
    this.outputs = [...(options.outputs ?? [nodes[nodes.length - 1].name])];
    this.outputs.forEach((name, k) => {
      if (!defined.has(name)) {
        const near = suggest(name, [...defined]);
        throw new RegistryError('invalid-config', `output '${name}' is not a node${near ? ` (did you mean '${near}'?)` : ''}`, { path: ['outputs', k] });
      }
    });
    const lastUse = new Map<string, number>();
    this.nodes.forEach((node, i) => node.inputs.forEach((name) => lastUse.set(name, i)));
    this.releaseAfter = this.nodes.map(() => []);
    for (const [name, i] of lastUse) if (!this.inputs.includes(name) && !this.outputs.includes(name)) this.releaseAfter[i].push(name);
  }

  /** Builds from a parsed config, creating each node's layer through the registry. */
  static fromConfig(registry: Registry, config: z.input<typeof graphSchema>): Graph {
    const c = parseConfig('layer', 'graph', graphSchema, config);
    const nodes = c.nodes.map((n, i) => ({ name: n.name, inputs: n.inputs, layer: layerFromSpec(registry, n.layer, ['nodes', i, 'layer']) }));
    return new Graph(nodes, c, registry);
  }

  /** The node named `name`, or undefined. */
  node(name: string): GraphNode | undefined {
    return this.nodes.find((n) => n.name === name);
  }

  /** Every value's per-sample shape for the first input's shape, in node order; a ShapeError names the node that does not fit. */
  shapes(inputShape: readonly number[]): Map<string, number[]> {
    const shapes = new Map<string, number[]>(this.inputs.map((name, k) => [name, k === 0 ? [...inputShape] : this.extraInputShapes[k - 1]]));
    for (const node of this.nodes) {
      const ins = node.inputs.map((n) => shapes.get(n)!);
      try {
        shapes.set(node.name, node.layer.outputShapeOf(ins));
      } catch (e) {
        if (e instanceof ShapeError) throw new ShapeError(`node '${node.name}' (${node.layer.name}) of ${this.label ?? this.name}, input ${ins.map(fmtShape).join(' and ')}: ${e.message}`);
        throw e;
      }
    }
    return shapes;
  }

  outputShape(inputShape: readonly number[]): number[] {
    return this.shapes(inputShape).get(this.outputs[0])!;
  }

  protected override childShapes(inputShape: readonly number[]): ChildShape[] {
    const shapes = this.shapes(inputShape);
    return this.nodes.map((node) => {
      const ins = node.inputs.map((n) => shapes.get(n)!);
      return ins.length > 1 ? [node.name, node.layer, ins[0], ins] : [node.name, node.layer, ins[0]];
    });
  }

  protected override createState(inputShape: number[], rng: Rng): void {
    const shapes = this.shapes(inputShape);
    for (const node of this.nodes) {
      const child = rng.fork(); // one fork per node, built or not, so a node's weights depend on its position only
      if (node.inputs.length === 1 && !(node.layer instanceof Merge)) node.layer.build(shapes.get(node.inputs[0])!, child);
    }
  }

  protected override defaultInputShape(): number[] | null {
    return this.builtInputShape ?? this.inputShape?.slice() ?? null;
  }

  forward(x: Tensor): Tensor {
    return this.run(x)[0];
  }

  /**
   * The values of every output node for a batch x (or, for several inputs, a batch of each).
   * A node that records no gradient (inference, or a frozen part while the rest trains) runs in
   * its own memory scope, and a value no recorded op has read is freed after its last reader:
   * a frozen backbone costs the memory of inference, not of training.
   */
  run(x: Tensor | readonly Tensor[]): Tensor[] {
    const given = Array.isArray(x) ? (x as readonly Tensor[]) : [x as Tensor];
    if (given.length !== this.inputs.length) throw new ShapeError(`${this.label ?? this.name}: takes ${this.inputs.length} input batches (${this.inputs.join(', ')}), got ${given.length}`);
    this.ensureBuilt(given[0]);
    const values = new Map<string, Tensor>(this.inputs.map((name, k) => [name, given[k]]));
    const recording = isGradEnabled();
    const captured = new Set<string>(); // values a recorded op holds for its backward
    this.nodes.forEach((node, i) => {
      const ins = node.inputs.map((n) => values.get(n)!);
      const records = recording && (ins.some((t) => t.requiresGrad) || node.layer.parameters().some((p) => p.requiresGrad));
      if (records) node.inputs.forEach((n) => captured.add(n));
      values.set(node.name, records ? node.layer.forwardMany(ins) : scope(() => node.layer.forwardMany(ins)));
      for (const name of this.releaseAfter[i]) {
        const t = values.get(name)!;
        if (captured.has(name) || t.requiresGrad) continue;
        values.delete(name);
        // A layer may pass its input through (identity): free only what nothing else still holds.
        if (!given.includes(t) && ![...values.values()].includes(t)) t.dispose();
      }
    });
    return this.outputs.map((n) => values.get(n)!);
  }

  protected override layerConfig(): Record<string, unknown> {
    return {
      input: this.inputs.length === 1 ? this.input : this.inputs,
      ...(this.inputs.length > 1 ? { extraInputShapes: this.extraInputShapes } : {}),
      nodes: this.nodes.map((n) => ({ name: n.name, layer: n.layer.toSpec(), inputs: n.inputs })),
      outputs: this.outputs,
      ...(this.inputShape !== undefined ? { inputShape: this.inputShape } : {}),
      ...(this.seed !== undefined ? { seed: this.seed } : {}),
    };
  }
}
