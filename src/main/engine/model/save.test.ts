import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadModelFolder, type LoadedModel } from './load.js';
import { renderModelCard, type ModelCardInfo } from './model-card.js';
import { parseSafetensors } from './safetensors.js';
import { TEMPLATE_PRESETS, templateToPrompts } from '../data/templates.js';
import { saveModelFolder } from './save.js';
import { readSentenceConfig } from './sentence-config.js';
import { bertExpected, writeTinyModel } from '../../../../test/support/tiny-model.js';
import { withTempDir } from '../../../../test/support/temp-dir.js';

const BERT_TOK = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../test/fixtures/models/bert-wordpiece-uncased');
let tmp: string;
let n = 0;
const fresh = () => join(tmp, `m${n++}`);
const load = (dir: string) => loadModelFolder(dir, { expected: bertExpected });

const CARD: ModelCardInfo = {
  baseModel: 'sentence-transformers/all-MiniLM-L6-v2',
  data: { name: 'support-tickets', rows: 1200, format: 'pairs', negativesPerRow: 3 },
  settings: { epochs: 1, batch_size: 32, lr: 2e-5, temperature: 0.05 },
  metrics: { 'ndcg@10': { before: 0.4123, after: 0.5678 } },
  seed: 42,
  versions: { embedsmith: '0.1.0', 'onnxruntime-node': '1.30.0' },
  pooling: 'mean',
  normalize: true,
  maxSeqLength: 128,
  prompts: { query: 'query: ' },
};

withTempDir('embedsmith-save-', (d) => (tmp = d));

function expectSameModel(a: LoadedModel, b: LoadedModel) {
  expect([...b.params.keys()]).toEqual([...a.params.keys()]);
  for (const [k, v] of a.params) {
    const w = b.params.get(k)!;
    expect(Buffer.from(w.buffer, w.byteOffset, w.byteLength).equals(Buffer.from(v.buffer, v.byteOffset, v.byteLength)), k).toBe(true);
  }
  expect(b.config.raw).toEqual({ ...a.config.raw, torch_dtype: 'float32', architectures: b.config.raw.architectures });
  expect(b.sentence).toEqual(a.sentence);
}

