// Fused optimizer updates (@minibatch/optimizers). Composed from elementwise ops, one Adam
// step is ~12 passes over memory (and as many temporaries); each kernel here reads the
// gradient and the state once, writes the state back in place and the update once.
// Every kernel takes `n` first; SIMD and scalar paths do the same f32 ops in the same order,
// so the tail (and the scalar build) gives bit-identical results per element.

/**
 * Adam's moments and direction (Kingma & Ba 2015, alg. 1; the form of torch.optim.Adam):
 * m = b1·m + a1·g, v = b2·v + a2·g², out = m·c1 / (√v·c2 + eps), where a1 = 1−b1 and
 * a2 = 1−b2 come from the caller (in f32, 1 − f32(0.999) is off by 1e-5 relative) and
 * c1 = 1/(1−b1ᵗ), c2 = 1/√(1−b2ᵗ) are the bias corrections.
 */
export function adamUpdate(n: i32, g: usize, m: usize, v: usize, out: usize,
  b1: f32, a1: f32, b2: f32, a2: f32, c1: f32, c2: f32, eps: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vb1 = f32x4.splat(b1), va1 = f32x4.splat(a1), vb2 = f32x4.splat(b2), va2 = f32x4.splat(a2);
    const vc1 = f32x4.splat(c1), vc2 = f32x4.splat(c2), ve = f32x4.splat(eps);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const gi = v128.load(g + o);
      const mi = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(va1, gi));
      const vi = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(va2, f32x4.mul(gi, gi)));
      v128.store(m + o, mi);
      v128.store(v + o, vi);
      v128.store(out + o, f32x4.div(f32x4.mul(mi, vc1), f32x4.add(f32x4.mul(f32x4.sqrt(vi), vc2), ve)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const mi = b1 * load<f32>(m + o) + a1 * gi;
    const vi = b2 * load<f32>(v + o) + a2 * (gi * gi);
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    store<f32>(out + o, (mi * c1) / (Mathf.sqrt(vi) * c2 + eps));
  }
}

/**
 * Heavy-ball momentum as in torch.optim.SGD: buf = mu·buf + k·g (k = 1 − dampening),
 * out = buf, or with Nesterov out = g + mu·buf (Sutskever et al. 2013's look-ahead,
 * rewritten in the variables the optimizer stores).
 */
export function momentumUpdate(n: i32, g: usize, buf: usize, out: usize, mu: f32, k: f32, nesterov: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vm = f32x4.splat(mu), vk = f32x4.splat(k);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const gi = v128.load(g + o);
      const b = f32x4.add(f32x4.mul(vm, v128.load(buf + o)), f32x4.mul(vk, gi));
      v128.store(buf + o, b);
      v128.store(out + o, nesterov != 0 ? f32x4.add(gi, f32x4.mul(vm, b)) : b);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const b = mu * load<f32>(buf + o) + k * gi;
    store<f32>(buf + o, b);
    store<f32>(out + o, nesterov != 0 ? gi + mu * b : b);
  }
}

// One RMSProp element; `centered` and `mom` are literals after inlining, so each of the four
// variants below compiles to its own loop.
@inline function rmsVec(centered: bool, mom: bool, o: usize, g: usize, v: usize, avg: usize, buf: usize, out: usize,
  d: v128, a: v128, eps: v128, mu: v128): void {
  const gi = v128.load(g + o);
  const vi = f32x4.add(f32x4.mul(d, v128.load(v + o)), f32x4.mul(a, f32x4.mul(gi, gi)));
  v128.store(v + o, vi);
  let s = vi;
  if (centered) {
    const ai = f32x4.add(f32x4.mul(d, v128.load(avg + o)), f32x4.mul(a, gi));
    v128.store(avg + o, ai);
    s = f32x4.sub(vi, f32x4.mul(ai, ai));
  }
  let u = f32x4.div(gi, f32x4.add(f32x4.sqrt(s), eps));
  if (mom) {
    u = f32x4.add(f32x4.mul(mu, v128.load(buf + o)), u);
    v128.store(buf + o, u);
  }
  v128.store(out + o, u);
}

