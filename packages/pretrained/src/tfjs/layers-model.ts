// TF.js layers models (model.json with a Keras `model_config`, Sequential or functional, in
// the Keras 2.2–2.x JSON dialect) imported onto an ordinary minibatch Graph: each Keras layer
// becomes a node of the same name, its weights land in the node's parameters, and layers
// marked `trainable: false` arrive frozen. Keras is channels-last, as minibatch is, so no
// weight needs transposing: Conv2D kernels are HWIO, depthwise kernels [kh, kw, c, m], Dense
// kernels [in, out].
import { Rng } from '@minibatch/core';
import { Graph, layerFromSpec, type GraphNode, type Module } from '@minibatch/layers';
import type { Registry } from '@minibatch/registry';
import { FormatError } from '@minibatch/train';
import type { DecodedWeight } from './weights.js';

type Json = Record<string, unknown>;

/** A Keras layer as it appears in model_config.config.layers. */
interface KerasLayer {
  name: string;
  class_name: string;
  config: Json;
  inbound_nodes?: unknown;
}

/** What one Keras layer becomes: a layer spec, and where each of its weights goes. */
interface Converted {
  spec: { name: string; config?: Json };
  /** Keras weight suffix ('kernel', 'gamma', …) → minibatch parameter or buffer name. */
  weights: Record<string, string>;
  /** Parameters Keras leaves out, with their fixed value (BatchNorm without center or scale). */
  fill?: Record<string, number>;
}

const KERAS_ACTIVATIONS: Record<string, string | null> = {
  linear: null, relu: 'relu', relu6: 'relu6', sigmoid: 'sigmoid', tanh: 'tanh', softmax: 'softmax', elu: 'elu', hard_sigmoid: 'hardSigmoid',
};

/** The classes this importer reads (for the error that names an unsupported one). */
export const KERAS_CLASSES = [
  'InputLayer', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense', 'BatchNormalization', 'ReLU', 'LeakyReLU', 'Activation', 'Softmax',
  'ZeroPadding2D', 'Add', 'Subtract', 'Multiply', 'Concatenate', 'AveragePooling2D', 'MaxPooling2D', 'GlobalAveragePooling2D', 'Flatten',
  'Reshape', 'Dropout', 'SpatialDropout2D', 'UpSampling2D', 'Rescaling',
] as const;

function pair(v: unknown): number | [number, number] {
  return Array.isArray(v) ? [Number(v[0]), Number(v[1])] : Number(v);
}

