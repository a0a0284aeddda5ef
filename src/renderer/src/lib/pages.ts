// The sections of the app in pipeline order (DESIGN §1). A section whose capability has not
// landed yet says what it will do and which issue brings it, instead of showing fake content.
export type PageId = 'project' | 'models' | 'data' | 'templates' | 'mining' | 'training' | 'evaluate' | 'embeddings' | 'export';

export interface Page {
  id: PageId;
  label: string;
  /** Set while the page's capability is still to come: what arrives (one subject, read as
   *  "<arrives> arrives with issue #N"), and with which issue. */
  pending?: { arrives: string; issue: number };
}

export const PAGES: readonly Page[] = [
  { id: 'project', label: 'Project' },
  { id: 'models', label: 'Models' },
  {
    id: 'data',
    label: 'Data',
    pending: { arrives: 'Importing CSV/TSV/JSONL/Parquet datasets (validated rows, roles, labels, splits)', issue: 5 },
  },
  {
    id: 'templates',
    label: 'Templates',
    pending: { arrives: 'Applying instruction templates to queries and documents per role', issue: 5 },
  },
  {
    id: 'mining',
    label: 'Mining',
    pending: { arrives: 'Mining hard negatives, with scores and ranks to review', issue: 6 },
  },
  {
    id: 'training',
    label: 'Training',
    pending: { arrives: 'Training (InfoNCE with in-batch and hard negatives, checkpoints, live loss)', issue: 7 },
  },
  {
    id: 'evaluate',
    label: 'Evaluate',
    pending: { arrives: 'Measuring retrieval quality before and after training (nDCG@10, MRR@10, recall@k)', issue: 6 },
  },
  {
    id: 'embeddings',
    label: 'Embeddings',
    pending: { arrives: 'Plotting the UMAP projection of embeddings before and after training', issue: 6 },
  },
  {
    id: 'export',
    label: 'Export',
    pending: { arrives: 'Exporting a sentence-transformers folder and an ONNX model', issue: 4 },
  },
];

export function pageById(id: PageId): Page {
  return PAGES.find((p) => p.id === id)!;
}

/** `#/data` → 'data'; anything unknown falls back to the Project page. */
export function pageFromHash(hash: string): PageId {
  const id = hash.replace(/^#\/?/, '');
  return PAGES.some((p) => p.id === id) ? (id as PageId) : 'project';
}
