import { engine, mul, reshape, scope, sum } from '@minibatch/core';
import { describe, expect, it } from 'vitest';
import { Batch, DataLoader, createDataset, type Dataset } from '../src/index.js';

/** n samples of shape [2, 3]; sample i holds the values i·100 + 0…5, label i mod 3. */
function numbered(n: number): Dataset {
  const x = new Float32Array(n * 6);
  for (let i = 0; i < n; i++) for (let j = 0; j < 6; j++) x[i * 6 + j] = i * 100 + j;
  return createDataset(x, Int32Array.from({ length: n }, (_, i) => i % 3), [2, 3]);
}

function epochIndices(loader: DataLoader, epoch?: number): number[] {
  const out: number[] = [];
  for (const b of epoch === undefined ? loader : loader.batches(epoch)) out.push(...b.indices);
  return out;
}

describe('DataLoader', () => {
  it('stream() runs on through the epochs, each batch knowing its epoch; an epoch with no batches is refused', () => {
    const loader = new DataLoader(numbered(20), { batchSize: 8, seed: 2 });
    const stream = loader.stream(1);
    const seen: [number, number[]][] = [];
    for (let i = 0; i < 7; i++) {
      const b = stream.next().value;
      seen.push([b.epoch, Array.from(b.indices)]);
    }
    stream.return(undefined as never);
    const epochs = [1, 2, 3].flatMap((e) => { const out: [number, number[]][] = []; for (const b of loader.batches(e)) out.push([b.epoch, Array.from(b.indices)]); return out; });
    expect(seen).toEqual(epochs.slice(0, 7));
    expect(() => new DataLoader(numbered(5), { batchSize: 8, dropLast: true }).stream().next()).toThrow(/stream\(\) of an epoch with no batches would never yield/);
  });

  it('batches(epoch, from) starts mid-epoch with the very batches an unbroken epoch has there', () => {
    const loader = new DataLoader(numbered(50), { batchSize: 8, seed: 5, transform: (x, ctx) => mul(x, ctx.rng.uniform()) });
    const seen = (batches: Iterable<Batch>) => {
      const out: unknown[] = [];
      for (const b of batches) out.push([Array.from(b.indices), b.x.data()[0]]); // read while the batch is alive
      return out;
    };
    const all = seen(loader.batches(2));
    const rest = seen(loader.batches(2, 4));
    expect(rest).toEqual(all.slice(4));
    expect([...loader.batches(2, 7)]).toHaveLength(0);
    expect(() => [...loader.batches(2, 8)]).toThrow(/from must be an integer in 0…7, got 8/);
  });

  it('visits each sample exactly once per epoch, with the right values and labels', () => {
    const ds = numbered(103);
    const loader = new DataLoader(ds, { batchSize: 10, seed: 3 });
    expect(loader.length).toBe(11);
    for (let epoch = 0; epoch < 3; epoch++) {
      const seen: number[] = [];
      for (const batch of loader) {
        expect(batch.shape).toEqual([batch.size, 2, 3]);
        const x = batch.x;
        expect(x.shape).toEqual([batch.size, 2, 3]);
        const values = x.data();
        batch.indices.forEach((j, r) => {
          for (let k = 0; k < 6; k++) expect(values[r * 6 + k]).toBe(j * 100 + k);
          expect(batch.y[r]).toBe(j % 3);
        });
        expect(batch.data).toEqual(values); // the host copy of x: the same rows
        seen.push(...batch.indices);
      }
      expect(seen).toHaveLength(103);
      expect(new Set(seen).size).toBe(103);
      expect(Math.min(...seen)).toBe(0);
      expect(Math.max(...seen)).toBe(102);
    }
    expect(loader.epoch).toBe(3);
  });

  it('reshuffles every epoch; the same seed gives the same orders, another seed others', () => {
    const ds = numbered(50);
    const a = new DataLoader(ds, { batchSize: 8, seed: 7 });
    const b = new DataLoader(ds, { batchSize: 8, seed: 7 });
    const c = new DataLoader(ds, { batchSize: 8, seed: 8 });
    const a0 = epochIndices(a);
    const a1 = epochIndices(a);
    const a2 = epochIndices(a);
    expect(a0).not.toEqual(a1);
    expect(a1).not.toEqual(a2);
    expect(epochIndices(b)).toEqual(a0);
    expect(epochIndices(b)).toEqual(a1);
    expect(epochIndices(c)).not.toEqual(a0);
    // Any epoch can be replayed on its own (resume), and the order is not the identity.
    expect(epochIndices(new DataLoader(ds, { batchSize: 8, seed: 7, epoch: 2 }))).toEqual(a2);
    expect(Array.from(a.order(1))).toEqual(a1);
    expect(a0).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('keeps the data set order without shuffle (evaluation)', () => {
    const loader = new DataLoader(numbered(7), { batchSize: 3, shuffle: false });
    expect([...loader].map((b) => Array.from(b.indices))).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it("shuffle 'epoch' | 'once' | false: a new order per epoch, one order for every epoch, or the data set's", () => {
    const ds = numbered(40);
    const identity = Array.from({ length: 40 }, (_, i) => i);
    const epochs = (shuffle: 'epoch' | 'once' | boolean, seed = 4): number[][] => {
      const loader = new DataLoader(ds, { batchSize: 8, seed, shuffle });
      return [0, 1, 2].map(() => epochIndices(loader));
    };
    const perEpoch = epochs('epoch');
    expect(perEpoch[0]).not.toEqual(perEpoch[1]);
    expect(perEpoch[1]).not.toEqual(perEpoch[2]);
    expect(epochs('epoch')).toEqual(perEpoch);                 // reproducible from the seed
    expect(epochs('epoch', 5)[0]).not.toEqual(perEpoch[0]);
    expect(epochs(true)).toEqual(perEpoch);                    // true is 'epoch' (callers from when it was a boolean)
    expect(new DataLoader(ds, { batchSize: 8, shuffle: true }).shuffle).toBe('epoch');
    expect(new DataLoader(ds, { batchSize: 8 }).shuffle).toBe('epoch');
    // 'once': epoch 0's permutation, every epoch, also when a resumed loader starts later.
    const once = epochs('once');
    expect(once[1]).toEqual(once[0]);
    expect(once[2]).toEqual(once[0]);
    expect(once[0]).toEqual(perEpoch[0]);
    expect(once[0]).not.toEqual(identity);
    expect([...once[0]].sort((p, q) => p - q)).toEqual(identity);
    expect(epochIndices(new DataLoader(ds, { batchSize: 8, seed: 4, shuffle: 'once', epoch: 7 }))).toEqual(once[0]);
    expect(epochs('once', 5)[0]).not.toEqual(once[0]);
    for (const order of epochs(false)) expect(order).toEqual(identity);
  });

  it('refuses a shuffle that is not one of the modes, naming it and the allowed ones', () => {
    const ds = numbered(4);
    const bad = (shuffle: unknown) => () => new DataLoader(ds, { batchSize: 2, shuffle: shuffle as false });
    expect(bad('twice')).toThrow(/DataLoader: shuffle must be 'epoch', 'once' or false \(true means 'epoch'\), got "twice"/);
    expect(bad(1)).toThrow(/got 1$/);
    expect(bad(null)).toThrow(/got null$/);
    expect(bad('Epoch')).toThrow(/got "Epoch"/);
  });

  it('dropLast leaves out the short last batch', () => {
    const ds = numbered(23);
    const sizes = (dropLast: boolean): number[] => [...new DataLoader(ds, { batchSize: 5, dropLast })].map((b) => b.size);
    expect(sizes(false)).toEqual([5, 5, 5, 5, 3]);
    expect(sizes(true)).toEqual([5, 5, 5, 5]);
    expect(new DataLoader(ds, { batchSize: 5, dropLast: true }).length).toBe(4);
    expect(new DataLoader(numbered(20), { batchSize: 5, dropLast: true }).length).toBe(4);
    expect([...new DataLoader(ds, { batchSize: 30, dropLast: true })]).toHaveLength(0);
    expect([...new DataLoader(ds, { batchSize: 30 })].map((b) => b.size)).toEqual([23]);
  });

  it('frees batch tensors with the step scope, or when it moves on: memory stays flat', () => {
    const ds = numbered(64);
    const loader = new DataLoader(ds, { batchSize: 16 });
    const live = (): number => engine().stats().liveBytes;
    // Warm the allocator's size classes.
    for (const b of loader) scope(() => sum(b.x).item());
    const before = live();
    for (let e = 0; e < 5; e++) {
      for (const b of loader) scope(() => sum(mul(b.x, 2)).item());   // freed with the scope
      for (const b of loader) b.x.size;                                 // freed by the loader
    }
    for (const b of loader) {
      b.x.size;
      break;                                                            // freed on break too
    }
    expect(live()).toBe(before);
  });

  it('a batch tensor read after its scope ended is re-created with the same values', () => {
    const [batch] = [...new DataLoader(numbered(4), { batchSize: 4, seed: 1 })].slice(0, 1);
    expect(batch).toBeInstanceOf(Batch);
    const first = scope(() => batch.x.data());
    const again = batch.x;
    expect(again.disposed).toBe(false);
    expect(Array.from(again.data())).toEqual(Array.from(first));
    batch.dispose();
    expect(again.disposed).toBe(true);
  });

  it('runs the transform hook per batch with a per-batch seeded rng, and can add targets', () => {
    const ds = numbered(12);
    const calls: { epoch: number; index: number; draw: number }[] = [];
    const make = (): DataLoader =>
      new DataLoader(ds, {
        batchSize: 4,
        seed: 5,
        transform: (x, ctx) => {
          calls.push({ epoch: ctx.epoch, index: ctx.index, draw: ctx.rng.uniform() });
          expect(ctx.y).toHaveLength(x.shape[0]);
          const noise = ctx.rng.normal();
          return { x: mul(x, 0).add(noise), targets: reshape(x, [x.shape[0], 6]) };
        },
      });
    const a = make();
    const first = [...a].map((b) => scope(() => [b.x.data()[0], b.targets!.shape[1]] as const));
    expect(first.every(([, cols]) => cols === 6)).toBe(true);
    // Each batch of the epoch got the transform once, with its own stream.
    expect(calls.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(calls.map((c) => c.draw)).size).toBe(3);
    // Same seed, same augmentation; reading the batches in another order changes nothing.
    const b = make();
    const batches = [...b.batches(0)].map((batch) => batch);
    const reversed = batches.reverse().map((batch) => scope(() => batch.x.data()[0]));
    expect(reversed.reverse()).toEqual(first.map(([v]) => v));
  });

  it('rejects bad options with the value', () => {
    const ds = numbered(4);
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => new DataLoader(ds, { batchSize: 2.5 })).toThrow(/got 2.5/);
    expect(() => new DataLoader(ds, { batchSize: 2, epoch: -1 })).toThrow(/epoch/);
    expect(() => new DataLoader(ds, { batchSize: 2, seed: Number.NaN })).toThrow(/seed/);
  });

  it('order() is a permutation of the samples', () => {
    const loader = new DataLoader(numbered(20), { batchSize: 20, seed: 11 });
    const order = loader.order(0);
    const sorted = Array.from(order).sort((p, q) => p - q);
    expect(sorted).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(order).toBeInstanceOf(Int32Array);
  });
});
