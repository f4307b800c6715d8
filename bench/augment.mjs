// Image augmentation throughput: @minibatch/augment (WebAssembly kernels of
// packages/core/assembly/augment.ts) against TF.js image ops where TF.js has the op, and
// the share of an MNIST CNN training step that the augmentation pipeline adds.
//
//   node bench/augment.mjs          a human table
//   node bench/augment.mjs --json   one JSON object per line per figure (see DESIGN.md)
//
// Figures (images/s, batches of 256 already in each system's memory):
//  - pipeline-32x32x3 / pipeline-28x28x1: the typical pipeline — pad-4 random crop (reflect),
//    horizontal flip, color jitter, random erasing — one `augment()` call per batch, as the
//    DataLoader hook runs it (per-sample draws in JS, pixels in the kernels);
//  - flip-32x32x3: every image mirrored — our flip kernel vs `tf.image.flipLeftRight`;
//  - cropAndResize-32x32x3: a random box per image resized to 32×32, bilinear — our affine
//    resampling with the same boxes as a matrix vs `tf.image.cropAndResize`;
//  - affine-32x32x3: a random rotation/zoom per image, bilinear — our resampling vs
//    `tf.image.transform` (same matrices).
// TF.js runs on its CPU backend and on its wasm backend with one thread.
//
// train_step_overhead: the time of the 28×28×1 pipeline on a batch of 64 divided by the time
// of one training step (forward, backward, Adam) of the CNN of examples/mnist-cnn.json at
// batch 64 — the fraction the pipeline adds to a step. Runs alternate the two timings.
import { readFileSync } from 'node:fs';
import { Rng, engine, keep, scope, softmaxCrossEntropy, tensor } from '@minibatch/core';
import {
  augment, colorJitter, compose, cropWindows, flip, randomCrop, randomErasing, resampleAffine, warpMatrix,
} from '@minibatch/augment';
import { layers, modelFromConfig } from '@minibatch/layers';
import { Adam } from '@minibatch/optimizers';
import { createRegistry } from '@minibatch/registry';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { rates, summary } from './timing.mjs';

const json = process.argv.includes('--json');
const RUN_MS = 200; // a timed run repeats the call until it lasts about this long
const RUNS = 7;
const BATCH = 256;
const system = engine().build === 'scalar' ? 'minibatch-scalar' : 'minibatch';

/** Images per second of each of RUNS timed runs of `call` (`units` images per call). */
const measure = (call, units) => rates(call, units, { runMs: RUN_MS, runs: RUNS, warmupCalls: 50 });

const records = [];
const record = (kase, sys, metric, values, extra = {}) =>
  records.push({ bench: 'augment', case: kase, system: sys, metric, ...(values === null ? { value: null } : summary(values)), ...extra });

function images(shape, seed) {
  const rng = new Rng(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform());
}

// ---------------------------------------------------------------- the typical pipeline
const rgbPipeline = compose([
  randomCrop({ padding: 4, mode: 'reflect' }), flip(),
  colorJitter({ brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.05 }), randomErasing({ p: 0.5 }),
]);
const grayPipeline = compose([randomCrop({ padding: 4, mode: 'reflect' }), flip(), colorJitter({ brightness: 0.2, contrast: 0.2 }), randomErasing({ p: 0.5 })]);

for (const [kase, shape, pipeline] of [['pipeline-32x32x3', [BATCH, 32, 32, 3], rgbPipeline], ['pipeline-28x28x1', [BATCH, 28, 28, 1], grayPipeline]]) {
  const x = keep(tensor(images(shape, 1), shape));
  const rng = new Rng(2);
  record(kase, system, 'images_per_s', measure(() => scope(() => void augment(pipeline, x, { rng })), BATCH));
  x.dispose();
}

// ---------------------------------------------------------------- single ops vs TF.js
const [H, W, C] = [32, 32, 3];
const shape = [BATCH, H, W, C];
const data = images(shape, 3);
const rng = new Rng(4);
const boxes = Array.from({ length: BATCH }, () => {
  const [y1, x1] = [0.4 * rng.uniform(), 0.4 * rng.uniform()];
  return [y1, x1, y1 + 0.3 + 0.3 * rng.uniform(), x1 + 0.3 + 0.3 * rng.uniform()];
});
// tf.image.cropAndResize's mapping (align corners) as our affine matrices: the same work.
const [CH, CW] = [H, W]; // crop size
const boxMatrices = boxes.map(([y1, x1, y2, x2]) => [(x2 - x1) * (W - 1) / (CW - 1), 0, x1 * (W - 1), 0, (y2 - y1) * (H - 1) / (CH - 1), y1 * (H - 1)]);
const warps = Array.from({ length: BATCH }, () =>
  warpMatrix({ degrees: 30 * (2 * rng.uniform() - 1), tx: 0, ty: 0, scale: 0.9 + 0.2 * rng.uniform(), shear: 0 }, H, W));

