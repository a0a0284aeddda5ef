// End-to-end: the Data and Templates pages in Chromium against `embedsmith serve` and the real
// engine. A project is created through the UI; a small CSV with two bad rows is imported (they
// are reported with their line numbers); its rows are searched, one is edited and the edit
// undone; the split is set; and a template is previewed with token counts from a tiny random
// BERT written here with a real WordPiece tokenizer, saved in the project's templates.json and
// read back after a reload. Same prerequisites as project.test.ts.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRandomBert } from '../../src/main/engine/model/random-model.js';
import { checkPrerequisites, launchBrowser, ROOT, startServe, stopServe, watch, type Served } from './harness.js';

const SHOTS = join(ROOT, 'test-results');
let tmp: string;
let served: Served | undefined;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

// Line 4 has an empty question, line 8 a stray field: both are skipped and reported.
const CSV = [
  'question,answer,topic',
  'How do I reset my password?,Open Settings and choose Reset password.,account',
  'How do I change my email?,Go to Profile and edit the email field.,account',
  ',An empty question cannot be trained on.,account',
  'Where is my invoice?,Invoices are under Billing then History.,billing',
  'Can I pay by card?,Yes: Visa and Mastercard are accepted.,billing',
  'How do I cancel my plan?,Choose Cancel plan under Billing.,billing',
  'Why was I charged twice?,A pending charge drops off in three days.,billing,oops',
  'How do I sign in with SSO?,Use the Sign in with SSO button.,account',
  'Is there a mobile app?,There are apps for iOS and Android.,general',
  'How do I export my data?,Use Export under Settings.,general',
  'Who can see my projects?,Only the members you invite.,general',
  'How do I contact support?,Write to us from the Help menu.,general',
].join('\n');

beforeAll(async () => {
  checkPrerequisites();
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-e2e-data-'));
  await mkdir(SHOTS, { recursive: true });
  await writeFile(join(tmp, 'support-faq.csv'), CSV + '\n');
  await writeRandomBert(join(tmp, 'tiny-bert'), { tokenizerDir: join(ROOT, 'test/fixtures/models/bert-wordpiece-uncased'), maxSeqLength: 64 });
  served = await startServe(join(tmp, 'state'));
  ({ context, page } = await launchBrowser(join(tmp, 'chromium-profile')));
  watch(page, pageErrors);
});

afterAll(async () => {
  await context?.close();
  await stopServe(served?.process);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `e2e-data-${name}.png`), fullPage: true });
const projectDir = () => join(tmp, 'projects', 'support');
const datasetDir = () => join(projectDir(), 'datasets', 'support-faq');
const rowsStatus = () => page.getByTestId('rows-status').textContent();
const cell = (position: number, column: number) => page.locator(`#data-row-${position} [role="gridcell"]`).nth(column);

