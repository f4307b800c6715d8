// `minibatch augment-preview`: writes a PNG grid of original and augmented samples so a person
// can see what a config's "augment" pipeline does (training applies it through experiment()).
import { scope, tensor } from '@minibatch/core';
import { augment } from '@minibatch/augment';
import { ConfigError, checkImageShape, defaultRegistry, inFile, loadConfigData, resolveRun } from '@minibatch/train';
import { checkOutputs, writeFileAtomic } from '@minibatch/train/node';
import { readConfig } from './commands.js';
import { encode } from 'fast-png';

export interface PreviewArgs {
  config: string;
  out?: string;
  /** Samples (rows). Default 8. */
  count?: number;
  /** Augmented versions of each sample (columns after the original). Default 7. */
  variants?: number;
  /** Pixel upscaling of the grid. Default 2. */
  scale?: number;
  seed?: number;
}

const GAP = 2;

/**
 * `minibatch augment-preview <config.json> --out grid.png`: the first `count` training
 * samples (after the config's preprocessing, as training sees them), each followed by
 * `variants` augmented versions drawn with seeds seed, seed + 1, …. Values are mapped to gray
 * levels (or RGB) by one linear map taking the originals' range to 0…255, so shifts and noise
 * show as they are.
 */
export async function augmentPreviewCommand(args: PreviewArgs, io: { out: NodeJS.WritableStream }): Promise<number> {
  if (args.out === undefined) throw new ConfigError('augment-preview: where to write the grid? pass --out grid.png');
  const config = await readConfig(args.config);
  const { count = 8, variants = 7, scale = 2, seed = config.seed } = args;
  for (const [name, v, max] of [['count', count, 256], ['variants', variants, 64], ['scale', scale, 16]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > max) throw new ConfigError(`--${name} must be an integer in [1, ${max}], got ${v}`);
  }
  await checkOutputs({ '--out': args.out }, [args.config]);
  // The whole config is checked, as train would (a preview of a config that cannot run is no help).
  const { augmentation: pipeline, preprocessing: pre, model } = inFile(args.config, () => resolveRun(config, defaultRegistry(), Infinity));
  model.dispose();
  if (pipeline === null) throw new ConfigError(`augment-preview: ${args.config} has no "augment" list to preview`);
  const { train: raw } = loadConfigData(config.data, config.seed);
  const train = pre === null ? raw : pre.fit(raw).transform(raw);
  checkImageShape(train.shape);
  pipeline.fit?.({ x: train.x, shape: train.shape });
  const [h, w, c] = train.shape;
  if (c !== 1 && c !== 3) throw new ConfigError(`augment-preview: can draw 1- or 3-channel images, these have ${c}`);
  const n = Math.min(count, train.count);
  const originals = train.x.subarray(0, n * h * w * c);
  const labels = train.y.subarray(0, n);
  const cells: { data: Float32Array; h: number; w: number }[][] = Array.from({ length: n }, (_, i) => [
    { data: originals.subarray(i * h * w * c, (i + 1) * h * w * c), h, w },
  ]);
  scope(() => {
    const x = tensor(originals, [n, h, w, c]);
    for (let v = 0; v < variants; v++) {
      const out = augment(pipeline, x, { seed: seed + v, labels, classes: train.classes }).x;
      const [, oh, ow] = out.shape;
      const values = out.data();
      for (let i = 0; i < n; i++) cells[i].push({ data: values.subarray(i * oh * ow * c, (i + 1) * oh * ow * c), h: oh, w: ow });
    }
  });
  // One linear map for the whole grid, from the originals' range.
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of originals) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const span = hi > lo ? hi - lo : 1;
  const cellH = Math.max(...cells.flat().map((cell) => cell.h)) * scale;
  const cellW = Math.max(...cells.flat().map((cell) => cell.w)) * scale;
  const cols = 1 + variants;
  const width = cols * cellW + (cols + 1) * GAP + GAP; // an extra gap after the originals' column
  const height = n * cellH + (n + 1) * GAP;
  const png = new Uint8Array(width * height * c).fill(255);
  cells.forEach((row, i) => row.forEach((cell, j) => {
    const top = GAP + i * (cellH + GAP);
    const left = GAP + j * (cellW + GAP) + (j > 0 ? GAP : 0);
    for (let y = 0; y < cell.h * scale; y++) {
      for (let xx = 0; xx < cell.w * scale; xx++) {
        const src = (Math.floor(y / scale) * cell.w + Math.floor(xx / scale)) * c;
        const dst = ((top + y) * width + left + xx) * c;
        for (let k = 0; k < c; k++) png[dst + k] = Math.round(Math.min(Math.max((cell.data[src + k] - lo) / span, 0), 1) * 255);
      }
    }
  }));
  await writeFileAtomic(args.out, encode({ width, height, data: png, channels: c, depth: 8 }));
  io.out.write(`wrote ${args.out}: ${n} samples × (original + ${variants} augmented), ${width}×${height} pixels\n`);
  return 0;
}
