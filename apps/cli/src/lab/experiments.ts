// Every lab experiment, in the order `lab --list` and `lab all` show them: the first six, then
// the rest of the lectures' claims.
import { batchnorm, initActivation, inputScaling, learningRate, optimizers, regularization } from './basics.js';
import { dropoutEnsemble, ensembleSize, randomVsGrid } from './generalization.js';
import type { LabExperiment } from './kit.js';
import { adamBiasCorrection, nesterov, rotatedRavine, saddles, secondOrder } from './optimization.js';
import { activations, batchSize, sharpness, shuffling } from './training.js';

export const LAB: readonly LabExperiment[] = [
  initActivation, batchnorm, learningRate, regularization, optimizers, inputScaling,
  batchSize, shuffling, activations, rotatedRavine, secondOrder, nesterov, adamBiasCorrection, saddles,
  sharpness, dropoutEnsemble, ensembleSize, randomVsGrid,
];
