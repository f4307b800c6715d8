// The worker pool: helper threads that run kernel calls on the engine's one shared
// WebAssembly memory. An op splits its work into parts (GEMM tiles, images, rows); every
// thread, the calling one included, takes the next part that nobody has taken yet (an
// atomic counter) until none is left. So a thread that starts late (asleep, or put aside
// by the operating system) takes fewer parts instead of holding the call up, and an op may
// cut its work finer than the thread count to even out the load. Nothing is copied: the
// parts read and write the same memory, and every part computes its elements exactly as one
// thread would, so the results do not depend on the thread count or on who ran what.
//
// Hand-off is through a control block in that memory: one queue per call (the kernel, the
// parts' arguments, the counter) and one slot per worker, with Atomics. The caller writes
// the queue, opens each worker's slot for the call (OPEN = the call's seq), bumps `seq` and
// notifies, then takes parts itself. A worker that wakes joins the call only by closing its
// slot (a compare-and-swap OPEN: seq → 0), takes parts, stores `seq` into `done` and
// notifies. Once no part is left the caller closes every slot that is still open: a worker
// that has not joined by then sits the call out, and the caller waits only for those that
// joined. Both sides spin briefly before they sleep, because a wake-up from Atomics.wait
// costs tens of microseconds, as long as a small part's work.
//
// A worker that answers no wake-up (its `ack` stays put) for a second while calls go on is
// taken for dead (terminated, crashed) and gets no more calls; one that joined a call and
// does not finish it in far longer than the caller's own share is 'stuck': that call's
// result is lost (PoolError). Workers are plain scripts (the function below, sent as source
// text), so the pool needs no separate file that bundlers or test runners would have to find.
import { KERNEL_NAMES, type Kernels } from './kernels.js';

/** Int32 words per worker slot. */
const SLOT_WORDS = 16;
const SEQ = 0, DONE = 1, READY = 2, EXIT_FLAG = 3, FAILED = 4, OPEN = 5, ACK = 6;
/** Most parts one call may have, and most arguments a part's kernel takes. */
export const MAX_PARTS = 256;
const MAX_ARGS = 24;
/** Queue words: KERNEL, COUNT, NEXT, one padding word, then each part's argument count; then the f64 arguments. */
const Q_KERNEL = 0, Q_COUNT = 1, Q_NEXT = 2, Q_ARGC = 4;
const QUEUE_WORDS = Q_ARGC + MAX_PARTS;
const QUEUE_BYTES = QUEUE_WORDS * 4 + MAX_PARTS * MAX_ARGS * 8;
/** How long a worker may answer no wake-up before it is taken for dead. */
const SILENT_MS = 1000;
/** How long a part a worker started may run, at least (else 100× the caller's own share). */
const PART_MS = 30_000;
/** Busy-wait iterations before sleeping (about 20–50 µs). */
const SPIN = 20000;

export type KernelName = keyof Kernels;
/** One part of a parallel call: the kernel's arguments. */
export type Part = readonly number[];

/** Each kernel's index in KERNEL_NAMES, which is how a worker finds it. */
const KERNEL_IDS = Object.fromEntries(KERNEL_NAMES.map((name, i) => [name, i])) as Record<KernelName, number>;

