// Gemma 3 folders as EmbeddingGemma publishes them: the transformer's model.safetensors, then
// Pooling, two Dense modules (2_Dense, 3_Dense: their own config.json and 'linear.weight') and
// Normalize; its task prompts. Load (bf16 widened exactly, the Dense weights read from their
// folders), save (Dense folders written back), ONNX export with the Dense layers inside
// (onnxruntime at two shapes and left-padded, transformers.js), training (the Dense layers train
// under full fine-tuning and under LoRA, as sentence-transformers trains them), and the published config's size, float32-only precision and refusals.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bf16Bits as bf16, bf16Widened as widened, minRowCosine } from '../../../../test/support/embedding-checks.js';
import { EngineError } from '../../../shared/errors.js';
import { importDataset } from '../data/index.js';
import { describeModel } from '../host/read-service.js';
import type { HostTensor } from '../graph/index.js';
import { embeddingWidth, modelFloat16Problem, paramSpecs, specFromHfConfig } from '../nn/index.js';
import { createSession, resolvePrecision } from '../runtime/index.js';
import { checkpointDir, loadCheckpoint } from '../train/checkpoint.js';
import { trainRun } from '../train/run.js';
import { TRAIN_DEFAULTS } from '../train/settings.js';
import { embed, embedTexts } from './embed.js';
import { exportOnnx } from './export-onnx.js';
import { loadEncoderFolder, openModel } from './open-model.js';
import { writeRandomBert } from './random-model.js';
import { parseSafetensors, toFloat32, writeSafetensors, type TensorToWrite } from './safetensors.js';
import { saveModelFolder } from './save.js';

const TOK = 'test/fixtures/models/bert-wordpiece-uncased';
const FIXTURE = 'test/fixtures/tiny-gemma3-step';
const TEXTS = ['Hello world!', 'The quick brown fox jumps over the lazy dog, twice, without stopping, near the old mill.', 'naïve café', 'Support ticket #42: the printer is on fire again.'];
const PROMPTS = { query: 'task: search result | query: ', document: 'title: none | text: ' };
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-gemma3-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const json = (v: unknown) => JSON.stringify(v, null, 2);

