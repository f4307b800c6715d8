// Factories, the registry plugin, and pipelines from JSON configs.
import { ArgumentError } from '@minibatch/core';
import { define, definePlugin, z, type Plugin, type PluginEntry, type Registry, type Spec } from '@minibatch/registry';
import {
  ColorJitter, Grayscale, PcaLighting, colorJitterSchema, grayscaleSchema, pcaLightingSchema,
  type ColorJitterConfig, type GrayscaleConfig, type PcaLightingConfig,
} from './color.js';
import { Compose, RandomApply, RandomChoice, compose, fromSpecs } from './containers.js';
import {
  CenterCrop, Flip, RandomAffine, RandomCrop, RandomResizedCrop, affineSchema, centerCropSchema, flipSchema, randomCropSchema,
  randomResizedCropSchema, rotate, rotateSchema, translate, translateSchema, zoom, zoomSchema,
  type AffineConfig, type CenterCropConfig, type FlipConfig, type RandomCropConfig, type RandomResizedCropConfig,
} from './geometric.js';
import { Cutmix, Mixup, cutmixSchema, mixupSchema, type CutmixConfig, type MixupConfig } from './mix.js';
import {
  Cutout, GaussianBlur, GaussianNoise, RandomErasing, SaltAndPepper, cutoutSchema, gaussianBlurSchema, gaussianNoiseSchema,
  randomErasingSchema, saltAndPepperSchema,
  type CutoutConfig, type GaussianBlurConfig, type GaussianNoiseConfig, type RandomErasingConfig, type SaltAndPepperConfig,
} from './pixels.js';
import type { Augmentation } from './transform.js';

export const flip = (config: FlipConfig = {}): Flip => new Flip(config);
export const randomCrop = (config: RandomCropConfig = {}): RandomCrop => new RandomCrop(config);
export const centerCrop = (config: CenterCropConfig): CenterCrop => new CenterCrop(config);
export const affine = (config: AffineConfig = {}): RandomAffine => new RandomAffine(config);
export { rotate, translate, zoom };
export const randomResizedCrop = (config: RandomResizedCropConfig): RandomResizedCrop => new RandomResizedCrop(config);
export const colorJitter = (config: ColorJitterConfig = {}): ColorJitter => new ColorJitter(config);
export const grayscale = (config: GrayscaleConfig = {}): Grayscale => new Grayscale(config);
export const pcaLighting = (config: PcaLightingConfig = {}): PcaLighting => new PcaLighting(config);
export const randomErasing = (config: RandomErasingConfig = {}): RandomErasing => new RandomErasing(config);
export const cutout = (config: CutoutConfig = {}): Cutout => new Cutout(config);
export const gaussianBlur = (config: GaussianBlurConfig = {}): GaussianBlur => new GaussianBlur(config);
export const gaussianNoise = (config: GaussianNoiseConfig = {}): GaussianNoise => new GaussianNoise(config);
export const saltAndPepper = (config: SaltAndPepperConfig = {}): SaltAndPepper => new SaltAndPepper(config);
export const mixup = (config: MixupConfig = {}): Mixup => new Mixup(config);
export const cutmix = (config: CutmixConfig = {}): Cutmix => new Cutmix(config);

/** A nested transform in a container's config: a spec, its kind optional. */
const nested = z.strictObject({
  kind: z.literal('augmentation').optional(),
  name: z.string().min(1),
  config: z.record(z.string(), z.unknown()).default({}),
});
const composeSchema = z.strictObject({ transforms: z.array(nested) });
const randomChoiceSchema = z.strictObject({ transforms: z.array(nested).min(1), weights: z.array(z.number().min(0)).optional() });
const randomApplySchema = z.strictObject({ p: z.number().min(0).max(1).default(0.5), transforms: z.array(nested).min(1) });

