// Elementwise kernels. Ops are chosen by a code (src/kernels.ts: Unary, Binary); each case
// calls an @inline row function with a literal op, so after inlining the optimizer folds the
// op test away and every case is its own tight (SIMD where it pays) loop.

// ---------------------------------------------------------------- unary

export function fill(out: usize, n: i32, value: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const v = f32x4.splat(value);
    for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), v);
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), value);
}

@inline function unaryScalar(op: i32, x: f32, alpha: f32): f32 {
  switch (op) {
    case 0: return -x;
    case 1: return Mathf.exp(x);
    case 2: return Mathf.log(x);
    case 3: return Mathf.sqrt(x);
    case 4: return Mathf.abs(x);
    case 5: return max<f32>(x, 0); // f32.max: NaN propagates, as in the SIMD path and in TF
    case 6: return x > 0 ? x : alpha * x;
    case 7: return x > 0 ? x : alpha * (Mathf.exp(x) - 1);
    case 8: return x >= 0 ? 1 / (1 + Mathf.exp(-x)) : Mathf.exp(x) / (1 + Mathf.exp(x));
    case 9: return Mathf.tanh(x);
    case 10: return Mathf.pow(x, alpha);
    case 11: return x * alpha;
    case 12: return x + alpha;
    case 13: return x > 0 ? 1 : x < 0 ? -1 : 0;
  }
  return x;
}

// SIMD forms of the cheap ops; the transcendental ones run the scalar loop.
@inline function unaryVec(op: i32, x: v128, alpha: v128): v128 {
  switch (op) {
    case 0: return f32x4.neg(x);
    case 3: return f32x4.sqrt(x);
    case 4: return f32x4.abs(x);
    // relu: x where not x ≤ 0, so NaN passes through (f32x4.max's NaN rules cost V8 eight
    // instructions: measured 1.6× slower as a layer's bias + ReLU).
    case 5: return v128.andnot(x, f32x4.le(x, f32x4.splat(0)));
    case 6: return v128.bitselect(x, f32x4.mul(x, alpha), f32x4.gt(x, f32x4.splat(0)));
    case 11: return f32x4.mul(x, alpha);
    case 12: return f32x4.add(x, alpha);
  }
  return x;
}

@inline function hasVec(op: i32): bool {
  return op == 0 || op == 3 || op == 4 || op == 5 || op == 6 || op == 11 || op == 12;
}

@inline function unaryRun(op: i32, x: usize, out: usize, n: i32, alpha: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    if (hasVec(op)) {
      const va = f32x4.splat(alpha);
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        v128.store(out + o, unaryVec(op, v128.load(x + o), va));
      }
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, unaryScalar(op, load<f32>(x + o), alpha));
  }
}

export function unary(op: i32, x: usize, out: usize, n: i32, alpha: f32): void {
  switch (op) {
    case 0: unaryRun(0, x, out, n, alpha); break;
    case 1: unaryRun(1, x, out, n, alpha); break;
    case 2: unaryRun(2, x, out, n, alpha); break;
    case 3: unaryRun(3, x, out, n, alpha); break;
    case 4: unaryRun(4, x, out, n, alpha); break;
    case 5: unaryRun(5, x, out, n, alpha); break;
    case 6: unaryRun(6, x, out, n, alpha); break;
    case 7: unaryRun(7, x, out, n, alpha); break;
    case 8: unaryRun(8, x, out, n, alpha); break;
    case 9: unaryRun(9, x, out, n, alpha); break;
    case 10: unaryRun(10, x, out, n, alpha); break;
    case 11: unaryRun(11, x, out, n, alpha); break;
    case 12: unaryRun(12, x, out, n, alpha); break;
    case 13: unaryRun(13, x, out, n, alpha); break;
    default: unreachable();
  }
}

/**
 * out[r, c] = op(x[r, c] + bias[c]) over rows [0, rows) (bias = 0: op(x)): a layer's bias and
 * activation in one pass. The same f32 add and the same op functions as binary() then
 * unary(), so the result is theirs, bit for bit.
 */