const ours = keep(tensor(data, shape));
const flipWindows = Array.from({ length: BATCH }, () => ({ top: 0, left: 0, flipX: true }));
const opCases = [
  ['flip-32x32x3', () => scope(() => void cropWindows(ours, flipWindows)), (t, x) => t.image.flipLeftRight(x)],
  ['cropAndResize-32x32x3', () => scope(() => void resampleAffine(ours, boxMatrices, { size: [CH, CW] })),
    (t, x, inputs) => t.image.cropAndResize(x, inputs.boxes, inputs.boxIndex, [CH, CW], 'bilinear')],
  ['affine-32x32x3', () => scope(() => void resampleAffine(ours, warps, { mode: 'constant' })),
    (t, x, inputs) => t.image.transform(x, inputs.transforms, 'bilinear', 'constant', 0)],
];
for (const [kase, call] of opCases) record(kase, system, 'images_per_s', measure(call, BATCH));

for (const backend of ['cpu', 'wasm']) {
  const sys = `tfjs-${backend}`;
  try {
    if (backend === 'wasm') setThreadsCount(1);
    if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
    await tf.ready();
    const x = tf.tensor4d(data, shape);
    const inputs = {
      boxes: tf.tensor2d(boxes),
      boxIndex: tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i), 'int32'),
      transforms: tf.tensor2d(warps.map((m) => [...m, 0, 0])),
    };
    for (const [kase, , op] of opCases) {
      if (kase.startsWith('affine') && backend === 'cpu') {
        // TF.js 4.22's CPU Transform kernel returns after the first image of the batch.
        record(kase, sys, 'images_per_s', null, { note: "TF.js 4.22's CPU Transform kernel returns after the first image (not the same work)" });
        continue;
      }
      try {
        record(kase, sys, 'images_per_s', measure(() => tf.tidy(() => void op(tf, x, inputs)), BATCH));
      } catch (error) {
        record(kase, sys, 'images_per_s', null, { note: String(error?.message ?? error) });
      }
    }
    tf.dispose([x, ...Object.values(inputs)]);
  } catch (error) {
    for (const [kase] of opCases) record(kase, sys, 'images_per_s', null, { note: String(error?.message ?? error) });
  }
}
ours.dispose();

// ---------------------------------------------------------------- share of a training step
const STEP_BATCH = 64;
const config = JSON.parse(readFileSync(new URL('../examples/mnist-cnn.json', import.meta.url), 'utf8'));
const model = modelFromConfig(createRegistry().use(layers), config.model);
model.build([28, 28, 1], new Rng(1));
model.train();
const optimizer = new Adam(model.parameters(), { lr: 0.002 });
const stepX = keep(tensor(images([STEP_BATCH, 28, 28, 1], 5).map((v) => v - 0.13), [STEP_BATCH, 28, 28, 1]));
const stepY = Array.from({ length: STEP_BATCH }, (_, i) => i % 10);
const trainStep = () => scope(() => {
  const loss = softmaxCrossEntropy(model.forward(stepX), stepY);
  optimizer.zeroGrad();
  loss.backward();
  optimizer.step();
});
const stepRng = new Rng(6);
const augmentStep = () => scope(() => void augment(grayPipeline, stepX, { rng: stepRng }));
// Interleaved runs: step time and pipeline time measured back to back, their ratio per run.
for (let i = 0; i < 5; i++) trainStep();
const timeOf = (fn, reps) => {
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return (performance.now() - t0) / reps;
};
const ratios = [];
const stepMs = [];
const augMs = [];
for (let r = 0; r < RUNS; r++) {
  const s = timeOf(trainStep, 10);
  const a = timeOf(augmentStep, 100);
  stepMs.push(s);
  augMs.push(a);
  ratios.push(a / s);
}
record('mnist-cnn-b64', system, 'train_step_overhead', ratios, {
  step_ms: summary(stepMs).value, augment_ms: summary(augMs).value,
});
model.dispose();
stepX.dispose();

// ---------------------------------------------------------------- output
if (json) {
  for (const r of records) console.log(JSON.stringify(r));
} else {
  console.log(`augment: batches of ${BATCH} images, median of ${RUNS} runs (after warm-up); ${engine().build} kernels\n`);
  console.log(`${'case'.padEnd(24)}${'system'.padEnd(18)}${'images/s'.padStart(12)}${'min'.padStart(12)}${'max'.padStart(12)}`);
  for (const r of records.filter((q) => q.metric === 'images_per_s')) {
    if (r.value === null) console.log(`${r.case.padEnd(24)}${r.system.padEnd(18)}${'—'.padStart(12)}  ${r.note}`);
    else console.log(`${r.case.padEnd(24)}${r.system.padEnd(18)}${String(r.value).padStart(12)}${String(r.min).padStart(12)}${String(r.max).padStart(12)}`);
  }
  const byCase = (kase, sys) => records.find((q) => q.case === kase && q.system === sys)?.value;
  console.log('');
  for (const [kase] of opCases) {
    const mine = byCase(kase, system);
    const parts = ['tfjs-cpu', 'tfjs-wasm'].filter((s) => byCase(kase, s)).map((s) => `${(mine / byCase(kase, s)).toFixed(1)}× ${s}`);
    if (parts.length > 0) console.log(`${kase}: minibatch = ${parts.join(', ')}`);
  }
  const o = records.find((q) => q.metric === 'train_step_overhead');
  console.log(`\ntrain_step_overhead (MNIST CNN of examples/mnist-cnn.json, batch ${STEP_BATCH}): ${(o.value * 100).toFixed(2)}% ` +
    `(min ${(o.min * 100).toFixed(2)}%, max ${(o.max * 100).toFixed(2)}%; step ${o.step_ms} ms, pipeline ${o.augment_ms} ms; target < 10%)`);
}
