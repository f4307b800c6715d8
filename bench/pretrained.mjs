// Pretrained networks: nsfwjs's ImageNet MobileNetV2 (224×224×3), the same file everywhere.
//
//   infer-1, infer-32   inference images/s at batch 1 and 32: minibatch (1 and all threads),
//                       TF.js-wasm (1 thread; its layers model loaded from the same files) and
//                       onnxruntime-node (1 and all intra-op threads; the network as minibatch
//                       exports it to ONNX).
//   finetune-32         one fine-tuning step at batch 32 — forward, backward through the thawed
//                       top (blocks 13–16 and Conv_1; the rest frozen, BatchNorm in inference
//                       mode), Adam update — with a new head (global average pool, dense 10):
//                       minibatch (1 and all threads) against PyTorch CPU (pretrained_torch.py
//                       builds the same architecture; weights need not be pretrained for timing).
//                       TF.js-wasm is tried too: it has no convolution gradients.
//   cache               an epoch of the head on 256 samples: on cached features against
//                       recomputing the frozen backbone every batch (batch 32, minibatch, all threads).
//
//   node bench/pretrained.mjs            a human table per case, then ratios
//   node bench/pretrained.mjs --json     one JSON object per line per figure (see DESIGN.md)
//   node bench/pretrained.mjs --case infer-1 --system minibatch-1t,tfjs-wasm    re-run some cells
//
// Each system and case runs in its own child process. A figure is the median of runs of back-
// to-back calls (timing.mjs: a warm-up, then runs of about 1.5 s each), min and max beside it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveModelPath } from '@minibatch/pretrained/node';
import { listFlag, rates, summary } from './timing.mjs';

const THREADS = [...new Set([1, availableParallelism()])];
const CASES = {
  'infer-1': { title: 'MobileNetV2 224×224 inference, batch 1', unit: 'images_per_s', systems: [...THREADS.map((n) => `minibatch-${n}t`), 'tfjs-wasm', ...THREADS.map((n) => `onnxruntime-${n}t`)] },
  'infer-32': { title: 'MobileNetV2 224×224 inference, batch 32', unit: 'images_per_s', systems: [...THREADS.map((n) => `minibatch-${n}t`), 'tfjs-wasm', ...THREADS.map((n) => `onnxruntime-${n}t`)] },
  'finetune-32': { title: 'fine-tuning step (blocks 13–16 + Conv_1 + new head), batch 32', unit: 'samples_per_s', systems: [...THREADS.map((n) => `minibatch-${n}t`), 'tfjs-wasm', ...THREADS.map((n) => `torch-${n}t`)] },
  cache: { title: 'an epoch of the head, 256 samples, batch 32 (all threads)', unit: 'samples_per_s', systems: ['minibatch-cached', 'minibatch-recompute'] },
};
const THAW = 'block_13_expand';
const argv = process.argv.slice(2);
const require = createRequire(import.meta.url);

/** nsfwjs's model folder. */
const modelDir = () => dirname(resolveModelPath('nsfwjs/dist/models/mobilenet_v2/model.min.js', dirname(fileURLToPath(import.meta.url))));

function findTorchPython() {
  const candidates = [...new Set([process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean))];
  return candidates.find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) ?? null;
}

// ------------------------------------------------------------------ the orchestrator

function runCell(kase, system, dir, python) {
  const out = join(dir, `result-${kase}-${system}.json`);
  const threads = Number(/-(\d+)t$/.exec(system)?.[1] ?? availableParallelism());
  const job = { case: kase, system, threads, out, dir, thaw: THAW };
  const env = { ...process.env };
  let command, args;
  if (system.startsWith('torch')) {
    if (python === null) return { error: 'skipped: no Python with torch (`python3 -c "import torch"` fails) — apt install python3-torch' };
    [command, args] = [python, [fileURLToPath(new URL('pretrained_torch.py', import.meta.url)), JSON.stringify(job)]];
    env.OMP_NUM_THREADS = String(threads);
  } else {
    [command, args] = [process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify(job)]];
  }
  const run = spawnSync(command, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  if (existsSync(out)) return JSON.parse(readFileSync(out, 'utf8'));
  const said = `${run.stderr ?? ''}${run.stdout ?? ''}`.trim().split('\n').slice(-3).join(' | ');
  return { error: `${system} exited with ${run.signal ?? run.status}: ${said}` };
}

