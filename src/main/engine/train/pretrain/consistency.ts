// Consistency-based filtering of weak pairs (E5, Wang et al. 2022, §3.1): a model trained on
// the noisy pairs ranks, for each pair's query, every passage of the pool; the pair is kept
// only if its own passage comes out near the top. E5 kept pairs whose passage was in the top 2
// among 1M sampled passages, on the observation that deep networks fit the clean pairs first
// (memorisation of noise comes later), so a once-trained model's agreement marks the clean
// ones. With a domain corpus the pool is every distinct positive of the run; a pair survives
// at rank <= topK, and of the survivors the best `keep` fraction of all pairs is kept (rank
// first, then the positive's score), so the filter both cleans and concentrates.
//
// The embedder and the searcher are injected (openModelTools in a run; hand-made embeddings
// and bruteForceTopK in tests).

import { PRETRAIN_RANGES, rangeProblem } from '../../../../shared/setting-ranges.js';
import { EngineError } from '../../../../shared/errors.js';
import type { SearchFn } from '../../search/top-k.js';

export interface ConsistencyOptions {
  /** Embeddings of `texts` for a role, [texts.length, dim] row-major, L2-normalised. */
  embed: (texts: string[], role: 'query' | 'document') => Promise<Float32Array>;
  search: SearchFn;
  /** A pair survives when its positive ranks <= topK for its anchor (E5: 2). */
  topK: number;
  /** Fraction of all pairs kept at most (0 < keep <= 1); survivors beyond it go, worst-ranked first. */
  keep: number;
}

export interface PairVerdict {
  /** 1-based rank of the pair's positive among the pool for its anchor; null when beyond topK. */
  rank: number | null;
  /** The positive's similarity to the anchor when ranked, else null. */
  score: number | null;
  kept: boolean;
}

export interface ConsistencyResult {
  verdicts: PairVerdict[];
  /** Indices of the kept pairs, in their original order. */
  kept: number[];
  counts: { pairs: number; pool: number; withinTopK: number; kept: number };
}

export function checkConsistencyOptions(topK: number, keep: number): void {
  if (!Number.isInteger(topK) || topK < 1) throw new EngineError('BAD_INPUT', `--top-k ${topK} must be a positive integer, e.g. 2 (E5's threshold)`, { setting: 'top-k' });
  if (!(keep > 0 && keep <= 1)) throw new EngineError('BAD_INPUT', `--keep ${keep} must be a fraction in (0, 1], e.g. 0.5`, { setting: 'keep' });
  const problem = rangeProblem(topK, PRETRAIN_RANGES.topK, { cores: 1 });
  if (problem) throw new EngineError('BAD_INPUT', `${problem} Fix: give --top-k a value in that range, e.g. 2 (E5's threshold).`, { setting: 'top-k' });
}

export async function consistencyFilter(pairs: readonly { anchor: string; positive: string }[], o: ConsistencyOptions): Promise<ConsistencyResult> {
  checkConsistencyOptions(o.topK, o.keep);
  if (pairs.length === 0) throw new EngineError('BAD_INPUT', 'consistency filtering got no pairs; build pairs from documents first');
  // Distinct texts, embedded once each: anchors repeat (a common heading), positives too.
  const anchors = distinct(pairs.map((p) => p.anchor));
  const pool = distinct(pairs.map((p) => p.positive));
  const q = await o.embed(anchors.texts, 'query');
  const c = await o.embed(pool.texts, 'document');
  const dim = c.length / pool.texts.length;
  if (!Number.isInteger(dim) || dim < 1 || q.length !== dim * anchors.texts.length) {
    throw new EngineError('INTERNAL', `embed returned ${q.length} and ${c.length} values for ${anchors.texts.length} anchors and ${pool.texts.length} documents: not whole rows of one width`);
  }
  // One more than topK: the anchor's own text may sit in the pool (adjacent pairs chain, so
  // paragraph i+1 is one pair's positive and the next pair's anchor) and would rank itself
  // first; it is skipped below rather than counted against the real positive.
  const top = await o.search(q, c, dim, Math.min(o.topK + 1, pool.texts.length));
  const verdicts: PairVerdict[] = pairs.map((p) => {
    const row = anchors.index.get(p.anchor)!;
    const self = pool.index.get(p.anchor);
    const want = pool.index.get(p.positive)!;
    let rank = 0;
    for (let j = 0; j < top.k && rank < o.topK; j++) {
      const idx = top.indices[row * top.k + j];
      if (idx === self) continue;
      rank++;
      if (idx === want) return { rank, score: top.scores[row * top.k + j], kept: false };
    }
    return { rank: null, score: null, kept: false };
  });
  const survivors = verdicts.map((_, i) => i).filter((i) => verdicts[i].rank !== null);
  // Best first: rank, then score, then original order: a total order, so ties cannot reorder the kept set between runs.
  survivors.sort((a, b) => verdicts[a].rank! - verdicts[b].rank! || verdicts[b].score! - verdicts[a].score! || a - b);
  const budget = Math.ceil(o.keep * pairs.length);
  const kept = survivors.slice(0, budget).sort((a, b) => a - b);
  for (const i of kept) verdicts[i].kept = true;
  return { verdicts, kept, counts: { pairs: pairs.length, pool: pool.texts.length, withinTopK: survivors.length, kept: kept.length } };
}

function distinct(all: string[]): { texts: string[]; index: Map<string, number> } {
  const index = new Map<string, number>();
  const texts: string[] = [];
  for (const t of all) {
    if (!index.has(t)) {
      index.set(t, texts.length);
      texts.push(t);
    }
  }
  return { texts, index };
}
