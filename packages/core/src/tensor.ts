// Tensor, memory scopes and the autograd tape, kept together because they share one
// lifetime story: a tensor lives in WebAssembly memory until it is disposed, either by
// hand or when the scope that created it ends; the tape references tensors of the current
// step, so backward() must run before their scope ends.
import { engine, type Engine } from './engine.js';
import { DisposedError, ShapeError, fmtShape } from './errors.js';
// The ops import this module too; the cycle is safe because neither side uses the other
// while modules load, only when called.
import * as ew from './ops/elementwise.js';
import { matmul as matmulOp, type MatmulOptions } from './ops/matmul.js';
import * as red from './ops/reduce.js';
import type { ReduceOptions } from './ops/reduce.js';
import * as shp from './ops/shape.js';

/** A block of engine memory shared by a tensor and its reshaped views. */
interface Storage {
  readonly engine: Engine;
  readonly ptr: number;
  readonly bytes: number;
  refs: number;
}

/** The backward rule of one op: gradient of the output in, gradients of the inputs out. */
export type BackwardFn = (grad: Tensor) => readonly (Tensor | null)[];

interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly backward: BackwardFn;
}

export type NestedArray = number | NestedArray[];

// ------------------------------------------------------------------ scopes

type Scope = Set<Tensor>;
const scopes: Scope[] = [];

/**
 * Runs `fn` and frees every tensor created inside it, except the tensors it returns (alone,
 * or in an array or plain object) and those passed to keep(). Returned tensors move to the
 * enclosing scope. `fn` must be synchronous.
 *
 * @example
 * const loss = scope(() => {
 *   const l = model.loss(x, y);   // all intermediates of the step…
 *   l.backward();
 *   return l.item();              // …are freed here
 * });
 */
export function scope<T>(fn: () => T): T {
  const own: Scope = new Set();
  scopes.push(own);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    scopes.pop();
    for (const t of own) t.dispose();
    throw error;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of own) t.dispose();
    throw new TypeError('scope(): the callback returned a Promise; scopes must be synchronous (await outside, scope inside)');
  }
  const parent = scopes.length > 0 ? scopes[scopes.length - 1] : null;
  const survivors = new Set<Tensor>();
  collectTensors(result, survivors);
  for (const t of own) {
    if (survivors.has(t)) {
      t.scope = parent;
      parent?.add(t);
    } else {
      t.dispose();
    }
  }
  return result;
}

function collectTensors(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (value instanceof Tensor) into.add(value);
  else if (depth < 4 && Array.isArray(value)) for (const v of value) collectTensors(v, into, depth + 1);
  else if (depth < 4 && value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, into, depth + 1);
  }
}

/** Takes tensors out of scope tracking: they live until dispose() (parameters, state). */
export function keep<T extends Tensor | readonly Tensor[]>(tensors: T): T {
  for (const t of (Array.isArray(tensors) ? tensors : [tensors]) as Tensor[]) {
    t.scope?.delete(t);
    t.scope = null;
  }
  return tensors;
}

// ------------------------------------------------------------------ grad mode

let gradEnabled = true;

