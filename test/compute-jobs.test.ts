// Mining, evaluation, training and projection as EngineApi jobs, through the real engine host
// (a worker thread from dist/): results arrive in the done event, compute jobs take turns in
// one lane, and a cancelled training leaves a checkpoint that resume: true continues.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineProxy, type EngineApi, type JobProgress } from '../src/shared/api.js';
import { importDataset } from '../src/main/engine/data/index.js';
import { EngineHost, type WorkerFactory } from '../src/main/engine/host/engine-host.js';
import { writeRandomBert } from '../src/main/engine/model/random-model.js';

const realWorker: WorkerFactory = (o) => new Worker(new URL('../dist/main/engine/host/host-worker.js', import.meta.url), o);
let tmp: string;
let model: string;
let data: string;
let host: EngineHost;
let engine: EngineApi;
const events: JobProgress[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-jobs-'));
  model = join(tmp, 'model');
  await writeRandomBert(model, { tokenizerDir: 'test/fixtures/models/bert-wordpiece-uncased', hidden: 32, layers: 1, heads: 4, intermediate: 64, seed: 9 });
  const lines = ['anchor,positive,label'];
  for (let i = 0; i < 40; i++) lines.push(`query about item ${i},document describing item ${i} in words,g${i % 4}`);
  await writeFile(join(tmp, 'p.csv'), lines.join('\n') + '\n');
  data = join(tmp, 'data');
  await importDataset(join(tmp, 'p.csv'), data);
  host = new EngineHost({ stateDir: join(tmp, 'state'), host: 'node' }, realWorker);
  engine = createEngineProxy(host);
  engine.onJobProgress((p) => events.push(p));
});
afterAll(async () => {
  await host.dispose();
  await rm(tmp, { recursive: true, force: true });
});

function end(jobId: string): Promise<JobProgress> {
  return new Promise((resolve) => {
    const check = () => {
      const e = events.find((x) => x.jobId === jobId && ['done', 'failed', 'cancelled'].includes(x.state));
      if (e) resolve(e);
      else setTimeout(check, 50);
    };
    check();
  });
}

