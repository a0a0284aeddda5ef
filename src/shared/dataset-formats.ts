// The words a dataset is described in, declared once (issue 16): its formats, the roles a column
// can play, the roles each format needs, the text encodings an import reads, and a stored row.
// The engine's import and validation, the CLI, the jobs contract and the import form read them.

/** Every dataset format. `retrieval` is a BEIR-style set of three files, not one file's rows. */
export const DATASET_FORMATS = ['pairs', 'triplets', 'labeled', 'scored', 'retrieval'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** Formats stored as rows of one file's columns (rows.jsonl): what a column mapping can give, and what trains and mines. */
export const ROW_FORMATS = ['pairs', 'triplets', 'labeled', 'scored'] as const satisfies readonly DatasetFormat[];
export type RowFormat = (typeof ROW_FORMATS)[number];

/** Roles a column can play. `negative` may be played by several columns (negative_1 …). */
export const ROLES = ['anchor', 'positive', 'negative', 'text', 'label', 'score'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The roles each format needs; scored pairs reuse anchor/positive so export has one layout.
 * A retrieval set's queries play the anchor role and its corpus documents the positive role
 * (the retrieval evaluator's reading of pairs), so templates apply to them the same way; its
 * three files are not a column mapping of one file (importRetrievalSet reads them).
 */
export const REQUIRED_ROLES: Record<DatasetFormat, readonly Role[]> = {
  pairs: ['anchor', 'positive'],
  triplets: ['anchor', 'positive', 'negative'],
  labeled: ['text', 'label'],
  scored: ['anchor', 'positive', 'score'],
  retrieval: ['anchor', 'positive'],
};

/** Text encodings an import decodes; 'auto' (the request's default) detects one from the bytes. */
export const ENCODINGS = ['utf8', 'utf16le', 'utf16be', 'latin1'] as const;
export type EncodingName = (typeof ENCODINGS)[number];
export const ENCODING_CHOICES = ['auto', ...ENCODINGS] as const;
/** Each encoding as people name it. */
export const ENCODING_LABELS: Record<EncodingName, string> = { utf8: 'UTF-8', utf16le: 'UTF-16 LE', utf16be: 'UTF-16 BE', latin1: 'Latin-1' };
export type EncodingChoice = (typeof ENCODING_CHOICES)[number];

/** Role → the source column(s) playing it; negative lists its columns in order. */
export interface RoleColumns {
  anchor?: string;
  positive?: string;
  negative?: string[];
  text?: string;
  label?: string;
  score?: string;
}

/** One stored row (rows.jsonl), its texts under their roles. */
export interface DatasetRow {
  /** 1-based line (CSV/TSV/JSONL) or row (Parquet) of the source where the row starts; 0 for a row added by an edit. */
  line: number;
  anchor?: string;
  positive?: string;
  negatives?: string[];
  /** After mining: each negative's similarity to the anchor under the mining model. */
  negativeScores?: number[];
  /** After mining: each negative's 1-based rank in the anchor's corpus ranking. */
  negativeRanks?: number[];
  text?: string;
  label?: string;
  score?: number;
}
