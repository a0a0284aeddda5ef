// A dataset's numbers as its rows are now. dataset.json, split.json and report.json are written
// at import (and split) time; once rows are edited — deleted, changed, added — their counts and
// duplicate findings go stale, and the pages showed them as if nothing had changed (issue 15
// item 7). These recount from the rows with the edit journal applied.
import type { DatasetDetail, DatasetRowView, DatasetSummary } from '../../../shared/api.js';
import { normalizeText } from '../data/validate.js';

type Issue = DatasetDetail['issues'][number];

/** The import's duplicate rule (validate.ts): the same texts exactly, else up to case and spacing. */
export function duplicateIssues(rows: readonly DatasetRowView[]): Issue[] {
  const exact = new Map<string, number>(), near = new Map<string, number>();
  const out: Issue[] = [];
  for (const row of rows) {
    const parts = [row.anchor, row.positive, row.text, ...(row.negatives ?? [])];
    const key = parts.join('\u0001');
    const first = exact.get(key);
    if (first !== undefined) {
      out.push({ line: row.line || null, code: 'DUPLICATE', severity: 'warning', message: `row ${row.index} repeats row ${first} exactly` });
      continue;
    }
    exact.set(key, row.index);
    const nkey = parts.map((p) => (p === undefined ? '' : normalizeText(p))).join('\u0001');
    const seen = near.get(nkey);
    if (seen !== undefined) out.push({ line: row.line || null, code: 'NEAR_DUPLICATE', severity: 'warning', message: `row ${row.index} repeats row ${seen} up to case and spacing` });
    else near.set(nkey, row.index);
  }
  return out;
}

/** The summary's counts from the rows as they are: rows, held-out split, labels. */
export function liveSummary(s: DatasetSummary, rows: readonly DatasetRowView[], warnings: number): DatasetSummary {
  let labels: Record<string, number> | null = null;
  if (s.labels) {
    labels = {};
    for (const r of rows) if (r.label !== undefined) labels[r.label] = (labels[r.label] ?? 0) + 1;
  }
  const held = rows.filter((r) => r.side === 'eval').length;
  return { ...s, rows: rows.length, warnings, labels, split: s.split ? { train: rows.length - held, eval: held } : null };
}

/**
 * The report's issues with the duplicate findings recounted over the current rows, and the
 * findings about rows that are gone dropped (skipped-row errors stay: those rows never
 * became rows). Returns the issues, their counts by code and the warnings among them.
 */
export function liveIssues(issues: readonly Issue[], counts: Record<string, number>, rows: readonly DatasetRowView[]): { issues: Issue[]; counts: Record<string, number>; warnings: number } {
  const lines = new Set(rows.map((r) => r.line));
  const dupCodes = new Set(['DUPLICATE', 'NEAR_DUPLICATE']);
  const kept = issues.filter((i) => !dupCodes.has(i.code) && (i.severity !== 'warning' || i.line === null || lines.has(i.line)));
  const next: Record<string, number> = { ...counts };
  // Counts cover every issue even where the list was cut short: only what was dropped is taken off.
  for (const i of issues) if (!kept.includes(i) && !dupCodes.has(i.code)) next[i.code] = Math.max(0, (next[i.code] ?? 1) - 1);
  const dups = duplicateIssues(rows);
  for (const code of dupCodes) delete next[code];
  for (const d of dups) next[d.code] = (next[d.code] ?? 0) + 1;
  for (const [code, n] of Object.entries(next)) if (n === 0) delete next[code];
  const all = [...kept, ...dups];
  return { issues: all, counts: next, warnings: all.filter((i) => i.severity === 'warning').length };
}
