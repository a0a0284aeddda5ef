// Turns source records into dataset rows and says what is wrong with them (issue 5 §3).
// A row that cannot be used (missing or empty field, wrong field count, bad score, NUL
// byte, absurd length, unreadable line) is skipped with an error issue naming its line; a
// usable but suspicious row (duplicate, anchor equal to positive, stray quote) is kept with
// a warning. Dataset-wide findings (labels with one example, class imbalance) come at finish().
import { createHash } from 'node:crypto';
import type { SourceRecord } from './source.js';
import type { ColumnMapping, DatasetRow, ImportIssue } from './types.js';

/** Longer than any model's context by orders of magnitude: a broken quote or a pasted file. */
export const MAX_TEXT_CHARS = 1_000_000;
/** Imbalance worth a warning: the largest class this many times the smallest. */
export const IMBALANCE_RATIO = 10;

/** Case, Unicode form and whitespace folded: what "the same text" means for near-duplicates. */
export function normalizeText(s: string): string {
  // The tests skip work plain ASCII single-spaced text does not need (most rows, and ~15% of
  // import time when done unconditionally).
  let t = s.toLowerCase();
  if (/[^\x00-\x7f]/.test(t)) t = t.normalize('NFKC').toLowerCase();
  if (/\s\s|[^\S ]|^\s|\s$/.test(t)) t = t.replace(/\s+/g, ' ').trim();
  return t;
}

// 16-byte digests as map keys: a million rows cost tens of MB instead of their full texts.
const digest = (s: string) => createHash('md5').update(s).digest('base64');

export class RowChecker {
  #idx: { anchor?: number; positive?: number; negative?: number[]; text?: number; label?: number; score?: number };
  #exact = new Map<string, number>();
  #normal = new Map<string, number>();
  readonly labels = new Map<string, { count: number; line: number }>();
  maxNegatives = 0;

  constructor(
    readonly mapping: ColumnMapping,
    readonly columns: string[],
    readonly unit: 'line' | 'row',
    readonly kind: string,
  ) {
    const at = (c: string | undefined) => (c === undefined ? undefined : columns.indexOf(c));
    const r = mapping.roles;
    this.#idx = { anchor: at(r.anchor), positive: at(r.positive), negative: r.negative?.map((c) => columns.indexOf(c)), text: at(r.text), label: at(r.label), score: at(r.score) };
  }

