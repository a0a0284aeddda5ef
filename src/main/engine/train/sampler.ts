// Which examples go into which step. A text appearing twice in one batch would be its own
// in-batch negative (a false negative), so batches are filled as sentence-transformers'
// NoDuplicatesBatchSampler does: walk the epoch's order, take an example only if none of its
// texts is in the batch yet, leave it for a later batch otherwise. The last, smaller batch is
// kept (drop_last false). Shuffling is seeded per epoch; --no-shuffle keeps file order.

import { EngineError } from '../../../shared/errors.js';
import { mulberry32 } from '../../../shared/random.js';

export interface SamplerOptions {
  batchSize: number;
  shuffle: boolean;
  seed: number;
  /**
   * Labelled data (supervised contrastive loss): each example's label. The epoch order then
   * runs in pairs of same-label examples, so every batch holds ≥ 2 texts of most of its
   * labels (sentence-transformers' GroupByLabelBatchSampler idea); a label with one example
   * can still appear, alone, and contributes no positive.
   */
  labels?: readonly string[];
}

function shuffleInPlace<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** The epoch's order of example indices. */
export function epochOrder(count: number, epoch: number, o: SamplerOptions): number[] {
  // One stream per epoch: resuming at epoch e needs no replay of epochs before it.
  const rand = mulberry32((o.seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
  if (o.labels) {
    // Per label (in first-seen order), its examples (shuffled), cut into runs of two; the runs shuffled.
    const byLabel = new Map<string, number[]>();
    for (let i = 0; i < count; i++) {
      const l = o.labels[i];
      const list = byLabel.get(l);
      if (list) list.push(i);
      else byLabel.set(l, [i]);
    }
    const runs: number[][] = [];
    for (const list of byLabel.values()) {
      const items = o.shuffle ? shuffleInPlace([...list], rand) : list;
      for (let k = 0; k < items.length; k += 2) runs.push(items.slice(k, k + 2));
    }
    return (o.shuffle ? shuffleInPlace(runs, rand) : runs).flat();
  }
  const order = Array.from({ length: count }, (_, i) => i);
  return o.shuffle ? shuffleInPlace(order, rand) : order;
}

/** Batches of one epoch; `texts(i)` lists example i's texts (query, positive, negatives). */
export function epochBatches(texts: (i: number) => readonly string[], count: number, epoch: number, o: SamplerOptions): number[][] {
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) {
    throw new EngineError('BAD_INPUT', `--batch-size ${o.batchSize} must be a positive integer, e.g. 32`, { setting: 'batch-size' });
  }
  const order = epochOrder(count, epoch, o);
  // `order` with taken entries flagged, scanned from the first untaken one: each batch costs
  // about its size plus the examples it had to skip, not a pass over the whole epoch.
  const taken = new Uint8Array(order.length);
  let head = 0;
  const batches: number[][] = [];
  while (head < order.length) {
    const batch: number[] = [];
    const seen = new Set<string>();
    for (let k = head; k < order.length && batch.length < o.batchSize; k++) {
      if (taken[k]) continue;
      const ts = texts(order[k]);
      if (ts.some((t) => seen.has(t))) continue;
      taken[k] = 1;
      batch.push(order[k]);
      for (const t of ts) seen.add(t);
    }
    batches.push(batch);
    while (head < order.length && taken[head]) head++;
  }
  return batches;
}

/** The run's step plan: epochs back to back until `maxSteps` (if given) or `epochs` run out. */
export function planSteps(texts: (i: number) => readonly string[], count: number, o: SamplerOptions & { epochs: number; maxSteps?: number }): { epoch: number; examples: number[] }[] {
  if (count === 0) throw new EngineError('BAD_INPUT', 'the training set has no examples; check the dataset and its split', { setting: 'data' });
  const plan: { epoch: number; examples: number[] }[] = [];
  for (let epoch = 0; o.maxSteps !== undefined ? plan.length < o.maxSteps : epoch < o.epochs; epoch++) {
    for (const b of epochBatches(texts, count, epoch, o)) {
      if (o.maxSteps !== undefined && plan.length >= o.maxSteps) break;
      plan.push({ epoch, examples: b });
    }
  }
  return plan;
}
