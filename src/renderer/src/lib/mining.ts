// The Mining page's rules without the markup: the settings form and the MineRequest it makes
// (DESIGN §6 `embedsmith mine`), the mining report as the page reads it, and the rule that
// flags a mined negative as a likely false negative.
import type { DeviceChoice, MineRequest } from '../../../shared/api.js';
import type { ScoreStats } from '../../../shared/views.js';

/** The settings form; defaults are the CLI's, so the page and `embedsmith mine` agree. */
export interface MineForm {
  negatives: number;
  rankMin: number;
  rankMax: number;
  /** 'absolute': at least `margin` below the positive; 'relative': at most (1 − margin) × the positive. */
  marginMode: 'none' | 'absolute' | 'relative';
  margin: number;
  useMaxScore: boolean;
  maxScore: number;
  sampling: 'top' | 'random';
  seed: number;
  device: DeviceChoice;
}

export const MINE_FORM_DEFAULTS: Readonly<MineForm> = {
  negatives: 3,
  rankMin: 10,
  rankMax: 100,
  marginMode: 'none',
  margin: 0.05,
  useMaxScore: false,
  maxScore: 0.95,
  sampling: 'top',
  seed: 42,
  device: 'auto',
};

/** The request's options: only what the form sets, margin and relative margin never both. */
export function mineOptions(f: MineForm): NonNullable<MineRequest['options']> {
  const o: NonNullable<MineRequest['options']> = { negatives: f.negatives, rankMin: f.rankMin, rankMax: f.rankMax, sampling: f.sampling, seed: f.seed };
  if (f.marginMode === 'absolute') o.margin = f.margin;
  if (f.marginMode === 'relative') o.relativeMargin = f.margin;
  if (f.useMaxScore) o.maxScore = f.maxScore;
  return o;
}

/**
 * What is wrong with the form, said as the engine would, or null. The engine checks again
 * (it is the judge); this only keeps the button from starting a job bound to fail at once.
 */
export function mineFormProblem(f: MineForm): string | null {
  const whole = (v: number) => Number.isInteger(v);
  if (!whole(f.negatives) || f.negatives < 1) return 'Negatives per query must be a whole number of at least 1, e.g. 3.';
  if (!whole(f.rankMin) || f.rankMin < 0) return 'Skip the top ranks must be a whole number of at least 0, e.g. 10.';
  if (!whole(f.rankMax) || f.rankMax <= f.rankMin) return `Search down to rank must be a whole number above ${f.rankMin}, e.g. ${f.rankMin + 90}.`;
  if (f.negatives > f.rankMax - f.rankMin) return `${f.negatives} negatives cannot be found in ranks ${f.rankMin + 1}–${f.rankMax}: search deeper or ask for fewer.`;
  if (f.marginMode === 'absolute' && !(f.margin >= 0 && f.margin <= 2)) return 'The margin must be from 0 to 2 (cosine scores span 2), e.g. 0.05.';
  if (f.marginMode === 'relative' && !(f.margin >= 0 && f.margin < 1)) return 'The relative margin must be at least 0 and below 1, e.g. 0.05.';
  if (f.useMaxScore && !(f.maxScore > -1 && f.maxScore <= 1)) return 'The highest score must be a cosine in (−1, 1], e.g. 0.95.';
  if (!whole(f.seed)) return 'The seed must be a whole number, e.g. 42.';
  return null;
}

/** A new dataset name next to the source: 'faq' → 'faq-mined', then 'faq-mined-2' … */
export function minedName(source: string, taken: readonly string[]): string {
  const base = `${source}-mined`;
  if (!taken.includes(base)) return base;
  let i = 2;
  while (taken.includes(`${base}-${i}`)) i++;
  return `${base}-${i}`;
}

/** A folder name the user typed: one path segment, so it cannot escape PROJECT/datasets or runs. */
export function folderNameProblem(name: string, taken: readonly string[], what: string): string | null {
  const n = name.trim();
  if (!n) return `Give the ${what} a name.`;
  if (/[\\/]/.test(n) || n === '.' || n === '..') return `The ${what} name is a folder name: no / or \\.`;
  if (taken.includes(n)) return `A ${what} named ${n} exists already: choose another name.`;
  return null;
}

