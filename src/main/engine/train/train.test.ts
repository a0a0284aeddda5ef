import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDataset } from '../data/index.js';
import { loadModelFolder } from '../model/load.js';
import { parseSafetensors, toFloat32, writeSafetensors, type TensorToWrite } from '../model/safetensors.js';
import { paramSpecs, specFromHfConfig } from '../nn/index.js';
import { listCheckpoints, loadCheckpoint } from './checkpoint.js';
import { type StepRecord, trainRun } from './run.js';
import type { TrainSettings } from './settings.js';
import { WORDS, importCsvLines, readMetrics as metrics, trainSettings, writeTinyBert, wordPairsWorkspace } from '../../../../test/support/train-fixture.js';

let root: string, model: string, pairs: string, ragged: string;
beforeAll(async () => {
  ({ root, model, pairs } = await wordPairsWorkspace('es-train-'));
  // Triplets where some rows have fewer negatives: filler slots get masked.
  const t = ['anchor,positive,negative_1,negative_2'];
  for (let i = 0; i < 8; i++) t.push(`q ${WORDS[i]},d ${WORDS[i]},n ${WORDS[(i + 3) % 16]},${i % 2 ? '' : `m ${WORDS[(i + 5) % 16]}`}`);
  ragged = await importCsvLines(root, 'ragged', t);
});
afterAll(() => rm(root, { recursive: true, force: true }));

function settings(o: Partial<TrainSettings> = {}): TrainSettings {
  return trainSettings({ model, data: pairs, batchSize: 4, lr: 1e-3, maxLength: 32, ...o });
}

