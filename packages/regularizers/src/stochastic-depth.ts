// Stochastic depth (Huang et al. 2016): a residual block whose branch is skipped with
// probability `rate` during training — the network is shallower on average, trains faster and
// generalizes better — and scaled by its survival probability 1 − rate at inference:
//   training:  y = act(shortcut(x) + b·f(x)),   b ~ Bernoulli(1 − rate)
//   inference: y = act(shortcut(x) + (1 − rate)·f(x))
// The paper draws b once per mini-batch (mode 'batch', the default: a dropped block is not
// computed at all); mode 'sample' draws one b per sample ("drop path", as in timm), which
// always runs the block.
import { ArgumentError, type Rng, type RngState, ShapeError, type Tensor, add, mul } from '@minibatch/core';
import { Module, Residual, Sequential, layerFromSpec, layerSpecSchema, resolveActivation, type Activation } from '@minibatch/layers';
import { type Registry, z } from '@minibatch/registry';
import { MaskSource, type Stochastic, bernoulliMask, maskMultiply } from './masks.js';
import { checkRate, jsonClone, labelSchema, parseConfig, rateSchema, seedSchema } from './util.js';

const activationSpec = z.union([
  z.string().min(1),
  z.strictObject({ kind: z.string().optional(), name: z.string().min(1), config: z.record(z.string(), z.unknown()).optional() }),
], { error: 'an activation name, or { "name": "leakyRelu", "config": { "alpha": 0.2 } }' });
type ActivationSpec = z.output<typeof activationSpec>;

export const stochasticDepthSchema = z.strictObject({
  block: z.array(layerSpecSchema).min(1),
  /** Probability of dropping the block's branch in a training step, in [0, 1). */
  rate: rateSchema.default(0.2),
  /** 'batch': one draw per mini-batch (Huang et al. 2016); 'sample': one per sample. */
  mode: z.enum(['batch', 'sample']).default('batch'),
  /** As residual: a projection of x when the block changes the shape. */
  projection: z.enum(['auto', 'always', 'none']).default('auto'),
  /** Applied after the sum. */
  activation: activationSpec.nullable().optional(),
  seed: seedSchema,
  label: labelSchema,
});
export type StochasticDepthConfig = z.input<typeof stochasticDepthSchema>;

export interface StochasticDepthOptions {
  rate?: number;
  mode?: 'batch' | 'sample';
  projection?: 'auto' | 'always' | 'none';
  activation?: ActivationSpec | null | undefined;
  seed?: number | undefined;
  label?: string | undefined;
}

/** A Residual whose summary rows (a protected method) this module reuses. */
class ResidualShape extends Residual {
  rows(inputShape: readonly number[]): [string, Module, number[]][] {
    return this.childShapes(inputShape);
  }
}

/**
 * A residual block with stochastic depth. Children and parameter paths are those of
 * `residual` ('block.0.weight', 'projection.weight'), so a residual's state dict loads into
 * it and back.
 *
 * @example
 * const block = new StochasticDepth([new Dense({ units: 64, activation: 'relu' }), new Dense({ units: 64 })],
 *   { rate: 0.2, activation: 'relu' });
 */
export class StochasticDepth extends Module implements Stochastic {
  readonly name = 'stochasticDepth';
  readonly block: Sequential;
  readonly mode: 'batch' | 'sample';
  readonly activation: Activation | null;
  #rate: number;
  readonly #activationSpec: ActivationSpec | null;
  readonly #shape: ResidualShape;
  readonly #gates = new MaskSource('stochasticDepth');

