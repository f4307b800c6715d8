// Typed errors: callers can tell a shape problem from a bad argument, and every message
// names the op, what it expected and what it got.

/** Operand shapes that do not fit the op (mismatch, wrong rank, not broadcastable). */
export class ShapeError extends Error {
  override readonly name = 'ShapeError';
}

/** An invalid argument: bad axis, negative stride, unknown padding, label out of range… */
export class ArgumentError extends RangeError {
  override readonly name = 'ArgumentError';
}

/**
 * The engine's WebAssembly memory cannot hold what was asked for. The engine is unchanged:
 * tensors alive before are intact and smaller allocations still work.
 */
export class MemoryError extends RangeError {
  override readonly name = 'MemoryError';
  constructor(
    message: string,
    /** Bytes asked for, and bytes the engine could still hand out. */
    readonly asked: number,
    readonly free: number,
  ) {
    super(message);
  }
}

/** Bytes as a person reads them: 512 bytes, 1.5 MiB, 16 GiB. */
export function fmtBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) [v, u] = [v / 1024, u + 1];
  return `${Number(v.toPrecision(3))} ${units[u]}`;
}

/** A tensor used after it was freed (disposed, or its scope ended). */
export class DisposedError extends Error {
  override readonly name = 'DisposedError';
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
