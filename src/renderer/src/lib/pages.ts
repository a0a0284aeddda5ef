// The sections of the app in pipeline order (DESIGN §1). App shows a page only once the engine
// has answered, and a page that works inside a project only while one is open (saying why
// otherwise), so the pages themselves start from an engine and, where they need it, a project.
export type PageId = 'project' | 'models' | 'data' | 'templates' | 'mining' | 'training' | 'evaluate' | 'embeddings' | 'export';

export interface Page {
  id: PageId;
  label: string;
  /** Set when the page works inside the open project: why, shown while none is open
   *  (followed by "Open or create a project first"). */
  needsProject?: string;
}

export const PAGES: readonly Page[] = [
  { id: 'project', label: 'Project' },
  { id: 'models', label: 'Models' },
  { id: 'data', label: 'Data', needsProject: 'Datasets belong to a project.' },
  { id: 'templates', label: 'Templates', needsProject: 'Templates are kept per project.' },
  { id: 'mining', label: 'Mining', needsProject: 'Mined datasets are saved in a project.' },
  { id: 'training', label: 'Training', needsProject: 'Runs are saved in a project.' },
  { id: 'evaluate', label: 'Evaluate', needsProject: 'Evaluation compares models on a dataset of the open project.' },
  { id: 'embeddings', label: 'Embeddings', needsProject: 'Projections are made from a dataset of the open project.' },
  { id: 'export', label: 'Export', needsProject: "Exports go into the open project's folder by default." },
];

export function pageById(id: PageId): Page {
  return PAGES.find((p) => p.id === id)!;
}

/** `#/data` → 'data'; anything unknown falls back to the Project page. */
export function pageFromHash(hash: string): PageId {
  const id = hash.replace(/^#\/?/, '');
  return PAGES.some((p) => p.id === id) ? (id as PageId) : 'project';
}
