// Model ensembles (the lectures' cheapest win: a few points from averaging several models).
// An Ensemble is an ordinary Module over its members: its output is the log of the members'
// averaged class probabilities (so softmax cross-entropy and argmax accuracy read it as they
// read any model's logits), or the average of their logits. Saved and loaded as one model file.
import { Rng, ShapeError, add, log, mul, softmax, type Tensor } from '@minibatch/core';
import { Module, layerFromSpec, layerSpecSchema, modelToConfig } from '@minibatch/layers';
import { define, definePlugin, parseConfig, z, type Plugin, type Registry } from '@minibatch/registry';

export const ensembleSchema = z.strictObject({
  /** The members' layer specs (each a whole model, e.g. a sequential). */
  members: z.array(layerSpecSchema).min(2),
  /** 'probabilities' (default): average softmax outputs; 'logits': average raw outputs. */
  combine: z.enum(['probabilities', 'logits']).default('probabilities'),
  label: z.string().optional(),
});

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * An ensemble of models with the same input and output shapes.
 *
 * @example
 * const ensemble = new Ensemble([modelA, modelB, modelC]);
 * evaluate(ensemble, test).accuracy;   // usually above each member's
 */
export class Ensemble extends Module {
  readonly name = 'ensemble';
  readonly members: readonly Module[];
  readonly combine: 'probabilities' | 'logits';

  constructor(members: readonly Module[], options: { combine?: 'probabilities' | 'logits'; label?: string } = {}, registry?: Registry) {
    super(options, registry);
    if (members.length < 2) throw new ShapeError(`ensemble: needs at least two members, got ${members.length}`);
    this.members = members.slice();
    this.members.forEach((m, i) => this.addModule(String(i), m));
    this.combine = options.combine ?? 'probabilities';
  }

  static fromConfig(registry: Registry, config: z.input<typeof ensembleSchema>): Ensemble {
    const c = parseConfig('layer', 'ensemble', ensembleSchema, config);
    return new Ensemble(c.members.map((s, i) => layerFromSpec(registry, s, ['members', i])), c, registry);
  }

  outputShape(inputShape: readonly number[]): number[] {
    this.members.forEach((m, i) => {
      const built = m.builtInputShape;
      if (built !== null && !sameShape(built, inputShape)) throw new ShapeError(`ensemble: member ${i} was built for inputs [${built.join(', ')}], the ensemble gets [${inputShape.join(', ')}]`);
    });
    const shapes = this.members.map((m) => m.outputShape(inputShape));
    const odd = shapes.findIndex((s) => !sameShape(s, shapes[0]));
    if (odd >= 0) throw new ShapeError(`ensemble: member ${odd} outputs [${shapes[odd].join(', ')}] but member 0 outputs [${shapes[0].join(', ')}]; members must give the same output shape`);
    if (this.combine === 'probabilities' && shapes[0].length !== 1) throw new ShapeError(`ensemble: averaging probabilities needs class scores [classes], got [${shapes[0].join(', ')}]; use combine: 'logits'`);
    return shapes[0];
  }

  protected override childShapes(inputShape: readonly number[]): [string, Module, number[]][] {
    return this.members.map((m, i) => [String(i), m, [...inputShape]]);
  }

  protected override createState(inputShape: number[], rng: Rng): void {
    for (const m of this.members) m.build(inputShape, rng.fork());
  }

  forward(x: Tensor): Tensor {
    this.ensureBuilt(x);
    const outs = this.members.map((m) => (this.combine === 'probabilities' ? softmax(m.forward(x)) : m.forward(x)));
    const mean = mul(outs.reduce((a, b) => add(a, b)), 1 / outs.length);
    // log of the mean probabilities: a softmax of it gives them back (up to the 1e-12 floor).
    return this.combine === 'probabilities' ? log(add(mean, 1e-12)) : mean;
  }

  protected override layerConfig(): Record<string, unknown> {
    return { members: this.members.map((m) => modelToConfig(m)), combine: this.combine };
  }
}

/** The registry entry of `ensemble` (defaultRegistry() has it). */
export const ensembles: Plugin = definePlugin('@minibatch/train', [
  define('layer', 'ensemble', ensembleSchema, (c, r) => Ensemble.fromConfig(r, c), 'averages the class probabilities (or logits) of member models'),
]);
