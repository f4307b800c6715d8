// Memory you cannot leak: scopes free intermediates, kept tensors survive, and a long
// training loop leaves the heap flat after warm-up.
import { describe, expect, it } from 'vitest';
import {
  DisposedError, MemoryError, Rng, engine, fmtBytes, keep, matmul, mean, noGrad, randn, record, relu, scope, softmaxCrossEntropy, sub, mul, add,
  tensor, zeros,
} from '../src/index.js';

describe('running out of WebAssembly memory', () => {
  it('is a MemoryError saying how much was asked, how much is free and what to change; the engine stays usable', () => {
    const e = engine();
    const kept = tensor([1, 2, 3, 4], [4]);
    const before = e.stats();
    // One tensor larger than the whole memory: no batch size helps.
    const whole = () => zeros([e.maxBytes / 2]);
    expect(whole).toThrow(MemoryError);
    expect(whole).toThrow(new RegExp(`^out of WebAssembly memory: ${fmtBytes(e.maxBytes * 2)} was asked for, and .+ of the engine's ${fmtBytes(e.maxBytes)} is free \\(.+ in live tensors\\)\\. No batch size makes one tensor this large fit`));
    // Less than the memory, more than is left: smaller batches help.
    let error: MemoryError | null = null;
    try {
      zeros([(e.maxBytes - 2 ** 20) / 4]);
    } catch (caught) {
      error = caught as MemoryError;
    }
    expect(error).toBeInstanceOf(MemoryError);
    expect(error!.message).toMatch(/Use smaller batches \(batchSize\), or free tensors you no longer need/);
    expect(error!.asked).toBe(e.maxBytes - 2 ** 20);
    expect(error!.free).toBeLessThan(e.maxBytes);
    expect(error!.message).toMatch(/was asked for \(a 4 GiB block\)|was asked for, and/);
    // Nothing changed: the same live bytes, the tensor alive before intact, the next allocation works.
    expect(e.stats().liveBytes).toBe(before.liveBytes);
    expect(Array.from(kept.data())).toEqual([1, 2, 3, 4]);
    const next = zeros([1000]);
    expect(next.data().every((v) => v === 0)).toBe(true);
    next.dispose();
    kept.dispose();
  });
});

describe('scopes', () => {
  it('free what they create, except what they return', () => {
    const before = engine().stats().liveBlocks;
    const kept = scope(() => {
      const a = tensor([1, 2, 3]);
      const b = a.mul(2).add(1);
      return { b, n: 3 };
    }).b;
    expect(engine().stats().liveBlocks).toBe(before + 1);
    expect(Array.from(kept.data())).toEqual([3, 5, 7]);
    kept.dispose();
    expect(engine().stats().liveBlocks).toBe(before);
  });

  it('move returned tensors to the enclosing scope', () => {
    const before = engine().stats().liveBlocks;
    scope(() => {
      const inner = scope(() => [tensor([1]), tensor([2])]);
      expect(inner.every((t) => !t.disposed)).toBe(true);
    });
    expect(engine().stats().liveBlocks).toBe(before);
  });

  it('keep() takes a tensor out of every scope', () => {
    let saved = null as unknown as ReturnType<typeof tensor>;
    scope(() => {
      saved = keep(tensor([4, 5]));
      tensor([6]);
    });
    expect(Array.from(saved.data())).toEqual([4, 5]);
    saved.dispose();
  });

  it('free everything when the callback throws', () => {
    const before = engine().stats().liveBlocks;
    expect(() => scope(() => {
      tensor([1, 2]);
      throw new Error('boom');
    })).toThrow('boom');
    expect(engine().stats().liveBlocks).toBe(before);
  });

  it('refuse async callbacks', () => {
    expect(() => scope(async () => 1)).toThrow(/synchronous/);
  });

  it('a freed tensor says so when used', () => {
    const t = scope(() => {
      const inner = tensor([1]);
      return inner.add(1).item(); // returns a number: `inner` is freed
    });
    expect(t).toBe(2);
    const gone = tensor([1, 2]);
    gone.dispose();
    expect(() => gone.data()).toThrow(DisposedError);
    expect(() => gone.data()).toThrow(/used after it was freed/);
  });

  it('reshape shares memory until the last view is freed', () => {
    const before = engine().stats().liveBlocks;
    const a = tensor([1, 2, 3, 4]);
    const b = a.reshape([2, 2]);
    a.dispose();
    expect(b.toArray()).toEqual([[1, 2], [3, 4]]);
    expect(engine().stats().liveBlocks).toBe(before + 1);
    b.dispose();
    expect(engine().stats().liveBlocks).toBe(before);
  });
});

