// A search across machines through a job queue: BullMQ on Redis. The coordinator puts each job
// on the queue under an id made of the search's id and the job's (adding an id that is there
// already adds nothing: a restarted coordinator picks up the results it missed); `minibatch
// worker`s on any machine take jobs one at a time and run each in a process of their own, so
// the worker stays free to renew its lock. A worker that dies mid-job stops renewing; BullMQ
// then hands the job to another worker (at-least-once), and only one completion is accepted.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { ConfigError } from './config.js';
import { LocalRunner, type JobRunner } from './search-node.js';
import { searchKey, unfinished, type Job, type JobResult, type SearchConfig } from './search.js';

/** The minibatch that runs the trials: a worker of another version would run them differently. */
export const SEARCH_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
/** The shape of jobs and results on the queue. */
export const SEARCH_PROTOCOL = 'minibatch-search/1';
export const DEFAULT_QUEUE = 'minibatch-trials';

const metaKey = (name: string) => `minibatch:${name}:meta`;

interface QueueMeta {
  version: string;
  protocol: string;
  search: string;
}

interface Payload extends Omit<QueueMeta, 'search'> {
  job: Job;
}

/** A short id of a search (its config): the prefix of its jobs' ids on the queue. */
export function searchId(search: SearchConfig): string {
  return createHash('sha256').update(searchKey(search)).digest('hex').slice(0, 12);
}

/** Host and port of a redis:// address. */
export function parseRedisUrl(url: string): { host: string; port: number; db: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`--queue ${url}: not an address; give redis://HOST:PORT (e.g. redis://127.0.0.1:6379)`);
  }
  if (parsed.protocol !== 'redis:') throw new ConfigError(`--queue ${url}: not a redis:// address; give redis://HOST:PORT`);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new ConfigError(`--queue ${url}: the database number must be a whole number ≥ 0`);
  return { host: parsed.hostname || '127.0.0.1', port: parsed.port === '' ? 6379 : Number(parsed.port), db };
}

/**
 * A connection checked at once: an address where no Redis answers within `timeoutMs` is an
 * error that says so (ioredis would otherwise retry for ever).
 */
async function reach(url: string, timeoutMs: number): Promise<Redis> {
  const { host, port, db } = parseRedisUrl(url);
  const client = new Redis({ host, port, db, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => undefined); // reported below, once
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs))),
    ]);
    return client;
  } catch (error) {
    client.disconnect();
    throw new ConfigError(`could not reach Redis at ${url} (${(error as Error).message}); start redis-server there, or check --queue`);
  } finally {
    clearTimeout(timer);
  }
}

const connection = (url: string) => ({ ...parseRedisUrl(url), maxRetriesPerRequest: null });

/**
 * The coordinator's side: runs jobs by putting them on the queue and waiting for a worker's
 * result. `slots` is how many it keeps on the queue at once (median stopping needs the
 * results of the first ones before it can stop the later ones).
 */
export class QueueRunner implements JobRunner {
  readonly slots: number;
  #queue: Queue;
  #events: QueueEvents;
  #client: Redis;
  #search: string;
  #closing = false;

  private constructor(queue: Queue, events: QueueEvents, client: Redis, search: string, slots: number) {
    this.#queue = queue;
    this.#events = events;
    this.#client = client;
    this.#search = search;
    this.slots = slots;
  }

  /** Connects (failing fast when Redis does not answer) and announces the search to the workers. */
  static async connect(url: string, search: SearchConfig, options: { slots?: number; name?: string; timeoutMs?: number } = {}): Promise<QueueRunner> {
    const name = options.name ?? DEFAULT_QUEUE;
    const client = await reach(url, options.timeoutMs ?? 5000);
    const id = searchId(search);
    await client.set(metaKey(name), JSON.stringify({ version: SEARCH_VERSION, protocol: SEARCH_PROTOCOL, search: id } satisfies QueueMeta));
    const queue = new Queue(name, { connection: connection(url) });
    const events = new QueueEvents(name, { connection: connection(url) });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return new QueueRunner(queue, events, client, id, options.slots ?? 64);
  }