/** Converts one Keras layer (not InputLayer) to a minibatch layer spec; throws for what has no faithful equivalent. */
function convert(layer: KerasLayer, fail: (what: string) => never): Converted {
  const c = layer.config;
  if (c.data_format !== undefined && c.data_format !== 'channels_last') fail(`data_format '${String(c.data_format)}' is not supported (channels_last only)`);
  const activation = (): Json => {
    if (c.activation === undefined || c.activation === null) return {};
    const name = KERAS_ACTIVATIONS[String(c.activation)];
    if (name === undefined) fail(`activation '${String(c.activation)}' is not supported (${Object.keys(KERAS_ACTIVATIONS).join(', ')})`);
    return name === null ? {} : { activation: name };
  };
  const padding = (): string => {
    if (c.padding !== 'valid' && c.padding !== 'same') fail(`padding ${JSON.stringify(c.padding)} is not supported ('valid' or 'same')`);
    return c.padding as string;
  };
  const spatial = (): Json => ({
    kernelSize: pair(c.kernel_size), strides: pair(c.strides ?? 1), padding: padding(), dilation: pair(c.dilation_rate ?? 1),
    useBias: c.use_bias !== false, ...activation(),
  });
  switch (layer.class_name) {
    case 'Conv2D':
      return { spec: { name: 'conv2d', config: { filters: c.filters, groups: c.groups ?? 1, ...spatial() } }, weights: { kernel: 'weight', bias: 'bias' } };
    case 'DepthwiseConv2D':
      return { spec: { name: 'depthwiseConv2d', config: { depthMultiplier: c.depth_multiplier ?? 1, ...spatial() } }, weights: { depthwise_kernel: 'weight', bias: 'bias' } };
    case 'SeparableConv2D':
      return {
        spec: { name: 'separableConv2d', config: { filters: c.filters, depthMultiplier: c.depth_multiplier ?? 1, ...spatial() } },
        weights: { depthwise_kernel: 'depthwiseWeight', pointwise_kernel: 'pointwiseWeight', bias: 'bias' },
      };
    case 'Dense':
      return { spec: { name: 'dense', config: { units: c.units, useBias: c.use_bias !== false, ...activation() } }, weights: { kernel: 'weight', bias: 'bias' } };
    case 'BatchNormalization': {
      const axis = Array.isArray(c.axis) ? c.axis : [c.axis ?? -1];
      if (axis.length !== 1 || !(axis[0] === -1 || axis[0] === 3 || axis[0] === 1)) fail(`axis ${JSON.stringify(c.axis)} is not supported (the last axis)`);
      // Keras' momentum weighs the old statistic, as minibatch's does. Without center (scale)
      // Keras stores no beta (gamma): it is 0 (1).
      const center = c.center !== false;
      const scale = c.scale !== false;
      return {
        spec: { name: 'batchNorm', config: { momentum: c.momentum ?? 0.99, epsilon: c.epsilon ?? 1e-3 } },
        weights: { ...(scale ? { gamma: 'gamma' } : {}), ...(center ? { beta: 'beta' } : {}), moving_mean: 'runningMean', moving_variance: 'runningVar' },
        fill: { ...(scale ? {} : { gamma: 1 }), ...(center ? {} : { beta: 0 }) },
      };
    }
    case 'ReLU': {
      if (Number(c.threshold ?? 0) !== 0) fail(`threshold ${String(c.threshold)} is not supported (0 only)`);
      const slope = Number(c.negative_slope ?? 0);
      const cap = c.max_value === null || c.max_value === undefined ? null : Number(c.max_value);
      if (slope !== 0 && cap !== null) fail('a ReLU with both negative_slope and max_value is not supported');
      if (slope !== 0) return { spec: { name: 'leakyRelu', config: { alpha: slope } }, weights: {} };
      return { spec: cap === null ? { name: 'relu' } : cap === 6 ? { name: 'relu6' } : { name: 'clippedRelu', config: { maxValue: cap } }, weights: {} };
    }
    case 'LeakyReLU':
      return { spec: { name: 'leakyRelu', config: { alpha: c.alpha ?? 0.3 } }, weights: {} };
    case 'Activation': {
      const name = KERAS_ACTIVATIONS[String(c.activation)];
      if (name === undefined) fail(`activation '${String(c.activation)}' is not supported (${Object.keys(KERAS_ACTIVATIONS).join(', ')})`);
      return { spec: { name: name ?? 'identity' }, weights: {} };
    }
    case 'Softmax':
      return { spec: { name: 'softmax', config: { axis: c.axis ?? -1 } }, weights: {} };
    case 'ZeroPadding2D': {
      const p = c.padding;
      return { spec: { name: 'zeroPadding2d', config: { padding: Array.isArray(p) && Array.isArray(p[0]) ? p : pair(p) } }, weights: {} };
    }
    case 'Add':
    case 'Subtract':
    case 'Multiply':
      return { spec: { name: layer.class_name.toLowerCase() }, weights: {} };
    case 'Concatenate': {
      // Keras counts the batch axis; minibatch's axis is per sample.
      const axis = Number(c.axis ?? -1);
      if (axis === 0) fail('concatenation along the batch axis is not supported');
      return { spec: { name: 'concatenate', config: { axis: axis > 0 ? axis - 1 : axis } }, weights: {} };
    }
    case 'AveragePooling2D':
    case 'MaxPooling2D':
      return {
        spec: { name: layer.class_name === 'MaxPooling2D' ? 'maxPool2d' : 'avgPool2d', config: { poolSize: pair(c.pool_size ?? 2), strides: pair(c.strides ?? c.pool_size ?? 2), padding: padding() } },
        weights: {},
      };
    case 'GlobalAveragePooling2D':
      if (c.keepdims === true) fail('keepdims: true is not supported');
      return { spec: { name: 'globalAvgPool2d' }, weights: {} };
    case 'Flatten':
      return { spec: { name: 'flatten' }, weights: {} };
    case 'Reshape':
      return { spec: { name: 'reshape', config: { targetShape: c.target_shape } }, weights: {} };
    case 'Dropout':
    case 'SpatialDropout2D':
      return { spec: { name: layer.class_name === 'Dropout' ? 'dropout' : 'spatialDropout', config: { rate: c.rate ?? 0.5 } }, weights: {} };
    case 'UpSampling2D':
      if ((c.interpolation ?? 'nearest') !== 'nearest') fail(`interpolation '${String(c.interpolation)}' is not supported (nearest)`);
      return { spec: { name: 'upSampling2d', config: { size: pair(c.size ?? 2) } }, weights: {} };
    case 'Rescaling':
      return { spec: { name: 'rescaling', config: { scale: c.scale, offset: c.offset ?? 0 } }, weights: {} };
    default:
      return fail(`layer class '${layer.class_name}' is not supported; supported: ${KERAS_CLASSES.join(', ')}`);
  }
}