describe('a long training loop', () => {
  it('keeps the heap flat over 5,000 forward/backward steps of an MLP', () => {
    const rng = new Rng(7);
    const w1 = keep(randn([8, 32], { rng, std: 0.3 }).setRequiresGrad());
    const b1 = keep(zeros([32]).setRequiresGrad());
    const w2 = keep(randn([32, 3], { rng, std: 0.3 }).setRequiresGrad());
    const b2 = keep(zeros([3]).setRequiresGrad());
    const params = [w1, b1, w2, b2];
    const x = keep(randn([16, 8], { rng }));
    const labels = Array.from({ length: 16 }, (_, i) => i % 3);
    const step = (): number =>
      scope(() => {
        const hidden = relu(add(matmul(x, w1), b1));
        const loss = softmaxCrossEntropy(add(matmul(hidden, w2), b2), labels);
        loss.backward();
        noGrad(() => {
          for (const p of params) {
            p.assign(sub(p, mul(p.grad!, 0.05)));
            p.zeroGrad();
          }
        });
        return loss.item();
      });
    const first = step();
    for (let i = 0; i < 99; i++) step();
    const warm = engine().stats();
    let last = first;
    for (let i = 0; i < 4900; i++) last = step();
    const after = engine().stats();
    expect(after.heapBytes).toBe(warm.heapBytes);
    expect(after.liveBytes).toBe(warm.liveBytes);
    expect(after.memoryBytes).toBe(warm.memoryBytes);
    expect(last).toBeLessThan(first * 0.2); // and it learned something
    for (const t of [...params, x]) t.dispose();
  });
});

describe('autograd', () => {
  it('accumulates gradients until zeroed', () => {
    const w = tensor([1, 2]).setRequiresGrad();
    for (let i = 0; i < 2; i++) scope(() => mean(mul(w, 3)).backward());
    expect(Array.from(w.grad!.data())).toEqual([3, 3]);
    w.zeroGrad();
    expect(w.grad).toBeNull();
    w.dispose();
  });

  it('noGrad records nothing', () => {
    const w = tensor([1, 2]).setRequiresGrad();
    const y = noGrad(() => w.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(() => y.sum().backward()).toThrow(/does not depend/);
    w.dispose();
    y.dispose();
  });

  it('a non-scalar needs a seed gradient, with a clear error', () => {
    const w = tensor([1, 2]).setRequiresGrad();
    const y = w.mul(2);
    expect(() => y.backward()).toThrow(/only a one-element tensor .* pass one/);
    y.backward(tensor([1, 10]));
    expect(Array.from(w.grad!.data())).toEqual([2, 20]);
    w.dispose();
  });

  it('frees each gradient once the op that reads it has run', () => {
    // 20 ops on a 1 MiB tensor: the input's gradient is computed while at most a few of the
    // 20 intermediate gradients are alive (all 20 were, before they were freed early).
    const x = randn([512, 512], { rng: new Rng(1) }).setRequiresGrad();
    let liveAtInput = 0;
    scope(() => {
      const probe = record('probe', x.share(x.shape), [x], (g) => {
        liveAtInput = engine().stats().liveBytes;
        return [g];
      });
      let h = probe;
      for (let i = 0; i < 20; i++) h = h.mul(1.01).add(h); // a value read twice: passed-through and summed gradients
      const beforeBackward = engine().stats().liveBytes;
      h.sum().backward();
      expect(liveAtInput - beforeBackward).toBeLessThan(6 * x.size * 4);
    });
    const expected = Math.pow(2.01, 20);
    expect(x.grad!.data()[0] / expected).toBeCloseTo(1, 5);
    x.dispose();
  });

  it('a seed gradient given by the caller survives backward', () => {
    const w = tensor([1, 2]).setRequiresGrad();
    const seed = tensor([1, 1]);
    scope(() => w.mul(2).add(w).backward(seed));
    expect(Array.from(seed.data())).toEqual([1, 1]);
    expect(Array.from(w.grad!.data())).toEqual([3, 3]);
    w.dispose();
    seed.dispose();
  });

  it('a leaf takes the gradient backward made as its .grad, never one that is shared', () => {
    // add() passes its gradient through to both inputs: one tensor for two leaves.
    const p = tensor([1, 2]).setRequiresGrad();
    const q = tensor([3, 4]).setRequiresGrad();
    scope(() => p.add(q).mul(tensor([2, 5])).sum().backward());
    expect(p.grad).not.toBe(q.grad);
    scope(() => p.mul(10).sum().backward()); // accumulates into p.grad in place
    expect(Array.from(p.grad!.data())).toEqual([12, 15]);
    expect(Array.from(q.grad!.data())).toEqual([2, 5]);
    // A gradient that is a view of another (reshape's backward) is copied; the leaf's grad outlives the scope.
    const w = tensor([1, 2, 3, 4], [2, 2]).setRequiresGrad();
    const v = tensor([1, 2, 3, 4]).setRequiresGrad();
    scope(() => w.reshape([4]).add(v).mul(tensor([1, 2, 3, 4])).sum().backward());
    scope(() => w.sum().backward());
    expect(Array.from(w.grad!.data())).toEqual([2, 3, 4, 5]);
    expect(Array.from(v.grad!.data())).toEqual([1, 2, 3, 4]);
    // A matmul's weight gradient is adopted: it lives on after backward, alone.
    const x = tensor([[1, 2]]);
    const m = tensor([[1], [1]]).setRequiresGrad();
    scope(() => matmul(x, m).sum().backward());
    expect(Array.from(m.grad!.data())).toEqual([1, 2]);
    expect(m.grad!.scope).toBeNull();
    for (const t of [p, q, w, v, x, m]) t.dispose();
    expect(m.grad).toBeNull();
  });

  it('a tensor used twice gets both gradient contributions', () => {
    const x = tensor([3]).setRequiresGrad();
    scope(() => x.mul(x).add(x).sum().backward()); // d(x² + x)/dx = 2x + 1
    expect(x.grad!.item()).toBe(7);
    x.dispose();
  });
});
