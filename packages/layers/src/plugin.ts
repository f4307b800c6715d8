// The plugin object, and whole-model configs.
import { define, definePlugin, parseJson, type JsonPath, type Plugin, type PluginEntry, type Registry, type Spec } from '@minibatch/registry';
import {
  Clip, ClippedReLU, ELU, HardSigmoid, HardSwish, LeakyReLU, ReLU, ReLU6, ScaledTanh, Sigmoid, Softmax, Tanh, clipLayerSchema, clippedReluLayerSchema, eluLayerSchema,
  hardSigmoidLayerSchema, leakyReluLayerSchema, plainActivationSchema, softmaxLayerSchema,
} from './activation-layers.js';
import { activationEntries } from './activations.js';
import { BatchNorm, batchNormSchema } from './batchnorm.js';
import { Residual, Sequential, layerFromSpec, residualSchema, sequentialSchema, type LayerSpec } from './containers.js';
import { AvgPool2d, Conv2d, Flatten, GlobalAvgPool2d, MaxPool2d, conv2dSchema, labelOnlySchema, poolSchema } from './conv.js';
import { Dense, Maxout, denseSchema, maxoutSchema } from './dense.js';
import { Graph, graphSchema } from './graph.js';
import { Add, Concatenate, Divide, Multiply, Subtract, concatenateSchema, mergeSchema } from './merge.js';
import {
  Normalization, Permute, Reshape, Rescaling, Resizing, UpSampling2d, ZeroPadding2d, normalizationSchema, permuteSchema, reshapeSchema,
  rescalingSchema, resizingSchema, upSampling2dSchema, zeroPadding2dSchema,
} from './reshaping.js';
import { DepthwiseConv2d, SeparableConv2d, depthwiseConv2dSchema, separableConv2dSchema } from './separable.js';
import { initializerEntries } from './initializers.js';
import { lossEntries } from './losses.js';
import { Module } from './module.js';

