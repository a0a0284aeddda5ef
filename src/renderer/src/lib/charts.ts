// The arithmetic behind the pages' SVG charts (score histograms, training curves), kept apart
// from the markup so it can be tested without a DOM. No chart library: the charts are few and
// simple, and a library would be most of the renderer's weight.

export interface Point {
  x: number;
  y: number;
}

/** One line of a chart. */
export interface Series {
  name: string;
  points: Point[];
  /** A CSS colour, normally a theme variable: var(--accent). */
  color: string;
  /** Draw each point as a dot too (evaluations are few and far between). */
  dots?: boolean;
}

/** Maps [d0, d1] onto [r0, r1]; a zero-width domain maps everything to the middle of the range. */
export function linearScale([d0, d1]: readonly [number, number], [r0, r1]: readonly [number, number]): (v: number) => number {
  if (d1 === d0) return () => (r0 + r1) / 2;
  const k = (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** Smallest and largest finite value, or null when there is none (a run with no steps yet). */
export function extent(values: Iterable<number>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo === Infinity ? null : [lo, hi];
}

/**
 * Round tick values covering [lo, hi]: steps of 1, 2 or 5 × 10^k (as d3's ticks), about
 * `count` of them. A flat series (lo = hi) gets a small band around its value so its line
 * sits mid-chart instead of on an axis.
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  // The 1e-9 slack absorbs float error: 5 × 1e-6 is a hair below 5e-6, 2e-5 / 1e-5 a hair above 2.
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw * (1 - 1e-9))!;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  // Multiplying integers by the step (not adding steps) keeps 0.1 + 0.2-style drift out.
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/**
 * An SVG path through the points in order. A point with a non-finite value (a skipped step's
 * NaN loss) breaks the line rather than dropping to an axis, so gaps stay visible.
 */
export function linePath(points: readonly Point[], sx: (v: number) => number, sy: (v: number) => number): string {
  const parts: string[] = [];
  let pen = false;
  for (const p of points) {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) {
      pen = false;
      continue;
    }
    parts.push(`${pen ? 'L' : 'M'}${round(sx(p.x))},${round(sy(p.y))}`);
    pen = true;
  }
  return parts.join(' ');
}

export interface Bar {
  /** The bin's score interval [x0, x1). */
  x0: number;
  x1: number;
  count: number;
}

/** Equal-width bins over [lo, hi] as the mining report writes them (bin i: [lo + i·w, lo + (i+1)·w)). */
export function histogramBars(counts: readonly number[], lo = -1, hi = 1): Bar[] {
  const w = (hi - lo) / counts.length;
  return counts.map((count, i) => ({ x0: round(lo + i * w), x1: round(lo + (i + 1) * w), count }));
}

/**
 * The score interval worth drawing: from the first to the last non-empty bin of any of the
 * histograms, one bin wider each side. Cosine scores of one model usually crowd into a small
 * part of [-1, 1]; drawing all of it would squeeze the bars into a sliver.
 */
export function occupiedRange(histograms: readonly (readonly number[])[], lo = -1, hi = 1): [number, number] {
  const bins = histograms[0]?.length ?? 0;
  let first = Infinity;
  let last = -Infinity;
  for (const counts of histograms) {
    counts.forEach((c, i) => {
      if (c > 0) {
        first = Math.min(first, i);
        last = Math.max(last, i);
      }
    });
  }
  if (first === Infinity) return [lo, hi];
  const w = (hi - lo) / bins;
  return [round(lo + Math.max(0, first - 1) * w), round(lo + Math.min(bins, last + 2) * w)];
}

/** Tick labels short enough for an axis: 2e-5, 0.05, 12, 1.5k. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 10_000) return `${Number((v / 1000).toPrecision(3))}k`;
  if (a < 1e-3) return Number(v.toPrecision(2)).toExponential();
  return String(Number(v.toPrecision(3)));
}

const round = (v: number) => Math.round(v * 100) / 100;
