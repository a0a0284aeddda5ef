// Datasets (DESIGN §2 data/): import, schema, validation, splits, templates.
export * from './types.js';
export { importDataset, WARNINGS_LISTED_PER_CODE, type ImportOptions, type ImportResult } from './import.js';
export { detectMapping, parseMapSpec } from './mapping.js';
export { RowChecker, normalizeText, MAX_TEXT_CHARS } from './validate.js';
export { readDatasetMeta, readRows, exportDataset, exportColumns } from './store.js';
export { splitRows, splitDataset, mulberry32, type SplitOptions, type SplitFile } from './split.js';
export * from './templates.js';
