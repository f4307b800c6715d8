// The run configs the live-training page builds from its form: the repository's example MLP
// and CNN, with the optimizer, schedule, batch size, regularization and augmentation the person
// picked — the same JSON the `minibatch` command trains.
import cnn from '../../../examples/mnist-cnn.json';
import mlp from '../../../examples/mnist-mlp.json';
import type { NumberSpec } from './components/Form.js';

export const MODELS = [['mlp', 'MLP (784-256-128-10, ReLU)'], ['cnn', 'CNN (2 conv + BatchNorm + pool)']] as const;
export const OPTIMIZERS = [
  ['sgd', 'SGD'], ['momentum', 'SGD + momentum 0.9'], ['nesterov', 'Nesterov momentum 0.9'], ['adagrad', 'AdaGrad'], ['rmsprop', 'RMSProp'], ['adam', 'Adam'],
] as const;
export const SCHEDULES = [['constant', 'constant'], ['cosine', 'cosine annealing to 0'], ['step', 'step decay (×0.5 per epoch)']] as const;
export const AUGMENTATIONS = [['none', 'none'], ['shift', 'shifts ±10% and rotations ±10°'], ['erase', 'random erasing']] as const;

export type ModelName = (typeof MODELS)[number][0];
export type OptimizerName = (typeof OPTIMIZERS)[number][0];

export interface Settings {
  dataset: string;
  model: ModelName;
  optimizer: OptimizerName;
  schedule: (typeof SCHEDULES)[number][0];
  augmentation: (typeof AUGMENTATIONS)[number][0];
  lr: number;
  batchSize: number;
  epochs: number;
  dropout: number;
  l2: number;
}

/** The numeric fields, with the ranges the page accepts. */
export const LIMITS = {
  lr: { label: 'learning rate', min: 1e-6, max: 10 },
  batchSize: { label: 'batch size', min: 1, max: 1024, integer: true },
  epochs: { label: 'epochs', min: 1, max: 50, integer: true },
  dropout: { label: 'dropout rate', min: 0, max: 0.9 },
  l2: { label: 'L2 penalty λ', min: 0, max: 1 },
} satisfies Record<string, NumberSpec>;

/** A good learning rate to start from, per optimizer. */
export const DEFAULT_LR: Record<OptimizerName, number> = { sgd: 0.1, momentum: 0.01, nesterov: 0.01, adagrad: 0.01, rmsprop: 0.001, adam: 0.001 };

/** How many training samples the page's split leaves (10% of the training part is held out). */
export const VALIDATION = 0.1;

type Spec = { name: string; config?: Record<string, unknown> };

function optimizerSpec(s: Settings, stepsPerEpoch: number): Spec {
  const lr =
    s.schedule === 'cosine' ? { kind: 'schedule', name: 'cosine', config: { initial: s.lr, steps: stepsPerEpoch * s.epochs } }
    : s.schedule === 'step' ? { kind: 'schedule', name: 'stepDecay', config: { initial: s.lr, stepSize: stepsPerEpoch, gamma: 0.5 } }
    : s.lr;
  switch (s.optimizer) {
    case 'momentum': return { name: 'sgd', config: { lr, momentum: 0.9 } };
    case 'nesterov': return { name: 'sgd', config: { lr, momentum: 0.9, nesterov: true } };
    default: return { name: s.optimizer, config: { lr } };
  }
}

/** Dropout after every hidden layer's activation (MLP), or before the classifier (CNN). */
function withDropout(model: Spec[], rate: number, kind: ModelName): Spec[] {
  if (rate === 0) return model;
  const out: Spec[] = [];
  model.forEach((layer, i) => {
    if (kind === 'cnn' && i === model.length - 1) out.push({ name: 'dropout', config: { rate } });
    out.push(layer);
    if (kind === 'mlp' && layer.name === 'dense' && i < model.length - 1) out.push({ name: 'dropout', config: { rate } });
  });
  return out;
}

export function runConfig(s: Settings, trainCount: number): Record<string, unknown> {
  const base = s.model === 'mlp' ? mlp : cnn;
  const stepsPerEpoch = Math.ceil((trainCount * (1 - VALIDATION)) / s.batchSize);
  return {
    data: { name: s.dataset, validation: VALIDATION },
    preprocessing: base.preprocessing,
    augment:
      s.augmentation === 'shift' ? [{ name: 'translate', config: { x: 0.1, y: 0.1 } }, { name: 'rotate', config: { degrees: 10 } }]
      : s.augmentation === 'erase' ? [{ name: 'randomErasing', config: { p: 0.5 } }]
      : [],
    model: withDropout(base.model as Spec[], s.dropout, s.model),
    loss: { name: 'softmaxCrossEntropy' },
    optimizer: optimizerSpec(s, stepsPerEpoch),
    regularization: s.l2 > 0 ? [{ name: 'l2', config: { lambda: s.l2 } }] : [],
    epochs: s.epochs,
    batchSize: s.batchSize,
    seed: 1,
  };
}
