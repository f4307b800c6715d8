// A minibatch model exported as an ONNX graph (opset 14), for ONNX runtimes. The graph speaks
// ONNX's convention: images NCHW (input [batch, C, H, W]), so kernels are written OIHW. Values
// are tracked as in the importer: 'nchw' for images, 'plain' (ONNX's own axis order) for the
// rest; where minibatch's meaning depends on NHWC order (Flatten of an image, Reshape,
// Permute) a Transpose to NHWC comes first, so the exported graph computes what the model does.
import { ActivationLayer, type Activation, type Graph, type Module } from '@minibatch/layers';
import { FormatError } from '@minibatch/train';
import type { ConstantOp } from './layers.js';
import { encodeOnnx, floatTensor, int64Tensor, type AttributeProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.js';

export const EXPORT_OPSET = 14;

interface Value {
  name: string;
  layout: 'nchw' | 'plain';
  /** minibatch's per-sample shape (NHWC for images). */
  shape: number[];
}

/** An attribute value: an int, ints, a string, or a float ({ f }). */
type Attr = number | number[] | string | { f: number };

function attribute(name: string, v: Attr): AttributeProto {
  if (typeof v === 'number') return { name, type: 2, i: v };
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  return { name, type: 1, f: v.f };
}

const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Writes nodes and initializers with unique names. */
class Writer {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly taken = new Set<string>();

  constructor(readonly source: string) {}

  unique(base: string): string {
    let name = base.replace(/[^\w./-]/g, '_') || 'v';
    for (let i = 1; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }

  op(op: string, inputs: string[], attrs: Record<string, Attr> = {}, base = op): string {
    const out = this.unique(base);
    this.nodes.push({ op_type: op, name: out, input: inputs, output: [out], attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return out;
  }

  constant(base: string, shape: readonly number[], data: ArrayLike<number>): string {
    const name = this.unique(base);
    this.initializers.push(floatTensor(name, shape, data));
    return name;
  }

  ints(base: string, values: readonly number[]): string {
    const name = this.unique(base);
    this.initializers.push(int64Tensor(name, values));
    return name;
  }

  fail(what: string): never {
    throw new FormatError(`${this.source}: ${what}`);
  }
}

/** A tensor's data by parameter name (for the module's own parameters and buffers). */
function own(m: Module, name: string): { shape: number[]; data: Float32Array } {
  const found = [...m.namedParameters(), ...m.namedBuffers()].find(([n]) => n === name);
  if (found === undefined) throw new FormatError(`${m.name}: no parameter '${name}' (is the model built?)`);
  return { shape: [...found[1].shape], data: found[1].data() };
}

/** The value in ONNX's order for layout-dependent ops: an image goes NHWC (what minibatch's per-sample order is). */
function nhwcPlain(w: Writer, v: Value): Value {
  if (v.layout === 'plain') return v;
  return { name: w.op('Transpose', [v.name], { perm: [0, 2, 3, 1] }, `${v.name}_nhwc`), layout: 'plain', shape: v.shape };
}

function asImage(w: Writer, v: Value, layer: string): Value {
  if (v.layout === 'nchw') return v;
  if (v.shape.length !== 3) w.fail(`${layer} needs images [height, width, channels], got [${v.shape.join(', ')}]`);
  // A plain rank-3 value here is NHWC data (minibatch's order): to NCHW.
  return { name: w.op('Transpose', [v.name], { perm: [0, 3, 1, 2] }, `${v.name}_nchw`), layout: 'nchw', shape: v.shape };
}

function activation(w: Writer, act: Activation | null, v: Value): Value {
  if (act === null) return v;
  const c = act.getConfig() as Record<string, number>;
  const unary = (op: string, attrs: Record<string, Attr> = {}): Value => ({ ...v, name: w.op(op, [v.name], attrs) });
  switch (act.name) {
    case 'relu': return unary('Relu');
    case 'sigmoid': return unary('Sigmoid');
    case 'tanh': return unary('Tanh');
    case 'leakyRelu': return unary('LeakyRelu', { alpha: { f: c.alpha } });
    case 'elu': return unary('Elu', { alpha: { f: c.alpha } });
    case 'hardSigmoid': return unary('HardSigmoid', { alpha: { f: c.alpha }, beta: { f: c.beta } });
    case 'hardSwish': return unary('HardSwish');
    case 'relu6':
    case 'clippedRelu':
    case 'clip': {
      const [lo, hi] = act.name === 'relu6' ? [0, 6] : act.name === 'clippedRelu' ? [0, c.maxValue] : [c.min, c.max];
      return { ...v, name: w.op('Clip', [v.name, lo === undefined ? '' : w.constant('clip_min', [], [lo]), hi === undefined ? '' : w.constant('clip_max', [], [hi])]) };
    }
    case 'softmax': {
      const rank = v.shape.length + 1;
      const axis = c.axis < 0 ? c.axis + rank : c.axis;
      return unary('Softmax', { axis: v.layout === 'nchw' ? [0, 2, 3, 1][axis] : axis });
    }
    case 'scaledTanh': {
      const inner = w.op('Mul', [v.name, w.constant('two_thirds', [], [2 / 3])]);
      return { ...v, name: w.op('Mul', [w.op('Tanh', [inner]), w.constant('scale', [], [1.7159])]) };
    }
    default:
      return w.fail(`activation '${act.name}' cannot be exported to ONNX`);
  }
}

/** [[t, b], [l, r]] of a window over an h×w image, as minibatch computes it. */
function pads(h: number, wd: number, k: [number, number], s: [number, number], d: [number, number], padding: unknown): number[] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (typeof padding === 'number') return [padding, padding, padding, padding];
  if (Array.isArray(padding)) return [padding[0][0], padding[1][0], padding[0][1], padding[1][1]];
  const total = (n: number, i: number): number => Math.max((Math.ceil(n / s[i]) - 1) * s[i] + (k[i] - 1) * d[i] + 1 - n, 0);
  const [th, tw] = [total(h, 0), total(wd, 1)];
  return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
}

/** The ONNX layout of a constant of minibatch's shape, broadcast against a value: images' channels move first. */
function constantLayout(shape: readonly number[], data: Float32Array, v: Value): { shape: number[]; data: Float32Array } {
  if (v.layout !== 'nchw' || shape.length === 0 || sizeOf(shape) === 1) return { shape: [...shape], data };
  const full = [...Array(3 - shape.length).fill(1), ...shape];
  const [H, W, C] = full;
  const out = new Float32Array(data.length);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) out[(c * H + y) * W + x] = data[(y * W + x) * C + c];
  return { shape: [C, H, W], data: out };
}

function convert(w: Writer, m: Module, inputs: Value[]): Value {
  const [x] = inputs;
  const cfg = m.getConfig() as Record<string, unknown>;
  const out = (name: string, v: Value, shape = m.outputShapeOf(inputs.map((i) => i.shape))): Value => ({ name, layout: v.layout, shape });
  switch (m.name) {
    case 'sequential':
      return (m as unknown as { layers: Module[] }).layers.reduce((v, layer) => convert(w, layer, [v]), x);
    case 'graph': {
      const g = m as Graph;
      const values = new Map<string, Value>(g.inputs.map((name, k) => [name, inputs[k]]));
      for (const node of g.nodes) values.set(node.name, convert(w, node.layer, node.inputs.map((n) => values.get(n)!)));
      return values.get(g.outputs[0])!;
    }
    case 'residual': {
      const r = m as unknown as { block: Module; projection: Module | null; activation: Activation | null };
      const y = convert(w, r.block, [x]);
      const shortcut = r.projection === null ? x : convert(w, r.projection, [x]);
      const sum: Value = { ...y, name: w.op('Add', [y.name, y.layout === shortcut.layout ? shortcut.name : nhwcPlain(w, shortcut).name]) };
      return activation(w, r.activation, sum);
    }
    case 'dense': {
      if (x.layout !== 'plain' || x.shape.length !== 1) w.fail(`dense needs [features], got [${x.shape.join(', ')}]`);
      const wt = own(m, 'weight');
      const ins = [x.name, w.constant('weight', wt.shape, wt.data)];
      if ((cfg.useBias as boolean) !== false) ins.push(w.constant('bias', [wt.shape[1]], own(m, 'bias').data));
      return activation(w, (m as unknown as { activation: Activation | null }).activation, out(w.op('Gemm', ins), x));
    }
    case 'conv2d':
    case 'depthwiseConv2d':
    case 'separableConv2d': {
      const img = asImage(w, x, m.name);
      const [h, wd, C] = img.shape;
      const k = (m as unknown as { kernelSize: [number, number] }).kernelSize;
      const s = (m as unknown as { strides: [number, number] }).strides;
      const d = (m as unknown as { dilation: [number, number] }).dilation;
      const attrs = { kernel_shape: k, strides: s, dilations: d, pads: pads(h, wd, k, s, d, cfg.padding) };
      const biasOf = (count: number) => ((cfg.useBias as boolean) !== false ? [w.constant('bias', [count], own(m, 'bias').data)] : []);
      let y: string;
      if (m.name === 'conv2d') {
        const wt = own(m, 'weight');
        const [kh, kw, I, O] = wt.shape;
        const oihw = new Float32Array(wt.data.length);
        for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) oihw[((o * I + i) * kh + a) * kw + b] = wt.data[((a * kw + b) * I + i) * O + o];
        y = w.op('Conv', [img.name, w.constant('weight', [O, I, kh, kw], oihw), ...biasOf(O)], { ...attrs, group: (cfg.groups as number | undefined) ?? 1 });
      } else {
        const dw = own(m, m.name === 'depthwiseConv2d' ? 'weight' : 'depthwiseWeight');
        const [kh, kw, , mult] = dw.shape;
        const O = C * mult;
        // [kh, kw, c, m] → [c·m, 1, kh, kw]
        const kernel = new Float32Array(dw.data.length);
        for (let o = 0; o < O; o++) for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) kernel[(o * kh + a) * kw + b] = dw.data[(a * kw + b) * O + o];
        const depthwise = w.op('Conv', [img.name, w.constant('depthwise', [O, 1, kh, kw], kernel), ...(m.name === 'depthwiseConv2d' ? biasOf(O) : [])], { ...attrs, group: C });
        if (m.name === 'depthwiseConv2d') y = depthwise;
        else {
          const pw = own(m, 'pointwiseWeight');
          const [, , I, F] = pw.shape;
          const oi = new Float32Array(pw.data.length);
          for (let o = 0; o < F; o++) for (let i = 0; i < I; i++) oi[o * I + i] = pw.data[i * F + o];
          y = w.op('Conv', [depthwise, w.constant('pointwise', [F, I, 1, 1], oi), ...biasOf(F)]);
        }
      }
      return activation(w, (m as unknown as { activation: Activation | null }).activation, out(y, img));
    }
    case 'batchNorm': {
      if (x.layout === 'plain' && x.shape.length !== 1) w.fail(`batchNorm over [${x.shape.join(', ')}] cannot be exported (images or [features] only)`);
      const c = x.shape[x.shape.length - 1];
      const t = (name: string) => w.constant(name, [c], own(m, name).data);
      return out(w.op('BatchNormalization', [x.name, t('gamma'), t('beta'), t('runningMean'), t('runningVar')], { epsilon: { f: cfg.epsilon as number } }), x);
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const img = asImage(w, x, m.name);
      const k = cfg.poolSize as [number, number];
      const s = cfg.strides as [number, number];
      const attrs = { kernel_shape: k, strides: s, pads: pads(img.shape[0], img.shape[1], k, s, [1, 1], cfg.padding) };
      return out(w.op(m.name === 'maxPool2d' ? 'MaxPool' : 'AveragePool', [img.name], attrs), img);
    }
    case 'globalAvgPool2d': {
      const img = asImage(w, x, m.name);
      return { name: w.op('Flatten', [w.op('GlobalAveragePool', [img.name])], { axis: 1 }), layout: 'plain', shape: [img.shape[2]] };
    }
    case 'flatten': {
      const plain = x.layout === 'nchw' && sizeOf(x.shape.slice(0, 2)) > 1 ? nhwcPlain(w, x) : x;
      return { name: w.op('Flatten', [plain.name], { axis: 1 }), layout: 'plain', shape: [sizeOf(x.shape)] };
    }
    case 'reshape':
    case 'permute': {
      const plain = x.layout === 'nchw' ? nhwcPlain(w, x) : x;
      const shape = m.outputShape(x.shape);
      const name = m.name === 'reshape'
        ? w.op('Reshape', [plain.name, w.ints('shape', [0, ...shape])])
        : w.op('Transpose', [plain.name], { perm: [0, ...(cfg.axes as number[]).map((a) => a + 1)] });
      return { name, layout: 'plain', shape };
    }
    case 'zeroPadding2d': {
      const img = asImage(w, x, m.name);
      const [[t, b], [l, r]] = cfg.padding as [[number, number], [number, number]];
      return out(w.op('Pad', [img.name, w.ints('pads', [0, 0, t, l, 0, 0, b, r])], { mode: 'constant' }), img);
    }
    case 'upSampling2d': {
      const img = asImage(w, x, m.name);
      const [sh, sw] = cfg.size as [number, number];
      return out(w.op('Resize', [img.name, '', w.constant('scales', [4], [1, 1, sh, sw])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }), img);
    }
    case 'rescaling': {
      const scaled = w.op('Mul', [x.name, w.constant('scale', [], [cfg.scale as number])]);
      return out(w.op('Add', [scaled, w.constant('offset', [], [cfg.offset as number])]), x);
    }
    case 'normalization': {
      const c = x.shape[x.shape.length - 1];
      const per = (v: number | number[], f: (n: number) => number) => Float32Array.from(Array.isArray(v) ? v.map(f) : Array(c).fill(f(v)));
      const shape = x.layout === 'nchw' ? [c, 1, 1] : [c];
      const centered = w.op('Sub', [x.name, w.constant('mean', shape, per(cfg.mean as number[], (v) => v))]);
      return out(w.op('Mul', [centered, w.constant('inv_std', shape, per(cfg.variance as number[], (v) => 1 / Math.sqrt(v)))]), x);
    }
    case 'constantOp': {
      const op = m as unknown as ConstantOp;
      const c = constantLayout(op.shape, own(m, 'value').data, x);
      const k = w.constant('value', c.shape, c.data);
      const onnxOp = { add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div' }[op.op];
      return out(w.op(onnxOp, op.reversed ? [k, x.name] : [x.name, k]), x);
    }
    case 'dropout':
    case 'spatialDropout':
      return out(w.op('Identity', [x.name]), x);
    case 'add':
    case 'subtract':
    case 'multiply':
    case 'divide':
    case 'concatenate': {
      const same = inputs.every((v) => v.layout === inputs[0].layout);
      const vs = same ? inputs : inputs.map((v) => nhwcPlain(w, v));
      const layout = vs[0].layout;
      if (m.name !== 'concatenate') {
        // ONNX's elementwise ops take two inputs: fold left, as the merge layers do.
        const op = { add: 'Add', subtract: 'Sub', multiply: 'Mul', divide: 'Div' }[m.name]!;
        return out(vs.slice(1).reduce((acc, v) => w.op(op, [acc, v.name]), vs[0].name), vs[0]);
      }
      const rank = vs[0].shape.length;
      const axis = (cfg.axis as number) < 0 ? (cfg.axis as number) + rank : (cfg.axis as number);
      return { name: w.op('Concat', vs.map((v) => v.name), { axis: layout === 'nchw' ? [2, 3, 1][axis] : axis + 1 }), layout, shape: m.outputShapeOf(inputs.map((i) => i.shape)) };
    }
    default:
      if (m instanceof ActivationLayer) return activation(w, m.activation, x);
      return w.fail(`layer '${m.label ?? m.name}' (${m.name}) cannot be exported to ONNX`);
  }
}

function valueInfo(name: string, v: { layout: 'nchw' | 'plain'; shape: number[] }): ValueInfoProto {
  const dims = v.layout === 'nchw' ? [v.shape[2], v.shape[0], v.shape[1]] : v.shape;
  return { name, type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'batch' }, ...dims.map((d) => ({ dim_value: d }))] } } } };
}

