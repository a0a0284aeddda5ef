// openModel + embed: the tiny BERT against its PyTorch float64 reference (test/fixtures/
// tiny-bert-step, fed the fixture's exact ids), input order under length sorting, role
// prompts, progress, cancellation and the error paths.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { paramSpecs, specFromHfConfig } from '../nn/index.js';
import { embed, embedTexts, embedTokens, rolePrompt } from './embed.js';
import { loadModelFolder } from './load.js';
import { type EmbeddingModel, openModel } from './open-model.js';
import { writeRandomBert } from './random-model.js';
import { parseSafetensors, toFloat32 } from './safetensors.js';
import { saveModelFolder } from './save.js';
import { cosine } from '../../../../test/support/measure.js';
import { withTempDir } from '../../../../test/support/temp-dir.js';

const FIX = 'test/fixtures/tiny-bert-step';
const TOK = 'test/fixtures/models/bert-wordpiece-uncased';
let tmp: string;
const open: EmbeddingModel[] = [];
const openCpu = async (dir: string, encoder: 'frozen' | 'buckets' = 'frozen') => {
  const m = await openModel(dir, { device: 'cpu', encoder });
  open.push(m);
  return m;
};

withTempDir('embedsmith-embed-', (d) => (tmp = d));
afterAll(async () => {
  for (const m of open) await m.dispose();
});

