import { describe, expect, it } from 'vitest';
import { bruteForceTopK, type SearchFn } from '../search/top-k.js';
import { classificationReport, knnClassify, majorityVote } from './classification.js';

/** Unit vectors at the given angles (degrees), [n, 2]. */
const circle = (...deg: number[]) => new Float32Array(deg.flatMap((d) => [Math.cos((d * Math.PI) / 180), Math.sin((d * Math.PI) / 180)]));
const brute: SearchFn = async (q, c, d, k) => bruteForceTopK(q, c, d, k);

describe('majorityVote', () => {
  it('most votes wins; ties go to the label of the nearer neighbour', () => {
    expect(majorityVote(['a', 'b', 'b'])).toBe('b');
    expect(majorityVote(['a', 'b'])).toBe('a');
    expect(majorityVote(['b', 'a', 'a', 'b'])).toBe('b');
    expect(majorityVote(['c', 'a', 'b', 'a', 'b'])).toBe('a'); // a and b tie at 2; a's nearest is rank 2, b's rank 3
  });
});

describe('classificationReport: hand-computed confusion matrix', () => {
  // truth a a a b b c, predicted a a b b c c
  //            pred a  b  c
  //   true a     [2, 1, 0]
  //   true b     [0, 1, 1]
  //   true c     [0, 0, 1]
  const r = classificationReport(['a', 'a', 'a', 'b', 'b', 'c'], ['a', 'a', 'b', 'b', 'c', 'c']);

  it('confusion matrix and accuracy', () => {
    expect(r.confusion).toEqual({ labels: ['a', 'b', 'c'], matrix: [[2, 1, 0], [0, 1, 1], [0, 0, 1]] });
    expect(r.accuracy).toBeCloseTo(4 / 6, 12);
  });

  it('per class: P = tp / column, R = tp / row, F1 = 2PR / (P + R)', () => {
    // a: P 2/2, R 2/3, F1 (4/3)/(5/3) = 0.8; b: P 1/2, R 1/2, F1 0.5; c: P 1/2, R 1/1, F1 1/1.5
    expect(r.perClass.a).toEqual({ precision: 1, recall: 2 / 3, f1: expect.closeTo(0.8, 12), support: 3, predicted: 2 });
    expect(r.perClass.b).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2, predicted: 2 });
    expect(r.perClass.c.precision).toBe(0.5);
    expect(r.perClass.c.recall).toBe(1);
    expect(r.perClass.c.f1).toBeCloseTo(2 / 3, 12);
  });

  it('macro averages are unweighted means over classes', () => {
    expect(r.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 12); // 0.655556
    expect(r.macroPrecision).toBeCloseTo((1 + 0.5 + 0.5) / 3, 12);
    expect(r.macroRecall).toBeCloseTo((2 / 3 + 1 / 2 + 1) / 3, 12);
  });

  it('a label only ever predicted counts in the macro average with P = R = F1 = 0', () => {
    // truth a a, predicted a d: a P 1/1 R 1/2 F1 2/3; d P 0/1, R 0/0 → 0, F1 0; macro F1 = 1/3
    const x = classificationReport(['a', 'a'], ['a', 'd']);
    expect(x.confusion.labels).toEqual(['a', 'd']);
    expect(x.perClass.d).toEqual({ precision: 0, recall: 0, f1: 0, support: 0, predicted: 1 });
    expect(x.macroF1).toBeCloseTo(1 / 3, 12);
  });

  it('refuses an empty evaluation', () => {
    expect(() => classificationReport([], [])).toThrow(/no labelled rows/);
  });
});

describe('knnClassify', () => {
  // Reference on the unit circle: 0° A, 12° B, 20° B, 180° A, -5° A.
  const reference = circle(0, 12, 20, 180, -5);
  const labels = ['A', 'B', 'B', 'A', 'A'];

  it('votes among the k most cosine-similar reference rows', async () => {
    // Query 3°: neighbours 0° (A, 3° away), -5° (A, 8°), 12° (B, 9°), 20° (B, 17°).
    // Query 14°: 12° (B, 2°), 20° (B, 6°), 0° (A, 14°).
    const q = circle(3, 14);
    expect(await knnClassify({ queries: q, reference, dim: 2, referenceLabels: labels, k: 3, search: brute })).toEqual(['A', 'B']);
    // k = 4 at 3°: A A B B ties 2–2 → A, whose nearest ranks first.
    expect(await knnClassify({ queries: circle(3), reference, dim: 2, referenceLabels: labels, k: 4, search: brute })).toEqual(['A']);
  });

  it('leave-one-out skips the query row and its duplicates (same group)', async () => {
    // Groups: 0° and -5° share group 0 (say, the same text up to case). k = 1:
    //   0°   → skip 0°, -5° → 12° B;   12° → 20° B;   20° → 12° B
    //   180° → 20° (160° away) B;      -5° → skip 0°, -5° → 12° B
    const calls: number[] = [];
    const spy: SearchFn = async (q, c, d, k) => (calls.push(k), bruteForceTopK(q, c, d, k));
    const groups = [0, 1, 2, 3, 0];
    const pred = await knnClassify({ queries: reference, reference, dim: 2, referenceLabels: labels, k: 1, search: spy, queryGroups: groups, referenceGroups: groups });
    expect(pred).toEqual(['B', 'B', 'B', 'B', 'B']);
    expect(calls).toEqual([1 + 2]); // k + the largest group
    // Without groups the query finds itself: every prediction is its own label.
    expect(await knnClassify({ queries: reference, reference, dim: 2, referenceLabels: labels, k: 1, search: brute })).toEqual(labels);
  });

  it('says so when a query has no neighbour outside its own group', async () => {
    const one = circle(0, 1);
    await expect(knnClassify({ queries: one, reference: one, dim: 2, referenceLabels: ['A', 'A'], k: 1, search: brute, queryGroups: [0, 0], referenceGroups: [0, 0] })).rejects.toThrow(
      /at least two distinct texts/,
    );
  });
});