/** Bytes of the control block for `workers` workers (allocated by the engine, 64-byte aligned). */
export function controlBytes(workers: number): number {
  return QUEUE_BYTES + workers * SLOT_WORDS * 4;
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
  /** Int32 index of the queue, and of the first worker slot. */
  private readonly queue: number;
  private readonly base: number;
  private readonly workers: { terminate(): unknown }[] = [];
  private readonly blocking: boolean;
  private readonly readyPromise: Promise<void>;
  /** Per worker: the last `ack` seen, and since when it has stayed the same while calls went unanswered (-1: answered). */
  private readonly lastAck: number[] = [];
  private readonly silentSince: number[] = [];

  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, controlPtr: number, workers: number,
    private readonly kernels: Kernels) {
    this.threads = workers + 1;
    this.queue = controlPtr >>> 2;
    this.base = this.queue + QUEUE_BYTES / 4;
    const buffer = memory.buffer;
    this.ctrl = new Int32Array(buffer);
    this.args = new Float64Array(buffer);
    this.ctrl.fill(0, this.queue, this.base + workers * SLOT_WORDS);
    this.blocking = canBlock(this.ctrl);
    const init = { module, memory, names: KERNEL_NAMES, queue: this.queue, argsAt: (this.queue + QUEUE_WORDS) >>> 1, maxArgs: MAX_ARGS, spin: SPIN };
    const source = `(${workerMain.toString()})();`;
    const wt = workerThreads();
    const started: Promise<void>[] = [];
    for (let w = 0; w < workers; w++) {
      this.lastAck.push(0);
      this.silentSince.push(-1);
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
   * Runs `kernel` once per part (two or more, at most MAX_PARTS), each part on whichever
   * thread takes it first: the calling thread and the started workers take parts in order
   * until none is left. Returns when all are done.
   */
  run(kernel: KernelName, parts: readonly Part[]): void {
    const fn = this.kernels[kernel] as (...a: number[]) => unknown;
    const { ctrl, queue } = this;
    const count = parts.length;
    if (count > MAX_PARTS) throw new RangeError(`pool: ${kernel} was cut into ${count} parts, at most ${MAX_PARTS} fit the queue`);
    const argsAt = (queue + QUEUE_WORDS) >>> 1; // f64 index
    for (let p = 0; p < count; p++) {
      const part = parts[p];
      if (part.length > MAX_ARGS) throw new RangeError(`pool: ${kernel} takes ${part.length} arguments, at most ${MAX_ARGS} fit the queue`);
      ctrl[queue + Q_ARGC + p] = part.length;
      this.args.set(part, argsAt + p * MAX_ARGS);
    }
    ctrl[queue + Q_KERNEL] = KERNEL_IDS[kernel];
    ctrl[queue + Q_COUNT] = count;
    Atomics.store(ctrl, queue + Q_NEXT, 0);
    // Wake as many workers as there are parts beyond the caller's first.
    const seqs: number[] = [];
    for (let w = 0, woken = 0; w < this.threads - 1 && woken < count - 1; w++) {
      const slot = this.base + w * SLOT_WORDS;
      if (Atomics.load(ctrl, slot + READY) !== 1) continue;
      let seq = (ctrl[slot + SEQ] + 1) | 0;
      if (seq === 0) seq = 1; // OPEN = 0 means closed
      seqs[w] = seq;
      Atomics.store(ctrl, slot + OPEN, seq);
      Atomics.store(ctrl, slot + SEQ, seq);
      Atomics.notify(ctrl, slot + SEQ, 1);
      woken++;
    }
    const started = performance.now();
    for (let p = Atomics.add(ctrl, queue + Q_NEXT, 1); p < count; p = Atomics.add(ctrl, queue + Q_NEXT, 1)) fn(...parts[p]);
    const own = performance.now() - started;
    let failed = false;
    let stuck = -1;
    // Every worker that joined is awaited even after a stuck one, so no part still writes once this returns.
    for (let w = 0; w < seqs.length; w++) {
      const seq = seqs[w];
      if (seq === undefined) continue;
      const slot = this.base + w * SLOT_WORDS;
      if (Atomics.compareExchange(ctrl, slot + OPEN, seq, 0) === seq) {
        this.unanswered(w, slot); // it did not join: it sits this call out
        continue;
      }
      this.silentSince[w] = -1;
      if (!this.await(slot, seq, started, own)) stuck = w;
      else if (ctrl[slot + FAILED] !== 0) failed = true;
    }
    if (stuck >= 0) {
      this.markLost(this.base + stuck * SLOT_WORDS);
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
      Atomics.store(this.ctrl, slot + EXIT_FLAG, 1);
      Atomics.add(this.ctrl, slot + SEQ, 1);
      Atomics.notify(this.ctrl, slot + SEQ, 1);
    }
    for (const worker of this.workers) worker.terminate();
  }

  /**
   * A worker sat a call out. A live one still answers the wake-up (its `ack` moves on) even
   * when it comes too late to join; one whose `ack` stays put for SILENT_MS is taken for dead.
   */
  private unanswered(w: number, slot: number): void {
    const ack = Atomics.load(this.ctrl, slot + ACK);
    const now = performance.now();
    if (ack !== this.lastAck[w] || this.silentSince[w] < 0) {
      this.lastAck[w] = ack;
      this.silentSince[w] = now;
    } else if (now - this.silentSince[w] > SILENT_MS) {
      this.markLost(slot);
    }
  }

  /**
   * Waits for the worker at `slot`, which joined call `seq`, to finish it; false when it runs
   * far longer than the caller's own share (stuck).
   */
  private await(slot: number, seq: number, started: number, own: number): boolean {
    const ctrl = this.ctrl;
    for (let i = 0; Atomics.load(ctrl, slot + DONE) !== seq; i++) {
      if (i <= SPIN) continue;
      if (this.blocking) Atomics.wait(ctrl, slot + DONE, Atomics.load(ctrl, slot + DONE), 1);
      if ((i & 63) === 0 && performance.now() - started > Math.max(PART_MS, 100 * own)) return false;
    }
    return true;
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
 * then serves its slot forever. Word offsets are written out (see the constants above).
 */
function workerMain(): void {
  type Init = {
    module: WebAssembly.Module; memory: WebAssembly.Memory; names: string[];
    queue: number; argsAt: number; maxArgs: number; slot: number; spin: number;
  };
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
    const q = init.queue;
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
      if (Atomics.load(ctrl, s + 3) !== 0) return; // EXIT_FLAG
      Atomics.store(ctrl, s + 6, seen); // ACK: awake, whether or not in time to join
      // Join the call (OPEN: seen → 0); if the caller closed it meanwhile, sit it out.
      if (Atomics.compareExchange(ctrl, s + 5, seen, 0) !== seen) continue;
      const kernel = fns[ctrl[q]];
      const count = ctrl[q + 1];
      let failed = 0;
      for (let p = Atomics.add(ctrl, q + 2, 1); p < count; p = Atomics.add(ctrl, q + 2, 1)) {
        const argc = ctrl[q + 4 + p];
        argv.length = argc;
        for (let i = 0; i < argc; i++) argv[i] = args[init.argsAt + p * init.maxArgs + i];
        try {
          kernel(...argv);
        } catch {
          failed = 1;
        }
      }
      ctrl[s + 4] = failed; // FAILED
      Atomics.store(ctrl, s + 1, seen); // DONE
      Atomics.notify(ctrl, s + 1);
    }
  };
  if (wt !== undefined) wt.parentPort.once('message', start);
  else g.addEventListener('message', (e) => start(e.data), { once: true });
}
