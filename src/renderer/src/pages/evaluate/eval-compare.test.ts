// The before/after comparison on hand-worked results: deltas per metric, the depth read from
// the metric names, queries paired by text (whatever their order), rank change with "beyond
// the depth" as depth + 1, and both sort orders.
import { describe, expect, it } from 'vitest';
import type { EvaluateJobResult } from '../../../../shared/api.js';
import { compareQueries, depthOf, formatDelta, formatRank, metricRows, sortQueries, trendCounts } from './eval-compare.js';

const result = (metrics: Record<string, number>, perQuery: [string, (number | null)[]][]): EvaluateJobResult => ({
  metrics,
  queries: perQuery.length,
  documents: 50,
  perQuery: perQuery.map(([query, ranks]) => ({ query, ranks })),
});

describe('metricRows', () => {
  it('gives after − before per metric in the reporting order, with gaps where one side lacks it', () => {
    const rows = metricRows({ 'ndcg@10': 0.5, 'mrr@10': 0.4, 'map@100': 0.3 }, { 'ndcg@10': 0.625, 'mrr@10': 0.35, 'recall@1': 0.2 });
    expect(rows.map((r) => r.name)).toEqual(['ndcg@10', 'mrr@10', 'map@100', 'recall@1']);
    expect(rows[0].delta).toBeCloseTo(0.125, 12);
    expect(rows[1].delta).toBeCloseTo(-0.05, 12);
    expect(rows[2]).toEqual({ name: 'map@100', before: 0.3, after: null, delta: null });
    expect(rows[3]).toEqual({ name: 'recall@1', before: null, after: 0.2, delta: null });
    expect(metricRows(null, undefined)).toEqual([]);
  });

  it('formats deltas with a sign, a true minus, and no "−0.0000"', () => {
    expect(formatDelta(0.125)).toBe('+0.1250');
    expect(formatDelta(-0.05)).toBe('−0.0500');
    expect(formatDelta(-0.00001)).toBe('±0.0000');
    expect(formatDelta(null)).toBe('–');
  });
});

describe('depthOf', () => {
  it('is the largest cut-off in the metric names, 100 when none', () => {
    expect(depthOf({ 'ndcg@10': 1, 'map@100': 1, 'recall@20': 1 })).toBe(100);
    expect(depthOf({ 'ndcg@5': 1 }, { 'recall@30': 1 })).toBe(30);
    expect(depthOf({ knn_accuracy: 1 })).toBe(100);
    expect(formatRank(null, 30)).toBe('>30');
    expect(formatRank(4, 30)).toBe('4');
  });
});

describe('compareQueries and sortQueries', () => {
  const before = result({ 'ndcg@10': 0.5, 'map@20': 0.4 }, [
    ['up a little', [5]],
    ['found now', [null]],
    ['lost', [2, null]],
    ['same', [3]],
    ['up a lot', [19, 30]],
    ['only before', [1]],
  ]);
  // Another order, as a second run may list them.
  const after = result({ 'ndcg@10': 0.6, 'map@20': 0.5 }, [
    ['same', [3]],
    ['lost', [null, null]],
    ['up a lot', [8, 1]],
    ['found now', [4]],
    ['up a little', [4]],
    ['only after', [7]],
  ]);
  const rows = compareQueries(before, after, depthOf(before.metrics));
  const byQuery = (q: string) => rows.find((r) => r.query === q)!;

  it('pairs by text and measures the first relevant hit, beyond the depth as depth + 1', () => {
    expect(byQuery('up a little')).toMatchObject({ before: [5], after: [4], bestBefore: 5, bestAfter: 4, change: 1, trend: 'improved' });
    expect(byQuery('up a lot')).toMatchObject({ bestBefore: 19, bestAfter: 1, change: 18, trend: 'improved' });
    expect(byQuery('found now')).toMatchObject({ bestBefore: null, bestAfter: 4, change: 21 - 4, trend: 'improved' });
    expect(byQuery('lost')).toMatchObject({ bestBefore: 2, bestAfter: null, change: 2 - 21, trend: 'worse' });
    expect(byQuery('same')).toMatchObject({ change: 0, trend: 'same' });
    expect(byQuery('only before')).toMatchObject({ after: null, change: null, trend: 'single' });
    expect(byQuery('only after')).toMatchObject({ before: null, bestAfter: 7, trend: 'single' });
    expect(trendCounts(rows)).toEqual({ improved: 3, worse: 1, same: 1, single: 2 });
  });

  it('sorts by rank change: gains first, or losses first; one-sided queries last', () => {
    expect(sortQueries(rows, 'gains').map((r) => r.query)).toEqual(['up a lot', 'found now', 'up a little', 'same', 'lost', 'only after', 'only before']);
    expect(sortQueries(rows, 'losses').map((r) => r.query)).toEqual(['lost', 'same', 'up a little', 'found now', 'up a lot', 'only after', 'only before']);
  });

  it('breaks ties by the worse rank now, then by text', () => {
    const tie = compareQueries(result({}, [['b', [3]], ['a', [3]], ['c', [10]]]), result({}, [['b', [2]], ['a', [2]], ['c', [9]]]), 100);
    expect(sortQueries(tie, 'gains').map((r) => r.query)).toEqual(['c', 'a', 'b']);
  });

  it('lists one side alone when only one result exists', () => {
    const only = compareQueries(before, null, 20);
    expect(only).toHaveLength(6);
    expect(only.every((r) => r.trend === 'single' && r.after === null)).toBe(true);
    // Worst rank first: what needs work.
    expect(sortQueries(only, 'gains').map((r) => r.query).slice(0, 2)).toEqual(['found now', 'up a lot']);
  });
});
