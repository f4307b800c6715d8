/**
 * @minibatch/data — datasets (MNIST from the `mnist` package, Fashion-MNIST and any IDX files,
 * numeric CSV), preprocessing fitted on training data (scale, zero-center, standardize, PCA and
 * ZCA whitening, pipelines; serializable), mini-batch loaders reshuffled per epoch by core's
 * seeded Rng, train/validation/test splits (stratified) and k-fold indices.
 */
export { createDataset, subset, classCounts, sampleSize, sampleCount } from './dataset.js';
export type { Dataset, Samples, DatasetOptions } from './dataset.js';
export { DataError } from './errors.js';
export type { DataErrorCode } from './errors.js';
export { readIdx, readIdxFile, idxToDataset, loadIdxDataset, isGzip, gunzip } from './idx.js';
export type { IdxArray, IdxData, IdxType, IdxDatasetOptions } from './idx.js';
export { loadMnist, loadMnistSplit, mnistFromDigits, MNIST_SPLIT, MNIST_SHAPE } from './mnist.js';
export type { MnistOptions } from './mnist.js';
export {
  loadFashionMnist, fashionMnistFiles, fashionMnistSearchPath,
  FASHION_MNIST_CLASSES, FASHION_MNIST_DIRS, FASHION_MNIST_ENV, FASHION_MNIST_DEBIAN_PACKAGE,
} from './fashion.js';
export type { FashionMnistOptions, FashionMnistFiles } from './fashion.js';
export { readCsv, readCsvFile } from './csv.js';
export type { CsvOptions, CsvDataset } from './csv.js';
export {
  Scale, Center, Standardize, Pca, Zca, GrayToRgb, Pipeline,
  scale, center, standardize, pca, zca, grayToRgb, pipeline,
  preprocessorFromJSON, encodeArray, decodeArray,
} from './preprocess.js';
export type {
  Preprocessor, PreprocessorJSON, PreprocessorType, StatsAxis, EncodedArray,
  ScaleOptions, CenterOptions, StandardizeOptions, PcaOptions, ZcaOptions,
} from './preprocess.js';
export { eigh, covariance, columnMeans } from './linalg.js';
export type { Eigen } from './linalg.js';
export { splitIndices, splitIndices3, trainTestSplit, trainValTestSplit, kFold } from './split.js';
export type { SplitOptions, SplitIndices, ThreeWaySplitOptions, KFoldOptions, Fold } from './split.js';
export { DataLoader, Batch } from './loader.js';
export type { DataLoaderOptions, BatchTransform, BatchContext, ShuffleMode } from './loader.js';
