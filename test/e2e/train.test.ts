// End-to-end: mining hard negatives, rejecting one, and training a few steps from the Mining and
// Training pages, in Chromium against `embedsmith serve` with the real engine. The data and
// the tiny model are written by the engine's own functions before the pages use them (the
// Data and Models pages are not part of this flow). Same prerequisites as project.test.ts.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDataset, readRow, splitDataset } from '../../src/main/engine/data/index.js';
import { writeRandomBert } from '../../src/main/engine/model/random-model.js';
import { checkPrerequisites, launchBrowser, ROOT, startServe, stopServe, watch, type Served } from './harness.js';

const SHOTS = join(ROOT, 'test-results');
let tmp: string;
let served: Served | undefined;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
const projectDir = () => join(tmp, 'projects', 'faq');
const model = () => join(tmp, 'model');
const dataset = () => join(projectDir(), 'datasets', 'faq');
const mined = () => join(projectDir(), 'datasets', 'faq-mined');

beforeAll(async () => {
  checkPrerequisites();
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-e2e-train-'));
  await mkdir(SHOTS, { recursive: true });
  await writeRandomBert(model(), { tokenizerDir: join(ROOT, 'test/fixtures/models/bert-wordpiece-uncased'), hidden: 32, layers: 1, heads: 4, intermediate: 64, seed: 11 });
  const topics = ['password', 'refund', 'invoice', 'login', 'shipping', 'account', 'order', 'delivery'];
  const lines = ['anchor,positive'];
  for (let i = 0; i < 40; i++) lines.push(`how do i fix my ${topics[i % 8]} problem number ${i},the ${topics[i % 8]} help page explains case ${i} in words`);
  await writeFile(join(tmp, 'faq.csv'), lines.join('\n') + '\n');
  served = await startServe(join(tmp, 'state'));
  ({ context, page } = await launchBrowser(join(tmp, 'chromium-profile')));
  watch(page, pageErrors);
});

