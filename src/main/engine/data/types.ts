// The shapes of an imported dataset (DESIGN §1: "Dataset (validated rows, roles, labels,
// split)"). A dataset folder holds rows.jsonl (one DatasetRow per line), dataset.json
// (DatasetMeta), report.json (ImportReport) and skipped.jsonl (the rows that could not be
// used, with their values, so they can be exported and fixed); edits.jsonl (edits.ts) holds
// the user's edits on top of rows.jsonl, which is never rewritten. A retrieval set keeps
// queries.jsonl, corpus.jsonl and qrels.jsonl (retrieval.ts) instead of rows.jsonl.

import type { DatasetFormat, EncodingName, RoleColumns } from '../../../shared/dataset-formats.js';

// Formats, roles, required roles, encodings and the row type are the shared vocabulary (the UI
// and the CLI use the same words).
export { DATASET_FORMATS as FORMATS, REQUIRED_ROLES, ROLES, type DatasetFormat, type DatasetRow, type EncodingName, type Role } from '../../../shared/dataset-formats.js';

export const DATASET_SCHEMA_VERSION = 1;

export interface ColumnMapping {
  format: DatasetFormat;
  /** Role → source column name(s); negative lists its columns in order. */
  roles: RoleColumns;
  /** Source columns no role uses (recorded, never silently discarded). */
  ignored: string[];
}

export type Severity = 'error' | 'warning' | 'info';

/** One finding. `line` is null for findings about the whole file. Errors mean "row skipped". */
export interface ImportIssue {
  line: number | null;
  code: string;
  message: string;
  severity: Severity;
  /** Retrieval sets: which of the three files `line` is in. */
  file?: RetrievalPart;
}

export type RetrievalPart = 'queries' | 'corpus' | 'qrels';

export interface SourceInfo {
  file: string;
  kind: 'csv' | 'tsv' | 'jsonl' | 'parquet';
  bytes: number;
  sha256: string;
  encoding?: EncodingName;
  delimiter?: string;
  columns: string[];
}

export interface DatasetMeta {
  schemaVersion: number;
  name: string;
  format: DatasetFormat;
  roles: ColumnMapping['roles'];
  ignoredColumns: string[];
  source: SourceInfo;
  counts: { sourceRows: number; rows: number; skipped: number; warnings: number };
  /** label → number of rows (labeled format only). */
  labels?: Record<string, number>;
  maxNegatives: number;
  /** Retrieval sets: what was kept of each part, and the three source files (`source` repeats the queries file; absent when derived). */
  retrieval?: {
    sources?: Record<RetrievalPart, SourceInfo>;
    queries: number;
    corpus: number;
    qrels: number;
    /** Queries left out because no judgement in the qrels file marks a document relevant. */
    queriesWithoutRelevant: number;
  };
  /** A dataset derived from another (deriveRetrievalSet): that folder and the split used. */
  derivedFrom?: { dataset: string; split?: 'train' | 'eval' };
  createdAt: string;
  engineVersion: string;
}

export interface ImportReport {
  schemaVersion: number;
  /** Every skipped row, then warnings and notes (each warning code listed up to a cap). */
  issues: ImportIssue[];
  /** Per code, how many times it occurred (the listing of warnings may be capped). */
  counts: Record<string, number>;
  /** Codes whose listing stopped at the cap. */
  truncated: string[];
}
