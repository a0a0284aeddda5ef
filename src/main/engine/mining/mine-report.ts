// The mining report (mining-report.json): how many candidates each rule removed, score
// histograms of positives against mined negatives (hard negatives should sit just below the
// positives; a negative histogram overlapping the positive one hints at false negatives), and
// the anchors left with fewer negatives than asked, so none is short silently (DESIGN §7).
import type { ScoreStats } from '../../../shared/views.js';
import type { MineAnchor, MineResult, ResolvedMineOptions, RuleCounts } from './mine.js';

export const MINE_REPORT_VERSION = 1;
/** Histogram bins over [-1, 1]: 0.05 wide, fine enough to see a margin of 0.05. */
export const HISTOGRAM_BINS = 40;
/** Short anchors listed beyond this many are counted only. */
export const SHORT_LISTED = 1000;
/** Characters of an anchor's text kept in the short list; its line finds the whole row. */
export const ANCHOR_CHARS = 200;

export interface ScoreHistogram {
  /** Bin i holds scores in [-1 + i·w, -1 + (i+1)·w), w = 2 / bins; the last bin also holds 1. */
  counts: number[];
  /** Scores counted. */
  n: number;
  /** Mean score, null when n is 0. */
  mean: number | null;
}

export type { ScoreStats };

/** Quantiles interpolate linearly between the sorted scores (numpy's and torch's default); std uses n − 1. */
export function scoreStats(scores: readonly number[]): ScoreStats | null {
  const n = scores.length;
  if (n === 0) return null;
  const s = Float64Array.from(scores).sort();
  const mean = s.reduce((a, x) => a + x, 0) / n;
  const std = n > 1 ? Math.sqrt(s.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : 0;
  const q = (p: number) => {
    const at = p * (n - 1);
    const lo = Math.floor(at);
    const hi = Math.min(n - 1, lo + 1);
    return s[lo]! + (s[hi]! - s[lo]!) * (at - lo);
  };
  return { count: n, mean, std, min: s[0]!, p25: q(0.25), median: q(0.5), p75: q(0.75), max: s[n - 1]! };
}

export interface ShortAnchor {
  /** The anchor's text, cut to ANCHOR_CHARS characters. */
  anchor: string;
  /** 1-based source line of the anchor's first row, where known (0: a row added by an edit). */
  line?: number;
  /** Negatives found (fewer than asked). */
  found: number;
}

export interface MineReport {
  schemaVersion: number;
  options: ResolvedMineOptions;
  totals: {
    anchors: number;
    corpus: number;
    /** anchors × negatives. */
    asked: number;
    mined: number;
    /** Candidates that passed every rule. */
    eligible: number;
    /** Anchors with fewer negatives than asked, and how many of them got none. */
    short: number;
    none: number;
  };
  removed: RuleCounts;
  histograms: { positive: ScoreHistogram; negative: ScoreHistogram };
  /** The same scores summarised (absent in reports written before it existed; null: no scores). */
  stats?: { positive: ScoreStats | null; negative: ScoreStats | null };
  /** The anchors with fewer negatives than asked, in anchor order. */
  short: { count: number; listed: ShortAnchor[]; truncated: boolean };
  /** Set by mineDataset: dataset rows, train rows whose anchor is short, eval rows held out of mining (split.json). */
  rows?: { total: number; short: number; heldOut?: number };
}

/** Cosine scores into HISTOGRAM_BINS bins over [-1, 1]. */
export function scoreHistogram(scores: Iterable<number>, bins = HISTOGRAM_BINS): ScoreHistogram {
  const counts = new Array<number>(bins).fill(0);
  let n = 0;
  let sum = 0;
  for (const s of scores) {
    // Float rounding can put the cosine of two unit vectors a hair past ±1: those go to the end bins.
    counts[Math.min(bins - 1, Math.max(0, Math.floor(((s + 1) / 2) * bins)))]++;
    n++;
    sum += s;
  }
  return { counts, n, mean: n === 0 ? null : sum / n };
}

export function buildMineReport(
  input: { anchors: readonly MineAnchor[]; corpusSize: number },
  result: MineResult,
  extra: { lines?: readonly number[] } = {},
): MineReport {
  const o = result.options;
  const listed: ShortAnchor[] = [];
  let short = 0;
  let none = 0;
  let mined = 0;
  result.negatives.forEach((negs, i) => {
    mined += negs.length;
    if (negs.length >= o.negatives) return;
    short++;
    if (negs.length === 0) none++;
    if (listed.length < SHORT_LISTED) {
      const text = input.anchors[i].text;
      const anchor = text.length > ANCHOR_CHARS ? text.slice(0, ANCHOR_CHARS - 1) + '…' : text;
      listed.push(extra.lines ? { anchor, line: extra.lines[i], found: negs.length } : { anchor, found: negs.length });
    }
  });
  const positives = input.anchors.flatMap((a) => a.positiveScores);
  const negatives = result.negatives.flatMap((negs) => negs.map((x) => x.score));
  return {
    schemaVersion: MINE_REPORT_VERSION,
    options: o,
    totals: { anchors: input.anchors.length, corpus: input.corpusSize, asked: input.anchors.length * o.negatives, mined, eligible: result.eligible, short, none },
    removed: { ...result.removed },
    histograms: { positive: scoreHistogram(positives), negative: scoreHistogram(negatives) },
    stats: { positive: scoreStats(positives), negative: scoreStats(negatives) },
    short: { count: short, listed, truncated: short > listed.length },
  };
}

/** A few lines for a terminal or a log: totals, what each rule removed, who came up short. */
export function summarizeMineReport(r: MineReport): string[] {
  const t = r.totals;
  const lines = [
    `mined ${t.mined} of ${t.asked} negatives asked for ${t.anchors} anchors over ${t.corpus} corpus texts (${t.eligible} candidates passed every rule)`,
    `mean score: positives ${fmt(r.histograms.positive.mean)}, mined negatives ${fmt(r.histograms.negative.mean)}`,
    ...summarizeRules(r),
  ];
  if (t.short > 0) {
    lines.push(`${t.short} anchors got fewer than ${r.options.negatives} negatives (${t.none} got none); see mining-report.json "short". To find more: raise --rank-max, lower --rank-min, or loosen --margin / --max-score`);
  }
  return lines;
}

const fmt = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));

