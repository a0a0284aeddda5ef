// For tests only: the whole App on a fake engine, as the page tests drive it. Each test file
// calls `useApp()` once: every test then starts from empty storage and ends unmounted.
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, beforeEach } from 'vitest';
import type { EngineApi } from '../../../shared/api.js';
import App from '../App.svelte';

let app: Record<string, unknown> | null = null;

export function useApp(): void {
  beforeEach(() => localStorage.clear());
  afterEach(stopApp);
}

/** Mounts App on `engine` at `hash` and lets its first calls finish (`rounds` rounds of them). */
export async function startApp(engine: EngineApi, hash = '#/project', rounds = 1): Promise<HTMLElement> {
  history.replaceState(null, '', `/${hash}`);
  const target = document.createElement('div');
  document.body.append(target);
  app = mount(App, { target, props: { engine } });
  await settled(rounds);
  return target;
}

/** Takes App away, keeping what it stored: with a `startApp` after it, a page reload. */
export function unmountApp(): void {
  if (app) unmount(app);
  app = null;
  document.body.innerHTML = '';
}

export function stopApp(): void {
  unmountApp();
  localStorage.clear();
}

/** The workbench choices a project starts with, as App stores them. */
export function seedChoices(projectDir: string, choices: object): void {
  localStorage.setItem(`embedsmith.workbench.${projectDir}`, JSON.stringify(choices));
}

/** Lets the fake engine's pending calls finish and Svelte apply what they changed, `rounds` times. */
export async function settled(rounds = 1): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    flushSync();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  flushSync();
}

/** Does `f` (a click, a keystroke; awaited when it returns a promise), then `settled(rounds)`. */
export async function act(f: () => unknown, rounds = 1): Promise<void> {
  const r = f();
  if (r instanceof Promise) await r;
  await settled(rounds);
}

export function goTo(hash: string): void {
  location.hash = hash;
  window.dispatchEvent(new HashChangeEvent('hashchange'));
  flushSync();
}

/** The page's text with runs of white space as one space. */
export const mainText = () => document.querySelector('main')!.textContent!.replace(/\s+/g, ' ');
