/**
 * @minibatch/augment — seeded, batched image augmentation on NHWC float32 batches, with the
 * hot loops in the core's WebAssembly kernels: flips, crops with padding, affine warps
 * (translate, zoom, rotate, shear, random resized crop), color jitter, PCA lighting, random
 * erasing and cutout, Gaussian blur, Gaussian and salt-and-pepper noise, mixup and cutmix;
 * compose / randomChoice / randomApply. Importing registers nothing: apps call
 * `createRegistry().use(augmentations)`.
 */
export type { AugmentBatch, Augmentation, AugmentOptions, Augmented, ImageSet, LoaderContext } from './transform.js';
export { BaseAugmentation, augment, toBatchTransform } from './transform.js';
export {
  cropWindows, resampleAffine, colorTransform, separableBlur, gaussianKernel, pasteRects, pixelNoise, blendSamples,
} from './ops.js';
export type { Window, ResampleOptions, AffineMatrix, ColorMap, Rect, NoiseSpec, BorderMode } from './ops.js';
export { Flip, RandomCrop, CenterCrop, RandomAffine, RandomResizedCrop, warpMatrix } from './geometric.js';
export type {
  FlipConfig, RandomCropConfig, CenterCropConfig, AffineConfig, RotateConfig, TranslateConfig, ZoomConfig, RandomResizedCropConfig,
} from './geometric.js';
export { ColorJitter, Grayscale, PcaLighting, fitPcaLighting, symmetricEigen, hueMatrix, LUMA } from './color.js';
export type { ColorJitterConfig, GrayscaleConfig, PcaLightingConfig, PcaBasis } from './color.js';
export { RandomErasing, Cutout, GaussianBlur, GaussianNoise, SaltAndPepper } from './pixels.js';
export type { RandomErasingConfig, CutoutConfig, GaussianBlurConfig, GaussianNoiseConfig, SaltAndPepperConfig } from './pixels.js';
export { Mixup, Cutmix, sampleBeta, sampleGamma } from './mix.js';
export type { MixupConfig, CutmixConfig } from './mix.js';
export { Compose, RandomChoice, RandomApply, compose, randomChoice, randomApply } from './containers.js';
export {
  flip, randomCrop, centerCrop, affine, rotate, translate, zoom, randomResizedCrop, colorJitter, grayscale, pcaLighting,
  randomErasing, cutout, gaussianBlur, gaussianNoise, saltAndPepper, mixup, cutmix,
  augmentations, augmentationEntries, augmentationFromConfig,
} from './plugin.js';
