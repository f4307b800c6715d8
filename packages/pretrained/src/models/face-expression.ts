// face-api.js's face expression network (Vincent Mühler's face-api.js, MIT; the maintained fork
// @vladmandic/face-api ships its weights) defined with minibatch layers, so its weights
// manifest — weights only, the architecture is code in face-api — loads by name.
//
// Input [112, 112, 3] RGB bytes, normalized as face-api does: (x − mean RGB) / 255. Then four
// "dense blocks" of 32, 64, 128, 256 channels, each halving the resolution; in a block
//   out1 = relu(conv0(x))          (a 3×3 conv in block 0, a separable conv in the others, stride 2)
//   out2 = sep1(out1)
//   out3 = sep2(relu(out1 + out2))
//   out4 = sep3(relu(out1 + out2 + out3))
//   y    = relu(out1 + out2 + out3 + out4)
// with sep = 3×3 depthwise-separable convolution ('same', bias); then a 7×7 average pool (stride
// 2, valid) to [256] and a fully connected layer to 7 logits. The output is logits; softmax
// gives face-api's expression probabilities.
import {
  Add, AvgPool2d, Conv2d, Dense, Flatten, Graph, Normalization, ReLU, SeparableConv2d, type GraphNode, type Module,
} from '@minibatch/layers';
import type { ModelFiles } from '../files.js';
import { readTfjsWeights } from '../tfjs/format.js';
import { loadWeights } from '../weights.js';

/** The classes of the logits, in order (face-api's FaceExpressions). */
export const FACE_EXPRESSIONS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'] as const;

/** face-api's mean RGB, subtracted before dividing by 255. */
const MEAN_RGB = [122.782, 117.001, 104.298];

/**
 * The network, unbuilt. Node names follow the weight names ('dense2_conv1' holds
 * 'dense2/conv1/…'); the pooled features are node 'features', the classifier 'fc'.
 *
 * @example
 * const model = faceExpressionNet();
 * model.build([112, 112, 3]);
 * loadWeights(model, readTfjsWeights(files), { map: faceExpressionWeightPath });
 */
export function faceExpressionNet(): Graph {
  const nodes: GraphNode[] = [{ name: 'normalize', layer: new Normalization({ mean: MEAN_RGB, variance: 255 ** 2 }), inputs: ['input'] }];
  const node = (name: string, layer: Module, inputs: string[]): string => {
    nodes.push({ name, layer, inputs });
    return name;
  };
  const sep = (filters: number, strides: number): Module => new SeparableConv2d({ filters, kernelSize: 3, strides, padding: 'same' });
  let x = 'normalize';
  [32, 64, 128, 256].forEach((filters, b) => {
    const at = (what: string) => `dense${b}_${what}`;
    const first = b === 0 ? new Conv2d({ filters, kernelSize: 3, strides: 2, padding: 'same' }) : sep(filters, 2);
    const out1 = node(at('out1'), new ReLU(), [node(at('conv0'), first, [x])]);
    const out2 = node(at('conv1'), sep(filters, 1), [out1]);
    const sum2 = node(at('sum2'), new Add(), [out1, out2]);
    const out3 = node(at('conv2'), sep(filters, 1), [node(at('in3'), new ReLU(), [sum2])]);
    const sum3 = node(at('sum3'), new Add(), [out1, out2, out3]);
    const out4 = node(at('conv3'), sep(filters, 1), [node(at('in4'), new ReLU(), [sum3])]);
    x = node(at('out'), new ReLU(), [node(at('sum4'), new Add(), [out1, out2, out3, out4])]);
  });
  const pooled = node('pool', new AvgPool2d({ poolSize: 7, strides: 2 }), [x]);
  node('fc', new Dense({ units: FACE_EXPRESSIONS.length }), [node('features', new Flatten(), [pooled])]);
  return new Graph(nodes, { inputShape: [112, 112, 3], label: 'faceExpressionNet' });
}

const SUFFIXES: Record<string, string> = {
  filters: 'weight', bias: 'bias', depthwise_filter: 'depthwiseWeight', pointwise_filter: 'pointwiseWeight', weights: 'weight',
};

/** The parameter path of a face-api weight name: 'dense1/conv2/pointwise_filter' → 'dense1_conv2.pointwiseWeight', 'fc/weights' → 'fc.weight'. */
export function faceExpressionWeightPath(name: string): string | null {
  const match = /^(?:(dense\d)\/(conv\d)|(fc))\/(\w+)$/.exec(name);
  const suffix = match === null ? undefined : SUFFIXES[match[4]];
  if (match === null || suffix === undefined) return null;
  return `${match[3] ?? `${match[1]}_${match[2]}`}.${suffix}`;
}

/**
 * The expression network with face-api's weights from its manifest files
 * (`face_expression_model-weights_manifest.json` and its `.bin` shard), built and in eval mode.
 */
export function loadFaceExpressionNet(files: ModelFiles): Graph {
  const model = faceExpressionNet();
  model.build([112, 112, 3]);
  try {
    loadWeights(model, readTfjsWeights(files), { map: faceExpressionWeightPath, source: files.name });
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model.eval();
}
