// For the Data page's tests only (never imported by the app): the fake engine with a working
// edit journal — edits change the rows readDatasetRows returns, undo and redo replay them as
// a stack, and describeDataset's history says what is in effect, as the engine's journal does —
// plus mounting the app on a page with a project open.
import { EngineError, type DatasetDetail, type DatasetEdit, type DatasetRowView, type DatasetRowsQuery, type DatasetSummary, type ImportRequest, type ProjectInfo } from '../../../shared/api.js';
import { act as actThen, goTo, seedChoices, settled as settleApp, startApp, stopApp } from './app.js';
import { FakeEngine } from './fake-engine.js';

export const PROJECT: ProjectInfo = { dir: '/home/ada/Embedsmith/support', name: 'Support', schemaVersion: 1, createdAt: '', updatedAt: '' };
export const DIR = `${PROJECT.dir}/datasets/faq`;

interface Entry {
  id: number;
  index: number;
  before: DatasetRowView | null;
  after: DatasetRowView | null;
}

export class JournalEngine extends FakeEngine {
  /** Every importDataset request, whole (the fake's own log keeps only the file). */
  imports: ImportRequest[] = [];
  #log: { id: number; op: string; index?: number; time: string; undone: boolean }[] = [];
  #active: Entry[] = [];
  #redoable: Entry[] = [];
  #id = 0;

  constructor() {
    super();
    this.projects.set(PROJECT.dir, PROJECT);
    this.open = PROJECT;
  }

  /** A dataset of `rows` in the project, summary and detail to match. */
  addDataset(rows: DatasetRowView[], over: Partial<DatasetSummary> = {}, dir = DIR): DatasetSummary {
    const summary: DatasetSummary = {
      dir, name: dir.split('/').pop()!, format: 'pairs', rows: rows.length, skipped: 0, warnings: 0, labels: null, mined: false, split: null, createdAt: '', ...over,
    };
    this.datasets.push(summary);
    this.datasetRows.set(dir, rows);
    this.datasetDetails.set(dir, { summary, issues: [], issueCounts: {}, miningReport: null, history: [] });
    return summary;
  }

  // Answers are copies, as after the wire: the page never shares objects with the engine.
  override async describeDataset(dir: string): Promise<DatasetDetail> {
    return structuredClone(await super.describeDataset(dir));
  }
  override async readDatasetRows(dir: string, query: DatasetRowsQuery): Promise<{ total: number; rows: DatasetRowView[] }> {
    return structuredClone(await super.readDatasetRows(dir, query));
  }

  override async importDataset(request: ImportRequest): Promise<{ jobId: string }> {
    this.imports.push(request);
    return super.importDataset(request);
  }

  override async editDataset(dir: string, edit: DatasetEdit): Promise<{ editId: number; warnings: string[] }> {
    await super.editDataset(dir, edit);
    if (edit.op === 'add') throw new EngineError('UNSUPPORTED', 'adds are not modelled by this fake');
    const before = this.datasetRows.get(dir)!.find((r) => r.index === edit.index)!;
    const after = edit.op === 'delete' ? null : edit.op === 'relabel' ? { ...before, label: edit.label } : { ...before, ...edit.fields };
    const e: Entry = { id: ++this.#id, index: edit.index, before, after };
    this.#active.push(e);
    this.#redoable = [];
    this.#log.push({ id: e.id, op: edit.op, index: edit.index, time: '', undone: false });
    this.#apply(dir, e.index, after);
    return { editId: e.id, warnings: [] };
  }

  override async undoDatasetEdit(dir: string): Promise<{ editId: number }> {
    return this.#move(dir, 'undo');
  }
  override async redoDatasetEdit(dir: string): Promise<{ editId: number }> {
    return this.#move(dir, 'redo');
  }

  async #move(dir: string, op: 'undo' | 'redo'): Promise<{ editId: number }> {
    await (op === 'undo' ? super.undoDatasetEdit(dir) : super.redoDatasetEdit(dir));
    const e = (op === 'undo' ? this.#active : this.#redoable).pop();
    if (!e) throw new EngineError('BAD_INPUT', `${dir}: nothing to ${op}.`);
    (op === 'undo' ? this.#redoable : this.#active).push(e);
    this.#log.find((l) => l.id === e.id)!.undone = op === 'undo';
    this.#log.push({ id: ++this.#id, op, time: '', undone: false });
    this.#apply(dir, e.index, op === 'undo' ? e.before : e.after);
    return { editId: e.id };
  }

  #apply(dir: string, index: number, row: DatasetRowView | null): void {
    const rows = this.datasetRows.get(dir)!.filter((r) => r.index !== index);
    if (row) rows.push(row);
    rows.sort((a, b) => a.index - b.index);
    this.datasetRows.set(dir, rows);
    const detail = this.datasetDetails.get(dir)!;
    detail.summary = { ...detail.summary, rows: rows.length };
    detail.history = this.#log.map((l) => ({ ...l }));
  }
}

export const pairs = (n: number): DatasetRowView[] =>
  Array.from({ length: n }, (_, i) => ({ index: i, line: i + 2, anchor: `question ${i}`, positive: `answer ${i}`, side: 'train' }));

/** Mounts the app on `hash`; `dataset` is put in the Workbench first, as a reload would find it. */
export async function start(engine: FakeEngine, hash = '#/data', dataset: string | null = null): Promise<void> {
  // jsdom has no layout: the table's height binding needs a ResizeObserver that never fires.
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as unknown as typeof ResizeObserver;
  if (dataset) seedChoices(PROJECT.dir, { dataset });
  await startApp(engine, hash, ROUNDS);
}

/** The data pages' effects chain several engine calls: four rounds let them all finish. */
const ROUNDS = 4;
export { goTo, seedChoices, stopApp as stop };
export const settled = (rounds = ROUNDS) => settleApp(rounds);
export const act = (f: () => void) => actThen(f, ROUNDS);

/** A form control (input, textarea, select) by its label's exact text. */
export function control<T extends HTMLElement = HTMLInputElement>(text: string): T {
  const label = [...document.querySelectorAll('label')].find((l) => l.textContent?.trim() === text);
  if (!label) throw new Error(`no label "${text}"`);
  const el = document.getElementById(label.htmlFor);
  if (!el) throw new Error(`label "${text}" points at nothing`);
  return el as T;
}

export function setValue(el: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, value: string): void {
  el.value = value;
  el.dispatchEvent(new Event(el instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
}

/** The problem (or hint) text a control points at with aria-describedby. */
export const describedBy = (el: HTMLElement) => document.getElementById(el.getAttribute('aria-describedby') ?? '')?.textContent?.trim() ?? '';
