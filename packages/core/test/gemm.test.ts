// assembly/gemm.ts against a float64 naive reference, in both kernel builds.
//
// Tolerance: every element of C must satisfy |C − ref| ≤ TOL · (Σ_p |a_ip·b_pj| + |C0_ij|),
// with TOL = 1e-5 and ref computed in float64. Float32 summation in any order stays below
// about k·2^-24 ≈ 1.5e-5 of that bound for k = 256 only in the worst case; in practice the
// blocked sums measure under 1e-6. A single missing, doubled or wrong product term moves an
// element by about 1/k of the bound (≥ 1/1100 here), far above TOL — see the last test.
//
// Memory a kernel must not read is filled with NaN (the gaps of A and B beyond each row,
// and C when it is overwritten), so reading it shows up as NaN; memory it must not write
// (the gaps of C, the bytes after the workspace) holds sentinels that are checked.
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/engine.js';

const TOL = 1e-5;
// The blocking of assembly/gemm.ts (SIMD build / scalar build): sizes below cross them.
// MR 5/4, NR 8/4, MC 60/128, KC 256, NC 1024.

type Variant = readonly [transA: 0 | 1, transB: 0 | 1];
const VARIANTS: Record<string, Variant> = { NN: [0, 0], NT: [0, 1], TN: [1, 0], TT: [1, 1] };

/** mulberry32: a small seeded generator so every run sees the same matrices. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface Case {
  m: number;
  n: number;
  k: number;
  /** Extra floats between rows of A, B and C (0: tightly packed). */
  pad?: number;
  accumulate?: boolean;
  /** Only for the self-test: the k the reference sums over (default k). */
  refK?: number;
}

interface Outcome {
  /** Largest |C − ref| / bound over the valid elements (NaN if any element is NaN). */
  worst: number;
  where: string;
  /** Whether any byte C must not touch (row gaps, memory around C, after the workspace) changed. */
  clobbered: string | null;
  c: Float32Array;
  ref: Float64Array;
  bound: Float64Array;
}

const GUARD = 16; // floats of sentinel around C and after the workspace
const SENTINEL = -12345.5;

function runGemm(e: Engine, [transA, transB]: Variant, { m, n, k, pad = 0, accumulate = false, refK = k }: Case, seed: number): Outcome {
  const rand = rng(seed);
  const aRows = transA ? k : m, aCols = transA ? m : k;
  const bRows = transB ? n : k, bCols = transB ? k : n;
  const lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
  const aLen = Math.max(1, aRows * lda), bLen = Math.max(1, bRows * ldb), cLen = m * ldc + 2 * GUARD;
  const scratchBytes = e.kernels.gemmScratchBytes();
  const pa = e.alloc(aLen * 4), pb = e.alloc(bLen * 4), pc = e.alloc(cLen * 4);
  const ps = e.alloc(scratchBytes + GUARD * 4);
  try {
    const A = e.f32(pa, aLen), B = e.f32(pb, bLen), C = e.f32(pc, cLen), S = e.f32(ps + scratchBytes, GUARD);
    A.fill(NaN);
    B.fill(NaN);
    for (let r = 0; r < aRows; r++) for (let q = 0; q < aCols; q++) A[r * lda + q] = rand() * 2 - 1;
    for (let r = 0; r < bRows; r++) for (let q = 0; q < bCols; q++) B[r * ldb + q] = rand() * 2 - 1;
    C.fill(SENTINEL);
    const c0 = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        c0[i * n + j] = accumulate ? rand() * 2 - 1 : NaN;
        C[GUARD + i * ldc + j] = c0[i * n + j];
      }
    }
    S.fill(SENTINEL);
    const before = C.slice();

    e.kernels.gemm(transA, transB, m, n, k, pa, lda, pb, ldb, pc + GUARD * 4, ldc, accumulate ? 1 : 0, ps);

    const out = e.f32(pc, cLen), after = e.f32(ps + scratchBytes, GUARD);
    const a = (i: number, p: number) => (transA ? A[p * lda + i] : A[i * lda + p]);
    const b = (p: number, j: number) => (transB ? B[j * ldb + p] : B[p * ldb + j]);
    const ref = new Float64Array(m * n), bound = new Float64Array(m * n), c = new Float32Array(m * n);
    let worst = 0, where = '';
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = accumulate ? c0[i * n + j] : 0;
        let t = accumulate ? Math.abs(c0[i * n + j]) : 0;
        for (let p = 0; p < refK; p++) {
          const x = a(i, p) * b(p, j);
          s += x;
          t += Math.abs(x);
        }
        const got = out[GUARD + i * ldc + j];
        const err = Math.abs(got - s);
        const ratio = err === 0 ? 0 : err / t; // t == 0 demands an exact result
        c[i * n + j] = got;
        ref[i * n + j] = s;
        bound[i * n + j] = t;
        if (!(ratio <= worst)) {
          worst = ratio;
          where = `C[${i}][${j}] = ${got}, expected ${s}`;
          if (Number.isNaN(ratio)) return finish();
        }
      }
    }
    return finish();

    function finish(): Outcome {
      let clobbered: string | null = null;
      for (let q = 0; q < cLen && clobbered === null; q++) {
        const inside = q >= GUARD && q < GUARD + m * ldc && (q - GUARD) % ldc < n;
        if (!inside && !Object.is(out[q], before[q])) clobbered = `C buffer float ${q - GUARD} (outside the m×n view)`;
      }
      for (let q = 0; q < GUARD && clobbered === null; q++) {
        if (after[q] !== SENTINEL) clobbered = `byte ${scratchBytes + 4 * q} past the workspace`;
      }
      return { worst, where, clobbered, c, ref, bound };
    }
  } finally {
    e.free(ps, scratchBytes + GUARD * 4);
    e.free(pc, cLen * 4);
    e.free(pb, bLen * 4);
    e.free(pa, aLen * 4);
  }
}

