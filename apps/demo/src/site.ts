// What the built site serves beside the code (scripts/assets.mjs writes it).
import { useEffect, useState } from 'preact/hooks';
import type { DatasetInfo } from './protocol.js';

let catalog: Promise<DatasetInfo[]> | null = null;

export function fetchDatasets(): Promise<DatasetInfo[]> {
  catalog ??= fetch(new URL('data/datasets.json', document.baseURI)).then((r) => {
    if (!r.ok) throw new Error(`data/datasets.json: HTTP ${r.status}; build the demo with its assets (pnpm --filter demo build)`);
    return r.json() as Promise<DatasetInfo[]>;
  });
  return catalog;
}

/** The data sets of this build (null while loading). */
export function useDatasets(): DatasetInfo[] | null {
  const [list, setList] = useState<DatasetInfo[] | null>(null);
  useEffect(() => void fetchDatasets().then(setList, () => setList([])), []);
  return list;
}
