// What every browser test needs: `embedsmith serve` on a free port (a child process, with the
// environment a test gives it, e.g. HF_ENDPOINT) and headless Chromium with a fresh profile.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface Served {
  url: string;
  process: ChildProcess;
  /** Everything it printed so far, for failure messages. */
  log(): string;
}

/** Fails with the fix when the builds or Chromium are missing. */
export function checkPrerequisites(): void {
  for (const built of ['out/renderer/index.html', 'dist/main/engine/cli/main.js']) {
    if (!existsSync(join(ROOT, built))) throw new Error(`${built} is missing: run \`npx electron-vite build && npm run build:node\` first`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it (apt install chromium) or set CHROMIUM_PATH`);
}

/** Starts the bridge on a free port and resolves once it prints its URL. */
export function startServe(stateDir: string, env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const child = spawn(process.execPath, ['bin/embedsmith.js', 'serve', '--port', '0', '--state-dir', stateDir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`embedsmith serve printed no URL in 30 s:\n${log}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const m = /Embedsmith is serving (http:\/\/\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], process: child, log: () => log });
      }
    });
    child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`embedsmith serve exited with ${code}:\n${log}`));
    });
  });
}

/** SIGTERM (the bridge releases project locks), SIGKILL after 5 s. */
export async function stopServe(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export async function launchBrowser(profileDir: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync', '--disable-quic'],
  });
  return { context, page: context.pages()[0] ?? (await context.newPage()) };
}

/** Console errors and uncaught exceptions go to `errors`: a CSP violation or a crash fails a test. */
export function watch(p: Page, errors: string[]): void {
  p.on('console', (msg) => msg.type() === 'error' && errors.push(`${msg.text()} (${msg.location().url})`));
  p.on('pageerror', (err) => errors.push(String(err)));
}
