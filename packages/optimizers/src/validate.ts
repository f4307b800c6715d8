// Hyper-parameters are checked where they enter, and a bad one is named with its value
// (after torch/optim/adam.py: "Invalid learning rate: -0.1").
import { ArgumentError } from '@minibatch/core';

/** A hyper-parameter out of its range: `parameter` names it, `value` is what came. */
export class HyperParameterError extends ArgumentError {
  constructor(
    readonly owner: string,
    readonly parameter: string,
    readonly value: unknown,
    expected: string,
  ) {
    super(`${owner}: invalid ${parameter}: ${showValue(value)} — expected ${expected}`);
    // ArgumentError types its name as a literal; the instance still reports its own class.
    Object.defineProperty(this, 'name', { value: 'HyperParameterError' });
  }
}

function showValue(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `[${value.map(showValue).join(', ')}]`;
  return String(value);
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A finite number ≥ 0. */
export function nonNegative(owner: string, parameter: string, value: unknown): number {
  if (!isNumber(value) || value < 0) throw new HyperParameterError(owner, parameter, value, 'a finite number ≥ 0');
  return value;
}

/** A finite number > 0. */
export function positive(owner: string, parameter: string, value: unknown): number {
  if (!isNumber(value) || value <= 0) throw new HyperParameterError(owner, parameter, value, 'a finite number > 0');
  return value;
}

/** A number in [0, 1): betas, decay rates, momentum. */
export function unitInterval(owner: string, parameter: string, value: unknown): number {
  if (!isNumber(value) || value < 0 || value >= 1) throw new HyperParameterError(owner, parameter, value, 'a number in [0, 1)');
  return value;
}

/** A number in (0, 1]: multiplicative decay factors (gamma). */
export function factor(owner: string, parameter: string, value: unknown): number {
  if (!isNumber(value) || value <= 0 || value > 1) throw new HyperParameterError(owner, parameter, value, 'a number in (0, 1]');
  return value;
}

/** An integer ≥ min (default 1). */
export function integer(owner: string, parameter: string, value: unknown, min = 1): number {
  if (!Number.isInteger(value) || (value as number) < min) throw new HyperParameterError(owner, parameter, value, `an integer ≥ ${min}`);
  return value as number;
}

export function boolean(owner: string, parameter: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new HyperParameterError(owner, parameter, value, 'true or false');
  return value;
}

export function oneOf<T extends string>(owner: string, parameter: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new HyperParameterError(owner, parameter, value, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  return value as T;
}

/** Rejects option keys nobody reads (a typo like `weightdecay` must not pass silently). */
export function knownKeys(owner: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ArgumentError(`${owner}: unknown option '${key}' — known options: ${known.join(', ')}`);
    }
  }
}
