// MPNet and ModernBERT model folders end to end: a checkpoint as a task class writes it
// (key prefix, bf16 / fp16 weights, MLM head and tied decoder beside the encoder) loads with its
// values widened exactly; a save writes the bare encoder under the checkpoint's own key names;
// the ONNX export (pooling inside, opset 18 / IR 8, dynamic axes) matches the engine at two
// batch shapes in onnxruntime and loads in transformers.js; config fields that would change the
// math are refused by name.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bf16Bits as bf16, bf16Widened as widened, minRowCosine } from '../../../../test/support/embedding-checks.js';
import { EngineError } from '../../../shared/errors.js';
import { importDataset } from '../data/index.js';
import type { HostTensor } from '../graph/index.js';
import { paramSpecs, specFromHfConfig } from '../nn/index.js';
import { createSession } from '../runtime/index.js';
import { embed } from './embed.js';
import { exportOnnx } from './export-onnx.js';
import { loadModelFolder } from './load.js';
import { ONNX } from './onnx-proto.js';
import { type EmbeddingModel, openModel } from './open-model.js';
import { writeRandomBert } from './random-model.js';
import { parseSafetensors, toFloat32, writeSafetensors, type TensorToWrite } from './safetensors.js';
import { saveModelFolder } from './save.js';
import { trainRun } from '../train/run.js';
import { TRAIN_DEFAULTS } from '../train/settings.js';
import { withTempDir } from '../../../../test/support/temp-dir.js';

const TOK = 'test/fixtures/models/bert-wordpiece-uncased';
const TEXTS = ['Hello world!', 'The quick brown fox jumps over the lazy dog, twice, without stopping, near the old mill.', 'naïve café', 'Support ticket #42: the printer is on fire again.'];
const expected = (c: Record<string, unknown>) => paramSpecs(specFromHfConfig(c));
let tmp: string;
const models: EmbeddingModel[] = [];

withTempDir('embedsmith-families-', (d) => (tmp = d));
afterAll(async () => {
  for (const m of models) await m.dispose();
});