  /** The row (undefined when skipped) and what was found; `issues` gets the findings. */
  check(rec: SourceRecord, issues: ImportIssue[]): DatasetRow | undefined {
    const where = `${this.unit} ${rec.line}`;
    const skip = (code: string, message: string) => void issues.push({ line: rec.line, code, severity: 'error', message: `${where}: ${message}; row skipped` });
    if (rec.problem) return skip(rec.problem.code, rec.problem.message.replace(/^line \d+ /, ''));
    const v = rec.values!;
    if (v.length !== this.columns.length && this.kind !== 'jsonl' && this.kind !== 'parquet') {
      const extraEmpty = v.length > this.columns.length && v.slice(this.columns.length).every((x) => x === '');
      if (!extraEmpty) {
        return skip('COLUMN_COUNT', `has ${v.length} field${v.length === 1 ? '' : 's'} but the header has ${this.columns.length} (an unquoted delimiter inside a text? quote that field)`);
      }
      issues.push({ line: rec.line, code: 'TRAILING_FIELDS', severity: 'warning', message: `${where}: ${v.length - this.columns.length} empty field(s) after the last column ignored` });
    }
    const row: DatasetRow = { line: rec.line };
    const i = this.#idx;
    const fail = (code: string, message: string): null => {
      skip(code, message);
      return null;
    };
    // undefined: absent and optional; null: the row was skipped.
    const text = (col: number, required: boolean, x: unknown = v[col]): string | undefined | null => {
      const name = this.columns[col];
      if (x === undefined || x === null) return required ? fail('MISSING_FIELD', `column '${name}' has no value`) : undefined;
      const s = typeof x === 'string' ? x : typeof x === 'number' || typeof x === 'boolean' || typeof x === 'bigint' ? String(x) : undefined;
      if (s === undefined) return fail('BAD_VALUE', `column '${name}' holds ${Array.isArray(x) ? 'a list' : 'an object'}, not text`);
      if (s.trim() === '') return required ? fail('EMPTY_FIELD', `column '${name}' is empty`) : undefined;
      const nul = s.indexOf('\u0000');
      if (nul >= 0) return fail('NUL_BYTE', `column '${name}' contains a NUL byte at character ${nul + 1} (a corrupt or binary file?)`);
      if (s.length > MAX_TEXT_CHARS) return fail('TEXT_TOO_LONG', `column '${name}' has ${s.length} characters, over the ${MAX_TEXT_CHARS} limit (an unclosed quote upstream?)`);
      return s;
    };
    for (const role of ['anchor', 'positive', 'text', 'label'] as const) {
      if (i[role] === undefined) continue;
      const s = text(i[role]!, role !== 'label' || this.mapping.format === 'labeled');
      if (s === null) return undefined;
      if (s !== undefined) row[role] = s;
    }
    if (i.score !== undefined) {
      const raw = v[i.score];
      const n = typeof raw === 'number' ? raw : typeof raw === 'bigint' ? Number(raw) : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) return skip('BAD_SCORE', `score '${String(raw ?? '')}' in column '${this.columns[i.score]}' is not a number`);
      row.score = n;
    }
    if (i.negative) {
      const negs: string[] = [];
      for (const col of i.negative) {
        const x = v[col];
        // A JSONL/Parquet list column holds all negatives; empty cells are absent ones, not errors.
        for (const item of Array.isArray(x) ? (x as unknown[]) : [x]) {
          const s = text(col, false, item);
          if (s === null) return undefined;
          if (s !== undefined) negs.push(s);
        }
      }
      if (negs.length === 0) return skip('MISSING_FIELD', `no negative (columns ${i.negative.map((c) => `'${this.columns[c]}'`).join(', ')} are empty)`);
      row.negatives = negs;
      this.maxNegatives = Math.max(this.maxNegatives, negs.length);
    }
    if (rec.strayQuote) issues.push({ line: rec.line, code: 'BAD_QUOTE', severity: 'warning', message: `${where}: a quote (") inside an unquoted field was kept as text; quote the whole field and double inner quotes if that was not meant` });
    this.#duplicates(row, issues, where);
    if (row.label !== undefined) {
      const l = this.labels.get(row.label);
      if (l) l.count++;
      else this.labels.set(row.label, { count: 1, line: rec.line });
    }
    return row;
  }

  #duplicates(row: DatasetRow, issues: ImportIssue[], where: string): void {
    const parts = [row.anchor, row.positive, row.text, ...(row.negatives ?? [])];
    const key = parts.join('\u0001');
    const exactKey = digest(key);
    const first = this.#exact.get(exactKey);
    const normal = parts.map((p) => (p === undefined ? '' : normalizeText(p)));
    if (first !== undefined) {
      issues.push({ line: row.line, code: 'DUPLICATE', severity: 'warning', message: `${where} repeats ${this.unit} ${first} exactly` });
    } else {
      this.#exact.set(exactKey, row.line);
      const nkey = digest(normal.join('\u0001'));
      const near = this.#normal.get(nkey);
      if (near !== undefined) issues.push({ line: row.line, code: 'NEAR_DUPLICATE', severity: 'warning', message: `${where} repeats ${this.unit} ${near} up to case and spacing` });
      else this.#normal.set(nkey, row.line);
    }
    if (row.anchor !== undefined && row.positive !== undefined && normal[0] === normal[1]) {
      issues.push({ line: row.line, code: 'ANCHOR_EQUALS_POSITIVE', severity: 'warning', message: `${where}: the anchor and the positive are the same text, so the pair teaches nothing` });
    }
  }

  /** Dataset-wide findings, after the last row. */
  finish(): ImportIssue[] {
    const out: ImportIssue[] = [];
    if (this.labels.size === 0) return out;
    for (const [label, { count, line }] of this.labels) {
      if (count === 1) out.push({ line, code: 'SINGLE_EXAMPLE_LABEL', severity: 'warning', message: `label '${label}' has one example (${this.unit} ${line}): it cannot be in both the train and eval splits; add examples or merge it` });
    }
    const counts = [...this.labels.values()].map((l) => l.count);
    const max = Math.max(...counts);
    const min = Math.min(...counts);
    if (this.labels.size > 1 && max >= IMBALANCE_RATIO * min) {
      const top = [...this.labels].sort((a, b) => b[1].count - a[1].count);
      out.push({
        line: null,
        code: 'CLASS_IMBALANCE',
        severity: 'warning',
        message: `labels are imbalanced: '${top[0][0]}' has ${max} rows, '${top[top.length - 1][0]}' has ${min} (${(max / min).toFixed(1)}×); consider more examples of the small classes`,
      });
    }
    return out;
  }
}
