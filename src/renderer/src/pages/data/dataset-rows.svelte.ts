// The rows of one dataset as the table sees them: fetched from readDatasetRows in blocks of
// BLOCK rows as the window needs them, so a 100k-row dataset costs a few blocks of memory and a
// few small calls, never the whole file. A search or label filter starts a new generation:
// answers for an older one are dropped, so a slow reply cannot show rows of a past search.
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import { EngineError, type DatasetRowView, type EngineApi, type ErrorData } from '../../../../shared/api.js';
import { LatestAnswer, type Fresh } from '../../lib/latest-answer.js';
import { blocksFor } from './row-window.js';

/** Rows per readDatasetRows call: a screenful many times over, far under the engine's 5000. */
export const BLOCK = 200;
/** Blocks kept (the window's own are never evicted): about 8000 rows. */
const KEEP = 40;

export interface RowFilter {
  /** Case-insensitive substring over every text of a row ('' = all). */
  search: string;
  /** Only rows with this label (null = all). */
  label: string | null;
}

export class DatasetRows {
  readonly dir: string;
  #engine: EngineApi;
  #filter = $state.raw<RowFilter>({ search: '', label: null });
  #blocks = new SvelteMap<number, DatasetRowView[]>();
  /** After an edit, the blocks from before it stay on screen until their fresh copies arrive. */
  #stale = new SvelteMap<number, DatasetRowView[]>();
  #total = $state<number | null>(null);
  #error = $state.raw<ErrorData | null>(null);
  #latest = new LatestAnswer();
  #pending = new SvelteSet<number>();
  /** The window last asked for, refetched by refresh(). */
  #want: [number, number] = [0, 1];

  constructor(engine: EngineApi, dir: string) {
    this.#engine = engine;
    this.dir = dir;
  }

  /** Rows matching the filter; null until the first block arrives. */
  get total(): number | null {
    return this.#total;
  }
  get filter(): RowFilter {
    return this.#filter;
  }
  get error(): ErrorData | null {
    return this.#error;
  }

  /** The row at `position` among the filtered rows, or undefined while its block loads. */
  row(position: number): DatasetRowView | undefined {
    const b = Math.floor(position / BLOCK);
    return (this.#blocks.get(b) ?? this.#stale.get(b))?.[position - b * BLOCK];
  }

  setFilter(filter: RowFilter): void {
    if (filter.search === this.#filter.search && filter.label === this.#filter.label) return;
    this.#filter = { ...filter };
    this.#restart(false);
  }

  /** The rows changed in the engine (an edit, undo, split): fetch what is on screen again. */
  refresh(): void {
    this.#restart(true);
  }

  /** Fetches the blocks holding rows [start, end) that are not here yet. */
  need(start: number, end: number): void {
    // Until the total is known, the first block tells it.
    this.#want = [start, this.#total === null ? Math.max(end, start + 1) : end];
    for (const b of blocksFor(this.#want[0], this.#want[1], BLOCK)) {
      if (!this.#blocks.has(b) && !this.#pending.has(b)) void this.#fetch(b, this.#latest.still());
    }
    this.#evict();
  }

  #restart(keepOnScreen: boolean): void {
    this.#latest.forget();
    this.#pending.clear();
    this.#stale.clear();
    if (keepOnScreen) for (const [b, r] of this.#blocks) this.#stale.set(b, r);
    this.#blocks.clear();
    if (!keepOnScreen) this.#total = null;
    this.need(keepOnScreen ? this.#want[0] : 0, keepOnScreen ? this.#want[1] : 1);
  }

  async #fetch(block: number, fresh: Fresh): Promise<void> {
    this.#pending.add(block);
    const { search, label } = this.#filter;
    try {
      const page = await this.#engine.readDatasetRows(this.dir, {
        offset: block * BLOCK,
        limit: BLOCK,
        ...(search.trim() ? { search: search.trim() } : {}),
        ...(label !== null ? { label } : {}),
      });
      if (!fresh()) return;
      this.#error = null;
      this.#blocks.set(block, page.rows);
      this.#total = page.total;
      if (this.#stale.size && blocksFor(this.#want[0], this.#want[1], BLOCK).every((b) => this.#blocks.has(b))) this.#stale.clear();
    } catch (err) {
      if (fresh()) this.#error = EngineError.toData(err);
    } finally {
      if (fresh()) this.#pending.delete(block);
    }
  }

  #evict(): void {
    if (this.#blocks.size <= KEEP) return;
    const keep = blocksFor(this.#want[0], this.#want[1], BLOCK);
    // Furthest from the window first: scrolling back nearby stays instant.
    const mid = Math.floor(this.#want[0] / BLOCK);
    const far = [...this.#blocks.keys()].filter((b) => !keep.includes(b)).sort((a, b) => Math.abs(b - mid) - Math.abs(a - mid));
    for (const b of far.slice(0, this.#blocks.size - KEEP)) this.#blocks.delete(b);
  }
}
