// Metrics over a batch of scores [batch, classes] and integer labels. They return counts
// so that epoch figures are exact sums over batches, not means of means.

/** Number of rows whose highest score is the label. */
export function correctCount(scores: Float32Array, labels: ArrayLike<number>, classes: number): number {
  return topKCount(scores, labels, classes, 1);
}

/** Number of rows whose label is among the k highest scores (a tie at the boundary counts as a hit, as in TF's in_top_k). */
export function topKCount(scores: Float32Array, labels: ArrayLike<number>, classes: number, k: number): number {
  let hits = 0;
  for (let r = 0; r < labels.length; r++) {
    const row = r * classes;
    const target = scores[row + labels[r]];
    let above = 0;
    for (let c = 0; c < classes; c++) if (scores[row + c] > target) above++;
    if (above < k) hits++;
  }
  return hits;
}