/** The fixture's weights as a model folder written by saveModelFolder, mean pooling + Normalize as the reference. */
async function tinyBertStepFolder(root: string): Promise<string> {
  const src = join(root, 'tiny-bert-src');
  await mkdir(src, { recursive: true });
  await copyFile(join(FIX, 'config.json'), join(src, 'config.json'));
  await copyFile(join(FIX, 'params.safetensors'), join(src, 'model.safetensors'));
  const loaded = await loadModelFolder(src, { expected: (c) => paramSpecs(specFromHfConfig(c.raw)) });
  const dir = join(root, 'tiny-bert');
  // The fixture has raw ids and no tokenizer; a WordPiece one makes the folder complete.
  await saveModelFolder({ ...loaded, hfDir: TOK, tokenizerFiles: ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'], sentence: { ...loaded.sentence, pooling: 'mean', normalize: true, fromModules: true } }, dir, { overwrite: true });
  return dir;
}

describe('embed', () => {
  it.each(['frozen', 'buckets'] as const)('matches the PyTorch float64 reference on the fixture ids (relative error ≤ 1e-5), in input order: %s encoder', async (encoder) => {
    const model = await openCpu(await tinyBertStepFolder(tmp), encoder);
    type Rows = { input_ids: number[][]; attention_mask: number[][] };
    const step = JSON.parse(await readFile(join(FIX, 'batches.json'), 'utf8')).steps[0] as Record<'queries' | 'positives' | 'negatives', Rows>;
    const ref = parseSafetensors(await readFile(join(FIX, 'forward-step1.safetensors'))).tensors;
    const rows: number[][] = [];
    const want: number[] = [];
    for (const [part, key] of [['queries', 'query_embeddings'], ['positives', 'positive_embeddings'], ['negatives', 'negative_embeddings']] as const) {
      // Unpadded rows: the mask says where the real tokens end.
      step[part].input_ids.forEach((ids, i) => rows.push(ids.slice(0, step[part].attention_mask[i].reduce((a, b) => a + b, 0))));
      want.push(...toFloat32(ref.get(key)!, key));
    }
    // Batch 5 over 12 rows of lengths 3..16: sorted runs, a short last batch, several lengths.
    const got = await embedTokens(model, rows, { batchSize: 5, lengthBuckets: encoder === 'buckets' ? [8, 16] : undefined });
    expect(got.length).toBe(12 * 64);
    let num = 0, den = 0, maxAbs = 0;
    for (let i = 0; i < got.length; i++) {
      num += (got[i] - want[i]) ** 2;
      den += want[i] ** 2;
      maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
    }
    if (process.env.EMBED_FIGURES) console.log(`tiny-bert parity (${encoder}): rel ${Math.sqrt(num / den).toExponential(2)}, max abs ${maxAbs.toExponential(2)}`);
    expect(Math.sqrt(num / den)).toBeLessThanOrEqual(1e-5);
    expect(maxAbs).toBeLessThanOrEqual(1e-5); // the fixture's own embedding tolerance
  });

  it('returns rows in input order whatever the batching, sorting, padding and encoder', async () => {
    const dir = join(tmp, 'rand');
    await writeRandomBert(dir, { tokenizerDir: TOK, seed: 7, prompts: { query: 'query: ', passage: 'passage: ' } });
    const model = await openCpu(dir);
    const buckets = await openCpu(dir, 'buckets');
    const texts = ['a', 'the quick brown fox jumps over the lazy dog again and again', '', 'hello world', 'naïve café résumé', 'x y z', '日本語のテキスト'];
    const sorted = await embed(model, texts, { batchSize: 3 });
    const fixed = await embed(model, texts, { batchSize: 4, sortByLength: false, padTo: 64 });
    const bucketed = await embed(buckets, texts, { batchSize: 3 });
    for (let i = 0; i < texts.length; i++) {
      const one = await embed(model, [texts[i]], { batchSize: 1 });
      const D = model.dim;
      for (const all of [sorted, fixed, bucketed]) expect(cosine(all.subarray(i * D, (i + 1) * D), one)).toBeGreaterThan(0.99999);
    }
    // Distinct texts give distinct embeddings (a mix-up of rows would show here too).
    expect(cosine(sorted.subarray(0, model.dim), sorted.subarray(model.dim, 2 * model.dim))).toBeLessThan(0.999);
  });

  it("applies the role's prompt from the model's prompts, or an explicit one", async () => {
    const model = await openCpu(join(tmp, 'rand'));
    expect(rolePrompt(model.loaded.sentence, 'query')).toBe('query: ');
    expect(rolePrompt(model.loaded.sentence, 'document')).toBe('passage: ');
    expect(rolePrompt(model.loaded.sentence, 'text')).toBe('');
    expect(rolePrompt({ prompts: { q: 'Q: ' }, defaultPromptName: 'q' }, 'document')).toBe('Q: ');
    const q = await embedTexts(model, ['what is x'], { role: 'query' });
    expect(q.prompt).toBe('query: ');
    const manual = await embed(model, ['query: what is x']);
    expect(cosine(q.embeddings, manual)).toBeGreaterThan(0.999999);
    const none = await embed(model, ['what is x'], { role: 'query', prompt: '' });
    expect(cosine(none, manual)).toBeLessThan(0.9999);
  });

  it('reports progress and truncation, and stops with CANCELLED when the signal fires', async () => {
    const model = await openCpu(join(tmp, 'rand'));
    const texts = Array.from({ length: 10 }, (_, i) => `text number ${i} ${'word '.repeat(i * 3)}`);
    const seen: number[] = [];
    const r = await embedTexts(model, texts, { batchSize: 4, maxLength: 16, onProgress: (p) => (seen.push(p.done), expect(p.total).toBe(10)) });
    expect(seen).toEqual([4, 8, 10]);
    expect(r.truncated.length).toBeGreaterThan(0);
    expect(r.truncated).toContain(9);
    expect(r.truncated).not.toContain(0);
    const ctl = new AbortController();
    await expect(embed(model, texts, { batchSize: 2, signal: ctl.signal, onProgress: () => ctl.abort() })).rejects.toMatchObject({ code: 'CANCELLED', message: expect.stringMatching(/after 2 of 10/) });
  });

  it('refuses bad settings with errors that name them', async () => {
    const model = await openCpu(join(tmp, 'rand'));
    await expect(embed(model, ['a'], { batchSize: 0 })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/batch size 0/) });
    await expect(embed(model, ['a'], { maxLength: 4096 })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/max length 4096 .*128/) });
    const lt = join(tmp, 'lasttoken');
    await writeRandomBert(lt, { tokenizerDir: TOK, seed: 1 });
    const pool = join(lt, '1_Pooling', 'config.json');
    const cfg = JSON.parse(await readFile(pool, 'utf8'));
    await writeFile(pool, JSON.stringify({ ...cfg, pooling_mode_mean_tokens: false, pooling_mode_lasttoken: true }));
    await expect(openModel(lt, { device: 'cpu' })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/last-token pooling/) });
  });
});
