import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadModelFolder, loadModelTokenizer } from './load.js';
import { parseSafetensors, writeSafetensors } from './safetensors.js';
import { bertExpected, writeTinyModel } from '../../../../test/support/tiny-model.js';
import { withTempDir } from '../../../../test/support/temp-dir.js';

const BERT_TOK = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../test/fixtures/models/bert-wordpiece-uncased');
let tmp: string;
let n = 0;
const fresh = () => join(tmp, `m${n++}`);
const load = (dir: string) => loadModelFolder(dir, { expected: bertExpected });

withTempDir('embedsmith-load-', (d) => (tmp = d));

describe('loadModelFolder', () => {
  it('reads a sentence-transformers BERT folder: config, float32 weights, pooling, normalize, prompts, tokenizer', async () => {
    const dir = fresh();
    const written = await writeTinyModel(dir, {
      st: { pooling: 'cls', normalize: true, maxSeqLength: 12, prompts: { query: 'query: ', document: 'passage: ' }, defaultPromptName: 'query' },
      tokenizerFrom: BERT_TOK,
    });
    const m = await load(dir);
    expect(m.config.family).toBe('bert');
    expect(m.config.raw.some_unknown_field).toEqual({ kept: true });
    expect([...m.params.keys()]).toEqual(bertExpected(m.config).map((s) => s.key));
    const w = written.get('encoder.layer.1.output.dense.weight')!;
    expect(m.params.get('encoder.layer.1.output.dense.weight')).toEqual(w.data);
    expect(m.sentence).toMatchObject({ pooling: 'cls', normalize: true, maxSeqLength: 12, prompts: { query: 'query: ', document: 'passage: ' }, defaultPromptName: 'query', fromModules: true });
    expect(m.tokenizerFiles).toEqual(['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt']);
    const tok = await loadModelTokenizer(m);
    expect(tok.maxLength).toBe(12);
    expect(tok.hasTokenTypeIds).toBe(true);
  });

  it('widens fp16 and bf16 exactly (values from the raw bits, checked independently)', async () => {
    for (const dtype of ['F16', 'BF16'] as const) {
      const dir = fresh();
      const written = await writeTinyModel(dir, { dtype });
      const m = await load(dir);
      const bits = written.get('embeddings.LayerNorm.weight')!.data as Uint16Array;
      const got = m.params.get('embeddings.LayerNorm.weight')!;
      for (let i = 0; i < bits.length; i++) {
        const b = bits[i];
        const want =
          dtype === 'BF16'
            ? new Float32Array(new Uint32Array([b << 16]).buffer)[0]
            : (b >> 15 ? -1 : 1) * 2 ** (((b >> 10) & 31) - 15) * (1 + (b & 0x3ff) / 1024); // normal halves only
        expect(got[i]).toBe(want);
      }
      expect(m.notes.join(' ')).toMatch(new RegExp(`widened \\d+ ${dtype}`));
    }
  });

  it('strips bert./roberta./model. prefixes, keeps the pooler for saving, drops heads and buffers (listed)', async () => {
    for (const [family, prefix] of [['bert', 'bert.'], ['roberta', 'roberta.'], ['xlm-roberta', 'model.']] as const) {
      const dir = fresh();
      await writeTinyModel(dir, { family, prefix, extras: true });
      const m = await load(dir);
      expect(m.config.family).toBe(family);
      expect(m.params.has('embeddings.word_embeddings.weight')).toBe(true);
      expect([...m.passthrough.keys()].sort()).toEqual(['pooler.dense.bias', 'pooler.dense.weight']);
      expect(m.notes.join('\n')).toContain(`stripped the key prefix '${prefix}'`);
      expect(m.notes.join('\n')).toMatch(new RegExp(`not loaded.*${prefix.replace('.', '\\.')}embeddings\\.position_ids.*cls\\.predictions\\.bias`));
    }
  });

  it('reads sharded weights through model.safetensors.index.json', async () => {
    const dir = fresh();
    const written = await writeTinyModel(dir, { shards: 3 });
    const m = await load(dir);
    expect(m.params.size).toBe(written.size);
    expect(m.params.get('encoder.layer.0.attention.self.key.bias')).toEqual(written.get('encoder.layer.0.attention.self.key.bias')!.data);
  });

  it('a plain transformers folder gets mean pooling without normalisation, and says so', async () => {
    const dir = fresh();
    await writeTinyModel(dir);
    const m = await load(dir);
    expect(m.sentence).toMatchObject({ pooling: 'mean', normalize: false, fromModules: false, maxSeqLength: null });
    expect(m.notes.join(' ')).toMatch(/no modules.json/);
  });

  it('reads last-token pooling and an old-style 0_Transformer sub-folder', async () => {
    const dir = fresh();
    await writeTinyModel(join(dir, '0_Transformer'));
    await writeFile(join(dir, 'modules.json'), JSON.stringify([
      { idx: 0, name: '0', path: '0_Transformer', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    ]));
    await mkdir(join(dir, '1_Pooling'));
    await writeFile(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: 8, pooling_mode_lasttoken: true }));
    const m = await load(dir);
    expect(m.hfDir).toBe(join(dir, '0_Transformer'));
    expect(m.sentence.pooling).toBe('lasttoken');
  });

  it('reads the sentence-transformers 5.4+ layout (moved module classes, pooling_mode, embedding_dimension)', async () => {
    // As sentence-transformers 6.0.1 saved a fine-tuned BERT on an H200 (recipe export check).
    const dir = fresh();
    await writeTinyModel(dir, { tokenizerFrom: BERT_TOK });
    await writeFile(join(dir, 'modules.json'), JSON.stringify([
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.base.modules.transformer.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.sentence_transformer.modules.pooling.Pooling' },
      { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.base.modules.normalize.Normalize' },
    ]));
    await mkdir(join(dir, '1_Pooling'), { recursive: true });
    await writeFile(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ embedding_dimension: 8, pooling_mode: 'mean', include_prompt: true }));
    const m = await load(dir);
    expect(m.sentence).toMatchObject({ pooling: 'mean', normalize: true, fromModules: true });
    await writeFile(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ embedding_dimension: 16, pooling_mode: 'mean' }));
    await expect(load(dir)).rejects.toThrow(/does not match config.json hidden_size 8/);
  });
});

