// Numeric gradient check by central differences, for ops, layers and plugins alike.
import { Rng } from './rng.js';
import { tensor } from './creation.js';
import { type Tensor, noGrad, scope } from './tensor.js';

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-2: float32 needs a large step). */
  eps?: number;
  /** Absolute tolerance (default 1e-3). */
  atol?: number;
  /** Relative tolerance (default 1e-2). */
  rtol?: number;
  /** Check at most this many entries per input, chosen at random (default: all, up to 200). */
  maxEntries?: number;
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  /** Largest |analytic − numeric| − (atol + rtol·|numeric|) seen; ≤ 0 when ok. */
  worst: number;
  failures: { input: number; index: number; analytic: number; numeric: number }[];
}

/**
 * Compares backward() with central differences of `fn` at `inputs`. A non-scalar output is
 * reduced to Σ wᵢ·outᵢ with fixed random weights, accumulated in float64.
 *
 * @example
 * const x = randn([3, 4], { seed: 1 }).setRequiresGrad();
 * expect(gradcheck((a) => tanh(a), [x]).ok).toBe(true);
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  const { eps = 1e-2, atol = 1e-3, rtol = 1e-2, maxEntries = 200, seed = 0 } = options;
  const rng = new Rng(seed);
  let weights: Float64Array | null = null;
  const objective = (): number =>
    scope(() => {
      const out = fn(...inputs).data();
      if (weights === null) weights = Float64Array.from(out, () => rng.uniform() * 2 - 1);
      let total = 0;
      for (let i = 0; i < out.length; i++) total += out[i] * weights[i];
      return total;
    });
  // Analytic: backward of the weighted sum.
  for (const x of inputs) x.zeroGrad();
  objective();
  scope(() => {
    const out = fn(...inputs);
    out.backward(tensor(new Float32Array(weights!), out.shape));
  });
  const result: GradcheckResult = { ok: true, worst: -Infinity, failures: [] };
  inputs.forEach((x, inputIndex) => {
    if (!x.requiresGrad) return;
    const analytic = x.grad?.data() ?? new Float32Array(x.size);
    const indices = Array.from({ length: x.size }, (_, i) => i);
    if (indices.length > maxEntries) rng.shuffle(indices);
    for (const index of indices.slice(0, maxEntries)) {
      const original = x.view()[index];
      const at = (value: number): number => {
        x.view()[index] = value;
        return noGrad(objective);
      };
      const numeric = (at(original + eps) - at(original - eps)) / (2 * eps);
      x.view()[index] = original;
      const excess = Math.abs(analytic[index] - numeric) - (atol + rtol * Math.abs(numeric));
      result.worst = Math.max(result.worst, excess);
      if (!(excess <= 0)) {
        result.ok = false;
        if (result.failures.length < 10) result.failures.push({ input: inputIndex, index, analytic: analytic[index], numeric });
      }
    }
  });
  for (const x of inputs) x.zeroGrad();
  return result;
}
