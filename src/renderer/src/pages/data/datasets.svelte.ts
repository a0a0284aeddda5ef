// The Data page's view of the project's datasets: the list, the one being worked on (its
// summary, report and edit history), and the actions on it — edit, undo, redo, split. After
// each action the detail and the visible rows are read again from the engine, which is the
// only truth (edits live in its journal, not here). Errors are kept as data for the page.
import type { DatasetDetail, DatasetEdit, DatasetSummary, EngineApi, ErrorData } from '../../../../shared/api.js';
import { OneAtATime } from '../../lib/one-at-a-time.svelte.js';
import { DatasetRows } from './dataset-rows.svelte.js';

type History = DatasetDetail['history'];

/**
 * What undo and redo can do, from the journal as describeDataset lists it. Undo needs an edit
 * in effect. Redo needs the newest edit to be undone: a new edit drops the redo stack, and
 * undo/redo work as a stack, so anything redoable implies the newest edit was undone.
 */
export function undoState(history: History): { canUndo: boolean; canRedo: boolean } {
  const edits = history.filter((e) => e.op !== 'undo' && e.op !== 'redo');
  return { canUndo: edits.some((e) => !e.undone), canRedo: edits.at(-1)?.undone ?? false };
}

export class DatasetsState {
  #engine: EngineApi;
  #list = $state.raw<DatasetSummary[]>([]);
  #listed = $state(false);
  #detail = $state.raw<DatasetDetail | null>(null);
  #rows = $state.raw<DatasetRows | null>(null);
  #one = new OneAtATime();
  /** What the engine noticed but allowed in the last edit (e.g. anchor equals positive). */
  #warnings = $state.raw<string[]>([]);
  /** The last action's outcome, for a polite live region ("Undid the change of row 4"). */
  #notice = $state('');
  #selecting: string | null = null;

  constructor(engine: EngineApi) {
    this.#engine = engine;
  }

  get list(): DatasetSummary[] {
    return this.#list;
  }
  /** True once the list was asked for (either way): "no datasets" vs "not asked yet". */
  get listed(): boolean {
    return this.#listed;
  }
  get detail(): DatasetDetail | null {
    return this.#detail;
  }
  get rows(): DatasetRows | null {
    return this.#rows;
  }
  get busy(): string | null {
    return this.#one.doing;
  }
  get error(): ErrorData | null {
    return this.#one.error;
  }
  get warnings(): string[] {
    return this.#warnings;
  }
  get notice(): string {
    return this.#notice;
  }
  get canUndo(): boolean {
    return !!this.#detail && undoState(this.#detail.history).canUndo;
  }
  get canRedo(): boolean {
    return !!this.#detail && undoState(this.#detail.history).canRedo;
  }

  async loadList(): Promise<void> {
    try {
      this.#list = await this.#engine.listDatasets();
    } catch (err) {
      this.#one.fail(err);
    } finally {
      this.#listed = true;
    }
  }

  /** Shows `dir` (or nothing); its rows start at the top, unfiltered. */
  async select(dir: string | null): Promise<void> {
    if (dir === (this.#rows?.dir ?? null) && dir === this.#selecting) return;
    this.#selecting = dir;
    this.#warnings = [];
    if (!dir) {
      this.#detail = null;
      this.#rows = null;
      return;
    }
    this.#rows = new DatasetRows(this.#engine, dir);
    this.#detail = null;
    try {
      const detail = await this.#engine.describeDataset(dir);
      if (this.#selecting === dir) this.#detail = detail;
    } catch (err) {
      if (this.#selecting === dir) this.#one.fail(err);
    }
  }

  edit(edit: DatasetEdit, notice: string): Promise<boolean> {
    return this.#act('Saving the edit…', async (dir) => {
      const r = await this.#engine.editDataset(dir, edit);
      this.#warnings = r.warnings;
      return notice;
    });
  }

  undo(): Promise<boolean> {
    return this.#act('Undoing…', async (dir) => {
      const { editId } = await this.#engine.undoDatasetEdit(dir);
      return `Undid ${this.#describe(editId)}`;
    });
  }

  redo(): Promise<boolean> {
    return this.#act('Redoing…', async (dir) => {
      const { editId } = await this.#engine.redoDatasetEdit(dir);
      return `Redid ${this.#describe(editId)}`;
    });
  }

  split(evalFraction: number, seed: number): Promise<boolean> {
    return this.#act('Splitting…', async (dir) => {
      const r = await this.#engine.splitDataset(dir, { evalFraction, seed });
      return `Split: ${r.train} rows for training, ${r.eval} for evaluation`;
    });
  }

  dismissError(): void {
    this.#one.dismiss();
  }

  /** "the change of row 4", from the history read before the action. */
  #describe(editId: number): string {
    const e = this.#detail?.history.find((h) => h.id === editId);
    if (!e) return `edit ${editId}`;
    const what = { add: 'the added row', change: 'the change', delete: 'the deletion', relabel: 'the relabel' }[e.op] ?? e.op;
    return e.index !== undefined && e.op !== 'add' ? `${what} of row ${e.index}` : what;
  }

  /** One action at a time (edits are journalled in order), then everything shown is read again. */
  #act(label: string, action: (dir: string) => Promise<string>): Promise<boolean> {
    const dir = this.#rows?.dir;
    if (!dir || this.#one.doing) return Promise.resolve(false);
    this.#warnings = [];
    return this.#one.run(label, async () => {
      this.#notice = await action(dir);
      const [detail, list] = await Promise.all([this.#engine.describeDataset(dir), this.#engine.listDatasets()]);
      if (this.#rows?.dir === dir) {
        this.#detail = detail;
        this.#rows.refresh();
      }
      this.#list = list;
    });
  }
}
