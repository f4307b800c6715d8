// Constraints: projections applied to the parameters after every optimizer step (projected
// gradient descent), in place and outside autograd.
//   maxNorm:     each unit's incoming weight vector is scaled back to norm ≤ c when it grows
//                past it (Srivastava et al. 2014, §5.1: with dropout, c = 3 or 4 lets a large
//                learning rate be used without weights blowing up).
//   nonNegative: w ← max(w, 0) (e.g. non-negative factorizations, monotone models).
// fit() applies them after each step with the `regularization` option; in your own loop,
// call applyConstraints(model, constraints) right after optimizer.step().
import { type Tensor, div, maximum, mul, noGrad, relu, scope, sqrt, square, sum, abs } from '@minibatch/core';
import type { Module, ParamKind, ParameterInfo } from '@minibatch/layers';
import { z } from '@minibatch/registry';
import { jsonClone, parseConfig, selectParameters, selectionSchema, type Selection } from './util.js';

export const maxNormSchema = z.strictObject({
  /** The largest allowed norm c of a unit's incoming weights (Srivastava et al.: 3 to 4). */
  maxValue: z.number().positive().default(3),
  ...selectionSchema,
});
export const nonNegativeSchema = z.strictObject({ ...selectionSchema });
export type MaxNormConfig = z.input<typeof maxNormSchema>;
export type NonNegativeConfig = z.input<typeof nonNegativeSchema>;

abstract class ConstraintBase {
  readonly kind = 'regularizer' as const;
  abstract readonly name: string;
  readonly selection: { kinds: ParamKind[]; paths: string[] | undefined };

  constructor(selection: { kinds: ParamKind[]; paths?: string[] | undefined }) {
    this.selection = { kinds: selection.kinds, paths: selection.paths };
  }

  /** The parameters of `model` this constraint acts on. */
  parameters(model: Module): ParameterInfo[] {
    return selectParameters(this.name, model, this.selection as Selection);
  }

  /** Projects the selected parameters of `model`, in place. */
  constrain(model: Module): void {
    this.project(this.parameters(model).map((p) => p.tensor));
  }

  /** Projects the given tensors in place (not recorded by autograd; temporaries freed). */
  project(tensors: readonly Tensor[]): void {
    scope(() => noGrad(() => {
      for (const t of tensors) t.assign(this.projected(t));
    }));
  }

  protected abstract projected(t: Tensor): Tensor;

  protected selectionConfig(): Record<string, unknown> {
    return { kinds: this.selection.kinds, ...(this.selection.paths !== undefined ? { paths: this.selection.paths } : {}) };
  }

  abstract getConfig(): Record<string, unknown>;
}

/**
 * Max-norm: a unit's incoming weights w (a dense kernel's column, a conv kernel's filter —
 * every axis but the last) are rescaled to w · c / max(‖w‖₂, c). Weights already inside the
 * ball are left bit-for-bit unchanged. A rank-1 tensor is clipped element by element.
 *
 * @example
 * const constraint = new MaxNorm({ maxValue: 3 });
 * optimizer.step();
 * constraint.constrain(model);
 */
export class MaxNorm extends ConstraintBase {
  readonly name = 'maxNorm';
  readonly maxValue: number;

  constructor(config: MaxNormConfig = {}) {
    const c = parseConfig('regularizer', 'maxNorm', maxNormSchema, config);
    super(c);
    this.maxValue = c.maxValue;
  }

  protected projected(t: Tensor): Tensor {
    const norms = t.rank < 2 ? abs(t) : sqrt(sum(square(t), Array.from({ length: t.rank - 1 }, (_, i) => i), { keepDims: true }));
    return mul(t, div(this.maxValue, maximum(norms, this.maxValue)));
  }

  getConfig(): Record<string, unknown> {
    return jsonClone({ maxValue: this.maxValue, ...this.selectionConfig() });
  }
}

/**
 * Non-negativity: w ← max(w, 0) after each step.
 *
 * @example
 * new NonNegative({ paths: ['0.weight'] });
 */
export class NonNegative extends ConstraintBase {
  readonly name = 'nonNegative';

  constructor(config: NonNegativeConfig = {}) {
    super(parseConfig('regularizer', 'nonNegative', nonNegativeSchema, config));
  }

  protected projected(t: Tensor): Tensor {
    return relu(t);
  }

  getConfig(): Record<string, unknown> {
    return jsonClone(this.selectionConfig());
  }
}

export type Constraint = MaxNorm | NonNegative;

/** Max-norm constraint. @example maxNorm({ maxValue: 3 }) */
export const maxNorm = (config: MaxNormConfig = {}): MaxNorm => new MaxNorm(config);
/** Non-negativity constraint. @example nonNegative() */
export const nonNegative = (config: NonNegativeConfig = {}): NonNegative => new NonNegative(config);

/** Anything with constrain(model): a constraint above, or your own projection. */
export interface ConstraintLike {
  constrain(model: Module): void;
}

export function isConstraint(x: unknown): x is ConstraintLike {
  return typeof (x as Partial<ConstraintLike>)?.constrain === 'function';
}

/** Applies every constraint to `model`, in order: call it right after optimizer.step(). */
export function applyConstraints(model: Module, constraints: readonly ConstraintLike[]): void {
  for (const c of constraints) c.constrain(model);
}
