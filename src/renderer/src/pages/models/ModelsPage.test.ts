// The Models page's pull panel against the fake engine: validation as the user types,
// progress from onJobProgress, Cancel, the folder on success, errors with message and code,
// and a download that keeps being followed while the user is on another page.
import { describe, expect, it } from 'vitest';
import { act, goTo, startApp, unmountApp, useApp } from '../../testing/app.js';
import { EngineError } from '../../../../shared/api.js';
import { FakeEngine } from '../../testing/fake-engine.js';
import { button, byLabel, queryButton, type } from '../../testing/dom.js';

const start = (engine: FakeEngine, hash = '#/models') => startApp(engine, hash);

const idField = () => byLabel('Model id');
const status = () => document.querySelector('[role="status"]:not(footer *)')?.textContent?.trim();
const progressBar = () => document.querySelector<HTMLProgressElement>('progress[aria-label="Download progress"]');
const stats = () => document.querySelector('[data-testid="pull-stats"]')?.textContent?.trim();
const jobIdOf = (engine: FakeEngine) => [...engine.jobs.keys()].at(-1)!;

async function startPull(engine: FakeEngine, id = 'BAAI/bge-small-en-v1.5'): Promise<string> {
  await act(() => type(idField(), id));
  await act(() => button('Download').click());
  return jobIdOf(engine);
}

useApp();

