// Retrieval metrics with binary relevance, defined exactly as sentence-transformers'
// InformationRetrievalEvaluator.compute_metrics defines them
// (sentence_transformers/evaluation/InformationRetrievalEvaluator.py), so numbers from
// `embedsmith eval` compare with the ones users already have. For one query with R relevant
// documents and its ranked list (the top min(depth, corpus) hits):
//   accuracy@k  = 1 if any relevant document is in the top k, else 0
//   precision@k = (relevant in top k) / k     — divided by k even when fewer than k were returned
//   recall@k    = (relevant in top k) / R
//   mrr@k       = 1 / rank of the first relevant document if that rank ≤ k, else 0
//   ndcg@k      = DCG@k / IDCG@k, DCG = Σ_{rank i ≤ k} rel_i / log2(i + 1), IDCG the DCG of
//                 min(R, k) relevant documents at ranks 1 … min(R, k)
//   map@k       = AP@k = Σ_{relevant hit at rank r ≤ k} precision@r / min(k, R)
// The min(k, R) in AP@k is sentence-transformers' choice (`sum_precisions / min(k_val,
// len(query_relevant_docs))`): with R > k the classic AP (÷ R) could never reach 1 at cut-off k.
// Each metric is averaged over the queries that have at least one relevant document; like
// sentence-transformers (which drops them in its constructor) the others are left out, and
// here they are also counted.
import { EngineError } from '../../../shared/errors.js';

export interface Cutoffs {
  accuracy: number[];
  /** Precision and recall share their cut-offs, as in sentence-transformers. */
  precisionRecall: number[];
  mrr: number[];
  ndcg: number[];
  map: number[];
}

/** sentence-transformers' defaults, plus recall@100 (DESIGN §6 `eval --json`). */
export const DEFAULT_CUTOFFS: Cutoffs = { accuracy: [1, 3, 5, 10], precisionRecall: [1, 3, 5, 10, 100], mrr: [10], ndcg: [10], map: [100] };

/** The defaults with `k` (the CLI's --k) added to every list. */
export function cutoffsFor(k: number): Cutoffs {
  if (!Number.isInteger(k) || k < 1) throw new EngineError('BAD_INPUT', `k ${k} must be a positive integer, e.g. 10`, { setting: 'k' });
  const add = (ks: number[]) => [...new Set([...ks, k])].sort((a, b) => a - b);
  const d = DEFAULT_CUTOFFS;
  return { accuracy: add(d.accuracy), precisionRecall: add(d.precisionRecall), mrr: add(d.mrr), ndcg: add(d.ndcg), map: add(d.map) };
}

/** How deep a search must go for every cut-off to be exact. */
export function searchDepth(c: Cutoffs): number {
  return Math.max(...c.accuracy, ...c.precisionRecall, ...c.mrr, ...c.ndcg, ...c.map);
}

/** Metric names in sentence-transformers' reporting order: 'accuracy@1', …, 'map@100'. */
export function metricKeys(c: Cutoffs): string[] {
  return [
    ...c.accuracy.map((k) => `accuracy@${k}`),
    ...c.precisionRecall.map((k) => `precision@${k}`),
    ...c.precisionRecall.map((k) => `recall@${k}`),
    ...c.mrr.map((k) => `mrr@${k}`),
    ...c.ndcg.map((k) => `ndcg@${k}`),
    ...c.map.map((k) => `map@${k}`),
  ];
}

/** Σ_{i < min(len, k)} gains[i] / log2(i + 2): graded gains work too (the tests use Wikipedia's example). */
export function dcgAtK(gains: ArrayLike<number>, k: number): number {
  let dcg = 0;
  for (let i = 0; i < Math.min(gains.length, k); i++) dcg += gains[i] / Math.log2(i + 2);
  return dcg;
}

export interface QueryScores {
  /** 1-based rank of each relevant document, in the order given; null when not in the returned list. */
  ranks: (number | null)[];
  /** This query's value of every metric (keys as in metricKeys). */
  values: Record<string, number>;
}

/**
 * Scores one query. `retrieved`: corpus ids by descending score (no repeats); `relevant`:
 * distinct corpus ids (at least one).
 */
export function scoreQuery(retrieved: ArrayLike<number>, relevant: readonly number[], c: Cutoffs): QueryScores {
  const R = relevant.length;
  if (R === 0) throw new EngineError('INTERNAL', 'scoreQuery needs at least one relevant document; callers leave such queries out');
  const rankOf = new Map<number, number>();
  for (let i = 0; i < retrieved.length; i++) if (!rankOf.has(retrieved[i])) rankOf.set(retrieved[i], i + 1);
  const ranks = relevant.map((id) => rankOf.get(id) ?? null);
  const hitRanks = ranks.filter((r): r is number => r !== null).sort((a, b) => a - b);
  const hitsAt = (k: number) => {
    let n = 0;
    while (n < hitRanks.length && hitRanks[n] <= k) n++;
    return n;
  };
  const values: Record<string, number> = {};
  for (const k of c.accuracy) values[`accuracy@${k}`] = hitsAt(k) > 0 ? 1 : 0;
  for (const k of c.precisionRecall) values[`precision@${k}`] = hitsAt(k) / k;
  for (const k of c.precisionRecall) values[`recall@${k}`] = hitsAt(k) / R;
  for (const k of c.mrr) values[`mrr@${k}`] = hitRanks.length > 0 && hitRanks[0] <= k ? 1 / hitRanks[0] : 0;
  for (const k of c.ndcg) {
    // [0/1 per returned position] against R ones: the evaluator's own two compute_dcg_at_k calls.
    const gains = new Uint8Array(Math.min(k, retrieved.length));
    for (const r of hitRanks) if (r <= gains.length) gains[r - 1] = 1;
    values[`ndcg@${k}`] = dcgAtK(gains, k) / dcgAtK(new Uint8Array(R).fill(1), k);
  }
  for (const k of c.map) {
    let sum = 0;
    hitRanks.forEach((r, j) => {
      if (r <= k) sum += (j + 1) / r;
    });
    values[`map@${k}`] = sum / Math.min(k, R);
  }
  return { ranks, values };
}

export interface QueryRanking {
  /** Corpus ids by descending score. */
  retrieved: ArrayLike<number>;
  /** Distinct relevant corpus ids; an empty list leaves the query out of the averages. */
  relevant: readonly number[];
}

export interface RetrievalMetrics {
  /** Mean over the evaluated queries; every key is present, NaN when no query could be evaluated. */
  metrics: Record<string, number>;
  /** Per query, in input order; null for a query without relevant documents. */
  perQuery: (QueryScores | null)[];
  counts: { queries: number; evaluated: number; noRelevant: number };
}

export function retrievalMetrics(rankings: readonly QueryRanking[], c: Cutoffs): RetrievalMetrics {
  const keys = metricKeys(c);
  const sums = Object.fromEntries(keys.map((k) => [k, 0]));
  let evaluated = 0;
  const perQuery = rankings.map(({ retrieved, relevant }) => {
    if (relevant.length === 0) return null;
    const s = scoreQuery(retrieved, relevant, c);
    for (const k of keys) sums[k] += s.values[k];
    evaluated++;
    return s;
  });
  const metrics = Object.fromEntries(keys.map((k) => [k, evaluated > 0 ? sums[k] / evaluated : NaN]));
  return { metrics, perQuery, counts: { queries: rankings.length, evaluated, noRelevant: rankings.length - evaluated } };
}
