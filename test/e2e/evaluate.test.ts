// End-to-end: the last three pages in Chromium against `embedsmith serve` and the real engine.
// Prepared with the CLI as a user would (a project, an imported and split pairs file, a short
// training run of a tiny seeded BERT), then driven through the UI: pick the models and the
// dataset, evaluate both (the table shows deltas), project both (the canvases are drawn),
// export the trained model (the folder is on disk and embeds through the CLI). Same
// prerequisites as project.test.ts.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRandomBert } from '../../src/main/engine/model/random-model.js';
import { checkPrerequisites, launchBrowser, ROOT, startServe, stopServe, watch, type Served } from './harness.js';

const run = promisify(execFile);
const SHOTS = join(ROOT, 'test-results');
const TOPICS = ['apple', 'river', 'stone', 'cloud', 'music', 'garden'];

let tmp: string;
let served: Served | undefined;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
const paths = { base: '', project: '', data: '', run: '' };

async function cli(...args: string[]): Promise<string> {
  const r = await run(process.execPath, ['bin/embedsmith.js', ...args], { cwd: ROOT, env: { ...process.env, EMBEDSMITH_STATE_DIR: join(tmp, 'cli-state') } });
  return r.stdout;
}

beforeAll(async () => {
  checkPrerequisites();
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-e2e-eval-'));
  await mkdir(SHOTS, { recursive: true });
  paths.base = join(tmp, 'base');
  paths.project = join(tmp, 'projects', 'e2e-eval');
  paths.data = join(paths.project, 'datasets', 'faq');
  paths.run = join(paths.project, 'runs', 'r1');
  await writeRandomBert(paths.base, { tokenizerDir: join(ROOT, 'test/fixtures/models/bert-wordpiece-uncased'), hidden: 32, layers: 1, heads: 4, intermediate: 64, seed: 5 });
  const lines = ['question,answer,topic'];
  for (let i = 0; i < 48; i++) {
    const t = TOPICS[i % TOPICS.length];
    lines.push(`how do i use the ${t} number ${i},the ${t} manual section ${i} explains it,${t}`);
  }
  await writeFile(join(tmp, 'pairs.csv'), lines.join('\n') + '\n');
  await cli('project', 'create', paths.project, '--name', 'E2E Evaluate');
  await cli('import', join(tmp, 'pairs.csv'), '--out', paths.data, '--map', 'anchor=question,positive=answer,label=topic');
  await cli('dataset', 'split', paths.data, '--eval', '0.25', '--seed', '1');
  await cli('train', '--model', paths.base, '--data', paths.data, '--out', paths.run, '--max-steps', '8', '--batch-size', '8', '--lr', '1e-3',
    '--max-length', '32', '--device', 'cpu', '--threads', '1');
  served = await startServe(join(tmp, 'state'));
  ({ context, page } = await launchBrowser(join(tmp, 'chromium-profile')));
  watch(page, pageErrors);
}, 180_000);

afterAll(async () => {
  await context?.close();
  await stopServe(served?.process);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** The app scrolls inside <main>, so the window is made tall enough to show all of it, then restored. */
async function shot(name: string): Promise<void> {
  const height = ((await page.evaluate('document.querySelector("main").scrollHeight')) as number) + 120;
  await page.setViewportSize({ width: 1200, height: Math.max(800, height) });
  await page.screenshot({ path: join(SHOTS, `e2e-evaluate-${name}.png`) });
  await page.setViewportSize({ width: 1200, height: 800 });
}
const nav = (name: string) => page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true }).click();
const number = (s: string | null) => Number((s ?? '').replace('−', '-').replace('±', '').replace(/[^\d.+-]/g, ''));

