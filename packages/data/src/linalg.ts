// The linear algebra that PCA and ZCA whitening need: column means, the covariance matrix
// (on core's GEMM), a symmetric eigendecomposition (Householder tridiagonalization + implicit
// QL, in float64), and a row-chunked product with a fixed matrix (core's GEMM again).
import { ShapeError, matmul, scope, tensor } from '@minibatch/core';

/** Rows per GEMM call: bounds the WebAssembly memory a covariance or transform needs. */
const CHUNK_ROWS = 4096;

/** Per-column means of an n×d row-major matrix, accumulated in float64. */
export function columnMeans(x: Float32Array, n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) mean[j] += x[row + j];
  }
  for (let j = 0; j < d; j++) mean[j] /= n;
  return mean;
}

/** Rows start … start+rows−1 of the n×d matrix x, minus `shift`, written into (a prefix of) buf. */
function centeredRows(x: Float32Array, start: number, rows: number, d: number, shift: ArrayLike<number>, buf: Float32Array): Float32Array {
  const chunk = rows * d === buf.length ? buf : buf.subarray(0, rows * d);
  for (let i = 0; i < rows; i++) {
    const src = (start + i) * d;
    const dst = i * d;
    for (let j = 0; j < d; j++) chunk[dst + j] = x[src + j] - shift[j];
  }
  return chunk;
}

/**
 * The biased covariance (1/n) of an n×d row-major matrix around `mean`, as a d×d float64
 * matrix. Rows are centered in float32 and multiplied on core's GEMM chunk by chunk
 * (Xcᵀ·Xc of 4096 rows in float32, the chunks summed in float64): a pure JavaScript triple
 * loop takes seconds for 8,000 × 784, the GEMM a fraction of that.
 */
export function covariance(x: Float32Array, n: number, d: number, mean: Float64Array): Float64Array {
  const cov = new Float64Array(d * d);
  const buf = new Float32Array(Math.min(n, CHUNK_ROWS) * d);
  for (let start = 0; start < n; start += CHUNK_ROWS) {
    const rows = Math.min(CHUNK_ROWS, n - start);
    const chunk = centeredRows(x, start, rows, d, mean, buf);
    const part = scope(() => {
      const xc = tensor(chunk, [rows, d]);
      return matmul(xc, xc, { transposeA: true }).data();
    });
    for (let k = 0; k < cov.length; k++) cov[k] += part[k];
  }
  // Symmetrize (the float32 product is symmetric up to rounding) and scale.
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = (cov[i * d + j] + cov[j * d + i]) / (2 * n);
      cov[i * d + j] = v;
      cov[j * d + i] = v;
    }
  }
  return cov;
}

/**
 * (x − shift) · w for an n×d row-major x and a d×k matrix w, on core's GEMM in row chunks.
 * Returns an n×k float32 matrix.
 */
export function centeredProduct(x: Float32Array, n: number, d: number, shift: Float32Array, w: Float32Array, k: number): Float32Array {
  if (w.length !== d * k) throw new ShapeError(`centeredProduct: w has ${w.length} values, expected ${d}×${k}`);
  const out = new Float32Array(n * k);
  if (n === 0) return out;
  const buf = new Float32Array(Math.min(n, CHUNK_ROWS) * d);
  scope(() => {
    const wt = tensor(w, [d, k]);
    for (let start = 0; start < n; start += CHUNK_ROWS) {
      const rows = Math.min(CHUNK_ROWS, n - start);
      const chunk = centeredRows(x, start, rows, d, shift, buf);
      scope(() => out.set(matmul(tensor(chunk, [rows, d]), wt).view(), start * k));
    }
  });
  return out;
}

export interface Eigen {
  /** Eigenvalues in descending order. */
  values: Float64Array;
  /**
   * Eigenvectors as the rows of an n×n row-major matrix (row j belongs to values[j]), of unit
   * length, each signed so that its largest-magnitude component is positive (a deterministic
   * choice, so fitted PCA components do not flip between runs).
   */
  vectors: Float64Array;
}

/**
 * Eigendecomposition of a symmetric n×n matrix (row-major; only symmetry is assumed, not
 * checked): Householder reduction to tridiagonal form, then the QL algorithm with implicit
 * shifts. About 3n³ multiply-adds, all in float64 (n = 784: a few seconds in JavaScript).
 *
 * see: the EISPACK routines tred2 and tql2 (Smith et al. 1976), as given in the public-domain
 * JAMA library (NIST / MathWorks, EigenvalueDecomposition.java). Cyclic Jacobi is simpler but
 * needs ~4n³ work per sweep and 6–10 sweeps: several times slower at n = 784.
 */
