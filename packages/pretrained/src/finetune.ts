// Transfer learning, the lectures' recipe as a small API: find layers by their source names,
// freeze the part that stays, cut the network at any named layer (mid-network taps transfer
// best), put a new head on top, and — when everything below the head is frozen — compute the
// backbone's features once and train the head on them.
import { Rng, ShapeError, noGrad, scope, tensor } from '@minibatch/core';
import { createDataset, type Dataset } from '@minibatch/data';
import { Graph, Module, Sequential } from '@minibatch/layers';
import { RegistryError, suggest } from '@minibatch/registry';
import { fit, type FitOptions, type History } from '@minibatch/train';

/** A layer inside a model: its dotted path from the root, its name (graph node, label or index) and the module. */
export interface NamedLayer {
  path: string;
  name: string;
  module: Module;
}

/** Every module inside `model`, depth first in order (a container before its children). */
export function layersOf(model: Module): NamedLayer[] {
  const out: NamedLayer[] = [];
  const walk = (m: Module, prefix: string): void => {
    for (const [name, child] of m.children()) {
      const path = prefix === '' ? name : `${prefix}.${name}`;
      out.push({ path, name: child.label ?? name, module: child });
      walk(child, path);
    }
  };
  walk(model, '');
  return out;
}

/**
 * The layer called `name`: a dotted path ('0.block_12_add'), or a graph node's name or a
 * layer's label anywhere inside the model (it must be unique). Unknown names get a did-you-mean.
 */
export function findLayer(model: Module, name: string): NamedLayer {
  const all = layersOf(model);
  const byPath = all.find((l) => l.path === name);
  if (byPath !== undefined) return byPath;
  const matches = all.filter((l) => l.name === name || l.path.endsWith(`.${name}`));
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) throw new RegistryError('unknown-name', `'${name}' names ${matches.length} layers (${matches.map((m) => m.path).join(', ')}); give the path`);
  const near = suggest(name, all.map((l) => l.name));
  throw new RegistryError('unknown-name', `no layer '${name}' in the model${near ? ` — did you mean '${near}'?` : ''} (${all.length} layers; model.summary() lists them)`);
}

/** Which layers: every one up to and including a named layer (in order), a list of names, or a test. */
export type LayerSelection = { upTo: string } | { from: string } | readonly string[] | ((layer: NamedLayer) => boolean) | 'all';

function select(model: Module, which: LayerSelection): Module[] {
  const all = layersOf(model);
  if (which === 'all') return [model];
  if (typeof which === 'function') return all.filter(which).map((l) => l.module);
  if (Array.isArray(which)) return which.map((name) => findLayer(model, name).module);
  const bound = 'upTo' in (which as object) ? (which as { upTo: string }).upTo : (which as { from: string }).from;
  const target = findLayer(model, bound);
  const at = all.findIndex((l) => l.path === target.path);
  // Everything inside the target belongs to it (so 'upTo' a block includes the whole block).
  const end = at + 1 + all.slice(at + 1).findIndex((l) => !l.path.startsWith(`${target.path}.`));
  const last = end === at ? all.length : end;
  return ('upTo' in (which as object) ? all.slice(0, last) : all.slice(at)).map((l) => l.module);
}

/**
 * Freezes layers: their parameters get no gradients (no backward work is spent on them), fit
 * leaves them out of the optimizer, and their BatchNorm layers keep normalizing with running
 * statistics. Returns the model.
 *
 * @example
 * freeze(model, { upTo: 'block_12_add' });   // the backbone up to the cut stays as trained
 * freeze(model, ['Conv1', 'bn_Conv1']);
 * freeze(model, (l) => l.module.name === 'batchNorm');
 */
export function freeze<M extends Module>(model: M, which: LayerSelection = 'all'): M {
  for (const m of select(model, which)) m.setTrainable(false);
  return model;
}

/** Unfreezes layers (see freeze); `{ from: 'block_13_expand' }` thaws the top of a backbone. */
export function unfreeze<M extends Module>(model: M, which: LayerSelection = 'all'): M {
  for (const m of select(model, which)) m.setTrainable(true);
  return model;
}

/**
 * The part of `model` from its input up to the layer `at` (inclusive), sharing its layers and
 * weights: for a Graph, the nodes `at` depends on; for a Sequential, the layers up to it.
 * The original keeps working; disposing either frees the shared weights.
 *
 * @example
 * const backbone = cut(mobilenet, 'block_12_add');   // [n, 224, 224, 3] → [n, 14, 14, 96]
 */
