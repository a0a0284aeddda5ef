import { describe, expect, it } from 'vitest';
import { bruteForceTopK } from '../../search/top-k.js';
import { consistencyFilter } from './consistency.js';

// Documents are one-hot rows, so an anchor's row lists its score against each pool document
// (pool order: p0 … p4, the distinct positives in pair order). The ranks follow by hand.
const DOCS = ['p0', 'p1', 'p2', 'p3', 'p4'];
const QUERY: Record<string, number[]> = {
  a0: [0.9, 0.1, 0.2, 0, 0], // p0 first: rank 1, score 0.9
  a1: [0.1, 0.7, 0.8, 0, 0], // p2 beats p1: rank 2, score 0.7
  a2: [0.6, 0.5, 0.4, 0, 0], // p2 third: rank 3
  a3: [0, 0, 0, 0.8, 0.1], // p3 first: rank 1, score 0.8
  p0: [0.95, 0, 0, 0, 0.5], // anchor p0 is in the pool and finds itself first; p4 is next: rank 1, score 0.5
};
const PAIRS = [
  { anchor: 'a0', positive: 'p0' },
  { anchor: 'a1', positive: 'p1' },
  { anchor: 'a2', positive: 'p2' },
  { anchor: 'a3', positive: 'p3' },
  { anchor: 'p0', positive: 'p4' },
];

function fake() {
  const calls: { texts: string[]; role: string }[] = [];
  const embed = async (texts: string[], role: 'query' | 'document') => {
    calls.push({ texts, role });
    const out = new Float32Array(texts.length * DOCS.length);
    texts.forEach((t, i) => out.set(role === 'query' ? QUERY[t] : DOCS.map((d) => (d === t ? 1 : 0)), i * DOCS.length));
    return out;
  };
  return { calls, embed, search: async (q: Float32Array, c: Float32Array, dim: number, k: number) => bruteForceTopK(q, c, dim, k) };
}

describe('consistencyFilter', () => {
  it('keeps pairs ranked within top-k, then the best fraction by rank and score, in their order', async () => {
    const f = fake();
    const r = await consistencyFilter(PAIRS, { ...f, topK: 2, keep: 0.6 });
    expect(r.verdicts.map((v) => v.rank)).toEqual([1, 2, null, 1, 1]);
    expect(r.verdicts.map((v) => v.score)).toEqual([Math.fround(0.9), Math.fround(0.7), null, Math.fround(0.8), Math.fround(0.5)]);
    // Survivors best first: 0 (1, .9), 3 (1, .8), 4 (1, .5), 1 (2, .7); ceil(0.6 × 5) = 3 kept.
    expect(r.kept).toEqual([0, 3, 4]);
    expect(r.verdicts.map((v) => v.kept)).toEqual([true, false, false, true, true]);
    expect(r.counts).toEqual({ pairs: 5, pool: 5, withinTopK: 4, kept: 3 });
    expect(f.calls).toEqual([
      { texts: ['a0', 'a1', 'a2', 'a3', 'p0'], role: 'query' },
      { texts: DOCS, role: 'document' },
    ]);
  });

  it('keep 1 keeps every survivor; top-1 drops the rank-2 pair but not the one whose anchor found itself', async () => {
    expect((await consistencyFilter(PAIRS, { ...fake(), topK: 2, keep: 1 })).kept).toEqual([0, 1, 3, 4]);
    const top1 = await consistencyFilter(PAIRS, { ...fake(), topK: 1, keep: 1 });
    expect(top1.kept).toEqual([0, 3, 4]);
    expect(top1.counts.withinTopK).toBe(3);
  });

  it('refuses a keep fraction outside (0, 1] and a top-k below 1, naming the flag', async () => {
    await expect(consistencyFilter(PAIRS, { ...fake(), topK: 2, keep: 1.5 })).rejects.toThrow(/--keep 1.5 must be a fraction in \(0, 1\]/);
    await expect(consistencyFilter(PAIRS, { ...fake(), topK: 0, keep: 0.5 })).rejects.toThrow(/--top-k 0 must be a positive integer/);
  });
});
