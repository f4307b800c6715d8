// Row-wise softmax, log-softmax and softmax cross-entropy over the last axis, computed
// from (x - max) so large logits cannot overflow exp.

@inline function rowMax(x: usize, cols: i32): f32 {
  let m = load<f32>(x);
  for (let i = 1; i < cols; i++) m = max(m, load<f32>(x + (<usize>i << 2)));
  return m;
}

export function softmax(x: usize, out: usize, rows: i32, cols: i32, log: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * cols) << 2);
    const yr = out + (<usize>(r * cols) << 2);
    const m = rowMax(xr, cols);
    let sum: f32 = 0;
    for (let i = 0; i < cols; i++) {
      const e = Mathf.exp(load<f32>(xr + (<usize>i << 2)) - m);
      sum += e;
      if (log == 0) store<f32>(yr + (<usize>i << 2), e);
    }
    if (log == 0) {
      const inv: f32 = 1 / sum;
      for (let i = 0; i < cols; i++) store<f32>(yr + (<usize>i << 2), load<f32>(yr + (<usize>i << 2)) * inv);
    } else {
      const shift = m + Mathf.log(sum);
      for (let i = 0; i < cols; i++) store<f32>(yr + (<usize>i << 2), load<f32>(xr + (<usize>i << 2)) - shift);
    }
  }
}

/** softmax: dx = y ⊙ (g − Σ g⊙y); log-softmax: dx = g − exp(y) Σ g. */
export function softmaxGrad(y: usize, g: usize, out: usize, rows: i32, cols: i32, log: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = <usize>(r * cols) << 2;
    let s: f32 = 0;
    for (let i = 0; i < cols; i++) {
      const p = o + (<usize>i << 2);
      s += log == 0 ? load<f32>(g + p) * load<f32>(y + p) : load<f32>(g + p);
    }
    for (let i = 0; i < cols; i++) {
      const p = o + (<usize>i << 2);
      const yi = load<f32>(y + p);
      const gi = load<f32>(g + p);
      store<f32>(out + p, log == 0 ? yi * (gi - s) : gi - Mathf.exp(yi) * s);
    }
  }
}

/** probs = softmax(logits) per row and losses[r] = −log probs[r, labels[r]] (labels checked by the caller). */
export function softmaxCrossEntropy(logits: usize, labels: usize, probs: usize, losses: usize, rows: i32, cols: i32): void {
  softmax(logits, probs, rows, cols, 0);
  for (let r = 0; r < rows; r++) {
    const xr = logits + (<usize>(r * cols) << 2);
    const m = rowMax(xr, cols);
    let sum: f32 = 0;
    for (let i = 0; i < cols; i++) sum += Mathf.exp(load<f32>(xr + (<usize>i << 2)) - m);
    const label = load<i32>(labels + (<usize>r << 2));
    store<f32>(losses + (<usize>r << 2), m + Mathf.log(sum) - load<f32>(xr + (<usize>label << 2)));
  }
}

/** out = (probs − onehot(labels)) · scale. */
export function softmaxCrossEntropyGrad(probs: usize, labels: usize, scale: f32, out: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = <usize>(r * cols) << 2;
    const label = load<i32>(labels + (<usize>r << 2));
    for (let i = 0; i < cols; i++) {
      const p = o + (<usize>i << 2);
      store<f32>(out + p, (load<f32>(probs + p) - (i == label ? <f32>1 : <f32>0)) * scale);
    }
  }
}