describe('EmbeddingGemma-style folders', () => {
  it('load the transformer (bf16) and the Dense modules from their folders, and save them back as such', async () => {
    const config = JSON.parse(await readFile(`${FIXTURE}/config.json`, 'utf8'));
    const src = parseSafetensors(new Uint8Array(await readFile(`${FIXTURE}/params.safetensors`)));
    const dir = join(tmp, 'published');
    await mkdir(join(dir, '1_Pooling'), { recursive: true });
    await writeFile(join(dir, 'config.json'), json(config));
    const encoder: [string, TensorToWrite][] = [...src.tensors].filter(([k]) => !k.startsWith('dense.')).map(([k, t]) => [k, { dtype: 'BF16', shape: t.shape, data: bf16(toFloat32(t, k)) }]);
    await writeFile(join(dir, 'model.safetensors'), writeSafetensors(encoder, { format: 'pt' }));
    const dense = [['2_Dense', 0, 32, 48, false], ['3_Dense', 1, 48, 24, true]] as const;
    for (const [path, i, inF, outF, bias] of dense) {
      await mkdir(join(dir, path));
      await writeFile(join(dir, path, 'config.json'), json({ in_features: inF, out_features: outF, bias, activation_function: 'torch.nn.modules.linear.Identity' }));
      const t = (n: string): [string, TensorToWrite] => {
        const s = src.tensors.get(`dense.${i}.linear.${n}`)!;
        return [`linear.${n}`, { dtype: 'F32', shape: s.shape, data: toFloat32(s) }];
      };
      await writeFile(join(dir, path, 'model.safetensors'), writeSafetensors(bias ? [t('weight'), t('bias')] : [t('weight')]));
    }
    await writeFile(join(dir, '1_Pooling', 'config.json'), json({ word_embedding_dimension: 32, pooling_mode_mean_tokens: true, include_prompt: true }));
    await mkdir(join(dir, '4_Normalize'));
    const st = (i: number, path: string, cls: string) => ({ idx: i, name: String(i), path, type: `sentence_transformers.models.${cls}` });
    await writeFile(join(dir, 'modules.json'), json([st(0, '', 'Transformer'), st(1, '1_Pooling', 'Pooling'), st(2, '2_Dense', 'Dense'), st(3, '3_Dense', 'Dense'), st(4, '4_Normalize', 'Normalize')]));
    await writeFile(join(dir, 'config_sentence_transformers.json'), json({ prompts: PROMPTS, default_prompt_name: null, similarity_fn_name: 'cosine' }));

    const loaded = await loadEncoderFolder(dir);
    expect(loaded.config.family).toBe('gemma3_text');
    expect(loaded.sentence.dense).toEqual([
      { path: '2_Dense', inFeatures: 32, outFeatures: 48, bias: false },
      { path: '3_Dense', inFeatures: 48, outFeatures: 24, bias: true },
    ]);
    expect([...loaded.params.keys()]).toEqual([...src.tensors.keys()]); // the encoder's keys, then the Dense modules'
    for (const [k, t] of src.tensors) expect(loaded.params.get(k), k).toEqual(k.startsWith('dense.') ? toFloat32(t, k) : widened(toFloat32(t, k)));
    expect(loaded.sentence.prompts).toEqual(PROMPTS);
    // What the Models page shows: the family, every parameter (the Dense modules' too), the pipeline.
    const summary = await describeModel(dir);
    expect(summary).toMatchObject({ family: 'gemma3_text', params: [...src.tensors.values()].reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0), pooling: 'mean + Dense 32 → 48 → 24', normalize: true, prompts: PROMPTS });

    const out = join(tmp, 'published-saved');
    await saveModelFolder(loaded, out);
    const modules = JSON.parse(await readFile(join(out, 'modules.json'), 'utf8')) as { path: string; type: string }[];
    expect(modules.map((m) => `${m.path}:${m.type.slice(m.type.lastIndexOf('.') + 1)}`)).toEqual([':Transformer', '1_Pooling:Pooling', '2_Dense:Dense', '3_Dense:Dense', '4_Normalize:Normalize']);
    expect(JSON.parse(await readFile(join(out, '3_Dense', 'config.json'), 'utf8'))).toEqual({ in_features: 48, out_features: 24, bias: true, activation_function: 'torch.nn.modules.linear.Identity' });
    const saved3 = parseSafetensors(new Uint8Array(await readFile(join(out, '3_Dense', 'model.safetensors'))));
    expect([...saved3.tensors.keys()].sort()).toEqual(['linear.bias', 'linear.weight']);
    const main = parseSafetensors(new Uint8Array(await readFile(join(out, 'model.safetensors'))));
    expect([...main.tensors.keys()].some((k) => k.startsWith('dense.'))).toBe(false);
    expect(JSON.parse(await readFile(join(out, 'config.json'), 'utf8')).architectures).toEqual(['Gemma3TextModel']);
    const again = await loadEncoderFolder(out);
    for (const [k, v] of loaded.params) expect(again.params.get(k), k).toEqual(v);

  });

  it('export ONNX with pooling and the Dense layers inside: onnxruntime at two shapes and transformers.js match the engine', async () => {
    const src = join(tmp, 'random');
    await writeRandomBert(src, { tokenizerDir: TOK, family: 'gemma3', seed: 5, layers: 3, maxPositions: 64, dense: [[32, 64, false], [64, 16, false]], prompts: PROMPTS });
    const model = await openModel(src, { device: 'cpu', encoder: 'buckets' });
    try {
      const d = model.dim;
      expect(d).toBe(16); // the last Dense module's width
      const want = await embed(model, TEXTS);
      // Texts embed apart (a degenerate random model would make every comparison below trivial).
      expect(minRowCosine(want.subarray(0, d), want.subarray(d, 2 * d), d)).toBeLessThan(0.99);
      // The query and document prompts of config_sentence_transformers.json reach embed.
      const q = await embedTexts(model, [TEXTS[0]], { role: 'query' });
      const doc = await embedTexts(model, [TEXTS[0]], { role: 'document' });
      expect([q.prompt, doc.prompt]).toEqual([PROMPTS.query, PROMPTS.document]);
      expect(q.embeddings).toEqual(await embed(model, [`${PROMPTS.query}${TEXTS[0]}`]));
      const frozen = await openModel(src, { device: 'cpu', encoder: 'frozen' });
      try {
        expect(minRowCosine(await embed(frozen, TEXTS), want, d)).toBeGreaterThanOrEqual(0.99999);
      } finally {
        await frozen.dispose();
      }
      const out = join(tmp, 'gemma3-onnx');
      const [file] = await exportOnnx(model, out);
      const session = await createSession(new Uint8Array(await readFile(file.path)), { device: 'cpu' });
      try {
        for (const [texts, padTo, rows] of [[TEXTS, 40, [0, 1, 2, 3]], [TEXTS.slice(1, 3), 29, [1, 2]]] as const) {
          const b = model.tokenizer.encodeBatch([...texts], { padTo });
          const i64 = (a: Int32Array): HostTensor => ({ dtype: 'int64', shape: [b.batchSize, b.seqLen], data: BigInt64Array.from(a, (v) => BigInt(v)) });
          const res = await session.run({ input_ids: i64(b.inputIds), attention_mask: i64(b.attentionMask) });
          const ref = Float32Array.from(rows.flatMap((r) => [...want.subarray(r * d, (r + 1) * d)]));
          const cos = minRowCosine(res.sentence_embedding.data as Float32Array, ref, d);
          console.log(`gemma3 ONNX (onnxruntime) vs engine, ${texts.length} × ${padTo}: min cos ${cos}`);
          expect(cos).toBeGreaterThanOrEqual(0.99999);
          expect(res.token_embeddings.shape).toEqual([texts.length, padTo, 32]);
        }
        // Gemma 3's base tokenizer pads on the left: with bidirectional attention, rotary
        // positions and a window that depend on distances only, the embeddings are the same.
        const rows = TEXTS.map((t) => model.tokenizer.encode(t).ids);
        const l = Math.max(...rows.map((r) => r.length)) + 3;
        const left = (f: (r: number[]) => number[], fill: number) => BigInt64Array.from(rows.flatMap((r) => [...Array<number>(l - r.length).fill(fill), ...f(r)]), (x) => BigInt(x));
        const res = await session.run({
          input_ids: { dtype: 'int64', shape: [rows.length, l], data: left((r) => r, model.spec.padTokenId) },
          attention_mask: { dtype: 'int64', shape: [rows.length, l], data: left((r) => r.map(() => 1), 0) },
        });
        const cos = minRowCosine(res.sentence_embedding.data as Float32Array, want, d);
        console.log('gemma3 ONNX left padding vs engine right padding: min cos', cos);
        expect(cos).toBeGreaterThanOrEqual(0.99999);
      } finally {
        await session.release();
      }
      const { AutoModel, AutoTokenizer, env } = await import('@huggingface/transformers');
      env.allowRemoteModels = false;
      env.localModelPath = tmp;
      const tok = await AutoTokenizer.from_pretrained('gemma3-onnx', { local_files_only: true });
      const net = await AutoModel.from_pretrained('gemma3-onnx', { local_files_only: true, dtype: 'fp32', device: 'cpu' });
      try {
        const outputs = await net(tok(TEXTS, { padding: true, truncation: true }));
        const cos = minRowCosine(outputs.sentence_embedding.data as Float32Array, want, d);
        console.log('gemma3 ONNX (transformers.js) vs engine: min cos', cos);
        expect(cos).toBeGreaterThanOrEqual(0.99999);
      } finally {
        await net.dispose();
      }
    } finally {
      await model.dispose();
    }
  });

  it.each([
    ['full fine-tuning trains the Dense layers too', null],
    ['LoRA r 4 trains the adapters and, as sentence-transformers does, the Dense layers whole', 4],
  ] as const)('%s', async (label, lora) => {
    const name = lora ? 'lora' : 'full';
    const src = join(tmp, `train-src-${name}`);
    await writeRandomBert(src, { tokenizerDir: TOK, family: 'gemma3', seed: 9, layers: 3, maxPositions: 64 });
    const words = 'apple river stone cloud music garden window paper'.split(' ');
    await writeFile(join(tmp, `${name}.csv`), ['anchor,positive', ...words.map((w, i) => `what is ${w},${w} is a thing number ${i}`)].join('\n') + '\n');
    const data = join(tmp, `data-${name}`);
    await importDataset(join(tmp, `${name}.csv`), data);
    const run = join(tmp, `run-${name}`);
    const r = await trainRun({ ...TRAIN_DEFAULTS, model: src, data, threads: 1, device: 'cpu', template: { query: '', document: '' }, batchSize: 4, lr: lora ? 5e-3 : 1e-3, maxLength: 32, epochs: 6, warmup: 0, dropout: 0, lora }, run);
    const losses = (await readFile(join(run, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l).loss as number);
    expect(losses).toHaveLength(12);
    console.log(`gemma3 ${label}: loss ${losses[0].toFixed(4)} -> ${losses.at(-1)!.toFixed(4)}`);
    expect(losses.slice(-2).reduce((a, b) => a + b)).toBeLessThan(losses.slice(0, 2).reduce((a, b) => a + b) * 0.9);
    const before = await loadEncoderFolder(src);
    const after = await loadEncoderFolder(r.modelDir!);
    expect(after.sentence.dense.map((m) => m.path)).toEqual(['2_Dense', '3_Dense']);
    expect(after.params.get('layers.0.self_attn.q_proj.weight')).not.toEqual(before.params.get('layers.0.self_attn.q_proj.weight'));
    const changed = (k: string) => after.params.get(k)!.some((v, i) => v !== before.params.get(k)![i]);
    expect(changed('dense.0.linear.weight') && changed('dense.1.linear.weight')).toBe(true);
    if (lora) {
      // Frozen under LoRA: the embedding table and the norms; RUN/adapter holds the adapters alone.
      expect(changed('embed_tokens.weight') || changed('layers.0.input_layernorm.weight')).toBe(false);
      const adapter = parseSafetensors(new Uint8Array(await readFile(join(run, 'adapter', 'adapter_model.safetensors'))));
      expect([...adapter.tensors.keys()].every((k) => /\.lora_[AB]\.weight$/.test(k))).toBe(true);
    }
  });
});