describe('Data and Templates pages in a browser', () => {
  it('creates a project to hold the data', async () => {
    await page.goto(served!.url);
    await page.getByLabel('New project name', { exact: true }).fill('Support');
    await page.getByLabel('New project folder', { exact: true }).fill(projectDir());
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { name: 'Open project: Support', exact: true }).waitFor();
  });

  it('previews the CSV, imports it, and reports the skipped rows with their line numbers', async () => {
    await page.getByRole('link', { name: /Data/ }).click();
    await page.getByRole('heading', { name: 'Data', exact: true }).waitFor();
    await page.getByLabel('File path', { exact: true }).fill(join(tmp, 'support-faq.csv'));
    // The engine previews the typed path with its own reader and mapping: the rows as they will be stored.
    await expect.poll(() => page.getByTestId('preview-summary').textContent()).toMatch(
      /CSV, comma-separated, UTF-8; 3 columns;\s+imported as pairs \(anchor: question, positive: answer\); not used: topic\./,
    );
    expect(await page.getByTestId('preview-extent').textContent()).toMatch(/12 records read: 10 kept, 2 skipped;\s+that is the whole file\./);
    const preview = page.locator('table', { has: page.locator('caption', { hasText: 'First rows as the dataset will hold them' }) });
    const previewRow = (line: number) => preview.locator('tbody tr', { has: page.locator('td:first-child', { hasText: new RegExp(`^${line}$`) }) }).locator('td');
    expect(await previewRow(2).allTextContents()).toEqual(['2', 'How do I reset my password?', 'Open Settings and choose Reset password.', '']);
    expect(await previewRow(4).allTextContents()).toEqual(['4', 'Skipped', "line 4: column 'question' is empty; row skipped"]);
    expect((await previewRow(8).allTextContents())[2]).toContain('has 4 fields but the header has 3');
    expect(await page.getByLabel('Dataset name', { exact: true }).inputValue()).toBe('support-faq');
    await page.getByLabel('Column for label', { exact: true }).fill('topic');
    await expect.poll(() => preview.locator('thead th').allTextContents()).toEqual(['Line', 'Anchor (question)', 'Positive (answer)', 'Label (topic)', 'Problems']);
    expect(await previewRow(5).allTextContents()).toEqual(['5', 'Where is my invoice?', 'Invoices are under Billing then History.', 'billing', '']);
    await preview.scrollIntoViewIfNeeded();
    await shot('0-import-form');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Imported 10 rows, 2 skipped' }).waitFor();
    const report = page.locator('table', { has: page.locator('caption', { hasText: 'Validation report' }) }).first();
    const lines = await report.locator('tbody tr td:first-child').allTextContents();
    expect(lines.slice(0, 2).sort()).toEqual(['4', '8']);
    expect(await report.locator('tbody').textContent()).toContain('EMPTY_FIELD');
    expect(await report.locator('tbody').textContent()).toContain('COLUMN_COUNT');
    expect(await page.getByLabel('Skipped rows file').first().inputValue()).toBe(join(datasetDir(), 'skipped.jsonl'));
    // The real engine wrote the skipped rows there, with their lines.
    const skipped = (await readFile(join(datasetDir(), 'skipped.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { line: number });
    expect(skipped.map((s) => s.line)).toEqual([4, 8]);
    await shot('1-imported');
  });

  it('shows the rows in the table and searches them', async () => {
    await page.getByRole('heading', { name: 'Dataset support-faq' }).waitFor();
    const grid = page.getByRole('grid', { name: 'Rows of support-faq' });
    expect(await grid.getAttribute('aria-rowcount')).toBe('11');
    await expect.poll(() => cell(0, 3).textContent()).toBe('How do I reset my password?');
    expect(await cell(2, 1).textContent()).toBe('5'); // line 4 was skipped: the third row is line 5
    await page.getByLabel('Search rows').fill('invoice');
    await expect.poll(rowsStatus).toBe('1 of 10 rows match');
    expect(await cell(0, 3).textContent()).toBe('Where is my invoice?');
    await page.getByLabel('Search rows').fill('');
    await expect.poll(rowsStatus).toBe('10 rows');
  });

  it('edits a row and undoes the edit', async () => {
    await page.locator('#data-row-1').click();
    await page.getByRole('heading', { name: 'Row 1 (line 3)' }).waitFor();
    await page.getByLabel('Anchor', { exact: true }).fill('How can I change the email on my account?');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => cell(1, 3).textContent()).toBe('How can I change the email on my account?');
    await expect.poll(rowsStatus).toContain('Saved row 1');
    // The edit went into the engine's journal; rows.jsonl is untouched.
    expect(await readFile(join(datasetDir(), 'edits.jsonl'), 'utf8')).toContain('How can I change the email on my account?');
    await shot('2-edited');
    await page.getByRole('button', { name: 'Undo', exact: true }).click();
    await expect.poll(() => cell(1, 3).textContent()).toBe('How do I change my email?');
    await expect.poll(rowsStatus).toContain('Undid the change of row 1');
    expect(await page.getByRole('button', { name: 'Redo', exact: true }).isDisabled()).toBe(false);
    // The keyboard way: focus stays on the grid, arrows move, Ctrl+Shift+Z redoes.
    await page.getByRole('grid').focus();
    await page.keyboard.press('ArrowDown');
    expect(await page.getByRole('grid').getAttribute('aria-activedescendant')).toBe('data-row-2');
    await page.keyboard.press('Control+Shift+Z');
    await expect.poll(() => cell(1, 3).textContent()).toBe('How can I change the email on my account?');
  });

  it('sets the train / eval split', async () => {
    await page.getByLabel('Eval fraction').fill('0.2');
    await page.getByLabel('Seed').fill('7');
    await page.getByRole('button', { name: 'Split', exact: true }).click();
    await expect.poll(rowsStatus).toMatch(/Split: \d+ rows for training, \d+ for evaluation/);
    // What the page says is what the engine wrote (stratified by topic, so not exactly 8 / 2).
    const { counts } = JSON.parse(await readFile(join(datasetDir(), 'split.json'), 'utf8')) as { counts: { train: number; eval: number } };
    expect(counts.train + counts.eval).toBe(10);
    expect(counts.eval).toBeGreaterThan(0);
    expect(await rowsStatus()).toContain(`Split: ${counts.train} rows for training, ${counts.eval} for evaluation`);
    await expect.poll(() => page.getByTestId('split-now').textContent()).toContain(`Now ${counts.train} rows for training and ${counts.eval} for evaluation`);
    // The grid refetches its rows after the split: poll, it may still show the old page.
    await expect.poll(() => page.locator('[role="grid"] [role="gridcell"]', { hasText: /^eval$/ }).count()).toBeGreaterThan(0);
    await shot('3-split');
  });

  it('previews a template on real rows with token counts from the model', async () => {
    await page.getByRole('link', { name: /Templates/ }).click();
    await page.getByRole('heading', { name: 'Templates', exact: true }).waitFor();
    await page.getByLabel('Model folder', { exact: true }).fill(join(tmp, 'tiny-bert'));
    await page.getByRole('button', { name: 'Use this model' }).click();
    await expect.poll(() => page.getByTestId('tpl-model-summary').textContent()).toContain('texts over 64 tokens are cut');
    await page.getByRole('radio', { name: 'e5' }).check();
    expect(await page.getByLabel('Query template', { exact: true }).inputValue()).toBe('query: ');
    const query = page.getByRole('list', { name: 'Query preview' }).locator('li').first();
    await expect.poll(() => query.textContent()).toContain('query: How do I reset my password?');
    // WordPiece (uncased): [CLS] how do i reset my password ? [SEP] = 9; "query :" adds 2.
    await expect.poll(() => query.getByTestId('tokens-query').textContent()).toBe('11 tokens (+2 from the template)');
    // Saved in the project folder, where `embedsmith train --template default` finds it.
    const file = join(projectDir(), 'templates.json');
    const e5 = { query: 'query: ', document: 'passage: ', text: 'query: ' };
    await expect.poll(async () => JSON.parse(await readFile(file, 'utf8'))).toEqual({ schemaVersion: 1, active: 'default', templates: { default: e5 } });
    await expect.poll(() => page.getByTestId('tpl-save-status').textContent()).toBe(`Saved in ${file} as ‘default’.`);
    await query.scrollIntoViewIfNeeded();
    await shot('4-templates');
    // A reload reads it back from the engine, not from this browser.
    const stored = (await context.storageState()).origins.flatMap((o) => o.localStorage.map((e) => e.name));
    expect(stored.filter((k) => k.startsWith('embedsmith.templates.'))).toEqual([]);
    expect(stored).toContain(`embedsmith.workbench.${projectDir()}`); // the storage that is read is this one
    await page.reload();
    await page.getByRole('heading', { name: 'Templates', exact: true }).waitFor();
    await expect.poll(() => page.getByLabel('Document template', { exact: true }).inputValue()).toBe('passage: ');
    expect(await page.getByRole('radio', { name: 'e5' }).isChecked()).toBe(true);
  });

  it('keeps the choices across pages, in the dark theme too', async () => {
    await page.getByRole('button', { name: 'Dark theme' }).click();
    await page.getByRole('link', { name: /Data/ }).click();
    // The dataset picked on the Data page is still the one shown (the Workbench keeps it).
    await page.getByRole('heading', { name: 'Dataset support-faq' }).waitFor();
    expect(await page.getByRole('button', { name: 'support-faq' }).getAttribute('aria-pressed')).toBe('true');
    await page.getByRole('grid').scrollIntoViewIfNeeded();
    await shot('5-data-dark');
  });

  it('scrolls 100k rows with only a window of them in the page', async () => {
    const big = ['query,answer', ...Array.from({ length: 100_000 }, (_, i) => `question ${i},answer ${i}`)].join('\n');
    await writeFile(join(tmp, 'big.csv'), big + '\n');
    await page.getByLabel('File path', { exact: true }).fill(join(tmp, 'big.csv'));
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Imported 100000 rows' }).waitFor();
    await page.getByRole('heading', { name: 'Dataset big' }).waitFor();
    const grid = page.getByRole('grid', { name: 'Rows of big' });
    await expect.poll(() => grid.getAttribute('aria-rowcount')).toBe('100001');
    // Halfway down in one jump (as dragging the scrollbar does): the rows there are fetched and shown.
    await page.evaluate("document.querySelector('[role=grid] .scroller').scrollTop = 50000 * 34");
    await expect.poll(() => page.locator('#data-row-50000 [role="gridcell"]').nth(3).textContent()).toBe('question 50000');
    expect(await grid.locator('.scroller [role="row"]').count()).toBeLessThan(60);
    // To the end from the keyboard.
    await grid.focus();
    await page.keyboard.press('End');
    await expect.poll(() => page.locator('#data-row-99999 [role="gridcell"]').nth(3).textContent()).toBe('question 99999');
    await shot('6-100k-rows');
  });

  it('logged no console errors or exceptions', () => {
    expect(pageErrors).toEqual([]);
  });
});
