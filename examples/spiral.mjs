// The main job: a two-layer network learns the three-arm spiral of CS231n with mini-batch
// SGD, reshuffled every epoch. Run it with `pnpm start` (see the README).
import {
  Rng, add, gather, keep, matmul, mul, noGrad, randn, relu, scope, softmaxCrossEntropy, sub, tensor, zeros,
} from '@minibatch/core';

const rng = new Rng(0);

// 3 classes × 100 points on interleaved spiral arms, with noise.
const perClass = 100;
const classes = 3;
const points = [];
const labels = [];
for (let c = 0; c < classes; c++) {
  for (let i = 0; i < perClass; i++) {
    const r = i / perClass;
    const angle = c * 4 + r * 4 + rng.normal() * 0.2;
    points.push(r * Math.sin(angle), r * Math.cos(angle));
    labels.push(c);
  }
}
const n = labels.length;
const x = keep(tensor(points, [n, 2]));

// Parameters: He initialization for the ReLU layer (std = sqrt(2 / fan_in)).
const hidden = 100;
const w1 = keep(randn([2, hidden], { rng, std: Math.sqrt(2 / 2) }).setRequiresGrad());
const b1 = keep(zeros([hidden]).setRequiresGrad());
const w2 = keep(randn([hidden, classes], { rng, std: Math.sqrt(2 / hidden) }).setRequiresGrad());
const b2 = keep(zeros([classes]).setRequiresGrad());
const params = [w1, b1, w2, b2];

const forward = (input) => add(matmul(relu(add(matmul(input, w1), b1)), w2), b2);

const batchSize = 32;
const learningRate = 0.5;
const epochs = 200;
const order = Array.from({ length: n }, (_, i) => i);
const started = performance.now();

for (let epoch = 1; epoch <= epochs; epoch++) {
  rng.shuffle(order);
  let total = 0;
  for (let start = 0; start < n; start += batchSize) {
    const batch = order.slice(start, start + batchSize);
    total += scope(() => {
      const loss = softmaxCrossEntropy(forward(gather(x, batch)), batch.map((i) => labels[i]));
      loss.backward();
      noGrad(() => {
        for (const p of params) {
          p.assign(sub(p, mul(p.grad, learningRate)));
          p.zeroGrad();
        }
      });
      return loss.item() * batch.length;
    });
  }
  if (epoch === 1 || epoch % 20 === 0) console.log(`epoch ${String(epoch).padStart(3)}  loss ${(total / n).toFixed(4)}`);
}

const accuracy = scope(() => {
  const scores = forward(x).data();
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = scores.subarray(i * classes, (i + 1) * classes);
    if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
  }
  return correct / n;
});
const seconds = (performance.now() - started) / 1000;
console.log(`training accuracy ${(accuracy * 100).toFixed(1)}% after ${epochs} epochs (${seconds.toFixed(2)} s)`);
