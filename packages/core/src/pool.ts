// The worker pool: helper threads that run kernel calls on the engine's one shared
// WebAssembly memory. An op splits its work into parts (GEMM by blocks of rows or columns,
// image kernels by images); the calling thread runs part 0 itself while each worker runs
// one other part, then waits for them. Nothing is copied: the parts read and write the
// same memory, and every part computes its elements exactly as one thread would, so the
// results do not depend on the thread count.
//
// Hand-off is through a control block in that memory, one slot per worker, with Atomics:
// the caller writes the kernel and its arguments, bumps `seq` and notifies; the worker runs
// the call, stores `seq` into `done` and notifies. Both sides spin briefly before they
// sleep, because a wake-up from Atomics.wait costs tens of microseconds, as long as a small
// part's work. A worker claims each part before it runs it (a compare-and-swap on `claim`);
// a worker that does not claim its part within a second is taken for dead (terminated,
// crashed): the caller claims the part and runs it itself, and gives that worker no more
// work, so results stay exactly those of one thread. Workers are plain scripts (the
// function below, sent as source text), so the pool needs no separate file that bundlers or
// test runners would have to find.
import { KERNEL_NAMES, type Kernels } from './kernels.js';

/** Int32 words per worker slot: 8 control words, then MAX_ARGS f64 arguments. */
const SLOT_WORDS = 64;
const MAX_ARGS = 24;
const SEQ = 0, DONE = 1, READY = 2, KERNEL = 3, ARGC = 4, FAILED = 5, CLAIM = 6;
/** CLAIM values: the part waits, a worker runs it, the caller took it back. */
const OPEN = 0, TAKEN = 1, RECLAIMED = 2;
/** How long a live worker may take to pick up a part it was woken for, at most. */
const PICKUP_MS = 1000;
/** How long a part a worker started may run, at least (else 100× the caller's own part). */
const PART_MS = 30_000;
/** Busy-wait iterations before sleeping (about 20–50 µs). */
const SPIN = 20000;
/** Kernel index that tells a worker to exit. */
const EXIT = -1;

export type KernelName = keyof Kernels;
/** One part of a parallel call: the kernel's arguments. */
export type Part = readonly number[];

/** Each kernel's index in KERNEL_NAMES, which is how a worker finds it. */
const KERNEL_IDS = Object.fromEntries(KERNEL_NAMES.map((name, i) => [name, i])) as Record<KernelName, number>;

/** Bytes of the control block for `workers` workers (allocated by the engine, 64-byte aligned). */
export function controlBytes(workers: number): number {
  return workers * SLOT_WORDS * 4;
}

interface NodeWorker {
  postMessage(message: unknown): void;
  unref(): void;
  terminate(): Promise<number>;
  on(event: 'error', listener: (error: Error) => void): void;
}
interface WorkerThreads {
  Worker: new (code: string, options: { eval: true; name?: string }) => NodeWorker;
}

function workerThreads(): WorkerThreads | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return proc?.getBuiltinModule?.('node:worker_threads') as WorkerThreads | undefined;
}

/** True where this thread may block in Atomics.wait (Node's main thread, any worker; not a browser's main thread). */
function canBlock(view: Int32Array): boolean {
  try {
    Atomics.wait(view, 0, 0x7fffffff, 0);
    return true;
  } catch {
    return false;
  }
}

/** Where shared WebAssembly memory (and so the pool) is possible here. */
export function threadsSupported(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return workerThreads() !== undefined || (isolated === true && typeof Worker !== 'undefined');
}

/** The number of logical cores (at least 1). */
export function hardwareThreads(): number {
  const os = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    ?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number } | undefined;
  const n = os?.availableParallelism?.() ?? (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.floor(n));
}

/** A worker thread that started a part and never finished it: that call's result is lost. */
export class PoolError extends Error {
  override readonly name = 'PoolError';
}