async function main() {
  const json = argv.includes('--json');
  const cases = listFlag(argv, 'pretrained', 'case', Object.keys(CASES));
  const all = [...new Set(Object.values(CASES).flatMap((c) => c.systems))];
  const systems = listFlag(argv, 'pretrained', 'system', all);
  const dir = mkdtempSync(join(tmpdir(), 'minibatch-bench-pretrained-'));
  const records = [];
  try {
    // The ONNX file every onnxruntime cell runs: the network as minibatch exports it.
    if (systems.some((s) => s.startsWith('onnxruntime'))) {
      const { loadFile } = await import('@minibatch/pretrained/node');
      const { exportOnnx } = await import('@minibatch/pretrained');
      writeFileSync(join(dir, 'mobilenet.onnx'), exportOnnx(await loadFile(join(modelDir(), 'model.min.js'))));
    }
    const python = systems.some((s) => s.startsWith('torch')) ? findTorchPython() : null;
    for (const kase of cases) {
      const rows = [];
      for (const system of CASES[kase].systems.filter((s) => systems.includes(s))) {
        const result = runCell(kase, system, dir, python);
        const base = { bench: 'pretrained', case: kase, system };
        const record = result.error
          ? { ...base, metric: 'error', value: null, note: result.error }
          : { ...base, metric: CASES[kase].unit, ...summary(result.rates), ...(result.note ? { note: result.note } : {}) };
        records.push(record);
        rows.push(record);
        if (json) console.log(JSON.stringify(record));
      }
      if (!json) printCase(kase, rows);
    }
    if (!json) printRatios(records);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printCase(kase, rows) {
  console.log(`\n${kase} — ${CASES[kase].title} (${CASES[kase].unit.replace(/_/g, ' ')}, median [min–max])`);
  for (const r of rows) {
    if (r.metric === 'error') console.log(`${r.system.padEnd(22)}  —   ${r.note}`);
    else console.log(`${r.system.padEnd(22)}  ${String(r.value).padStart(8)}  [${r.min}–${r.max}]${r.note ? `   ${r.note}` : ''}`);
  }
}

function printRatios(records) {
  const get = (kase, system) => records.find((r) => r.case === kase && r.system === system && r.metric !== 'error')?.value;
  const all = THREADS.at(-1);
  const lines = [
    ['infer-1', 'minibatch-1t', 'tfjs-wasm', 'batch 1, minibatch 1 thread ÷ TF.js-wasm 1 thread', '≥ 1.0×'],
    ['infer-32', 'minibatch-1t', 'tfjs-wasm', 'batch 32, minibatch 1 thread ÷ TF.js-wasm 1 thread', '≥ 1.0×'],
    ['infer-1', 'minibatch-1t', 'onnxruntime-1t', 'batch 1, minibatch ÷ onnxruntime, 1 thread', 'reported'],
    ['infer-32', 'minibatch-1t', 'onnxruntime-1t', 'batch 32, minibatch ÷ onnxruntime, 1 thread', 'reported'],
    ['infer-32', `minibatch-${all}t`, `onnxruntime-${all}t`, `batch 32, minibatch ÷ onnxruntime, ${all} threads`, 'reported'],
    ['finetune-32', 'minibatch-1t', 'torch-1t', 'fine-tuning step, minibatch ÷ PyTorch, 1 thread', '≥ 0.8×'],
    ['finetune-32', `minibatch-${all}t`, `torch-${all}t`, `fine-tuning step, minibatch ÷ PyTorch, ${all} threads`, '≥ 0.8×'],
    ['cache', 'minibatch-cached', 'minibatch-recompute', 'head epoch, cached features ÷ recomputing the backbone', '≥ 20×'],
  ];
  console.log('\nratio (medians, same run)                                    target    measured');
  for (const [kase, a, b, label, target] of lines) {
    const [x, y] = [get(kase, a), get(kase, b)];
    console.log(`${label.padEnd(60)} ${target.padEnd(9)} ${x && y ? `${(x / y).toFixed(2)}×` : '—'}`);
  }
}

// ------------------------------------------------------------------ the children

async function child(job) {
  const result = { rates: [] };
  try {
    Object.assign(result, await (job.system.startsWith('minibatch') ? minibatch(job) : job.system === 'tfjs-wasm' ? tfjsWasm(job) : onnxRuntime(job)));
  } catch (error) {
    result.error = String(error?.message ?? error).split('\n')[0];
  }
  writeFileSync(job.out, JSON.stringify(result));
}

const batchOf = (kase) => (kase === 'infer-1' ? 1 : 32);

async function minibatch(job) {
  const mb = await import('@minibatch/core');
  const { Dense, GlobalAvgPool2d, Sequential } = await import('@minibatch/layers');
  const { Adam } = await import('@minibatch/optimizers');
  const { cut, freeze, finetune } = await import('@minibatch/pretrained');
  const { loadFile } = await import('@minibatch/pretrained/node');
  const { createDataset } = await import('@minibatch/data');
  await mb.init({ threads: job.threads });
  const net = await loadFile(join(modelDir(), 'model.min.js'));
  const rng = new mb.Rng(1);
  const note = `${mb.engine().build} kernels, ${mb.engine().threads} thread${mb.engine().threads > 1 ? 's' : ''}`;
  if (job.case.startsWith('infer')) {
    const n = batchOf(job.case);
    const x = mb.keep(mb.rand([n, 224, 224, 3], { rng }));
    return { rates: rates(() => mb.noGrad(() => mb.scope(() => void net.forward(x).data())), n, { runMs: 1500, runs: 5, warmupCalls: 2 }), note };
  }
  // A new head on the backbone cut at its last feature map; everything below the thaw point frozen.
  const model = new Sequential([cut(net, 'out_relu'), new GlobalAvgPool2d(), new Dense({ units: 10 })]);
  model.build([224, 224, 3], rng);
  freeze(model.layers[0]);
  if (job.case === 'finetune-32') {
    const { unfreeze } = await import('@minibatch/pretrained');
    unfreeze(model.layers[0], { from: job.thaw });
    for (const node of model.layers[0].nodes) if (node.layer.name === 'batchNorm') node.layer.setTrainable(false);
    const optimizer = new Adam(model.trainableParameters(), { lr: 1e-3 });
    const x = mb.keep(mb.rand([32, 224, 224, 3], { rng }));
    const y = Array.from({ length: 32 }, (_, i) => i % 10);
    model.train();
    const step = () => mb.scope(() => {
      const loss = mb.softmaxCrossEntropy(model.forward(x), y);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      return loss.item();
    });
    return { rates: rates(step, 32, { runMs: 1500, runs: 5, warmupCalls: 2 }), note: `${note}; ${optimizer.groups[0].params.length} tensors train` };
  }
  // cache: one epoch of the head on 256 samples, with features cached (computed once, outside the timing) or recomputed.
  const count = 256;
  const data = createDataset(mb.rand([count, 224, 224, 3], { rng }).data(), Int32Array.from({ length: count }, (_, i) => i % 10), [224, 224, 3], { classes: 10 });
  const optimizer = () => new Adam(undefined, { lr: 1e-3 });
  if (job.system === 'minibatch-cached') {
    const { cacheFeatures } = await import('@minibatch/pretrained');
    const features = cacheFeatures(model.layers[0], data, { batchSize: 32 });
    const { fit } = await import('@minibatch/train');
    const head = new Sequential(model.layers.slice(1));
    return { rates: rates(() => fit(head, features, { epochs: 1, batchSize: 32, metrics: [], optimizer: optimizer() }), count, { runMs: 1000, runs: 5 }), note };
  }
  return { rates: rates(() => finetune(model, data, { epochs: 1, batchSize: 32, metrics: [], optimizer: optimizer(), cache: false }), count, { runMs: 1, runs: 3, warmupCalls: 1 }), note };
}

async function tfjsWasm(job) {
  const tf = await import('@tensorflow/tfjs');
  (await import('@tensorflow/tfjs-backend-wasm')).setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') failed");
  const dir = modelDir();
  const topology = require(join(dir, 'model.min.js'));
  const shard = Buffer.from(require(join(dir, 'group1-shard1of1.min.js')), 'base64');
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topology.modelTopology, weightSpecs: topology.weightsManifest[0].weights, weightData: shard.buffer.slice(shard.byteOffset, shard.byteOffset + shard.length) }));
  const n = batchOf(job.case);
  const x = tf.randomUniform([n, 224, 224, 3]);
  if (job.case.startsWith('infer')) return { rates: rates(() => tf.tidy(() => model.predict(x).dataSync()), n, { runMs: 1500, runs: 5, warmupCalls: 2 }), note: 'wasm backend, 1 thread' };
  // Fine-tuning needs the gradients of convolutions: name the kernels the backend lacks (training
  // with them missing aborts the WebAssembly module rather than saying so).
  const missing = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'].filter((k) => !tf.getKernel(k, 'wasm'));
  if (missing.length > 0) throw new Error(`cannot train convolutions: the wasm backend registers no ${missing.join(', ')} kernel${missing.length > 1 ? 's' : ''}`);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => i % 5), 'int32'), 5);
  tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })));
  throw new Error('TF.js-wasm computed a convolution gradient: update this benchmark');
}

async function onnxRuntime(job) {
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(readFileSync(join(job.dir, 'mobilenet.onnx')), { intraOpNumThreads: job.threads, interOpNumThreads: 1 });
  const n = batchOf(job.case);
  const feed = { [session.inputNames[0]]: new ort.Tensor('float32', Float32Array.from({ length: n * 3 * 224 * 224 }, () => Math.random()), [n, 3, 224, 224]) };
  // session.run is asynchronous: time runs of back-to-back awaited calls, after a warm-up.
  for (let i = 0; i < 2; i++) await session.run(feed);
  const once = await (async () => { const t = performance.now(); await session.run(feed); return performance.now() - t; })();
  const reps = Math.max(1, Math.round(1500 / once));
  const out = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let q = 0; q < reps; q++) await session.run(feed);
    out.push((n * reps * 1000) / (performance.now() - t0));
  }
  return { rates: out, note: `onnxruntime-node, CPU, ${job.threads} intra-op thread${job.threads > 1 ? 's' : ''}` };
}

if (argv[0] === '--child') await child(JSON.parse(argv[1]));
else {
  await main().catch((error) => {
    console.error(`pretrained: ${String(error?.message ?? error).split('\n')[0]}`);
    process.exitCode = 1;
  });
}
