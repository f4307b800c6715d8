// Threads: the same work on 1 and on 2 threads gives bit-identical results (each part of a
// split kernel computes its elements exactly as the whole call would), for products big
// enough to be split, in every transpose variant, through convolution and its gradients,
// and over a few training steps. The relaxed-SIMD build (fused multiply-add) agrees with
// the SIMD build within a reordering tolerance.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import * as mb from '../src/index.js';
import { Rng, createEngine, init, useEngine, type Engine, type Tensor } from '../src/index.js';
import { tileGrid } from '../src/ops/matmul.js';
import { oneAndTwoThreads } from './engines.js';

const engines = oneAndTwoThreads();

function normals(seed: number, n: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** Runs fn in engine e on the given inputs and returns the output and the inputs' gradients. */
function run(e: Engine, shapes: number[][], fn: (...xs: Tensor[]) => Tensor): Float32Array[] {
  const previous = useEngine(e);
  try {
    return mb.scope(() => {
      const xs = shapes.map((s, i) => mb.tensor(normals(i + 1, s.reduce((a, b) => a * b, 1)), s).setRequiresGrad());
      const y = fn(...xs);
      y.backward(mb.tensor(normals(99, y.size), y.shape));
      return [y.data(), ...xs.map((x) => x.grad!.data())];
    });
  } finally {
    useEngine(previous);
  }
}

function expectIdentical(shapes: number[][], fn: (...xs: Tensor[]) => Tensor): void {
  const a = run(engines.one, shapes, fn);
  const b = run(engines.two, shapes, fn);
  expect(b.length).toBe(a.length);
  for (let i = 0; i < a.length; i++) expect(Buffer.from(b[i].buffer).equals(Buffer.from(a[i].buffer))).toBe(true);
}

/** Three SGD steps of an MLP on batch 128 in engine e: its weights. */
function trainMlp(e: Engine): Float32Array {
  const previous = useEngine(e);
  try {
    return mb.scope(() => {
      const w1 = mb.keep(mb.tensor(normals(1, 784 * 256), [784, 256]).mul(0.05));
      const w2 = mb.keep(mb.tensor(normals(2, 256 * 10), [256, 10]).mul(0.05));
      const x = mb.tensor(normals(3, 128 * 784), [128, 784]);
      const labels = Array.from({ length: 128 }, (_, i) => i % 10);
      for (let step = 0; step < 3; step++) {
        mb.scope(() => {
          w1.setRequiresGrad();
          w2.setRequiresGrad();
          const loss = mb.softmaxCrossEntropy(mb.matmul(mb.relu(mb.matmul(x, w1)), w2), labels);
          loss.backward();
          w1.assign(mb.noGrad(() => w1.sub(w1.grad!.mul(0.1))));
          w2.assign(mb.noGrad(() => w2.sub(w2.grad!.mul(0.1))));
        });
      }
      return Float32Array.from([...w1.data(), ...w2.data()]);
    });
  } finally {
    useEngine(previous);
  }
}

describe('threads', () => {
  it('starts the pool: 2 threads where asked, 1 by request', () => {
    expect(engines.two.threads).toBe(2);
    expect(engines.one.threads).toBe(1);
    expect(engines.two.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(engines.one.memory.buffer).toBeInstanceOf(ArrayBuffer);
  });

  it.each([
    ['NN wide', [96, 300], [300, 500], {}],
    ['NN tall', [700, 200], [200, 90], {}],
    ['NT', [130, 256], [600, 256], { transposeB: true }],
    ['TN', [256, 333], [256, 520], { transposeA: true }],
    ['TT', [300, 200], [410, 300], { transposeA: true, transposeB: true }],
    ['narrow C (computed as Cᵀ)', [2000, 100], [100, 16], {}],
    ['mini-batch sized, ragged (shared packing, edge tiles, 3 k blocks)', [67, 700], [700, 131], {}],
    ['too big to share one packing (each part packs its own block)', [1100, 512], [512, 300], {}],
    ['batched', [3, 128, 200], [3, 200, 160], {}],
  ] as const)('matmul %s: identical on 1 and 2 threads', (_name, sa, sb, options) => {
    expectIdentical([[...sa], [...sb]], (a, b) => mb.matmul(a, b, options));
  });

  it('conv2d forward and gradients (direct and chunked kernels): identical on 1 and 2 threads', () => {
    expectIdentical([[32, 28, 28, 3], [5, 5, 3, 16]], (x, w) => mb.conv2d(x, w, { padding: 'same' }));
    expectIdentical([[16, 14, 14, 8], [3, 3, 8, 32]], (x, w) => mb.relu(mb.conv2d(x, w, { strides: 2, padding: 'valid' })));
    expectIdentical([[32, 14, 14, 16], [5, 5, 16, 8]], (x, w) => mb.conv2d(x, w, { padding: 'same' })); // direct dx
    expectIdentical([[32, 28, 28, 1], [5, 5, 1, 8]], (x, w) => mb.conv2d(x, w, { padding: 'same' })); // one input channel
  });

  it('conv2d on one image: cut into bands of output rows on 2 threads, identical to 1 thread', () => {
    // A band is the kernel on the whole image with its top padding moved: the one-channel,
    // strip and chunked kernels, stride 2, dilation, uneven bands, and the direct input gradient.
    expectIdentical([[1, 64, 64, 1], [5, 5, 1, 8]], (x, w) => mb.conv2d(x, w, { padding: 'same' }));
    expectIdentical([[1, 40, 40, 16], [5, 5, 16, 8]], (x, w) => mb.conv2d(x, w, { padding: 'same' }));
    expectIdentical([[1, 91, 91, 3], [3, 3, 3, 32]], (x, w) => mb.conv2d(x, w, { strides: 2, padding: 'same' }));
    expectIdentical([[1, 30, 30, 9], [3, 3, 9, 40]], (x, w) => mb.conv2d(x, w, { padding: 'same' }));
    expectIdentical([[1, 40, 40, 4], [3, 3, 4, 16]], (x, w) => mb.conv2d(x, w, { dilations: 2, padding: 'same' }));
    expectIdentical([[1, 37, 33, 8], [4, 3, 8, 16]], (x, w) => mb.conv2d(x, w, { padding: [[3, 0], [1, 2]] }));
    expectIdentical([[20, 20, 20, 9], [3, 3, 9, 12]], (x, w) => mb.conv2d(x, w, { padding: 'same' })); // chunked im2col
  });

  it('depthwise conv2d forward and gradients (split by rows, batch 1 too): identical on 1 and 2 threads', () => {
    expectIdentical([[1, 56, 56, 96], [3, 3, 96, 1]], (x, w) => mb.depthwiseConv2d(x, w, { padding: 'same' }));
    expectIdentical([[16, 28, 28, 40], [3, 3, 40, 1]], (x, w) => mb.depthwiseConv2d(x, w, { strides: 2, padding: 'same' }));
  });

  it('pooling and big elementwise ops, forward and backward: identical on 1 and 2 threads', () => {
    expectIdentical([[64, 28, 28, 8]], (x) => mb.maxPool2d(mb.relu(x), { size: 2 }));
    expectIdentical([[64, 28, 28, 8]], (x) => mb.tanh(mb.sigmoid(x)));
  });

  it('a shared GEMM gives every thread the same number of tiles where the strips allow', () => {
    // The MLP's products (batch 64, 784-256-128-10): [m, n, k] → row and column strips of 5 × 8.
    for (const [m, n, k] of [[64, 256, 784], [64, 128, 256], [64, 256, 128], [256, 128, 64], [784, 256, 64], [128, 512, 512]]) {
      const [mStrips, nStrips] = [Math.ceil(m / 5), Math.ceil(n / 8)];
      for (const threads of [2, 4]) {
        const [rows, cols] = tileGrid(mStrips, nStrips, k, mStrips * 5 * k * 16, nStrips * 8 * k * 4, threads, 4 * threads);
        const sizes = (total: number, count: number) => Array.from({ length: count }, (_, p) => Math.floor(((p + 1) * total) / count) - Math.floor((p * total) / count));
        const blocks = sizes(mStrips, rows).flatMap((r) => sizes(nStrips, cols).map((c) => r * c));
        expect(blocks.length % threads, `${m}×${n}×${k} on ${threads}`).toBe(0);
        expect(Math.max(...blocks) - Math.min(...blocks), `${m}×${n}×${k} on ${threads}: blocks ${blocks}`).toBeLessThanOrEqual(Math.max(...blocks) / 8);
      }
    }
  });

  it('a few training steps of an MLP end with identical weights', () => {
    expect(Buffer.from(trainMlp(engines.two).buffer).equals(Buffer.from(trainMlp(engines.one).buffer))).toBe(true);
  });

  it('a worker terminated mid-run: calls go on without waiting for it, it is taken for dead after a second of silence, results stay the same, no deadlock', async () => {
    const e = await createEngine({ build: 'simd', threads: 2 });
    await e.ready();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      expect(e.threads).toBe(2);
      const product = () => run(e, [[200, 300], [300, 400]], (x, y) => mb.matmul(x, y));
      const before = product(); // the pool at work
      const worker = (e as unknown as { pool: { workers: { terminate(): Promise<number> }[] } }).pool.workers[0];
      await worker.terminate();
      // The caller takes every part the dead worker does not: no call waits for it.
      let started = performance.now();
      const after = product();
      expect(performance.now() - started).toBeLessThan(500);
      expect(Buffer.from(after[0].buffer).equals(Buffer.from(before[0].buffer))).toBe(true);
      started = performance.now();
      while (e.threads === 2 && performance.now() - started < 5000) product();
      expect(e.threads).toBe(1);
      expect(performance.now() - started).toBeGreaterThan(900); // a second of silence, not one late wake-up
      // Training steps after the loss: exactly the one-thread weights.
      expect(Buffer.from(trainMlp(e).buffer).equals(Buffer.from(trainMlp(engines.one).buffer))).toBe(true);
      await new Promise((r) => setTimeout(r, 0)); // warnings are emitted on the next tick
      expect(warnings).toEqual([expect.stringMatching(/a worker thread stopped responding; it gets no more work \(0 of 1 workers left\)/)]);
    } finally {
      process.off('warning', onWarning);
      e.close();
    }
  });

  it('a worker that wakes too late for every call is slow, not dead: it is never taken for dead', async () => {
    const e = await createEngine({ build: 'simd', threads: 2 });
    await e.ready();
    try {
      // Two-part calls far shorter than a wake-up from sleep (a few floats each), spaced
      // so that the worker falls asleep between them: it wakes after the caller has done
      // both parts, every time, and answers too late to join.
      const buffer = e.alloc(64);
      const started = performance.now();
      while (performance.now() - started < 1500) {
        e.parallel('fill', [[buffer, 4, 1], [buffer + 16, 4, 2]]);
        const until = performance.now() + 2;
        while (performance.now() < until); // longer than the worker's spin
      }
      expect([...e.f32(buffer, 8)]).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
      expect(e.threads).toBe(2);
    } finally {
      e.close();
    }
  });

  it('keeps working on one thread after close()', async () => {
    const e = await createEngine({ build: 'simd', threads: 2 });
    e.close();
    const a = run(e, [[200, 300], [300, 400]], (x, y) => mb.matmul(x, y));
    const b = run(engines.one, [[200, 300], [300, 400]], (x, y) => mb.matmul(x, y));
    expect(Buffer.from(a[0].buffer).equals(Buffer.from(b[0].buffer))).toBe(true);
  });

  it('says what to do with a thread count it cannot use', async () => {
    await expect(createEngine({ threads: 0 })).rejects.toThrow(/threads must be an integer from 1 to 64 or 'auto', got 0/);
    await expect(createEngine({ threads: 2.5 })).rejects.toThrow(/got 2.5/);
    await expect(createEngine({ build: 'scalar', threads: 2 })).rejects.toThrow(/needs a SIMD build/);
    await expect(init({ build: 'simd', threads: 1 }).then(() => init({ build: 'simd', threads: 2 }))).rejects.toThrow(
      /already loaded \(build 'simd', 1 thread\(s\)\); call init\(\) before the first tensor/,
    );
  });
});

describe('relaxed-SIMD build', () => {
  // Node 20 runs relaxed SIMD only behind a flag, so the comparison runs in a child process
  // (on the built dist/, which `pnpm test` builds first).
  it('agrees with the SIMD build within a reordering tolerance, on 1 and 2 threads', async () => {
    // The flag only where this Node needs it (Node 22+ runs relaxed SIMD by default and may
    // no longer know the flag).
    const native = await createEngine({ build: 'relaxed-simd', threads: 1 }).then(() => true, () => false);
    const flags = native ? [] : ['--experimental-wasm-relaxed-simd'];
    const script = `
      import * as mb from '${new URL('../dist/index.js', import.meta.url).href}';
      const shapes = [[300, 500], [500, 200]];
      const out = {};
      for (const [build, threads] of [['simd', 1], ['relaxed-simd', 1], ['relaxed-simd', 2]]) {
        const e = await mb.createEngine({ build, threads });
        mb.useEngine(e);
        const xs = shapes.map((s, i) => { const r = new mb.Rng(i + 1); return mb.tensor(Float32Array.from({ length: s[0] * s[1] }, () => r.normal()), s); });
        const conv = mb.conv2d(mb.reshape(mb.slice(xs[0], [0, 0], [30, 500]), [6, 10, 10, 25]), mb.reshape(mb.slice(xs[1], [0, 0], [6, 200]), [3, 1, 25, 16]), { padding: 'same' });
        out[build + threads] = { mm: Array.from(mb.matmul(xs[0], xs[1]).data()), conv: Array.from(conv.data()) };
        e.close();
      }
      process.stdout.write(JSON.stringify(out));
    `;
    const child = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(child.stderr).toBe('');
    const out = JSON.parse(child.stdout) as Record<string, { mm: number[]; conv: number[] }>;
    for (const key of ['mm', 'conv'] as const) {
      const ref = out.simd1[key];
      const scale = Math.max(...ref.map(Math.abs));
      const relaxed = out['relaxed-simd1'][key];
      // k ≤ 500 terms of unit scale: an FMA skips one rounding per term, a difference of about k·2⁻²⁴·Σ|terms|.
      for (let i = 0; i < ref.length; i++) expect(Math.abs(relaxed[i] - ref[i])).toBeLessThanOrEqual(1e-5 * scale);
      expect(relaxed.some((v, i) => v !== ref[i])).toBe(true); // really a different (fused) kernel
      expect(out['relaxed-simd2'][key]).toEqual(relaxed);
    }
  });
});
