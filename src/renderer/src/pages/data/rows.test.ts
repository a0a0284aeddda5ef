// The Data page's dataset view against the fake engine with a working journal: a windowed
// table over 100k rows driven by the keyboard, search and label filter, edit / relabel /
// delete with undo and redo, refused edits shown with the engine's message, and the split.
import { afterEach, describe, expect, it } from 'vitest';
import { EngineError } from '../../../../shared/api.js';
import { button } from '../../testing/dom.js';
import { DIR, JournalEngine, act, control, describedBy, pairs, settled, setValue, start, stop } from '../../testing/data-testing.js';

afterEach(stop);

const grid = () => document.querySelector<HTMLElement>('[role="grid"]')!;
const bodyRows = () => [...grid().querySelectorAll<HTMLElement>('.scroller [role="row"]')];
const cells = (position: number) => [...document.getElementById(`data-row-${position}`)!.querySelectorAll('[role="gridcell"]')].map((c) => c.textContent?.trim());
const reads = (e: JournalEngine) => e.calls.filter((c) => c.method === 'readDatasetRows').map((c) => c.args[1] as { offset: number; search?: string; label?: string });
const rowsStatus = () => document.querySelector('[data-testid="rows-status"]')!.textContent!.trim();
const press = (key: string, init: KeyboardEventInit = {}) => act(() => grid().dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, ...init })));
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Data page: rows of a dataset', () => {
  it('renders a window of 100k rows, fetching blocks as the keyboard moves through them', async () => {
    const engine = new JournalEngine();
    engine.addDataset(pairs(100_000));
    await start(engine, '#/data', DIR);
    expect(grid().getAttribute('aria-label')).toBe('Rows of faq');
    expect(grid().getAttribute('aria-rowcount')).toBe('100001');
    expect(bodyRows().length).toBeLessThan(40); // a screenful and overscan, not 100k
    expect(reads(engine).map((q) => q.offset)).toEqual([0]);
    expect(cells(0)).toEqual(['0', '2', 'train', 'question 0', 'answer 0']);
    expect(rowsStatus()).toBe('100,000 rows');
    grid().focus();
    await press('End');
    expect(grid().getAttribute('aria-activedescendant')).toBe('data-row-99999');
    expect(reads(engine).map((q) => q.offset)).toContain(99_800);
    expect(cells(99_999)).toEqual(['99999', '100001', 'train', 'question 99999', 'answer 99999']);
    expect(document.getElementById('data-row-99999')!.getAttribute('aria-selected')).toBe('true');
    expect(document.getElementById('data-row-0')).toBeNull(); // scrolled out of the DOM
    await press('Home');
    await press('ArrowDown');
    await press('ArrowDown');
    expect(grid().getAttribute('aria-activedescendant')).toBe('data-row-2');
    expect(document.getElementById('row-editor-title')!.textContent!.trim()).toBe('Row 2 (line 4)');
    await press('Enter'); // edit: focus goes to the first field
    expect(document.activeElement).toBe(control('Anchor'));
  });

  it('searches (after a pause in typing) and filters by label', async () => {
    const engine = new JournalEngine();
    const rows = pairs(30).map((r, i) => ({ ...r, text: r.anchor, anchor: undefined, positive: undefined, label: i % 3 ? 'billing' : 'login' }));
    engine.addDataset(rows, { format: 'labeled', labels: { billing: 20, login: 10 } });
    await start(engine, '#/data', DIR);
    expect(cells(0)).toEqual(['0', '2', 'train', 'question 0', 'login']);
    await act(() => setValue(control('Search rows'), 'question 1'));
    await wait(250);
    await settled();
    expect(reads(engine).at(-1)).toEqual({ offset: 0, limit: 200, search: 'question 1' });
    expect(rowsStatus()).toBe('11 of 30 rows match');
    await act(() => setValue(control('Search rows'), ''));
    await wait(250);
    await settled();
    const label = control<HTMLSelectElement>('Filter by label');
    expect([...label.options].map((o) => o.textContent)).toEqual(['All labels', 'billing (20)', 'login (10)']);
    await act(() => setValue(label, 'login'));
    await settled();
    expect(reads(engine).at(-1)).toEqual({ offset: 0, limit: 200, label: 'login' });
    expect(rowsStatus()).toBe('10 of 30 rows match');
    expect(cells(1)).toEqual(['3', '5', 'train', 'question 3', 'login']);
  });

  it('edits a row through the journal, and undoes and redoes it', async () => {
    const engine = new JournalEngine();
    engine.addDataset(pairs(10));
    await start(engine, '#/data', DIR);
    await act(() => document.getElementById('data-row-4')!.click());
    expect(document.activeElement).toBe(grid());
    expect(button('Save changes').disabled).toBe(true); // nothing changed yet
    expect(button('Undo').disabled).toBe(true);
    await act(() => setValue(control<HTMLTextAreaElement>('Anchor'), 'How do I reset my password?'));
    await act(() => button('Save changes').click());
    expect(engine.calls.find((c) => c.method === 'editDataset')?.args).toEqual([DIR, { op: 'change', index: 4, fields: { anchor: 'How do I reset my password?' } }]);
    expect(cells(4)[3]).toBe('How do I reset my password?');
    expect(rowsStatus()).toContain('Saved row 4');
    expect(button('Undo').disabled).toBe(false);
    expect(button('Redo').disabled).toBe(true);
    await act(() => button('Undo').click());
    expect(engine.calls.filter((c) => c.method === 'undoDatasetEdit')).toHaveLength(1);
    expect(cells(4)[3]).toBe('question 4');
    expect(control<HTMLTextAreaElement>('Anchor').value).toBe('question 4'); // the draft follows the engine's row
    expect(rowsStatus()).toContain('Undid the change of row 4');
    expect(button('Redo').disabled).toBe(false);
    grid().focus();
    await press('z', { ctrlKey: true, shiftKey: true }); // redo from the keyboard
    expect(engine.calls.filter((c) => c.method === 'redoDatasetEdit')).toHaveLength(1);
    expect(cells(4)[3]).toBe('How do I reset my password?');
    await press('z', { ctrlKey: true });
    expect(cells(4)[3]).toBe('question 4');
  });

  it('relabels and deletes rows, each undoable', async () => {
    const engine = new JournalEngine();
    const rows = pairs(5).map((r) => ({ ...r, text: r.anchor, anchor: undefined, positive: undefined, label: 'billing' }));
    engine.addDataset(rows, { format: 'labeled', labels: { billing: 5, login: 0 } });
    await start(engine, '#/data', DIR);
    await act(() => document.getElementById('data-row-1')!.click());
    expect(button('Relabel').disabled).toBe(true);
    await act(() => setValue(control('Label'), 'login'));
    await act(() => button('Relabel').click());
    expect(engine.calls.find((c) => c.method === 'editDataset')?.args).toEqual([DIR, { op: 'relabel', index: 1, label: 'login' }]);
    expect(cells(1)[4]).toBe('login');
    grid().focus();
    await press('Delete');
    expect(engine.calls.filter((c) => c.method === 'editDataset').at(-1)?.args).toEqual([DIR, { op: 'delete', index: 1 }]);
    expect(rowsStatus()).toBe('4 rows · Deleted row 1');
    expect(cells(1)[0]).toBe('2'); // the next row moved up; indices stay stable
    await act(() => button('Undo').click());
    expect(cells(1)).toEqual(['1', '3', 'train', 'question 1', 'login']);
  });

  it("shows a refused edit with the engine's message, and the row as it was", async () => {
    const engine = new JournalEngine();
    engine.addDataset(pairs(3));
    engine.editDataset = async () => {
      throw new EngineError('BAD_INPUT', `${DIR}: row 0: the anchor is empty. Fix: give it a text, or delete the row.`);
    };
    await start(engine, '#/data', DIR);
    await act(() => setValue(control<HTMLTextAreaElement>('Anchor'), ''));
    await act(() => button('Save changes').click());
    const alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('The dataset action failed');
    expect(alert.textContent).toContain('row 0: the anchor is empty. Fix: give it a text, or delete the row.');
    expect(alert.textContent).toContain('BAD_INPUT');
    expect(cells(0)[3]).toBe('question 0');
  });

  it('splits with an eval fraction and a seed, checking them first', async () => {
    const engine = new JournalEngine();
    engine.addDataset(pairs(50));
    await start(engine, '#/data', DIR);
    expect(document.querySelector('[data-testid="split-now"]')!.textContent).toContain('Not split yet');
    await act(() => setValue(control('Eval fraction'), '1.5'));
    expect(describedBy(control('Eval fraction'))).toContain('a fraction between 0 and 1');
    expect(button('Split').disabled).toBe(true);
    await act(() => setValue(control('Eval fraction'), '0.2'));
    await act(() => setValue(control('Seed'), '7'));
    const detail = engine.datasetDetails.get(DIR)!;
    detail.summary = { ...detail.summary, split: { train: 40, eval: 10 } }; // what describeDataset reads after the split
    await act(() => button('Split').click());
    expect(engine.calls.find((c) => c.method === 'splitDataset')?.args).toEqual([DIR, { evalFraction: 0.2, seed: 7 }]);
    expect(rowsStatus()).toContain('Split: 40 rows for training, 10 for evaluation');
    expect(document.querySelector('[data-testid="split-now"]')!.textContent).toContain('Now 40 rows for training and 10 for evaluation');
  });
});