/** The layers a node reads, from Keras 2's inbound_nodes: [[[name, nodeIndex, tensorIndex, kwargs], …]]. */
function inboundOf(layer: KerasLayer, fail: (what: string) => never): string[] {
  const nodes = layer.inbound_nodes;
  if (nodes === undefined || (Array.isArray(nodes) && nodes.length === 0)) return [];
  if (!Array.isArray(nodes) || !nodes.every(Array.isArray)) fail('inbound_nodes is not in the Keras 2 form [[[layer, node, tensor, {}], …]]');
  if ((nodes as unknown[]).length > 1) fail(`the layer is called ${(nodes as unknown[]).length} times (shared weights), which is not supported`);
  return (nodes as unknown[][])[0].map((entry) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') fail(`an inbound entry is not [layer, node, tensor, kwargs]: ${JSON.stringify(entry)}`);
    if (entry[1] !== 0 || entry[2] !== 0) fail(`reads output ${String(entry[2])} of call ${String(entry[1])} of '${entry[0]}' (only single-output, single-call layers are supported)`);
    return entry[0] as string;
  });
}

export interface KerasImport {
  model: Graph;
  inputShape: number[];
  /** Keras weight name → minibatch state-dict path. */
  weightPaths: Map<string, string>;
  /** State-dict paths with no stored weight, and their value. */
  fills: Map<string, number>;
}

/** The model_config of a TF.js model.json's modelTopology (which may be the config itself in older files). */
export function modelConfigOf(topology: unknown, source: string): { class_name: string; config: unknown } {
  const t = topology as Json | null;
  const config = (t?.model_config ?? t) as { class_name?: unknown; config?: unknown } | null;
  if (config === null || typeof config !== 'object' || typeof config.class_name !== 'string') {
    throw new FormatError(`${source}: modelTopology has no Keras model_config ({ class_name, config }); is this a TF.js graph model? Those carry weights only — load them into a module with loadWeights()`);
  }
  return config as { class_name: string; config: unknown };
}

/**
 * Builds the Graph of a Keras model config (Sequential or functional "Model"), with the input
 * shape from its InputLayer. Nothing is loaded yet: see applyKerasWeights.
 */
export function kerasGraph(modelConfig: { class_name: string; config: unknown }, registry: Registry, source: string): KerasImport {
  const fail = (what: string): never => {
    throw new FormatError(`${source}: ${what}`);
  };
  const { class_name: kind } = modelConfig;
  let layers: KerasLayer[];
  let inputShape: number[] | null = null;
  if (kind === 'Sequential') {
    const cfg = modelConfig.config as Json | unknown[];
    layers = (Array.isArray(cfg) ? cfg : (cfg as Json | undefined)?.layers) as KerasLayer[];
  } else if (kind === 'Model' || kind === 'Functional') {
    layers = (modelConfig.config as Json)?.layers as KerasLayer[];
  } else {
    return fail(`model class '${kind}' is not supported (Sequential, Model, Functional)`);
  }
  if (!Array.isArray(layers) || layers.length === 0) fail('the model config has no layers');
  const sequential = kind === 'Sequential';
  const nodes: GraphNode[] = [];
  const weightPaths = new Map<string, string>();
  const fills = new Map<string, number>();
  const frozen: string[] = [];
  const aliases = new Map<string, string>();
  let input = 'input';
  let previous: string | null = null;
  const resolve = (name: string): string => aliases.get(name) ?? name;
  layers.forEach((layer, i) => {
    const label = layer?.name ?? (layer?.config as Json | undefined)?.name;
    const where = (what: string): never => fail(`layer ${typeof label === 'string' ? `'${label}'` : i} (${String(layer?.class_name)}): ${what}`);
    if (layer === null || typeof layer !== 'object' || typeof layer.class_name !== 'string' || layer.config === null || typeof layer.config !== 'object') {
      where('expected { class_name, config }');
    }
    const name = String(layer.name ?? layer.config.name ?? `layer_${i}`).replace(/\./g, '_');
    const batchShape = (layer.config.batch_input_shape ?? layer.config.batch_shape) as unknown;
    if (layer.class_name === 'InputLayer' || (sequential && i === 0 && Array.isArray(batchShape) && inputShape === null)) {
      if (!Array.isArray(batchShape) || !batchShape.slice(1).every((d) => Number.isInteger(d) && d > 0)) where(`needs batch_input_shape [null, …] with known sizes, got ${JSON.stringify(batchShape)}`);
      if (inputShape !== null) where('a second input: models with several inputs are not supported');
      inputShape = (batchShape as number[]).slice(1);
      if (layer.class_name === 'InputLayer') {
        input = name;
        previous = name;
        return;
      }
    }
    const { spec, weights, fill } = convert(layer, where);
    const reads = sequential ? (previous === null ? [input] : [previous]) : inboundOf(layer, where).map(resolve);
    if (reads.length === 0) where('has no inputs');
    if (spec.name === 'identity') {
      // Keras' Activation('linear') passes its input on: later nodes read that input instead.
      if (reads.length !== 1) where('a linear activation with several inputs');
      aliases.set(name, reads[0]);
      previous = reads[0];
      return;
    }
    let made: Module;
    try {
      made = layerFromSpec(registry, spec);
    } catch (error) {
      where((error as Error).message);
    }
    nodes.push({ name, layer: made!, inputs: reads });
    for (const [keras, ours] of Object.entries(weights)) weightPaths.set(`${name}/${keras}`, `${name}.${ours}`);
    for (const [ours, value] of Object.entries(fill ?? {})) fills.set(`${name}.${ours}`, value);
    if (layer.config.trainable === false) frozen.push(name);
    previous = name;
  });
  if (inputShape === null) fail('no InputLayer (or batch_input_shape on the first layer): the input shape is unknown');
  let outputs: string[] | undefined;
  if (!sequential) {
    const cfg = modelConfig.config as Json;
    const ins = cfg.input_layers as unknown[][] | undefined;
    if (Array.isArray(ins) && ins.length !== 1) fail(`the model has ${ins.length} inputs; only single-input models are supported`);
    const outs = cfg.output_layers as unknown[][] | undefined;
    if (Array.isArray(outs)) outputs = outs.map((o) => resolve(String(o[0]).replace(/\./g, '_')));
  }
  let graph: Graph;
  try {
    graph = new Graph(sortedNodes(nodes, input, fail), { input, outputs, inputShape: inputShape! }, registry);
  } catch (error) {
    return fail((error as Error).message);
  }
  graph.label = String((modelConfig.config as Json)?.name ?? 'model');
  try {
    graph.build(inputShape!, new Rng(0));
  } catch (error) {
    fail(`the layers do not fit together: ${(error as Error).message}`);
  }
  for (const name of frozen) graph.node(name)?.layer.setTrainable(false);
  graph.eval();
  return { model: graph, inputShape: inputShape!, weightPaths, fills };
}

