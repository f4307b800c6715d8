// Random masks from the seeded generator, and the masked multiply every dropout-family layer
// is written with. Composed from core ops (empty, mul, record): no kernel of its own.
//
// Why no WebAssembly kernel for the draws: measured on the shared 2-core machine (Node 20,
// SIMD build), drawing a Bernoulli mask for a [64, 28, 28, 32] feature map (1.6 M values)
// takes ~19 ms in this loop, against ~80 ms for the forward pass alone of one 3×3 convolution
// (32 → 32 channels) over the same map — under 10 % of that layer's forward + backward. Dense
// activations are 25–100× smaller, and spatial dropout draws one value per channel. A kernel
// would also need a second copy of xoshiro128** in AssemblyScript that must stay identical to
// core's Rng; not worth it at these figures.
import { Rng, type RngState, type Tensor, empty, mul, noGrad, record } from '@minibatch/core';
import type { Module } from '@minibatch/layers';

const TWO_32 = 4294967296;

/**
 * A tensor of `shape` whose entries are `value` with probability `keep`, else 0, drawn in
 * row-major order from `rng`: entry i is kept when the i-th draw `rng.nextU32()` is below
 * ⌊keep·2³²⌋ (i.e. u = nextU32/2³² < keep).
 */
export function bernoulliMask(shape: readonly number[], keep: number, value: number, rng: Rng): Tensor {
  const mask = empty(shape);
  const threshold = Math.floor(keep * TWO_32);
  const view = mask.view(); // no allocation happens while the view is in use
  for (let i = 0; i < view.length; i++) view[i] = rng.nextU32() < threshold ? value : 0;
  return mask;
}

/**
 * x ⊙ mask (mask broadcast to x's shape) as one op on the tape: forward and backward side by
 * side, and the backward never computes the gradient of the constant mask.
 */
export function maskMultiply(op: string, x: Tensor, mask: Tensor): Tensor {
  const out = noGrad(() => mul(x, mask));
  return record(op, out, [x], (g) => [mul(g, mask)]);
}

/**
 * A layer that draws random numbers (masks, regions, gates). Its generator comes from the
 * seed rule of every layer: its own `seed` config, else the `rng` given to build(), else
 * `new Rng(0)`; its state can be saved and restored so a resumed run draws the same masks.
 */
export interface Stochastic {
  /** The generator's state (throws before the layer is built). */
  rngState(): RngState;
  /** Continues from a saved state. */
  setRngState(state: RngState): void;
}

export function isStochastic(m: unknown): m is Stochastic & Module {
  return typeof (m as Partial<Stochastic>)?.rngState === 'function' && typeof (m as Partial<Stochastic>)?.setRngState === 'function';
}

/** Holds a stochastic layer's generator; the layer sets it when it is built. */
export class MaskSource {
  #rng: Rng | null = null;

  constructor(private readonly owner: string) {}

  set(rng: Rng): void {
    this.#rng = rng;
  }

  get rng(): Rng {
    if (this.#rng === null) throw new Error(`${this.owner}: the layer is not built yet, so it has no random generator (call build() or forward() first)`);
    return this.#rng;
  }

  state(): RngState {
    return this.rng.state();
  }

  restore(state: RngState): void {
    if (this.#rng === null) throw new Error(`${this.owner}: build the layer before restoring its generator state`);
    this.#rng = Rng.restore(state);
  }
}

/** Visits a module and its descendants with their dotted paths ('' for the root). */
function walk(module: Module, path: string, visit: (path: string, m: Module) => void): void {
  visit(path, module);
  for (const [name, child] of module.children()) walk(child, path === '' ? name : `${path}.${name}`, visit);
}

/**
 * The generator states of every stochastic layer of a (built) model, by dotted path: save it
 * with a checkpoint, and loadMaskStates() makes a resumed run draw the very same masks.
 */
export function maskStates(model: Module): Record<string, RngState> {
  const states: Record<string, RngState> = {};
  walk(model, '', (path, m) => {
    if (isStochastic(m)) states[path] = m.rngState();
  });
  return states;
}

/** Restores what maskStates() saved; every stochastic layer must have an entry, and no other path. */
export function loadMaskStates(model: Module, states: Record<string, RngState>): void {
  const layers = new Map<string, Stochastic>();
  walk(model, '', (path, m) => {
    if (isStochastic(m)) layers.set(path, m);
  });
  const missing = [...layers.keys()].filter((p) => !(p in states));
  const unexpected = Object.keys(states).filter((p) => !layers.has(p));
  if (missing.length > 0 || unexpected.length > 0) {
    throw new Error(
      `loadMaskStates: the states do not fit this model; nothing was loaded` +
        (missing.length > 0 ? `; missing: ${missing.map((p) => `'${p}'`).join(', ')}` : '') +
        (unexpected.length > 0 ? `; unexpected: ${unexpected.map((p) => `'${p}'`).join(', ')}` : ''),
    );
  }
  for (const [path, layer] of layers) layer.setRngState(states[path]);
}