// --- The mining report (mining-report.json, engine/mining/mine-report.ts) -----------------
// EngineApi hands it over as `unknown` (its shape belongs to the engine); the page reads only
// these fields and shows nothing rather than crash when one is missing.

export interface ScoreHistogramView {
  counts: number[];
  n: number;
  mean: number | null;
}

export interface MiningReportView {
  options: { negatives: number; rankMin: number; rankMax: number; sampling: string; seed: number; margin?: number; relativeMargin?: number; maxScore?: number };
  totals: { anchors: number; corpus: number; asked: number; mined: number; eligible: number; short: number; none: number };
  removed: Record<string, number>;
  histograms: { positive: ScoreHistogramView; negative: ScoreHistogramView };
  /** Count, mean, std, min, quartiles, max of each side (absent in older reports). */
  stats?: { positive: ScoreStats | null; negative: ScoreStats | null };
  short: { count: number; listed: { anchor: string; line?: number; found: number }[]; truncated: boolean };
}

/** The score table's rows: label, positive, negative, difference (as the CLI prints it). */
export function scoreStatRows(stats: MiningReportView['stats']): [string, string, string, string][] {
  if (!stats || (!stats.positive && !stats.negative)) return [];
  const { positive: p, negative: n } = stats;
  const keys: [keyof ScoreStats, string][] = [['count', 'Count'], ['mean', 'Mean'], ['std', 'Std. dev.'], ['min', 'Min'], ['p25', '25 %'], ['median', 'Median'], ['p75', '75 %'], ['max', 'Max']];
  const cell = (s: ScoreStats | null, k: keyof ScoreStats) => (s === null ? '—' : k === 'count' ? String(s[k]) : s[k].toFixed(3));
  return keys.map(([k, label]) => [label, cell(p, k), cell(n, k), p && n && k !== 'count' ? (p[k] - n[k]).toFixed(3) : '']);
}

export function readMiningReport(raw: unknown): MiningReportView | null {
  const r = raw as Partial<MiningReportView> | null;
  const isHist = (h: unknown): h is ScoreHistogramView => !!h && Array.isArray((h as ScoreHistogramView).counts);
  if (!r || typeof r !== 'object' || !r.totals || !r.options || !r.removed) return null;
  if (!isHist(r.histograms?.positive) || !isHist(r.histograms?.negative)) return null;
  return { ...(r as MiningReportView), short: r.short ?? { count: 0, listed: [], truncated: false } };
}

/** What each removal rule means (the keys of the report's `removed`), for people. */
export const RULES: Record<string, string> = {
  sameLabel: 'shared the query’s label (labelled data)',
  ownPositive: 'were the query’s own positive',
  duplicate: 'repeated the query or its positive (up to case and spacing)',
  existing: 'were negatives the row had already',
  rankRange: 'ranked in the skipped top (likely unlabelled positives)',
  maxScore: 'scored above the highest score allowed',
  margin: 'scored too close to the positive (margin)',
};

// --- Flagging likely false negatives ------------------------------------------------------

export interface FlagRule {
  /** A negative scoring at least this is flagged. */
  threshold: number;
  /** With a known positive score: a negative within this of it (or above) is flagged. */
  near: number;
}

export type FlagReason = 'near-positive' | 'above-threshold';

/**
 * Why a mined negative may really be a positive, or null. Rows carry each negative's score but
 * not their positive's, so `positiveScore` is usually undefined and the threshold stands in
 * for "near or above the positive" (see defaultThreshold).
 */
export function flagNegative(score: number | undefined, rule: FlagRule, positiveScore?: number): FlagReason | null {
  if (score === undefined || !Number.isFinite(score)) return null;
  if (positiveScore !== undefined && score >= positiveScore - rule.near) return 'near-positive';
  if (score >= rule.threshold) return 'above-threshold';
  return null;
}

/**
 * The starting threshold: the mean positive score less `near` — a negative scoring within
 * `near` of what a typical positive scores is as close to its query as a real answer. Without
 * a report (an old dataset) 0.9, a score only near-copies reach with most models.
 */
export function defaultThreshold(report: MiningReportView | null, near = 0.05): number {
  const mean = report?.histograms.positive.mean;
  return mean === null || mean === undefined ? 0.9 : Math.round((mean - near) * 100) / 100;
}
