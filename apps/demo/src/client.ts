// The page's side of a training worker: requests with replies as promises, events to listeners,
// and a crash (the worker died, or a script failed to load in it) reported instead of a frozen page.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { EngineInfo, WorkerEvent } from './protocol.js';

type Listener = (event: WorkerEvent) => void;

export class DemoWorker {
  readonly #worker: Worker;
  #next = 1;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly #listeners = new Set<Listener>();
  #crashed: string | null = null;
  onCrash: ((message: string) => void) | null = null;

  constructor() {
    this.#worker = new Worker(new URL('./worker/main.ts', import.meta.url), { type: 'module', name: 'minibatch-demo' });
    this.#worker.onmessage = (e: MessageEvent<WorkerEvent>) => {
      const message = e.data;
      if ((message.type === 'reply' || message.type === 'error') && message.id !== undefined) {
        const waiting = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.type === 'reply') waiting?.resolve(message.value);
        else waiting?.reject(new Error(String(message.message)));
        return;
      }
      for (const listener of this.#listeners) listener(message);
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#crash(`the training worker crashed: ${e.message || 'it could not start'}`);
    };
    this.#worker.onmessageerror = () => this.#crash('the training worker sent a message the page could not read');
  }

  #crash(message: string): void {
    if (this.#crashed !== null) return;
    this.#crashed = message;
    for (const { reject } of this.#pending.values()) reject(new Error(message));
    this.#pending.clear();
    this.onCrash?.(message);
  }

  /** Sends a request and resolves with the worker's reply. */
  request<T = unknown>(type: string, fields: Record<string, unknown> = {}, transfer: Transferable[] = []): Promise<T> {
    if (this.#crashed !== null) return Promise.reject(new Error(this.#crashed));
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ type, id, ...fields }, transfer);
    });
  }

  on(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  terminate(): void {
    this.#worker.terminate();
    this.#crash('the worker was stopped');
  }
}

/** The engine options the page's URL asks for: ?threads=N, ?build=scalar (for tests and comparisons). */
export function engineOptions(): { threads?: number; build?: string } {
  const params = new URLSearchParams(location.search);
  const threads = params.get('threads');
  const build = params.get('build');
  return { ...(threads !== null ? { threads: Number(threads) } : {}), ...(build !== null ? { build } : {}) };
}

export interface WorkerState {
  worker: DemoWorker | null;
  engine: EngineInfo | null;
  /** Why the worker cannot be used (a crash, an engine that failed to start), or null. */
  failure: string | null;
  /** Replaces the worker by a fresh one (after a crash, or to drop everything). */
  restart: () => void;
}

/** A worker for the page's lifetime, with its engine started; restart() gives a fresh one. */
export function useDemoWorker(): WorkerState {
  const [generation, setGeneration] = useState(0);
  const [state, setState] = useState<Omit<WorkerState, 'restart'>>({ worker: null, engine: null, failure: null });
  const current = useRef<DemoWorker | null>(null);
  useEffect(() => {
    const worker = new DemoWorker();
    current.current = worker;
    setState({ worker: null, engine: null, failure: null });
    worker.onCrash = (message) => setState((s) => ({ ...s, failure: message }));
    worker
      .request<EngineInfo>('init', { base: new URL('./', document.baseURI).href, ...engineOptions() })
      .then((engine) => {
        (window as unknown as { demoEngine?: EngineInfo }).demoEngine = engine;
        setState({ worker, engine, failure: null });
      })
      .catch((error: Error) => setState({ worker: null, engine: null, failure: `the engine did not start: ${error.message}` }));
    return () => {
      worker.onCrash = null;
      worker.terminate();
    };
  }, [generation]);
  return { ...state, restart: () => setGeneration((g) => g + 1) };
}
