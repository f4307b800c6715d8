// Fine-tuning, Teachable-Machine style: MobileNetV2 (ImageNet features, from the nsfwjs
// package, served by the site) cut at its last convolution and frozen; a new head — global
// average pooling and one dense layer — trained on the few images a person adds per class, on
// features the backbone computes once per image (@minibatch/pretrained's finetune()).
import { Rng, noGrad, scope, softmax, tensor } from '@minibatch/core';
import { createDataset } from '@minibatch/data';
import { Sequential, modelFromConfig, type Module } from '@minibatch/layers';
import { Adam } from '@minibatch/optimizers';
import { cut, finetune, freeze, load, modelFiles } from '@minibatch/pretrained';
import { defaultRegistry } from '@minibatch/train';
import { siteFile } from './engine.js';

/** The images' side: MobileNetV2 is fully convolutional up to the cut, and 96×96 costs a fifth of 224×224. */
export const SIDE = 96;
const CUT = 'out_relu';

let backbone: Module | null = null;
let head: Module | null = null;
const examples: { pixels: Float32Array; label: number }[] = [];

async function theBackbone(): Promise<Module> {
  if (backbone !== null) return backbone;
  const model = await siteFile('models/mobilenet_v2/model.json');
  const manifest = JSON.parse(new TextDecoder().decode(model)) as { weightsManifest: { paths: string[] }[] };
  const files: Record<string, Uint8Array> = { 'model.json': new Uint8Array(model) };
  for (const group of manifest.weightsManifest) for (const path of group.paths) files[path] = new Uint8Array(await siteFile(`models/mobilenet_v2/${path}`));
  const loaded = load(modelFiles(files, 'model.json'));
  const trunk = cut(loaded, CUT);
  freeze(trunk);
  trunk.eval();
  backbone = trunk;
  return trunk;
}

/** Loads the backbone; returns its size. */
export async function prepareFinetune(): Promise<Record<string, unknown>> {
  const b = await theBackbone();
  return { parameters: b.parameterCount(), cut: CUT, side: SIDE };
}

/** Adds an image (RGB in [0, 1], SIDE × SIDE × 3) as an example of class `label`. */
export function addExample(pixels: Float32Array, label: number): number {
  if (pixels.length !== SIDE * SIDE * 3) throw new Error(`expected a ${SIDE}×${SIDE} RGB image, got ${pixels.length} values`);
  examples.push({ pixels, label });
  return examples.filter((e) => e.label === label).length;
}

export function clearExamples(): void {
  examples.length = 0;
  head?.dispose();
  head = null;
}

/** Trains a new head on the examples; the losses per epoch. */
export async function trainHead(classes: number): Promise<{ losses: number[]; accuracy: number; seconds: number }> {
  const counts = Array.from({ length: classes }, (_, c) => examples.filter((e) => e.label === c).length);
  const empty = counts.findIndex((n) => n === 0);
  if (classes < 2) throw new Error('add a second class: a classifier needs at least two');
  if (empty >= 0) throw new Error(`class ${empty + 1} has no images yet: add a few (3 or more) to each class`);
  const trunk = await theBackbone();
  const started = performance.now();
  const x = new Float32Array(examples.length * SIDE * SIDE * 3);
  examples.forEach((e, i) => x.set(e.pixels, i * SIDE * SIDE * 3));
  const data = createDataset(x, Int32Array.from(examples.map((e) => e.label)), [SIDE, SIDE, 3], { classes });
  head?.dispose();
  head = modelFromConfig(defaultRegistry(), [{ name: 'globalAvgPool2d' }, { name: 'dense', config: { units: classes } }]);
  const model = new Sequential([trunk, head]);
  model.build(data.shape, new Rng(1));
  const history = finetune(model, data, { epochs: 60, batchSize: 16, seed: 1, optimizer: new Adam(undefined, { lr: 0.003 }) });
  return {
    losses: history.epochs.map((e) => e.loss),
    accuracy: history.epochs[history.epochs.length - 1].accuracy,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Class probabilities for one image. */
export async function classify(pixels: Float32Array): Promise<number[]> {
  if (head === null) throw new Error('train the classifier first: add images to each class and press Train');
  const trunk = await theBackbone();
  const h = head;
  return noGrad(() => scope(() => Array.from(softmax(h.forward(trunk.forward(tensor(pixels, [1, SIDE, SIDE, 3])))).data())));
}
