// Reductions over one axis: x is viewed as [outer, r, inner] and out as [outer, inner].
// The caller merges adjacent reduced axes, so any set of contiguous axes is one call.
import { addRow } from './shape';

@inline function combine(op: i32, a: f32, b: f32): f32 {
  if (op == 0) return a + b;
  if (op == 1) return a != a || b != b ? NaN : (a > b ? a : b);
  return a != a || b != b ? NaN : (a < b ? a : b);
}

@inline function combineVec(op: i32, a: v128, b: v128): v128 {
  if (op == 0) return f32x4.add(a, b);
  if (op == 1) return f32x4.max(a, b);
  return f32x4.min(a, b);
}

/**
 * Columns of narrow rows (inner = 4·V floats, V ≤ 8: a bias's or a BatchNorm's channels)
 * reduced with the running values in registers. Row-by-row through memory, every row's add
 * waits for the store and reload of the one before; the order of operations is the same.
 * With `mean` ≠ 0 it sums squared deviations from it instead, from zero (moments' variance).
 */
@inline function narrowColumns(op: i32, V: i32, x: usize, out: usize, outer: i32, r: i32, mean: usize): void {
  const bytes = <usize>(V * 16);
  for (let o = 0; o < outer; o++) {
    let p = x + <usize>(o * r) * bytes;
    const end = p + <usize>r * bytes;
    const zero = f32x4.splat(0);
    let m0 = zero, m1 = zero, m2 = zero, m3 = zero, m4 = zero, m5 = zero, m6 = zero, m7 = zero;
    let a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
    if (mean != 0) {
      m0 = v128.load(mean);
      if (V > 1) m1 = v128.load(mean, 16);
      if (V > 2) m2 = v128.load(mean, 32);
      if (V > 3) m3 = v128.load(mean, 48);
      if (V > 4) m4 = v128.load(mean, 64);
      if (V > 5) m5 = v128.load(mean, 80);
      if (V > 6) m6 = v128.load(mean, 96);
      if (V > 7) m7 = v128.load(mean, 112);
    } else {
      a0 = v128.load(p);
      if (V > 1) a1 = v128.load(p, 16);
      if (V > 2) a2 = v128.load(p, 32);
      if (V > 3) a3 = v128.load(p, 48);
      if (V > 4) a4 = v128.load(p, 64);
      if (V > 5) a5 = v128.load(p, 80);
      if (V > 6) a6 = v128.load(p, 96);
      if (V > 7) a7 = v128.load(p, 112);
      p += bytes;
    }
    while (p < end) {
      a0 = columnStep(op, mean, a0, v128.load(p), m0);
      if (V > 1) a1 = columnStep(op, mean, a1, v128.load(p, 16), m1);
      if (V > 2) a2 = columnStep(op, mean, a2, v128.load(p, 32), m2);
      if (V > 3) a3 = columnStep(op, mean, a3, v128.load(p, 48), m3);
      if (V > 4) a4 = columnStep(op, mean, a4, v128.load(p, 64), m4);
      if (V > 5) a5 = columnStep(op, mean, a5, v128.load(p, 80), m5);
      if (V > 6) a6 = columnStep(op, mean, a6, v128.load(p, 96), m6);
      if (V > 7) a7 = columnStep(op, mean, a7, v128.load(p, 112), m7);
      p += bytes;
    }
    const d = out + <usize>o * bytes;
    v128.store(d, a0);
    if (V > 1) v128.store(d, a1, 16);
    if (V > 2) v128.store(d, a2, 32);
    if (V > 3) v128.store(d, a3, 48);
    if (V > 4) v128.store(d, a4, 64);
    if (V > 5) v128.store(d, a5, 80);
    if (V > 6) v128.store(d, a6, 96);
    if (V > 7) v128.store(d, a7, 112);
  }
}

@inline function columnStep(op: i32, mean: usize, acc: v128, x: v128, m: v128): v128 {
  if (mean == 0) return combineVec(op, acc, x);
  const d = f32x4.sub(x, m);
  return f32x4.add(acc, f32x4.mul(d, d));
}

