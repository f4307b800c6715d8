// Errors a person can act on: typed, naming the op, what was expected and what came.
import { describe, expect, it } from 'vitest';
import {
  ArgumentError, ShapeError, add, concat, conv2d, createEngine, gather, matmul, maxPool2d, reshape, slice, softmaxCrossEntropy, sum,
  tensor, transpose, zeros, init,
} from '../src/index.js';
import { KERNEL_NAMES } from '../src/kernels.js';

describe('shape errors name the op and both shapes', () => {
  it('broadcasting', () => {
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(ShapeError);
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(/add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
  });
  it('matmul', () => {
    expect(() => matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(/matmul: shapes \[2, 3\] and \[4, 5\] do not fit: inner dimensions 3 and 4 differ/);
    expect(() => matmul(zeros([3]), zeros([3, 1]))).toThrow(/at least 2 dimensions/);
  });
  it('conv2d and pooling', () => {
    expect(() => conv2d(zeros([1, 4, 4, 3]), zeros([3, 3, 2, 1]))).toThrow(/has 3 channels but filter \[3, 3, 2, 1\] expects 2/);
    expect(() => conv2d(zeros([4, 4, 3]), zeros([3, 3, 3, 1]))).toThrow(/NHWC/);
    expect(() => conv2d(zeros([1, 2, 2, 1]), zeros([3, 3, 1, 1]))).toThrow(/does not fit a 2×2 image/);
    expect(() => maxPool2d(zeros([1, 4, 4, 1]), { size: 5 })).toThrow(ShapeError);
  });
  it('reshape, concat, softmax cross-entropy', () => {
    expect(() => reshape(zeros([2, 3]), [4, 2])).toThrow(/cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\]/);
    expect(() => concat([zeros([2, 3]), zeros([2, 4])], 0)).toThrow(/concat: along axis 0/);
    expect(() => softmaxCrossEntropy(zeros([2, 3]), [0])).toThrow(/2 rows of logits but 1 labels/);
  });
});

describe('invalid arguments are ArgumentErrors, never a trap or garbage', () => {
  it('axes', () => {
    expect(() => sum(zeros([2, 3]), 2)).toThrow(ArgumentError);
    expect(() => sum(zeros([2, 3]), 2)).toThrow(/axis 2 is out of range for a tensor of rank 2/);
    expect(() => transpose(zeros([2, 3]), [0, 0])).toThrow(/not a permutation/);
  });
  it('strides, dilations and padding', () => {
    expect(() => conv2d(zeros([1, 4, 4, 1]), zeros([2, 2, 1, 1]), { strides: -1 })).toThrow(/strides must be a positive integer/);
    expect(() => conv2d(zeros([1, 4, 4, 1]), zeros([2, 2, 1, 1]), { dilations: 0 })).toThrow(/dilations must be a positive integer/);
    expect(() => conv2d(zeros([1, 4, 4, 1]), zeros([2, 2, 1, 1]), { padding: 'full' as never })).toThrow(/padding must be 'valid', 'same'/);
    expect(() => maxPool2d(zeros([1, 4, 4, 1]), { size: 2, padding: -1 })).toThrow(/non-negative/);
  });
  it('indices and labels out of range', () => {
    expect(() => gather(zeros([3, 2]), [0, 3])).toThrow(/index 3 at position 1 is out of range \[0, 3\)/);
    expect(() => softmaxCrossEntropy(zeros([2, 3]), [0, 3])).toThrow(/out of range \[0, 3\)/);
    expect(() => softmaxCrossEntropy(zeros([2, 3]), [0, 1.5])).toThrow(ArgumentError);
    expect(() => slice(zeros([3]), [2], [2])).toThrow(/begin 2 with size 2 is out of range/);
  });
  it('tensor creation', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2, 2\]/);
    expect(() => zeros([2, -1])).toThrow(/non-negative integers/);
  });
  it('engine builds', async () => {
    await expect(init({ build: 'fast' as never })).rejects.toThrow(/unknown build 'fast'/);
  });
});

describe('both kernel builds', () => {
  it('export every kernel', async () => {
    const simd = await createEngine({ build: 'simd' });
    const scalar = await createEngine({ build: 'scalar' });
    for (const name of KERNEL_NAMES) {
      expect(typeof simd.kernels[name], name).toBe('function');
      expect(typeof scalar.kernels[name], name).toBe('function');
    }
    expect(simd.build).toBe('simd');
    expect(scalar.build).toBe('scalar');
  });
});

describe('windowOutputSize', () => {
  it('matches the shapes conv2d and pooling produce, and rejects windows that do not fit', async () => {
    const { windowOutputSize, conv2d: conv, maxPool2d: pool, zeros: z } = await import('../src/index.js');
    const cases = [
      { h: 28, w: 28, k: [5, 5] as [number, number], o: { strides: 2, padding: 'same' as const } },
      { h: 7, w: 9, k: [3, 2] as [number, number], o: { strides: [2, 1] as [number, number], padding: 'valid' as const, dilations: 2 } },
      { h: 6, w: 5, k: [2, 2] as [number, number], o: { padding: [[1, 0], [2, 1]] as [[number, number], [number, number]] } },
    ];
    for (const { h, w, k, o } of cases) {
      const [oh, ow] = windowOutputSize('conv2d', h, w, k, o);
      const y = conv(z([1, h, w, 1]), z([k[0], k[1], 1, 1]), o);
      expect(y.shape).toEqual([1, oh, ow, 1]);
    }
    expect(windowOutputSize('maxPool2d', 5, 5, [3, 3], { strides: 2, padding: 'same' })).toEqual(pool(z([1, 5, 5, 1]), { size: 3, strides: 2, padding: 'same' }).shape.slice(1, 3));
    expect(() => windowOutputSize('conv2d', 2, 2, [3, 3])).toThrow(/conv2d: a 3×3 window does not fit a 2×2 image/);
  });
});
