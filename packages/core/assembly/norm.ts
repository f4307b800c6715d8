// Batch normalization's passes over x [rows, cols] (cols = channels; NHWC images are
// N·H·W rows): the per-channel affine map that normalizes (and, with a second input, gives
// the input gradient), and the two per-channel sums the backward pass needs. The channel
// coefficients are computed by the caller from the statistics (ops/nn.ts batchNorm).

/**
 * out[r, c] = a[c]·x[r, c] + b[c]·y[r, c] + k[c] for rows [0, rows); y = 0 drops the
 * middle term (the forward pass: a = γ/σ, k = β − μ·a). SIMD and scalar tails do the same
 * f32 operations in the same order, so a split by rows gives the same result.
 */
export function channelLinear(x: usize, y: usize, out: usize, a: usize, b: usize, k: usize, rows: i32, cols: i32): void {
  const bytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * bytes;
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      for (; c + 4 <= cols; c += 4) {
        const p = <usize>c << 2;
        let v = f32x4.mul(v128.load(a + p), v128.load(x + o + p));
        if (y != 0) v = f32x4.add(v, f32x4.mul(v128.load(b + p), v128.load(y + o + p)));
        v128.store(out + o + p, f32x4.add(v, v128.load(k + p)));
      }
    }
    for (; c < cols; c++) {
      const p = <usize>c << 2;
      let v = load<f32>(a + p) * load<f32>(x + o + p);
      if (y != 0) v += load<f32>(b + p) * load<f32>(y + o + p);
      store<f32>(out + o + p, v + load<f32>(k + p));
    }
  }
}

/**
 * Per channel over rows [0, rows): sums[c] = Σ g, sums[cols + c] = Σ g·(x − mean[c]).
 * Channels go in groups of 4 vectors (16 floats) kept in registers while the rows stream
 * past, so no partial sum is stored and reloaded per row; each group reads only its own
 * cache lines of every row.
 */
export function channelSums(x: usize, g: usize, mean: usize, sums: usize, rows: i32, cols: i32): void {
  const bytes = <usize>cols << 2;
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    while (c + 4 <= cols) {
      const v = min(4, (cols - c) >> 2);
      const p = <usize>c << 2;
      if (v == 4) sumGroup(4, x + p, g + p, mean + p, sums + p, sums + bytes + p, rows, bytes);
      else if (v == 3) sumGroup(3, x + p, g + p, mean + p, sums + p, sums + bytes + p, rows, bytes);
      else if (v == 2) sumGroup(2, x + p, g + p, mean + p, sums + p, sums + bytes + p, rows, bytes);
      else sumGroup(1, x + p, g + p, mean + p, sums + p, sums + bytes + p, rows, bytes);
      c += v << 2;
    }
  }
  for (; c < cols; c++) {
    const p = <usize>c << 2;
    const m = load<f32>(mean + p);
    let sg: f32 = 0, sgx: f32 = 0;
    for (let r = 0; r < rows; r++) {
      const o = <usize>r * bytes + p;
      const gi = load<f32>(g + o);
      sg += gi;
      sgx += gi * (load<f32>(x + o) - m);
    }
    store<f32>(sums + p, sg);
    store<f32>(sums + bytes + p, sgx);
  }
}

@inline function sumGroup(V: i32, x: usize, g: usize, mean: usize, sg: usize, sgx: usize, rows: i32, bytes: usize): void {
  const zero = f32x4.splat(0);
  const m0 = v128.load(mean), m1 = V > 1 ? v128.load(mean, 16) : zero;
  const m2 = V > 2 ? v128.load(mean, 32) : zero, m3 = V > 3 ? v128.load(mean, 48) : zero;
  let s0 = zero, s1 = zero, s2 = zero, s3 = zero, t0 = zero, t1 = zero, t2 = zero, t3 = zero;
  const end = x + <usize>rows * bytes;
  while (x < end) {
    let gi = v128.load(g);
    s0 = f32x4.add(s0, gi);
    t0 = f32x4.add(t0, f32x4.mul(gi, f32x4.sub(v128.load(x), m0)));
    if (V > 1) {
      gi = v128.load(g, 16);
      s1 = f32x4.add(s1, gi);
      t1 = f32x4.add(t1, f32x4.mul(gi, f32x4.sub(v128.load(x, 16), m1)));
    }
    if (V > 2) {
      gi = v128.load(g, 32);
      s2 = f32x4.add(s2, gi);
      t2 = f32x4.add(t2, f32x4.mul(gi, f32x4.sub(v128.load(x, 32), m2)));
    }
    if (V > 3) {
      gi = v128.load(g, 48);
      s3 = f32x4.add(s3, gi);
      t3 = f32x4.add(t3, f32x4.mul(gi, f32x4.sub(v128.load(x, 48), m3)));
    }
    x += bytes;
    g += bytes;
  }
  v128.store(sg, s0);
  v128.store(sgx, t0);
  if (V > 1) { v128.store(sg, s1, 16); v128.store(sgx, t1, 16); }
  if (V > 2) { v128.store(sg, s2, 32); v128.store(sgx, t2, 32); }
  if (V > 3) { v128.store(sg, s3, 48); v128.store(sgx, t3, 48); }
}
