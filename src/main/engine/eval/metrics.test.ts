import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../shared/random.js';
import { type Cutoffs, DEFAULT_CUTOFFS, cutoffsFor, dcgAtK, metricKeys, retrievalMetrics, scoreQuery, searchDepth } from './metrics.js';

const C: Cutoffs = { accuracy: [1, 3, 5], precisionRecall: [1, 3, 5, 10], mrr: [1, 10], ndcg: [5], map: [2, 100] };
const log2 = Math.log2;

describe('scoreQuery: hand-computed', () => {
  // Returned list [5, 2, 9, 1, 7]; relevant {2, 7, 8}: hits at ranks 2 and 5, document 8 never returned.
  const s = scoreQuery([5, 2, 9, 1, 7], [2, 7, 8], C);

  it('ranks each relevant document, null beyond the returned list', () => {
    expect(s.ranks).toEqual([2, 5, null]);
  });

  it('accuracy, precision, recall, mrr', () => {
    expect(s.values['accuracy@1']).toBe(0);
    expect(s.values['accuracy@3']).toBe(1);
    expect(s.values['precision@1']).toBe(0);
    expect(s.values['precision@3']).toBeCloseTo(1 / 3, 12);
    expect(s.values['precision@5']).toBeCloseTo(2 / 5, 12);
    // k larger than the list: still ÷ k, as sentence-transformers does → 2 / 10.
    expect(s.values['precision@10']).toBeCloseTo(0.2, 12);
    expect(s.values['recall@3']).toBeCloseTo(1 / 3, 12);
    expect(s.values['recall@5']).toBeCloseTo(2 / 3, 12);
    expect(s.values['recall@10']).toBeCloseTo(2 / 3, 12);
    expect(s.values['mrr@1']).toBe(0);
    expect(s.values['mrr@10']).toBe(0.5);
  });

  it('ndcg@5: ideal DCG over min(R=3, k=5) = 3 relevant at ranks 1..3', () => {
    // DCG = 1/log2(3) + 1/log2(6) = 0.63093 + 0.38685; IDCG = 1 + 1/log2(3) + 1/log2(4) = 2.13093 → 0.477624
    const want = (1 / log2(3) + 1 / log2(6)) / (1 + 1 / log2(3) + 1 / log2(4));
    expect(want).toBeCloseTo(0.477624, 6);
    expect(s.values['ndcg@5']).toBeCloseTo(want, 12);
  });

  it('map@k divides by min(k, R)', () => {
    // @2: only the hit at rank 2 counts, precision 1/2; ÷ min(2, 3) = 2 → 0.25
    expect(s.values['map@2']).toBeCloseTo(0.25, 12);
    // @100: (1/2 + 2/5) ÷ min(100, 3) = 0.9 / 3 = 0.3
    expect(s.values['map@100']).toBeCloseTo(0.3, 12);
  });
});

describe('published worked examples', () => {
  it("Wikipedia 'Discounted cumulative gain' example: DCG6 = 6.861, IDCG6 = 8.740, nDCG6 = 0.785", () => {
    // en.wikipedia.org/wiki/Discounted_cumulative_gain, "Example": graded relevances 3,2,3,0,1,2;
    // the ideal order of all judged documents starts 3,3,3,2,2,2.
    const dcg = dcgAtK([3, 2, 3, 0, 1, 2], 6);
    const idcg = dcgAtK([3, 3, 3, 2, 2, 2, 1, 0], 6);
    expect(dcg).toBeCloseTo(6.861, 3);
    expect(idcg).toBeCloseTo(8.74, 3);
    expect(dcg / idcg).toBeCloseTo(0.785, 3);
  });

  it('the MAP example of the Manning/Raghavan/Schütze IR-book lecture slides (Evaluation): 0.564, 0.623, MAP 0.594', () => {
    // Query 1: 5 relevant, found at ranks 1, 3, 6, 10, 20 → (1 + 2/3 + 3/6 + 4/10 + 5/20) / 5 = 0.56333
    // Query 2: 3 relevant, found at ranks 1, 3, 15 → (1 + 2/3 + 3/15) / 3 = 0.62222
    // The slides round each precision to two places first (0.67), hence 0.564, 0.623, 0.594.
    const list = Array.from({ length: 20 }, (_, i) => 100 + i); // ids 100..119 by rank
    const q1 = { retrieved: list, relevant: [1, 3, 6, 10, 20].map((r) => 99 + r) };
    const q2 = { retrieved: list, relevant: [1, 3, 15].map((r) => 99 + r) };
    const m = retrievalMetrics([q1, q2], DEFAULT_CUTOFFS);
    const ap1 = m.perQuery[0]!.values['map@100'];
    const ap2 = m.perQuery[1]!.values['map@100'];
    expect(ap1).toBeCloseTo((1 + 2 / 3 + 3 / 6 + 4 / 10 + 5 / 20) / 5, 12);
    expect(ap2).toBeCloseTo((1 + 2 / 3 + 3 / 15) / 3, 12);
    expect(ap1).toBeCloseTo(0.564, 2);
    expect(ap2).toBeCloseTo(0.623, 2);
    expect(m.metrics['map@100']).toBeCloseTo(0.594, 2);
  });
});

