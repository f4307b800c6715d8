// The engine owns one WebAssembly instance of the kernels and its linear memory.
// Memory is managed here, in JS, with size-class free lists: a training step allocates
// the same sizes every time, so after the first step every allocation is a reuse and the
// heap stays flat (see test/memory.test.ts).
import type { Kernels } from './kernels.js';
import { Pool, controlBytes, hardwareThreads, threadsSupported, type KernelName, type Part } from './pool.js';
import { MemoryError, fmtBytes } from './errors.js';

/**
 * The kernel builds, fastest first: 'relaxed-simd' fuses each GEMM multiply-add (Chrome
 * 114+, Node 22+, Node 20 with --experimental-wasm-relaxed-simd), 'simd' is WebAssembly
 * SIMD (every current engine), 'scalar' the fallback without SIMD.
 */
export type Build = 'relaxed-simd' | 'simd' | 'scalar';
const BUILDS: readonly Build[] = ['relaxed-simd', 'simd', 'scalar'];

export interface InitOptions {
  /** Which kernel build to load. 'auto' (default) picks the fastest one this engine validates. */
  build?: Build | 'auto';
  /**
   * Threads that run the big kernels (GEMM, convolution): the calling thread plus a pool of
   * workers over one shared memory. 'auto' (default): one per core where shared memory is
   * available (Node; a cross-origin-isolated page), else 1. Results do not depend on it.
   */
  threads?: number | 'auto';
}

export interface MemoryStats {
  /** Bytes handed out (to tensors) and not yet freed; kernel workspace is not counted. */
  liveBytes: number;
  /** Kernel workspace (GEMM packing, convolution columns): kept and reused, grown as needed. */
  scratchBytes: number;
  /** Number of live blocks. */
  liveBlocks: number;
  /** High-water mark of the heap (bytes from the heap base). */
  heapBytes: number;
  /** Size of the WebAssembly memory. */
  memoryBytes: number;
}

const PAGE = 65536;
const ALIGN = 64;
const ARGS_INTS = 256;

/** A module of one function with the given body (no locals) returning a v128: validates only where its instructions do. */
function probe(body: readonly number[]): Uint8Array<ArrayBuffer> {
  const code = [0, ...body, 11];
  return new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
    10, code.length + 2, 1, code.length, ...code,
  ]);
}
const V128_ZERO = [253, 12, ...new Array<number>(16).fill(0)];
// (v128.const 0) and (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0))
const SIMD_PROBE = probe(V128_ZERO);
const RELAXED_PROBE = probe([...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 253, 133, 2]);

/** True when this JavaScript engine runs WebAssembly SIMD (f32x4). */
export function simdSupported(): boolean {
  return WebAssembly.validate(SIMD_PROBE);
}

function supported(build: Build): boolean {
  if (build === 'relaxed-simd') return WebAssembly.validate(RELAXED_PROBE);
  return build === 'scalar' || simdSupported();
}

/** Rounds a request up to its size class: 64-byte steps up to 1 KiB, then 1/8 of a power of two. */
function sizeClass(bytes: number): number {
  if (bytes <= 1024) return Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  const step = 2 ** Math.floor(Math.log2(bytes)) / 8;
  return Math.ceil(bytes / step) * step;
}

/**
 * The engine's memory: up to 4 GiB. A shared memory reserves its whole maximum up front,
 * which a small (e.g. 32-bit) device may refuse; it then gets 1 GiB.
 */
function newMemory(shared: boolean): { memory: WebAssembly.Memory; maxBytes: number } {
  try {
    return { memory: new WebAssembly.Memory({ initial: 64, maximum: 65536, shared }), maxBytes: 65536 * PAGE };
  } catch (error) {
    if (!shared) throw error;
    return { memory: new WebAssembly.Memory({ initial: 64, maximum: 16384, shared }), maxBytes: 16384 * PAGE };
  }
}

