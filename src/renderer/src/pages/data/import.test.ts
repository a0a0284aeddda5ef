// The Data page's import wizard against the fake engine: the form checked as the user types,
// a picked file previewed with its columns and guessed format, the import run as a job whose
// result lists skipped rows by line, and a job that keeps being followed across pages.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ImportJobResult } from '../../../../shared/api.js';
import { button, queryButton } from '../../testing/dom.js';
import { DIR, JournalEngine, PROJECT, act, control, describedBy, goTo, settled, setValue, start, stop } from './data-testing.js';

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
    expect(main().querySelector('a[href="#/project"]')?.textContent).toContain('open or create one on the Project page');
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

  it('previews a picked copy: first rows with lines, columns, delimiter and the format the header suggests', async () => {
    const engine = new JournalEngine();
    await start(engine);
    const picker = control('Preview a local copy (optional)');
    const file = new File(['question;reply;topic\nHow do I log in?;Use SSO.;auth\n"Two\nlines";yes;misc\n'], 'faq.csv');
    Object.defineProperty(picker, 'files', { value: [file] });
    await act(() => picker.dispatchEvent(new Event('change', { bubbles: true })));
    await vi.waitFor(() => expect(document.querySelector('[data-testid="preview-summary"]')).not.toBeNull()); // the file is read asynchronously
    expect(document.querySelector('[data-testid="preview-summary"]')!.textContent).toMatch(/CSV, semicolon-separated;\s+3 columns;\s+the header looks like pairs/);
    const table = document.querySelector('table')!;
    expect(table.querySelector('caption')!.textContent).toBe('First rows of the file');
    expect([...table.querySelectorAll('th')].map((th) => th.textContent)).toEqual(['Line', 'question', 'reply', 'topic']);
    expect([...table.querySelectorAll('tbody tr')].map((tr) => tr.firstElementChild!.textContent)).toEqual(['2', '3']);
    // The name comes from the picked file; the mapping offers its columns and shows what was found.
    expect(control('Dataset name').value).toBe('faq');
    expect(control('Column for anchor').placeholder).toBe('found: question');
    expect([...document.querySelectorAll('#import-columns option')].map((o) => (o as HTMLOptionElement).value)).toEqual(['question', 'reply', 'topic']);
    await act(() => setValue(control('Column for label'), 'topc'));
    expect(describedBy(control('Column for label'))).toBe('column "topc" is not in the previewed file; its columns are question, reply, topic');
    await act(() => setValue(control('Column for label'), 'topic'));
    await act(() => setValue(control<HTMLSelectElement>('Format'), 'pairs'));
    await importFile(engine, '/srv/data/faq.csv');
    expect(engine.imports).toEqual([
      { file: '/srv/data/faq.csv', out: `${PROJECT.dir}/datasets/faq`, format: 'pairs', encoding: 'auto', map: 'label=topic' },
    ]);
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
