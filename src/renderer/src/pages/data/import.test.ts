// The Data page's import wizard against the fake engine: the form checked as the user types,
// the typed file previewed by the engine (previewImport, after a pause in typing) with what it
// detected, the rows as it maps them and their problems, the import run as a job whose result
// lists skipped rows by line, and a job that keeps being followed across pages.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ImportJobResult, ImportPreview, ImportPreviewRequest } from '../../../../shared/api.js';
import { button, queryButton } from '../../testing/dom.js';
import { DIR, JournalEngine, PROJECT, act, control, describedBy, goTo, settled, setValue, start, stop } from '../../testing/data-testing.js';

afterEach(stop);

const main = () => document.querySelector('main')!;
const status = () => [...document.querySelectorAll('main [role="status"]')].map((s) => s.textContent?.trim()).join(' | ');
const RESULT: ImportJobResult = {
  dataset: DIR,
  format: 'pairs',
  rows: 7,
  skipped: 2,
  warnings: 1,
  issues: [
    { line: 4, code: 'EMPTY_FIELD', message: 'line 4: the positive is empty. Fix: give it a text or delete the line.', severity: 'error' },
    { line: 9, code: 'RAGGED_ROW', message: 'line 9 has 3 fields; the header has 2.', severity: 'error' },
    { line: 6, code: 'DUPLICATE_PAIR', message: 'line 6 repeats line 2.', severity: 'warning' },
  ],
};

/** The engine's answer for faq.csv: a quoted newline, a skipped row, the label only when mapped. */
function faqPreview(r: ImportPreviewRequest): ImportPreview {
  const label = r.map?.includes('label=topic');
  return {
    file: r.file, kind: 'csv', encoding: 'utf8', delimiter: ';', columns: ['question', 'reply', 'topic'], format: 'pairs',
    roles: { anchor: 'question', positive: 'reply', ...(label ? { label: 'topic' } : {}) }, ignoredColumns: label ? [] : ['topic'],
    rows: [
      { line: 2, skipped: false, anchor: 'How do I log in?', positive: 'Use SSO.', ...(label ? { label: 'auth' } : {}) },
      { line: 3, skipped: false, anchor: 'Two\nlines', positive: 'yes', ...(label ? { label: 'misc' } : {}) },
      { line: 5, skipped: true },
    ],
    issues: [{ line: 5, code: 'EMPTY_FIELD', severity: 'error', message: "line 5: column 'question' is empty; row skipped" }],
    notes: [], bytes: 4_200_000, bytesRead: 262_144, complete: false,
  };
}

const previewCalls = (engine: JournalEngine) => engine.calls.filter((c) => c.method === 'previewImport').map((c) => c.args[0]);
const table = () => document.querySelector<HTMLTableElement>('table:has(#preview-caption)')!;
const cells = () => [...table().querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent?.trim()));

async function importFile(engine: JournalEngine, file = '/home/ada/faq.csv'): Promise<string> {
  await act(() => setValue(control('File path'), file));
  await act(() => button('Import').click());
  return [...engine.jobs.keys()].at(-1)!;
}

