// The engine host as it runs in the app: a real worker thread from dist/ (see global-setup),
// and a worker that dies mid-call, which must fail the call and its jobs, not the caller.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngineProxy, type JobProgress, type ProjectInfo } from '../src/shared/api.js';
import { EngineHost, type WorkerFactory } from '../src/main/engine/host/engine-host.js';

const realWorker: WorkerFactory = (o) => new Worker(new URL('../dist/main/engine/host/host-worker.js', import.meta.url), o);

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-host-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('EngineHost with the real worker', () => {
  it('runs workspace calls off-thread and forwards events', async () => {
    const host = new EngineHost({ stateDir: join(tmp, 'state'), host: 'node' }, realWorker);
    const engine = createEngineProxy(host);
    const changes: Array<ProjectInfo | null> = [];
    engine.onProjectChanged((p) => changes.push(p));
    try {
      const info = await engine.createProject(join(tmp, 'alpha'), 'Alpha');
      expect(info.name).toBe('Alpha');
      expect(await engine.currentProject()).toEqual(info);
      const recent = await engine.listRecentProjects();
      expect(recent.map((r) => r.dir)).toEqual([info.dir]);
      await engine.closeProject();
      expect(changes.map((c) => c?.name ?? null)).toEqual(['Alpha', null]);
      const err = await engine.openProject(join(tmp, 'nothing-here')).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await host.dispose();
    }
  });

  it('saves, lists and deletes a project\'s templates, refusing bad ones with BAD_INPUT across the wire', async () => {
    const host = new EngineHost({ stateDir: join(tmp, 'state'), host: 'node' }, realWorker);
    const engine = createEngineProxy(host);
    try {
      const dir = (await engine.createProject(join(tmp, 'tpl'), 'Tpl')).dir;
      const file = join(dir, 'templates.json');
      expect(await engine.listTemplates(dir)).toEqual({ file, active: null, templates: [] });
      const legal = { query: 'Find: {text}', document: 'Clause: ', text: '' };
      expect(await engine.saveTemplate(dir, 'default', legal, { active: true })).toEqual({ file, active: 'default', templates: [{ name: 'default', template: legal }] });
      // On disk, where the CLI reads it.
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ schemaVersion: 1, active: 'default', templates: { default: legal } });
      const bad = await engine.saveTemplate(dir, 'default', { ...legal, query: '{text} {text}' }).catch((e: unknown) => e);
      expect(bad).toMatchObject({ code: 'BAD_INPUT', details: { setting: 'query' } });
      expect((bad as Error).message).toContain("the query template of 'default'");
      expect(await engine.deleteTemplate(dir, 'default')).toEqual({ file, active: null, templates: [] });
      await expect(engine.listTemplates(join(tmp, 'nowhere'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await host.dispose();
    }
  });

  it("previews a file's first rows as the import reads them, writing nothing; a bad mapping is BAD_INPUT with the columns", async () => {
    const host = new EngineHost({ stateDir: join(tmp, 'state'), host: 'node' }, realWorker);
    const engine = createEngineProxy(host);
    try {
      const file = join(tmp, 'faq.csv');
      await writeFile(file, Buffer.from('question;reply;topic\n"Où est\nla facture?";Sous Billing.;billing\n;vide;x\n', 'latin1'));
      const p = await engine.previewImport({ file, map: 'label=topic' });
      expect(p).toMatchObject({ file, kind: 'csv', encoding: 'latin1', delimiter: ';', columns: ['question', 'reply', 'topic'], format: 'pairs', complete: true });
      expect(p.roles).toEqual({ anchor: 'question', positive: 'reply', label: 'topic' });
      expect(p.rows).toEqual([
        { line: 2, skipped: false, anchor: 'Où est\nla facture?', positive: 'Sous Billing.', label: 'billing' },
        { line: 4, skipped: true },
      ]);
      expect(p.issues).toEqual([{ line: 4, code: 'EMPTY_FIELD', severity: 'error', message: "line 4: column 'question' is empty; row skipped" }]);
      expect(p.notes.map((n) => n.code)).toEqual(['ENCODING_FALLBACK']);
      expect(await readdir(tmp)).toEqual(expect.arrayContaining(['faq.csv']));
      expect((await readdir(tmp)).filter((n) => n !== 'state')).toEqual(['faq.csv']);
      const bad = await engine.previewImport({ file, map: 'positive=answer' }).catch((e: unknown) => e);
      expect(bad).toMatchObject({ code: 'BAD_INPUT', details: { column: 'answer', columns: ['question', 'reply', 'topic'] } });
      expect((bad as Error).message).toContain("column 'answer' not found");
      await expect(engine.previewImport({ file: join(tmp, 'gone.csv') })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await host.dispose();
    }
  });

  it('releases the project lock on dispose so another host can open it', async () => {
    const a = new EngineHost({ stateDir: join(tmp, 'a'), host: 'node' }, realWorker);
    const b = new EngineHost({ stateDir: join(tmp, 'b'), host: 'node' }, realWorker);
    try {
      const dir = (await createEngineProxy(a).createProject(join(tmp, 'p'), 'P')).dir;
      const locked = await createEngineProxy(b).openProject(dir).catch((e: unknown) => e);
      expect(locked).toMatchObject({ code: 'LOCKED' });
      await a.dispose();
      await expect(createEngineProxy(b).openProject(dir)).resolves.toMatchObject({ name: 'P' });
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});

describe('EngineHost when the worker dies', () => {
  // A stand-in worker: reports a running job, then exits on the first call without answering.
  const dyingWorker: WorkerFactory = () =>
    new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.postMessage({ type: 'event', event: 'onJobProgress',
         payload: { jobId: 'j1', kind: 'train', state: 'running', fraction: 0.5, message: 'step 5/10' } });
       parentPort.on('message', (m) => { if (m.type === 'call') process.exit(3); });`,
      { eval: true },
    );

  it('fails the call in flight with HOST_CRASHED and marks running jobs failed', async () => {
    let started = 0;
    const host = new EngineHost({ stateDir: tmp, host: 'node' }, (o) => (started++, dyingWorker(o)));
    const engine = createEngineProxy(host);
    const jobs: JobProgress[] = [];
    engine.onJobProgress((p) => jobs.push(p));
    await new Promise((r) => setTimeout(r, 200)); // nothing runs before the first call
    expect(started).toBe(0);
    const first = engine.currentProject().catch((e: unknown) => e);
    // The job event arrives before the exit; wait for the crash to land.
    const err = await first;
    expect(err).toMatchObject({ code: 'HOST_CRASHED' });
    expect((err as Error).message).toMatch(/exit code 3/);
    expect(jobs.map((j) => [j.jobId, j.state])).toEqual([
      ['j1', 'running'],
      ['j1', 'failed'],
    ]);
    expect(jobs[1].error?.code).toBe('HOST_CRASHED');
    // The next call starts a fresh worker instead of hanging.
    await expect(engine.currentProject()).rejects.toMatchObject({ code: 'HOST_CRASHED' });
    expect(started).toBe(2);
    await host.dispose();
  });
});
