// The demo card: one click starts the engine's demo job; when it is done the demo workspace
// opens as the project and the Workbench holds its folders for the other pages.
import { describe, expect, it } from 'vitest';
import { flushSync } from 'svelte';
import { startApp, useApp } from '../../testing/app.js';
import { FakeEngine } from '../../testing/fake-engine.js';
import { button, settle } from '../../testing/dom.js';

useApp();

describe('demo project card', () => {
  it('runs the demo job, then opens its workspace and fills the Workbench', async () => {
    const engine = new FakeEngine();
    await startApp(engine, '#/project');
    button('Run the demo').click();
    flushSync();
    await settle();
    const call = engine.calls.find((c) => c.method === 'runDemo');
    expect(call).toBeDefined();
    const workspace = call!.args[0] as string;
    expect(workspace).toMatch(/Embedsmith demo$/);
    const jobId = [...engine.jobs.keys()].at(-1)!;
    // While it runs: which of the six stages, a bar, how far.
    engine.progressJob(jobId, { state: 'running', fraction: 0.1, message: 'Mining hard negatives…' });
    flushSync();
    expect(document.querySelector('[data-testid="demo-stage"]')!.textContent!.replace(/\s+/g, ' ').trim()).toBe('Stage 3 of 6: Mining hard negatives… · 10%');
    expect(document.querySelector<HTMLProgressElement>('progress[aria-label="Demo progress"]')!.value).toBe(0.1);
    expect(document.querySelector('[aria-label="Demo stages"] [aria-current="step"]')!.textContent).toBe('Mining hard negatives');
    engine.progressJob(jobId, { fraction: 0.5, message: 'Training: step 20/40 · loss 0.8123' });
    flushSync();
    expect(document.querySelector('[data-testid="demo-stage"]')!.textContent).toContain('Stage 4 of 6');
    // The workspace exists as a project once the pipeline made it.
    engine.projects.set(workspace, { dir: workspace, name: 'Embedsmith demo', schemaVersion: 1, createdAt: '2026-11-27T00:00:00Z', updatedAt: '2026-11-27T00:00:00Z' });
    const result = {
      workspace, before: { 'ndcg@10': 0.586 }, after: { 'ndcg@10': 0.675 }, baseModel: '/r/base', dataset: `${workspace}/datasets/web-features`,
      mined: `${workspace}/datasets/web-features-mined`, run: `${workspace}/runs/demo`, trained: `${workspace}/runs/demo/model`, exportDir: `${workspace}/export`,
    };
    engine.emitJob({ jobId, kind: 'demo', subject: workspace, state: 'done', fraction: 1, message: 'Demo done', result });
    flushSync();
    await settle();
    flushSync();
    expect(engine.calls.some((c) => c.method === 'openProject' && c.args[0] === workspace)).toBe(true);
    expect(document.body.textContent).toMatch(/0\.586.*0\.675/s);
    const saved = JSON.parse(localStorage.getItem(`embedsmith.workbench.${workspace}`) ?? '{}') as Record<string, string>;
    expect(saved.trained).toBe(`${workspace}/runs/demo/model`);
    expect(saved.mined).toBe(`${workspace}/datasets/web-features-mined`);
    // Both models are evaluated and projected for the Evaluate and Embeddings pages, as theirs.
    await settle();
    flushSync();
    const started = (m: string) => engine.calls.filter((c) => c.method === m).map((c) => c.args[0]);
    expect(started('evaluateModel')).toEqual(['/r/base', `${workspace}/runs/demo/model`]);
    expect(started('projectEmbeddings')).toEqual([result.dataset, result.dataset]);
    const pageJobs = (page: string) => JSON.parse(localStorage.getItem(`embedsmith.page-jobs.${page}.${workspace}`) ?? '{}') as Record<string, { about: { model: string } }>;
    expect(pageJobs('evaluate').after.about.model).toBe(`${workspace}/runs/demo/model`);
    expect(pageJobs('embeddings').before.about.model).toBe('/r/base');
    location.hash = '#/evaluate';
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    flushSync();
    await settle();
    flushSync();
    expect(document.querySelector('[data-testid="job-before"]')).not.toBeNull(); // the page shows the demo's evaluation, not an empty form
  });

  it('fills the model and dataset fields of a project made by the CLI (nothing chosen in this browser yet)', async () => {
    const engine = new FakeEngine();
    const ws = '/home/ada/Embedsmith/Embedsmith demo';
    const info = { dir: ws, name: 'Embedsmith demo', schemaVersion: 1, createdAt: '2026-11-27T00:00:00Z', updatedAt: '2026-11-27T00:00:00Z' };
    engine.projects.set(ws, info);
    engine.open = info;
    const summary = (name: string, more: object) => ({ dir: `${ws}/datasets/${name}`, name, format: 'pairs', rows: 1204, skipped: 0, warnings: 0, labels: null, mined: false, split: null, createdAt: '', ...more });
    engine.datasets = [summary('web-features', { split: { train: 963, eval: 241 } }), summary('web-features-mined', { format: 'triplets', mined: true })];
    engine.runs.set(`${ws}/runs/demo`, { dir: `${ws}/runs/demo`, config: { model: '/r/base' }, metrics: [], checkpoints: [], modelDir: `${ws}/runs/demo/model` });
    await startApp(engine, '#/evaluate', 4);
    expect((document.getElementById('eval-model') as HTMLInputElement).value).toBe('/r/base');
    expect((document.getElementById('eval-trained') as HTMLInputElement).value).toBe(`${ws}/runs/demo/model`);
    expect((document.getElementById('eval-dataset') as HTMLSelectElement).value).toBe(`${ws}/datasets/web-features`);
  });
});
