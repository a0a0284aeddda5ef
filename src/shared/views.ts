// What EngineApi's read side returns for the pages: datasets (summary, report, rows), models,
// template previews, saved templates, training runs and projections — plain objects, read back
// from the engine's folders — and the one edit a dataset row can take.
import type { DatasetRow, EncodingName, RoleColumns, RowFormat } from './dataset-formats.js';
import type { GeneralEvalReport, ImportRequest } from './jobs.js';
import type { InstructionTemplate } from './templates.js';

/** One edit of a stored dataset's rows; `index` is the stable 0-based row index. */
export type DatasetEdit =
  | { op: 'add'; row: Record<string, unknown> }
  | { op: 'change'; index: number; fields: Record<string, unknown> }
  | { op: 'delete'; index: number }
  | { op: 'relabel'; index: number; label: string };

/** A dataset folder of the open project (PROJECT/datasets/NAME). */
export interface DatasetSummary {
  dir: string;
  name: string;
  format: string;
  rows: number;
  skipped: number;
  warnings: number;
  /** label → rows, for labelled data (and pairs imported with a label column). */
  labels: Record<string, number> | null;
  /** Negatives were mined into it (mining-report.json exists). */
  mined: boolean;
  split: { train: number; eval: number } | null;
  createdAt: string;
}

/** One stored row as the UI shows it; `index` is stable across edits. */
export interface DatasetRowView extends DatasetRow {
  index: number;
  side: 'train' | 'eval';
}

export interface DatasetRowsQuery {
  offset: number;
  limit: number;
  /** Case-insensitive substring over every text of the row. */
  search?: string;
  label?: string;
}

/**
 * A score distribution in a mining report (mining-report.json `stats`), as sentence-transformers
 * prints it after mining: count, mean, sample std, min, quartiles (linear interpolation), max.
 */
export interface ScoreStats {
  count: number;
  mean: number;
  std: number;
  min: number;
  p25: number;
  median: number;
  p75: number;
  max: number;
}

export interface DatasetDetail {
  summary: DatasetSummary;
  /** report.json: skipped rows first, then warnings (each with line, code, message). */
  issues: { line: number | null; code: string; message: string; severity: 'error' | 'warning' | 'info' }[];
  issueCounts: Record<string, number>;
  /** mining-report.json when the dataset was mined (histograms, rule counts, short anchors). */
  miningReport: unknown;
  /** The undoable edit journal. */
  history: { id: number; op: string; index?: number; time: string; undone: boolean }[];
}

export interface ModelSummary {
  dir: string;
  family: string;
  hidden: number;
  layers: number;
  heads: number;
  vocabSize: number;
  /** Encoder parameters. */
  params: number;
  /** Σ (in + out) over the linears LoRA adapts by default (every linear of a layer): `--lora R` trains R × this parameters. */
  loraParamsPerRank: number;
  maxLength: number | null;
  positions: number;
  pooling: string;
  normalize: boolean;
  prompts: Record<string, string>;
  /** What the loader decided on the user's behalf. */
  notes: string[];
}

export interface TemplatePreviewRequest {
  /** A prefix or a format with {text}. */
  template: string;
  texts: string[];
  /** Count tokens with this model's tokenizer (and flag texts over its max length). */
  model?: string;
  maxLength?: number;
}

/** What previewImport reads: importDataset's options without the output, and how many rows. */
export type ImportPreviewRequest = Omit<ImportRequest, 'out'> & {
  /** Source rows to read and check: 1–200, 20 when absent. */
  limit?: number;
};

/** One source row as the import would store it; `skipped` rows are left out (the issues say why). */
export interface ImportPreviewRow extends Omit<DatasetRow, 'negativeScores' | 'negativeRanks'> {
  skipped: boolean;
}

/** The engine's own reading of a file's first rows, as importDataset with the same options would do it. */
export interface ImportPreview {
  /** The file, as an absolute path. */
  file: string;
  kind: 'csv' | 'tsv' | 'jsonl' | 'parquet';
  /** Null for Parquet. */
  encoding: EncodingName | null;
  /** The delimiter given or sniffed (CSV/TSV); null otherwise. */
  delimiter: string | null;
  columns: string[];
  format: RowFormat;
  /** Role → column(s) the import would use; negative lists its columns in order. */
  roles: RoleColumns;
  /** Columns no role uses. */
  ignoredColumns: string[];
  rows: ImportPreviewRow[];
  /** What the import report would say about these rows (skips, warnings), by line. */
  issues: { line: number | null; code: string; message: string; severity: 'error' | 'warning' | 'info' }[];
  /** About the whole file (how the encoding was decided). */
  notes: { line: number | null; code: string; message: string; severity: 'error' | 'warning' | 'info' }[];
  bytes: number;
  /** How much of the file was read for this answer. */
  bytesRead: number;
  /** The rows are all the file has (otherwise there are more past them). */
  complete: boolean;
}

/** A project's saved instruction templates (PROJECT/templates.json). */
export interface ProjectTemplates {
  /** The file they are kept in. */
  file: string;
  /** The template the app trains with (the Templates page edits it); null when none is chosen. */
  active: string | null;
  /** In the file's order. */
  templates: { name: string; template: InstructionTemplate }[];
}

export interface RunView {
  dir: string;
  /** config.json (every resolved setting). */
  config: Record<string, unknown>;
  /** metrics.jsonl: step, epoch, loss, lr, gradNorm, pairsPerSec, skipped?, eval? */
  metrics: Record<string, unknown>[];
  checkpoints: number[];
  /** RUN/model when the run finished. */
  modelDir: string | null;
  /** The device the run trained on ('auto' resolved) and why, from RUN/device.json; null for runs made before it was written. */
  device?: { device: string; reason: string } | null;
  /** RUN/general-eval.json (the forgetting guard's before/after on the general set), when the run has one. */
  general?: GeneralEvalReport;
}

export interface ProjectionView {
  points: [number, number][];
  labels: (string | null)[];
  texts: string[];
  /** Each point's nearest other points in the embedding space; absent in files written before they were kept. */
  neighbours?: ProjectionNeighbours;
}

/** Nearest neighbours by cosine similarity of the projected model's embeddings (not the 2-D layout). */
export interface ProjectionNeighbours {
  /** Neighbours per point. */
  k: number;
  /** [n × k] row-major: point i's are indices[i·k] … indices[i·k + k − 1], nearest first; never i itself. */
  indices: number[];
  /** [n × k] their cosine similarities, matching `indices`. */
  scores: number[];
}
