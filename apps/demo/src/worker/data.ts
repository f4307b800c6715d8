// The demo's data sets, from the bytes scripts/assets.mjs wrote: the training part, then the
// test part, each its images (count × 784 bytes) then its labels (count bytes).
import { createDataset, type Dataset } from '@minibatch/data';
import { datasets, siteFile } from './engine.js';
import type { DatasetInfo } from '../protocol.js';

export interface DemoData {
  info: DatasetInfo;
  train: Dataset;
  test: Dataset;
}

const loaded = new Map<string, Promise<DemoData>>();

function part(bytes: Uint8Array, info: DatasetInfo, at: number, count: number, which: string): Dataset {
  const pixels = info.shape[0] * info.shape[1] * info.shape[2];
  const x = new Float32Array(count * pixels);
  for (let i = 0; i < x.length; i++) x[i] = bytes[at + i] / 255;
  const y = Int32Array.from(bytes.subarray(at + count * pixels, at + count * (pixels + 1)));
  return createDataset(x, y, info.shape, { classes: info.classNames.length, classNames: info.classNames, name: `${info.name}/${which}` });
}

/** The training and test splits of a demo data set, pixels scaled to [0, 1]. */
export function loadData(name: string): Promise<DemoData> {
  let found = loaded.get(name);
  if (found === undefined) {
    found = (async () => {
      const info = (await datasets()).find((d) => d.name === name);
      if (info === undefined) throw new Error(`no data set '${name}' in this build of the demo`);
      const bytes = new Uint8Array(await siteFile(`data/${info.file}`));
      const pixels = info.shape[0] * info.shape[1] * info.shape[2];
      const expected = (info.train + info.test) * (pixels + 1);
      if (bytes.length !== expected) throw new Error(`data/${info.file}: ${bytes.length} bytes, expected ${expected}; rebuild the demo's assets`);
      return { info, train: part(bytes, info, 0, info.train, 'train'), test: part(bytes, info, info.train * (pixels + 1), info.test, 'test') };
    })();
    loaded.set(name, found);
    found.catch(() => loaded.delete(name));
  }
  return found;
}
