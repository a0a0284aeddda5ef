// Which fields of a row the table shows and the editor edits, by dataset format (the roles each
// format needs, shared/dataset-formats.ts). A label is shown wherever the dataset has one
// (pairs may carry a label column, kept for stratified splits); mined pairs gain negatives.
import type { DatasetRowView, DatasetSummary } from '../../../../shared/api.js';
import { DATASET_FORMATS, REQUIRED_ROLES, type DatasetFormat } from '../../../../shared/dataset-formats.js';

export type TextField = 'anchor' | 'positive' | 'text';
export type RowField = TextField | 'negatives' | 'score' | 'label';

export const FIELD_TITLES: Record<RowField, string> = {
  anchor: 'Anchor',
  positive: 'Positive',
  text: 'Text',
  negatives: 'Negatives',
  score: 'Score',
  label: 'Label',
};

/**
 * `sample` is any row of the dataset: pairs imported with a label column carry it on every row,
 * while the summary lists labels only for labelled data.
 */
export function fieldsFor(summary: Pick<DatasetSummary, 'format' | 'labels' | 'mined'>, sample?: DatasetRowView): RowField[] {
  const format: DatasetFormat = (DATASET_FORMATS as readonly string[]).includes(summary.format) ? (summary.format as DatasetFormat) : 'pairs';
  // The row keeps a negative role's columns as one list; the label is added below.
  const base = REQUIRED_ROLES[format].filter((r) => r !== 'label').map((r): RowField => (r === 'negative' ? 'negatives' : r));
  if (summary.mined && !base.includes('negatives')) base.push('negatives');
  if (summary.format === 'labeled' || summary.labels || sample?.label !== undefined) base.push('label');
  return base;
}

/** One cell's text: negatives as "3: first one · second …". */
export function cellText(row: DatasetRowView, field: RowField): string {
  if (field === 'negatives') return row.negatives?.length ? `${row.negatives.length}: ${row.negatives.join(' · ')}` : '';
  if (field === 'score') return row.score === undefined ? '' : String(row.score);
  return row[field] ?? '';
}
