// Optimizers as composable gradient transforms (after optax): a transform turns gradients
// into updates, with its state passed in and handed back — never hidden in a closure — so
// `adamw` is a chain, clipping or weight decay is one more link, and the state of any chain
// is plain data for a checkpoint.
import { ArgumentError, ShapeError, Tensor, inRanges } from '@minibatch/core';
import type { TransformState } from './state.js';

/**
 * `init(params)` builds the state (kept tensors: free them with disposeState);
 * `update(updates, state, params)` returns the new updates and the next state.
 *
 * Conventions, so that a step is a few passes over memory and nothing leaks:
 * - `update` never writes to its input updates; the updates it returns are new tensors of
 *   the current scope (or the inputs themselves when it changes nothing).
 * - State tensors are updated in place (as a donated buffer in JAX): the state passed in is
 *   consumed, use the returned one. The step count and other numbers are fresh values.
 * - Call it inside scope() and noGrad(); Optimizer.step() does both.
 */
export interface GradientTransformation<S extends TransformState = TransformState> {
  /** A stable name, for messages. */
  readonly name: string;
  init(params: readonly Tensor[]): S;
  update(updates: readonly Tensor[], state: S, params?: readonly Tensor[]): [Tensor[], S];
  /**
   * Optional: update(), then applyUpdates(params, …), in fewer passes over memory — a link
   * that only scales (the learning rate) adds its scaled updates to the parameters in the same
   * pass. The parameters end with exactly the values of the two calls; returns the next state.
   */
  updateAndApply?(updates: readonly Tensor[], state: S, params: readonly Tensor[]): S;
}

/** The state type of a transform. */
export type StateOf<T> = T extends GradientTransformation<infer S> ? S : never;

/** A transform with no state. */
export type EmptyState = Record<string, never>;

export const EMPTY: EmptyState = Object.freeze({}) as EmptyState;

/**
 * Links transforms: the updates of one are the gradients of the next; the state is the
 * tuple of their states.
 *
 * @example
 * const tx = chain(clipByGlobalNorm(1), scaleByAdam(), addDecayedWeights(1e-4), scaleByLearningRate(1e-3));
 */
export function chain<const T extends readonly GradientTransformation<any>[]>(
  ...transforms: T
): GradientTransformation<{ [K in keyof T]: StateOf<T[K]> }> {
  type S = { [K in keyof T]: StateOf<T[K]> };
  for (const [i, t] of transforms.entries()) {
    if (typeof t?.init !== 'function' || typeof t?.update !== 'function') {
      throw new ArgumentError(`chain: argument ${i} is not a gradient transform (an object with init and update), got ${String(t)}`);
    }
  }
  const last = transforms[transforms.length - 1];
  /** Runs the links before `end` on the updates; checks the state first. */
  const links = (updates: readonly Tensor[], state: S, params: readonly Tensor[] | undefined, end: number): [Tensor[], TransformState[]] => {
    const states = state as unknown as TransformState[];
    if (!Array.isArray(states) || states.length !== transforms.length) {
      throw new ArgumentError(`chain: expected a state of ${transforms.length} links (from this chain's init), got ${Array.isArray(states) ? states.length : typeof states}`);
    }
    const next: TransformState[] = [];
    let u: Tensor[] = updates.slice();
    for (let i = 0; i < end; i++) {
      const [out, s] = transforms[i].update(u, states[i], params);
      u = out;
      next.push(s);
    }
    return [u, next];
  };
  return {
    name: `chain(${transforms.map((t) => t.name).join(', ')})`,
    init: (params) => transforms.map((t) => t.init(params)) as unknown as S,
    update(updates, state, params) {
      const [u, next] = links(updates, state, params, transforms.length);
      return [u, next as unknown as S];
    },
    ...(last?.updateAndApply === undefined ? {} : {
      updateAndApply(updates: readonly Tensor[], state: S, params: readonly Tensor[]): S {
        const [u, next] = links(updates, state, params, transforms.length - 1);
        next.push(last.updateAndApply!(u, (state as unknown as TransformState[])[transforms.length - 1], params));
        return next as unknown as S;
      },
    }),
  };
}

/** Passes updates through. */
export function identity(): GradientTransformation<EmptyState> {
  return { name: 'identity', init: () => EMPTY, update: (updates, state) => [updates.slice(), state] };
}

/**
 * params[i] += scale · updates[i], in place: the last act of a step. (The product is rounded
 * to float32 before the sum, as mul(updates, scale) would round it.)
 */
export function applyUpdates(params: readonly Tensor[], updates: readonly Tensor[], scale = 1): void {
  checkSameStructure('applyUpdates', params, updates);
  if (params.length === 0) return;
  inRanges(params[0].engine, 'axpby', params.map((p, i) => ({
    size: p.size,
    args: (start: number, count: number) => [count, scale, updates[i].ptr + 4 * start, 1, p.ptr + 4 * start, p.ptr + 4 * start],
  })));
}

/** Throws unless the two lists pair up tensor by tensor with equal shapes. */
export function checkSameStructure(owner: string, params: readonly Tensor[], updates: readonly Tensor[]): void {
  if (params.length !== updates.length) {
    throw new ArgumentError(`${owner}: ${updates.length} updates for ${params.length} parameters — they must pair up one to one`);
  }
  for (let i = 0; i < params.length; i++) {
    const a = params[i].shape;
    const b = updates[i].shape;
    if (a.length !== b.length || a.some((d, k) => d !== b[k])) {
      throw new ShapeError(`${owner}: update ${i} has shape [${b.join(', ')}], its parameter [${a.join(', ')}]`);
    }
  }
}