afterAll(async () => {
  await context?.close();
  await stopServe(served?.process);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/**
 * The page from the top (<main> scrolls inside a 100vh shell, so the window grows to its
 * height, up to 2600 px), or from `from` down when given.
 */
async function shot(name: string, from?: string): Promise<void> {
  // String expressions: this file is type-checked for Node (no DOM lib).
  const height = (await page.evaluate('document.querySelector("main").scrollHeight')) as number;
  await page.setViewportSize({ width: 1200, height: Math.min(2600, Math.max(800, height + 100)) });
  await page.evaluate(from ? `document.getElementById(${JSON.stringify(from)}).scrollIntoView()` : 'document.querySelector("main").scrollTop = 0');
  await page.screenshot({ path: join(SHOTS, `e2e-train-${name}.png`) });
  await page.setViewportSize({ width: 1200, height: 800 });
}
const points = (title: string) => page.locator(`svg[aria-label^="${title}:"]`).getAttribute('data-points');

describe('Mining and training in a browser', () => {
  it('creates a project, into which the engine imports and splits a pairs file', async () => {
    await page.goto(served!.url);
    await page.getByLabel('New project name', { exact: true }).fill('FAQ');
    await page.getByLabel('New project folder', { exact: true }).fill(projectDir());
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { name: 'Open project: FAQ', exact: true }).waitFor();
    const imported = await importDataset(join(tmp, 'faq.csv'), dataset());
    expect(imported.meta.counts.rows).toBe(40);
    // Held-out rows: mining carries the split over, and training evaluates on them.
    await splitDataset(dataset(), { evalFraction: 0.2, seed: 1 });
  });

  it('mines negatives from the Mining page and shows the report', async () => {
    await page.getByRole('link', { name: 'Mining' }).click();
    await page.getByRole('heading', { name: 'Mining', exact: true }).waitFor();
    await page.getByLabel('Model folder', { exact: true }).fill(model());
    await page.getByLabel('Model folder', { exact: true }).press('Tab'); // the folder is taken (and described) on change
    await page.getByText('bert · 1 layers · width 32').waitFor();
    await page.getByLabel('Dataset to mine', { exact: true }).selectOption(dataset());
    await page.getByLabel('Device', { exact: true }).selectOption('cpu');
    expect(await page.getByLabel('New dataset name', { exact: true }).inputValue()).toBe('faq-mined');
    await page.getByRole('button', { name: 'Mine negatives' }).click();
    await page.getByRole('status').filter({ hasText: /^Mined \d+ negatives$/ }).waitFor({ timeout: 60_000 });
    await page.getByTestId('mining-totals').waitFor();
    // 40 queries, 8 held out by the split: mining leaves those alone.
    expect(await page.getByTestId('mining-totals').textContent()).toContain('96 of 96 negatives asked for 32 queries');
    expect(await page.getByLabel('Mined dataset to review', { exact: true }).inputValue()).toBe(mined());
    expect(await page.locator('svg[aria-label^="Score histogram"] rect').count()).toBeGreaterThan(1);
    await shot('1-mined');
  });

  it('rejects a negative, saved to the dataset through its edit journal', async () => {
    // The first train row: held-out rows get no mined negatives.
    const { eval: held } = JSON.parse(await readFile(join(mined(), 'split.json'), 'utf8')) as { eval: number[] };
    let row = 0;
    while (held.includes(row)) row++;
    const before = await readRow(mined(), row);
    expect(before.negatives).toHaveLength(3);
    await page.getByRole('button', { name: `Reject negative 2 of row ${row}`, exact: true }).click();
    await page.getByRole('status').filter({ hasText: `Removed negative 2 from row ${row}.` }).waitFor();
    const after = await readRow(mined(), row);
    expect(after.negatives).toEqual([before.negatives![0], before.negatives![2]]);
    await shot('2-rejected', 'triage-title');
  });

  it('trains a few steps from the Training page and the curves follow the run', async () => {
    await page.getByRole('link', { name: 'Training' }).click();
    await page.getByRole('heading', { name: 'Training', exact: true }).waitFor();
    expect(await page.getByLabel('Dataset to train on', { exact: true }).inputValue()).toBe(mined());
    await page.getByText('Before you start').waitFor();
    await page.getByRole('radio', { name: /Quick/ }).check();
    await page.getByLabel('Max steps', { exact: true }).fill('4');
    await page.getByLabel('Batch size', { exact: true }).fill('8');
    await page.getByLabel('Max length', { exact: true }).fill('32');
    await page.getByLabel('Evaluate every (steps)', { exact: true }).fill('2');
    await page.getByLabel('Device', { exact: true }).selectOption('cpu');
    await page.getByText(/Memory: About .* for a step/).waitFor(); // the pre-flight estimate, from the real model
    await shot('3-training-settings');
    await page.getByRole('button', { name: 'Start training' }).click();
    const run = join(projectDir(), 'runs', 'faq-mined-custom');
    await page.getByText(run).first().waitFor();
    // The Loss chart grows as the page polls the run folder, to all four steps.
    await expect.poll(() => points('Loss'), { timeout: 90_000, interval: 250 }).toBe('4');
    await page.getByLabel('Trained model folder', { exact: true }).waitFor({ timeout: 60_000 });
    expect(await page.getByLabel('Trained model folder', { exact: true }).inputValue()).toBe(join(run, 'model'));
    expect(await points('Evaluation: ndcg@10')).toBe('2'); // steps 2 and 4
    expect(await points('Learning rate')).toBe('4');
    // The finished run reports the device it used and why.
    expect(await page.getByText(/Device: CPU — cpu was asked for/).count()).toBe(1);
    await shot('4-trained', 'run-title');
    await page.getByRole('button', { name: 'Dark theme' }).click();
    await shot('5-trained-dark', 'run-title'); // the charts draw in theme colours
  });

  it('logged no console errors or exceptions', () => {
    expect(pageErrors).toEqual([]);
  });
});