@inline function rmsScalar(centered: bool, mom: bool, o: usize, g: usize, v: usize, avg: usize, buf: usize, out: usize,
  d: f32, a: f32, eps: f32, mu: f32): void {
  const gi = load<f32>(g + o);
  const vi = d * load<f32>(v + o) + a * (gi * gi);
  store<f32>(v + o, vi);
  let s = vi;
  if (centered) {
    const ai = d * load<f32>(avg + o) + a * gi;
    store<f32>(avg + o, ai);
    s = vi - ai * ai;
  }
  let u = gi / (Mathf.sqrt(s) + eps);
  if (mom) {
    u = mu * load<f32>(buf + o) + u;
    store<f32>(buf + o, u);
  }
  store<f32>(out + o, u);
}

@inline function rmsRun(centered: bool, mom: bool, n: i32, g: usize, v: usize, avg: usize, buf: usize, out: usize,
  d: f32, a: f32, eps: f32, mu: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vd = f32x4.splat(d), va = f32x4.splat(a), ve = f32x4.splat(eps), vm = f32x4.splat(mu);
    for (; i + 4 <= n; i += 4) rmsVec(centered, mom, <usize>i << 2, g, v, avg, buf, out, vd, va, ve, vm);
  }
  for (; i < n; i++) rmsScalar(centered, mom, <usize>i << 2, g, v, avg, buf, out, d, a, eps, mu);
}

/**
 * RMSProp as in torch.optim.RMSprop (Hinton, lecture 6e): v = d·v + a·g² with a = 1−d
 * from the caller; centered (Graves 2013) also tracks avg = d·avg + a·g and uses v − avg²;
 * u = g / (√· + eps); with momentum buf = mu·buf + u, out = buf. `avg`/`buf` are unused
 * (may be 0) when off.
 */
export function rmspropUpdate(n: i32, g: usize, v: usize, avg: usize, buf: usize, out: usize,
  decay: f32, a: f32, eps: f32, mu: f32, centered: i32, momentum: i32): void {
  if (centered != 0) {
    if (momentum != 0) rmsRun(true, true, n, g, v, avg, buf, out, decay, a, eps, mu);
    else rmsRun(true, false, n, g, v, avg, buf, out, decay, a, eps, mu);
  } else if (momentum != 0) rmsRun(false, true, n, g, v, avg, buf, out, decay, a, eps, mu);
  else rmsRun(false, false, n, g, v, avg, buf, out, decay, a, eps, mu);
}

/** AdaGrad (Duchi et al. 2011), as torch.optim.Adagrad: acc += g², out = g / (√acc + eps). */
export function adagradUpdate(n: i32, g: usize, acc: usize, out: usize, eps: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const ve = f32x4.splat(eps);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const gi = v128.load(g + o);
      const s = f32x4.add(v128.load(acc + o), f32x4.mul(gi, gi));
      v128.store(acc + o, s);
      v128.store(out + o, f32x4.div(gi, f32x4.add(f32x4.sqrt(s), ve)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const s = load<f32>(acc + o) + gi * gi;
    store<f32>(acc + o, s);
    store<f32>(out + o, gi / (Mathf.sqrt(s) + eps));
  }
}

/** out = min(max(x, lo), hi): gradient clipping by value in one pass. NaN stays NaN. */
export function clipByValue(n: i32, x: usize, out: usize, lo: f32, hi: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vl = f32x4.splat(lo), vh = f32x4.splat(hi);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.min(f32x4.max(v128.load(x + o), vl), vh));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, Mathf.min(Mathf.max(load<f32>(x + o), lo), hi));
  }
}

/**
 * Σ x·y with products and sums in f64: the squared global norm for clipping and the inner
 * products of L-BFGS, where f32 accumulation over millions of terms would lose digits.
 */
export function dotF64(n: i32, x: usize, y: usize): f64 {
  let acc: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const a = v128.load(x + o), b = v128.load(y + o);
      lo = f64x2.add(lo, f64x2.mul(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(b)));
      hi = f64x2.add(hi, f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(a, a, 2, 3, 0, 1)),
        f64x2.promote_low_f32x4(v128.shuffle<f32>(b, b, 2, 3, 0, 1))));
    }
    const s = f64x2.add(lo, hi);
    acc = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    acc += <f64>load<f32>(x + o) * <f64>load<f32>(y + o);
  }
  return acc;
}
