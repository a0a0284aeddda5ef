// The Data page's state against the fake engine: rows fetched in blocks only as the window
// needs them, stale answers dropped after a new search, and edits / undo / redo / split that
// read everything shown back from the engine afterwards.
import { describe, expect, it } from 'vitest';
import { EngineError, type DatasetDetail, type DatasetRowView, type DatasetRowsQuery } from '../../../../shared/api.js';
import { FakeEngine } from '../../testing/fake-engine.js';
import { BLOCK, DatasetRows } from './dataset-rows.svelte.js';
import { DatasetsState, undoState } from './datasets.svelte.js';

const DIR = '/p/datasets/faq';
const settle = () => new Promise((r) => setTimeout(r, 0));
const rowsOf = (n: number): DatasetRowView[] =>
  Array.from({ length: n }, (_, i) => ({ index: i, line: i + 2, anchor: `question ${i}`, positive: `answer ${i}`, side: 'train' as const }));
const reads = (e: FakeEngine) => e.calls.filter((c) => c.method === 'readDatasetRows').map((c) => c.args[1] as DatasetRowsQuery);

function engineWith(n: number): FakeEngine {
  const e = new FakeEngine();
  e.datasetRows.set(DIR, rowsOf(n));
  const summary = { dir: DIR, name: 'faq', format: 'pairs', rows: n, skipped: 0, warnings: 0, labels: null, mined: false, split: null, createdAt: '' };
  e.datasets = [summary];
  e.datasetDetails.set(DIR, { summary, issues: [], issueCounts: {}, miningReport: null, history: [] });
  return e;
}

describe('DatasetRows', () => {
  it('asks for the blocks the window needs, once each, and knows the total from the first', async () => {
    const e = engineWith(100_000);
    const rows = new DatasetRows(e, DIR);
    rows.need(0, 0); // total unknown: the first block tells it
    await settle();
    expect(rows.total).toBe(100_000);
    expect(reads(e)).toEqual([{ offset: 0, limit: BLOCK }]);
    expect(rows.row(5)?.anchor).toBe('question 5');
    rows.need(0, 30);
    rows.need(50_190, 50_230); // straddles two blocks
    rows.need(50_190, 50_230); // already on its way: not asked twice
    await settle();
    expect(reads(e).map((q) => q.offset)).toEqual([0, 50_000, 50_200]);
    expect(rows.row(50_199)?.anchor).toBe('question 50199');
    expect(rows.row(50_200)?.anchor).toBe('question 50200');
    expect(rows.row(70_000)).toBeUndefined(); // never fetched
  });

  it('drops answers for an older search, so fast typing never shows stale rows', async () => {
    const e = engineWith(1000);
    const pending: (() => void)[] = [];
    const real = e.readDatasetRows.bind(e);
    e.readDatasetRows = (dir, q) => new Promise((resolve) => pending.push(() => resolve(real(dir, q))));
    const rows = new DatasetRows(e, DIR);
    rows.need(0, 10);
    rows.setFilter({ search: 'question 99', label: null });
    expect(rows.total).toBeNull();
    pending[1](); // the new search answers first …
    await settle();
    pending[0](); // … then the old unfiltered page arrives late
    await settle();
    await settle();
    expect(rows.total).toBe(11); // 99, 990 … 999
    expect(rows.row(0)?.anchor).toBe('question 99');
    expect(reads(e)).toContainEqual({ offset: 0, limit: BLOCK, search: 'question 99' });
  });

  it('keeps the old rows on screen while a refresh is on its way, then shows the new ones', async () => {
    const e = engineWith(10);
    const rows = new DatasetRows(e, DIR);
    rows.need(0, 10);
    await settle();
    e.datasetRows.get(DIR)![3] = { ...e.datasetRows.get(DIR)![3], anchor: 'edited' };
    rows.refresh();
    expect(rows.row(3)?.anchor).toBe('question 3'); // no flash of "Loading…"
    await settle();
    expect(rows.row(3)?.anchor).toBe('edited');
  });

  it("keeps the engine's error for the page", async () => {
    const rows = new DatasetRows(new FakeEngine(), '/gone');
    rows.need(0, 1);
    await settle();
    expect(rows.error?.code).toBe('NOT_FOUND');
  });
});

describe('undoState', () => {
  const h = (...entries: [string, boolean][]): DatasetDetail['history'] =>
    entries.map(([op, undone], i) => ({ id: i + 1, op, time: '', undone }));
  it('undo needs an edit in effect; redo needs the newest edit undone', () => {
    expect(undoState([])).toEqual({ canUndo: false, canRedo: false });
    expect(undoState(h(['change', false]))).toEqual({ canUndo: true, canRedo: false });
    expect(undoState(h(['change', true], ['undo', false]))).toEqual({ canUndo: false, canRedo: true });
    // A, B; undo B; undo A; redo A → B is still redoable, A can be undone again.
    expect(undoState(h(['change', false], ['delete', true], ['undo', false], ['undo', false], ['redo', false]))).toEqual({ canUndo: true, canRedo: true });
    // A; undo A; new edit C: the redo stack is gone.
    expect(undoState(h(['change', true], ['undo', false], ['relabel', false]))).toEqual({ canUndo: true, canRedo: false });
  });
});

describe('DatasetsState', () => {
  it('edits through the journal, then reads the detail, the list and the rows again', async () => {
    const e = engineWith(10);
    const s = new DatasetsState(e);
    await s.select(DIR);
    s.rows!.need(0, 10);
    await settle();
    const before = e.calls.length;
    expect(await s.edit({ op: 'change', index: 2, fields: { anchor: 'new' } }, 'Saved row 2')).toBe(true);
    await settle();
    expect(e.calls.slice(before).map((c) => c.method)).toEqual(['editDataset', 'describeDataset', 'listDatasets', 'readDatasetRows']);
    expect(e.calls[before].args).toEqual([DIR, { op: 'change', index: 2, fields: { anchor: 'new' } }]);
    expect(s.notice).toBe('Saved row 2');
  });

  it('names what undo undid, from the history', async () => {
    const e = engineWith(10);
    e.datasetDetails.get(DIR)!.history = [{ id: 7, op: 'change', index: 4, time: '', undone: false }];
    e.undoDatasetEdit = async () => ({ editId: 7 });
    const s = new DatasetsState(e);
    await s.select(DIR);
    expect(s.canUndo).toBe(true);
    await s.undo();
    expect(s.notice).toBe('Undid the change of row 4');
  });

  it("keeps a refused edit's error (the engine's message) and stays usable", async () => {
    const e = engineWith(10);
    e.editDataset = async () => {
      throw new EngineError('BAD_INPUT', '/p/datasets/faq: row 2: anchor is empty. Fix: give it a text.');
    };
    const s = new DatasetsState(e);
    await s.select(DIR);
    expect(await s.edit({ op: 'change', index: 2, fields: { anchor: '' } }, 'x')).toBe(false);
    expect(s.error).toEqual({ code: 'BAD_INPUT', message: '/p/datasets/faq: row 2: anchor is empty. Fix: give it a text.' });
    expect(s.busy).toBeNull();
    expect(await s.split(0.2, 7)).toBe(true);
    expect(e.calls.find((c) => c.method === 'splitDataset')?.args).toEqual([DIR, { evalFraction: 0.2, seed: 7 }]);
    expect(s.notice).toBe('Split: 8 rows for training, 2 for evaluation');
  });
});