describe('saveModelFolder', () => {
  it('load → save → load is bit-exact, for fp32, fp16 and bf16 sources (saved as fp32)', async () => {
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      const src = fresh();
      await writeTinyModel(src, {
        dtype,
        prefix: 'bert.',
        extras: true,
        st: { pooling: 'cls', normalize: true, maxSeqLength: 24, prompts: { query: 'Represent this: ', document: '' }, defaultPromptName: 'query' },
        tokenizerFrom: BERT_TOK,
      });
      const a = await load(src);
      const out = fresh();
      await saveModelFolder(a, out);
      const b = await load(out);
      expectSameModel(a, b);
      // Second generation: the saved folder saves to identical bytes.
      const out2 = fresh();
      await saveModelFolder(b, out2);
      expect((await readFile(join(out2, 'model.safetensors'))).equals(await readFile(join(out, 'model.safetensors')))).toBe(true);
      const f = parseSafetensors(await readFile(join(out, 'model.safetensors')));
      expect(f.metadata).toEqual({ format: 'pt' });
      const keys = [...f.tensors.keys()];
      expect(keys).toEqual([...keys].sort());
      expect(new Set([...f.tensors.values()].map((t) => t.dtype))).toEqual(new Set(['F32']));
      // The pooler came through (as F32, values exact); the MLM head and the buffer did not.
      expect(keys).toContain('pooler.dense.weight');
      expect(keys.some((k) => k.startsWith('cls.') || k.includes('position_ids'))).toBe(false);
      expect([...b.passthrough.keys()].sort()).toEqual(['pooler.dense.bias', 'pooler.dense.weight']);
    }
  });

  it('writes the sentence-transformers files and the tokenizer files', async () => {
    const src = fresh();
    await writeTinyModel(src, { st: { pooling: 'mean', normalize: true, maxSeqLength: 20, prompts: { query: 'query: ' } }, tokenizerFrom: BERT_TOK });
    const out = fresh();
    await saveModelFolder(await load(src), out, { card: CARD });
    const files = (await readdir(out, { recursive: true })).sort();
    expect(files).toEqual(
      ['1_Pooling', '1_Pooling/config.json', '2_Normalize', 'README.md', 'config.json', 'config_sentence_transformers.json', 'model.safetensors', 'modules.json', 'sentence_bert_config.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt'].sort(),
    );
    const json = async (f: string) => JSON.parse(await readFile(join(out, f), 'utf8'));
    expect((await json('modules.json')).map((m: { type: string }) => m.type)).toEqual([
      'sentence_transformers.models.Transformer',
      'sentence_transformers.models.Pooling',
      'sentence_transformers.models.Normalize',
    ]);
    expect(await json('1_Pooling/config.json')).toMatchObject({ word_embedding_dimension: 8, pooling_mode_mean_tokens: true, pooling_mode_cls_token: false });
    expect(await json('sentence_bert_config.json')).toEqual({ max_seq_length: 20, do_lower_case: false });
    expect(await json('config_sentence_transformers.json')).toMatchObject({ prompts: { query: 'query: ' }, similarity_fn_name: 'cosine' });
    expect(await json('config.json')).toMatchObject({ architectures: ['BertModel'], torch_dtype: 'float32', some_unknown_field: { kept: true } });
    expect((await readFile(join(out, 'vocab.txt'))).equals(await readFile(join(BERT_TOK, 'vocab.txt')))).toBe(true);
  });

  it('prompts from a template replace the model\'s own; reloading the folder gives them back', async () => {
    const src = fresh();
    await writeTinyModel(src, { st: { pooling: 'mean', normalize: true, prompts: { query: 'old: ', document: 'older: ' }, defaultPromptName: 'query' }, tokenizerFrom: BERT_TOK });
    const out = fresh();
    await saveModelFolder(await load(src), out, { prompts: templateToPrompts(TEMPLATE_PRESETS.e5) });
    const sentence = await readSentenceConfig(out, 8);
    expect(sentence.prompts).toEqual({ query: 'query: ', document: 'passage: ', text: 'query: ' });
    expect(sentence.defaultPromptName).toBeNull();
    // Without the option the model's own prompts and default survive.
    const out2 = fresh();
    await saveModelFolder(await load(src), out2);
    expect(await readSentenceConfig(out2, 8)).toMatchObject({ prompts: { query: 'old: ', document: 'older: ' }, defaultPromptName: 'query' });
  });

  it('refuses an existing folder unless told to overwrite, then replaces it whole', async () => {
    const src = fresh();
    await writeTinyModel(src);
    const m = await load(src);
    const out = fresh();
    await saveModelFolder(m, out);
    await expect(saveModelFolder(m, out)).rejects.toThrow(/already exists/);
    await writeFile(join(out, 'stale.txt'), 'from before');
    await saveModelFolder(m, out, { overwrite: true });
    await expect(stat(join(out, 'stale.txt'))).rejects.toThrow();
    expect((await readdir(tmp)).filter((f) => f.endsWith('.tmp') || f.endsWith('.old'))).toEqual([]);
  });

  it('a failure mid-save leaves neither the target nor a temp folder', async () => {
    const src = fresh();
    await writeTinyModel(src);
    const m = await load(src);
    const out = fresh();
    // A tokenizer file that vanished after loading: the copy fails after the weights are written.
    await expect(saveModelFolder({ ...m, tokenizerFiles: ['tokenizer.json'] }, out)).rejects.toMatchObject({ code: 'IO' });
    await expect(stat(out)).rejects.toThrow();
    expect((await readdir(tmp)).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});

describe('renderModelCard', () => {
  it('has front matter, data, settings, metrics before/after, seed and versions', () => {
    const md = renderModelCard(CARD);
    expect(md.startsWith('---\nbase_model: "sentence-transformers/all-MiniLM-L6-v2"\nlibrary_name: sentence-transformers\n')).toBe(true);
    expect(md).toContain('- rows: 1200');
    expect(md).toContain('| lr | 0.00002 |');
    expect(md).toContain('| seed | 42 |');
    expect(md).toContain('| ndcg@10 | 0.4123 | 0.5678 | +0.1555 |');
    expect(md).toContain('- onnxruntime-node 1.30.0');
    expect(md).toContain('- prompt `query`: `"query: "`');
  });
});