function check(e: Engine, variant: Variant, c: Case, seed = 1): void {
  const r = runGemm(e, variant, c, seed);
  const label = `${variant[0] ? 'T' : 'N'}${variant[1] ? 'T' : 'N'} m=${c.m} n=${c.n} k=${c.k} pad=${c.pad ?? 0}${c.accumulate ? ' accumulate' : ''}`;
  expect(r.clobbered, `${label}: wrote ${r.clobbered}`).toBeNull();
  expect(r.worst, `${label}: worst ${r.where}`).toBeLessThanOrEqual(TOL);
}

// Odd sizes: every mix of tile remainders (MR 4/5, NR 4/8), vectors (m or n = 1).
const ODD: [number, number, number][] = [
  [1, 1, 1], [1, 17, 3], [17, 1, 3], [3, 7, 13], [7, 13, 17], [13, 17, 33], [33, 65, 7],
  [65, 33, 100], [100, 129, 65], [129, 100, 17], [17, 257, 33], [257, 13, 65], [1, 257, 129],
  [257, 1, 129], [5, 8, 1], [10, 16, 2], [4, 4, 4], [20, 24, 31],
];

describe.each(['simd', 'scalar'] as const)('gemm, %s build', (build) => {
  let engine: Engine;
  const e = () => engine;

  it('loads the build and reports a 16-byte multiple of workspace', async () => {
    engine = await createEngine({ build });
    expect(engine.build).toBe(build);
    const bytes = engine.kernels.gemmScratchBytes();
    expect(bytes).toBeGreaterThan(0);
    expect(bytes % 16).toBe(0);
  });

  for (const [name, variant] of Object.entries(VARIANTS)) {
    it(`${name}: odd sizes, rows with gaps (lda, ldb, ldc > row length)`, () => {
      ODD.forEach(([m, n, k], i) => check(e(), variant, { m, n, k, pad: 3 + (i % 4) }, i + 1));
    });

    it(`${name}: tightly packed rows`, () => {
      for (const [m, n, k] of [[13, 17, 33], [64, 64, 64], [100, 129, 65]] as const) check(e(), variant, { m, n, k });
    });

    it(`${name}: accumulate adds to C (also across k blocks)`, () => {
      for (const [m, n, k] of [[1, 1, 1], [7, 13, 17], [33, 65, 100], [61, 9, 300]] as const) {
        check(e(), variant, { m, n, k, pad: 2, accumulate: true });
      }
    });

    it(`${name}: sizes crossing the MC, KC and NC block boundaries`, () => {
      // m = 61, 129 cross MC (60 / 128) and leave a partial tile; k = 257, 513 cross KC;
      // n = 1025 crosses NC = 1024, and 1037 leaves a partial NR strip in the second panel.
      check(e(), variant, { m: 61, n: 9, k: 513, pad: 1 });
      check(e(), variant, { m: 129, n: 33, k: 257 });
      check(e(), variant, { m: 7, n: 1025, k: 20, pad: 3 });
      check(e(), variant, { m: 130, n: 1037, k: 260, pad: 1, accumulate: name === 'TT' });
    });

    it(`${name}: narrow C computed as Cᵀ (convolution shapes), across NC, with accumulate`, () => {
      // n ≤ 64, m ≥ 4n, k ≥ 64 takes the transposed path; m = 1300 crosses NC there.
      check(e(), variant, { m: 1300, n: 20, k: 70, pad: 2 });
      check(e(), variant, { m: 300, n: 64, k: 257, accumulate: true });
      check(e(), variant, { m: 263, n: 33, k: 64, pad: 1 });
    });

    it(`${name}: C of at most 16 columns (only B packed; row blocks of 5 and 2), across KC, with accumulate`, () => {
      check(e(), variant, { m: 1003, n: 16, k: 600, pad: 1 });
      check(e(), variant, { m: 27, n: 7, k: 300, pad: 2, accumulate: true });
      check(e(), variant, { m: 3, n: 12, k: 1000, pad: 2 });
      check(e(), variant, { m: 263, n: 3, k: 64, pad: 1, accumulate: true });
      check(e(), variant, { m: 9, n: 8, k: 513 });
    });
  }

  it('k = 0 gives zeros, or leaves C unchanged when accumulating', () => {
    for (const variant of Object.values(VARIANTS)) {
      check(e(), variant, { m: 7, n: 9, k: 0, pad: 2 });
      check(e(), variant, { m: 7, n: 9, k: 0, pad: 2, accumulate: true });
    }
  });

  it('m = 0 or n = 0 writes nothing', () => {
    for (const variant of Object.values(VARIANTS)) {
      check(e(), variant, { m: 0, n: 9, k: 5, pad: 1 });
      check(e(), variant, { m: 7, n: 0, k: 5, pad: 1 });
    }
  });

  it('the check catches a kernel that drops one k step', () => {
    // The kernel sums k = 1100 steps; a reference over 1099 steps stands in for a kernel
    // with an off-by-one at a block edge. Each element then misses one product term.
    const r = runGemm(e(), VARIANTS.NT, { m: 9, n: 17, k: 1100, refK: 1099 }, 7);
    expect(r.worst).toBeGreaterThan(TOL);
    expect(runGemm(e(), VARIANTS.NT, { m: 9, n: 17, k: 1100 }, 7).worst).toBeLessThanOrEqual(TOL);
  });
});