@inline function biasUnaryRun(op: i32, x: usize, bias: usize, out: usize, rows: i32, cols: i32, alpha: f32): void {
  if (ASC_FEATURE_SIMD && hasVec(op) && (cols & 3) == 0) {
    // Rows of whole vectors are one flat run, the bias cycling along it: a convolution's 8 or
    // 16 channels made a loop per row of 2–4 vectors (measured: 2× slower on 50,176 × 8).
    if (bias == 0) {
      unaryRun(op, x, out, rows * cols, alpha);
      return;
    }
    const va = f32x4.splat(alpha);
    const rowBytes = <usize>cols << 2;
    const end = x + <usize>rows * rowBytes;
    let k: usize = 0;
    if ((cols & 7) == 0) {
      // Two vectors a step (the loop's own instructions were half of its cost).
      for (let p = x, d = out; p < end; p += 32, d += 32) {
        v128.store(d, unaryVec(op, f32x4.add(v128.load(p), v128.load(bias + k)), va));
        v128.store(d, unaryVec(op, f32x4.add(v128.load(p, 16), v128.load(bias + k, 16)), va), 16);
        k += 32;
        if (k == rowBytes) k = 0;
      }
      return;
    }
    for (let p = x, d = out; p < end; p += 16, d += 16) {
      v128.store(d, unaryVec(op, f32x4.add(v128.load(p), v128.load(bias + k)), va));
      k += 16;
      if (k == rowBytes) k = 0;
    }
    return;
  }
  const bytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const row = x + <usize>r * bytes;
    const dst = out + <usize>r * bytes;
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      if (hasVec(op)) {
        const va = f32x4.splat(alpha);
        for (; c + 4 <= cols; c += 4) {
          const o = <usize>c << 2;
          const v = bias != 0 ? f32x4.add(v128.load(row + o), v128.load(bias + o)) : v128.load(row + o);
          v128.store(dst + o, unaryVec(op, v, va));
        }
      }
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      const v = bias != 0 ? load<f32>(row + o) + load<f32>(bias + o) : load<f32>(row + o);
      store<f32>(dst + o, unaryScalar(op, v, alpha));
    }
  }
}

/** biasUnaryRun for the activations whose derivative their output determines (relu, leakyRelu, elu, sigmoid, tanh). */
export function biasUnary(op: i32, x: usize, bias: usize, out: usize, rows: i32, cols: i32, alpha: f32): void {
  switch (op) {
    case 5: biasUnaryRun(5, x, bias, out, rows, cols, alpha); break;
    case 6: biasUnaryRun(6, x, bias, out, rows, cols, alpha); break;
    case 7: biasUnaryRun(7, x, bias, out, rows, cols, alpha); break;
    case 8: biasUnaryRun(8, x, bias, out, rows, cols, alpha); break;
    case 9: biasUnaryRun(9, x, bias, out, rows, cols, alpha); break;
    default: unreachable();
  }
}

// d out / d x times g, given the input x and the output y of the forward op.
@inline function gradScalar(op: i32, x: f32, y: f32, g: f32, alpha: f32): f32 {
  switch (op) {
    case 0: return -g;
    case 1: return g * y;
    case 2: return g / x;
    case 3: return g * 0.5 / y;
    case 4: return x > 0 ? g : x < 0 ? -g : 0;
    case 5: return x > 0 ? g : 0;
    case 6: return x > 0 ? g : alpha * g;
    case 7: return x > 0 ? g : g * (y + alpha);
    case 8: return g * y * (1 - y);
    case 9: return g * (1 - y * y);
    case 10: return g * alpha * Mathf.pow(x, alpha - 1);
    case 11: return g * alpha;
    case 12: return g;
    case 13: return 0;
  }
  return 0;
}

@inline function gradRun(op: i32, x: usize, y: usize, g: usize, out: usize, n: i32, alpha: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    if (op == 5) {
      const zero = f32x4.splat(0);
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        v128.store(out + o, v128.and(v128.load(g + o), f32x4.gt(v128.load(x + o), zero)));
      }
    } else if (op == 8) {
      const one = f32x4.splat(1);
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        const vy = v128.load(y + o);
        v128.store(out + o, f32x4.mul(f32x4.mul(v128.load(g + o), vy), f32x4.sub(one, vy)));
      }
    } else if (op == 9) {
      const one = f32x4.splat(1);
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        const vy = v128.load(y + o);
        v128.store(out + o, f32x4.mul(v128.load(g + o), f32x4.sub(one, f32x4.mul(vy, vy))));
      }
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, gradScalar(op, load<f32>(x + o), load<f32>(y + o), load<f32>(g + o), alpha));
  }
}