export class Pool {
  /** Threads that run parts: the calling thread plus the workers. */
  readonly threads: number;
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private readonly base: number;
  private readonly workers: { terminate(): unknown }[] = [];
  private readonly blocking: boolean;
  private readonly readyPromise: Promise<void>;

  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, controlPtr: number, workers: number,
    private readonly kernels: Kernels) {
    this.threads = workers + 1;
    this.base = controlPtr >>> 2;
    const buffer = memory.buffer;
    this.ctrl = new Int32Array(buffer);
    this.args = new Float64Array(buffer);
    this.ctrl.fill(0, this.base, this.base + workers * SLOT_WORDS);
    this.blocking = canBlock(this.ctrl);
    const init = { module, memory, names: KERNEL_NAMES, base: this.base, slotWords: SLOT_WORDS, spin: SPIN };
    const source = `(${workerMain.toString()})();`;
    const wt = workerThreads();
    const started: Promise<void>[] = [];
    for (let w = 0; w < workers; w++) {
      const message = { ...init, slot: this.base + w * SLOT_WORDS };
      if (wt !== undefined) {
        const worker = new wt.Worker(source, { eval: true, name: `minibatch-${w + 1}` });
        worker.unref(); // an idle pool never keeps the process alive
        started.push(new Promise<void>((resolve, reject) => {
          worker.on('error', reject);
          (worker as unknown as { once(e: string, l: () => void): void }).once('message', resolve);
        }));
        worker.postMessage(message);
        this.workers.push(worker);
      } else {
        const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
        const worker = new Worker(url, { name: `minibatch-${w + 1}` });
        started.push(new Promise<void>((resolve, reject) => {
          worker.addEventListener('message', () => resolve(), { once: true });
          worker.addEventListener('error', (e) => reject(new Error(`minibatch worker failed to start: ${e.message}`)), { once: true });
        }));
        worker.postMessage(message);
        this.workers.push(worker);
      }
    }
    this.readyPromise = Promise.all(started).then(() => undefined);
    this.readyPromise.catch(() => undefined); // seen by whoever awaits ready(); until then parts run on the caller
  }

  /** Resolves when every worker has started (parts go only to started workers until then). */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /**
   * Runs `kernel` once per part (two or more): part 0 on the calling thread, the others on
   * workers that have started (the calling thread runs any part no worker takes). Returns
   * when all are done.
   */
  run(kernel: KernelName, parts: readonly Part[]): void {
    const fn = this.kernels[kernel] as (...a: number[]) => unknown;
    const id = KERNEL_IDS[kernel];
    const ctrl = this.ctrl;
    let given = 0;
    const seqs: number[] = [];
    for (let w = 0; w < this.threads - 1 && given < parts.length - 1; w++) {
      const slot = this.base + w * SLOT_WORDS;
      if (Atomics.load(ctrl, slot + READY) !== 1) continue;
      const part = parts[1 + given];
      if (part.length > MAX_ARGS) throw new RangeError(`pool: ${kernel} takes ${part.length} arguments, at most ${MAX_ARGS} fit a slot`);
      ctrl[slot + KERNEL] = id;
      ctrl[slot + ARGC] = part.length;
      Atomics.store(ctrl, slot + CLAIM, OPEN);
      this.args.set(part, (slot + 8) >>> 1);
      const seq = (ctrl[slot + SEQ] + 1) | 0;
      seqs[w] = seq;
      Atomics.store(ctrl, slot + SEQ, seq);
      Atomics.notify(ctrl, slot + SEQ, 1);
      given++;
    }
    const started = performance.now();
    fn(...parts[0]);
    for (let p = 1 + given; p < parts.length; p++) fn(...parts[p]);
    const own = performance.now() - started;
    let failed = false;
    let stuck = -1;
    let part = 1;
    // Every other worker is awaited even after a stuck one, so no part still writes once this returns.
    for (let w = 0; w < seqs.length; w++) {
      const seq = seqs[w];
      if (seq === undefined) continue;
      const slot = this.base + w * SLOT_WORDS;
      const mine = parts[part++];
      const outcome = this.await(slot, seq, started, own);
      if (outcome === 'reclaimed') fn(...mine);
      else if (outcome === 'stuck') stuck = w;
      else if (ctrl[slot + FAILED] !== 0) failed = true;
    }
    if (stuck >= 0) {
      throw new PoolError(`minibatch: worker thread ${stuck + 1} started part of kernel ${kernel} and did not finish it in ${Math.round((performance.now() - started) / 1000)} s; ` +
        'it was taken for dead and gets no more work (the engine goes on with the threads it has left); this step\'s result is lost, run it again');
    }
    if (failed) throw new Error(`minibatch: kernel ${kernel} failed on a worker thread`);
  }

  /** Workers taken for dead (terminated or crashed): they get no more work. */
  get lost(): number {
    let n = 0;
    for (let w = 0; w < this.threads - 1; w++) if (Atomics.load(this.ctrl, this.base + w * SLOT_WORDS + READY) === -1) n++;
    return n;
  }

  /** Stops the workers (the engine then drops the pool and runs everything itself). */
  close(): void {
    for (let w = 0; w < this.threads - 1; w++) {
      const slot = this.base + w * SLOT_WORDS;
      this.ctrl[slot + KERNEL] = EXIT;
      Atomics.add(this.ctrl, slot + SEQ, 1);
      Atomics.notify(this.ctrl, slot + SEQ, 1);
    }
    for (const worker of this.workers) worker.terminate();
  }

  /**
   * Waits for the worker at `slot` to finish call `seq`. A worker that has not claimed its part
   * within PICKUP_MS is taken for dead and its part reclaimed (the caller runs it); one that
   * claimed it and runs far longer than the caller's own part is 'stuck'.
   */
  private await(slot: number, seq: number, started: number, own: number): 'done' | 'reclaimed' | 'stuck' {
    const ctrl = this.ctrl;
    for (let i = 0; Atomics.load(ctrl, slot + DONE) !== seq; i++) {
      if (i <= SPIN) continue;
      if (this.blocking) Atomics.wait(ctrl, slot + DONE, Atomics.load(ctrl, slot + DONE), 1);
      if ((i & 63) !== 0) continue;
      const waited = performance.now() - started;
      if (waited > PICKUP_MS && Atomics.compareExchange(ctrl, slot + CLAIM, OPEN, RECLAIMED) === OPEN) {
        this.markLost(slot);
        return 'reclaimed';
      }
      if (waited > Math.max(PART_MS, 100 * own) && Atomics.load(ctrl, slot + CLAIM) === TAKEN) {
        this.markLost(slot);
        return 'stuck';
      }
    }
    return 'done';
  }

  private markLost(slot: number): void {
    Atomics.store(this.ctrl, slot + READY, -1);
    const warn = `minibatch: a worker thread stopped responding; it gets no more work (${this.threads - 1 - this.lost} of ${this.threads - 1} workers left)`;
    const proc = (globalThis as { process?: { emitWarning?: (w: string) => void } }).process;
    if (proc?.emitWarning !== undefined) proc.emitWarning(warn);
    else console.warn(warn);
  }
}

