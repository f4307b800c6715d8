// Timing shared by the benchmarks: per-run rates of a call, and their summary in the shared
// record format (../shared/DESIGN.md).

/**
 * Rates (`units` per second) of `call`, one per timed run. A warm-up first — about
 * `warmupMs`, at most `warmupCalls` calls, at least one — so V8 has tiered the code up; then
 * each run repeats the call back to back for about `runMs`. `runs` runs, or when it is not
 * given as many as fit `figureMs` of timing (3 to 7).
 */
export function rates(call, units, { runMs = 150, runs, figureMs = 2500, warmupMs = 300, warmupCalls = 20 } = {}) {
  let once = Infinity;
  let spent = 0;
  for (let w = 0; w < warmupCalls && spent < warmupMs; w++) {
    const t0 = performance.now();
    call();
    const dt = performance.now() - t0;
    once = Math.min(once, dt);
    spent += dt;
  }
  const reps = Math.max(1, Math.round(runMs / once));
  const count = runs ?? Math.min(7, Math.max(3, Math.floor(figureMs / (reps * once))));
  const out = [];
  for (let r = 0; r < count; r++) {
    const t0 = performance.now();
    for (let q = 0; q < reps; q++) call();
    out.push((units * reps * 1000) / (performance.now() - t0));
  }
  return out;
}

/** The median run as `value`, the slowest and fastest as `min` and `max`, each passed through `round`. */
export function summary(values, round = (x) => Number(x.toPrecision(4))) {
  const s = [...values].sort((a, b) => a - b);
  return { value: round(s[s.length >> 1]), min: round(s[0]), max: round(s[s.length - 1]), runs: s.length };
}

/**
 * A repeatable, comma-separated filter flag of a benchmark's command line (--case mlp --case
 * cnn, --case mlp,cnn): the known values asked for, in known order, all by default; an unknown
 * one ends the process with exit code 2, naming the known ones.
 */
export function listFlag(argv, bench, name, known) {
  const wanted = argv.flatMap((a, i) => (a === `--${name}` ? (argv[i + 1] ?? '').split(',').filter(Boolean) : []));
  const unknown = wanted.find((w) => !known.includes(w));
  if (unknown !== undefined) {
    console.error(`${bench}: unknown --${name} '${unknown}' — known: ${known.join(', ')}`);
    process.exit(2);
  }
  return wanted.length > 0 ? known.filter((k) => wanted.includes(k)) : known;
}

/**
 * The thread counts of `--threads-list 1,2,4,8` (each from 1 to the machine's cores), or by
 * default 1, 2, 4, … up to the cores, and the cores themselves.
 */
export function threadsFlag(argv, bench, cores) {
  const at = argv.indexOf('--threads-list');
  if (at < 0) {
    const counts = [];
    for (let n = 1; n < cores; n *= 2) counts.push(n);
    return [...counts, cores];
  }
  const counts = (argv[at + 1] ?? '').split(',').filter(Boolean).map(Number);
  const bad = counts.find((n) => !Number.isInteger(n) || n < 1 || n > cores);
  if (counts.length === 0 || bad !== undefined) {
    console.error(`${bench}: --threads-list takes thread counts from 1 to ${cores} (this machine's cores), like 1,2,4; got '${argv[at + 1] ?? ''}'`);
    process.exit(2);
  }
  return [...new Set(counts)].sort((a, b) => a - b);
}
