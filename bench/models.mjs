// The MNIST models the benchmarks share, as layer specs: the MLP 784-256-128-10 and the CNN
// conv5×5×8 → pool → conv5×5×16 → pool → dense 10 (the bench:train cases).
export const MNIST_MODELS = {
  mlp: [{ name: 'flatten' }, { name: 'dense', config: { units: 256, activation: 'relu' } }, { name: 'dense', config: { units: 128, activation: 'relu' } }, { name: 'dense', config: { units: 10 } }],
  cnn: [
    { name: 'conv2d', config: { filters: 8, kernelSize: 5, padding: 'same', activation: 'relu' } }, { name: 'maxPool2d', config: { poolSize: 2 } },
    { name: 'conv2d', config: { filters: 16, kernelSize: 5, padding: 'same', activation: 'relu' } }, { name: 'maxPool2d', config: { poolSize: 2 } },
    { name: 'flatten' }, { name: 'dense', config: { units: 10 } },
  ],
};

/** `--runs N` of a benchmark's command line, or `fallback`. */
export function runsFlag(argv, fallback) {
  const at = argv.indexOf('--runs');
  return at >= 0 ? Number(argv[at + 1]) : fallback;
}
