// k-nearest-neighbour classification of labelled texts by cosine similarity (the rows passed
// in are L2-normalised, so the searcher's dot products are cosines), and the usual report:
// accuracy, per-class precision / recall / F1, macro averages and the confusion matrix.
// Definitions follow scikit-learn's classification_report with zero_division=0: a class with
// no predictions has precision 0, one with no true rows recall 0, and F1 = 0 when P + R = 0;
// the macro average runs over the union of true and predicted labels.
import { EngineError } from '../../../shared/errors.js';
import type { SearchFn } from '../search/top-k.js';

/**
 * Majority vote over neighbour labels given nearest first. Tie-break: of the labels with the
 * most votes, the one whose nearest neighbour ranks first wins — i.e. 1-NN among the tied
 * labels. It is deterministic and needs no label order (sklearn's "first label in sorted
 * order" would favour whichever class sorts first).
 */
export function majorityVote(labels: readonly string[]): string {
  if (labels.length === 0) throw new EngineError('INTERNAL', 'majorityVote needs at least one neighbour');
  const votes = new Map<string, number>();
  for (const l of labels) votes.set(l, (votes.get(l) ?? 0) + 1);
  let best = labels[0];
  // Map iteration is in first-appearance order = rank order of each label's nearest neighbour,
  // so a strict `>` keeps the earlier label on ties.
  for (const [l, n] of votes) if (n > votes.get(best)!) best = l;
  return best;
}

export interface KnnInput {
  /** [nq, dim] query rows, L2-normalised. */
  queries: Float32Array;
  /** [nr, dim] labelled reference rows, L2-normalised. */
  reference: Float32Array;
  dim: number;
  referenceLabels: readonly string[];
  /** Neighbours that vote. */
  k: number;
  search: SearchFn;
  /**
   * Leave-one-out: a group id per query and per reference row. A query never takes a vote
   * from a reference row of its own group — its own row, and its duplicates, which would
   * otherwise vote for their own label at similarity 1.
   */
  queryGroups?: readonly number[];
  referenceGroups?: readonly number[];
}

/** Predicted label per query. */
export async function knnClassify(input: KnnInput): Promise<string[]> {
  const { queries, reference, dim, referenceLabels, k, queryGroups, referenceGroups } = input;
  if (!Number.isInteger(k) || k < 1) throw new EngineError('BAD_INPUT', `k-NN k ${k} must be a positive integer, e.g. 5`, { setting: 'knnK' });
  const nq = queries.length / dim;
  if (referenceLabels.length !== reference.length / dim) {
    throw new EngineError('INTERNAL', `${referenceLabels.length} labels for ${reference.length / dim} reference rows`);
  }
  const loo = queryGroups !== undefined && referenceGroups !== undefined;
  // Search past the largest group so that, after dropping a query's own group, k remain.
  let extra = 0;
  if (loo) {
    const size = new Map<number, number>();
    for (const g of referenceGroups) size.set(g, (size.get(g) ?? 0) + 1);
    extra = Math.max(0, ...size.values());
  }
  const top = await input.search(queries, reference, dim, k + extra);
  const predicted: string[] = [];
  for (let q = 0; q < nq; q++) {
    const votes: string[] = [];
    for (let j = 0; j < top.k && votes.length < k; j++) {
      const r = top.indices[q * top.k + j];
      if (loo && referenceGroups[r] === queryGroups[q]) continue;
      votes.push(referenceLabels[r]);
    }
    if (votes.length === 0) {
      throw new EngineError('BAD_INPUT', `query ${q} has no labelled neighbour outside its own text; k-NN evaluation needs at least two distinct texts. Fix: add labelled rows.`);
    }
    predicted.push(majorityVote(votes));
  }
  return predicted;
}

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** Rows whose true label is this class. */
  support: number;
  /** Rows predicted as this class. */
  predicted: number;
}

export interface ClassificationReport {
  accuracy: number;
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  perClass: Record<string, ClassScores>;
  /** Sorted labels (union of true and predicted); matrix[t][p] counts rows of true label t predicted p. */
  confusion: { labels: string[]; matrix: number[][] };
}

export function classificationReport(truth: readonly string[], predicted: readonly string[]): ClassificationReport {
  if (truth.length !== predicted.length) throw new EngineError('INTERNAL', `${truth.length} true labels but ${predicted.length} predictions`);
  if (truth.length === 0) throw new EngineError('BAD_INPUT', 'no labelled rows to evaluate. Fix: give a dataset with labelled rows (or a split with eval rows).');
  const labels = [...new Set([...truth, ...predicted])].sort();
  const at = new Map(labels.map((l, i) => [l, i]));
  const matrix = labels.map(() => new Array<number>(labels.length).fill(0));
  let correct = 0;
  truth.forEach((t, i) => {
    matrix[at.get(t)!][at.get(predicted[i])!]++;
    if (t === predicted[i]) correct++;
  });
  const perClass: Record<string, ClassScores> = {};
  let sp = 0, sr = 0, sf = 0;
  labels.forEach((l, i) => {
    const tp = matrix[i][i];
    const support = matrix[i].reduce((a, b) => a + b, 0);
    const pred = matrix.reduce((a, row) => a + row[i], 0);
    const precision = pred > 0 ? tp / pred : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[l] = { precision, recall, f1, support, predicted: pred };
    sp += precision;
    sr += recall;
    sf += f1;
  });
  const n = labels.length;
  return { accuracy: correct / truth.length, macroPrecision: sp / n, macroRecall: sr / n, macroF1: sf / n, perClass, confusion: { labels, matrix } };
}
