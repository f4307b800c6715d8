// Entry of the kernel module: every export here is listed in src/kernels.ts.
export function heapBase(): usize {
  return __heap_base;
}
export { gemm, gemmScratchBytes, gemmPack, gemmPackedBytes, gemmTiles } from './gemm';
export { fill, unary, unaryGrad, biasUnary, axpby, binary, where } from './elementwise';
export { stridedCopy, gather, scatterAdd } from './shape';
export { reduce, moments } from './reduce';
export { softmax, softmaxGrad, softmaxCrossEntropy, softmaxCrossEntropyGrad } from './softmax';
export {
  im2col, col2im, maxPool, maxPoolGrad, avgPool, avgPoolGrad,
  convScratchBytes, conv2dForward, conv2dFilterGrad, conv2dInputGrad,
  convDirectScratchBytes, convDirect, convDirectFilterGrad, convFlipFilter,
} from './conv';
export { adamUpdate, momentumUpdate, rmspropUpdate, adagradUpdate, clipByValue, dotF64 } from './optim';
export { augWindow, augAffine, augColor, augBlur, augPatch, augNoise, augBlend } from './augment';
export { depthwiseForward, depthwiseInputGrad, depthwiseFilterGrad } from './depthwise';
export { channelLinear, channelSums } from './norm';