export class Engine {
  readonly build: Build;
  readonly memory: WebAssembly.Memory;
  /** The most bytes the memory can grow to (4 GiB, or 1 GiB where a shared 4 GiB could not be reserved). */
  readonly maxBytes: number;
  readonly kernels: Kernels;
  private readonly heapBase: number;
  private top: number;
  private readonly freeLists = new Map<number, number[]>();
  private live = 0;
  private liveBlocks = 0;
  private buffer: ArrayBuffer | SharedArrayBuffer;
  private f32View: Float32Array;
  private i32View: Int32Array;
  private scratchPtr = 0;
  private scratchBytes = 0;
  private readonly argsPtr: number;
  private pool: Pool | null = null;

  /** `threads` > 1 needs `module` built for shared memory (see createEngine). */
  constructor(build: Build, module: WebAssembly.Module, threads = 1) {
    this.build = build;
    const { memory, maxBytes } = newMemory(threads > 1);
    this.memory = memory;
    this.maxBytes = maxBytes;
    const instance = new WebAssembly.Instance(module, {
      env: {
        memory,
        abort: (_msg: number, _file: number, line: number, col: number) => {
          throw new Error(`minibatch kernel aborted at ${line}:${col}`);
        },
      },
    });
    this.kernels = instance.exports as unknown as Kernels;
    this.heapBase = Math.ceil(this.kernels.heapBase() / ALIGN) * ALIGN;
    this.top = this.heapBase;
    this.buffer = memory.buffer;
    this.f32View = new Float32Array(this.buffer);
    this.i32View = new Int32Array(this.buffer);
    this.argsPtr = this.alloc(ARGS_INTS * 4);
    if (threads > 1) this.pool = new Pool(module, memory, this.alloc(controlBytes(threads - 1)), threads - 1, this.kernels);
  }

  /** Threads that run the big kernels (1 when there is no pool). */
  get threads(): number {
    return this.pool === null ? 1 : this.pool.threads - this.pool.lost;
  }

  /**
   * Runs `kernel` once per part, the parts on the pool's threads at once; parts must write
   * disjoint memory. Without a pool, one after another on this thread.
   */
  parallel(kernel: KernelName, parts: readonly Part[]): void {
    if (this.pool !== null && parts.length > 1) {
      this.pool.run(kernel, parts);
      return;
    }
    const fn = this.kernels[kernel] as (...a: number[]) => unknown;
    for (const p of parts) fn(...p);
  }

  /** Resolves when every worker has started (until then their parts run on this thread). */
  async ready(): Promise<void> {
    await this.pool?.ready();
  }

  /** Stops the worker threads; the engine keeps working on the calling thread alone. */
  close(): void {
    this.pool?.close();
    this.pool = null;
  }

  /**
   * Writes small i32 lists (shapes, strides) into a fixed argument area and returns the
   * offset of each; valid until the next call.
   */
  args(...lists: readonly (readonly number[])[]): number[] {
    const view = this.i32(this.argsPtr, ARGS_INTS);
    const ptrs: number[] = [];
    let at = 0;
    for (const list of lists) {
      if (at + list.length > ARGS_INTS) throw new RangeError(`too many dimensions for a kernel call (at most ${ARGS_INTS / 4} per operand)`);
      view.set(list, at);
      ptrs.push(this.argsPtr + at * 4);
      at += list.length;
    }
    return ptrs;
  }

  /** Allocates `bytes` (contents undefined) and returns the byte offset. */
  alloc(bytes: number): number {
    const size = sizeClass(bytes);
    const ptr = this.take(size, bytes);
    this.live += size;
    this.liveBlocks++;
    return ptr;
  }

  /** Returns a block from alloc(bytes) to its free list. */
  free(ptr: number, bytes: number): void {
    const size = sizeClass(bytes);
    this.release(ptr, size);
    this.live -= size;
    this.liveBlocks--;
  }

