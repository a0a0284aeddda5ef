// The mining report: histogram binning at the edges, the short-anchor list and its cap, and
// totals that agree with what was mined.
import { describe, expect, it } from 'vitest';
import { type MineResult, mineNegatives, resolveMineOptions } from './mine.js';
import { ANCHOR_CHARS, HISTOGRAM_BINS, SHORT_LISTED, buildMineReport, scoreHistogram, scoreStats, summarizeMineReport, summarizeRules } from './mine-report.js';
import { bruteForceTopK } from '../search/top-k.js';

describe('scoreHistogram', () => {
  it('puts scores in 0.05-wide bins over [-1, 1], the ends included', () => {
    expect(HISTOGRAM_BINS).toBe(40);
    const h = scoreHistogram([-1, -0.0001, 0, 0.049, 0.05, 0.999, 1, 1.0000001]);
    const at = (i: number) => h.counts[i];
    expect([at(0), at(19), at(20), at(21), at(39)]).toEqual([1, 1, 2, 1, 3]);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(8);
    expect(h.n).toBe(8);
    expect(h.mean).toBeCloseTo((-1 - 0.0001 + 0 + 0.049 + 0.05 + 0.999 + 1 + 1.0000001) / 8, 12);
    expect(scoreHistogram([]).mean).toBeNull();
  });
});

describe('buildMineReport', () => {
  it('counts what was mined, lists the short anchors with their lines, and histograms both sides', async () => {
    const vec = (deg: number) => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];
    // q (0°) can mine d1…d4; the long anchor (2.5°) has d1…d3 as positives, so only d4 and p are left.
    const corpus = ['p', 'd1', 'd2', 'd3', 'd4'];
    const degs = [0.5, 1, 2, 3, 4];
    const anchors = [
      { text: 'q', positives: ['p'], positiveScores: [Math.cos((0.5 * Math.PI) / 180)] },
      { text: 'r'.repeat(500), positives: ['d1', 'd2', 'd3'], positiveScores: [0.1, 0.2, 0.3] },
    ];
    const result = await mineNegatives(
      {
        anchors,
        corpus,
        anchorEmbeddings: Float32Array.from([...vec(0), ...vec(2.5)]),
        corpusEmbeddings: Float32Array.from(degs.flatMap(vec)),
        dim: 2,
        search: async (...a) => bruteForceTopK(...a),
      },
      { rankMin: 0, rankMax: 10, negatives: 3 },
    );
    const report = buildMineReport({ anchors, corpusSize: corpus.length }, result, { lines: [2, 7] });
    expect(report.totals).toEqual({ anchors: 2, corpus: 5, asked: 6, mined: 5, eligible: 6, short: 1, none: 0 });
    expect(report.short.count).toBe(1);
    expect(report.short.truncated).toBe(false);
    expect(report.short.listed).toEqual([{ anchor: 'r'.repeat(ANCHOR_CHARS - 1) + '…', line: 7, found: 2 }]);
    expect(report.removed.ownPositive).toBe(4);
    expect(report.histograms.positive.n).toBe(4);
    expect(report.histograms.negative.n).toBe(5);
    // Every mined score is above 0.99: all in the top bin.
    expect(report.histograms.negative.counts[HISTOGRAM_BINS - 1]).toBe(5);
    expect(report.histograms.positive.counts[Math.floor((0.1 + 1) * 20)]).toBe(1);
    expect(summarizeMineReport(report).join('\n')).toMatch(/1 anchors got fewer than 3 negatives \(0 got none\)/);
  });

  it('lists at most SHORT_LISTED short anchors but counts them all', () => {
    const n = SHORT_LISTED + 5;
    const anchors = Array.from({ length: n }, (_, i) => ({ text: `a${i}`, positives: [], positiveScores: [] }));
    const result: MineResult = {
      negatives: anchors.map(() => []),
      removed: { sameLabel: 0, ownPositive: 0, duplicate: 0, existing: 0, rankRange: 0, maxScore: 0, margin: 0 },
      eligible: 0,
      options: resolveMineOptions(),
    };
    const report = buildMineReport({ anchors, corpusSize: 1 }, result);
    expect(report.short).toMatchObject({ count: n, truncated: true });
    expect(report.short.listed).toHaveLength(SHORT_LISTED);
    expect(report.short.listed[0]).toEqual({ anchor: 'a0', found: 0 });
    expect(report.totals).toMatchObject({ short: n, none: n, mined: 0, asked: 3 * n });
  });
});

describe('score statistics (as sentence-transformers prints after mining)', () => {
  it('match torch: mean, std (n − 1), min, torch.quantile at 25/50/75 %, max', () => {
    // Reference values from torch 1.13 (float64): x.mean(), x.std(), torch.quantile(x, q).
    const cases: [number[], number[]][] = [
      [[0.91, 0.35, 0.62, 0.78, 0.12, 0.55, 0.83], [0.594285714286, 0.281948999103, 0.12, 0.45, 0.62, 0.805, 0.91]],
      [[0.2, 0.4, 0.9, -0.1], [0.35, 0.420317340431, -0.1, 0.125, 0.3, 0.525, 0.9]],
    ];
    for (const [xs, want] of cases) {
      const s = scoreStats(xs)!;
      expect(s.count).toBe(xs.length);
      [s.mean, s.std, s.min, s.p25, s.median, s.p75, s.max].forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 10));
    }
    expect(scoreStats([])).toBeNull();
  });

  it('the summary prints rule counts and a positive / negative / difference table', () => {
    const lines = summarizeRules({
      removed: { sameLabel: 0, ownPositive: 2, duplicate: 0, existing: 0, rankRange: 7, maxScore: 0, margin: 1 },
      stats: { positive: scoreStats([0.9, 0.8]), negative: scoreStats([0.5, 0.7]) },
    });
    expect(lines[0]).toBe('candidates skipped by rule: ownPositive 2, rankRange 7, margin 1');
    expect(lines[1]).toMatch(/^score\s+positive\s+negative\s+difference$/);
    expect(lines.find((l) => l.startsWith('count'))).toMatch(/^count\s+2\s+2\s*$/);
    expect(lines.find((l) => l.startsWith('mean'))).toMatch(/^mean\s+0\.8500\s+0\.6000\s+0\.2500$/);
    expect(lines.find((l) => l.startsWith('50%'))).toMatch(/^50%\s+0\.8500\s+0\.6000\s+0\.2500$/);
  });
});
