// The browser training benchmark (bench.html; `pnpm --filter demo bench` drives it in Chromium):
// training steps of the MLP 784-256-128-10 (batch 64, Adam 1e-3, real MNIST digits) with
// minibatch on 1 thread and on every core, and with TF.js's WebAssembly backend on 1 thread, in
// the same page. Figures are samples per second in the shared record format; `value` is the
// median of timed windows after a warm-up.
import { createEngine, engine, useEngine } from '@minibatch/core';
import { DataLoader, createDataset } from '@minibatch/data';
import { losses, modelFromConfig } from '@minibatch/layers';
import { Adam } from '@minibatch/optimizers';
import { defaultRegistry, trainStep } from '@minibatch/train';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients'; // the gradients optimizer.minimize needs (the tfjs bundle registers them)
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

const BATCH = 64;
const WARMUP = 10;
const WINDOW = 25;
const WINDOWS = 5;

interface BenchRecord {
  bench: 'browser';
  case: 'mlp';
  system: string;
  metric: 'samples_per_s' | 'error';
  value: number | null;
  min?: number;
  max?: number;
  runs?: number;
  note?: string;
}

const out = document.getElementById('bench-output')!;
const status = document.getElementById('bench-status')!;
const records: BenchRecord[] = [];
const emit = (r: BenchRecord) => {
  records.push(r);
  out.textContent += `${JSON.stringify(r)}\n`;
};

/** Median, min and max of per-window rates. */
function summary(rates: number[]): Pick<BenchRecord, 'value' | 'min' | 'max' | 'runs'> {
  const s = [...rates].sort((a, b) => a - b);
  const round = (v: number) => Number(v.toPrecision(4));
  return { value: round(s[s.length >> 1]), min: round(s[0]), max: round(s[s.length - 1]), runs: s.length };
}

/** Times `step` (one training step of BATCH samples): a warm-up, then WINDOWS windows of WINDOW steps. */
async function time(step: () => void | Promise<void>): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await step();
  const rates: number[] = [];
  for (let w = 0; w < WINDOWS; w++) {
    const t0 = performance.now();
    for (let i = 0; i < WINDOW; i++) await step();
    rates.push((WINDOW * BATCH * 1000) / (performance.now() - t0));
  }
  return rates;
}

async function mnist(): Promise<{ x: Float32Array; y: Int32Array }> {
  const bytes = new Uint8Array(await (await fetch(new URL('data/mnist.bin', document.baseURI))).arrayBuffer());
  const n = 2048;
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = bytes[i] / 255;
  // The labels follow the 8,000 training images.
  const y = Int32Array.from(bytes.subarray(8000 * 784, 8000 * 784 + n));
  return { x, y };
}

async function minibatch(threads: number, data: { x: Float32Array; y: Int32Array }): Promise<void> {
  const system = `minibatch-browser-${threads}t`;
  const previous = useEngine(await createEngine({ threads }));
  try {
    const model = modelFromConfig(defaultRegistry(), [
      { name: 'flatten' },
      { name: 'dense', config: { units: 256, activation: 'relu' } },
      { name: 'dense', config: { units: 128, activation: 'relu' } },
      { name: 'dense', config: { units: 10 } },
    ]);
    const ds = createDataset(data.x, data.y, [28, 28, 1], { classes: 10 });
    model.build(ds.shape);
    model.train();
    const optimizer = new Adam(model.trainableParameters(), { lr: 1e-3 });
    const loader = new DataLoader(ds, { batchSize: BATCH, seed: 1, dropLast: true });
    const batches = loader.stream();
    const loss = losses.softmaxCrossEntropy();
    const rates = await time(() => void trainStep(model, batches.next().value, { loss, optimizer }));
    emit({ bench: 'browser', case: 'mlp', system, metric: 'samples_per_s', ...summary(rates), note: `${engine().build} kernels, ${engine().threads} thread(s)` });
    optimizer.dispose();
    model.dispose();
  } catch (error) {
    emit({ bench: 'browser', case: 'mlp', system, metric: 'error', value: null, note: (error as Error).message.split('\n')[0] });
  } finally {
    useEngine(previous)?.close();
  }
}

async function tfjsWasm(data: { x: Float32Array; y: Int32Array }): Promise<void> {
  const system = 'tfjs-wasm-browser-1t';
  try {
    setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded });
    setThreadsCount(1); // the same thread count as minibatch-browser-1t
    if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') failed");
    await tf.ready();
    // The same MLP with TF.js's ops: He-normal weights, softmax cross-entropy, Adam 1e-3.
    const dims = [784, 256, 128, 10];
    const weights = dims.slice(1).map((units, i) => tf.variable(tf.randomNormal([dims[i], units], 0, Math.sqrt(2 / dims[i]))));
    const biases = dims.slice(1).map((units) => tf.variable(tf.zeros([units])));
    const optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
    const n = data.y.length;
    const x = tf.tensor2d(data.x, [n, 784]);
    const y = tf.oneHot(tf.tensor1d(data.y, 'int32'), 10);
    let at = 0;
    const rates = await time(() => {
      const start = at;
      at = (at + BATCH) % (n - BATCH);
      tf.tidy(() => {
        const xb = tf.slice(x, [start, 0], [BATCH, 784]);
        const yb = tf.slice(y, [start, 0], [BATCH, 10]);
        optimizer.minimize(() => {
          let h: tf.Tensor = xb;
          weights.forEach((w, i) => {
            h = tf.add(tf.matMul(h, w), biases[i]);
            if (i < weights.length - 1) h = tf.relu(h);
          });
          return tf.losses.softmaxCrossEntropy(yb, h) as tf.Scalar;
        });
      });
    });
    const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
    emit({ bench: 'browser', case: 'mlp', system, metric: 'samples_per_s', ...summary(rates), note: `TF.js 4.22 wasm backend${simd ? ' (SIMD)' : ''}, 1 thread` });
  } catch (error) {
    emit({ bench: 'browser', case: 'mlp', system, metric: 'error', value: null, note: (error as Error).message.split('\n')[0] });
  }
}

async function main(): Promise<void> {
  const data = await mnist();
  const cores = navigator.hardwareConcurrency || 1;
  await minibatch(1, data);
  if (!crossOriginIsolated) {
    emit({ bench: 'browser', case: 'mlp', system: `minibatch-browser-${cores}t`, metric: 'error', value: null, note: 'the page is not cross-origin isolated: one thread only' });
  } else if (cores > 1) {
    await minibatch(cores, data);
  }
  await tfjsWasm(data);
  status.textContent = 'Done.';
  (window as unknown as { benchRecords: BenchRecord[] }).benchRecords = records;
}

main().catch((error) => {
  status.textContent = `Failed: ${(error as Error).message}`;
  (window as unknown as { benchRecords: BenchRecord[] }).benchRecords = records;
});
