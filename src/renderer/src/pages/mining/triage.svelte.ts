// Reviewing a mined dataset's negatives, a page of rows at a time. Every decision is saved at
// once through editDataset's undoable journal (rows.jsonl is never rewritten):
//   reject  → change {negative_K: null}: the K-th negative leaves the row;
//   promote → change {positive: <that text>, negative_K: null}: it becomes the row's positive
//             and leaves the negatives; the old positive leaves this row (undo brings it back);
//   accept  → nothing to save in the dataset (keeping it is the default): remembered here per
//             dataset, so the flag stops asking for attention, across reloads too.
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type { DatasetRowView, EngineApi, ErrorData } from '../../../../shared/api.js';
import { OneAtATime } from '../../lib/one-at-a-time.svelte.js';
import { flagNegative, type FlagReason, type FlagRule } from '../../lib/mining.js';

export interface NegativeView {
  /** 1-based, as editDataset's negative_K names it. */
  k: number;
  text: string;
  score: number | undefined;
  rank: number | undefined;
  /** The engine dropped the row's scores with an edit; this one was remembered from before. */
  remembered: boolean;
  flag: FlagReason | null;
  accepted: boolean;
}

const ACCEPTED_KEY = 'embedsmith.triage.';
const key = (index: number, text: string) => `${index}\u0000${text}`;

/** Rows asked of the engine per call when every row is read (its readDatasetRows limit). */
const READ_ALL_CHUNK = 5000;

export class TriageState {
  readonly dir: string;
  readonly limit: number;
  #engine: EngineApi;
  #rows = $state.raw<DatasetRowView[]>([]);
  #total = $state(0);
  #offset = $state(0);
  #search = '';
  // "Only rows with flagged negatives" filters every row, not the page: the flag depends on the
  // threshold being typed and on Keep marks kept here, so the engine cannot filter; every row
  // (matching the search) is read once and filtered here, and paged here too.
  #flaggedOnly = $state(false);
  #all = $state.raw<DatasetRowView[]>([]);
  #loading = $state(false);
  #one = new OneAtATime();
  #notice = $state('');
  #accepted = new SvelteSet<string>();
  // A changed row loses its negativeScores in the engine (they were measured for the old list;
  // edits.ts keeps them only when the negatives are unchanged). The remaining negatives' scores
  // are still true, so they are kept here, by row and text, for as long as the page lives.
  #scores = new SvelteMap<number, Record<string, { score?: number; rank?: number }>>();

  constructor(engine: EngineApi, dir: string, limit = 25) {
    this.#engine = engine;
    this.dir = dir;
    this.limit = limit;
    try {
      for (const k of JSON.parse(localStorage.getItem(ACCEPTED_KEY + dir) ?? '[]') as string[]) this.#accepted.add(k);
    } catch {
      // A damaged entry only loses the marks; the dataset itself is untouched.
    }
  }

  get rows(): DatasetRowView[] {
    return this.#rows;
  }
  get total(): number {
    return this.#total;
  }
  get offset(): number {
    return this.#offset;
  }
  get loading(): boolean {
    return this.#loading;
  }
  /** An edit is on its way: the action buttons wait, so two edits cannot cross. */
  get busy(): boolean {
    return this.#one.doing !== null;
  }
  get error(): ErrorData | null {
    return this.#one.error;
  }
  /** What the last action did, for a role=status line. */
  get notice(): string {
    return this.#notice;
  }

  get flaggedOnly(): boolean {
    return this.#flaggedOnly;
  }

  async setFlaggedOnly(on: boolean): Promise<void> {
    this.#flaggedOnly = on;
    this.#offset = 0;
    await this.load();
  }

