// Before/after evaluation results side by side: the metric table with deltas, and the
// per-query ranks of the relevant documents, paired by query text and ordered by how much
// each query's first relevant hit moved. Every metric the engine reports (nDCG, MRR, MAP,
// recall, precision, accuracy, k-NN accuracy and F1, similarity AUC) is higher-is-better, so
// a positive delta is always an improvement.
import type { EvaluateJobResult } from '../../../../shared/api.js';

export interface MetricRow {
  name: string;
  before: number | null;
  after: number | null;
  /** after − before, when both exist. */
  delta: number | null;
}

/** Rows in the engine's reporting order (before's keys, then any only after has). */
export function metricRows(before: Record<string, number> | null | undefined, after: Record<string, number> | null | undefined): MetricRow[] {
  const names = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])];
  return names.map((name) => {
    const b = before?.[name] ?? null;
    const a = after?.[name] ?? null;
    return { name, before: b, after: a, delta: a !== null && b !== null ? a - b : null };
  });
}

/** The search depth behind the ranks: the largest @cut-off among the metrics (null ranks lie beyond it). */
export function depthOf(...metrics: (Record<string, number> | null | undefined)[]): number {
  let depth = 0;
  for (const m of metrics) for (const k of Object.keys(m ?? {})) depth = Math.max(depth, Number(/@(\d+)$/.exec(k)?.[1] ?? 0));
  return depth || 100;
}

export type Trend = 'improved' | 'worse' | 'same' | 'single';

export interface QueryRow {
  query: string;
  /** Ranks of the relevant documents (1-based; null beyond the depth); null when that side has no result. */
  before: (number | null)[] | null;
  after: (number | null)[] | null;
  /** The best-ranked relevant document's rank (what MRR and recall@1 see), null beyond the depth. */
  bestBefore: number | null;
  bestAfter: number | null;
  /**
   * Places the first relevant hit moved up (positive) or down; a document beyond the depth
   * counts as at depth + 1, so "not found → rank 3" is a gain of depth − 2. Null unless both exist.
   */
  change: number | null;
  trend: Trend;
}

const best = (ranks: (number | null)[]): number | null => {
  const found = ranks.filter((r): r is number => r !== null);
  return found.length ? Math.min(...found) : null;
};

/** Pairs the queries of two results by text; a query only one side has is kept with trend 'single'. */
export function compareQueries(before: EvaluateJobResult | null | undefined, after: EvaluateJobResult | null | undefined, depth: number): QueryRow[] {
  const rows = new Map<string, QueryRow>();
  const row = (query: string): QueryRow => {
    let r = rows.get(query);
    if (!r) rows.set(query, (r = { query, before: null, after: null, bestBefore: null, bestAfter: null, change: null, trend: 'single' }));
    return r;
  };
  for (const q of before?.perQuery ?? []) Object.assign(row(q.query), { before: q.ranks, bestBefore: best(q.ranks) });
  for (const q of after?.perQuery ?? []) Object.assign(row(q.query), { after: q.ranks, bestAfter: best(q.ranks) });
  const beyond = depth + 1;
  for (const r of rows.values()) {
    if (!r.before || !r.after) continue;
    r.change = (r.bestBefore ?? beyond) - (r.bestAfter ?? beyond);
    r.trend = r.change > 0 ? 'improved' : r.change < 0 ? 'worse' : 'same';
  }
  return [...rows.values()];
}

export type QueryOrder = 'gains' | 'losses';

/**
 * 'gains': most improved first; 'losses': most worsened first. Queries without a change
 * (one side only) go last; ties: the worse rank now first (what still needs work), then text.
 */
export function sortQueries(rows: readonly QueryRow[], order: QueryOrder): QueryRow[] {
  const sign = order === 'gains' ? -1 : 1;
  const now = (r: QueryRow) => r.bestAfter ?? r.bestBefore ?? Infinity;
  return [...rows].sort((a, b) => {
    if ((a.change === null) !== (b.change === null)) return a.change === null ? 1 : -1;
    const moved = a.change === null || b.change === null ? 0 : sign * (a.change - b.change);
    // NaN (two queries found nowhere) is falsy, so those fall through to the text.
    return moved || now(b) - now(a) || a.query.localeCompare(b.query);
  });
}

/** How many queries went each way. */
export function trendCounts(rows: readonly QueryRow[]): Record<Trend, number> {
  const c: Record<Trend, number> = { improved: 0, worse: 0, same: 0, single: 0 };
  for (const r of rows) c[r.trend]++;
  return c;
}

export function formatRank(rank: number | null, depth: number): string {
  return rank === null ? `>${depth}` : String(rank);
}

export function formatMetric(v: number | null): string {
  return v === null ? '–' : v.toFixed(4);
}

export function formatDelta(d: number | null): string {
  if (d === null) return '–';
  // Rounding can make a tiny loss print as "-0.0000"; show it as no change instead.
  const s = d.toFixed(4);
  return Number(s) === 0 ? '±0.0000' : d > 0 ? `+${s}` : s.replace('-', '−');
}
