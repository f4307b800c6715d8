// Data movement: strided copies (transpose, slice, pad, concat, broadcast) and gathers.

/**
 * Copies (or adds, when accumulate != 0) a strided view of src into a strided view of dst.
 * shape/srcStrides/dstStrides are i32[ndim] in elements. The caller merges dimensions so
 * that the innermost one is as long as possible.
 */
export function stridedCopy(src: usize, dst: usize, ndim: i32, shape: usize, ss: usize, ds: usize, accumulate: i32): void {
  const last = ndim - 1;
  const len = load<i32>(shape + (<usize>last << 2));
  const si = load<i32>(ss + (<usize>last << 2));
  const di = load<i32>(ds + (<usize>last << 2));
  let rows = 1;
  for (let d = 0; d < last; d++) rows *= load<i32>(shape + (<usize>d << 2));
  for (let r = 0; r < rows; r++) {
    let rest = r;
    let os = 0;
    let od = 0;
    for (let d = last - 1; d >= 0; d--) {
      const dim = load<i32>(shape + (<usize>d << 2));
      const coord = rest % dim;
      rest /= dim;
      os += coord * load<i32>(ss + (<usize>d << 2));
      od += coord * load<i32>(ds + (<usize>d << 2));
    }
    const s = src + (<usize>os << 2);
    const t = dst + (<usize>od << 2);
    if (accumulate == 0 && si == 1 && di == 1) {
      memory.copy(t, s, <usize>len << 2);
    } else if (accumulate != 0 && si == 1 && di == 1) {
      addRow(t, s, len);
    } else if (accumulate == 0) {
      for (let i = 0; i < len; i++) store<f32>(t + (<usize>(i * di) << 2), load<f32>(s + (<usize>(i * si) << 2)));
    } else {
      for (let i = 0; i < len; i++) {
        const p = t + (<usize>(i * di) << 2);
        store<f32>(p, load<f32>(p) + load<f32>(s + (<usize>(i * si) << 2)));
      }
    }
  }
}

/** dst[i] += src[i] for i < len. */
@inline export function addRow(dst: usize, src: usize, len: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i << 2;
      v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
    }
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

/** out[o, j, :] = x[o, idx[j], :] with x viewed as [outer, axisLen, inner]; idx is i32, checked by the caller. */
export function gather(x: usize, idx: usize, out: usize, outer: i32, axisLen: i32, inner: i32, nIdx: i32): void {
  const bytes = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < nIdx; j++) {
      const row = load<i32>(idx + (<usize>j << 2));
      memory.copy(out + <usize>(o * nIdx + j) * bytes, x + <usize>(o * axisLen + row) * bytes, bytes);
    }
  }
}

/** out[o, idx[j], :] += g[o, j, :]: the gradient of gather (repeated indices add up). */
export function scatterAdd(g: usize, idx: usize, out: usize, outer: i32, axisLen: i32, inner: i32, nIdx: i32): void {
  const bytes = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < nIdx; j++) {
      const row = load<i32>(idx + (<usize>j << 2));
      addRow(out + <usize>(o * axisLen + row) * bytes, g + <usize>(o * nIdx + j) * bytes, inner);
    }
  }
}