describe('compute jobs', () => {
  it('train, evaluate, mine and project as jobs, one at a time', { timeout: 120_000 }, async () => {
    const train = await engine.trainModel({ model, dataset: data, out: join(tmp, 'run'), settings: { maxSteps: 4, batchSize: 8, lr: 1e-3, maxLength: 32, device: 'cpu' } });
    const ev = await engine.evaluateModel({ model, dataset: data, device: 'cpu' });
    // The evaluation waits its turn behind the training in the compute lane.
    expect(events.find((e) => e.jobId === ev.jobId)?.state).toBe('queued');
    const t = await end(train.jobId);
    expect(t.state, t.message).toBe('done');
    expect(t.result).toMatchObject({ steps: 4, totalSteps: 4 });
    expect(existsSync(join(tmp, 'run', 'model', 'model.safetensors'))).toBe(true);
    const e = await end(ev.jobId);
    expect(e.state, e.message).toBe('done');
    const firstRunning = events.findIndex((x) => x.jobId === ev.jobId && x.state === 'running');
    const trainDone = events.findIndex((x) => x.jobId === train.jobId && x.state === 'done');
    expect(firstRunning).toBeGreaterThan(trainDone);
    const metrics = (e.result as { metrics: Record<string, number> }).metrics;
    expect(metrics['ndcg@10']).toBeGreaterThan(0);

    const mine = await engine.mineNegatives({ model, dataset: data, out: join(tmp, 'mined'), device: 'cpu', options: { negatives: 2, rankMin: 0, rankMax: 10 } });
    const m = await end(mine.jobId);
    expect(m.state, m.message).toBe('done');
    expect((m.result as { mined: number }).mined).toBe(80);

    const u = await engine.projectEmbeddings({ model, dataset: data, out: join(tmp, 'u.json'), device: 'cpu' });
    const uj = await end(u.jobId);
    expect(uj.state, uj.message).toBe('done');
    expect((JSON.parse(await readFile(join(tmp, 'u.json'), 'utf8')) as { points: unknown[] }).points).toHaveLength(40);

    // The read side the pages use, over what those jobs wrote.
    const page = await engine.readDatasetRows(join(tmp, 'mined'), { offset: 5, limit: 3 });
    expect(page.total).toBe(40);
    expect(page.rows.map((r) => r.index)).toEqual([5, 6, 7]);
    expect(page.rows[0].negatives).toHaveLength(2);
    const found = await engine.readDatasetRows(data, { offset: 0, limit: 50, search: 'ITEM 3' });
    expect(found.rows.map((r) => r.anchor).sort()).toEqual(['query about item 3', 'query about item 30', 'query about item 31', 'query about item 32', 'query about item 33', 'query about item 34', 'query about item 35', 'query about item 36', 'query about item 37', 'query about item 38', 'query about item 39']);
    const detail = await engine.describeDataset(join(tmp, 'mined'));
    expect(detail.summary).toMatchObject({ mined: true, rows: 40 });
    expect(detail.miningReport).toMatchObject({ totals: { mined: 80 } });
    const runView = await engine.readRun(join(tmp, 'run'));
    expect(runView.metrics.map((x) => x.step)).toEqual([1, 2, 3, 4]);
    expect(runView.config).toMatchObject({ batchSize: 8, maxSteps: 4 });
    expect(runView.modelDir).toBe(join(tmp, 'run', 'model'));
    const proj = await engine.readProjection(join(tmp, 'u.json'));
    expect(proj.points).toHaveLength(40);
    // Each point's 10 nearest texts by cosine ride along (projection-file.ts), never the point itself.
    expect(proj.neighbours?.k).toBe(10);
    expect(proj.neighbours?.indices).toHaveLength(400);
    expect(proj.neighbours!.indices.every((j, e) => j >= 0 && j < 40 && j !== Math.floor(e / 10))).toBe(true);
    expect(proj.neighbours!.scores.every((s, e) => s <= 1.0001 && (e % 10 === 0 || s <= proj.neighbours!.scores[e - 1]))).toBe(true);
    const ms = await engine.describeModel(model);
    expect(ms).toMatchObject({ hidden: 32, layers: 1, heads: 4, pooling: 'mean' });
    // LoRA's default targets in one BERT layer: query, key, value and attention.output.dense
    // (32 → 32: 64 each), intermediate.dense (32 → 64: 96) and output.dense (64 → 32: 96).
    expect(ms.loraParamsPerRank).toBe(4 * 64 + 96 + 96);
    const pv = await engine.previewTemplate({ template: 'query: {text}', texts: ['hello world'], model });
    expect(pv[0]).toEqual({ final: 'query: hello world', tokens: 6, truncated: false }); // [CLS] query : hello world [SEP]
  });

  it('imports a file as a job and edits the dataset with undo', { timeout: 60_000 }, async () => {
    await writeFile(join(tmp, 'bad.csv'), 'anchor,positive\nfirst question,first answer\n,missing anchor\nsecond question,second answer\n');
    const { jobId } = await engine.importDataset({ file: join(tmp, 'bad.csv'), out: join(tmp, 'imported') });
    const j = await end(jobId);
    expect(j.state, j.message).toBe('done');
    const r = j.result as { rows: number; skipped: number; issues: { line: number | null }[] };
    expect([r.rows, r.skipped]).toEqual([2, 1]);
    expect(r.issues.some((i) => i.line === 3)).toBe(true);
    const dir = join(tmp, 'imported');
    await engine.editDataset(dir, { op: 'change', index: 0, fields: { positive: 'a better answer' } });
    const err = await engine.editDataset(dir, { op: 'change', index: 1, fields: { anchor: '' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BAD_INPUT' });
    await engine.undoDatasetEdit(dir);
    const journal = (await readFile(join(dir, 'edits.jsonl'), 'utf8')).trim().split('\n');
    expect(journal.length).toBe(2); // the change and its undo; the refused edit left nothing
  });

  it('a cancelled training keeps a checkpoint and resumes to the end', { timeout: 120_000 }, async () => {
    const out = join(tmp, 'run-cancel');
    const req = { model, dataset: data, out, settings: { maxSteps: 120, batchSize: 8, lr: 1e-3, maxLength: 32, device: 'cpu' as const } };
    const { jobId } = await engine.trainModel(req);
    await new Promise<void>((ok) => {
      const wait = () => (events.some((x) => x.jobId === jobId && (x.done ?? 0) >= 2) ? ok() : setTimeout(wait, 20));
      wait();
    });
    expect(await engine.cancel(jobId)).toBe(true);
    const c = await end(jobId);
    expect(c.state).toBe('cancelled');
    expect(existsSync(join(out, 'checkpoints'))).toBe(true);
    expect(existsSync(join(out, 'model'))).toBe(false);
    const again = await engine.trainModel({ ...req, resume: true, settings: { ...req.settings } });
    const r = await end(again.jobId);
    expect(r.state, r.message).toBe('done');
    expect(r.result).toMatchObject({ steps: 120 });
  });
});