describe('LoRA on a Gemma 3 folder with Dense modules', () => {
  it('resumes bit-exactly, with moments for the adapters and the Dense layers only', async () => {
    const src = join(tmp, 'resume-src');
    await writeRandomBert(src, { tokenizerDir: TOK, family: 'gemma3', seed: 4, layers: 2, maxPositions: 64 });
    await writeFile(join(tmp, 'resume.csv'), ['anchor,positive', ...'apple river stone cloud music garden'.split(' ').map((w) => `what is ${w},${w} is a thing`)].join('\n') + '\n');
    const data = join(tmp, 'resume-data');
    await importDataset(join(tmp, 'resume.csv'), data);
    const settings = { ...TRAIN_DEFAULTS, model: src, data, threads: 1, device: 'cpu' as const, template: { query: '', document: '' }, batchSize: 3, lr: 5e-3, maxLength: 24, maxSteps: 4, checkpointEvery: 2, warmup: 0, dropout: 0, lora: 4 };
    const full = join(tmp, 'resume-full');
    await trainRun(settings, full);
    const cut = join(tmp, 'resume-cut');
    const ctl = new AbortController();
    await trainRun(settings, cut, { signal: ctl.signal, onProgress: (p) => p.step === 3 && ctl.abort() });
    await trainRun(settings, cut, { resume: true });
    const metrics = async (run: string) => (await readFile(join(run, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => ({ ...JSON.parse(l), pairsPerSec: 0 }));
    expect(await metrics(cut)).toEqual(await metrics(full));
    for (const f of ['model.safetensors', '2_Dense/model.safetensors', '3_Dense/model.safetensors']) {
      expect(Buffer.compare(await readFile(join(full, 'model', f)), await readFile(join(cut, 'model', f))), f).toBe(0);
    }
    const cp = await loadCheckpoint(checkpointDir(full, 4));
    const moments = [...cp.optimizer.m.keys()];
    expect(moments.filter((k) => !/\.lora_[AB]\.weight$/.test(k))).toEqual(['dense.0.linear.weight', 'dense.1.linear.weight']);
  });
});

describe("EmbeddingGemma-300m's published config", () => {
  // google/embeddinggemma-300m config.json (transformers 4.57), and its two Dense modules.
  const layerTypes = Array.from({ length: 24 }, (_, i) => ((i + 1) % 6 === 0 ? 'full_attention' : 'sliding_attention'));
  const published = {
    _sliding_window_pattern: 6, architectures: ['Gemma3TextModel'], attention_bias: false, attention_dropout: 0.0, attn_logit_softcapping: null,
    bos_token_id: 2, dtype: 'float32', eos_token_id: 1, final_logit_softcapping: null, head_dim: 256, hidden_activation: 'gelu_pytorch_tanh',
    hidden_size: 768, initializer_range: 0.02, intermediate_size: 1152, layer_types: layerTypes, max_position_embeddings: 2048,
    model_type: 'gemma3_text', num_attention_heads: 3, num_hidden_layers: 24, num_key_value_heads: 1, pad_token_id: 0, query_pre_attn_scalar: 256,
    rms_norm_eps: 1e-6, rope_local_base_freq: 10000.0, rope_scaling: null, rope_theta: 1000000.0, sliding_window: 512, transformers_version: '4.57.0.dev0',
    use_bidirectional_attention: true, use_cache: true, vocab_size: 262144,
  };
  const dense = [{ inFeatures: 768, outFeatures: 3072, bias: false }, { inFeatures: 3072, outFeatures: 768, bias: false }];

  it('reads as 307.6 M parameters (302.9 M encoder + 4.7 M Dense), 3 query heads on 1 kv head of 256, windows of 256 each way on 20 of 24 layers', () => {
    const spec = specFromHfConfig(published, { dense });
    const n = paramSpecs(spec).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    expect(n).toBe(302_863_104 + 2 * 768 * 3072);
    expect(spec.gemma3).toMatchObject({ kvHeads: 1, headDim: 256, ropeTheta: 1e6, localRopeTheta: 1e4, window: 512, queryScale: 256 });
    expect(spec.gemma3!.globalLayers.filter(Boolean)).toHaveLength(4);
    expect(embeddingWidth(spec)).toBe(768);
    expect(spec.gemma3!.bidirectional).toBe(true);
    expect(specFromHfConfig({ ...published, use_bidirectional_attention: false }).gemma3!.bidirectional).toBe(false); // a causal Gemma 3 (tiny-gemma3-causal-step)
    // Newer configs: rope_parameters per layer type and no layer_types (every 6th layer global).
    const { rope_theta: _t, rope_local_base_freq: _l, layer_types: _lt, ...rest } = published;
    const newer = specFromHfConfig({ ...rest, rope_parameters: { full_attention: { rope_type: 'default', rope_theta: 1e6 }, sliding_attention: { rope_type: 'default', rope_theta: 1e4 } } }).gemma3;
    expect(newer).toEqual(spec.gemma3);
  });

  it('runs in float32: auto precision stays fp32 even on WebGPU, fp16 is refused with the reason', async () => {
    const problem = modelFloat16Problem(specFromHfConfig(published, { dense }));
    expect(problem).toMatch(/float16's range/);
    expect(modelFloat16Problem(specFromHfConfig(JSON.parse(await readFile('test/fixtures/tiny-qwen3-step/config.json', 'utf8'))))).toBeNull();
    expect(await resolvePrecision('auto', 'webgpu', problem)).toEqual({ precision: 'fp32', reason: `auto picked fp32: ${problem}` });
    await expect(resolvePrecision('fp16', 'webgpu', problem)).rejects.toThrow(/--precision fp16 does not suit this model: Gemma 3's activations .*Fix: use --precision fp32/);
  });

  it('refuses, by name, what would change the math', () => {
    const refused = (extra: Record<string, unknown>, layers?: typeof dense): string => {
      try {
        specFromHfConfig({ ...published, ...extra }, { dense: layers });
      } catch (e) {
        expect(e).toBeInstanceOf(EngineError);
        return (e as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refused({ attn_logit_softcapping: 50 })).toMatch(/attn_logit_softcapping/);
    expect(refused({ hidden_activation: 'gelu' })).toMatch(/hidden_activation/);
    expect(refused({ rope_scaling: { rope_type: 'linear', factor: 8 } })).toMatch(/rope_scaling/);
    expect(refused({ attention_bias: true })).toMatch(/attention_bias/);
    expect(refused({ layer_types: ['full_attention'] })).toMatch(/layer_types/);
    expect(refused({ sliding_window_size: 64 })).toMatch(/sliding_window_size/);
    expect(refused({}, [{ inFeatures: 512, outFeatures: 768, bias: false }])).toMatch(/Dense module 0 takes 512 features but the embedding before it has 768/);
  });
});
