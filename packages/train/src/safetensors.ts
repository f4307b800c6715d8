// The safetensors format (used by Hugging Face and readable by PyTorch): an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype, shape and byte
// range, then the raw little-endian data. minibatch stores float32 ("F32") tensors and
// keeps the model's architecture and preprocessing as JSON strings in "__metadata__".

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Record<string, NamedArray>;
  metadata: Record<string, string>;
}

export class FormatError extends Error {
  override readonly name = 'FormatError';
}

/** Encodes float32 tensors (and string metadata) as safetensors bytes. */
export function encodeSafetensors(tensors: Record<string, NamedArray>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const { shape, data } = tensors[name];
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length) {
      throw new FormatError(`safetensors: tensor '${name}' has shape [${shape.join(', ')}] (${count} values) but ${data.length} values`);
    }
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const { data } = tensors[name];
    const le = new DataView(out.buffer, at, data.byteLength);
    for (let i = 0; i < data.length; i++) le.setFloat32(i * 4, data[i], true);
    at += data.byteLength;
  }
  return out;
}

/** Decodes safetensors bytes; F32 tensors only, with errors that say what is wrong. */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): SafetensorsFile {
  if (bytes.length < 8) throw new FormatError(`${source}: too short to be a safetensors file (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8 || headerLength > 100_000_000) {
    throw new FormatError(`${source}: header length ${headerLength} exceeds the file (${bytes.length} bytes) — not a safetensors file, or truncated`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    throw new FormatError(`${source}: the header is not valid JSON (${(error as Error).message})`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors: Record<string, NamedArray> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (dtype !== 'F32') throw new FormatError(`${source}: tensor '${name}' has dtype ${dtype}; minibatch reads F32 tensors only`);
    const count = shape.reduce((a, b) => a * b, 1);
    const [start, end] = offsets;
    if (!(start >= 0 && end <= dataLength && end - start === count * 4)) {
      throw new FormatError(`${source}: tensor '${name}' byte range [${start}, ${end}) does not fit shape [${shape.join(', ')}] within ${dataLength} data bytes (truncated file?)`);
    }
    const data = new Float32Array(count);
    const le = new DataView(bytes.buffer, bytes.byteOffset + dataStart + start, end - start);
    for (let i = 0; i < count; i++) data[i] = le.getFloat32(i * 4, true);
    tensors[name] = { shape, data };
  }
  return { tensors, metadata };
}
