import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../shared/random.js';
import { distribution, labelPairSimilarities, rocAuc, similarityReport } from './similarity.js';

describe('distribution', () => {
  it('fixed bins over [-1, 1], the last closed at 1; mean and population std', () => {
    // 4 bins: [-1,-0.5) [-0.5,0) [0,0.5) [0.5,1]; values -1, -0.5, 0, 0.5, 1 → 1, 1, 1, 2
    const d = distribution([-1, -0.5, 0, 0.5, 1], 4);
    expect(d.histogram).toEqual([1, 1, 1, 2]);
    expect(d.mean).toBe(0);
    // (1 + 0.25 + 0 + 0.25 + 1) / 5 = 0.5 → √0.5
    expect(d.std).toBeCloseTo(Math.SQRT1_2, 12);
    expect(d.count).toBe(5);
    expect(d.outOfRange).toBe(0);
  });

  it('float32 rounding past 1 is binned quietly; a real overshoot is counted', () => {
    const d = distribution([Math.fround(1.0000001), 1.5, -3], 2);
    expect(d.histogram).toEqual([1, 2]);
    expect(d.outOfRange).toBe(2);
  });

  it('an empty side has NaN moments', () => {
    const d = distribution([], 4);
    expect(d.mean).toBeNaN();
    expect(d.histogram).toEqual([0, 0, 0, 0]);
  });
});

describe('rocAuc', () => {
  it('hand-computed with a tie', () => {
    // pos 0.9, 0.5, 0.3 vs neg 0.5, 0.1: wins 0.9>0.5, 0.9>0.1, 0.5>0.1, 0.3>0.1; 0.5=0.5 half; 0.3<0.5 none
    // → 4.5 / 6 = 0.75
    expect(rocAuc([0.9, 0.5, 0.3], [0.5, 0.1])).toBe(0.75);
    expect(rocAuc([0.9, 0.8], [0.1, 0.2])).toBe(1);
    expect(rocAuc([0.1, 0.2], [0.9, 0.8])).toBe(0);
    expect(rocAuc([], [0.1])).toBeNull();
  });

  it('equals the O(n·m) pair count on random values with many ties', () => {
    const rand = mulberry32(11);
    const draw = (n: number, shift: number) => Array.from({ length: n }, () => Math.round((rand() + shift) * 20) / 20);
    const pos = draw(301, 0.3);
    const neg = draw(257, 0);
    let u = 0;
    for (const p of pos) for (const q of neg) u += p > q ? 1 : p === q ? 0.5 : 0;
    expect(rocAuc(pos, neg)).toBeCloseTo(u / (pos.length * neg.length), 12);
  });
});

describe('labelPairSimilarities', () => {
  it('all pairs when few: same-label and different-label cosines', () => {
    // rows (1,0), (0.6,0.8), (0,1); labels a a b → same: 0.6; different: 0, 0.8
    const rows = new Float32Array([1, 0, 0.6, 0.8, 0, 1]);
    const { same, different } = labelPairSimilarities(rows, 2, ['a', 'a', 'b']);
    expect(same.map((x) => Number(x.toFixed(6)))).toEqual([0.6]);
    expect(different.map((x) => Number(x.toFixed(6)))).toEqual([0, 0.8]);
  });

  it('a seeded sample of maxPairs distinct-row pairs when many', () => {
    const n = 200;
    const rand = mulberry32(5);
    const rows = new Float32Array(n * 3).map(() => rand() - 0.5);
    for (let i = 0; i < n; i++) {
      const s = Math.hypot(rows[i * 3], rows[i * 3 + 1], rows[i * 3 + 2]);
      for (let d = 0; d < 3; d++) rows[i * 3 + d] /= s;
    }
    const labels = Array.from({ length: n }, (_, i) => String(i % 4));
    const a = labelPairSimilarities(rows, 3, labels, { maxPairs: 500, seed: 1 });
    expect(a.same.length + a.different.length).toBe(500);
    // Never a row with itself (cosine exactly 1 for unit rows): only i ≠ j are drawn.
    expect(Math.max(...a.same, ...a.different)).toBeLessThan(0.99999);
    // 1 in 4 pairs share a label in expectation (≈ 125 ± 30).
    expect(a.same.length).toBeGreaterThan(80);
    expect(a.same.length).toBeLessThan(170);
    expect(labelPairSimilarities(rows, 3, labels, { maxPairs: 500, seed: 1 })).toEqual(a);
    expect(labelPairSimilarities(rows, 3, labels, { maxPairs: 500, seed: 2 })).not.toEqual(a);
  });
});

describe('similarityReport', () => {
  it('names both sides and computes AUC from the raw values, not the bins', () => {
    // Both sides fall in one bin of 2, yet positives always win.
    const r = similarityReport([0.51, 0.52], [0.5, 0.505], { positive: 'anchor–positive', negative: 'anchor–negative' }, 2);
    expect(r.positive.histogram).toEqual([0, 2]);
    expect(r.negative.histogram).toEqual([0, 2]);
    expect(r.auc).toBe(1);
    expect(r.positiveKind).toBe('anchor–positive');
  });
});
