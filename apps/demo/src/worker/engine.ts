// Starting the core inside the worker, and where the site's static files are.
import { engine, init, type Build } from '@minibatch/core';
import type { DatasetInfo, EngineInfo } from '../protocol.js';

let base = '';

/** Starts the engine: `threads` and `build` come from the page's URL (?threads=2, ?build=scalar) when given. */
export async function startEngine(options: { base: string; threads?: number; build?: Build }): Promise<EngineInfo> {
  base = options.base;
  await init({ ...(options.threads !== undefined ? { threads: options.threads } : {}), ...(options.build !== undefined ? { build: options.build } : {}) });
  return { build: engine().build, threads: engine().threads, isolated: self.crossOriginIsolated === true };
}

/** A file of the site (data/…, models/…), fetched once. */
export async function siteFile(path: string): Promise<ArrayBuffer> {
  const url = new URL(path, base);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url.pathname} (HTTP ${response.status}); was the demo built with its assets (pnpm --filter demo build)?`);
  return response.arrayBuffer();
}

let catalog: Promise<DatasetInfo[]> | null = null;

export function datasets(): Promise<DatasetInfo[]> {
  catalog ??= siteFile('data/datasets.json').then((b) => JSON.parse(new TextDecoder().decode(b)) as DatasetInfo[]);
  return catalog;
}