/** The registry entries of every augmentation (kind 'augmentation'). */
export const augmentationEntries: PluginEntry[] = [
  define('augmentation', 'flip', flipSchema, (c) => new Flip(c), 'random horizontal/vertical flips'),
  define('augmentation', 'randomCrop', randomCropSchema, (c) => new RandomCrop(c), 'random crop of the padded image (constant/reflect/edge)'),
  define('augmentation', 'centerCrop', centerCropSchema, (c) => new CenterCrop(c), 'central crop'),
  define('augmentation', 'affine', affineSchema, (c) => new RandomAffine(c), 'random rotation, translation, zoom and shear (bilinear)'),
  define('augmentation', 'rotate', rotateSchema, (c) => rotate(c), 'random rotation (bilinear, fill value)'),
  define('augmentation', 'translate', translateSchema, (c) => translate(c), 'random sub-pixel translation'),
  define('augmentation', 'zoom', zoomSchema, (c) => zoom(c), 'random zoom about the center'),
  define('augmentation', 'randomResizedCrop', randomResizedCropSchema, (c) => new RandomResizedCrop(c), 'crop of random area and ratio, resized (bilinear)'),
  define('augmentation', 'colorJitter', colorJitterSchema, (c) => new ColorJitter(c), 'brightness, contrast, saturation and hue jitter'),
  define('augmentation', 'grayscale', grayscaleSchema, (c) => new Grayscale(c), 'random conversion to gray'),
  define('augmentation', 'pcaLighting', pcaLightingSchema, (c) => new PcaLighting(c), "AlexNet's PCA lighting noise"),
  define('augmentation', 'randomErasing', randomErasingSchema, (c) => new RandomErasing(c), 'random erasing of a rectangle'),
  define('augmentation', 'cutout', cutoutSchema, (c) => new Cutout(c), 'square holes at random places'),
  define('augmentation', 'gaussianBlur', gaussianBlurSchema, (c) => new GaussianBlur(c), 'Gaussian blur, random sigma'),
  define('augmentation', 'gaussianNoise', gaussianNoiseSchema, (c) => new GaussianNoise(c), 'additive Gaussian pixel noise'),
  define('augmentation', 'saltAndPepper', saltAndPepperSchema, (c) => new SaltAndPepper(c), 'salt-and-pepper noise'),
  define('augmentation', 'mixup', mixupSchema, (c) => new Mixup(c), 'mixup of sample pairs, soft targets'),
  define('augmentation', 'cutmix', cutmixSchema, (c) => new Cutmix(c), 'cutmix of sample pairs, soft targets'),
  define('augmentation', 'compose', composeSchema, (c, r) => new Compose(fromSpecs(r, c.transforms)), 'transforms in order'),
  define('augmentation', 'randomChoice', randomChoiceSchema, (c, r) => new RandomChoice(fromSpecs(r, c.transforms), c.weights), 'one transform per sample'),
  define('augmentation', 'randomApply', randomApplySchema, (c, r) => new RandomApply(c.p, fromSpecs(r, c.transforms)), 'transforms with probability p per sample'),
];

/**
 * Every augmentation of this package, for `createRegistry().use(augmentations)`.
 *
 * @example
 * const registry = createRegistry().use(augmentations);
 * const t = registry.create('augmentation', 'flip', { p: 0.5 });
 */
export const augmentations: Plugin = definePlugin('@minibatch/augment', augmentationEntries);

/**
 * A pipeline from its config: a list of specs ({ name, config }, kind optional) composed in
 * order, one spec, or its JSON text. Names resolve through `registry` (which must use
 * `augmentations`).
 *
 * @example
 * const pipeline = augmentationFromConfig(registry, [{ name: 'randomCrop', config: { padding: 4 } }, { name: 'flip' }]);
 */
export function augmentationFromConfig(registry: Registry, config: string | readonly unknown[] | Spec | { name: string; config?: Record<string, unknown> }): Augmentation {
  let value: unknown = config;
  if (typeof config === 'string') {
    try {
      value = JSON.parse(config);
    } catch (e) {
      throw new ArgumentError(`augmentationFromConfig: not valid JSON (${(e as Error).message})`);
    }
  }
  if (Array.isArray(value)) return compose(fromSpecs(registry, value));
  if (typeof value !== 'object' || value === null) throw new ArgumentError('augmentationFromConfig: expected a list of { name, config } or one spec');
  return fromSpecs(registry, [value])[0];
}