export function cut(model: Module, at: string): Module {
  const target = findLayer(model, at);
  const [top, ...rest] = target.path.split('.');
  const inputShape = model.builtInputShape;
  let out: Module;
  if (model instanceof Graph) {
    const node = model.node(top)!;
    const keep = new Set<string>([node.name]);
    for (let i = model.nodes.indexOf(node); i >= 0; i--) {
      const n = model.nodes[i];
      if (keep.has(n.name)) n.inputs.forEach((name) => keep.add(name));
    }
    const nodes = model.nodes.filter((n) => keep.has(n.name)).map((n) => (n === node && rest.length > 0 ? { ...n, layer: cut(n.layer, rest.join('.')) } : n));
    out = new Graph(nodes, { input: model.inputs, extraInputShapes: model.extraInputShapes, outputs: [node.name], inputShape: model.inputShape ?? inputShape ?? undefined, label: model.label });
  } else if (model instanceof Sequential) {
    const index = Number(top);
    const layers = model.layers.slice(0, index + 1);
    if (rest.length > 0) layers[index] = cut(layers[index], rest.join('.'));
    out = new Sequential(layers, { inputShape: model.inputShape ?? inputShape ?? undefined, label: model.label });
  } else {
    throw new TypeError(`cut: a ${model.name} cannot be cut; cut a graph or a sequential model`);
  }
  if (inputShape !== null) out.build(inputShape);
  if (!model.training) out.eval();
  return out;
}

/**
 * A new model: `model` cut at `at`, then `head`. When the model is built, the head is checked
 * against the cut's output shape at once (and built), so a head that does not fit is an error
 * here, not at the first batch.
 *
 * @example
 * const model = replaceHead(mobilenet, 'block_12_add', [new GlobalAvgPool2d(), new Dense({ units: 10 })]);
 */
export function replaceHead(model: Module, at: string, head: Module | readonly Module[], options: { seed?: number } = {}): Sequential {
  const backbone = cut(model, at);
  const layers = Array.isArray(head) ? (head as Module[]) : [head as Module];
  const inputShape = backbone.builtInputShape;
  const out = new Sequential([backbone, ...layers], { inputShape: inputShape ?? undefined });
  if (inputShape !== null) {
    const features = backbone.outputShape(inputShape);
    try {
      new Sequential(layers).outputShape(features);
    } catch (error) {
      if (!(error instanceof ShapeError)) throw error;
      const hint = features.length === 3 ? "; start the head with 'globalAvgPool2d' or 'flatten'" : '';
      throw new ShapeError(`replaceHead: the head does not fit the cut at '${at}', whose output is [${features.join(', ')}] per sample: ${error.message}${hint}`);
    }
    out.build(inputShape, options.seed === undefined ? undefined : new Rng(options.seed));
  }
  if (!model.training) out.eval();
  return out;
}

/**
 * The backbone's outputs for every sample of `data` (eval mode, no gradients), as a data set
 * with the same labels: train a head on it instead of recomputing a frozen backbone every
 * epoch. (No augmentation: each sample's features are computed once.)
 *
 * @example
 * const features = cacheFeatures(backbone, train);
 * fit(head, features, { epochs: 30, optimizer });
 */
export function cacheFeatures(backbone: Module, data: Dataset, options: { batchSize?: number } = {}): Dataset {
  const batchSize = options.batchSize ?? 64;
  const size = data.shape.reduce((a, b) => a * b, 1);
  const outShape = backbone.outputShape(data.shape);
  const outSize = outShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(data.count * outSize);
  const wasTraining = backbone.training;
  backbone.eval();
  noGrad(() => {
    for (let start = 0; start < data.count; start += batchSize) {
      const n = Math.min(batchSize, data.count - start);
      x.set(scope(() => backbone.forward(tensor(data.x.subarray(start * size, (start + n) * size), [n, ...data.shape])).data()), start * outSize);
    }
  });
  if (wasTraining) backbone.train();
  return createDataset(x, data.y, outShape, { classes: data.classes, ...(data.classNames ? { classNames: data.classNames } : {}), ...(data.name ? { name: `${data.name} (features)` } : {}) });
}

/** Whether every parameter of `m` is frozen. */
export function isFrozen(m: Module): boolean {
  return m.parameterInfo().every((p) => !p.trainable);
}

export interface FinetuneOptions extends FitOptions {
  /**
   * Train the head on features computed once ('auto': when the backbone — the model's first
   * layer — is entirely frozen and no augmentation transforms the batches).
   */
  cache?: 'auto' | boolean;
}

/**
 * fit() for a model made by replaceHead (backbone, then head layers). With a frozen backbone
 * and no augmentation, the backbone runs once per sample (training and validation data) and
 * only the head trains, on the cached features; otherwise the whole model trains as usual.
 */
export function finetune(model: Sequential, data: Dataset, options: FinetuneOptions): History & { cached: boolean } {
  const [backbone, ...head] = model.layers;
  const { cache = 'auto', ...fitOptions } = options;
  const frozen = backbone !== undefined && isFrozen(backbone);
  if (cache === true && !frozen) throw new ShapeError('finetune: caching features needs a frozen backbone (freeze(model.layers[0]) first)');
  if (cache === true && options.transform !== undefined) throw new ShapeError('finetune: cached features cannot be augmented; leave out the transform, or cache: false');
  const cached = cache === true || (cache === 'auto' && frozen && options.transform === undefined);
  if (!cached) return { ...fit(model, data, fitOptions), cached };
  model.build(data.shape);
  const batchSize = Math.max(options.batchSize ?? 32, 64);
  const features = cacheFeatures(backbone, data, { batchSize });
  const validation = options.validation === undefined ? undefined : cacheFeatures(backbone, options.validation, { batchSize });
  const top = new Sequential(head);
  const history = fit(top, features, { ...fitOptions, ...(validation !== undefined ? { validation } : {}) });
  model.eval();
  return { ...history, cached };
}
