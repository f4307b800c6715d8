// `pnpm bench`: every benchmark in turn, one process each (so no run warms another's JIT
// or heap), with the same flags (--json) passed to each.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
let failed = 0;
for (const file of ['gemm.mjs', 'optim.mjs', 'augment.mjs', 'train.mjs', 'pretrained.mjs']) {
  const { status } = spawnSync(process.execPath, [new URL(file, import.meta.url).pathname, ...args], { stdio: 'inherit' });
  if (status !== 0) {
    failed++;
    console.error(`bench: ${file} exited with ${status}`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