describe('loadModelFolder errors', () => {
  const fails = async (dir: string, re: RegExp, code?: string) => {
    const err = (await load(dir).then(
      () => undefined,
      (e: unknown) => e,
    )) as { code: string; message: string } | undefined;
    expect(err, 'expected an error').toBeDefined();
    expect(err!.message).toMatch(re);
    if (code) expect(err!.code).toBe(code);
  };

  it('only pytorch_model.bin: explains that pickles are unsafe and how to convert', async () => {
    const dir = fresh();
    await writeTinyModel(dir);
    await rm(join(dir, 'model.safetensors'));
    await writeFile(join(dir, 'pytorch_model.bin'), 'PK not really a pickle');
    await fails(dir, /pytorch_model\.bin, a PyTorch pickle.*arbitrary code.*save_pretrained\(.*safe_serialization=True\)/, 'UNSUPPORTED');
  });

  it('no weights at all, and no config.json', async () => {
    const dir = fresh();
    await writeTinyModel(dir);
    await rm(join(dir, 'model.safetensors'));
    await fails(dir, /has no model.safetensors/, 'NOT_FOUND');
    await rm(join(dir, 'config.json'));
    await fails(dir, /has no config.json/, 'NOT_FOUND');
  });

  it('says a folder that is not there does not exist (not that it lacks config.json)', async () => {
    const dir = join(fresh(), 'typo');
    await fails(dir, /typo does not exist; check the path/, 'NOT_FOUND');
  });

  it('unknown architecture names the model_type and the supported ones', async () => {
    const dir = fresh();
    await writeTinyModel(dir, { config: { model_type: 'new', architectures: ['NewModel'] } });
    await fails(dir, /model_type "new" \(architectures: NewModel\) is not supported.*bert, roberta, xlm-roberta/, 'UNSUPPORTED');
  });

  it('relative position embeddings are refused', async () => {
    const dir = fresh();
    await writeTinyModel(dir, { config: { position_embedding_type: 'relative_key' } });
    await fails(dir, /position_embedding_type "relative_key" is not supported/, 'UNSUPPORTED');
  });

  it('config sizes that disagree with the weights name the field, its value, what the weights hold and the fix', async () => {
    const dir = fresh();
    await writeTinyModel(dir, { config: { num_hidden_layers: 2 } });
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    const claim = async (field: Record<string, unknown>, re: RegExp) => {
      await writeFile(join(dir, 'config.json'), JSON.stringify({ ...cfg, ...field }));
      await fails(dir, re, 'SCHEMA');
    };
    await claim({ num_hidden_layers: 3 }, /config\.json: num_hidden_layers is 3 but .*model\.safetensors holds 2 layers \(0–1\)\. Fix: set num_hidden_layers to 2/);
    await claim({ intermediate_size: 32 }, /intermediate_size is 32 but .* holds feed-forward layers of width 16\. Fix: set intermediate_size to 16/);
    await claim({ vocab_size: 1000 }, /vocab_size is 1000 but .* holds 30522 token embeddings\. Fix: set vocab_size to 30522/);
    await claim({ max_position_embeddings: 512 }, /max_position_embeddings is 512 but .* holds 32 position embeddings/);
  });

  it('a missing tensor is named with its expected shape; a mis-shaped one with both shapes', async () => {
    const dir = fresh();
    const tensors = await writeTinyModel(dir);
    tensors.delete('encoder.layer.1.attention.self.query.weight');
    await writeFile(join(dir, 'model.safetensors'), writeSafetensors([...tensors]));
    await fails(dir, /lacks 1 tensor\(s\).*'encoder\.layer\.1\.attention\.self\.query\.weight' \[8, 8\]/, 'SCHEMA');
    tensors.set('encoder.layer.1.attention.self.query.weight', { dtype: 'F32', shape: [8, 4], data: new Float32Array(32) });
    await writeFile(join(dir, 'model.safetensors'), writeSafetensors([...tensors]));
    await fails(dir, /tensor 'encoder\.layer\.1\.attention\.self\.query\.weight' has shape \[8, 4\] but config\.json implies \[8, 8\]/, 'SCHEMA');
  });

  it('weights of another architecture: the anchor tensor is missing under every prefix', async () => {
    const dir = fresh();
    await writeTinyModel(dir, { prefix: 'transformer.' });
    const f = parseSafetensors(await readFile(join(dir, 'model.safetensors')));
    expect(f.tensors.has('transformer.embeddings.word_embeddings.weight')).toBe(true);
    await writeFile(join(dir, 'model.safetensors'), new Uint8Array(16)); // garbage
    await fails(dir, /not a valid safetensors file/, 'SCHEMA');
  });

  it('a shard listed in the index but absent, and a key the shard lacks', async () => {
    const dir = fresh();
    await writeTinyModel(dir, { shards: 2 });
    const idx = JSON.parse(await readFile(join(dir, 'model.safetensors.index.json'), 'utf8'));
    idx.weight_map['encoder.layer.0.extra'] = 'model-00001-of-00002.safetensors';
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify(idx));
    await fails(dir, /puts tensor 'encoder\.layer\.0\.extra' in model-00001-of-00002\.safetensors, but that file has no such tensor/, 'SCHEMA');
    await rm(join(dir, 'model-00002-of-00002.safetensors'));
    await fails(dir, /lists shard model-00002-of-00002\.safetensors but .* does not exist/, 'NOT_FOUND');
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: '../evil.safetensors' } }));
    await fails(dir, /not a plain \*\.safetensors file name/, 'SCHEMA');
  });

  it('unsupported sentence-transformers modules and pooling modes', async () => {
    const dir = fresh();
    await writeTinyModel(dir, { st: { pooling: 'mean', normalize: false } });
    await writeFile(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: 8, pooling_mode_max_tokens: true }));
    await fails(dir, /pooling mode pooling_mode_max_tokens is not supported/, 'UNSUPPORTED');
    await writeFile(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: 8, pooling_mode_cls_token: true, pooling_mode_mean_tokens: true }));
    await fails(dir, /turns on 2 pooling modes/, 'UNSUPPORTED');
    await writeFile(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: 768, pooling_mode_mean_tokens: true }));
    await fails(dir, /word_embedding_dimension 768 does not match config.json hidden_size 8/, 'SCHEMA');
    await writeFile(join(dir, 'modules.json'), JSON.stringify([{ idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' }, { idx: 1, name: '1', path: '1_Dense', type: 'sentence_transformers.models.Dense' }]));
    await fails(dir, /module '1' of type sentence_transformers\.models\.Dense is not supported/, 'UNSUPPORTED');
  });

  it('bad prompts and a default prompt that is not among them', async () => {
    const dir = fresh();
    await writeTinyModel(dir, { st: { pooling: 'mean', normalize: true } });
    await writeFile(join(dir, 'config_sentence_transformers.json'), JSON.stringify({ prompts: { query: 'q: ' }, default_prompt_name: 'passage' }));
    await fails(dir, /default_prompt_name 'passage' is not one of the prompts \(query\)/, 'SCHEMA');
    await writeFile(join(dir, 'config_sentence_transformers.json'), JSON.stringify({ prompts: { query: 3 } }));
    await fails(dir, /prompts must map names to strings/, 'SCHEMA');
  });

  it('a max length past the position table is refused', async () => {
    const dir = fresh();
    await writeTinyModel(dir, { st: { pooling: 'mean', normalize: true, maxSeqLength: 64 }, tokenizerFrom: BERT_TOK });
    const m = await load(dir);
    await expect(loadModelTokenizer(m)).rejects.toThrow(/max length 64 exceeds the model's 32 positions/);
    // RoBERTa spends pad_token_id + 1 rows: 34 rows → 32 usable.
    const r = fresh();
    await writeTinyModel(r, { family: 'roberta', tokenizerFrom: BERT_TOK });
    expect((await loadModelTokenizer(await load(r))).maxLength).toBe(32);
  });
});
