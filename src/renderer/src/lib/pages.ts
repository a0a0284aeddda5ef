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
  { id: 'data', label: 'Data' },
  { id: 'templates', label: 'Templates' },
  { id: 'mining', label: 'Mining' },
  { id: 'training', label: 'Training' },
  { id: 'evaluate', label: 'Evaluate' },
  { id: 'embeddings', label: 'Embeddings' },
  { id: 'export', label: 'Export' },
];

export function pageById(id: PageId): Page {
  return PAGES.find((p) => p.id === id)!;
}

/** `#/data` → 'data'; anything unknown falls back to the Project page. */
export function pageFromHash(hash: string): PageId {
  const id = hash.replace(/^#\/?/, '');
  return PAGES.some((p) => p.id === id) ? (id as PageId) : 'project';
}
