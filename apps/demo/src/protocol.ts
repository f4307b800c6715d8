// The messages between a page and its training worker. Every request the page sends has a
// `type`; the worker answers a request that carries an `id` with { type: 'reply', id, … } or
// { type: 'error', id, message }, and streams events ({ type: 'train:progress', … }) on its own.

/** What the engine in the worker runs on. */
export interface EngineInfo {
  build: string;
  threads: number;
  isolated: boolean;
}

/** A dataset as the demo serves it (public/data/datasets.json, written by scripts/assets.mjs). */
export interface DatasetInfo {
  name: 'mnist' | 'fashion-mnist';
  title: string;
  file: string;
  shape: [number, number, number];
  classNames: string[];
  train: number;
  test: number;
}

export interface WorkerError {
  type: 'error';
  id?: number;
  message: string;
}

/** Any message from the worker: a type and its fields. */
export interface WorkerEvent {
  type: string;
  id?: number;
  [field: string]: unknown;
}
