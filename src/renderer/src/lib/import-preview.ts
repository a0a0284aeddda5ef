// A look at the first rows of a file before importing it, read in the browser from a local
// copy the user picks (EngineApi has no call that previews a file on the engine's side). It
// is a guess to help with the column mapping: the engine reads the file itself on import and
// its decision (format, roles, delimiter, encoding) is the one that counts.
//
// The delimiter sniffing and the role synonyms mirror src/main/engine/data/read-delimited.ts
// and mapping.ts (the renderer may import only src/shared, so they are copied, kept short).

export const ROLES = ['anchor', 'positive', 'negative', 'text', 'label', 'score'] as const;
export type Role = (typeof ROLES)[number];
export const FORMATS = ['pairs', 'triplets', 'labeled', 'scored'] as const;
export type ImportFormat = (typeof FORMATS)[number];

/** The roles each format needs (src/main/engine/data/types.ts REQUIRED_ROLES). */
export const REQUIRED_ROLES: Record<ImportFormat, Role[]> = {
  pairs: ['anchor', 'positive'],
  triplets: ['anchor', 'positive', 'negative'],
  labeled: ['text', 'label'],
  scored: ['anchor', 'positive', 'score'],
};

const SYNONYMS: Record<Exclude<Role, 'negative'>, string[]> = {
  anchor: ['anchor', 'query', 'question', 'text1', 'text_1', 'sentence1', 'sentence_1', 'sentence_a', 'premise', 'q', 'prompt', 'title'],
  positive: ['positive', 'pos', 'answer', 'passage', 'document', 'text2', 'text_2', 'sentence2', 'sentence_2', 'sentence_b', 'hypothesis', 'response', 'reply', 'context', 'a'],
  text: ['text', 'sentence', 'content', 'body', 'message', 'utterance'],
  label: ['label', 'labels', 'class', 'category', 'intent', 'target'],
  score: ['score', 'similarity', 'similarity_score', 'relevance', 'rating'],
};
const NEGATIVE = /^(neg|negative|hard_negative|negatives)(_?\d+)?$/;
const norm = (s: string) => s.trim().toLowerCase().replace(/[\s-]+/g, '_');

export type SourceKind = 'csv' | 'tsv' | 'jsonl' | 'parquet';

export interface FilePreview {
  kind: SourceKind;
  /** For CSV/TSV: the delimiter the sample suggests. */
  delimiter?: string;
  columns: string[];
  /** The first data rows, as text, in column order; with their 1-based source line. */
  rows: { line: number; values: string[] }[];
  /** Role → column(s) found from the header names. */
  roles: Partial<Record<Role, string[]>>;
  /** The format those roles suggest; null when the header does not tell. */
  format: ImportFormat | null;
}

/** As the engine decides from the name (and Parquet's magic bytes). */
export function kindOf(name: string): SourceKind {
  const ext = /\.[^./\\]+$/.exec(name.toLowerCase())?.[0] ?? '';
  if (ext === '.parquet') return 'parquet';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  return 'csv';
}

/** The candidate whose count is the same, and non-zero, on the most lines (header first). */
export function sniffDelimiter(lines: string[], preferTab: boolean): string {
  const order = preferTab ? ['\t', ',', ';', '|'] : [',', '\t', ';', '|'];
  let best = order[0];
  let bestScore = 0;
  for (const c of order) {
    const per = lines.map((l) => l.split(c).length - 1);
    if (per.length === 0 || per[0] === 0) continue;
    const score = per.filter((n) => n === per[0]).length;
    if (score > bestScore) [best, bestScore] = [c, score];
  }
  return best;
}

/** RFC 4180 records from `text` (doubled quotes; delimiters and newlines inside quotes), with start lines. */
export function parseDelimited(text: string, delimiter: string, maxRecords: number, whole = true): { line: number; values: string[] }[] {
  const out: { line: number; values: string[] }[] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let line = 1;
  let start = 1;
  const end = () => {
    record.push(field);
    if (record.length > 1 || record[0] !== '') out.push({ line: start, values: record });
    record = [];
    field = '';
  };
  for (let i = 0; i < text.length && out.length < maxRecords; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === delimiter) {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      end();
      start = ++line;
    } else field += ch;
  }
  // A sample cut from a larger file may end mid-record: its last line counts only when whole.
  if (whole && !quoted && out.length < maxRecords && (field !== '' || record.length > 0)) end();
  return out;
}

/** Roles from header names, and the format they suggest (mapping.ts's rules). */
export function guessRoles(columns: string[]): { roles: Partial<Record<Role, string[]>>; format: ImportFormat | null } {
  const byName = new Map(columns.map((c) => [norm(c), c]));
  const roles: Partial<Record<Role, string[]>> = {};
  for (const role of ROLES) {
    if (role === 'negative') {
      const negs = columns.filter((c) => NEGATIVE.test(norm(c)));
      if (negs.length) roles.negative = negs;
    } else {
      const hit = SYNONYMS[role].find((s) => byName.has(s));
      if (hit) roles[role] = [byName.get(hit)!];
    }
  }
  const format: ImportFormat | null =
    roles.anchor && roles.positive ? (roles.negative ? 'triplets' : roles.score ? 'scored' : 'pairs')
    : roles.text && roles.label ? 'labeled'
    : null;
  return { roles, format };
}

const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

/** A preview of the first `maxRows` rows of `sample` (the start of the file `name`). */
export function previewText(name: string, sample: string, maxRows = 5, whole = true): FilePreview {
  const kind = kindOf(name);
  const text = sample.replace(/^\uFEFF/, '');
  if (kind === 'parquet') return { kind, columns: [], rows: [], roles: {}, format: null };
  if (kind === 'jsonl') {
    const rows: Record<string, unknown>[] = [];
    const lines: number[] = [];
    text.split(/\r?\n/).some((l, i) => {
      if (l.trim() === '') return false;
      try {
        const v = JSON.parse(l) as unknown;
        if (v && typeof v === 'object' && !Array.isArray(v)) {
          rows.push(v as Record<string, unknown>);
          lines.push(i + 1);
        }
      } catch {
        // A torn last line of the sample, or a bad line the import will report with its number.
      }
      return rows.length >= maxRows;
    });
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    return { kind, columns, rows: rows.map((r, i) => ({ line: lines[i], values: columns.map((c) => cell(r[c])) })), ...guessRoles(columns) };
  }
  const head = text.split(/\r?\n|\r/).slice(0, 20);
  const delimiter = sniffDelimiter(head.slice(0, -1).length ? head.slice(0, -1) : head, kind === 'tsv');
  const [header, ...rows] = parseDelimited(text, delimiter, maxRows + 1, whole);
  const columns = header?.values.map((c) => c.trim()) ?? [];
  return { kind, delimiter, columns, rows, ...guessRoles(columns) };
}

/** Reads the first 64 kB of a picked file (never the whole of a large one). */
export async function previewFile(file: Blob & { name: string }, maxRows = 5): Promise<FilePreview> {
  const bytes = 64 * 1024;
  const sample = await file.slice(0, bytes).text();
  return previewText(file.name, sample, maxRows, file.size <= bytes);
}
