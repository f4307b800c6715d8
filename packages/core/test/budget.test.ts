// A line budget keeps the core small enough to read in an afternoon (after tinygrad's
// sz.py). Raising it is a decision: say why in the commit.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// 4500 → 4800 (pretrained models): depthwise convolution is MobileNet's main op besides the
// 1×1 product, and no composition of the other kernels comes close (each channel its own
// filter: im2col would copy kh·kw× and GEMM would multiply by a block-diagonal matrix).
// 4800 → 5200 (training speed II): threads that scale on mini-batches need the pool's shared
// queue of parts (a late thread takes fewer instead of holding the call up), the GEMM's shared
// packing (threads pack op(A) and op(B) once, together, then claim blocks of tiles) and
// elementwise kernels cut into ranges over many tensors at once (an optimizer step); and the
// passes over activations that dominate a CNN's step outside the convolutions are fused
// kernels: batch normalization (2 passes each way instead of about 12), a layer's bias +
// activation, and column sums of narrow rows with the running values in registers.
// 5200 → 5400 (training speed II, the CNN at PyTorch's speed): a first layer on grayscale
// images (one input channel) gets its own direct kernels, pixels in the SIMD lanes forward
// and taps in registers for the filter gradient (1.25× and 1.65× on MNIST's first layer);
// the strip kernels leave one channel 5-step loops and rows of broadcast loads.
// 5400 → 5420 (training speed II, the MLP on 2 threads): the shared GEMM chooses its grid of
// tile blocks by what the slowest thread computes (the grid square in bytes had 3 or 9 blocks
// for the MLP's products, and one thread of 2 computed 5 of 9), and backward() makes a
// parameter's fresh gradient its .grad instead of copying it.
const BUDGET = 5420;
const root = new URL('..', import.meta.url).pathname;

function codeLines(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += codeLines(path);
    else if (entry.name.endsWith('.ts')) {
      total += readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//')).length;
    }
  }
  return total;
}

describe('the core', () => {
  it(`stays within ${BUDGET} lines of code (src/ and assembly/, without blanks and comments)`, () => {
    const lines = codeLines(join(root, 'src')) + codeLines(join(root, 'assembly'));
    console.log(`core: ${lines} lines of code (budget ${BUDGET})`);
    expect(lines).toBeLessThanOrEqual(BUDGET);
  });
});
