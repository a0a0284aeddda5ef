// How far apart the model puts related and unrelated texts: the cosine similarities of positive
// pairs (anchor–positive, or same label) against negative pairs (anchor–negative, or different
// labels), as histograms over [-1, 1], mean and standard deviation, and the separation
//   AUC = P(a positive pair scores above a negative pair) + ½ P(tie),
// the Mann–Whitney U statistic over n_pos · n_neg, computed exactly (sort, binary search), not
// from the binned histogram.
import { EngineError } from '../../../shared/errors.js';
import { mulberry32 } from '../../../shared/random.js';

export const DEFAULT_BINS = 40;
// Cosines of unit float32 rows overshoot ±1 by rounding (1.0000001); further out means the
// rows were not normalised, which the report counts rather than hides.
const RANGE_SLACK = 1e-4;

export interface Distribution {
  count: number;
  /** NaN when count is 0. */
  mean: number;
  /** Population standard deviation (÷ n); NaN when count is 0. */
  std: number;
  /** Counts per bin; bin i covers [-1 + 2i/bins, -1 + 2(i+1)/bins), the last one closed at 1. */
  histogram: number[];
  /** Values beyond [-1, 1] by more than rounding; they are counted in the edge bins. */
  outOfRange: number;
}

export function distribution(values: ArrayLike<number>, bins = DEFAULT_BINS): Distribution {
  if (!Number.isInteger(bins) || bins < 1) throw new EngineError('BAD_INPUT', `histogram bins ${bins} must be a positive integer, e.g. 40`, { setting: 'bins' });
  const histogram = new Array<number>(bins).fill(0);
  let sum = 0, outOfRange = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    sum += v;
    if (v < -1 - RANGE_SLACK || v > 1 + RANGE_SLACK) outOfRange++;
    histogram[Math.min(bins - 1, Math.max(0, Math.floor(((v + 1) / 2) * bins)))]++;
  }
  const n = values.length;
  const mean = n > 0 ? sum / n : NaN;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  return { count: n, mean, std: n > 0 ? Math.sqrt(ss / n) : NaN, histogram, outOfRange };
}

/** Exact P(pos > neg) + ½ P(pos = neg); null when either side is empty. */
export function rocAuc(pos: ArrayLike<number>, neg: ArrayLike<number>): number | null {
  if (pos.length === 0 || neg.length === 0) return null;
  const sorted = Float64Array.from(neg).sort();
  const countBelow = (v: number, strict: boolean) => {
    let lo = 0, hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (strict ? sorted[mid] < v : sorted[mid] <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  let u = 0;
  for (let i = 0; i < pos.length; i++) {
    const below = countBelow(pos[i], true);
    u += below + (countBelow(pos[i], false) - below) / 2;
  }
  return u / (pos.length * neg.length);
}

export interface SimilarityReport {
  /** What the two sides are, for the UI: e.g. 'anchor–positive' and 'anchor–negative'. */
  positiveKind: string;
  negativeKind: string;
  bins: number;
  positive: Distribution;
  negative: Distribution;
  auc: number | null;
}

export function similarityReport(pos: ArrayLike<number>, neg: ArrayLike<number>, kinds: { positive: string; negative: string }, bins = DEFAULT_BINS): SimilarityReport {
  return { positiveKind: kinds.positive, negativeKind: kinds.negative, bins, positive: distribution(pos, bins), negative: distribution(neg, bins), auc: rocAuc(pos, neg) };
}

/** The metrics with 'similarity_auc' added when the AUC is defined. */
export function withAuc(metrics: Record<string, number>, s: SimilarityReport): Record<string, number> {
  return s.auc === null ? metrics : { ...metrics, similarity_auc: s.auc };
}

/** Dot product of row i of a and row j of b. */
export function rowDot(a: Float32Array, i: number, b: Float32Array, j: number, dim: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) s += a[i * dim + d] * b[j * dim + d];
  return s;
}

/**
 * Cosines of same-label and different-label pairs among unit rows. All n(n-1)/2 pairs when
 * that is at most maxPairs; otherwise maxPairs pairs drawn uniformly (i ≠ j) with the seeded
 * generator, so the cost stays bounded on large datasets and a rerun draws the same pairs.
 */
export function labelPairSimilarities(
  rows: Float32Array,
  dim: number,
  labels: readonly string[],
  opts: { maxPairs?: number; seed?: number } = {},
): { same: number[]; different: number[] } {
  const n = labels.length;
  const maxPairs = opts.maxPairs ?? 20_000;
  const same: number[] = [];
  const different: number[] = [];
  const add = (i: number, j: number) => (labels[i] === labels[j] ? same : different).push(rowDot(rows, i, rows, j, dim));
  if ((n * (n - 1)) / 2 <= maxPairs) {
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) add(i, j);
  } else {
    const rand = mulberry32(opts.seed ?? 42);
    for (let p = 0; p < maxPairs; p++) {
      const i = Math.floor(rand() * n);
      const j = (i + 1 + Math.floor(rand() * (n - 1))) % n; // uniform over the other n - 1 rows
      add(i, j);
    }
  }
  return { same, different };
}
