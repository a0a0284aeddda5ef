// What `import` would make of a file, without writing anything: the same reader (encoding,
// sniffed delimiter, quoting, JSONL, Parquet), the same column mapping and the same row checks,
// run on the first rows only. Reading stops after them (source.ts `stopAfter`), so a huge file
// costs a few small reads, not a pass over it. What needs the whole file is left to the import:
// a UTF-8 file that turns Latin-1 further down, single-example labels, class imbalance.
import { resolve } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { withLatin1Fallback } from './encoding.js';
import { checkImportOptions, type ImportOptions } from './import.js';
import { detectMapping, parseMapSpec } from './mapping.js';
import { openSourceFile } from './open-source.js';
import type { ColumnMapping, DatasetRow, EncodingName, ImportIssue, SourceInfo } from './types.js';
import { RowChecker } from './validate.js';

/** Rows a preview shows unless asked for another number, and the most it will read. */
export const PREVIEW_ROWS = 20;
export const MAX_PREVIEW_ROWS = 200;

export type PreviewOptions = Pick<ImportOptions, 'format' | 'map' | 'delimiter' | 'encoding'> & {
  /** Source records to read and check, 1–MAX_PREVIEW_ROWS; PREVIEW_ROWS by default. */
  limit?: number;
};

export interface ImportPreviewResult {
  /** The file, as an absolute path. */
  file: string;
  kind: SourceInfo['kind'];
  /** Absent for Parquet. */
  encoding?: EncodingName;
  /** CSV/TSV only: the delimiter given or sniffed. */
  delimiter?: string;
  columns: string[];
  /** The format and roles the import would use (header names and the map given). */
  mapping: ColumnMapping;
  /** The first records: each as the import stores it, or null where the import skips it. */
  rows: { line: number; row: DatasetRow | null }[];
  /** What the import would report about those records (skips and warnings), in order. */
  issues: ImportIssue[];
  /** About the file as a whole: how its encoding was decided. */
  notes: ImportIssue[];
  bytes: number;
  /** How much of the file the preview read. */
  bytesRead: number;
  /** True when the rows shown are all the file has. */
  complete: boolean;
}

export async function previewImport(file: string, opts: PreviewOptions = {}): Promise<ImportPreviewResult> {
  const limit = opts.limit ?? PREVIEW_ROWS;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PREVIEW_ROWS) {
    throw new EngineError('BAD_INPUT', `a preview of ${limit} rows: give a whole number from 1 to ${MAX_PREVIEW_ROWS}.`, { setting: 'limit' });
  }
  checkImportOptions(opts);
  const overrides = parseMapSpec(opts.map ?? []);
  return withLatin1Fallback(file, opts.encoding ?? 'auto', (encoding, notes) => previewAs(file, opts, overrides, encoding, limit, notes));
}

async function previewAs(
  file: string,
  opts: PreviewOptions,
  overrides: ReturnType<typeof parseMapSpec>,
  encoding: 'auto' | EncodingName,
  limit: number,
  notes: ImportIssue[],
): Promise<ImportPreviewResult> {
  // One record past the limit says whether there is more.
  const opened = await openSourceFile(file, { encoding, delimiter: opts.delimiter, stopAfter: limit + 1 });
  const { source } = opened;
  try {
    const mapping = detectMapping(file, source.columns, opts.format ?? 'auto', overrides);
    const checker = new RowChecker(mapping, source.columns, source.unit, source.kind);
    const rows: ImportPreviewResult['rows'] = [];
    const issues: ImportIssue[] = [];
    let complete = true;
    for await (const rec of source.records) {
      if (rows.length === limit) {
        complete = false;
        break;
      }
      rows.push({ line: rec.line, row: checker.check(rec, issues) ?? null });
    }
    return {
      file: resolve(file),
      kind: source.kind,
      encoding: source.encoding,
      delimiter: source.delimiter,
      columns: source.columns,
      mapping,
      rows,
      issues,
      notes: [...notes, ...source.notes],
      bytes: opened.bytes,
      bytesRead: opened.bytesRead(),
      complete,
    };
  } finally {
    await source.close();
  }
}
