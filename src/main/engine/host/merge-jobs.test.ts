// The app's side of the forgetting guard (issue 18), in-process: the train job scores the
// general set before and after (the same file readRun hands the Evaluate page), the merge-curve
// job reports one progress event per point and its endpoints are the two models' own
// evaluations, a cancelled curve ends CANCELLED, and the merge job writes the interpolation.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobUpdate } from './jobs.js';
import { importDataset } from '../data/index.js';
import { evaluateDataset } from '../eval/evaluate.js';
import { evaluateGeneral } from '../eval/general.js';
import { loadModelFolder } from '../model/load.js';
import { paramSpecs, specFromHfConfig } from '../nn/index.js';
import { writeRandomBert } from '../model/random-model.js';
import { openModelTools } from '../mining/embedder.js';
import { evaluateJob, mergeCurveJob, mergeJob, trainJob } from './compute-jobs.js';
import { readRun } from './read-service.js';

const TOK = 'test/fixtures/models/bert-wordpiece-uncased';
const tiny = { tokenizerDir: TOK, hidden: 16, layers: 1, heads: 2, intermediate: 32, maxPositions: 64 };
let tmp: string, base: string, tuned: string, data: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'es-merge-jobs-'));
  base = join(tmp, 'base');
  tuned = join(tmp, 'tuned');
  await writeRandomBert(base, { ...tiny, seed: 3 });
  await writeRandomBert(tuned, { ...tiny, seed: 4 });
  const lines = ['anchor,positive'];
  for (let i = 0; i < 16; i++) lines.push(`question number ${i} about apples,answer ${i} talks of fruit`);
  await writeFile(join(tmp, 'p.csv'), lines.join('\n') + '\n');
  data = join(tmp, 'ds');
  await importDataset(join(tmp, 'p.csv'), data);
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

function context(signal = new AbortController().signal) {
  const updates: JobUpdate[] = [];
  return { updates, ctx: { jobId: 'test', signal, progress: (u: JobUpdate) => updates.push(u) } };
}

async function direct(dir: string, maxLength?: number) {
  const tools = await openModelTools(dir, { device: 'cpu', maxLength });
  try {
    return { domain: (await evaluateDataset({ dataDir: data, embed: tools.embed, search: tools.search })).metrics, general: (await evaluateGeneral(tools)).metrics };
  } finally {
    await tools.dispose();
  }
}

