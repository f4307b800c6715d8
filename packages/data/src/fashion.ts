// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 70,000 28×28 grey images of 10 kinds of
// clothing, in the IDX format of MNIST. Debian ships it as the package dataset-fashion-mnist,
// which installs /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.
import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { idxToDataset, readIdxFile } from './idx.js';
import { builtin, env } from './node.js';

export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
]);

/** Environment variable naming a folder with the four Fashion-MNIST files. */
export const FASHION_MNIST_ENV = 'MINIBATCH_FASHION_MNIST_DIR';
export const FASHION_MNIST_DEBIAN_PACKAGE = 'dataset-fashion-mnist';
/** Where the Debian package installs the files, then a local-install fallback. */
export const FASHION_MNIST_DIRS: readonly string[] = Object.freeze([
  '/usr/share/datasets/fashion-mnist',
  '/usr/local/share/datasets/fashion-mnist',
]);

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export interface FashionMnistOptions {
  /**
   * A folder holding train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz),
   * t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz). When given (or set in
   * MINIBATCH_FASHION_MNIST_DIR) only this folder is searched.
   */
  dir?: string;
  /** Scale pixels to [0, 1] (default true); false keeps 0…255 as float32. */
  normalize?: boolean;
}

export type FashionMnistFiles = Record<keyof typeof FILES, string>;

/** The folders fashionMnistFiles() searches, in order. */
export function fashionMnistSearchPath(options: Pick<FashionMnistOptions, 'dir'> = {}): string[] {
  const chosen = options.dir ?? env(FASHION_MNIST_ENV);
  return chosen !== undefined ? [chosen] : FASHION_MNIST_DIRS.slice();
}

/**
 * Finds the four Fashion-MNIST files (each gzip-compressed or not). Throws a DataError with
 * code 'not-found' that names the Debian package, its install command and every path searched.
 */
export function fashionMnistFiles(options: Pick<FashionMnistOptions, 'dir'> = {}): FashionMnistFiles {
  const fs = builtin('node:fs', 'loadFashionMnist');
  const path = builtin('node:path', 'loadFashionMnist');
  const dirs = fashionMnistSearchPath(options);
  const searched: string[] = [];
  for (const dir of dirs) {
    const found: Partial<FashionMnistFiles> = {};
    for (const [key, base] of Object.entries(FILES) as [keyof typeof FILES, string][]) {
      for (const name of [`${base}.gz`, base]) {
        const file = path.join(dir, name);
        searched.push(file);
        if (fs.existsSync(file)) {
          found[key] = file;
          break;
        }
      }
    }
    if (Object.keys(found).length === 4) return found as FashionMnistFiles;
  }
  const custom = options.dir !== undefined ? `the folder given as { dir: '${options.dir}' }` : env(FASHION_MNIST_ENV) !== undefined ? `${FASHION_MNIST_ENV}=${env(FASHION_MNIST_ENV)}` : null;
  throw new DataError(
    'not-found',
    `Fashion-MNIST not found${custom !== null ? ` in ${custom}` : ''}. It comes from the Debian package ${FASHION_MNIST_DEBIAN_PACKAGE}; ` +
      `install it with:\n  sudo apt-get install ${FASHION_MNIST_DEBIAN_PACKAGE}\n` +
      `or point ${FASHION_MNIST_ENV} (or the dir option) at a folder with the four IDX files ` +
      `(${Object.values(FILES).join(', ')}, each optionally .gz). Paths searched:\n` +
      searched.map((s) => `  ${s}`).join('\n'),
  );
}

/**
 * Fashion-MNIST as two Datasets: train (60,000) and test (10,000), x float32 NHWC
 * [n × 28 × 28 × 1] in [0, 1], with the class names.
 *
 * @example
 * const { train, test } = loadFashionMnist();   // needs: sudo apt-get install dataset-fashion-mnist
 * train.classNames[train.y[0]];                // 'Ankle boot'
 */
export function loadFashionMnist(options: FashionMnistOptions = {}): { train: Dataset; test: Dataset } {
  const files = fashionMnistFiles(options);
  const common = { classes: 10, classNames: FASHION_MNIST_CLASSES, ...(options.normalize !== undefined ? { normalize: options.normalize } : {}) };
  const load = (images: string, labels: string, name: string): Dataset => {
    const ds = idxToDataset(readIdxFile(images), readIdxFile(labels), { ...common, name });
    if (ds.shape[0] !== 28 || ds.shape[1] !== 28 || ds.shape[2] !== 1) {
      throw new DataError('mismatch', `${images}: expected 28×28 grey images, got samples of shape [${ds.shape.join(', ')}]; is this Fashion-MNIST?`);
    }
    return ds;
  };
  return {
    train: load(files.trainImages, files.trainLabels, 'fashion-mnist/train'),
    test: load(files.testImages, files.testLabels, 'fashion-mnist/test'),
  };
}