  /** A block of one size class, from its free list or the top of the heap (growing memory). */
  private take(size: number, bytes: number): number {
    const list = this.freeLists.get(size);
    if (list !== undefined && list.length > 0) return list.pop()!;
    const ptr = this.top;
    const need = ptr + size - this.memory.buffer.byteLength;
    if (need > 0) {
      try {
        if (ptr + size > this.maxBytes) throw new RangeError('beyond the maximum');
        this.memory.grow(Math.ceil(need / PAGE));
      } catch {
        // Nothing has changed yet: the engine stays usable for smaller allocations.
        const free = Math.max(0, this.maxBytes - this.top) + this.freeBytes();
        const block = size > bytes * 1.01 ? ` (a ${fmtBytes(size)} block)` : '';
        throw new MemoryError(
          `out of WebAssembly memory: ${fmtBytes(bytes)} was asked for${block}, and ${fmtBytes(free)} of the engine's ${fmtBytes(this.maxBytes)} is free ` +
            `(${fmtBytes(this.live)} in live tensors). ` +
            (bytes > this.maxBytes
              ? 'No batch size makes one tensor this large fit: make the layer or the input smaller.'
              : 'Use smaller batches (batchSize), or free tensors you no longer need (scope(), dispose()).'),
          bytes, free,
        );
      }
    }
    this.top += size;
    return ptr;
  }

  /** Bytes in the free lists (freed blocks kept for reuse). */
  private freeBytes(): number {
    let total = 0;
    for (const [size, list] of this.freeLists) total += size * list.length;
    return total;
  }

  private release(ptr: number, size: number): void {
    let list = this.freeLists.get(size);
    if (list === undefined) this.freeLists.set(size, (list = []));
    list.push(ptr);
  }

  /**
   * A scratch area of at least `bytes` for kernels that need workspace (GEMM packing,
   * im2col). It is reused by every call, so it must not outlive the kernel call.
   */
  scratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      // Workspace is the engine's, not a tensor's: not counted in liveBytes/liveBlocks.
      if (this.scratchBytes > 0) this.release(this.scratchPtr, this.scratchBytes);
      this.scratchBytes = sizeClass(Math.max(bytes, 1 << 16));
      this.scratchPtr = this.take(this.scratchBytes, bytes);
    }
    return this.scratchPtr;
  }

  /** A Float32Array view of memory (valid until the memory grows: use it, then drop it). */
  f32(ptr: number, length: number): Float32Array {
    this.refresh();
    return this.f32View.subarray(ptr >>> 2, (ptr >>> 2) + length);
  }

  /**
   * Copies `floats` floats from src to dst inside memory. (TypedArray.set between two views
   * of one buffer first copies the source aside, at a third of the speed.)
   */
  copy(dst: number, src: number, floats: number): void {
    this.refresh();
    this.f32View.copyWithin(dst >>> 2, src >>> 2, (src >>> 2) + floats);
  }

  i32(ptr: number, length: number): Int32Array {
    this.refresh();
    return this.i32View.subarray(ptr >>> 2, (ptr >>> 2) + length);
  }

  stats(): MemoryStats {
    return {
      liveBytes: this.live,
      scratchBytes: this.scratchBytes,
      liveBlocks: this.liveBlocks,
      heapBytes: this.top - this.heapBase,
      memoryBytes: this.memory.buffer.byteLength,
    };
  }

  private refresh(): void {
    if (this.memory.buffer !== this.buffer) {
      this.buffer = this.memory.buffer;
      this.f32View = new Float32Array(this.buffer);
      this.i32View = new Int32Array(this.buffer);
    }
  }
}

function wasmUrl(build: Build, shared: boolean): URL {
  // Written out per file so bundlers see every literal URL and emit the files. The '-mt'
  // builds declare their memory shared, as threads need; the others run where shared
  // memory is not allowed (a page that is not cross-origin isolated).
  if (build === 'relaxed-simd') {
    return shared
      ? new URL('../build/core-relaxed-simd-mt.wasm', import.meta.url)
      : new URL('../build/core-relaxed-simd.wasm', import.meta.url);
  }
  if (build === 'simd') {
    return shared ? new URL('../build/core-simd-mt.wasm', import.meta.url) : new URL('../build/core-simd.wasm', import.meta.url);
  }
  return new URL('../build/core-scalar.wasm', import.meta.url);
}

interface NodeFs {
  readFileSync(path: URL): Uint8Array;
}

