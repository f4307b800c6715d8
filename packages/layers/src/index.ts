/**
 * @minibatch/layers — Module base, Dense, Conv2D, pooling, BatchNorm, activations,
 * Sequential/Residual, initializers and losses. Importing registers nothing: apps call
 * `createRegistry().use(layers)`.
 */
export { Module, StateDictError } from './module.js';
export type { ParamKind, ParamSpec, BufferSpec, ParameterInfo, StateDict, StateDictInput, LayerRow, LayerSpecJSON, ChildShape } from './module.js';
export { Dense, Maxout, denseSchema, maxoutSchema } from './dense.js';
export type { DenseConfig, MaxoutConfig } from './dense.js';
export { Conv2d, MaxPool2d, AvgPool2d, GlobalAvgPool2d, Flatten, conv2dSchema, poolSchema, groupedConv2d } from './conv.js';
export { DepthwiseConv2d, SeparableConv2d, depthwiseConv2dSchema, separableConv2dSchema } from './separable.js';
export type { DepthwiseConv2dConfig, SeparableConv2dConfig } from './separable.js';
export { ZeroPadding2d, UpSampling2d, Resizing, Rescaling, Normalization, Reshape, Permute } from './reshaping.js';
export { Merge, Add, Subtract, Multiply, Divide, Concatenate } from './merge.js';
export { Graph, graphSchema } from './graph.js';
export type { GraphNode, GraphOptions } from './graph.js';
export type { Conv2dConfig, Pool2dConfig } from './conv.js';
export { BatchNorm, batchNormSchema } from './batchnorm.js';
export type { BatchNormConfig } from './batchnorm.js';
export { ActivationLayer, Sigmoid, Tanh, ScaledTanh, ReLU, LeakyReLU, ELU, Softmax, ReLU6, ClippedReLU, Clip, HardSigmoid, HardSwish } from './activation-layers.js';
export { Sequential, Residual, layerFromSpec, layerSpecSchema, sequentialSchema, residualSchema } from './containers.js';
export type { LayerSpec, SequentialOptions, ResidualOptions } from './containers.js';
export { activations, defaultKernelInitializer, maxoutOf, SCALED_TANH_A, SCALED_TANH_B } from './activations.js';
export type { Activation, ActivationName } from './activations.js';
export { initializers, fans } from './initializers.js';
export type { Initializer, InitializerName, InitializerOptions } from './initializers.js';
export { resolveActivation, resolveInitializer } from './resolve.js';
export { losses } from './losses.js';
export type { Loss, LossName, Target } from './losses.js';
export { layers, layerEntries, modelFromConfig, modelToConfig } from './plugin.js';
export type { NamedSpec } from './util.js';
