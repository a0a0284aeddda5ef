// The two-stage run end to end on a tiny random BERT: files, counts, the hand-over between
// stages, and a run stopped in stage 2 that --resume finishes with the same final model.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { embed } from '../../model/embed.js';
import { openModel } from '../../model/open-model.js';
import type { TrainSettings } from '../settings.js';
import { trainSettings, writeTinyBert } from '../../../../../test/support/train-fixture.js';
import { type PretrainReport, type PretrainSettings, pretrainRun } from './pretrain.js';
import { WEAK_PAIR_DEFAULTS } from './weak-pairs.js';
import { allRows } from '../../../../../test/support/dataset-rows.js';
import { withTempDir } from '../../../../../test/support/temp-dir.js';

const TOPICS = ['solar panels', 'river boats', 'winter gardens', 'paper lanterns', 'silver coins', 'forest trails'];
let root: string, model: string, corpus: string;
withTempDir('es-pretrain-', (d) => (root = d));
beforeAll(async () => {
  model = await writeTinyBert(join(root, 'base'), { layers: 1, seed: 5 });
  corpus = join(root, 'corpus');
  await mkdir(corpus);
  for (const [i, t] of TOPICS.slice(0, 4).entries()) {
    await writeFile(
      join(corpus, `${i}.md`),
      `# All about ${t}\n\nThe first paragraph about ${t} and why they matter.\n\nA second paragraph on ${t} with more detail.\n\n## Caring for ${t}\n\nKeep ${t} clean and check them often.\n`,
    );
  }
  const jsonl = TOPICS.slice(4).map((t) => JSON.stringify({ title: `Guide to ${t}`, text: `Everything on ${t} starts here.\n\nMore notes about ${t} follow.` }));
  await writeFile(join(corpus, 'more.jsonl'), jsonl.join('\n') + '\n');
});

function settings(): PretrainSettings {
  const train = trainSettings({ model, data: '', batchSize: 8, maxSteps: 3, lr: 1e-3, warmup: 0, maxLength: 32, dropout: 0 });
  // top-k as large as the pool: every pair survives ranking, so --keep alone decides stage 2's size.
  return { input: corpus, pairs: { ...WEAK_PAIR_DEFAULTS, seed: 42 }, topK: 1000, keep: 0.5, train };
}

const lines = async (f: string) => (await readFile(f, 'utf8')).split('\n').filter(Boolean);
const rows = allRows;