export function unaryGrad(op: i32, x: usize, y: usize, g: usize, out: usize, n: i32, alpha: f32): void {
  switch (op) {
    case 0: gradRun(0, x, y, g, out, n, alpha); break;
    case 1: gradRun(1, x, y, g, out, n, alpha); break;
    case 2: gradRun(2, x, y, g, out, n, alpha); break;
    case 3: gradRun(3, x, y, g, out, n, alpha); break;
    case 4: gradRun(4, x, y, g, out, n, alpha); break;
    case 5: gradRun(5, x, y, g, out, n, alpha); break;
    case 6: gradRun(6, x, y, g, out, n, alpha); break;
    case 7: gradRun(7, x, y, g, out, n, alpha); break;
    case 8: gradRun(8, x, y, g, out, n, alpha); break;
    case 9: gradRun(9, x, y, g, out, n, alpha); break;
    case 10: gradRun(10, x, y, g, out, n, alpha); break;
    case 11: gradRun(11, x, y, g, out, n, alpha); break;
    case 12: gradRun(12, x, y, g, out, n, alpha); break;
    case 13: gradRun(13, x, y, g, out, n, alpha); break;
    default: unreachable();
  }
}

/** out = alpha·x + beta·y (out may alias x or y): gradient accumulation and optimizer updates. */
export function axpby(n: i32, alpha: f32, x: usize, beta: f32, y: usize, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const va = f32x4.splat(alpha);
    const vb = f32x4.splat(beta);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.add(f32x4.mul(va, v128.load(x + o)), f32x4.mul(vb, v128.load(y + o))));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, alpha * load<f32>(x + o) + beta * load<f32>(y + o));
  }
}

// ---------------------------------------------------------------- binary, broadcasting

@inline function binaryScalar(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return a != a || b != b ? NaN : (a > b ? a : b);
    case 5: return a != a || b != b ? NaN : (a < b ? a : b);
    case 6: return Mathf.pow(a, b);
    case 7: return a == b ? 1 : 0;
    case 8: return a != b ? 1 : 0;
    case 9: return a < b ? 1 : 0;
    case 10: return a <= b ? 1 : 0;
    case 11: return a > b ? 1 : 0;
    case 12: return a >= b ? 1 : 0;
  }
  return 0;
}

@inline function binaryVec(op: i32, a: v128, b: v128): v128 {
  const one = f32x4.splat(1);
  switch (op) {
    case 0: return f32x4.add(a, b);
    case 1: return f32x4.sub(a, b);
    case 2: return f32x4.mul(a, b);
    case 3: return f32x4.div(a, b);
    case 4: return f32x4.max(a, b);
    case 5: return f32x4.min(a, b);
    case 7: return v128.and(f32x4.eq(a, b), one);
    case 8: return v128.and(f32x4.ne(a, b), one);
    case 9: return v128.and(f32x4.lt(a, b), one);
    case 10: return v128.and(f32x4.le(a, b), one);
    case 11: return v128.and(f32x4.gt(a, b), one);
    case 12: return v128.and(f32x4.ge(a, b), one);
  }
  return a;
}

// One row of the innermost dimension; element strides sa, sb are 0 (broadcast) or anything.
@inline function binaryRow(op: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize, len: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    if (op != 6) {
      if (sa == 1 && sb == 1) {
        for (; i + 4 <= len; i += 4) {
          const o = <usize>i << 2;
          v128.store(out + o, binaryVec(op, v128.load(a + o), v128.load(b + o)));
        }
      } else if (sa == 1 && sb == 0) {
        const vb = v128.load32_splat(b);
        for (; i + 4 <= len; i += 4) {
          const o = <usize>i << 2;
          v128.store(out + o, binaryVec(op, v128.load(a + o), vb));
        }
      } else if (sa == 0 && sb == 1) {
        const va = v128.load32_splat(a);
        for (; i + 4 <= len; i += 4) {
          const o = <usize>i << 2;
          v128.store(out + o, binaryVec(op, va, v128.load(b + o)));
        }
      }
    }
  }
  for (; i < len; i++) {
    store<f32>(out + (<usize>i << 2), binaryScalar(op,
      load<f32>(a + (<usize>(i * sa) << 2)), load<f32>(b + (<usize>(i * sb) << 2))));
  }
}

