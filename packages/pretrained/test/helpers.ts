// Where the real pretrained models of the tests live (npm packages installed as dev
// dependencies), and TF.js — the reference the imports are checked against.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveModelPath } from '../src/node.js';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

/** nsfwjs's ImageNet-pretrained MobileNetV2 (TF.js layers model, uint8 weights, UMD .min.js wrappers). */
export const MOBILENET_DIR = (): string => dirname(resolveModelPath('nsfwjs/dist/models/mobilenet_v2/model.min.js', here));

/** @vladmandic/face-api's model folder (weights manifests + .bin shards). */
export const FACE_API_MODELS = (): string => dirname(resolveModelPath('@vladmandic/face-api/model/face_expression_model.bin', here));

type Tf = typeof import('@tensorflow/tfjs');
let tf: Tf | null = null;

/** @tensorflow/tfjs (layers API included) on its plain-JS cpu backend. */
export async function tfjs(): Promise<Tf> {
  if (tf === null) {
    tf = require('@tensorflow/tfjs') as Tf;
    await tf.setBackend('cpu');
    // The "install tfjs-node" banner is printed once on the first op; nothing to do about it here.
  }
  return tf;
}

/** The parts of face-api the tests use. */
export interface FaceApi {
  tf: Tf;
  FaceExpressionNet: new () => {
    loadFromWeightMap(map: unknown): void;
    forwardInput(input: unknown): { dataSync(): Float32Array };
    faceFeatureExtractor: { forwardInput(input: unknown): { dataSync(): Float32Array } };
  };
  toNetInput(input: unknown): Promise<unknown>;
}

/** face-api's own code (its wasm/cpu Node bundle, on TF.js's cpu backend) — the reference for its networks. */
export async function faceApi(): Promise<FaceApi> {
  const api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  await api.tf.setBackend('cpu');
  return api;
}

/** Relative closeness: |a − b| ≤ rtol·max|b| + rtol·|b| for every element; the worst element on failure. */
export function worstRelative(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (scale + Math.abs(expected[i]) || 1));
  return actual.length === expected.length ? worst : Infinity;
}