describe('trainRun', () => {
  it('trains: loss falls, metrics.jsonl has a line per step, model/ loads with changed weights', async () => {
    const run = join(root, 'run-basic');
    const r = await trainRun(settings({ epochs: 6, warmup: 0, dropout: 0 }), run);
    expect(r.steps).toBe(24); // 16 pairs / 4 per batch × 6 epochs
    const m = await metrics(run);
    expect(m.map((x) => x.step)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    const first = (m[0].loss + m[1].loss + m[2].loss + m[3].loss) / 4;
    const last = (m[20].loss + m[21].loss + m[22].loss + m[23].loss) / 4;
    expect(last).toBeLessThan(first * 0.7);
    const expected = (c: { raw: Record<string, unknown> }) => paramSpecs(specFromHfConfig(c.raw));
    const before = await loadModelFolder(model, { expected });
    const after = await loadModelFolder(r.modelDir!, { expected });
    const w = 'encoder.layer.0.attention.self.query.weight';
    expect(after.params.get(w)).not.toEqual(before.params.get(w));
    expect(after.sentence.maxSeqLength).toBe(32);
    const config = JSON.parse(await readFile(join(run, 'config.json'), 'utf8')) as TrainSettings;
    expect(config.batchSize).toBe(4);
  });

  it('--resume after a stop continues bit-exactly (dropout on, shuffled)', async () => {
    const s = settings({ maxSteps: 9, checkpointEvery: 2, dropout: 0.1, warmup: 0.2 });
    const full = join(root, 'run-full');
    await trainRun(s, full);
    const cut = join(root, 'run-cut');
    const ctl = new AbortController();
    const first = await trainRun(s, cut, { signal: ctl.signal, onProgress: (p) => p.step === 5 && ctl.abort() });
    expect(first.cancelled).toBe(true);
    expect(first.steps).toBe(5);
    await expect(trainRun(s, cut)).rejects.toThrow(/--resume/);
    const second = await trainRun(s, cut, { resume: true });
    expect(second.steps).toBe(9);
    const strip = (m: StepRecord[]) => m.map(({ pairsPerSec: _, ...rest }) => rest);
    expect(strip(await metrics(cut))).toEqual(strip(await metrics(full)));
    const a = await readFile(join(full, 'model', 'model.safetensors'));
    const b = await readFile(join(cut, 'model', 'model.safetensors'));
    expect(Buffer.compare(a, b)).toBe(0);
    expect((await listCheckpoints(cut)).length).toBeLessThanOrEqual(2);
  });

  it('--resume refuses changed settings, naming the setting', async () => {
    const run = join(root, 'run-changed');
    await trainRun(settings({ maxSteps: 2 }), run);
    await expect(trainRun(settings({ maxSteps: 2, lr: 5e-4 }), run, { resume: true })).rejects.toThrow(/lr was 0.001, now 0.0005/);
  });

  it('queries with fewer negatives get masked filler slots and train', async () => {
    const run = join(root, 'run-ragged');
    const r = await trainRun(settings({ data: ragged, maxSteps: 4, dropout: 0 }), run);
    const m = await metrics(run);
    expect(m).toHaveLength(4);
    for (const x of m) expect(Number.isFinite(x.loss)).toBe(true);
    expect(r.finalLoss).not.toBeNull();
  });

  it('a non-finite gradient skips the update and halves the rate', async () => {
    const run = join(root, 'run-nan');
    // Query and key weights of 1e30 (finite, but q·k overflows float32): every step's loss and gradient
    // are non-finite, and the guard must catch each. (An lr of 1e30 did this before settings had ranges.)
    const blown = join(root, 'model-blown');
    await writeTinyBert(blown);
    const file = join(blown, 'model.safetensors');
    const { tensors } = parseSafetensors(await readFile(file));
    const entries = [...tensors].map(([k, t]) => {
      const data = toFloat32(t, k);
      if (k.endsWith('attention.self.query.weight') || k.endsWith('attention.self.key.weight')) data.fill(1e30);
      return [k, { dtype: 'F32', shape: t.shape, data }] as [string, TensorToWrite];
    });
    await writeFile(file, writeSafetensors(entries, { format: 'pt' }));
    const r = await trainRun(settings({ model: blown, maxSteps: 6, lr: 1e-3, warmup: 0, schedule: 'constant', dropout: 0, maxGradNorm: Infinity }), run);
    const m = await metrics(run);
    const skipped = m.filter((x) => x.skipped);
    expect(skipped.length).toBeGreaterThan(0);
    expect(r.skippedSteps).toBe(skipped.length);
    const at = m.indexOf(skipped[0]);
    if (at + 1 < m.length) expect(m[at + 1].lr).toBeCloseTo(m[at].lr / 2, -20);
  });

  it('gradient caching gives the same run as one big step per batch (dropout on)', async () => {
    const s = settings({ maxSteps: 4, dropout: 0.1, data: ragged });
    const plain = join(root, 'run-plain');
    await trainRun(s, plain);
    const cached = join(root, 'run-cached');
    await trainRun({ ...s, gradCacheRows: 5 }, cached);
    const [a, b] = [await metrics(plain), await metrics(cached)];
    for (let i = 0; i < a.length; i++) {
      expect(Math.abs(a[i].loss - b[i].loss)).toBeLessThan(1e-5 * a[i].loss);
      expect(Math.abs(a[i].gradNorm - b[i].gradNorm)).toBeLessThan(1e-4 * a[i].gradNorm);
    }
  });

  it('labelled data trains with SupCon on label-grouped batches; scored pairs with CoSENT', async () => {
    const lab = ['text,label'];
    for (let i = 0; i < 24; i++) lab.push(`${WORDS[i % 16]} note ${i},topic${i % 3}`);
    await writeFile(join(root, 'labeled.csv'), lab.join('\n') + '\n');
    await importDataset(join(root, 'labeled.csv'), join(root, 'labeled'));
    const r = await trainRun(settings({ data: join(root, 'labeled'), maxSteps: 8, batchSize: 6, dropout: 0, warmup: 0 }), join(root, 'run-supcon'));
    const m = await metrics(join(root, 'run-supcon'));
    expect(m).toHaveLength(8);
    expect(r.finalLoss).not.toBeNull();
    expect(m[7].loss).toBeLessThan(m[0].loss);
    const sc = ['sentence1,sentence2,score'];
    for (let i = 0; i < 16; i++) sc.push(`the ${WORDS[i]} is here,the ${WORDS[(i * 7) % 16]} is there,${(i % 5) / 4}`);
    await writeFile(join(root, 'scored.csv'), sc.join('\n') + '\n');
    await importDataset(join(root, 'scored.csv'), join(root, 'scored'));
    await trainRun(settings({ data: join(root, 'scored'), maxSteps: 4, dropout: 0 }), join(root, 'run-cosent'));
    expect((await metrics(join(root, 'run-cosent'))).every((x) => Number.isFinite(x.loss) && x.loss > 0)).toBe(true);
    await expect(trainRun(settings({ data: join(root, 'scored'), loss: 'supcon' }), join(root, 'run-bad'))).rejects.toThrow(/--loss supcon needs labeled data/);
  });

  it('--learn-temperature trains the scale and keeps it out of the saved model', async () => {
    const run = join(root, 'run-temp');
    const r = await trainRun(settings({ maxSteps: 4, learnTemperature: true, lr: 1e-2, dropout: 0 }), run);
    const saved = await loadModelFolder(r.modelDir!, { expected: (c: { raw: Record<string, unknown> }) => paramSpecs(specFromHfConfig(c.raw)) });
    expect([...saved.params.keys()].some((k) => k.startsWith('loss.'))).toBe(false);
    const cp = await loadCheckpoint(join(run, 'checkpoints', 'step-4'));
    const scale = cp.params.get('loss.logit_scale')![0];
    expect(scale).not.toBeCloseTo(Math.log(20), 3);
  });

  it('feeds the evaluator and keeps the best model; the model card has the base model before and the saved one after', async () => {
    const run = join(root, 'run-eval');
    const seen: number[] = [];
    let calls = 0;
    const r = await trainRun(settings({ maxSteps: 6, evalEvery: 2, dropout: 0, template: { query: 'query: ', document: '' } }), run, {
      evaluate: async () => {
        calls++;
        // The base model first (for the card's "before"), then steps 2, 4 and 6.
        const v = [0.4, 0.5, 0.9, 0.7][calls - 1];
        seen.push(v);
        return { 'ndcg@10': v, 'mrr@10': v / 2 };
      },
    });
    expect(seen).toEqual([0.4, 0.5, 0.9, 0.7]);
    expect(r.best).toEqual({ metric: 'ndcg@10', value: 0.9, step: 4 });
    const m = await metrics(run);
    expect(m[3].eval).toEqual({ 'ndcg@10': 0.9, 'mrr@10': 0.45 });
    expect(m[0].eval).toBeUndefined();
    expect(JSON.parse(await readFile(join(run, 'eval-before.json'), 'utf8'))).toEqual({ 'ndcg@10': 0.4, 'mrr@10': 0.2 });

    // Issue 15 §8: a real card in the trained model's folder.
    const card = await readFile(join(r.modelDir!, 'README.md'), 'utf8');
    expect(card).toMatch(/^---\nbase_model: ".*\/model"\nlibrary_name: sentence-transformers\n/);
    expect(card).toContain('- rows: 16');
    expect(card).toContain('- format: pairs');
    expect(card).toContain('- queries: `"query: "`');
    expect(card).toContain('- documents: (none)');
    expect(card).toMatch(/## Loss\n\nInfoNCE \(sentence-transformers' MultipleNegativesRankingLoss\)/);
    expect(card).toContain('| max_length | 32 |');
    expect(card).toContain('| lr | 0.001 |');
    expect(card).toContain('| steps | 6 |');
    // Saved parameters are the best step's (4): after = 0.9, before = the base model's 0.4.
    expect(card).toContain('| ndcg@10 | 0.4000 | 0.9000 | +0.5000 |');
    expect(card).toContain('| mrr@10 | 0.2000 | 0.4500 | +0.2500 |');
    expect(card).toContain(`embedsmith train \\\n  --model ${model} \\\n  --data ${pairs} \\\n  --out ${run} \\\n  --max-steps 6 \\\n  --batch-size 4 \\\n  --lr 0.001`);
    expect(card).toMatch(/## Licences\n\n- Base model `.*`: its card states no licence here/);
  });

  it("warns when max length reaches past the model's trained length; the saved max_seq_length is the run's", async () => {
    const short = join(root, 'short-model');
    await writeTinyBert(short, { layers: 1, seed: 5, maxPositions: 128, maxSeqLength: 16 });
    const saved = async (dir: string) => (JSON.parse(await readFile(join(dir, 'sentence_bert_config.json'), 'utf8')) as { max_seq_length: number }).max_seq_length;
    const longer: string[] = [];
    const a = await trainRun(settings({ model: short, maxSteps: 1, maxLength: 32 }), join(root, 'run-longer'), { log: (l) => longer.push(l) });
    expect(longer.filter((l) => l.startsWith('warning:'))).toEqual([expect.stringMatching(/--max-length 32 is longer than the 16 tokens the model was trained with .*positions 16–31/)]);
    expect(await saved(a.modelDir!)).toBe(32);
    const within: string[] = [];
    const b = await trainRun(settings({ model: short, maxSteps: 1, maxLength: 12 }), join(root, 'run-within'), { log: (l) => within.push(l) });
    expect(within.filter((l) => l.startsWith('warning:'))).toEqual([]);
    expect(await saved(b.modelDir!)).toBe(12);
  });
});