describe('merge and forgetting-guard jobs', () => {
  it('the train job scores the general set before and after, and readRun hands it on', { timeout: 120_000 }, async () => {
    const out = join(tmp, 'run');
    const { ctx } = context();
    const r = await trainJob({ model: base, dataset: data, out, settings: { maxSteps: 2, batchSize: 4, lr: 1e-3, maxLength: 32, device: 'cpu' } }, ctx);
    expect(r.modelDir).toBe(join(out, 'model'));
    expect(r.general).toBeTruthy();
    const saved = JSON.parse(await readFile(join(out, 'general-eval.json'), 'utf8')) as unknown;
    expect(r.general).toEqual(saved);
    // "before" is the base model's own general-set score; "after" the trained model's (at the run's max length).
    const [b, a] = [await direct(base, 32), await direct(r.modelDir!, 32)];
    expect(r.general!.before['ndcg@10']).toBeCloseTo(b.general['ndcg@10']!, 10);
    expect(r.general!.after['ndcg@10']).toBeCloseTo(a.general['ndcg@10']!, 10);
    expect((await readRun(out)).general).toEqual(saved);

    const off = join(tmp, 'run-off');
    const r2 = await trainJob({ model: base, dataset: data, out: off, generalEval: false, settings: { maxSteps: 1, batchSize: 4, maxLength: 32, device: 'cpu' } }, context().ctx);
    expect(r2.general).toBeNull();
    expect(existsSync(join(off, 'general-eval.json'))).toBe(false);
    expect((await readRun(off)).general).toBeUndefined();
  });

  it('the merge curve reports each point, and its endpoints are the base and tuned evaluations', { timeout: 120_000 }, async () => {
    const { updates, ctx } = context();
    const r = await mergeCurveJob({ base, tuned, dataset: data, points: 3, device: 'cpu' }, ctx);
    expect(r.points.map((p) => p.alpha)).toEqual([0, 0.5, 1]);
    expect(updates.map((u) => [u.done, u.total])).toEqual([[1, 3], [2, 3], [3, 3]]);
    const [b, t] = [await direct(base), await direct(tuned)];
    expect(r.points[0]!.domain['ndcg@10']).toBeCloseTo(b.domain['ndcg@10']!, 10);
    expect(r.points[0]!.general['ndcg@10']).toBeCloseTo(b.general['ndcg@10']!, 10);
    expect(r.points[2]!.domain['ndcg@10']).toBeCloseTo(t.domain['ndcg@10']!, 10);
    expect(r.points[2]!.general['ndcg@10']).toBeCloseTo(t.general['ndcg@10']!, 10);
  });

  it('an evaluate request with dims scores the truncated embeddings, and refuses dims past the width', async () => {
    const full = await evaluateJob({ model: base, dataset: data, device: 'cpu' }, context().ctx);
    const four = await evaluateJob({ model: base, dataset: data, device: 'cpu', dims: 4 }, context().ctx);
    expect(four.perQuery.map((p) => p.ranks[0])).not.toEqual(full.perQuery.map((p) => p.ranks[0])); // the cut changes rankings here
    // A plain-JS reference: full-width embeddings cut to 4 and re-normalised, ranked by cosine.
    const tools = await openModelTools(base, { device: 'cpu' });
    try {
      const rows = full.perQuery;
      const docs = [...new Set(rows.flatMap((q) => q.relevant ?? []))];
      const cut = (v: Float32Array, n: number) => {
        const out: number[][] = [];
        for (let i = 0; i < n; i++) {
          const row = [...v.subarray(i * 16, i * 16 + 4)];
          const norm = Math.hypot(...row);
          out.push(row.map((x) => x / norm));
        }
        return out;
      };
      const q = cut(await tools.embed(rows.map((r) => r.query), 'query'), rows.length);
      const d = cut(await tools.embed(docs, 'document'), docs.length);
      rows.forEach((r, i) => {
        const scores = d.map((dv) => dv.reduce((s, x, j) => s + x * q[i]![j]!, 0));
        const mine = scores[docs.indexOf(r.relevant![0]!)]!;
        const rank = 1 + scores.filter((s) => s > mine).length;
        const got = four.perQuery.find((p) => p.query === r.query)!.ranks[0];
        expect(got).toBe(rank);
      });
    } finally {
      await tools.dispose();
    }
    await expect(evaluateJob({ model: base, dataset: data, device: 'cpu', dims: 17 }, context().ctx)).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('a cancelled curve ends CANCELLED', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(mergeCurveJob({ base, tuned, dataset: data, points: 3, device: 'cpu' }, context(ac.signal).ctx)).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('the merge job writes (1 − α)·base + α·tuned, and refuses α outside [0, 1]', async () => {
    const out = join(tmp, 'merged');
    const r = await mergeJob({ base, tuned, alpha: 0.25, out });
    expect(r).toMatchObject({ dir: out, alpha: 0.25 });
    const [b, t, m] = await Promise.all([base, tuned, out].map((d) => loadModelFolder(d, { expected: (c) => paramSpecs(specFromHfConfig(c.raw)) })));
    expect(m.params.size).toBe(b.params.size);
    for (const [key, mv] of m.params) {
      const bv = b.params.get(key)!;
      const tv = t.params.get(key)!;
      // An independent reference: the formula per element, rounded to float32.
      const ref = Float32Array.from(bv, (x, i) => 0.75 * x + 0.25 * tv[i]!);
      expect([...mv]).toEqual([...ref]);
    }
    await expect(mergeJob({ base, tuned, alpha: 1.5, out: join(tmp, 'bad') })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});