function nodeFs(): NodeFs | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return proc?.getBuiltinModule?.('node:fs') as NodeFs | undefined;
}

function resolveBuild(build: Build | 'auto' | undefined): Build {
  if (build === undefined || build === 'auto') return BUILDS.find(supported)!;
  if (!BUILDS.includes(build)) {
    throw new TypeError(`init: unknown build '${String(build)}' — expected ${BUILDS.map((b) => `'${b}'`).join(', ')} or 'auto'`);
  }
  if (!supported(build)) {
    throw new Error(`init: the '${build}' build was asked for, but this JavaScript engine does not run it; use build 'auto' (it picks '${BUILDS.find(supported)}' here)`);
  }
  return build;
}

function resolveThreads(threads: number | 'auto' | undefined, build: Build): number {
  const possible = threadsSupported() && build !== 'scalar';
  if (threads === undefined || threads === 'auto') return possible ? Math.min(hardwareThreads(), 16) : 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new TypeError(`init: threads must be an integer from 1 to 64 or 'auto', got ${String(threads)}`);
  }
  if (threads > 1 && !possible) {
    throw new Error(
      build === 'scalar'
        ? `init: threads: ${threads} needs a SIMD build; the scalar build runs on one thread`
        : `init: threads: ${threads} needs shared memory, which this page does not have: serve it cross-origin isolated ` +
          `(headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp) or use threads: 1`,
    );
  }
  return threads;
}

/** Compiles and instantiates a fresh engine (its own memory and threads) without making it current. */
export async function createEngine(options: InitOptions = {}): Promise<Engine> {
  const build = resolveBuild(options.build);
  const threads = resolveThreads(options.threads, build);
  const url = wasmUrl(build, threads > 1);
  const fs = nodeFs();
  let module: WebAssembly.Module;
  if (fs !== undefined && url.protocol === 'file:') {
    module = await WebAssembly.compile(fs.readFileSync(url) as Uint8Array<ArrayBuffer>);
  } else {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`minibatch: could not load ${url.href}: HTTP ${response.status}`);
    module = await WebAssembly.compileStreaming(response);
  }
  const e = new Engine(build, module, threads);
  await e.ready();
  return e;
}

/** Synchronous engine creation, possible in Node where the file can be read at once (workers join as they start). */
function createEngineSync(): Engine {
  const build = resolveBuild('auto');
  const threads = resolveThreads('auto', build);
  const fs = nodeFs();
  const url = wasmUrl(build, threads > 1);
  if (fs === undefined || url.protocol !== 'file:') {
    throw new Error('minibatch: the tensor core is not loaded yet — call `await init()` once before using tensors');
  }
  return new Engine(build, new WebAssembly.Module(fs.readFileSync(url) as Uint8Array<ArrayBuffer>), threads);
}

let current: Engine | null = null;

/**
 * Loads the tensor core. Call it once before using tensors in a browser; in Node it is
 * optional (the core loads on first use), but it lets you pick the build.
 *
 * @example
 * await init();                     // SIMD where available, else scalar
 * await init({ build: 'scalar' });   // force the fallback
 * await init({ threads: 1 });        // no worker threads
 */
export async function init(options: InitOptions = {}): Promise<Engine> {
  const wanted = resolveBuild(options.build);
  const threads = resolveThreads(options.threads, wanted);
  if (current !== null && current.build === wanted && current.threads === threads) return current;
  if (current !== null) {
    throw new Error(
      `init: the core is already loaded (build '${current.build}', ${current.threads} thread(s)); call init() before ` +
        'the first tensor, or create a separate engine with createEngine() to compare',
    );
  }
  current = await createEngine({ build: wanted, threads });
  return current;
}

/** The current engine (loading it synchronously in Node on first use). */
export function engine(): Engine {
  if (current === null) current = createEngineSync();
  return current;
}

/**
 * Makes `e` the engine that new tensors are created in; returns the previous one, which
 * can be passed back to restore it (null: none yet, the next use loads one).
 */
export function useEngine(e: Engine | null): Engine | null {
  const previous = current;
  current = e;
  return previous;
}
