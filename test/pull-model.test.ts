// pullModel as the UI drives it: the engine service (directly, then through the real worker
// host) against a local stand-in for the hub — progress events, the done event's folder,
// cancel mid-download, hub errors as failed jobs with their code.
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEngineProxy, jobResult, type EngineApi, type JobProgress } from '../src/shared/api.js';
import { EngineHost, type WorkerFactory } from '../src/main/engine/host/engine-host.js';
import { createEngineService, type EngineService, type EngineServiceOptions } from '../src/main/engine/host/engine-service.js';
import { HUB_BIG, HUB_COMMIT, sha256, startFakeHub, type FakeHub } from './support/fake-hub.js';

const realWorker: WorkerFactory = (o) => new Worker(new URL('../dist/main/engine/host/host-worker.js', import.meta.url), o);

let hub: FakeHub;
let tmp: string;
let n = 0;
let options: EngineServiceOptions;

beforeAll(async () => {
  hub = await startFakeHub();
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-pull-'));
});
afterAll(async () => {
  await hub.close();
  await rm(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  hub.mode = {};
  n++;
  options = {
    stateDir: join(tmp, `state${n}`),
    host: 'node',
    hub: { cacheDir: join(tmp, `cache${n}`), endpoint: hub.base, offline: false },
    jobProgressIntervalMs: 0, // every chunk: the test sees the bytes grow
  };
});

/** Collects one job's events and resolves at its final one. */
function follow(engine: EngineApi) {
  const events: JobProgress[] = [];
  let done!: (p: JobProgress) => void;
  const final = new Promise<JobProgress>((r) => (done = r));
  const off = engine.onJobProgress((p) => {
    events.push(p);
    if (['done', 'failed', 'cancelled'].includes(p.state)) done(p);
  });
  return { events, final: final.finally(off) };
}

describe('engine service pullModel', () => {
  let engine: EngineService;
  beforeEach(() => {
    engine = createEngineService(options);
  });

  it('reports byte progress and ends done with the snapshot folder', async () => {
    const job = follow(engine);
    const { jobId } = await engine.pullModel('org/model');
    const final = await job.final;
    expect(job.events.every((e) => e.jobId === jobId && e.kind === 'pull-model')).toBe(true);
    const running = job.events.filter((e) => e.state === 'running' && e.unit === 'bytes');
    expect(running.length).toBeGreaterThan(2);
    const fractions = running.map((e) => e.fraction!);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(running.at(-1)).toMatchObject({ total: running.at(-1)!.done, fraction: 1 });
    expect(running.some((e) => e.message.includes('model.safetensors'))).toBe(true);
    const result = jobResult(final, 'pull-model')!;
    expect(final).toMatchObject({ state: 'done', message: 'Downloaded org/model@main' });
    expect(result.dir).toBe(join(options.hub!.cacheDir!, 'models--org--model', 'snapshots', HUB_COMMIT));
    expect((await readFile(join(result.dir, 'model.safetensors'))).equals(HUB_BIG)).toBe(true);
    expect(await engine.listJobs()).toEqual([final]);
    // Again: everything is in the cache already.
    const again = follow(engine);
    await engine.pullModel('org/model');
    expect((await again.final).result).toMatchObject({ dir: result.dir, downloadedBytes: 0 });
  });

  it('cancel mid-download ends cancelled, leaving the .incomplete file and no blob', async () => {
    hub.mode.stall = { path: 'model.safetensors', bytes: 60_000 };
    const job = follow(engine);
    const { jobId } = await engine.pullModel('org/model');
    await hub.stalled();
    // Cancel once the sent bytes are on disk, so there is a partial file to keep.
    const partial = join(options.hub!.cacheDir!, 'models--org--model', 'blobs', `${sha256(HUB_BIG)}.incomplete`);
    await expect.poll(async () => (await stat(partial).catch(() => undefined))?.size ?? 0).toBe(60_000);
    expect(await engine.cancel(jobId)).toBe(true);
    const final = await job.final;
    expect(final).toMatchObject({ jobId, state: 'cancelled' });
    expect(final.error).toBeUndefined();
    const blobs = await readdir(join(options.hub!.cacheDir!, 'models--org--model', 'blobs'));
    expect(blobs).not.toContain(sha256(HUB_BIG));
    expect(blobs.filter((b) => b.startsWith(sha256(HUB_BIG)))).toEqual([`${sha256(HUB_BIG)}.incomplete`]);
    expect(await engine.cancel(jobId)).toBe(false);
    expect((await engine.listJobs()).map((p) => p.state)).toEqual(['cancelled']);
  });

  it('hub errors end the job failed with their code; a bad id fails the call', async () => {
    const job = follow(engine);
    await engine.pullModel('org/missing');
    expect(await job.final).toMatchObject({ state: 'failed', error: { code: 'NOT_FOUND', message: expect.stringMatching(/^model not found: org\/missing@main/) } });
    hub.mode.auth = true;
    const gated = follow(engine);
    await engine.pullModel('org/model@main');
    expect(await gated.final).toMatchObject({ state: 'failed', error: { code: 'BAD_INPUT', message: expect.stringMatching(/Set HF_TOKEN/) } });
    await expect(engine.pullModel('not a model')).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/write ORG\/NAME/) });
  });

  it('dispose cancels a download in flight', async () => {
    hub.mode.stall = { path: 'model.safetensors', bytes: 1000 };
    const job = follow(engine);
    await engine.pullModel('org/model');
    await hub.stalled();
    await engine.dispose();
    expect((await job.final).state).toBe('cancelled');
  });
});

describe('pullModel through the worker host', () => {
  it('carries the events and the result across the thread boundary', async () => {
    const host = new EngineHost(options, realWorker);
    const engine = createEngineProxy(host);
    try {
      const job = follow(engine);
      const { jobId } = await engine.pullModel('org/model');
      const final = await job.final;
      expect(final).toMatchObject({ jobId, state: 'done' });
      expect(jobResult(final, 'pull-model')?.dir).toMatch(/models--org--model[/\\]snapshots[/\\]a{40}$/);
      expect(await engine.listJobs()).toEqual([final]);
    } finally {
      await host.dispose();
    }
  });
});