/**
 * The worker's whole program (runs as its own script: it may use nothing from this module).
 * It receives the compiled kernels and the shared memory, instantiates them, reports ready,
 * then serves its slot forever.
 */
function workerMain(): void {
  type Init = { module: WebAssembly.Module; memory: WebAssembly.Memory; names: string[]; slot: number; slotWords: number; spin: number };
  const g = globalThis as unknown as {
    process?: { getBuiltinModule?: (id: string) => unknown };
    postMessage(m: unknown): void;
    addEventListener(t: string, l: (e: { data: Init }) => void, o: { once: true }): void;
  };
  const wt = g.process?.getBuiltinModule?.('node:worker_threads') as
    | { parentPort: { once(t: string, l: (m: Init) => void): void; postMessage(m: unknown): void } }
    | undefined;
  const start = (init: Init): void => {
    const instance = new WebAssembly.Instance(init.module, {
      env: { memory: init.memory, abort: () => { throw new Error('minibatch kernel aborted'); } },
    });
    const fns = init.names.map((n) => (instance.exports as Record<string, (...a: number[]) => unknown>)[n]);
    const ctrl = new Int32Array(init.memory.buffer);
    const args = new Float64Array(init.memory.buffer);
    const s = init.slot;
    const argv: number[] = [];
    Atomics.store(ctrl, s + 2, 1); // READY
    if (wt !== undefined) wt.parentPort.postMessage('ready');
    else g.postMessage('ready');
    let seen = Atomics.load(ctrl, s);
    for (;;) {
      let spins = 0;
      while (Atomics.load(ctrl, s) === seen) {
        if (++spins > init.spin) Atomics.wait(ctrl, s, seen);
      }
      seen = Atomics.load(ctrl, s);
      const kernel = ctrl[s + 3];
      if (kernel < 0) return;
      // Claim the part (CLAIM 0 → 1); if the caller took it back meanwhile (2), skip it.
      if (Atomics.compareExchange(ctrl, s + 6, 0, 1) === 0) {
        const argc = ctrl[s + 4];
        argv.length = argc;
        for (let i = 0; i < argc; i++) argv[i] = args[((s + 8) >>> 1) + i];
        try {
          fns[kernel](...argv);
          ctrl[s + 5] = 0;
        } catch {
          ctrl[s + 5] = 1;
        }
      }
      Atomics.store(ctrl, s + 1, seen); // DONE
      Atomics.notify(ctrl, s + 1);
    }
  };
  if (wt !== undefined) wt.parentPort.once('message', start);
  else g.addEventListener('message', (e) => start(e.data), { once: true });
}
