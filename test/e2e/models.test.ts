// End-to-end: downloading a base model from the Models page, in Chromium against
// `embedsmith serve`, whose engine talks to a local stand-in for the Hugging Face hub
// (HF_ENDPOINT) and writes into a temporary cache (HF_HUB_CACHE). Same prerequisites as
// project.test.ts.
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HUB_BIG, sha256, startFakeHub, type FakeHub } from '../support/fake-hub.js';
import { checkPrerequisites, launchBrowser, ROOT, startServe, stopServe, watch, type Served } from './harness.js';

const SHOTS = join(ROOT, 'test-results');
let tmp: string;
let hub: FakeHub;
let served: Served | undefined;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
const cache = () => join(tmp, 'hf-cache');

beforeAll(async () => {
  checkPrerequisites();
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-e2e-models-'));
  await mkdir(SHOTS, { recursive: true });
  hub = await startFakeHub();
  served = await startServe(join(tmp, 'state'), { HF_ENDPOINT: hub.base, HF_HUB_CACHE: cache(), HF_HUB_OFFLINE: '', HF_TOKEN: '' });
  ({ context, page } = await launchBrowser(join(tmp, 'chromium-profile')));
  watch(page, pageErrors);
});

afterAll(async () => {
  await context?.close();
  await stopServe(served?.process);
  await hub?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `e2e-models-${name}.png`), fullPage: true });
const idField = () => page.getByLabel('Model id', { exact: true });
const download = () => page.getByRole('button', { name: 'Download', exact: true });

describe('Models page in a browser', () => {
  it('checks the id as the user types', async () => {
    await page.goto(new URL('#/models', served!.url).href);
    await page.getByRole('heading', { name: 'Models', exact: true }).waitFor();
    await idField().fill('all-MiniLM-L6-v2');
    await page.getByText('give the organisation too').waitFor();
    expect(await idField().getAttribute('aria-invalid')).toBe('true');
    expect(await download().isDisabled()).toBe(true);
  });

  it('cancels a download mid-file, leaving only the partial file', async () => {
    hub.mode = { stall: { path: 'model.safetensors', bytes: 60_000 } };
    await idField().fill('org/model');
    await idField().press('Enter'); // the keyboard way: Enter submits
    const cancel = page.getByRole('button', { name: 'Cancel download' });
    await cancel.waitFor();
    await hub.stalled();
    await expect.poll(() => page.getByTestId('pull-stats').textContent()).toMatch(/%.*kB of .*kB/);
    // Cancel once the bytes are on disk, so the next test has a partial file to resume.
    const partial = join(cache(), 'models--org--model', 'blobs', `${sha256(HUB_BIG)}.incomplete`);
    await expect.poll(async () => (await stat(partial).catch(() => undefined))?.size ?? 0).toBe(60_000);
    await shot('1-downloading');
    await cancel.click();
    await page.getByRole('status').filter({ hasText: 'Download of org/model@main cancelled' }).waitFor();
    const blobs = await readdir(join(cache(), 'models--org--model', 'blobs'));
    expect(blobs).not.toContain(sha256(HUB_BIG));
  });

  it('downloads again, resuming, and shows the model folder', async () => {
    hub.mode = {};
    await download().click();
    const folder = page.getByLabel('Model folder', { exact: true });
    await folder.waitFor();
    const dir = await folder.inputValue();
    expect(dir).toMatch(/models--org--model[/\\]snapshots[/\\]a{40}$/);
    expect((await readFile(join(dir, 'model.safetensors'))).equals(HUB_BIG)).toBe(true);
    expect(hub.requests.some((r) => / bytes=\d+-/.test(r))).toBe(true);
    await shot('2-done');
  });

  it("shows the hub's 404 as 'model not found' with its code", async () => {
    await idField().fill('org/missing');
    await download().click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('model not found: org/missing@main');
    expect(await alert.textContent()).toContain('NOT_FOUND');
    await shot('3-not-found');
  });

  it('logged no console errors or exceptions', () => {
    expect(pageErrors).toEqual([]);
  });
});