describe('Evaluate, Embeddings and Export in a browser', () => {
  it('opens the project made by the CLI', async () => {
    await page.goto(served!.url);
    await page.getByLabel('Project folder to open', { exact: true }).fill(paths.project);
    await page.getByRole('button', { name: 'Open project' }).click();
    await page.getByRole('heading', { name: 'Open project: E2E Evaluate', exact: true }).waitFor();
  });

  it('evaluates the base and the trained model and shows the deltas', async () => {
    await nav('Evaluate');
    await page.getByRole('heading', { name: 'Evaluate', exact: true, level: 1 }).waitFor();
    await page.getByLabel('Base model folder', { exact: true }).fill(paths.base);
    await page.getByLabel('Dataset', { exact: true }).selectOption(paths.data);
    await page.getByLabel('Use a finished training run').selectOption(paths.run);
    expect(await page.getByLabel('Trained model folder', { exact: true }).inputValue()).toBe(join(paths.run, 'model'));
    await page.getByRole('button', { name: 'Evaluate both models' }).click();
    for (const slot of ['before', 'after']) await page.locator(`[data-testid="job-${slot}"][data-state="done"]`).waitFor({ timeout: 90_000 });
    const row = page.locator('tr[data-metric="ndcg@10"]');
    const [before, after, change] = await Promise.all([2, 3, 4].map((n) => row.locator(`td:nth-child(${n})`).textContent()));
    expect(number(before)).toBeGreaterThan(0);
    expect(number(change)).toBeCloseTo(number(after) - number(before), 3);
    expect(await page.getByTestId('query-list').locator(':scope > li').count()).toBe(12); // 48 rows, a quarter for eval
    await page.getByTestId('query-list').locator('summary').first().click();
    await page.getByTestId('query-list').locator('details[open] tbody tr').first().waitFor();
    // Both models' ranked lists, 10 results each (the corpus has 48 documents).
    expect(await page.getByTestId('query-list').locator('details[open] .ranked li').count()).toBe(20);
    await shot('1-evaluate');
  });

  it('projects both models and draws them on canvases', async () => {
    await nav('Embeddings');
    await page.getByRole('button', { name: 'Project both models' }).click();
    const canvases = page.locator('canvas[data-drawn="48"]');
    await expect.poll(() => canvases.count(), { timeout: 90_000 }).toBe(2);
    // Drawn, not just present: the canvases have painted pixels.
    // (In-page code is passed as text: this file is type-checked without the DOM library.)
    const painted = async () => (await page.evaluate(`[...document.querySelectorAll('canvas')].map((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    })`)) as number[];
    // Drawing waits for animation frames, which a loaded machine may delay.
    await expect.poll(async () => (await painted()).every((n) => n > 200), { timeout: 20_000, interval: 200 }).toBe(true);
    const alignment = (await page.getByTestId('alignment').textContent())!.replace(/\s+/g, ' ');
    expect(alignment).toMatch(/The two maps agree \d+%/);
    expect(alignment).toContain('using the 48 texts both show');
    await page.getByLabel('Search texts').fill('garden');
    await page.getByText('8 texts match.').waitFor();
    await page.getByRole('list', { name: 'Matching texts' }).getByRole('button').first().click();
    expect(await page.getByTestId('neighbours-before').locator('li').count()).toBe(10);
    // Nearest by cosine in each model's embedding space, from the projection files, compared.
    expect(await page.getByTestId('neighbours-before').getAttribute('data-source')).toBe('embedding');
    expect(await page.getByTestId('neighbours-after').locator('li').count()).toBe(10);
    const scores = (await page.getByTestId('neighbours-after').locator('.score').allTextContents()).map((t) => Number(t.replace('cosine ', '')));
    expect(scores).toHaveLength(10);
    expect(scores.every((x, i) => x <= 1 && (i === 0 || x <= scores[i - 1]))).toBe(true);
    expect(await page.getByTestId('neighbour-change').textContent()).toMatch(/Fine-tuning kept \d+ of the base model's 10 nearest texts: \d+ new, \d+ lost\./);
    // Keyboard: Enter on a neighbour picks it and focuses the new pick.
    const first = page.getByTestId('neighbours-after').getByRole('button').first();
    const next = await first.textContent();
    await first.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.picked').textContent()).toBe(next);
    expect(await page.evaluate('document.activeElement.className')).toContain('picked');
    await shot('2-embeddings');
  });

  it('exports the trained model to a folder that loads', async () => {
    await nav('Export');
    expect(await page.getByLabel('Model folder to export', { exact: true }).inputValue()).toBe(join(paths.run, 'model'));
    const out = join(paths.project, 'export', 'r1');
    expect(await page.getByLabel('Destination folder', { exact: true }).inputValue()).toBe(out);
    await page.getByTestId('model-card').getByText('bert, 1 layer, hidden size 32, 4 heads').waitFor();
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    const folder = page.getByLabel('Exported folder', { exact: true });
    await folder.waitFor({ timeout: 60_000 });
    expect(await folder.inputValue()).toBe(out);
    for (const f of ['config.json', 'model.safetensors', 'modules.json', 'onnx/model.onnx']) expect(existsSync(join(out, f)), f).toBe(true);
    await shot('3-export');
    // It loads: the CLI embeds with the exported folder.
    await writeFile(join(tmp, 'texts.txt'), 'the apple manual\nhow do i use the river\n');
    await cli('embed', '--model', out, '--input', join(tmp, 'texts.txt'), '--out', join(tmp, 'e.jsonl'), '--device', 'cpu');
    const rows = (await readFile(join(tmp, 'e.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { embedding: number[] });
    expect(rows.map((r) => r.embedding.length)).toEqual([32, 32]);
  });

  it('draws, hovers and lassoes 50,000 points (timings printed, not asserted)', async () => {
    // A synthetic projection of 12 clustered topics, read through the engine like any other.
    const n = 50_000;
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const view = { points: [] as [number, number][], labels: [] as string[], texts: [] as string[] };
    for (let i = 0; i < n; i++) {
      const c = i % 12, r = Math.sqrt(-2 * Math.log(1 - rnd())), a = 2 * Math.PI * rnd();
      view.points.push([(c % 4) * 8 + r * Math.cos(a), Math.floor(c / 4) * 8 + r * Math.sin(a)]);
      view.labels.push(`topic ${c}`);
      view.texts.push(`text ${i} about topic ${c}`);
    }
    const file = join(paths.project, 'cache', 'umap-big.json');
    await writeFile(file, JSON.stringify(view));
    const key = `embedsmith.workbench.${paths.project}`;
    const [k, f] = [JSON.stringify(key), JSON.stringify(file)];
    await page.evaluate(`localStorage.setItem(${k}, JSON.stringify({ ...JSON.parse(localStorage.getItem(${k}) ?? '{}'), projectionBefore: ${f}, projectionAfter: ${f} }))`);
    const t0 = Date.now();
    await page.goto(new URL('#/embeddings', served!.url).href);
    await expect.poll(() => page.locator('canvas[data-drawn="50000"]').count(), { timeout: 60_000 }).toBe(2);
    const loadMs = Date.now() - t0;
    // Hover: 200 moves across the before view, each waited to its animation frame.
    const hover = (await page.evaluate(`(async () => {
      const c = document.querySelector('canvas');
      const box = c.getBoundingClientRect();
      const start = performance.now();
      for (let k = 0; k < 200; k++) {
        const at = { clientX: box.left + (k / 200) * box.width, clientY: box.top + box.height / 2, bubbles: true, pointerId: 1 };
        c.dispatchEvent(new PointerEvent('pointermove', at));
        await new Promise(requestAnimationFrame);
      }
      return (performance.now() - start) / 200;
    })()`)) as number;
    // A real mouse over the view's middle row of clusters finds a point to show.
    await page.locator('canvas').first().scrollIntoViewIfNeeded();
    const plot = (await page.locator('canvas').first().boundingBox())!;
    for (let fx = 0.02; fx < 1 && !(await page.locator('[role="tooltip"]').count()); fx += 0.02) await page.mouse.move(plot.x + fx * plot.width, plot.y + plot.height / 2);
    expect(await page.locator('[role="tooltip"]').textContent()).toMatch(/text \d+ about topic \d+/);
    // Lasso the left half of the before view.
    await page.getByRole('button', { name: 'Lasso select' }).click();
    const box = plot;
    const t1 = Date.now();
    await page.mouse.move(box.x + 2, box.y + 2);
    await page.mouse.down();
    for (const [fx, fy] of [[0.5, 0], [0.5, 1], [0, 1], [0, 0.01]]) await page.mouse.move(box.x + fx * box.width, box.y + fy * box.height, { steps: 10 });
    await page.mouse.up();
    await page.locator('#lasso-title').waitFor();
    const lassoMs = Date.now() - t1;
    const selected = Number((await page.locator('#lasso-title').textContent())!.replace(/\D/g, ''));
    expect(selected).toBeGreaterThan(10_000);
    expect(selected).toBeLessThan(40_000);
    await shot('4-embeddings-50k');
    await page.getByRole('button', { name: 'Dark theme' }).click();
    await shot('5-embeddings-50k-dark');
    console.log(`50,000 points: load and first draw ${loadMs} ms; hover ${hover.toFixed(1)} ms per frame; lasso of ${selected} points ${lassoMs} ms (with mouse steps)`);
  });

  it('logged no console errors or exceptions', () => {
    expect(pageErrors).toEqual([]);
  });
});
