// @minibatch/core: tensors in WebAssembly memory, SIMD kernels, autograd and memory scopes.
export { init, engine, createEngine, useEngine, simdSupported, Engine } from './engine.js';
export { threadsSupported, hardwareThreads, PoolError } from './pool.js';
export type { KernelName } from './pool.js';
export { Unary } from './kernels.js';
export type { Build, InitOptions, MemoryStats } from './engine.js';
export { Tensor, scope, keep, noGrad, isGradEnabled, record, empty, sizeOf } from './tensor.js';
export type { BackwardFn, NestedArray } from './tensor.js';
export { ShapeError, ArgumentError, DisposedError, MemoryError, fmtBytes } from './errors.js';
export { Rng } from './rng.js';
export type { RngState } from './rng.js';
export { tensor, full, zeros, ones, randn, rand } from './creation.js';
export type { RandomOptions } from './creation.js';
export {
  neg, exp, log, sqrt, abs, relu, leakyRelu, elu, sigmoid, tanh, square, sign, pow,
  add, sub, mul, div, maximum, minimum, eq, ne, lt, le, gt, ge, where, biasActivation,
} from './ops/elementwise.js';
export type { FusedActivation } from './ops/elementwise.js';
export { sum, mean, max, min, sumTo } from './ops/reduce.js';
export type { ReduceOptions } from './ops/reduce.js';
export { reshape, broadcastTo, transpose, slice, pad, concat, gather } from './ops/shape.js';
export { matmul, linear } from './ops/matmul.js';
export type { MatmulOptions } from './ops/matmul.js';
export { softmax, logSoftmax, softmaxCrossEntropy, meanSquaredError, moments, batchNorm } from './ops/nn.js';
export { conv2d, depthwiseConv2d, maxPool2d, avgPool2d, windowOutputSize } from './ops/conv.js';
export type { Conv2dOptions, Pool2dOptions, Padding } from './ops/conv.js';
export { inRanges } from './ops/util.js';
export type { RangeJob } from './ops/util.js';
export { gradcheck } from './gradcheck.js';
export type { GradcheckOptions, GradcheckResult } from './gradcheck.js';