describe('Models page: download a base model', () => {
  it('is in the nav after Project', async () => {
    await start(new FakeEngine());
    expect(document.querySelector('h1')!.textContent).toBe('Models');
    expect(document.querySelector('nav a[aria-current="page"]')!.getAttribute('href')).toBe('#/models');
  });

  it('checks the id as the user types and says how to fix it', async () => {
    const engine = new FakeEngine();
    await start(engine);
    expect(button('Download').disabled).toBe(true); // empty: nothing to say yet, nothing to do
    expect(idField().getAttribute('aria-invalid')).toBeNull();
    await act(() => type(idField(), 'all-MiniLM-L6-v2'));
    const problem = document.getElementById(idField().getAttribute('aria-describedby')!)!;
    expect(problem.textContent).toContain('give the organisation too: ORG/NAME, e.g. sentence-transformers/all-MiniLM-L6-v2');
    expect(idField().getAttribute('aria-invalid')).toBe('true');
    expect(button('Download').disabled).toBe(true);
    await act(() => type(idField(), 'https://huggingface.co/BAAI/bge-small-en-v1.5'));
    expect(document.getElementById(idField().getAttribute('aria-describedby')!)!.textContent).toContain('paste only the ORG/NAME part');
    await act(() => type(idField(), 'sentence-transformers/all-MiniLM-L6-v2@main'));
    expect(idField().getAttribute('aria-invalid')).toBeNull();
    expect(document.getElementById(idField().getAttribute('aria-describedby')!)!.textContent).toContain('ORG/NAME@REVISION');
    expect(button('Download').disabled).toBe(false);
    expect(engine.calls.some((c) => c.method === 'pullModel')).toBe(false);
  });

  it('shows progress with percent, bytes, rate and ETA, and cancels through the engine', async () => {
    const engine = new FakeEngine();
    await start(engine);
    const jobId = await startPull(engine);
    expect(engine.calls.find((c) => c.method === 'pullModel')?.args).toEqual(['BAAI/bge-small-en-v1.5']);
    expect(status()).toBe('Downloading BAAI/bge-small-en-v1.5@main');
    expect(button('Download').disabled).toBe(true); // one pull at a time from here
    expect(document.activeElement).toBe(button('Cancel download')); // focus follows the next action
    expect(progressBar()!.hasAttribute('value')).toBe(false); // size unknown yet: indeterminate
    await act(() =>
      engine.progressJob(jobId, { fraction: 0.25, done: 33_500_000, total: 134_000_000, unit: 'bytes', rate: 5_000_000, etaSeconds: 20.1, message: 'model.safetensors (file 3 of 7)' }),
    );
    expect(progressBar()!.value).toBe(0.25);
    expect(stats()).toBe('25% · 34 MB of 134 MB · 5.0 MB/s · about 20 s left');
    expect(document.querySelector('main')!.textContent).toContain('model.safetensors (file 3 of 7)');
    await act(() => button('Cancel download').click());
    expect(engine.calls.find((c) => c.method === 'cancel')?.args).toEqual([jobId]);
    expect(status()).toBe('Download of BAAI/bge-small-en-v1.5@main cancelled');
    expect(progressBar()).toBeNull();
    expect(queryButton('Cancel download')).toBeNull();
    expect(document.activeElement).toBe(idField()); // focus is not dropped on the body
    expect(document.querySelector('main')!.textContent).toContain('downloading the same model again resumes it');
    expect(button('Download').disabled).toBe(false);
  });

  it('shows the local folder when done', async () => {
    const engine = new FakeEngine();
    await start(engine);
    const jobId = await startPull(engine, 'org/model@v2');
    await act(() => engine.finishPull(jobId, { dir: '/cache/models--org--model/snapshots/abc', downloadedBytes: 12_345_678 }));
    expect(status()).toBe('Downloaded org/model@v2');
    expect(byLabel('Model folder').value).toBe('/cache/models--org--model/snapshots/abc');
    expect(byLabel('Model folder').readOnly).toBe(true);
    expect(document.querySelector('main')!.textContent).toContain('12 MB downloaded');
  });

  it("shows the engine's error with its code: model not found, HF_TOKEN", async () => {
    const engine = new FakeEngine();
    await start(engine);
    let jobId = await startPull(engine, 'org/missing');
    await act(() => engine.failJob(jobId, { code: 'NOT_FOUND', message: 'model not found: org/missing@main on https://huggingface.co; check the name' }));
    let alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('The download failed');
    expect(alert.textContent).toContain('model not found: org/missing@main');
    expect(alert.textContent).toContain('NOT_FOUND');
    jobId = await startPull(engine, 'org/gated');
    expect(document.querySelector('[role="alert"]')).toBeNull(); // the new job replaces the old outcome
    await act(() => engine.failJob(jobId, { code: 'BAD_INPUT', message: 'https://huggingface.co requires authentication for org/gated (HTTP 401): a private or gated model. Set HF_TOKEN to an access token' }));
    alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('Set HF_TOKEN');
    expect(alert.textContent).toContain('BAD_INPUT');
  });

  it('shows a refused call (the engine is the judge of ids too) and dismisses it', async () => {
    const engine = new FakeEngine();
    engine.pullModel = async () => {
      const { EngineError } = await import('../../../../shared/api.js');
      throw new EngineError('HOST_CRASHED', 'the engine host stopped (exit code 1); try again');
    };
    await start(engine);
    await act(() => type(idField(), 'org/model'));
    await act(() => button('Download').click());
    const alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('The download could not start');
    expect(alert.textContent).toContain('HOST_CRASHED');
    await act(() => button('Dismiss error').click());
    expect(document.querySelector('[role="alert"]')).toBeNull();
  });

  it("shows a refused cancel with the engine's message, on whichever page the job is followed", async () => {
    const engine = new FakeEngine();
    await start(engine);
    await startPull(engine);
    engine.cancel = async () => {
      throw new EngineError('HOST_CRASHED', 'the engine host stopped (exit code 1); try again');
    };
    await act(() => button('Cancel download').click());
    const alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('The engine could not stop the job');
    expect(alert.textContent).toContain('HOST_CRASHED');
    goTo('#/project');
    expect(document.querySelector('[role="alert"]')!.textContent).toContain('The engine could not stop the job');
    await act(() => button('Dismiss error').click());
    expect(document.querySelector('[role="alert"]')).toBeNull();
  });

  it('keeps following a download while the user is on another page, and after a reload', async () => {
    const engine = new FakeEngine();
    await start(engine);
    const jobId = await startPull(engine);
    goTo('#/project');
    expect(progressBar()).toBeNull();
    await act(() => engine.progressJob(jobId, { fraction: 0.6, done: 60, total: 100, unit: 'bytes' }));
    goTo('#/models'); // (goTo applies the change at once)
    expect(progressBar()!.value).toBe(0.6);
    // A fresh page (reload) asks the engine which jobs exist.
    unmountApp();
    await start(engine);
    expect(engine.calls.filter((c) => c.method === 'listJobs').length).toBeGreaterThanOrEqual(2);
    expect(progressBar()!.value).toBe(0.6);
    expect(queryButton('Cancel download')).not.toBeNull();
  });
});
