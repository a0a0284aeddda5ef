// End-to-end: the built renderer in real Chromium against `embedsmith serve` and the real
// engine, driven only through what a user sees (labels, roles, button names). Needs
// `npx electron-vite build` and `npm run build:node` first, and Chromium at /usr/bin/chromium.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPrerequisites, launchBrowser, ROOT, startServe, stopServe, watch, type Served } from './harness.js';

const SHOTS = join(ROOT, 'test-results');

let tmp: string;
let served: Served | undefined;
let url: string;
let context: BrowserContext;
let page: Page;
/** Console errors and uncaught exceptions: a CSP violation or a crash fails the test. */
const pageErrors: string[] = [];

beforeAll(async () => {
  checkPrerequisites();
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-e2e-'));
  await mkdir(SHOTS, { recursive: true });
  served = await startServe(join(tmp, 'state'));
  url = served.url;
  ({ context, page } = await launchBrowser(join(tmp, 'chromium-profile')));
  watch(page, pageErrors);
});

afterAll(async () => {
  await context?.close();
  await stopServe(served?.process);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `e2e-project-${name}.png`), fullPage: true });
const statusText = (p: Page = page) => p.getByTestId('project-status').textContent();
const currentHeading = (name: string) => page.getByRole('heading', { name: `Open project: ${name}`, exact: true });

describe('Project page in a browser', () => {
  const dir = () => join(tmp, 'projects', 'e2e-legal');

  it('loads the app, takes the token out of the address bar and reaches the engine', async () => {
    await page.goto(url);
    await page.getByRole('heading', { name: 'Project', exact: true }).waitFor();
    await expect.poll(() => page.getByTestId('engine-status').textContent(), { timeout: 15_000 }).toContain('web-bridge');
    expect(page.url()).not.toContain('token=');
    const nav = page.getByRole('navigation', { name: 'Sections' });
    expect(await nav.getByRole('link').allTextContents()).toHaveLength(9);
    expect(await nav.getByRole('link', { name: 'Project' }).getAttribute('aria-current')).toBe('page');
    expect(await statusText()).toContain('No project open');
  });

  it('creates a project in a folder through the form', async () => {
    await page.getByLabel('New project name', { exact: true }).fill('E2E Legal');
    await page.getByLabel('New project folder', { exact: true }).fill(dir());
    await page.getByRole('button', { name: 'Create project' }).click();
    await currentHeading('E2E Legal').waitFor();
    expect(await statusText()).toContain('Project: E2E Legal');
    // The real engine wrote the project to disk.
    expect(JSON.parse(await readFile(join(dir(), 'project.json'), 'utf8'))).toMatchObject({ name: 'E2E Legal' });
    await shot('1-created');
  });

  it('after a reload, shows it as current and in the recent list', async () => {
    await page.reload();
    await currentHeading('E2E Legal').waitFor();
    const recent = page.getByRole('button', { name: 'Open E2E Legal' });
    await recent.waitFor();
    expect(await recent.isDisabled()).toBe(true); // it is the open one
    expect(await statusText()).toContain('Project: E2E Legal');
    await shot('2-reloaded');
  });

  it('closes it, then reopens it from the recent list', async () => {
    await page.getByRole('button', { name: 'Close project' }).click();
    await expect.poll(() => statusText()).toContain('No project open');
    expect(await currentHeading('E2E Legal').count()).toBe(0);
    await shot('3-closed');
    await page.getByRole('button', { name: 'Open E2E Legal' }).click();
    await currentHeading('E2E Legal').waitFor();
    expect(await statusText()).toContain('Project: E2E Legal');
  });

  it('renames it', async () => {
    await page.getByLabel('Project name', { exact: true }).fill('E2E Contracts');
    await page.getByRole('button', { name: 'Rename', exact: true }).click();
    await currentHeading('E2E Contracts').waitFor();
    expect(await statusText()).toContain('Project: E2E Contracts');
    await page.getByRole('button', { name: 'Open E2E Contracts' }).waitFor();
    expect(JSON.parse(await readFile(join(dir(), 'project.json'), 'utf8'))).toMatchObject({ name: 'E2E Contracts' });
    await shot('4-renamed');
  });

  it('shows an engine error with its message and code', async () => {
    await page.getByLabel('New project name', { exact: true }).fill('Clash');
    await page.getByLabel('New project folder', { exact: true }).fill(dir()); // not empty: the project is there
    await page.getByRole('button', { name: 'Create project' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/ALREADY_EXISTS|BAD_INPUT/);
    await shot('5-error');
    await page.getByRole('button', { name: 'Dismiss error' }).click();
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('switches to the dark theme and moves through the sections by keyboard', async () => {
    await page.getByRole('button', { name: 'Dark theme' }).click();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    await shot('6-dark');
    // Keyboard only: arrows move along the nav, Enter follows the link, focus lands on the page.
    await page.getByRole('link', { name: 'Project' }).focus();
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowDown'); // Models, Data, Templates, Mining
    await page.keyboard.press('Enter');
    const heading = page.getByRole('heading', { name: 'Mining', exact: true });
    await heading.waitFor();
    // String expressions: this file is type-checked for Node (no DOM lib).
    await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('page-title');
    expect(await page.getByRole('link', { name: /Mining/ }).getAttribute('aria-current')).toBe('page');
    // A project is open, so the page offers its mining form rather than asking for one.
    expect(await page.getByRole('main').textContent()).not.toContain('arrives with issue');
    await shot('7-mining-page');
  });

  it('tells the user when the token is missing or refused', async () => {
    const other = await context.newPage(); // a new tab: its sessionStorage holds no token
    const otherErrors: string[] = [];
    watch(other, otherErrors);
    await other.goto(new URL('/', url).href);
    await other.getByRole('alert').filter({ hasText: 'no access token' }).waitFor();
    await other.goto(new URL('/?token=wrong', url).href);
    await other.getByRole('alert').filter({ hasText: 'refused' }).waitFor();
    await other.screenshot({ path: join(SHOTS, 'e2e-project-8-token-refused.png') });
    await other.close();
    // Chromium logs the refused socket as a console error; nothing else may have gone wrong.
    expect(otherErrors.filter((e) => !/WebSocket/.test(e))).toEqual([]);
  });

  it('logged no console errors or exceptions in the main tab (e.g. CSP violations)', () => {
    expect(pageErrors).toEqual([]);
  });
});