/** narrowColumns for inner = 4·V, V from 1 to 8 given at run time; false when inner is not such a width. */
@inline function narrowColumnsAny(op: i32, x: usize, out: usize, outer: i32, r: i32, inner: i32, mean: usize): bool {
  if (!ASC_FEATURE_SIMD || (inner & 3) != 0 || inner > 32 || r < 1) return false;
  switch (inner >> 2) {
    case 1: narrowColumns(op, 1, x, out, outer, r, mean); break;
    case 2: narrowColumns(op, 2, x, out, outer, r, mean); break;
    case 3: narrowColumns(op, 3, x, out, outer, r, mean); break;
    case 4: narrowColumns(op, 4, x, out, outer, r, mean); break;
    case 5: narrowColumns(op, 5, x, out, outer, r, mean); break;
    case 6: narrowColumns(op, 6, x, out, outer, r, mean); break;
    case 7: narrowColumns(op, 7, x, out, outer, r, mean); break;
    default: narrowColumns(op, 8, x, out, outer, r, mean);
  }
  return true;
}

@inline function reduceRun(op: i32, x: usize, out: usize, outer: i32, r: i32, inner: i32): void {
  if (narrowColumnsAny(op, x, out, outer, r, inner, 0)) return;
  if (inner == 1) {
    // Contiguous rows: four lanes (or one scalar) accumulate, then fold.
    for (let o = 0; o < outer; o++) {
      const row = x + (<usize>(o * r) << 2);
      let acc: f32 = op == 0 ? 0 : load<f32>(row);
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        if (r >= 8) {
          let v = v128.load(row);
          for (i = 4; i + 4 <= r; i += 4) v = combineVec(op, v, v128.load(row + (<usize>i << 2)));
          acc = combine(op, combine(op, f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
            combine(op, f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
        }
      }
      for (; i < r; i++) acc = combine(op, acc, load<f32>(row + (<usize>i << 2)));
      store<f32>(out + (<usize>o << 2), acc);
    }
    return;
  }
  const bytes = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const dst = out + <usize>o * bytes;
    const base = x + <usize>(o * r) * bytes;
    memory.copy(dst, base, bytes);
    for (let j = 1; j < r; j++) {
      const src = base + <usize>j * bytes;
      if (op == 0) {
        addRow(dst, src, inner);
      } else {
        let i = 0;
        if (ASC_FEATURE_SIMD) {
          for (; i + 4 <= inner; i += 4) {
            const p = <usize>i << 2;
            v128.store(dst + p, combineVec(op, v128.load(dst + p), v128.load(src + p)));
          }
        }
        for (; i < inner; i++) {
          const p = <usize>i << 2;
          store<f32>(dst + p, combine(op, load<f32>(dst + p), load<f32>(src + p)));
        }
      }
    }
  }
}

export function reduce(op: i32, x: usize, out: usize, outer: i32, r: i32, inner: i32): void {
  if (op == 0) reduceRun(0, x, out, outer, r, inner);
  else if (op == 1) reduceRun(1, x, out, outer, r, inner);
  else reduceRun(2, x, out, outer, r, inner);
}

/**
 * Per-column mean and (biased) variance of x[rows, cols]: batch-norm statistics over
 * N·H·W rows of an NHWC batch. Two passes (mean, then squared deviations) for accuracy.
 */
export function moments(x: usize, mean: usize, variance: usize, rows: i32, cols: i32): void {
  reduceRun(0, x, mean, 1, rows, cols);
  const inv: f32 = 1 / <f32>rows;
  const bytes = <usize>cols << 2;
  for (let c = 0; c < cols; c++) {
    const p = mean + (<usize>c << 2);
    store<f32>(p, load<f32>(p) * inv);
    store<f32>(variance + (<usize>c << 2), 0);
  }
  if (narrowColumnsAny(0, x, variance, 1, rows, cols, mean)) {
    for (let c = 0; c < cols; c++) {
      const p = variance + (<usize>c << 2);
      store<f32>(p, load<f32>(p) * inv);
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    const row = x + <usize>r * bytes;
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      for (; c + 4 <= cols; c += 4) {
        const p = <usize>c << 2;
        const d = f32x4.sub(v128.load(row + p), v128.load(mean + p));
        v128.store(variance + p, f32x4.add(v128.load(variance + p), f32x4.mul(d, d)));
      }
    }
    for (; c < cols; c++) {
      const p = <usize>c << 2;
      const d = load<f32>(row + p) - load<f32>(mean + p);
      store<f32>(variance + p, load<f32>(variance + p) + d * d);
    }
  }
  for (let c = 0; c < cols; c++) {
    const p = variance + (<usize>c << 2);
    store<f32>(p, load<f32>(p) * inv);
  }
}
