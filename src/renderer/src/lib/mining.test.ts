// The Mining page's rules: the request it builds, the checks before it, the names it suggests,
// and the false-negative flag. Defaults are checked against DESIGN §6's `embedsmith mine` line
// (the renderer's type-check cannot reach engine code to import them).
import { describe, expect, it } from 'vitest';
import {
  MINE_FORM_DEFAULTS,
  defaultThreshold,
  flagNegative,
  folderNameProblem,
  mineFormProblem,
  mineOptions,
  minedName,
  readMiningReport,
  type MiningReportView,
} from './mining.js';

const form = (change: Partial<typeof MINE_FORM_DEFAULTS> = {}) => ({ ...MINE_FORM_DEFAULTS, ...change });

describe('mining settings', () => {
  it('defaults to what `embedsmith mine` does', () => {
    // --negatives 3 --rank-min 10 --rank-max 100 --sampling top, seed 42 (STYLE habit 7)
    expect(mineOptions(form())).toEqual({ negatives: 3, rankMin: 10, rankMax: 100, sampling: 'top', seed: 42 });
    expect(mineFormProblem(form())).toBeNull();
  });

  it('sends a margin or a relative margin, never both, and the score cap only when on', () => {
    expect(mineOptions(form({ marginMode: 'absolute', margin: 0.1 }))).toMatchObject({ margin: 0.1 });
    expect(mineOptions(form({ marginMode: 'absolute', margin: 0.1 }))).not.toHaveProperty('relativeMargin');
    const rel = mineOptions(form({ marginMode: 'relative', margin: 0.05, useMaxScore: true, maxScore: 0.9, sampling: 'random', seed: 7 }));
    expect(rel).toEqual({ negatives: 3, rankMin: 10, rankMax: 100, relativeMargin: 0.05, maxScore: 0.9, sampling: 'random', seed: 7 });
    expect(mineOptions(form({ maxScore: 0.5 }))).not.toHaveProperty('maxScore');
  });

  it('says what is wrong before the engine has to', () => {
    expect(mineFormProblem(form({ rankMax: 10 }))).toBe('Search down to rank must be a whole number above 10, e.g. 100.');
    expect(mineFormProblem(form({ rankMin: 98, rankMax: 100 }))).toBe('3 negatives cannot be found in ranks 99–100: search deeper or ask for fewer.');
    expect(mineFormProblem(form({ negatives: 0 }))).toContain('at least 1');
    expect(mineFormProblem(form({ negatives: 2.5 }))).toContain('whole number');
    expect(mineFormProblem(form({ marginMode: 'relative', margin: 1 }))).toContain('below 1');
    expect(mineFormProblem(form({ marginMode: 'none', margin: 5 }))).toBeNull(); // an unused field does not block
  });

  it('suggests a free name next to the source', () => {
    expect(minedName('faq', ['faq'])).toBe('faq-mined');
    expect(minedName('faq', ['faq-mined', 'faq-mined-2'])).toBe('faq-mined-3');
    expect(folderNameProblem('  ', [], 'dataset')).toBe('Give the dataset a name.');
    expect(folderNameProblem('../x', [], 'dataset')).toContain('no / or');
    expect(folderNameProblem('faq-mined', ['faq-mined'], 'dataset')).toContain('exists already');
    expect(folderNameProblem('ok', ['faq-mined'], 'run')).toBeNull();
  });
});

describe('flagging likely false negatives', () => {
  const rule = { threshold: 0.8, near: 0.05 };

  it('flags a score at or above the threshold', () => {
    expect(flagNegative(0.85, rule)).toBe('above-threshold');
    expect(flagNegative(0.8, rule)).toBe('above-threshold');
    expect(flagNegative(0.79, rule)).toBeNull();
    expect(flagNegative(undefined, rule)).toBeNull(); // an edited row without scores
    expect(flagNegative(NaN, rule)).toBeNull();
  });

  it('with a positive score, flags negatives within `near` of it even below the threshold', () => {
    expect(flagNegative(0.76, rule, 0.8)).toBe('near-positive'); // 0.76 ≥ 0.8 − 0.05
    expect(flagNegative(0.74, rule, 0.8)).toBeNull();
    expect(flagNegative(0.9, rule, 0.8)).toBe('near-positive'); // above the positive
  });

  it('starts the threshold at the typical positive less 0.05', () => {
    const report = { histograms: { positive: { counts: [], n: 10, mean: 0.834 }, negative: { counts: [], n: 0, mean: null } } } as unknown as MiningReportView;
    expect(defaultThreshold(report)).toBe(0.78); // 0.834 − 0.05 = 0.784 → 0.78
    expect(defaultThreshold(null)).toBe(0.9);
  });
});

describe('reading the mining report', () => {
  it('takes a report of the engine’s shape and refuses anything else', () => {
    const hist = { counts: new Array(40).fill(0), n: 0, mean: null }; // mine-report.ts: 40 bins over [-1, 1]
    const raw = {
      schemaVersion: 1,
      options: { negatives: 3, rankMin: 10, rankMax: 100, sampling: 'top', seed: 42 },
      totals: { anchors: 2, corpus: 4, asked: 6, mined: 5, eligible: 9, short: 1, none: 0 },
      removed: { rankRange: 20 },
      histograms: { positive: hist, negative: hist },
      short: { count: 1, listed: [{ anchor: 'q', line: 2, found: 2 }], truncated: false },
    };
    expect(readMiningReport(raw)?.totals.mined).toBe(5);
    expect(readMiningReport(null)).toBeNull();
    expect(readMiningReport({ totals: {} })).toBeNull();
    expect(readMiningReport({ ...raw, short: undefined })?.short).toEqual({ count: 0, listed: [], truncated: false });
  });
});