/** The registry entries of the built-in layers. */
export const layerEntries: PluginEntry[] = [
  define('layer', 'dense', denseSchema, (c, r) => new Dense(c, r), 'fully connected: activation(x·W + b)'),
  define('layer', 'maxout', maxoutSchema, (c, r) => new Maxout(c, r), 'maxout units: max over k linear pieces'),
  define('layer', 'conv2d', conv2dSchema, (c, r) => new Conv2d(c, r), '2-D convolution, NHWC, HWIO kernel, optionally grouped'),
  define('layer', 'depthwiseConv2d', depthwiseConv2dSchema, (c, r) => new DepthwiseConv2d(c, r), 'depthwise convolution: a filter per channel'),
  define('layer', 'separableConv2d', separableConv2dSchema, (c, r) => new SeparableConv2d(c, r), 'depthwise then 1×1 convolution'),
  define('layer', 'maxPool2d', poolSchema, (c) => new MaxPool2d(c), 'max pooling'),
  define('layer', 'avgPool2d', poolSchema, (c) => new AvgPool2d(c), 'average pooling'),
  define('layer', 'globalAvgPool2d', labelOnlySchema, (c) => new GlobalAvgPool2d(c), 'mean over height and width'),
  define('layer', 'flatten', labelOnlySchema, (c) => new Flatten(c), '[batch, …] → [batch, features]'),
  define('layer', 'batchNorm', batchNormSchema, (c) => new BatchNorm(c), 'batch normalization over the last axis'),
  define('layer', 'sigmoid', plainActivationSchema, (c) => new Sigmoid(c), 'sigmoid activation'),
  define('layer', 'tanh', plainActivationSchema, (c) => new Tanh(c), 'tanh activation'),
  define('layer', 'scaledTanh', plainActivationSchema, (c) => new ScaledTanh(c), "LeCun's 1.7159·tanh(2x/3)"),
  define('layer', 'relu', plainActivationSchema, (c) => new ReLU(c), 'ReLU activation'),
  define('layer', 'leakyRelu', leakyReluLayerSchema, (c) => new LeakyReLU(c), 'leaky ReLU activation'),
  define('layer', 'elu', eluLayerSchema, (c) => new ELU(c), 'ELU activation'),
  define('layer', 'softmax', softmaxLayerSchema, (c) => new Softmax(c), 'softmax along an axis'),
  define('layer', 'relu6', plainActivationSchema, (c) => new ReLU6(c), 'min(max(x, 0), 6)'),
  define('layer', 'clippedRelu', clippedReluLayerSchema, (c) => new ClippedReLU(c), 'min(max(x, 0), maxValue)'),
  define('layer', 'clip', clipLayerSchema, (c) => new Clip(c), 'min(max(x, min), max)'),
  define('layer', 'hardSigmoid', hardSigmoidLayerSchema, (c) => new HardSigmoid(c), 'clip(alpha·x + beta, 0, 1)'),
  define('layer', 'hardSwish', plainActivationSchema, (c) => new HardSwish(c), 'x · clip(x/6 + 1/2, 0, 1)'),
  define('layer', 'zeroPadding2d', zeroPadding2dSchema, (c) => new ZeroPadding2d(c), 'zeros around images'),
  define('layer', 'upSampling2d', upSampling2dSchema, (c) => new UpSampling2d(c), 'nearest-neighbour upsampling by an integer factor'),
  define('layer', 'resizing', resizingSchema, (c) => new Resizing(c), 'images resized (bilinear or nearest)'),
  define('layer', 'rescaling', rescalingSchema, (c) => new Rescaling(c), 'x · scale + offset'),
  define('layer', 'normalization', normalizationSchema, (c) => new Normalization(c), '(x − mean) / √variance per channel, fixed statistics'),
  define('layer', 'reshape', reshapeSchema, (c) => new Reshape(c), 'a new per-sample shape'),
  define('layer', 'permute', permuteSchema, (c) => new Permute(c), 'permuted per-sample axes'),
  define('layer', 'add', mergeSchema, (c) => new Add(c), 'sum of the inputs (in a graph)'),
  define('layer', 'subtract', mergeSchema, (c) => new Subtract(c), 'first input minus the others (in a graph)'),
  define('layer', 'multiply', mergeSchema, (c) => new Multiply(c), 'product of the inputs (in a graph)'),
  define('layer', 'divide', mergeSchema, (c) => new Divide(c), 'first input divided by the others (in a graph)'),
  define('layer', 'concatenate', concatenateSchema, (c) => new Concatenate(c), 'inputs joined along an axis (in a graph)'),
  define('layer', 'graph', graphSchema, (c, r) => Graph.fromConfig(r, c), 'a DAG of named layers'),
  define('layer', 'sequential', sequentialSchema, (c, r) => Sequential.fromConfig(r, c), 'layers in order'),
  define('layer', 'residual', residualSchema, (c, r) => Residual.fromConfig(r, c), 'x + block(x), projected when shapes differ'),
];

/**
 * Everything this package provides: layers, initializers, activations and losses.
 *
 * @example
 * const registry = createRegistry().use(layers);
 * const model = modelFromConfig(registry, [{ name: 'dense', config: { units: 10 } }]);
 */
export const layers: Plugin = definePlugin('@minibatch/layers', [...layerEntries, ...initializerEntries, ...activationEntries, ...lossEntries]);

/**
 * A model from its config: a list of layer specs (made into a Sequential), a layer spec
 * ({ kind: 'layer', name, config }, kind optional), or its JSON text. Names resolve through
 * `registry`, so plugins' layers and initializers work too. The model is not built yet:
 * call model.build(inputShape, rng), or let the first forward() build it.
 */
export function modelFromConfig(registry: Registry, spec: string | readonly LayerSpec[] | LayerSpec | Spec, path: JsonPath = []): Module {
  const value: unknown = typeof spec === 'string' && spec.trimStart().match(/^[[{]/) ? parseJson(spec, { source: 'model config' }) : spec;
  if (Array.isArray(value)) return new Sequential(value.map((s: LayerSpec, i) => layerFromSpec(registry, s, [...path, i])), {}, registry);
  return layerFromSpec(registry, value as LayerSpec, path);
}

/** The plain-JSON spec of a model ({ kind: 'layer', name, config }); modelFromConfig() reads it back. */
export function modelToConfig(model: Module): Spec {
  if (!(model instanceof Module)) throw new TypeError(`modelToConfig: expected a Module, got ${typeof model}`);
  return model.toSpec();
}