const STAT_ROWS: [keyof ScoreStats, string][] = [
  ['count', 'count'], ['mean', 'mean'], ['std', 'std'], ['min', 'min'], ['p25', '25%'], ['median', '50%'], ['p75', '75%'], ['max', 'max'],
];

/** What each rule skipped, then the score table: the part of the summary the CLI prints after its own totals. */
export function summarizeRules(r: Pick<MineReport, 'removed' | 'stats'>): string[] {
  const rm = Object.entries(r.removed)
    .filter(([, n]) => n > 0)
    .map(([rule, n]) => `${rule} ${n}`);
  return [`candidates skipped by rule: ${rm.length ? rm.join(', ') : 'none'}`, ...scoreTable(r)];
}

/** Positive vs mined-negative scores side by side, with their difference, as a text table. */
export function scoreTable(r: Pick<MineReport, 'stats'>): string[] {
  const p = r.stats?.positive ?? null;
  const n = r.stats?.negative ?? null;
  if (!p && !n) return [];
  const cell = (s: ScoreStats | null, k: keyof ScoreStats) => (s === null ? 'n/a' : k === 'count' ? String(s[k]) : s[k].toFixed(4));
  const diff = (k: keyof ScoreStats) => (p && n && k !== 'count' ? (p[k] - n[k]).toFixed(4) : '');
  const lines = [`${'score'.padEnd(8)}${'positive'.padStart(10)}${'negative'.padStart(10)}${'difference'.padStart(12)}`];
  for (const [k, label] of STAT_ROWS) lines.push(`${label.padEnd(8)}${cell(p, k).padStart(10)}${cell(n, k).padStart(10)}${diff(k).padStart(12)}`);
  return lines;
}