  /**
   * The rows to show under `rule`, with their count and the flagged negatives among all of
   * them (`scope` 'all'), or the engine's page as it is (`scope` 'page').
   */
  view(rule: FlagRule): { rows: { row: DatasetRowView; negatives: NegativeView[] }[]; total: number; offset: number; flagged: number; scope: 'all' | 'page' } {
    const withFlags = (row: DatasetRowView) => ({ row, negatives: this.negatives(row, rule) });
    const flaggedIn = (v: { negatives: NegativeView[] }) => v.negatives.filter((n) => n.flag && !n.accepted).length;
    if (!this.#flaggedOnly) {
      const rows = this.#rows.map(withFlags);
      return { rows, total: this.#total, offset: this.#offset, flagged: rows.reduce((s, v) => s + flaggedIn(v), 0), scope: 'page' };
    }
    const kept = this.#all.map(withFlags).filter((v) => flaggedIn(v) > 0);
    // Rows leave the filter as they are reviewed: past the end, show the last page.
    const offset = kept.length === 0 ? 0 : Math.min(this.#offset, Math.floor((kept.length - 1) / this.limit) * this.limit);
    return { rows: kept.slice(offset, offset + this.limit), total: kept.length, offset, flagged: kept.reduce((s, v) => s + flaggedIn(v), 0), scope: 'all' };
  }

  async load(): Promise<void> {
    this.#loading = true;
    try {
      if (this.#flaggedOnly) {
        const all: DatasetRowView[] = [];
        for (let total = Infinity; all.length < total; ) {
          const r = await this.#engine.readDatasetRows(this.dir, { offset: all.length, limit: READ_ALL_CHUNK, search: this.#search || undefined });
          all.push(...r.rows);
          total = r.rows.length ? r.total : all.length;
        }
        for (const row of all) this.#remember(row);
        this.#all = all;
        return;
      }
      const r = await this.#engine.readDatasetRows(this.dir, { offset: this.#offset, limit: this.limit, search: this.#search || undefined });
      for (const row of r.rows) this.#remember(row);
      this.#rows = r.rows;
      this.#total = r.total;
    } catch (err) {
      this.#one.fail(err);
    } finally {
      this.#loading = false;
    }
  }

  async find(search: string): Promise<void> {
    this.#search = search.trim();
    this.#offset = 0;
    await this.load();
  }

  /** Moves a page from `from` (the offset shown) within `total` rows (the count shown). */
  async page(delta: 1 | -1, from: number, total: number): Promise<void> {
    const next = from + delta * this.limit;
    if (next < 0 || next >= total) return;
    this.#offset = next;
    // Every row is here already when filtering.
    if (!this.#flaggedOnly) await this.load();
  }

  negatives(row: DatasetRowView, rule: FlagRule): NegativeView[] {
    const known = this.#scores.get(row.index);
    return (row.negatives ?? []).map((text, i) => {
      const own = row.negativeScores?.[i];
      const kept = own === undefined && known && Object.hasOwn(known, text) ? known[text] : undefined;
      const score = own ?? kept?.score;
      const accepted = this.#accepted.has(key(row.index, text));
      return { k: i + 1, text, score, rank: row.negativeRanks?.[i] ?? kept?.rank, remembered: kept?.score !== undefined, flag: flagNegative(score, rule), accepted };
    });
  }

  toggleAccept(row: DatasetRowView, n: NegativeView): void {
    const k = key(row.index, n.text);
    const kept = !this.#accepted.has(k);
    if (kept) this.#accepted.add(k);
    else this.#accepted.delete(k);
    localStorage.setItem(ACCEPTED_KEY + this.dir, JSON.stringify([...this.#accepted]));
    this.#notice = `${kept ? 'Kept' : 'No longer marked as kept:'} negative ${n.k} of row ${row.index}.`;
  }

  reject(row: DatasetRowView, n: NegativeView): Promise<boolean> {
    return this.#edit(row.index, { [`negative_${n.k}`]: null }, `Removed negative ${n.k} from row ${row.index}.`);
  }

  promote(row: DatasetRowView, n: NegativeView): Promise<boolean> {
    return this.#edit(row.index, { positive: n.text, [`negative_${n.k}`]: null }, `Row ${row.index}: negative ${n.k} is now its positive.`);
  }

  async undo(): Promise<void> {
    await this.#run(async () => {
      const { editId } = await this.#engine.undoDatasetEdit(this.dir);
      this.#notice = `Undid edit ${editId}.`;
    });
  }

  dismissError(): void {
    this.#one.dismiss();
  }

  #edit(index: number, fields: Record<string, unknown>, done: string): Promise<boolean> {
    return this.#run(async () => {
      const { warnings } = await this.#engine.editDataset(this.dir, { op: 'change', index, fields });
      this.#notice = [done, ...warnings].join(' ');
    });
  }

  #run(action: () => Promise<void>): Promise<boolean> {
    return this.#one.run('Saving…', async () => {
      await action();
      await this.load();
    });
  }

  #remember(row: DatasetRowView): void {
    if (!row.negatives || !row.negativeScores) return;
    // Replaced whole (not mutated) so the map's reactive entry changes.
    const fresh = Object.fromEntries(row.negatives.map((t, i) => [t, { score: row.negativeScores![i], rank: row.negativeRanks?.[i] }]));
    this.#scores.set(row.index, { ...this.#scores.get(row.index), ...fresh });
  }
}