describe('retrievalMetrics', () => {
  it('averages over queries with relevant documents; counts the others', () => {
    const m = retrievalMetrics(
      [
        { retrieved: [5, 2, 9, 1, 7], relevant: [2, 7, 8] },
        { retrieved: [3, 4], relevant: [3] },
        { retrieved: [3, 4], relevant: [] },
      ],
      C,
    );
    expect(m.counts).toEqual({ queries: 3, evaluated: 2, noRelevant: 1 });
    expect(m.perQuery[2]).toBeNull();
    expect(m.metrics['mrr@10']).toBeCloseTo((0.5 + 1) / 2, 12);
    expect(m.metrics['recall@5']).toBeCloseTo((2 / 3 + 1) / 2, 12);
    expect(m.metrics['precision@10']).toBeCloseTo((2 / 10 + 1 / 10) / 2, 12);
    expect(m.metrics['ndcg@5']).toBeCloseTo((0.4776237035 + 1) / 2, 9);
    expect(Object.keys(m.metrics)).toEqual(metricKeys(C));
  });

  it('NaN (not 0) when no query has a relevant document', () => {
    expect(retrievalMetrics([{ retrieved: [1], relevant: [] }], C).metrics['mrr@10']).toBeNaN();
  });

  // A line-by-line port of sentence-transformers' compute_metrics loop (top_hits slices,
  // `in query_relevant_docs`), against our rank-based code, on random rankings.
  function stReference(top: number[], rel: Set<number>, c: Cutoffs): Record<string, number> {
    const out: Record<string, number> = {};
    const dcg = (r: number[], k: number) => r.slice(0, k).reduce((s, x, i) => s + x / Math.log2(i + 2), 0);
    for (const k of c.accuracy) out[`accuracy@${k}`] = top.slice(0, k).some((h) => rel.has(h)) ? 1 : 0;
    for (const k of c.precisionRecall) {
      const n = top.slice(0, k).filter((h) => rel.has(h)).length;
      out[`precision@${k}`] = n / k;
      out[`recall@${k}`] = n / rel.size;
    }
    for (const k of c.mrr) {
      const i = top.slice(0, k).findIndex((h) => rel.has(h));
      out[`mrr@${k}`] = i < 0 ? 0 : 1 / (i + 1);
    }
    for (const k of c.ndcg) out[`ndcg@${k}`] = dcg(top.slice(0, k).map((h) => (rel.has(h) ? 1 : 0)), k) / dcg(new Array<number>(rel.size).fill(1), k);
    for (const k of c.map) {
      let correct = 0, sum = 0;
      top.slice(0, k).forEach((h, rank) => {
        if (rel.has(h)) sum += ++correct / (rank + 1);
      });
      out[`map@${k}`] = sum / Math.min(k, rel.size);
    }
    return out;
  }

  it('matches a port of the sentence-transformers loop on 200 random rankings', () => {
    const rand = mulberry32(3);
    const c = cutoffsFor(7);
    for (let t = 0; t < 200; t++) {
      const corpus = 5 + Math.floor(rand() * 150);
      const ids = Array.from({ length: corpus }, (_, i) => i).sort(() => rand() - 0.5);
      const top = ids.slice(0, Math.min(searchDepth(c), corpus));
      const rel = new Set(Array.from({ length: 1 + Math.floor(rand() * 12) }, () => Math.floor(rand() * corpus)));
      const ours = scoreQuery(top, [...rel], c).values;
      const ref = stReference(top, rel, c);
      for (const k of metricKeys(c)) expect(ours[k], `${k} trial ${t}`).toBeCloseTo(ref[k], 12);
    }
  });
});

describe('cut-offs', () => {
  it('adds --k to every list and searches deep enough for all of them', () => {
    const c = cutoffsFor(20);
    expect(c.ndcg).toEqual([10, 20]);
    expect(c.map).toEqual([20, 100]);
    expect(searchDepth(c)).toBe(100);
    expect(searchDepth(cutoffsFor(150))).toBe(150);
    expect(metricKeys(cutoffsFor(10))).toEqual(
      expect.arrayContaining(['ndcg@10', 'mrr@10', 'map@100', 'recall@1', 'recall@5', 'recall@10', 'recall@100', 'accuracy@1', 'accuracy@5', 'accuracy@10', 'precision@10']),
    );
    expect(() => cutoffsFor(0)).toThrow(/k 0 must be a positive integer/);
  });
});
