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

@inline function reduceRun(op: i32, x: usize, out: usize, outer: i32, r: i32, inner: i32): void {
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
