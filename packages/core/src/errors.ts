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

/** A tensor used after it was freed (disposed, or its scope ended). */
export class DisposedError extends Error {
  override readonly name = 'DisposedError';
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
