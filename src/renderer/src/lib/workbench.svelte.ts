// What the pages share about the work in progress: the base model, the dataset, the training
// run and the projections the user picked on one page and the next page starts from. Kept
// per project in localStorage, so a reload (or switching pages) does not lose the choices.
import type { ProjectInfo } from '../../../shared/api.js';

const KEY = 'embedsmith.workbench.';

export interface WorkbenchChoices {
  /** Base model folder. */
  model: string | null;
  /** The dataset being worked on (imported, or mined). */
  dataset: string | null;
  /** The mined dataset training uses, when there is one. */
  mined: string | null;
  /** The training run folder. */
  run: string | null;
  /** The trained model folder (RUN/model) once a run finished. */
  trained: string | null;
  /** UMAP projection files (JSON) of the base and trained model. */
  projectionBefore: string | null;
  projectionAfter: string | null;
}

const EMPTY: WorkbenchChoices = { model: null, dataset: null, mined: null, run: null, trained: null, projectionBefore: null, projectionAfter: null };

export class Workbench {
  #projectDir: string | null = null;
  #choices = $state<WorkbenchChoices>({ ...EMPTY });

  get choices(): Readonly<WorkbenchChoices> {
    return this.#choices;
  }

  /** The open project changed: load its choices (or none). */
  setProject(project: ProjectInfo | null): void {
    this.#projectDir = project?.dir ?? null;
    let saved: Partial<WorkbenchChoices> = {};
    try {
      saved = this.#projectDir ? (JSON.parse(localStorage.getItem(KEY + this.#projectDir) ?? '{}') as Partial<WorkbenchChoices>) : {};
    } catch {
      saved = {};
    }
    this.#choices = { ...EMPTY, ...saved };
  }

  get projectDir(): string | null {
    return this.#projectDir;
  }

  set<K extends keyof WorkbenchChoices>(key: K, value: WorkbenchChoices[K]): void {
    this.#choices = { ...this.#choices, [key]: value };
    if (this.#projectDir) localStorage.setItem(KEY + this.#projectDir, JSON.stringify(this.#choices));
  }
}