  constructor(block: readonly Module[] | Sequential, options: StochasticDepthOptions = {}, registry?: Registry) {
    super(options, registry);
    this.#rate = checkRate('stochasticDepth', options.rate ?? 0.2);
    this.mode = options.mode ?? 'batch';
    if (this.mode !== 'batch' && this.mode !== 'sample') throw new ArgumentError(`stochasticDepth: mode must be 'batch' or 'sample', got '${String(this.mode)}'`);
    this.#activationSpec = options.activation ?? null;
    this.activation = this.#activationSpec === null ? null : resolveActivation(this.#activationSpec, registry, ['activation']);
    this.#shape = new ResidualShape(block, { projection: options.projection ?? 'auto' }, registry);
    this.block = this.addModule('block', this.#shape.block);
  }

  /** Builds from a parsed config, creating each layer spec through the registry. */
  static fromConfig(registry: Registry, config: StochasticDepthConfig): StochasticDepth {
    const c = parseConfig('layer', 'stochasticDepth', stochasticDepthSchema, config);
    return new StochasticDepth(c.block.map((s, i) => layerFromSpec(registry, s, ['block', i])), c, registry);
  }

  /** Probability of dropping the branch; may be changed between steps (see linearDepthRates). */
  get rate(): number {
    return this.#rate;
  }

  set rate(value: number) {
    this.#rate = checkRate(this.name, value);
  }

  /** The projection of the shortcut, once built (null when it is the identity). */
  get projection(): Module | null {
    return this.#shape.projection;
  }

  outputShape(inputShape: readonly number[]): number[] {
    try {
      return this.#shape.outputShape(inputShape);
    } catch (e) {
      if (e instanceof ShapeError) throw new ShapeError(e.message.replace(/^residual:/, `${this.name}:`));
      throw e;
    }
  }

  protected override childShapes(inputShape: readonly number[]): [string, Module, number[]][] {
    return this.#shape.rows(inputShape);
  }

  protected override createState(inputShape: number[], rng: Rng): void {
    // The residual builds the block and its projection from the same forks a `residual` uses.
    this.#shape.build(inputShape, rng);
    const projection = this.#shape.projection;
    if (projection !== null && !this.children().some(([name]) => name === 'projection')) this.addModule('projection', projection);
    this.#gates.set(rng.fork());
  }

  rngState(): RngState {
    return this.#gates.state();
  }

  setRngState(state: RngState): void {
    this.#gates.restore(state);
  }

  forward(x: Tensor): Tensor {
    this.ensureBuilt(x);
    const projection = this.#shape.projection;
    const shortcut = projection === null ? x : projection.forward(x);
    const keep = 1 - this.#rate;
    let sum: Tensor;
    if (!this.training) {
      const branch = this.block.forward(x);
      sum = add(keep === 1 ? branch : mul(branch, keep), shortcut);
    } else if (this.#rate === 0) {
      sum = add(this.block.forward(x), shortcut);
    } else if (this.mode === 'batch') {
      const kept = this.#gates.rng.nextU32() < Math.floor(keep * 4294967296);
      sum = kept ? add(this.block.forward(x), shortcut) : shortcut;
    } else {
      const branch = this.block.forward(x);
      const gate = bernoulliMask(branch.shape.map((d, i) => (i === 0 ? d : 1)), keep, 1, this.#gates.rng);
      sum = add(maskMultiply(this.name, branch, gate), shortcut);
    }
    return this.activation === null ? sum : this.activation.apply(sum);
  }

  override dispose(): void {
    super.dispose();
    this.#shape.dispose(); // unbuilds the helper too, so a later build starts afresh
  }

  protected override layerConfig(): Record<string, unknown> {
    return jsonClone({
      block: this.block.layers.map((l) => l.toSpec()),
      rate: this.#rate,
      mode: this.mode,
      projection: this.#shape.mode,
      ...(this.#activationSpec !== null ? { activation: this.#activationSpec } : {}),
      ...(this.seed !== undefined ? { seed: this.seed } : {}),
    });
  }
}

/**
 * Huang et al.'s linear decay rule: the l-th of L stochastic-depth blocks of `model` (in
 * module order) gets rate = finalRate · l / L, so early blocks, whose features everything
 * downstream uses, are rarely dropped and the last one is dropped with `finalRate` (the paper
 * uses 0.5). Sets the rates and returns them.
 *
 * @example
 * linearDepthRates(model, 0.5);   // 3 blocks → [0.1667, 0.3333, 0.5]
 */
export function linearDepthRates(model: Module, finalRate: number): number[] {
  checkRate('linearDepthRates', finalRate);
  const blocks: StochasticDepth[] = [];
  const visit = (m: Module): void => {
    if (m instanceof StochasticDepth) blocks.push(m);
    for (const [, child] of m.children()) visit(child);
  };
  visit(model);
  if (blocks.length === 0) throw new ArgumentError('linearDepthRates: the model has no stochasticDepth block');
  return blocks.map((b, i) => (b.rate = (finalRate * (i + 1)) / blocks.length));
}