/** The nodes in an order where each comes after what it reads (Keras lists them so; this makes sure). */
function sortedNodes(nodes: GraphNode[], input: string, fail: (what: string) => never): GraphNode[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const done = new Set([input]);
  const out: GraphNode[] = [];
  const visiting = new Set<string>();
  const visit = (node: GraphNode): void => {
    if (done.has(node.name)) return;
    if (visiting.has(node.name)) fail(`the layers form a cycle through '${node.name}'`);
    visiting.add(node.name);
    for (const name of node.inputs) {
      const dep = byName.get(name);
      if (dep !== undefined) visit(dep);
      else if (!done.has(name)) fail(`layer '${node.name}' reads '${name}', which is not a layer of the model`);
    }
    visiting.delete(node.name);
    done.add(node.name);
    out.push(node);
  };
  nodes.forEach(visit);
  return out;
}

/**
 * Loads decoded weights into an imported graph. Every parameter and buffer must get exactly
 * one weight, and every weight must be used; the problems are listed together and nothing
 * is written when any exists.
 */
export function applyKerasWeights(imported: KerasImport, weights: Map<string, DecodedWeight>, source: string): void {
  const state: Record<string, { shape: number[]; data: Float32Array }> = {};
  const used = new Set<string>();
  const byPath = new Map([...imported.weightPaths].map(([keras, path]) => [path, keras]));
  const problems: string[] = [];
  for (const [path, tensor] of [...imported.model.namedParameters(), ...imported.model.namedBuffers()]) {
    const fill = imported.fills.get(path);
    if (fill !== undefined) {
      state[path] = { shape: [...tensor.shape], data: new Float32Array(tensor.size).fill(fill) };
      continue;
    }
    const keras = byPath.get(path);
    // Some writers prefix the model's name ('model_1/Conv1/kernel'): accept one unique match by suffix.
    const found = keras === undefined ? undefined : weights.has(keras) ? keras : [...weights.keys()].filter((k) => k.endsWith(`/${keras}`));
    const name = typeof found === 'string' ? found : found?.length === 1 ? found[0] : undefined;
    if (name === undefined) {
      problems.push(`no weight for ${path} [${tensor.shape.join(', ')}] (expected '${keras ?? path}')`);
      continue;
    }
    used.add(name);
    state[path] = weights.get(name)!;
  }
  const unused = [...weights.keys()].filter((k) => !used.has(k));
  if (unused.length > 0) problems.push(`weights no layer uses: ${unused.slice(0, 8).join(', ')}${unused.length > 8 ? `, … (${unused.length})` : ''}`);
  if (problems.length === 0) {
    try {
      imported.model.loadStateDict(state);
      return;
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  throw new FormatError(`${source}: the weights do not fit the model; nothing was loaded:\n  - ${problems.join('\n  - ')}`);
}
