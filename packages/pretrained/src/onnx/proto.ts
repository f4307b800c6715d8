// ONNX protobuf messages through protobufjs and the official onnx.proto (schema.ts): decoding
// a model, reading tensors (typed fields or little-endian raw_data), and the plain objects the
// exporter encodes. Only what minibatch's importer and exporter use is typed here.
import protobuf from 'protobufjs';
import { FormatError } from '@minibatch/train';
import { ONNX_SCHEMA } from './schema.js';

const root = protobuf.Root.fromJSON(ONNX_SCHEMA as protobuf.INamespace);
const ModelProto = root.lookupType('onnx.ModelProto');
const TensorProtoType = root.lookupType('onnx.TensorProto');

/** TensorProto.DataType values minibatch reads or writes. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, DOUBLE: 11, FLOAT16: 10 } as const;

export interface TensorProto {
  name?: string;
  dims?: number[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  raw_data?: Uint8Array;
  data_location?: number;
  external_data?: unknown[];
}

export interface AttributeProto {
  name: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: number[];
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  op_type: string;
  domain?: string;
  attribute?: AttributeProto[];
}

export interface ValueInfoProto {
  name: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: number; dim_param?: string }[] } } };
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
}

export interface ModelProtoObject {
  ir_version?: number;
  producer_name?: string;
  producer_version?: string;
  graph?: GraphProto;
  opset_import?: { domain?: string; version?: number }[];
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: Number, bytes: Uint8Array as never, defaults: false, arrays: true };

/** Decodes ONNX model bytes; a FormatError naming the source for anything protobuf rejects. */
export function decodeOnnx(bytes: Uint8Array, source: string): ModelProtoObject {
  let model: ModelProtoObject;
  try {
    model = ModelProto.toObject(ModelProto.decode(bytes), TO_OBJECT) as ModelProtoObject;
  } catch (error) {
    throw new FormatError(`${source}: not an ONNX model (${(error as Error).message})`);
  }
  if (model.graph === undefined) throw new FormatError(`${source}: not an ONNX model (no graph)`);
  return model;
}

/** Decodes one TensorProto (a test case's input or output .pb file). */
export function decodeTensor(bytes: Uint8Array, source: string): TensorProto {
  try {
    return TensorProtoType.toObject(TensorProtoType.decode(bytes), TO_OBJECT) as TensorProto;
  } catch (error) {
    throw new FormatError(`${source}: not an ONNX TensorProto (${(error as Error).message})`);
  }
}

/** Encodes a model object (as the exporter builds it) to bytes. */
export function encodeOnnx(model: ModelProtoObject): Uint8Array {
  const message = ModelProto.fromObject(model as Record<string, unknown>);
  return ModelProto.encode(message).finish();
}

/** A tensor's shape and values as numbers (float32 for floats; int64 and int32 as integers). */
export function tensorValues(t: TensorProto, source: string): { shape: number[]; data: Float32Array | number[] } {
  const name = t.name ?? '(unnamed)';
  if (t.data_location === 1 || (t.external_data?.length ?? 0) > 0) {
    throw new FormatError(`${source}: tensor '${name}' keeps its data in an external file, which is not supported: save the model with its weights inside (onnx.save_model(..., save_as_external_data=False))`);
  }
  const shape = (t.dims ?? []).map(Number);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new FormatError(`${source}: tensor '${name}' has dims ${JSON.stringify(t.dims)}`);
  const count = shape.reduce((a, b) => a * b, 1);
  const raw = t.raw_data !== undefined && t.raw_data.length > 0 ? t.raw_data : null;
  const fromRaw = (bytesPer: number, read: (v: DataView, at: number) => number): number[] => {
    if (raw!.length !== count * bytesPer) throw new FormatError(`${source}: tensor '${name}' [${shape.join(', ')}] needs ${count * bytesPer} bytes of raw_data, has ${raw!.length}`);
    const view = new DataView(raw!.buffer, raw!.byteOffset, raw!.length);
    return Array.from({ length: count }, (_, i) => read(view, i * bytesPer));
  };
  const check = <T extends ArrayLike<number>>(values: T): T => {
    if (values.length !== count) throw new FormatError(`${source}: tensor '${name}' [${shape.join(', ')}] needs ${count} values, has ${values.length}`);
    return values;
  };
  switch (t.data_type) {
    case DataType.FLOAT:
      return { shape, data: check(raw ? Float32Array.from(fromRaw(4, (v, at) => v.getFloat32(at, true))) : Float32Array.from(t.float_data ?? [])) };
    case DataType.DOUBLE:
      return { shape, data: check(raw ? Float32Array.from(fromRaw(8, (v, at) => v.getFloat64(at, true))) : Float32Array.from(t.double_data ?? [])) };
    case DataType.INT64:
      return { shape, data: check(raw ? fromRaw(8, (v, at) => Number(v.getBigInt64(at, true))) : (t.int64_data ?? []).map(Number)) };
    case DataType.INT32:
      return { shape, data: check(raw ? fromRaw(4, (v, at) => v.getInt32(at, true)) : (t.int32_data ?? []).map(Number)) };
    default:
      throw new FormatError(`${source}: tensor '${name}' has data type ${String(t.data_type)}, which is not supported (float, double, int32 and int64)`);
  }
}

/** A float32 TensorProto (raw little-endian data), for the exporter. */
export function floatTensor(name: string, shape: readonly number[], data: ArrayLike<number>): TensorProto {
  const bytes = new Uint8Array(new Float32Array(data).buffer);
  return { name, dims: [...shape], data_type: DataType.FLOAT, raw_data: bytes };
}

/** An int64 TensorProto, for shapes and axes the exporter passes as inputs. */
export function int64Tensor(name: string, values: readonly number[]): TensorProto {
  return { name, dims: [values.length], data_type: DataType.INT64, int64_data: [...values] };
}
