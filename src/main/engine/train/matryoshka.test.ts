// `train --matryoshka`: the widths reach the step graph (a run at the full width alone is the
// plain run; more widths add their terms), are recorded for --resume and the recipe, and
// impossible widths are refused before any step.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recipeLoss } from './recipe.js';
import { trainRun } from './run.js';
import { type TrainSettings, checkSettings, resumeMismatch } from './settings.js';
import { WORDS, importCsvLines, readMetrics, tempDir, trainSettings, writeTinyBert } from '../../../../test/support/train-fixture.js';

const WORDS8 = WORDS.slice(0, 8);
let root: string, model: string, pairs: string;

beforeAll(async () => {
  root = await tempDir('es-matryoshka-');
  model = await writeTinyBert(join(root, 'model'), { layers: 1, intermediate: 32, seed: 4 });
  pairs = await importCsvLines(root, 'pairs', ['anchor,positive', ...WORDS8.map((w, i) => `what is ${w},${w} is thing ${i}`)]);
});
afterAll(() => rm(root, { recursive: true, force: true }));

function settings(o: Partial<TrainSettings> = {}): TrainSettings {
  return trainSettings({ model, data: pairs, batchSize: 4, lr: 1e-3, maxLength: 16, maxSteps: 4, warmup: 0, dropout: 0, shuffle: false, ...o });
}
const losses = async (run: string): Promise<number[]> => (await readMetrics(run)).map((r) => r.loss);

describe('train --matryoshka', () => {
  it('the full width alone is the plain run; two widths add a second term; the widths are recorded', async () => {
    await trainRun(settings(), join(root, 'plain'));
    await trainRun(settings({ matryoshka: [32] }), join(root, 'full'));
    await trainRun(settings({ matryoshka: [32, 8], matryoshkaWeights: [1, 0.5] }), join(root, 'two'));
    const [plain, full, two] = await Promise.all(['plain', 'full', 'two'].map((r) => losses(join(root, r))));
    full.forEach((l, i) => expect(l).toBeCloseTo(plain[i]!, 5));
    // Step 1 starts from the same weights: the 8-wide term adds 0.5 × a positive InfoNCE value.
    expect(two[0]! - plain[0]!).toBeGreaterThan(0.1);
    const config = JSON.parse(await readFile(join(root, 'two', 'config.json'), 'utf8')) as TrainSettings;
    expect([config.matryoshka, config.matryoshkaWeights]).toEqual([[32, 8], [1, 0.5]]);
    expect(resumeMismatch(config, { ...config, matryoshka: [32, 16] })).toMatch(/matryoshka was \[32,8\], now \[32,16\]/);
  });

  it('refuses widths wider than the model, repeated widths and weights that do not pair up', async () => {
    await expect(trainRun(settings({ matryoshka: [64, 8] }), join(root, 'wide'))).rejects.toThrow(/--matryoshka: 64 exceed the model's 32 dimensions; give widths from 1 to 32/);
    // A Dense module after the pooling sets the embedding's width (EmbeddingGemma's 3_Dense): 48 here, not hidden's 32.
    const dense = await writeTinyBert(join(root, 'model-dense'), { layers: 1, intermediate: 32, seed: 4, dense: [[32, 48, false]] });
    await trainRun(settings({ model: dense, matryoshka: [48, 40], maxSteps: 1 }), join(root, 'dense-wide'));
    await expect(trainRun(settings({ model: dense, matryoshka: [64] }), join(root, 'dense-too-wide'))).rejects.toThrow(/--matryoshka: 64 exceed the model's 48 dimensions/);
    expect(() => checkSettings(settings({ matryoshka: [8, 8] }))).toThrow(/lists a width twice/);
    expect(() => checkSettings(settings({ matryoshka: [16, 8], matryoshkaWeights: [1] }))).toThrow(/1 weight\(s\) for 2 width\(s\)/);
    expect(() => checkSettings(settings({ matryoshkaWeights: [1] }))).toThrow(/needs --matryoshka/);
    expect(() => checkSettings(settings({ matryoshka: [16], gradCacheRows: 4 }))).not.toThrow(); // checked with the data, below
    await expect(trainRun(settings({ matryoshka: [16], gradCacheRows: 4 }), join(root, 'gc'))).rejects.toThrow(/--grad-cache works with plain InfoNCE only .*--matryoshka/);
  });

  it('the recipe wraps the loss in MatryoshkaLoss at the same widths', () => {
    expect(recipeLoss(settings({ matryoshka: [32, 8] }), 'pairs').matryoshka).toEqual({ dims: [32, 8], weights: [1, 1] });
    expect(recipeLoss(settings(), 'pairs').matryoshka).toBeUndefined();
  });

  it('a run saved before --matryoshka existed resumes as a run without it', () => {
    const old = { ...settings() } as Partial<TrainSettings>;
    delete old.matryoshka;
    delete old.matryoshkaWeights;
    expect(resumeMismatch(old as TrainSettings, settings())).toBeNull();
  });
});