describe.each([
  { family: 'mpnet' as const, fixture: 'tiny-mpnet-step', prefix: 'mpnet.', heads: ['lm_head.dense.weight', 'lm_head.bias'], arch: 'MPNetModel' },
  { family: 'modernbert' as const, fixture: 'tiny-modernbert-bias-step', prefix: 'model.', heads: ['head.dense.weight', 'head.norm.weight', 'decoder.weight', 'decoder.bias'], arch: 'ModernBertModel' },
  // Qwen3ForCausalLM: the LM head tied to embed_tokens, saved as its own copy.
  { family: 'qwen3' as const, fixture: 'tiny-qwen3-step', prefix: 'model.', heads: ['lm_head.weight'], arch: 'Qwen3Model' },
])('$family model folders', ({ family, fixture, prefix, heads, arch }) => {
  it('load a task checkpoint (prefix, bf16, head and tied decoder) and save the bare encoder under its own keys', async () => {
    const config = JSON.parse(await readFile(`test/fixtures/${fixture}/config.json`, 'utf8'));
    const src = parseSafetensors(new Uint8Array(await readFile(`test/fixtures/${fixture}/params.safetensors`)));
    const dir = join(tmp, `${family}-mlm`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, architectures: [arch.replace('Model', 'ForMaskedLM')] }));
    const tensors: [string, TensorToWrite][] = [...src.tensors].map(([k, t]) => [prefix + k, { dtype: 'BF16', shape: t.shape, data: bf16(toFloat32(t, k)) }]);
    // The MLM head, and the decoder tied to the word embeddings (saved as its own copy): dropped.
    for (const h of heads) {
      const shape = h === 'decoder.weight' || h === 'lm_head.weight' ? [config.vocab_size, config.hidden_size] : [config.hidden_size];
      tensors.push([h, { dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b)) }]);
    }
    await writeFile(join(dir, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));

    const loaded = await loadModelFolder(dir, { expected: (c) => expected(c.raw) });
    expect(loaded.config.family).toBe(family);
    expect([...loaded.params.keys()]).toEqual([...src.tensors.keys()]); // the checkpoint's own names, its order
    for (const [k, t] of src.tensors) {
      expect(loaded.params.get(k), k).toEqual(widened(toFloat32(t, k))); // bf16 widened exactly
    }
    expect(loaded.notes.join('\n')).toMatch(new RegExp(`stripped the key prefix '${prefix.replace('.', '\\.')}'`));
    expect(loaded.notes.join('\n')).toMatch(/widened \d+ BF16/);

    const out = join(tmp, `${family}-saved`);
    await saveModelFolder(loaded, out);
    const saved = parseSafetensors(new Uint8Array(await readFile(join(out, 'model.safetensors'))));
    expect([...saved.tensors.keys()]).toEqual([...src.tensors.keys()].sort()); // bare keys, no head
    expect(JSON.parse(await readFile(join(out, 'config.json'), 'utf8')).architectures).toEqual([arch]);
    const again = await loadModelFolder(out, { expected: (c) => expected(c.raw) });
    for (const [k, v] of loaded.params) expect(again.params.get(k), k).toEqual(v);
  });

  it('export ONNX with pooling inside that matches the engine at two shapes, and loads in transformers.js', async () => {
    const src = join(tmp, `${family}-src`);
    await writeRandomBert(src, { tokenizerDir: TOK, family, seed: 5, layers: family === 'modernbert' ? 4 : 2, maxPositions: 64 });
    // The reference embeds with the static per-shape graphs (the ones the parity fixtures check),
    // not the dynamic-axes graph that export shares with the frozen CPU encoder.
    const model = await openModel(src, { device: 'cpu', encoder: 'buckets' });
    models.push(model);
    const out = join(tmp, `${family}-onnx`);
    const [file] = await exportOnnx(model, out);
    const bytes = await readFile(file.path);
    const proto = ONNX.ModelProto.toObject(ONNX.ModelProto.decode(bytes), { longs: Number });
    expect([proto.ir_version, proto.opset_import.map((i: { version: number }) => i.version)]).toEqual([8, [18]]);
    expect(proto.graph.input.map((v: { name: string }) => v.name)).toEqual(['input_ids', 'attention_mask']);
    const want = await embed(model, TEXTS);
    const session = await createSession(bytes, { device: 'cpu' });
    try {
      for (const [texts, padTo, rows] of [[TEXTS, 40, [0, 1, 2, 3]], [TEXTS.slice(1, 3), 29, [1, 2]]] as const) {
        const b = model.tokenizer.encodeBatch([...texts], { padTo });
        const i64 = (a: Int32Array): HostTensor => ({ dtype: 'int64', shape: [b.batchSize, b.seqLen], data: BigInt64Array.from(a, (v) => BigInt(v)) });
        const res = await session.run({ input_ids: i64(b.inputIds), attention_mask: i64(b.attentionMask) });
        const ref = Float32Array.from(rows.flatMap((r) => [...want.subarray(r * 32, (r + 1) * 32)]));
        expect(minRowCosine(res.sentence_embedding.data as Float32Array, ref, 32)).toBeGreaterThanOrEqual(0.99999);
        expect(res.token_embeddings.shape).toEqual([texts.length, padTo, 32]);
      }
    } finally {
      await session.release();
    }

    const { AutoModel, AutoTokenizer, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = tmp;
    const tok = await AutoTokenizer.from_pretrained(`${family}-onnx`, { local_files_only: true });
    const net = await AutoModel.from_pretrained(`${family}-onnx`, { local_files_only: true, dtype: 'fp32', device: 'cpu' });
    try {
      const outputs = await net(tok(TEXTS, { padding: true, truncation: true }));
      expect(minRowCosine(outputs.sentence_embedding.data as Float32Array, want, 32)).toBeGreaterThanOrEqual(0.99999);
    } finally {
      await net.dispose();
    }
  });
});

