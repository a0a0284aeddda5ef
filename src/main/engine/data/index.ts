// Datasets (DESIGN §2 data/): import, schema, validation, edits, splits, retrieval sets, templates.
export * from './types.js';
export { importDataset, WARNINGS_LISTED_PER_CODE, type ImportOptions, type ImportResult } from './import.js';
export { previewImport, PREVIEW_ROWS, MAX_PREVIEW_ROWS, type PreviewOptions, type ImportPreviewResult } from './preview.js';
export { detectMapping, parseMapSpec } from './mapping.js';
export { RowChecker, normalizeText, MAX_TEXT_CHARS } from './validate.js';
export {
  readDatasetMeta,
  readDatasetRows,
  readRowsWithEdits,
  readImportedRows,
  readRows,
  exportDataset,
  exportColumns,
  type IndexedRow,
  type ReadRowsOptions,
  type ExportShape,
} from './store.js';
export { applyEdit, undoLastEdit, redoEdit, editHistory, readRow, EDIT_OPS, type EditRequest, type EditResult, type EditHistory, type EditEntry, type EditOp, type RowFields } from './edits.js';
export { splitRows, splitDataset, mulberry32, type SplitOptions, type SplitFile } from './split.js';
export {
  readRetrievalSet,
  readRetrievalPart,
  deriveRetrievalSet,
  documentText,
  RETRIEVAL_FILES,
  type RetrievalSet,
  type RetrievalQuery,
  type RetrievalDoc,
  type RetrievalJudgement,
  type DeriveOptions,
} from './retrieval.js';
export { importRetrievalSet, type RetrievalFiles, type RetrievalImportOptions } from './retrieval-import.js';
export { checkTokenLengths, modelTokenizer, TOO_MANY_TOKENS, type LengthCheck, type LengthCheckResult, type TokenLengthIssue } from './token-lengths.js';
export * from './templates.js';