export function eigh(a: ArrayLike<number>, n: number): Eigen {
  if (a.length !== n * n) throw new ShapeError(`eigh: expected ${n}×${n} = ${n * n} values, got ${a.length}`);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  if (n === 0) return { values, vectors };
  // An index whose row (and so column) is all zero decouples: its unit vector is an
  // eigenvector with eigenvalue 0. Covariances of images have many (MNIST: the 67 border
  // pixels that are always 0), and the work is cubic in what is left.
  const active: number[] = [];
  for (let i = 0; i < n; i++) {
    let zero = true;
    for (let j = 0; j < n && zero; j++) zero = a[i * n + j] === 0;
    if (!zero) active.push(i);
  }
  const m = active.length;
  // w is the transform Vᵀ throughout (row j = column j of V): every inner loop then walks
  // memory contiguously. For the symmetric input, Vᵀ starts as A itself.
  const w = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) w[i * m + j] = a[active[i] * n + active[j]];
  const d = new Float64Array(m);
  const e = new Float64Array(m);
  if (m > 0) {
    tred2(w, d, e, m);
    tql2(w, d, e, m);
  }
  // Candidates: the m computed pairs, then the decoupled unit vectors (eigenvalue 0).
  const inactive: number[] = [];
  for (let i = 0, next = 0; i < n; i++) {
    if (active[next] === i) next++;
    else inactive.push(i);
  }
  const value = (c: number): number => (c < m ? d[c] : 0);
  const order = Array.from({ length: n }, (_, i) => i).sort((p, q) => value(q) - value(p) || p - q);
  order.forEach((c, dst) => {
    values[dst] = value(c);
    const out = dst * n;
    if (c >= m) {
      vectors[out + inactive[c - m]] = 1;
      return;
    }
    let big = 0;
    for (let k = 0; k < m; k++) if (Math.abs(w[c * m + k]) > Math.abs(big)) big = w[c * m + k];
    const sign = big < 0 ? -1 : 1;
    for (let k = 0; k < m; k++) vectors[out + active[k]] = sign * w[c * m + k];
  });
  return { values, vectors };
}

/**
 * Householder tridiagonalization (JAMA's tred2 with V[r][c] stored at w[c·n + r]): on return
 * d is the diagonal, e the subdiagonal (e[0] = 0), w the accumulated transform, transposed.
 */
function tred2(w: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = w[j * n + n - 1];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = w[j * n + i - 1];
        w[j * n + i] = 0;
        w[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // Similarity transform of the remaining columns: a symmetric matrix-vector product
      // over the lower triangle.
      for (let j = 0; j < i; j++) {
        const row = j * n;
        f = d[j];
        w[i * n + j] = f;
        g = e[j] + w[row + j] * f;
        for (let k = j + 1; k < i; k++) {
          const vkj = w[row + k];
          g += vkj * d[k];
          e[k] += vkj * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      // Rank-2 update.
      for (let j = 0; j < i; j++) {
        const row = j * n;
        f = d[j];
        g = e[j];
        for (let k = j; k < i; k++) w[row + k] -= f * e[k] + g * d[k];
        d[j] = w[row + i - 1];
        w[row + i] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    w[i * n + n - 1] = w[i * n + i];
    w[i * n + i] = 1;
    const h = d[i + 1];
    const hv = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = w[hv + k] / h;
      for (let j = 0; j <= i; j++) {
        const row = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += w[hv + k] * w[row + k];
        for (let k = 0; k <= i; k++) w[row + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) w[hv + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = w[j * n + n - 1];
    w[j * n + n - 1] = 0;
  }
  w[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** QL with implicit shifts on the tridiagonal (d, e); z holds the transform transposed (rows = eigenvectors). */
function tql2(z: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 100) throw new Error('eigh: the QL iteration did not converge (is the matrix finite?)');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const a = (i + 1) * n;
          const b = i * n;
          for (let k = 0; k < n; k++) {
            h = z[a + k];
            z[a + k] = s * z[b + k] + c * h;
            z[b + k] = c * z[b + k] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}