  async run(job: Job): Promise<JobResult> {
    const started = performance.now();
    try {
      const added = await this.#queue.add('trial', { version: SEARCH_VERSION, protocol: SEARCH_PROTOCOL, job } satisfies Payload, {
        jobId: `${this.#search}-${job.id}`, attempts: 1, removeOnComplete: false, removeOnFail: false,
      });
      const value = (await added.waitUntilFinished(this.#events)) as JobResult | string;
      return typeof value === 'string' ? (JSON.parse(value) as JobResult) : value;
    } catch (error) {
      return unfinished(job, (performance.now() - started) / 1000, `the queue gave up on it: ${(error as Error).message}`, this.#closing ? 'cancelled' : 'failed');
    }
  }

  /** Disconnects; jobs still waited for come back 'cancelled' (they stay on the queue, and a restarted search collects them). */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await this.#events.close();
    await this.#queue.close();
    this.#client.disconnect();
  }
}

export interface WorkerOptions {
  name?: string;
  /** Threads of each trial (default 1). */
  threads?: number;
  /** How long a job's lock lasts without renewal: a dead worker's job goes to another after this (default 30 s). */
  lockMs?: number;
  /** How often stalled jobs are looked for (default 30 s). */
  stalledMs?: number;
  timeoutMs?: number;
  /** Ends the worker (after the job in progress). */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/**
 * A worker: waits for a search to be announced on the queue, checks that it is of this
 * minibatch's version, then runs its jobs one at a time until `signal` aborts.
 */
export async function runWorker(url: string, options: WorkerOptions = {}): Promise<{ jobs: number }> {
  const name = options.name ?? DEFAULT_QUEUE;
  const log = options.log ?? (() => undefined);
  const client = await reach(url, options.timeoutMs ?? 5000);
  const local = new LocalRunner({ workers: 1, threads: options.threads ?? 1 });
  let jobs = 0;
  const refuse = (meta: Partial<QueueMeta>) =>
    new ConfigError(`the search on ${url} (queue ${name}) runs minibatch ${meta.version ?? '?'} (${meta.protocol ?? '?'}); this worker is ${SEARCH_VERSION} (${SEARCH_PROTOCOL}) — run a worker of the same version`);
  try {
    let meta: QueueMeta | null = null;
    for (let waited = false; meta === null && options.signal?.aborted !== true; waited = true) {
      const text = await client.get(metaKey(name));
      if (text !== null) meta = JSON.parse(text) as QueueMeta;
      else {
        if (!waited) log(`waiting for a search on ${url} (queue ${name})`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    if (meta === null) return { jobs };
    if (meta.version !== SEARCH_VERSION || meta.protocol !== SEARCH_PROTOCOL) throw refuse(meta);
    const worker = new Worker<Payload, JobResult>(name, async (bullJob) => {
      const { job, version, protocol } = bullJob.data;
      if (version !== SEARCH_VERSION || protocol !== SEARCH_PROTOCOL) throw refuse({ version, protocol });
      log(`running ${job.id}`);
      const result = await local.run(job);
      jobs++;
      log(`${job.id}: ${result.status}${result.objective !== null ? ` ${job.metric} ${result.objective.toFixed(4)}` : ''} (${result.seconds.toFixed(1)} s)`);
      return result;
    }, { connection: connection(url), concurrency: 1, lockDuration: options.lockMs ?? 30_000, stalledInterval: options.stalledMs ?? 30_000, maxStalledCount: 5 });
    worker.on('error', (error) => log(`queue error: ${error.message}`));
    log(`taking trials from ${url} (queue ${name}, search ${meta.search})`);
    await new Promise<void>((resolve) => {
      if (options.signal?.aborted === true) resolve();
      options.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    await worker.close();
    return { jobs };
  } finally {
    await local.close();
    client.disconnect();
  }
}
