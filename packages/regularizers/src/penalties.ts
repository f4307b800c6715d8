// Weight penalties added to the training loss: L1 (lasso), L2 (ridge, "weight decay" in the
// loss) and elastic net (both, Zou & Hastie 2005). Each is a scalar tensor on the tape, so
// backward() adds its gradient to the parameters' gradients:
//   L1:          λ·Σ|w|              gradient λ·sign(w)   (0 at w = 0)
//   L2:          (λ/2)·Σw²           gradient λ·w         (= SGD's weightDecay λ)
//   elastic net: λ₁·Σ|w| + (λ₂/2)·Σw²
// By default only parameters of kind 'weight' (dense and conv kernels) are penalized: a bias
// or BatchNorm's γ/β only shifts or scales a unit, adds no capacity to fit noise, and pulling
// it to 0 only fights the normalization (Goodfellow et al., Deep Learning §7.1; the default
// of Keras' kernel_regularizer).
import { ArgumentError, type Tensor, abs, add, mul, square, sum, tensor } from '@minibatch/core';
import type { Module, ParamKind, ParameterInfo } from '@minibatch/layers';
import { z } from '@minibatch/registry';
import { jsonClone, parseConfig, selectParameters, selectionSchema, type Selection } from './util.js';

const strength = z.number().min(0);

export const l1Schema = z.strictObject({ lambda: strength, ...selectionSchema });
export const l2Schema = z.strictObject({ lambda: strength, ...selectionSchema });
export const elasticNetSchema = z.strictObject({ l1: strength, l2: strength, ...selectionSchema });
export type L1Config = z.input<typeof l1Schema>;
export type L2Config = z.input<typeof l2Schema>;
export type ElasticNetConfig = z.input<typeof elasticNetSchema>;

export type PenaltyName = 'l1' | 'l2' | 'elasticNet';

/**
 * A weight penalty. penalty(model) is what a training loop adds to the data loss; fit() does
 * it for you with the `regularization` option and logs the term as `penalty`.
 *
 * @example
 * const l2 = new WeightPenalty('l2', { lambda: 1e-4 });
 * const total = add(loss(model.forward(x), y), l2.penalty(model));
 * total.backward();
 */
export class WeightPenalty {
  readonly kind = 'regularizer' as const;
  readonly name: PenaltyName;
  /** λ₁ of the L1 term (0 for l2). */
  readonly l1: number;
  /** λ₂ of the L2 term (0 for l1). */
  readonly l2: number;
  readonly selection: { kinds: ParamKind[]; paths: string[] | undefined };

  constructor(name: 'l1', config: L1Config);
  constructor(name: 'l2', config: L2Config);
  constructor(name: 'elasticNet', config: ElasticNetConfig);
  constructor(name: PenaltyName, config: L1Config | L2Config | ElasticNetConfig) {
    this.name = name;
    if (name === 'l1' || name === 'l2') {
      const c = parseConfig('regularizer', name, name === 'l1' ? l1Schema : l2Schema, config);
      this.l1 = name === 'l1' ? c.lambda : 0;
      this.l2 = name === 'l2' ? c.lambda : 0;
      this.selection = { kinds: c.kinds, paths: c.paths };
    } else if (name === 'elasticNet') {
      const c = parseConfig('regularizer', name, elasticNetSchema, config);
      this.l1 = c.l1;
      this.l2 = c.l2;
      this.selection = { kinds: c.kinds, paths: c.paths };
    } else {
      throw new ArgumentError(`WeightPenalty: unknown penalty '${String(name)}' — expected 'l1', 'l2' or 'elasticNet'`);
    }
  }

  /** The parameters of `model` this penalty acts on (dotted paths, kinds). */
  parameters(model: Module): ParameterInfo[] {
    return selectParameters(this.name, model, this.selection as Selection);
  }

  /** The penalty of the selected parameters of `model`: a scalar on the tape. */
  penalty(model: Module): Tensor {
    return this.compute(this.parameters(model).map((p) => p.tensor));
  }

  /** The penalty of any list of tensors (e.g. one optimizer parameter group). */
  compute(tensors: readonly Tensor[]): Tensor {
    let absSum: Tensor | null = null;
    let squareSum: Tensor | null = null;
    for (const w of tensors) {
      if (this.l1 > 0) absSum = absSum === null ? sum(abs(w)) : add(absSum, sum(abs(w)));
      if (this.l2 > 0) squareSum = squareSum === null ? sum(square(w)) : add(squareSum, sum(square(w)));
    }
    const l1Term = absSum === null ? null : mul(absSum, this.l1);
    const l2Term = squareSum === null ? null : mul(squareSum, this.l2 / 2);
    if (l1Term !== null && l2Term !== null) return add(l1Term, l2Term);
    return l1Term ?? l2Term ?? tensor(0);
  }

  getConfig(): Record<string, unknown> {
    const strengths = this.name === 'elasticNet' ? { l1: this.l1, l2: this.l2 } : { lambda: this.name === 'l1' ? this.l1 : this.l2 };
    return jsonClone({ ...strengths, kinds: this.selection.kinds, ...(this.selection.paths !== undefined ? { paths: this.selection.paths } : {}) });
  }
}

/** L1 penalty λ·Σ|w|. @example l1({ lambda: 1e-5 }) */
export const l1 = (config: L1Config): WeightPenalty => new WeightPenalty('l1', config);
/** L2 penalty (λ/2)·Σw². @example l2({ lambda: 1e-4, paths: ['2.*'] }) */
export const l2 = (config: L2Config): WeightPenalty => new WeightPenalty('l2', config);
/** Elastic net λ₁·Σ|w| + (λ₂/2)·Σw². @example elasticNet({ l1: 1e-5, l2: 1e-4 }) */
export const elasticNet = (config: ElasticNetConfig): WeightPenalty => new WeightPenalty('elasticNet', config);

/** Anything with penalty(model): a weight penalty, or your own. */
export interface PenaltyLike {
  penalty(model: Module): Tensor;
}

export function isPenalty(x: unknown): x is PenaltyLike {
  return typeof (x as Partial<PenaltyLike>)?.penalty === 'function';
}

/** The sum of several penalties of `model` (a scalar 0 when there are none). */
export function totalPenalty(model: Module, penalties: readonly PenaltyLike[]): Tensor {
  let total: Tensor | null = null;
  for (const p of penalties) {
    const term = p.penalty(model);
    total = total === null ? term : add(total, term);
  }
  return total ?? tensor(0);
}
