// ONNX graphs imported onto a minibatch Graph. ONNX images are NCHW, minibatch's NHWC: the
// importer transposes the weights once, at load time (Conv's OIHW kernels to HWIO), and runs
// the whole graph channels-last. It tracks each value's layout: 'nchw' values (ONNX rank-4
// images) live as NHWC, every other value keeps ONNX's axis order ('plain'). Ops whose meaning
// depends on the axis order (Flatten, Reshape, Transpose, and axes of Concat or Softmax) get
// their axes translated, or a Permute node that puts the values in ONNX's order first — so the
// imported network computes exactly what the ONNX graph does, the image input taken as NHWC.
import { Graph, Module, layerFromSpec, type GraphNode } from '@minibatch/layers';
import type { Registry } from '@minibatch/registry';
import { FormatError } from '@minibatch/train';
import { ConstantOp } from './layers.js';
import { DataType, decodeOnnx, tensorValues, type AttributeProto, type ModelProtoObject, type NodeProto, type TensorProto } from './proto.js';

/** The ops the importer reads (for the error that names an unsupported one). */
export const ONNX_OPS = [
  'Conv', 'BatchNormalization', 'Relu', 'LeakyRelu', 'Elu', 'Clip', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Softmax',
  'Add', 'Sub', 'Mul', 'Div', 'MatMul', 'Gemm', 'GlobalAveragePool', 'AveragePool', 'MaxPool', 'Flatten', 'Reshape', 'Transpose',
  'Concat', 'Constant', 'Identity', 'Dropout', 'Pad',
] as const;

export type Layout = 'nchw' | 'plain';
interface Constant {
  shape: number[];
  data: Float32Array | number[];
}

export interface OnnxImportOptions {
  /** The per-sample shape of the (first) input in ONNX's order ([C, H, W]) where the file leaves dimensions symbolic. */
  inputShape?: readonly number[];
}

/** An attribute's value by name (ints, floats, a tensor, a string), or the fallback. */
function attrs(node: NodeProto) {
  const byName = new Map((node.attribute ?? []).map((a) => [a.name, a]));
  const get = (name: string): AttributeProto | undefined => byName.get(name);
  return {
    has: (name: string) => byName.has(name),
    int: (name: string, fallback: number): number => (get(name)?.i !== undefined ? Number(get(name)!.i) : fallback),
    float: (name: string, fallback: number): number => get(name)?.f ?? fallback,
    ints: (name: string, fallback: number[]): number[] => (get(name)?.ints ?? fallback).map(Number),
    str: (name: string, fallback: string): string => (get(name)?.s ? new TextDecoder().decode(get(name)!.s) : fallback),
    tensor: (name: string): TensorProto | undefined => get(name)?.t,
    names: () => [...byName.keys()],
  };
}

/** [t, l, b, r] from ONNX pads [x1_begin, x2_begin, x1_end, x2_end] and auto_pad, for an h×w input. */
function spatialPadding(node: NodeProto, h: number, w: number, k: [number, number], s: [number, number], d: [number, number], fail: (m: string) => never): [[number, number], [number, number]] {
  const a = attrs(node);
  const auto = a.str('auto_pad', 'NOTSET');
  if (auto === 'NOTSET') {
    const pads = a.ints('pads', [0, 0, 0, 0]);
    if (pads.length !== 4) fail(`pads ${JSON.stringify(pads)}: only 2-D (4 values) is supported`);
    return [[pads[0], pads[2]], [pads[1], pads[3]]];
  }
  if (auto === 'VALID') return [[0, 0], [0, 0]];
  if (auto !== 'SAME_UPPER' && auto !== 'SAME_LOWER') fail(`auto_pad '${auto}' is not supported`);
  // output = ceil(input / stride); the odd pixel goes after (SAME_UPPER) or before (SAME_LOWER).
  const total = (n: number, i: number): number => Math.max((Math.ceil(n / s[i]) - 1) * s[i] + (k[i] - 1) * d[i] + 1 - n, 0);
  const split = (t: number): [number, number] => (auto === 'SAME_UPPER' ? [Math.floor(t / 2), t - Math.floor(t / 2)] : [t - Math.floor(t / 2), Math.floor(t / 2)]);
  return [split(total(h, 0)), split(total(w, 1))];
}

