// The forgetting guard: the shipped general set imports as pairs and evaluates; train writes
// general-eval.json with the base and the trained model's scores (each equal to evaluating
// that model directly); the merge curve's endpoints are the base and the tuned model's own
// evaluations, and its middle is a real interpolation.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDataset } from '../data/index.js';
import { loadModelFolder } from '../model/load.js';
import { writeRandomBert } from '../model/random-model.js';
import { openModelTools } from '../mining/embedder.js';
import { paramSpecs, specFromHfConfig } from '../nn/index.js';
import { evaluateDataset } from './evaluate.js';
import { type GeneralReport, describeGeneral, evaluateGeneral, generalSetFile, guardForgetting } from './general.js';
import { mergeCurve } from './merge-curve.js';

const TOK = 'test/fixtures/models/bert-wordpiece-uncased';
let tmp: string, base: string, tuned: string, data: string;
const tiny = { tokenizerDir: TOK, hidden: 16, layers: 1, heads: 2, intermediate: 32, maxPositions: 64 };

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'es-general-'));
  base = join(tmp, 'base');
  tuned = join(tmp, 'tuned');
  await writeRandomBert(base, { ...tiny, seed: 1 });
  // A different max length on the tuned side: the endpoints must still be each model as it is.
  await writeRandomBert(tuned, { ...tiny, seed: 2, maxSeqLength: 12 });
  await writeFile(join(tmp, 'p.csv'), 'anchor,positive\nred apple,a fruit that is red\nblue sky,the colour above us\ngreen grass,lawn plants\nfast car,a quick vehicle\nold book,a worn volume\n');
  data = join(tmp, 'ds');
  await importDataset(join(tmp, 'p.csv'), data);
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

async function direct(dir: string) {
  const tools = await openModelTools(dir, { device: 'cpu' });
  try {
    return { domain: (await evaluateDataset({ dataDir: data, embed: tools.embed, search: tools.search })).metrics, general: (await evaluateGeneral(tools)).metrics };
  } finally {
    await tools.dispose();
  }
}

describe('the forgetting guard', () => {
  it('the shipped set is 400 distinct example → definition pairs', async () => {
    const lines = (await readFile(generalSetFile(), 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('anchor,positive');
    expect(lines.length).toBe(401);
    const r = await importDataset(generalSetFile(), join(tmp, 'general'));
    expect([r.meta.format, r.meta.counts.rows]).toEqual(['pairs', 400]);
  });

  it('guardForgetting writes both models’ general-set scores, the ones a direct evaluation gives', async () => {
    const run = join(tmp, 'run');
    await mkdir(run);
    const g = await guardForgetting({ base, tuned, runDir: run, device: 'cpu' });
    const saved = JSON.parse(await readFile(join(run, 'general-eval.json'), 'utf8')) as GeneralReport;
    expect(saved).toEqual(g);
    expect(g.queries).toBe(400);
    const [b, t] = [await direct(base), await direct(tuned)];
    expect(g.before['ndcg@10']).toBeCloseTo(b.general['ndcg@10']!, 10);
    expect(g.after['ndcg@10']).toBeCloseTo(t.general['ndcg@10']!, 10);
    expect(describeGeneral({ ...g, before: { 'ndcg@10': 0.5 }, after: { 'ndcg@10': 0.4 } })).toMatch(/0\.5000 → 0\.4000 \(-0\.1000\); the model forgot some general language: `embedsmith merge/);
    expect(describeGeneral({ ...g, before: { 'ndcg@10': 0.5 }, after: { 'ndcg@10': 0.51 } })).not.toMatch(/forgot/);
  });

  it('the merge curve runs from the base model’s evaluation to the tuned model’s', async () => {
    const expected = (c: { raw: Record<string, unknown> }) => paramSpecs(specFromHfConfig(c.raw));
    const curve = await mergeCurve(await loadModelFolder(base, { expected }), await loadModelFolder(tuned, { expected }), data, { points: 3, device: 'cpu' });
    expect(curve.map((p) => p.alpha)).toEqual([0, 0.5, 1]);
    const [b, t] = [await direct(base), await direct(tuned)];
    for (const k of ['ndcg@10', 'mrr@10']) {
      expect(curve[0]!.domain[k]).toBeCloseTo(b.domain[k]!, 12);
      expect(curve[0]!.general[k]).toBeCloseTo(b.general[k]!, 12);
      expect(curve[2]!.domain[k]).toBeCloseTo(t.domain[k]!, 12);
      expect(curve[2]!.general[k]).toBeCloseTo(t.general[k]!, 12);
    }
    // Two unrelated random models: the halfway model ranks the general set unlike either end.
    expect(curve[1]!.general['ndcg@10']).not.toBe(curve[0]!.general['ndcg@10']);
    expect(curve[1]!.general['ndcg@10']).not.toBe(curve[2]!.general['ndcg@10']);
  });
});