@inline function binaryRun(op: i32, a: usize, b: usize, out: usize, ndim: i32, shape: usize, as: usize, bs: usize): void {
  const last = ndim - 1;
  const len = load<i32>(shape + (<usize>last << 2));
  const sa = load<i32>(as + (<usize>last << 2));
  const sb = load<i32>(bs + (<usize>last << 2));
  let rows = 1;
  for (let d = 0; d < last; d++) rows *= load<i32>(shape + (<usize>d << 2));
  if (last == 1) {
    // Two dimensions (the common case once dimensions are merged: a bias added to every
    // row of [N·H·W, C]): the row offsets are plain multiples, with no division per row,
    // which for short rows cost more than the row itself.
    const ra = <usize>load<i32>(as) << 2, rb = <usize>load<i32>(bs) << 2, ro = <usize>len << 2;
    for (let r = 0; r < rows; r++) binaryRow(op, a + <usize>r * ra, sa, b + <usize>r * rb, sb, out + <usize>r * ro, len);
    return;
  }
  for (let r = 0; r < rows; r++) {
    // Decompose the row index into coordinates to find both operands' offsets.
    let rest = r;
    let oa = 0;
    let ob = 0;
    for (let d = last - 1; d >= 0; d--) {
      const dim = load<i32>(shape + (<usize>d << 2));
      const coord = rest % dim;
      rest /= dim;
      oa += coord * load<i32>(as + (<usize>d << 2));
      ob += coord * load<i32>(bs + (<usize>d << 2));
    }
    binaryRow(op, a + (<usize>oa << 2), sa, b + (<usize>ob << 2), sb, out + (<usize>(r * len) << 2), len);
  }
}

/**
 * out (contiguous, shape[ndim]) = a op b, where a and b are read through element strides
 * (0 on broadcast dimensions). The caller merges dimensions first so the inner row is long.
 */
export function binary(op: i32, a: usize, b: usize, out: usize, ndim: i32, shape: usize, as: usize, bs: usize): void {
  switch (op) {
    case 0: binaryRun(0, a, b, out, ndim, shape, as, bs); break;
    case 1: binaryRun(1, a, b, out, ndim, shape, as, bs); break;
    case 2: binaryRun(2, a, b, out, ndim, shape, as, bs); break;
    case 3: binaryRun(3, a, b, out, ndim, shape, as, bs); break;
    case 4: binaryRun(4, a, b, out, ndim, shape, as, bs); break;
    case 5: binaryRun(5, a, b, out, ndim, shape, as, bs); break;
    case 6: binaryRun(6, a, b, out, ndim, shape, as, bs); break;
    case 7: binaryRun(7, a, b, out, ndim, shape, as, bs); break;
    case 8: binaryRun(8, a, b, out, ndim, shape, as, bs); break;
    case 9: binaryRun(9, a, b, out, ndim, shape, as, bs); break;
    case 10: binaryRun(10, a, b, out, ndim, shape, as, bs); break;
    case 11: binaryRun(11, a, b, out, ndim, shape, as, bs); break;
    case 12: binaryRun(12, a, b, out, ndim, shape, as, bs); break;
    default: unreachable();
  }
}

/** out = c != 0 ? a : b, all three read through strides as in binary(). */
export function where(c: usize, a: usize, b: usize, out: usize, ndim: i32, shape: usize, cs: usize, as: usize, bs: usize): void {
  const last = ndim - 1;
  const len = load<i32>(shape + (<usize>last << 2));
  const sc = load<i32>(cs + (<usize>last << 2));
  const sa = load<i32>(as + (<usize>last << 2));
  const sb = load<i32>(bs + (<usize>last << 2));
  let rows = 1;
  for (let d = 0; d < last; d++) rows *= load<i32>(shape + (<usize>d << 2));
  for (let r = 0; r < rows; r++) {
    let rest = r;
    let oc = 0;
    let oa = 0;
    let ob = 0;
    for (let d = last - 1; d >= 0; d--) {
      const dim = load<i32>(shape + (<usize>d << 2));
      const coord = rest % dim;
      rest /= dim;
      oc += coord * load<i32>(cs + (<usize>d << 2));
      oa += coord * load<i32>(as + (<usize>d << 2));
      ob += coord * load<i32>(bs + (<usize>d << 2));
    }
    const o = out + (<usize>(r * len) << 2);
    for (let i = 0; i < len; i++) {
      const cond = load<f32>(c + (<usize>(oc + i * sc) << 2));
      store<f32>(o + (<usize>i << 2), cond != 0
        ? load<f32>(a + (<usize>(oa + i * sa) << 2))
        : load<f32>(b + (<usize>(ob + i * sb) << 2)));
    }
  }
}