describe('training runs on both families', () => {
  it.each(['mpnet', 'modernbert', 'qwen3'] as const)('%s: trainRun takes steps, lowers the loss and saves a model that loads with changed weights', async (family) => {
    const src = join(tmp, `${family}-train-src`);
    await writeRandomBert(src, { tokenizerDir: TOK, family, seed: 9, layers: family === 'modernbert' ? 4 : 2, maxPositions: 64 });
    const words = 'apple river stone cloud music garden window paper'.split(' ');
    await writeFile(join(tmp, `${family}.csv`), ['anchor,positive', ...words.map((w, i) => `what is ${w},${w} is a thing number ${i}`)].join('\n') + '\n');
    const data = join(tmp, `${family}-data`);
    await importDataset(join(tmp, `${family}.csv`), data);
    const run = join(tmp, `${family}-run`);
    const r = await trainRun({ ...TRAIN_DEFAULTS, model: src, data, threads: 1, device: 'cpu', template: { query: '', document: '' }, batchSize: 4, lr: 1e-3, maxLength: 32, epochs: 6, warmup: 0, dropout: 0 }, run);
    const losses = (await readFile(join(run, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l).loss as number);
    expect(losses).toHaveLength(12);
    expect(losses.slice(-2).reduce((a, b) => a + b)).toBeLessThan(losses.slice(0, 2).reduce((a, b) => a + b) * 0.8);
    const before = await loadModelFolder(src, { expected: (c) => expected(c.raw) });
    const after = await loadModelFolder(r.modelDir!, { expected: (c) => expected(c.raw) });
    expect(after.config.family).toBe(family);
    const key = [...before.params.keys()][2];
    expect(after.params.get(key)).not.toEqual(before.params.get(key));
  });
});

describe('config fields that change the math', () => {
  const refused = (config: Record<string, unknown>): EngineError => {
    try {
      specFromHfConfig(config);
    } catch (e) {
      return e as EngineError;
    }
    throw new Error('not refused');
  };
  const modern = async () => JSON.parse(await readFile('test/fixtures/tiny-modernbert-step/config.json', 'utf8'));
  const mpnet = async () => JSON.parse(await readFile('test/fixtures/tiny-mpnet-step/config.json', 'utf8'));

  it('are refused by name when unknown or not implemented', async () => {
    for (const [extra, name] of [
      [{ sliding_window: 64 }, 'sliding_window'],
      [{ rope_scaling: { rope_type: 'linear', factor: 2 } }, 'rope_scaling'],
      [{ hidden_activation: 'gelu_pytorch_tanh' }, 'hidden_activation'],
      [{ qk_norm: true }, 'qk_norm'],
      [{ embedding_dropout: 0.1 }, 'embedding_dropout'],
      [{ rope_parameters: { full_attention: { rope_type: 'yarn', rope_theta: 1e4 } } }, 'rope_parameters'],
    ] as const) {
      const e = refused({ ...(await modern()), ...extra });
      expect(e.message, name).toContain(name);
    }
    expect(refused({ ...(await mpnet()), relative_attention_max_distance: 256 }).message).toContain('relative_attention_max_distance');
    expect(refused({ ...(await mpnet()), type_vocab_size: 2 }).message).toContain('type_vocab_size');
    expect(refused({ ...(await mpnet()), hidden_act: 'relu' }).message).toContain('relu');
  });

  it('read layer_types and rope_parameters of newer configs as the older fields say', async () => {
    const old = await modern();
    const base = specFromHfConfig(old).modernBert;
    const { global_attn_every_n_layers: _g, global_rope_theta: _gt, local_rope_theta: _lt, ...rest } = old;
    const newer = specFromHfConfig({
      ...rest,
      layer_types: ['full_attention', 'sliding_attention', 'sliding_attention', 'full_attention'],
      rope_parameters: { full_attention: { rope_type: 'default', rope_theta: 160000 }, sliding_attention: { rope_type: 'default', rope_theta: 10000 } },
    }).modernBert;
    expect(newer).toEqual(base);
    expect(base?.globalLayers).toEqual([true, false, false, true]);
  });
});
