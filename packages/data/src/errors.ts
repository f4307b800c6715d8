// Errors of data loading: a missing file, a file in the wrong format, data whose parts do
// not fit. Bad arguments use core's ArgumentError, shape problems core's ShapeError.

export type DataErrorCode = 'not-found' | 'bad-format' | 'truncated' | 'mismatch' | 'csv' | 'not-fitted';

/** A data set that cannot be found or read: the message says what was expected and what to do. */
export class DataError extends Error {
  override readonly name = 'DataError';
  readonly code: DataErrorCode;

  constructor(code: DataErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
