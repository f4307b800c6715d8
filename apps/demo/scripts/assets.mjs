// Writes the data and the pretrained model the demo serves as static files, so the built site
// fetches nothing from outside itself: MNIST (the `mnist` package's 10,000 digits, split
// 8,000 / 2,000 as every minibatch experiment splits them), Fashion-MNIST when its IDX files
// are installed (10,000 training and 2,000 test images of the 70,000; the Debian package
// dataset-fashion-mnist), and MobileNetV2 from the `nsfwjs` package as a TF.js layers model.
//
// public/data/<name>.bin holds the images as bytes (count × 784), then the labels as bytes;
// public/data/datasets.json says what is there.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFashionMnist, loadMnistSplit, FASHION_MNIST_CLASSES } from '@minibatch/data';
import { readModelFiles } from '@minibatch/pretrained/node';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = join(root, 'public', 'data');
const modelDir = join(root, 'public', 'models', 'mobilenet_v2');
mkdirSync(dataDir, { recursive: true });
mkdirSync(modelDir, { recursive: true });

/** The first `count` samples of a data set as bytes (pixels 0…255) and labels. */
function bytesOf(ds, count) {
  const n = Math.min(count, ds.count);
  const pixels = ds.x.length / ds.count;
  const out = new Uint8Array(n * (pixels + 1));
  for (let i = 0; i < n * pixels; i++) out[i] = Math.round(ds.x[i] * 255);
  for (let i = 0; i < n; i++) out[n * pixels + i] = ds.y[i];
  return { bytes: out, count: n };
}

function write(name, title, classNames, train, test, trainCount, testCount) {
  const a = bytesOf(train, trainCount);
  const b = bytesOf(test, testCount);
  // One file: the training part, then the test part, each images then labels.
  const file = `${name}.bin`;
  const all = new Uint8Array(a.bytes.length + b.bytes.length);
  all.set(a.bytes, 0);
  all.set(b.bytes, a.bytes.length);
  writeFileSync(join(dataDir, file), all);
  return { name, title, file, shape: [28, 28, 1], classNames, train: a.count, test: b.count };
}

const datasets = [];
const mnist = loadMnistSplit();
datasets.push(write('mnist', 'MNIST digits', Array.from({ length: 10 }, (_, d) => String(d)), mnist.train, mnist.test, Infinity, Infinity));
try {
  const fashion = loadFashionMnist();
  datasets.push(write('fashion-mnist', 'Fashion-MNIST', [...FASHION_MNIST_CLASSES], fashion.train, fashion.test, 10000, 2000));
} catch (error) {
  console.log(`demo assets: no Fashion-MNIST (${error.message.split('\n')[0]}); the demo offers MNIST only`);
}
writeFileSync(join(dataDir, 'datasets.json'), JSON.stringify(datasets, null, 2) + '\n');

// The TF.js model as plain files: the package ships them wrapped in .min.js modules.
const files = await readModelFiles('nsfwjs/dist/models/mobilenet_v2/model.min.js');
const manifest = JSON.parse(new TextDecoder().decode(files.bytes));
writeFileSync(join(modelDir, 'model.json'), files.bytes);
for (const group of manifest.weightsManifest) for (const path of group.paths) writeFileSync(join(modelDir, path), files.sibling(path));
console.log(`demo assets: ${datasets.map((d) => `${d.name} ${d.train}/${d.test}`).join(', ')}; MobileNetV2 (nsfwjs) in public/models`);
