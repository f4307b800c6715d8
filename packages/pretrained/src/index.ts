/**
 * @minibatch/pretrained — real pretrained networks onto ordinary minibatch modules: TF.js layers
 * models and weights manifests, ONNX (import and export) and safetensors, each a registry plugin
 * of kind 'format'; fine-tuning (freeze, cut, new head, feature caching). Importing registers
 * nothing: apps call `registry.use(pretrained)`. Files from disk: `@minibatch/pretrained/node`.
 */
export { modelFiles, type ModelFiles } from './files.js';
export type { Inspection, InspectedLayer, ModelFormat } from './format.js';
export { FORMATS, formatEntries, formatOf, inspect, load, pretrained, pretrainedRegistry } from './plugin.js';
export type { LoadOptions } from './plugin.js';
export { readTfjsWeights, tfjsLayersFormat, tfjsWeightsFormat } from './tfjs/format.js';
export { decodeWeights, checkManifest } from './tfjs/weights.js';
export type { DecodedWeight, WeightGroup, WeightSpec } from './tfjs/weights.js';
export { readSafetensors, safetensorsFormat } from './safetensors.js';
export { loadWeights } from './weights.js';
export type { LoadWeightsOptions, NamedWeight } from './weights.js';
export { faceExpressionNet, faceExpressionWeightPath, loadFaceExpressionNet, FACE_EXPRESSIONS } from './models/face-expression.js';
export { cacheFeatures, cut, findLayer, finetune, freeze, isFrozen, layersOf, replaceHead, unfreeze } from './finetune.js';
export type { FinetuneOptions, LayerSelection, NamedLayer } from './finetune.js';
export { onnxFormat } from './onnx/format.js';
export { importOnnx, importOnnxGraph, ONNX_OPS } from './onnx/import.js';
export type { OnnxImportOptions, Layout } from './onnx/import.js';
export { decodeOnnx, decodeTensor, tensorValues } from './onnx/proto.js';
export { ConstantOp, constantOpSchema } from './onnx/layers.js';
export { exportOnnx, EXPORT_OPSET } from './onnx/export.js';
export { finetuneConfigSchema, parseFinetuneConfig, resolveFinetune, runFinetune } from './experiment.js';
export type { FinetuneConfig, FinetuneResult, FinetuneRunOptions, ResolvedFinetune } from './experiment.js';