const sanitize = (name: string): string => name.replace(/\./g, '_') || 'node';

/**
 * Builds a minibatch Graph from ONNX model bytes: weights transposed to NHWC layouts once,
 * names kept from the file (the node's name, or its output's), every op checked against what
 * minibatch can compute exactly — anything else is a FormatError that names it.
 */
export function importOnnx(bytes: Uint8Array, registry: Registry, source: string, options: OnnxImportOptions = {}): Graph {
  return importOnnxGraph(bytes, registry, source, options).model;
}

/**
 * importOnnx, and whether each input and output is an image ('nchw': NHWC in minibatch) or in
 * ONNX's own axis order.
 */
export function importOnnxGraph(bytes: Uint8Array, registry: Registry, source: string, options: OnnxImportOptions = {}): { model: Graph; inputLayouts: Layout[]; outputLayouts: Layout[] } {
  const proto: ModelProtoObject = decodeOnnx(bytes, source);
  const graph = proto.graph!;
  const fail = (what: string): never => {
    throw new FormatError(`${source}: ${what}`);
  };
  const opset = (proto.opset_import ?? []).find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx')?.version ?? 13;
  const consts = new Map<string, Constant>();
  for (const t of graph.initializer ?? []) {
    if (t.name === undefined) fail('an initializer has no name');
    consts.set(t.name!, tensorValues(t, source));
  }
  const inputs = (graph.input ?? []).filter((v) => !consts.has(v.name));
  if (inputs.length === 0) fail('the graph has no inputs (everything is a constant), which is not supported');

  // Our graph, built node by node, with each value's per-sample shape and layout.
  const nodes: GraphNode[] = [];
  const shapes = new Map<string, number[]>();
  const layouts = new Map<string, Layout>();
  const values = new Map<string, string>(); // ONNX value name → our value name
  const state: Record<string, { shape: number[]; data: Float32Array }> = {};
  const taken = new Set<string>();
  const unique = (base: string): string => {
    let name = sanitize(base);
    for (let i = 1; taken.has(name); i++) name = `${sanitize(base)}_${i}`;
    taken.add(name);
    return name;
  };
  const inNames = inputs.map((input, k) => {
    if (input.type !== undefined && input.type.tensor_type === undefined) fail(`input '${input.name}' is not a tensor (a sequence, map or optional), which is not supported`);
    const elem = input.type?.tensor_type?.elem_type;
    if (elem !== undefined && elem !== DataType.FLOAT) fail(`input '${input.name}' has element type ${elem}, which is not supported (float inputs only)`);
    const dims = input.type?.tensor_type?.shape?.dim ?? [];
    const onnxShape = k === 0 && options.inputShape ? [...options.inputShape] : dims.slice(1).map((d, i) => {
      const v = Number(d.dim_value ?? 0);
      if (!(v > 0)) fail(`input '${input.name}' has a symbolic or unknown dimension ${i + 1} ('${d.dim_param ?? '?'}'): pass { inputShape } in ONNX's order`);
      return v;
    });
    const name = unique(input.name);
    const image = onnxShape.length === 3;
    shapes.set(name, image ? [onnxShape[1], onnxShape[2], onnxShape[0]] : onnxShape);
    layouts.set(name, image ? 'nchw' : 'plain');
    values.set(input.name, name);
    return name;
  });
  const inName = inNames[0];

  const add = (base: string, spec: { name: string; config?: Record<string, unknown> } | Module, from: string[], layout: Layout, params: Record<string, { shape: number[]; data: Float32Array }> = {}): string => {
    let layer: Module;
    let shape: number[];
    try {
      layer = spec instanceof Module ? spec : layerFromSpec(registry, spec);
      shape = layer.outputShapeOf(from.map((f) => shapes.get(f)!));
    } catch (error) {
      // Attributes that make no layer (a group of 0, a kernel larger than its input): the file's fault.
      if (error instanceof FormatError) throw error;
      return fail(`node '${base}' cannot be built as ${spec instanceof Module ? spec.name : spec.name}: ${(error as Error).message}`);
    }
    const name = unique(base);
    nodes.push({ name, layer, inputs: from });
    shapes.set(name, shape);
    layouts.set(name, layout);
    for (const [p, v] of Object.entries(params)) state[`${name}.${p}`] = v;
    return name;
  };
  const permuted = new Map<string, string>();
  /** The value with ONNX's axis order (a Permute from NHWC when it is an image). */
  const plain = (ref: string): string => {
    if (layouts.get(ref) === 'plain') return ref;
    if (!permuted.has(ref)) permuted.set(ref, add(`${ref}_nchw`, { name: 'permute', config: { axes: [2, 0, 1] } }, [ref], 'plain'));
    return permuted.get(ref)!;
  };
  /** An image value as NHWC (a Permute from ONNX's [C, H, W] when it is plain). */
  const nchw = (ref: string, fail2: (m: string) => never): string => {
    if (layouts.get(ref) === 'nchw') return ref;
    if (shapes.get(ref)!.length !== 3) fail2(`a value of rank ${shapes.get(ref)!.length + 1} is not supported here (2-D images [N, C, H, W] only)`);
    return add(`${ref}_nhwc`, { name: 'permute', config: { axes: [1, 2, 0] } }, [ref], 'nchw');
  };
  /** The ONNX-order per-sample shape of a value. */
  const onnxOrder = (ref: string): number[] => {
    const s = shapes.get(ref)!;
    return layouts.get(ref) === 'nchw' ? [s[2], s[0], s[1]] : s;
  };
  /** A constant as minibatch broadcasts it against a value of this layout and ONNX rank. */
  const constantFor = (c: Constant, layout: Layout, rank: number, where: (m: string) => never): { shape: number[]; data: Float32Array } => {
    let shape = [...c.shape];
    let data = Float32Array.from(c.data);
    if (shape.length > rank) where(`a constant of shape [${c.shape.join(', ')}] has more axes than its operand`);
    while (shape.length < rank) shape.unshift(1);
    if (shape[0] !== 1) where(`a constant of shape [${c.shape.join(', ')}] varies along the batch axis, which is not supported`);
    shape = shape.slice(1);
    if (layout === 'nchw') {
      // [C, H, W] → [H, W, C]
      const [C, H, W] = shape;
      const moved = new Float32Array(data.length);
      for (let ch = 0; ch < C; ch++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) moved[(y * W + x) * C + ch] = data[(ch * H + y) * W + x];
      shape = [H, W, C];
      data = moved;
    }
    while (shape.length > 0 && shape[0] === 1) shape.shift();
    return { shape, data };
  };

  for (const [index, node] of (graph.node ?? []).entries()) {
    const label = node.name || node.output?.[0] || `node_${index}`;
    const where = (what: string): never => fail(`node '${label}' (${node.op_type}): ${what}`);
    if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') where(`domain '${node.domain}' is not supported (standard ONNX ops only)`);
    const a = attrs(node);
    const ins = node.input ?? [];
    const outs = node.output ?? [];
    const value = (name: string): string => values.get(name) ?? where(consts.has(name) ? `input '${name}' is a constant where a computed value is needed, which is not supported` : `input '${name}' is not defined before this node`);
    const constant = (name: string | undefined, what: string): Constant => {
      const c = name === undefined || name === '' ? undefined : consts.get(name);
      if (c === undefined) where(`${what} ('${name ?? ''}') must be an initializer or a Constant (a missing initializer, or a computed value)`);
      return c!;
    };
    const optionalConstant = (name: string | undefined): Constant | undefined => (name === undefined || name === '' ? undefined : constant(name, 'this input'));
    const done = (ref: string): void => {
      values.set(outs[0], ref);
      for (const extra of outs.slice(1)) if (extra !== '') where(`a second output ('${extra}') is not supported`);
    };
    const unary = (spec: { name: string; config?: Record<string, unknown> }): void => {
      const x = value(ins[0]);
      done(add(label, spec, [x], layouts.get(x)!));
    };
    const base = node.name || outs[0] || `node_${index}`;
    switch (node.op_type) {
      case 'Constant': {
        const t = a.tensor('value');
        if (t === undefined) where(`only the 'value' attribute is supported (got ${a.names().join(', ')})`);
        consts.set(outs[0], tensorValues(t!, source));
        break;
      }
      case 'Identity':
      case 'Dropout':
        if (consts.has(ins[0])) consts.set(outs[0], consts.get(ins[0])!);
        else values.set(outs[0], value(ins[0]));
        if (node.op_type === 'Dropout' && outs.length > 1 && outs[1] !== '') where('the mask output is not supported');
        break;
      case 'Relu': unary({ name: 'relu' }); break;
      case 'Sigmoid': unary({ name: 'sigmoid' }); break;
      case 'Tanh': unary({ name: 'tanh' }); break;
      case 'LeakyRelu': unary({ name: 'leakyRelu', config: { alpha: a.float('alpha', 0.01) } }); break;
      case 'Elu': unary({ name: 'elu', config: { alpha: a.float('alpha', 1) } }); break;
      case 'HardSigmoid': unary({ name: 'hardSigmoid', config: { alpha: a.float('alpha', 0.2), beta: a.float('beta', 0.5) } }); break;
      case 'HardSwish': unary({ name: 'hardSwish' }); break;
      case 'Clip': {
        // Bounds are inputs from opset 11, attributes before.
        const bound = (i: number, attr: string): number | undefined => {
          if (opset < 11) return a.has(attr) ? a.float(attr, 0) : undefined;
          const c = optionalConstant(ins[i]);
          return c === undefined ? undefined : Number(c.data[0]);
        };
        const min = bound(1, 'min');
        const max = bound(2, 'max');
        unary(min === 0 && max === 6 ? { name: 'relu6' } : { name: 'clip', config: { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) } });
        break;
      }
      case 'Softmax': {
        const x = value(ins[0]);
        const rank = onnxOrder(x).length + 1;
        let axis = a.int('axis', opset >= 13 ? -1 : 1);
        if (axis < 0) axis += rank;
        if (axis === 0) where('softmax along the batch axis is not supported');
        if (opset < 13 && axis !== rank - 1) where(`opset ${opset} softmax flattens from axis ${axis}; only the last axis is supported`);
        if (layouts.get(x) === 'nchw') {
          if (axis === 1) done(add(base, { name: 'softmax', config: { axis: -1 } }, [x], 'nchw'));
          else done(add(base, { name: 'softmax', config: { axis } }, [plain(x)], 'plain'));
        } else done(add(base, { name: 'softmax', config: { axis } }, [x], 'plain'));
        break;
      }
      case 'Conv': {
        const x = nchw(value(ins[0]), where);
        const w = constant(ins[1], 'the kernel W');
        if (w.shape.length !== 4) where(`only 2-D convolutions are supported (W has shape [${w.shape.join(', ')}])`);
        const [O, I, kh, kw] = w.shape;
        const [h, wd, C] = shapes.get(x)!;
        const group = a.int('group', 1);
        if (C % group !== 0 || I * group !== C) where(`W [${w.shape.join(', ')}] with group ${group} does not fit ${C} input channels`);
        const strides = a.ints('strides', [1, 1]) as [number, number];
        const dilations = a.ints('dilations', [1, 1]) as [number, number];
        const padding = spatialPadding(node, h, wd, [kh, kw], strides, dilations, where);
        const bias = optionalConstant(ins[2]);
        const common = { kernelSize: [kh, kw], strides, dilation: dilations, padding, useBias: bias !== undefined };
        const params: Record<string, { shape: number[]; data: Float32Array }> = {};
        let spec: { name: string; config: Record<string, unknown> };
        if (group === C && I === 1) {
          // Depthwise: output channel o = c·m + j reads channel c → our [kh, kw, c, m].
          const m = O / C;
          const k = new Float32Array(kh * kw * C * m);
          for (let o = 0; o < O; o++) for (let y = 0; y < kh; y++) for (let xx = 0; xx < kw; xx++) k[(y * kw + xx) * O + o] = Number(w.data[(o * kh + y) * kw + xx]);
          params.weight = { shape: [kh, kw, C, m], data: k };
          spec = { name: 'depthwiseConv2d', config: { ...common, depthMultiplier: m } };
        } else {
          // OIHW → HWIO (for groups, [kh, kw, I, O] is the grouped layout too).
          const k = new Float32Array(kh * kw * I * O);
          for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) for (let y = 0; y < kh; y++) for (let xx = 0; xx < kw; xx++) k[((y * kw + xx) * I + i) * O + o] = Number(w.data[((o * I + i) * kh + y) * kw + xx]);
          params.weight = { shape: [kh, kw, I, O], data: k };
          spec = { name: 'conv2d', config: { ...common, filters: O, groups: group } };
        }
        if (bias !== undefined) params.bias = { shape: [O], data: Float32Array.from(bias.data) };
        done(add(base, spec, [x], 'nchw', params));
        break;
      }
      case 'BatchNormalization': {
        if (a.int('training_mode', 0) !== 0 || (outs.length > 1 && outs.slice(1).some((o) => o !== ''))) where('training mode (running statistics as outputs) is not supported');
        const raw = value(ins[0]);
        if (layouts.get(raw) === 'plain' && onnxOrder(raw).length !== 1) where('batch normalization over axis 1 of a tensor of rank > 2 that is not an image is not supported');
        const [scale, b, mean, variance] = [1, 2, 3, 4].map((i) => constant(ins[i], ['scale', 'B', 'mean', 'var'][i - 1]));
        const f = (c: Constant) => ({ shape: [c.data.length], data: Float32Array.from(c.data) });
        done(add(base, { name: 'batchNorm', config: { epsilon: a.float('epsilon', 1e-5), momentum: a.float('momentum', 0.9) } }, [raw], layouts.get(raw)!, {
          gamma: f(scale), beta: f(b), runningMean: f(mean), runningVar: f(variance),
        }));
        break;
      }
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div': {
        const op = node.op_type.toLowerCase() as 'add' | 'sub' | 'mul' | 'div';
        const [l, r] = [ins[0], ins[1]];
        if (consts.has(l) && consts.has(r)) where('both operands are constants (fold them before export)');
        if (!consts.has(l) && !consts.has(r)) {
          let [p, q] = [value(l), value(r)];
          if (layouts.get(p) !== layouts.get(q)) [p, q] = [plain(p), plain(q)];
          const merge = { add: 'add', sub: 'subtract', mul: 'multiply', div: 'divide' }[op];
          done(add(base, { name: merge }, [p, q], layouts.get(p)!));
          break;
        }
        const reversed = consts.has(l);
        const x = value(reversed ? r : l);
        const c = constantFor(consts.get(reversed ? l : r)!, layouts.get(x)!, onnxOrder(x).length + 1, where);
        done(add(base, new ConstantOp({ op, shape: c.shape.length === 0 ? [1] : c.shape, reversed }), [x], layouts.get(x)!, { value: { shape: c.shape.length === 0 ? [1] : c.shape, data: c.data } }));
        break;
      }
      case 'MatMul':
      case 'Gemm': {
        const gemm = node.op_type === 'Gemm';
        if (gemm && a.int('transA', 0) !== 0) where('transA = 1 (a transposed batch) is not supported');
        const x = value(ins[0]);
        if (onnxOrder(x).length !== 1) where(`an input of rank ${onnxOrder(x).length + 1} is not supported (a matrix [N, K] only)`);
        const b = constant(ins[1], 'the matrix B');
        if (b.shape.length !== 2) where(`B must be a matrix, got shape [${b.shape.join(', ')}]`);
        const transB = gemm && a.int('transB', 0) === 1;
        const [K, M] = transB ? [b.shape[1], b.shape[0]] : b.shape;
        const alpha = gemm ? a.float('alpha', 1) : 1;
        const weight = new Float32Array(K * M);
        for (let k = 0; k < K; k++) for (let m = 0; m < M; m++) weight[k * M + m] = alpha * Number(b.data[transB ? m * K + k : k * M + m]);
        const params: Record<string, { shape: number[]; data: Float32Array }> = { weight: { shape: [K, M], data: weight } };
        const c = gemm ? optionalConstant(ins[2]) : undefined;
        if (c !== undefined) {
          const count = c.data.length;
          if (!(count === 1 || (count === M && c.shape[c.shape.length - 1] === M && c.shape.slice(0, -1).every((d) => d === 1)))) {
            where(`bias C of shape [${c.shape.join(', ')}] varies along the batch, which is not supported ([M] or a scalar only)`);
          }
          const beta = a.float('beta', 1);
          params.bias = { shape: [M], data: Float32Array.from({ length: M }, (_, m) => beta * Number(c.data[count === 1 ? 0 : m])) };
        }
        done(add(base, { name: 'dense', config: { units: M, useBias: c !== undefined } }, [x], 'plain', params));
        break;
      }
      case 'GlobalAveragePool': {
        const x = nchw(value(ins[0]), where);
        const [h, w] = shapes.get(x)!;
        // An average over the whole image keeps ONNX's [N, C, 1, 1].
        done(add(base, { name: 'avgPool2d', config: { poolSize: [h, w], strides: [h, w] } }, [x], 'nchw'));
        break;
      }
      case 'AveragePool':
      case 'MaxPool': {
        const max = node.op_type === 'MaxPool';
        const x = nchw(value(ins[0]), where);
        if (max && outs.length > 1 && outs[1] !== '') where('the Indices output is not supported');
        if (!max && a.int('count_include_pad', 0) !== 0) where('count_include_pad = 1 is not supported (padding is never counted)');
        if (a.ints('dilations', [1, 1]).some((d) => d !== 1)) where('dilated pooling is not supported');
        const k = a.ints('kernel_shape', []) as [number, number];
        if (k.length !== 2) where(`kernel_shape ${JSON.stringify(k)}: only 2-D pooling is supported`);
        const s = a.ints('strides', [1, 1]) as [number, number];
        const [h, w] = shapes.get(x)!;
        const padding = spatialPadding(node, h, w, k, s, [1, 1], where);
        if (a.int('ceil_mode', 0) === 1) {
          // Rounding the output size up adds windows at the end: pad there (padding never counts).
          [0, 1].forEach((i) => {
            const n = [h, w][i] + padding[i][0] + padding[i][1];
            const out = Math.ceil((n - k[i]) / s[i]) + 1;
            padding[i][1] += Math.max(0, (out - 1) * s[i] + k[i] - n);
          });
        }
        done(add(base, { name: max ? 'maxPool2d' : 'avgPool2d', config: { poolSize: k, strides: s, padding } }, [x], 'nchw'));
        break;
      }
      case 'Flatten': {
        const raw = value(ins[0]);
        const rank = onnxOrder(raw).length + 1;
        let axis = a.int('axis', 1);
        if (axis < 0) axis += rank;
        if (axis !== 1) where(`axis ${a.int('axis', 1)} merges the batch with other axes, which is not supported (axis 1 only)`);
        // A 1×1 image flattens the same in either order; a larger one needs ONNX's C, H, W order.
        const [h, w] = shapes.get(raw)!;
        done(add(base, { name: 'flatten' }, [layouts.get(raw) === 'nchw' && h * w !== 1 ? plain(raw) : raw], 'plain'));
        break;
      }
      case 'Reshape': {
        const raw = value(ins[0]);
        const target = Array.from(opset >= 5 ? constant(ins[1], 'the shape').data : a.ints('shape', []), Number);
        if (a.int('allowzero', 0) !== 0) where('allowzero = 1 is not supported');
        const from = onnxOrder(raw);
        // The first entry is the batch: 0 or -1 keep it, and so does a literal size (exporters
        // write the batch they traced with) as long as the other entries keep each sample whole.
        const batchKept = 'changes the batch dimension, which is not supported (each sample must keep its size)';
        if (!(target[0] === 0 || target[0] === -1 || target[0] > 0)) where(`shape [${target.join(', ')}] ${batchKept}`);
        if (target[0] === -1 && target.slice(1).includes(-1)) where(`shape [${target.join(', ')}] infers two dimensions, which is not supported`);
        const perSample = target.slice(1).map((d, i) => (d === 0 ? from[i] : d));
        const size = (dims: number[]): number => dims.reduce((p, q) => p * q, 1);
        if (perSample.includes(-1) ? size(from) % -size(perSample) !== 0 : size(perSample) !== size(from)) where(`shape [${target.join(', ')}] ${batchKept}`);
        const flatten = perSample.length === 1 && layouts.get(raw) === 'nchw' && shapes.get(raw)![0] * shapes.get(raw)![1] === 1;
        done(add(base, { name: 'reshape', config: { targetShape: perSample } }, [flatten ? raw : plain(raw)], 'plain'));
        break;
      }
      case 'Transpose': {
        const raw = value(ins[0]);
        const rank = onnxOrder(raw).length + 1;
        const perm = a.ints('perm', Array.from({ length: rank }, (_, i) => rank - 1 - i));
        if (perm[0] !== 0) where(`perm [${perm.join(', ')}] moves the batch axis, which is not supported (it must stay first)`);
        if (layouts.get(raw) === 'nchw' && perm.join() === '0,2,3,1') {
          // NCHW → NHWC is what the value already is: a view of it, now in plain order.
          done(add(base, { name: 'reshape', config: { targetShape: shapes.get(raw)! } }, [raw], 'plain'));
          break;
        }
        done(add(base, { name: 'permute', config: { axes: perm.slice(1).map((p) => p - 1) } }, [plain(raw)], 'plain'));
        break;
      }
      case 'Concat': {
        const refs = ins.map((n) => value(n));
        const rank = onnxOrder(refs[0]).length + 1;
        let axis = a.int('axis', 1);
        if (axis < 0) axis += rank;
        if (axis === 0) where('concatenation along the batch axis is not supported');
        if (refs.every((r) => layouts.get(r) === 'nchw')) {
          done(add(base, { name: 'concatenate', config: { axis: [-1, 0, 1][axis - 1] } }, refs, 'nchw'));
        } else {
          done(add(base, { name: 'concatenate', config: { axis: axis - 1 } }, refs.map(plain), 'plain'));
        }
        break;
      }
      case 'Pad': {
        const x = nchw(value(ins[0]), where);
        const mode = a.str('mode', 'constant');
        if (mode !== 'constant') where(`mode '${mode}' is not supported (constant)`);
        const pads = Array.from(opset >= 11 ? constant(ins[1], 'the pads').data : a.ints('pads', []), Number);
        const fill = opset >= 11 ? Number(optionalConstant(ins[2])?.data[0] ?? 0) : a.float('value', 0);
        if (pads.length !== 8 || pads[0] !== 0 || pads[1] !== 0 || pads[4] !== 0 || pads[5] !== 0) where(`pads [${pads.join(', ')}] pad the batch or channels, which is not supported (height and width only)`);
        const padding = { padding: [[pads[2], pads[6]], [pads[3], pads[7]]] };
        if (fill === 0) {
          done(add(base, { name: 'zeroPadding2d', config: padding }, [x], 'nchw'));
          break;
        }
        // Another constant c: pad x − c with zeros, then add c back.
        const constantOf = (op: 'sub' | 'add', from: string, suffix: string) =>
          add(`${base}_${suffix}`, new ConstantOp({ op, shape: [1] }), [from], 'nchw', { value: { shape: [1], data: Float32Array.of(fill) } });
        const padded = add(`${base}_zeros`, { name: 'zeroPadding2d', config: padding }, [constantOf('sub', x, 'shift')], 'nchw');
        done(constantOf('add', padded, 'fill'));
        break;
      }
      default:
        where(`op '${node.op_type}' is not supported; supported: ${ONNX_OPS.join(', ')}`);
    }
  }
  const outputs = (graph.output ?? []).map((o) => {
    const ref = values.get(o.name);
    if (ref === undefined) fail(`output '${o.name}' is ${consts.has(o.name) ? 'a constant, which is not supported' : 'not computed by any node'}`);
    // The input passed straight through (Identity, Dropout): a view of it, as a node of the graph.
    return inNames.includes(ref!) ? add(o.name, { name: 'reshape', config: { targetShape: shapes.get(ref!)! } }, [ref!], layouts.get(ref!)!) : ref!;
  });
  if (outputs.length === 0) fail('the graph has no outputs');
  let model: Graph;
  try {
    model = new Graph(nodes, { input: inNames, extraInputShapes: inNames.slice(1).map((n) => shapes.get(n)!), outputs, inputShape: shapes.get(inName)!, label: graph.name || undefined }, registry);
    model.build(shapes.get(inName)!);
  } catch (error) {
    if (error instanceof FormatError) throw error;
    return fail(`the graph does not fit together: ${(error as Error).message}`);
  }
  try {
    model.loadStateDict(state);
  } catch (error) {
    model.dispose();
    return fail(`the weights do not fit: ${(error as Error).message}`);
  }
  return { model: model.eval(), inputLayouts: inNames.map((n) => layouts.get(n)!), outputLayouts: outputs.map((o) => layouts.get(o)!) };
}