describe('pretrainRun', () => {
  it('builds pairs, trains, filters by consistency and trains again on fewer pairs', async () => {
    const run = join(root, 'run');
    const seen: number[] = [];
    const r = await pretrainRun(settings(), run, { onProgress: (stage) => seen.push(stage) });
    expect(r).toMatchObject({ cancelled: false, phase: 'done', modelDir: join(run, 'model') });
    expect(seen).toEqual([1, 1, 1, 2, 2, 2]);

    const report = JSON.parse(await readFile(join(run, 'pretrain.json'), 'utf8')) as PretrainReport;
    expect(report.status).toBe('done');
    // 4 markdown documents: title-body, adjacent, heading-section each; 2 JSONL: title-body, adjacent.
    expect(report.pairs!.pairs).toEqual({ 'title-body': 6, 'heading-section': 4, adjacent: 6, 'adjacent-sentences': 0 });
    expect(report.pairs!.total).toBe(16);
    expect(report.documents).toMatchObject({ documents: 6, files: 5, skipped: 0 });
    const stage1Rows = await rows(join(run, 'stage1-pairs'));
    expect(stage1Rows).toHaveLength(16);
    expect(stage1Rows[0]).toMatchObject({ anchor: 'All about solar panels', label: 'title-body' });

    expect(report.consistency).toMatchObject({ topK: 1000, keep: 0.5, pairs: 16, withinTopK: 16, kept: 8, keptFraction: 0.5 });
    const kinds = report.consistency!.byKind;
    expect(Object.values(kinds).reduce((s, k) => s + k!.kept, 0)).toBe(8);
    expect(kinds['title-body']!.pairs).toBe(6);
    const audit = (await lines(join(run, 'consistency.jsonl'))).map((l) => JSON.parse(l));
    expect(audit).toHaveLength(16);
    expect(audit.filter((a) => a.kept)).toHaveLength(8);
    // The ranks are the stage-1 model's, recomputed here by plain dot products over the pool.
    const m = await openModel(join(run, 'stage1', 'model'), { device: 'cpu', maxLength: 32 });
    try {
      const pool = [...new Set(stage1Rows.map((x) => x.positive!))];
      const d = await embed(m, pool);
      const q = await embed(m, stage1Rows.map((x) => x.anchor!));
      const dim = d.length / pool.length;
      const dot = (i: number, j: number) => q.subarray(i * dim, (i + 1) * dim).reduce((s, v, k) => s + v * d[j * dim + k], 0);
      const want = stage1Rows.map((x, i) => {
        const own = dot(i, pool.indexOf(x.positive!));
        return 1 + pool.filter((t, j) => t !== x.anchor && t !== x.positive && dot(i, j) > own).length;
      });
      expect(audit.map((a) => a.rank)).toEqual(want);
    } finally {
      await m.dispose();
    }

    const stage2Rows = await rows(join(run, 'stage2-pairs'));
    expect(stage2Rows.map((x) => x.anchor)).toEqual(audit.map((a, i) => (a.kept ? stage1Rows[i].anchor : null)).filter((x) => x !== null));
    expect(report.stage2!.pairs).toBe(8);
    expect(report.stage2!.pairs).toBeLessThan(report.stage1!.pairs);

    // Stage 2 starts from stage 1's model and reads the kept pairs.
    const c1 = JSON.parse(await readFile(join(run, 'stage1', 'config.json'), 'utf8')) as TrainSettings;
    const c2 = JSON.parse(await readFile(join(run, 'stage2', 'config.json'), 'utf8')) as TrainSettings;
    expect([c1.model, c1.data, c1.batchSize]).toEqual([model, join(run, 'stage1-pairs'), 8]);
    expect([c2.model, c2.data]).toEqual([join(run, 'stage1', 'model'), join(run, 'stage2-pairs')]);
    expect(await lines(join(run, 'stage1', 'metrics.jsonl'))).toHaveLength(3);
    expect(await lines(join(run, 'stage2', 'metrics.jsonl'))).toHaveLength(3);
    for (const s of [report.stage1!, report.stage2!]) expect(Number.isFinite(s.finalLoss)).toBe(true);
    const last = JSON.parse((await lines(join(run, 'stage2', 'metrics.jsonl')))[2]);
    expect(report.stage2!.finalLoss).toBe(last.loss);

    const final = await readFile(join(run, 'model', 'model.safetensors'));
    expect(Buffer.compare(final, await readFile(join(run, 'stage2', 'model', 'model.safetensors')))).toBe(0);
    expect(Buffer.compare(final, await readFile(join(run, 'stage1', 'model', 'model.safetensors')))).not.toBe(0);
    expect(existsSync(join(run, '.stage1-pairs.source.jsonl'))).toBe(false);
  });

  it('stopped in stage 2, refuses to start over and --resume finishes with the same model', async () => {
    const run = join(root, 'run-cut');
    const ctl = new AbortController();
    const first = await pretrainRun(settings(), run, { signal: ctl.signal, onProgress: (stage, p) => stage === 2 && p.step === 1 && ctl.abort() });
    expect(first).toMatchObject({ cancelled: true, phase: 'stage2', modelDir: null });
    expect(existsSync(join(run, 'model'))).toBe(false);
    await expect(pretrainRun(settings(), run)).rejects.toThrow(/already holds a pretrain run; continue it with --resume/);
    await expect(pretrainRun({ ...settings(), keep: 0.4 }, run, { resume: true })).rejects.toThrow(/keep was 0.5, now 0.4/);
    const stages: number[] = [];
    const second = await pretrainRun(settings(), run, { resume: true, onProgress: (stage) => stages.push(stage) });
    expect(second).toMatchObject({ cancelled: false, phase: 'done' });
    expect(stages).toEqual([2, 2]); // stage 1 and the filter are not redone
    const a = await readFile(join(root, 'run', 'model', 'model.safetensors'));
    const b = await readFile(join(run, 'model', 'model.safetensors'));
    expect(Buffer.compare(a, b)).toBe(0);
  });

  it('refuses a corpus too small for in-batch negatives, saying how to get more pairs', async () => {
    const one = join(root, 'one.txt');
    await writeFile(one, 'Only one paragraph here, nothing next to it.\n');
    await expect(pretrainRun({ ...settings(), input: one }, join(root, 'run-one2'))).rejects.toThrow(/gave 0 weak pair\(s\) from 1 document\(s\).*Fix: give more or longer documents/);
    expect(existsSync(join(root, 'run-one2', 'pretrain.json'))).toBe(false); // nothing to --resume: run it again with more text
  });
});