/** Runs `fn` without recording operations for autograd (evaluation, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

// ------------------------------------------------------------------ tensor

let nextId = 0;

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  /** Gradient accumulated by backward() for tensors that require it; long-lived. */
  grad: Tensor | null = null;
  /** @internal the op that produced this tensor, while gradients are recorded. */
  node: GradNode | null = null;
  /** @internal the scope that frees this tensor, or null when it is kept. */
  scope: Scope | null = null;
  private storage: Storage | null;
  /** @internal true for parameters and for results of recorded ops. */
  requires: boolean;

  /** @internal use the creation functions (tensor, zeros, …) or empty(). */
  constructor(shape: readonly number[], storage: Storage, requiresGrad = false) {
    this.shape = Object.freeze(shape.slice());
    this.size = sizeOf(shape);
    this.storage = storage;
    this.requires = requiresGrad;
    if (scopes.length > 0) {
      this.scope = scopes[scopes.length - 1];
      this.scope.add(this);
    }
  }

  get rank(): number {
    return this.shape.length;
  }

  get engine(): Engine {
    return this.live().engine;
  }

  /** Byte offset of the data in engine memory (for kernels). */
  get ptr(): number {
    return this.live().ptr;
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  /** Whether backward() computes a gradient for this tensor. */
  get requiresGrad(): boolean {
    return this.requires;
  }

  /** Marks a leaf tensor (a parameter) as needing gradients; returns it. */
  setRequiresGrad(flag = true): this {
    if (this.node !== null) throw new Error('setRequiresGrad: only leaf tensors (not results of ops) can be marked; use detach() first');
    this.requires = flag;
    return this;
  }

  /** A copy of the values. */
  data(): Float32Array {
    const s = this.live();
    return s.engine.f32(s.ptr, this.size).slice();
  }

  /** A live view of the values: valid until the next allocation may grow memory. */
  view(): Float32Array {
    const s = this.live();
    return s.engine.f32(s.ptr, this.size);
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item(): expected a tensor with one element, got shape ${fmtShape(this.shape)}`);
    return this.view()[0];
  }

  /** The values as nested arrays of the tensor's shape. */
  toArray(): NestedArray {
    const flat = this.data();
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return flat[offset];
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** Frees the memory now (and the gradient). Using the tensor afterwards throws. */
  dispose(): void {
    const s = this.storage;
    if (s === null) return;
    this.storage = null;
    this.node = null;
    this.scope?.delete(this);
    this.scope = null;
    if (--s.refs === 0) s.engine.free(s.ptr, s.bytes);
    if (this.grad !== null) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  /**
   * Overwrites the values in place with those of `source` (same shape): how parameters
   * are updated. Not recorded by autograd.
   */
  assign(source: Tensor): this {
    if (!sameShape(source.shape, this.shape)) {
      throw new ShapeError(`assign: source shape ${fmtShape(source.shape)} does not match ${fmtShape(this.shape)}`);
    }
    if (source.engine === this.engine) this.engine.copy(this.ptr, source.ptr, this.size);
    else this.engine.f32(this.ptr, this.size).set(source.engine.f32(source.ptr, source.size));
    return this;
  }

  /** Frees the accumulated gradient. */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  /** @internal true when no other tensor shares this one's memory (no view of it, it no view). */
  ownsMemory(): boolean {
    return this.live().refs === 1;
  }

  /** @internal a tensor of another shape over the same memory (reshape). */
  share(shape: readonly number[]): Tensor {
    const s = this.live();
    s.refs++;
    return new Tensor(shape, s);
  }

  /** The same values, cut from the tape (no gradient flows through). */
  detach(): Tensor {
    return this.share(this.shape);
  }

  /**
   * Backpropagates from this tensor. Without a seed gradient it must have one element
   * (a loss); gradients accumulate into `.grad` of every tensor that requires them.
   */
  backward(seed?: Tensor): void {
    runBackward(this, seed);
  }

  // Method forms of the common ops, for chaining: x.matmul(w).add(b).relu().
  add(other: Tensor | number): Tensor { return ew.add(this, other); }
  sub(other: Tensor | number): Tensor { return ew.sub(this, other); }
  mul(other: Tensor | number): Tensor { return ew.mul(this, other); }
  div(other: Tensor | number): Tensor { return ew.div(this, other); }
  pow(p: Tensor | number): Tensor { return ew.pow(this, p); }
  neg(): Tensor { return ew.neg(this); }
  exp(): Tensor { return ew.exp(this); }
  log(): Tensor { return ew.log(this); }
  sqrt(): Tensor { return ew.sqrt(this); }
  abs(): Tensor { return ew.abs(this); }
  square(): Tensor { return ew.square(this); }
  relu(): Tensor { return ew.relu(this); }
  sigmoid(): Tensor { return ew.sigmoid(this); }
  tanh(): Tensor { return ew.tanh(this); }
  matmul(other: Tensor, options?: MatmulOptions): Tensor { return matmulOp(this, other, options); }
  sum(axes?: number | readonly number[], options?: ReduceOptions): Tensor { return red.sum(this, axes, options); }
  mean(axes?: number | readonly number[], options?: ReduceOptions): Tensor { return red.mean(this, axes, options); }
  max(axes?: number | readonly number[], options?: ReduceOptions): Tensor { return red.max(this, axes, options); }
  min(axes?: number | readonly number[], options?: ReduceOptions): Tensor { return red.min(this, axes, options); }
  reshape(shape: readonly number[]): Tensor { return shp.reshape(this, shape); }
  transpose(perm?: readonly number[]): Tensor { return shp.transpose(this, perm); }

  private live(): Storage {
    if (this.storage === null) {
      throw new DisposedError(
        `tensor #${this.id} ${fmtShape(this.shape)} was used after it was freed (disposed, or its scope ended); ` +
          'return it from the scope or keep() it to use it later',
      );
    }
    return this.storage;
  }
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** An uninitialized tensor in the current engine (kernels fill it). */
export function empty(shape: readonly number[]): Tensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid shape ${fmtShape(shape)}: dimensions must be non-negative integers`);
  }
  const e = engine();
  const bytes = Math.max(4, sizeOf(shape) * 4);
  return new Tensor(shape, { engine: e, ptr: e.alloc(bytes), bytes, refs: 1 });
}

// ------------------------------------------------------------------ autograd

/**
 * Records `out = op(inputs)` on the tape when gradients are on and some input needs one.
 * Ops call it right after computing their output; `backward` maps the output gradient to
 * one gradient per input (null where an input needs none).
 */
export function record(op: string, out: Tensor, inputs: readonly Tensor[], backward: BackwardFn): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.node = { op, inputs, backward };
    out.requires = true;
  }
  return out;
}

function runBackward(root: Tensor, seed: Tensor | undefined): void {
  if (!root.requiresGrad) {
    throw new Error('backward(): this tensor does not depend on any tensor that requires gradients (setRequiresGrad on the parameters)');
  }
  if (seed === undefined && root.size !== 1) {
    throw new ShapeError(
      `backward(): the tensor has shape ${fmtShape(root.shape)}; only a one-element tensor (a loss) can start backward without a seed gradient — pass one: t.backward(seed)`,
    );
  }
  if (seed !== undefined && !sameShape(seed.shape, root.shape)) {
    throw new ShapeError(`backward(): seed gradient shape ${fmtShape(seed.shape)} does not match the tensor's ${fmtShape(root.shape)}`);
  }
  // Reverse topological order by an iterative depth-first search.
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    if (t.node !== null) for (const input of t.node.inputs) if (input.requiresGrad && !seen.has(input)) stack.push([input, false]);
  }
  // Each gradient is freed as soon as the op that reads it has run (and each op's temporaries
  // when it returns), so the peak is the forward's activations plus a few gradients, not every
  // gradient of the graph at once. Only tensors made during this backward are freed: a backward
  // rule may pass its gradient through (add) or return a view of it (reshape).
  scope(() => {
    noGrad(() => {
      const made = scopes[scopes.length - 1];
      const grads = new Map<Tensor, Tensor>();
      const holders = new Map<Tensor, number>(); // how many entries of `grads` hold a tensor
      const hold = (g: Tensor): void => void holders.set(g, (holders.get(g) ?? 0) + 1);
      const release = (g: Tensor): void => {
        const n = holders.get(g)! - 1;
        if (n > 0) holders.set(g, n);
        else {
          holders.delete(g);
          if (g.scope === made) g.dispose();
        }
      };
      const start = seed ?? fillLike(root, 1);
      grads.set(root, start);
      hold(start);
      for (let i = order.length - 1; i >= 0; i--) {
        const t = order[i];
        const g = grads.get(t);
        if (g === undefined) continue;
        grads.delete(t);
        if (t.node === null) {
          // A gradient this backward made, sharing memory with no other tensor, becomes the
          // leaf's .grad as it is (no copy of every parameter's gradient each step). Other
          // entries may still hold it: they only read it, and kept it is not freed.
          if (t.grad === null && g.scope === made && g.ownsMemory()) t.grad = keep(g);
          else accumulateLeaf(t, g);
          release(g);
          continue;
        }
        const node = t.node;
        const inputGrads = scope(() => node.backward(g));
        const given: Tensor[] = [];
        node.inputs.forEach((input, k) => {
          const gi = inputGrads[k];
          if (gi === null || gi === undefined || !input.requiresGrad) return;
          if (!sameShape(gi.shape, input.shape)) {
            throw new ShapeError(`internal: ${node.op} backward gave ${fmtShape(gi.shape)} for input ${fmtShape(input.shape)}`);
          }
          hold(gi);
          given.push(gi);
          const previous = grads.get(input);
          // A copy, not in place: `previous` may be shared (passed through to several inputs).
          const sum = previous === undefined ? gi : addInto(copyOf(previous), gi);
          grads.set(input, sum);
          hold(sum);
          if (previous !== undefined) release(previous);
        });
        for (const gi of given) release(gi);
        // Gradients returned for inputs that need none were never held.
        for (const gi of inputGrads) if (gi && !holders.has(gi) && gi !== g && gi.scope === made) gi.dispose();
        release(g);
      }
    });
  });
}

function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  if (leaf.grad === null) {
    leaf.grad = keep(copyOf(g));
  } else {
    addInto(leaf.grad, g);
  }
}

/** dst += src, in place (same shape). */
function addInto(dst: Tensor, src: Tensor): Tensor {
  dst.engine.kernels.axpby(dst.size, 1, src.ptr, 1, dst.ptr, dst.ptr);
  return dst;
}

function copyOf(t: Tensor): Tensor {
  const out = empty(t.shape);
  out.engine.copy(out.ptr, t.ptr, t.size);
  return out;
}

function fillLike(t: Tensor, value: number): Tensor {
  const out = empty(t.shape);
  out.engine.kernels.fill(out.ptr, out.size, value);
  return out;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