/**
 * The ONNX bytes of a built model (opset 14). Image inputs and outputs are NCHW, as ONNX
 * runtimes expect; every layer is written as the ONNX ops that compute it exactly, or the
 * export stops with a FormatError naming the layer it cannot write.
 *
 * @example
 * writeFileSync('model.onnx', exportOnnx(model));   // then onnxruntime: input [batch, C, H, W]
 */
export function exportOnnx(model: Module, options: { name?: string; inputShape?: readonly number[] } = {}): Uint8Array {
  const inputShape = options.inputShape ?? model.builtInputShape;
  if (inputShape === null) throw new FormatError('exportOnnx: build the model first (model.build(inputShape)), or pass { inputShape }');
  const w = new Writer(options.name ?? model.label ?? 'model');
  const image = inputShape.length === 3;
  const input: Value = { name: w.unique('input'), layout: image ? 'nchw' : 'plain', shape: [...inputShape] };
  const result = convert(w, model, [input]);
  const output = w.op('Identity', [result.name], {}, 'output');
  return encodeOnnx({
    ir_version: 8,
    producer_name: 'minibatch',
    opset_import: [{ domain: '', version: EXPORT_OPSET }],
    graph: {
      name: options.name ?? model.label ?? model.name,
      node: w.nodes,
      initializer: w.initializers,
      input: [valueInfo(input.name, input)],
      output: [valueInfo(output, result)],
    },
  });
}