describe('Data page: import wizard', () => {
  it('asks for a project first', async () => {
    const engine = new JournalEngine();
    engine.open = null;
    await start(engine);
    expect(main().querySelector('a[href="#/project"]')?.textContent).toContain('Open or create a project');
    expect(queryButton('Import')).toBeNull();
  });

  it('checks the form as the user types, and says how to fix it', async () => {
    const engine = new JournalEngine();
    engine.addDataset([], {}, `${PROJECT.dir}/datasets/faq`);
    await start(engine);
    expect(button('Import').disabled).toBe(true);
    await act(() => setValue(control('File path'), 'faq.csv'));
    expect(control('File path').getAttribute('aria-invalid')).toBe('true');
    expect(describedBy(control('File path'))).toContain(`give the full path, e.g. ${PROJECT.dir}/pairs.csv`);
    expect(button('Import').disabled).toBe(true);
    await act(() => setValue(control('File path'), '/home/ada/Support FAQ.csv'));
    expect(control('File path').getAttribute('aria-invalid')).toBeNull();
    // The name follows the file until typed; it may not reuse a dataset's.
    expect(control('Dataset name').value).toBe('support-faq');
    expect(describedBy(control('Dataset name'))).toBe(`Written to ${PROJECT.dir}/datasets/support-faq`);
    await act(() => setValue(control('Dataset name'), 'faq'));
    expect(describedBy(control('Dataset name'))).toBe('the project has a dataset named faq already; pick another name');
    expect(button('Import').disabled).toBe(true);
    await act(() => setValue(control('Dataset name'), 'faq-2'));
    await act(() => setValue(control('Delimiter'), ';;'));
    expect(describedBy(control('Delimiter'))).toContain('one character');
    await act(() => setValue(control('Delimiter'), 'tab'));
    expect(button('Import').disabled).toBe(false);
    expect(engine.imports).toEqual([]);
  });

  it("previews the typed file with the engine after a pause: what it detected, the rows as it maps them, their problems", async () => {
    const engine = new JournalEngine();
    engine.importPreviews.set('/srv/data/faq.csv', faqPreview);
    await start(engine);
    expect(document.querySelector('[data-testid="preview-summary"]')!.textContent).toContain("Give the file's full path");
    // Typing a path: one engine read after the pause, not one per key.
    await act(() => setValue(control('File path'), '/srv/data/f'));
    await act(() => setValue(control('File path'), '/srv/data/faq'));
    await act(() => setValue(control('File path'), '/srv/data/faq.csv'));
    await vi.waitFor(() => expect(document.querySelector('[data-testid="preview-summary"]')?.textContent).toContain('imported as'));
    expect(previewCalls(engine)).toEqual([{ file: '/srv/data/faq.csv', format: 'auto', encoding: 'auto' }]);
    expect(document.querySelector('[data-testid="preview-summary"]')!.textContent).toMatch(
      /CSV, semicolon-separated, UTF-8; 3 columns;\s+imported as pairs \(anchor: question, positive: reply\); not used: topic\./,
    );
    expect(document.querySelector('[data-testid="preview-extent"]')!.textContent).toMatch(/3 records read: 2 kept, 1 skipped;\s+read 262 kB of 4.2 MB; the import reads the rest\./);
    expect(table().querySelector('caption')!.textContent).toBe('First rows as the dataset will hold them');
    expect([...table().querySelectorAll('th')].map((th) => th.textContent?.trim())).toEqual(['Line', 'Anchor (question)', 'Positive (reply)', 'Problems']);
    expect(cells()).toEqual([
      ['2', 'How do I log in?', 'Use SSO.', ''],
      ['3', 'Two\nlines', 'yes', ''],
      ['5', 'Skipped', "line 5: column 'question' is empty; row skipped"],
    ]);
    // The table scrolls from the keyboard.
    expect(table().closest('[role="region"]')!.getAttribute('tabindex')).toBe('0');
    // The name follows the file; the mapping offers the engine's columns and shows what it found.
    expect(control('Dataset name').value).toBe('faq');
    expect(control('Column for anchor').placeholder).toBe('found: question');
    expect([...document.querySelectorAll('#import-columns option')].map((o) => (o as HTMLOptionElement).value)).toEqual(['question', 'reply', 'topic']);

    // A misspelt column: flagged at once beside the field, and the engine refuses it with its columns.
    await act(() => setValue(control('Column for label'), 'topc'));
    expect(describedBy(control('Column for label'))).toBe('column "topc" is not in the file; its columns are question, reply, topic');
    await vi.waitFor(() => expect(document.querySelector('[data-testid="preview-error"]')).not.toBeNull());
    expect(document.querySelector('[data-testid="preview-error"]')!.textContent).toContain(
      "The import would fail: --map label=topc: column 'topc' not found in /srv/data/faq.csv; columns are: question, reply, topic.",
    );
    expect([...document.querySelectorAll('#import-columns option')]).toHaveLength(3); // still offered
    expect(button('Import').disabled).toBe(true);

    // Mapped: the engine's rows now carry the label.
    await act(() => setValue(control('Column for label'), 'topic'));
    await vi.waitFor(() => expect([...table().querySelectorAll('th')].map((th) => th.textContent?.trim())).toContain('Label (topic)'));
    expect(previewCalls(engine).at(-1)).toEqual({ file: '/srv/data/faq.csv', format: 'auto', encoding: 'auto', map: 'label=topic' });
    expect(cells()[0]).toEqual(['2', 'How do I log in?', 'Use SSO.', 'auth', '']);
    await act(() => setValue(control<HTMLSelectElement>('Format'), 'pairs'));
    await act(() => setValue(control('Delimiter'), ';'));
    await vi.waitFor(() => expect(previewCalls(engine).at(-1)).toEqual({ file: '/srv/data/faq.csv', format: 'pairs', encoding: 'auto', map: 'label=topic', delimiter: ';' }));
    await importFile(engine, '/srv/data/faq.csv');
    expect(engine.imports).toEqual([
      { file: '/srv/data/faq.csv', out: `${PROJECT.dir}/datasets/faq`, format: 'pairs', encoding: 'auto', map: 'label=topic', delimiter: ';' },
    ]);
    // The form starts over, and so does the preview.
    await vi.waitFor(() => expect(document.querySelector('#preview-caption')).toBeNull());
  });

  it('says calmly that a typed path does not exist yet, and asks nothing for a relative one', async () => {
    const engine = new JournalEngine();
    await start(engine);
    await act(() => setValue(control('File path'), 'faq.csv'));
    await act(() => setValue(control('File path'), '/home/ada/nothing.csv'));
    await vi.waitFor(() => expect(document.querySelector('[data-testid="preview-error"]')).not.toBeNull());
    const shown = document.querySelector('[data-testid="preview-error"]')!;
    expect(shown.textContent?.trim()).toBe('/home/ada/nothing.csv does not exist. Fix: check the path.');
    expect(shown.className).toContain('muted');
    expect(previewCalls(engine)).toEqual([{ file: '/home/ada/nothing.csv', format: 'auto', encoding: 'auto' }]);
  });

  it('runs the import as a job, then shows the report by line, the skipped rows file, and opens the dataset', async () => {
    const engine = new JournalEngine();
    await start(engine);
    const jobId = await importFile(engine);
    expect(status()).toContain('Waiting to import /home/ada/faq.csv');
    expect(button('Import').disabled).toBe(true); // one import at a time, and the form was reset
    expect(document.querySelector('progress[aria-label="Import progress"]')).not.toBeNull();
    engine.addDataset([], { rows: 7, skipped: 2, warnings: 1 });
    await act(() => engine.emitJob({ ...engine.jobs.get(jobId)!, state: 'done', fraction: 1, message: 'Imported 7 rows, 2 skipped', result: RESULT }));
    expect(status()).toContain('Imported 7 rows, 2 skipped');
    const report = [...document.querySelectorAll('table')].find((t) => t.querySelector('caption')?.textContent?.includes('Validation report'))!;
    expect(report.querySelector('caption')!.textContent).toMatch(/2 rows skipped, 1\s+warning/);
    const lines = [...report.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent?.trim()));
    expect(lines[0]).toEqual(['4', 'Skipped', 'EMPTY_FIELD', 'line 4: the positive is empty. Fix: give it a text or delete the line.']);
    expect(lines.map((l) => l[0])).toEqual(['4', '9', '6']);
    expect(control('Skipped rows file').value).toBe(`${DIR}/skipped.jsonl`);
    expect(control('Full report file').value).toBe(`${DIR}/report.json`);
    expect(queryButton('Download the report')).not.toBeNull();
    // Started here, so the new dataset is listed and opened (and chosen for the other pages).
    expect(engine.calls.filter((c) => c.method === 'listDatasets').length).toBeGreaterThanOrEqual(2);
    expect(engine.calls.some((c) => c.method === 'describeDataset' && c.args[0] === DIR)).toBe(true);
    expect(document.getElementById('dataset-title')!.textContent).toBe('Dataset faq');
    expect(button('faq').getAttribute('aria-pressed')).toBe('true');
    expect(JSON.parse(localStorage.getItem(`embedsmith.workbench.${PROJECT.dir}`)!).dataset).toBe(DIR);
  });

  it("shows a failed import with the engine's message and code", async () => {
    const engine = new JournalEngine();
    await start(engine);
    const jobId = await importFile(engine);
    await act(() =>
      engine.failJob(jobId, { code: 'BAD_INPUT', message: 'cannot tell the format of /home/ada/faq.csv from its columns (a, b). Fix: name the roles, e.g. --map anchor=a,positive=b' }),
    );
    const alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('The import failed');
    expect(alert.textContent).toContain('cannot tell the format of /home/ada/faq.csv');
    expect(alert.textContent).toContain('BAD_INPUT');
  });

  it('keeps following an import while the user is on another page', async () => {
    const engine = new JournalEngine();
    await start(engine);
    const jobId = await importFile(engine);
    goTo('#/templates');
    await act(() => engine.progressJob(jobId, { state: 'running', message: '100000 rows read' }));
    engine.addDataset([]);
    await act(() => engine.emitJob({ ...engine.jobs.get(jobId)!, state: 'done', message: 'Imported 7 rows, 2 skipped', result: RESULT }));
    goTo('#/data');
    await settled();
    expect(status()).toContain('Imported 7 rows, 2 skipped');
    expect(button('faq')).toBeTruthy(); // listed on the way back
    // It ended while the page was closed: shown, and one click away, not opened behind the user's back.
    await act(() => button('Show its rows').click());
    expect(document.getElementById('dataset-title')!.textContent).toBe('Dataset faq');
  });
});
