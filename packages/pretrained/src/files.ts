// What a model format reads: the file the user named and, on demand, the files next to it
// that it refers to (TF.js weight shards). Bytes only, so the same importers run in a
// browser (files from fetch or an <input type="file">) and in Node (@minibatch/pretrained/node).
import { parseJson } from '@minibatch/registry';
import { FormatError } from '@minibatch/train';

export interface ModelFiles {
  /** The name of the main file (model.json, a weights manifest, model.onnx, model.safetensors). */
  readonly name: string;
  readonly bytes: Uint8Array;
  /** A file the main file refers to, by the name it uses; throws a FormatError when missing. */
  sibling(name: string): Uint8Array;
}

/**
 * Model files from bytes in memory: `files` maps names to bytes (or text); `main` names the
 * main file (default: the only one, or the .json/.onnx/.safetensors among them).
 *
 * @example
 * const files = modelFiles({ 'model.json': json, 'group1-shard1of1.bin': shard });
 */
export function modelFiles(files: Record<string, Uint8Array | string>, main?: string): ModelFiles {
  const names = Object.keys(files);
  const name = main ?? (names.length === 1 ? names[0] : names.find((n) => /\.(json|onnx|safetensors)$/i.test(n)));
  if (name === undefined || !(name in files)) {
    throw new FormatError(`modelFiles: which file is the model? name it (main) among ${names.join(', ') || '(none)'}`);
  }
  const bytesOf = (v: Uint8Array | string): Uint8Array => (typeof v === 'string' ? new TextEncoder().encode(v) : v);
  return {
    name,
    bytes: bytesOf(files[name]),
    sibling(other) {
      const found = files[other];
      if (found === undefined) throw new FormatError(`${name} refers to '${other}', which was not given (files: ${names.join(', ')})`);
      return bytesOf(found);
    },
  };
}

/** The main file as bounded JSON, or a FormatError naming it. */
export function jsonOf(files: ModelFiles, maxBytes = 256 * 2 ** 20): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(files.bytes);
  } catch {
    throw new FormatError(`${files.name}: not UTF-8 text (expected JSON)`);
  }
  try {
    return parseJson(text, { source: files.name, maxBytes });
  } catch (error) {
    throw new FormatError((error as Error).message, { cause: error });
  }
}

/** Whether the main file looks like JSON (its first non-space byte is { or [). */
export function looksLikeJson(bytes: Uint8Array): boolean {
  for (const b of bytes.subarray(0, 64)) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0xef || b === 0xbb || b === 0xbf) continue;
    return b === 0x7b || b === 0x5b;
  }
  return false;
}
