// ONNX export against the engine: the exported file, run by onnxruntime through runtime's
// session API at two different batch sizes and lengths (one file, so the axes are dynamic)
// and by transformers.js from a local folder (its own tokenizer and feeding), must give the
// engine's embeddings; fp16 weights stay close; the external-data layout loads.
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '../graph/index.js';
import { createSession } from '../runtime/index.js';
import { mulberry32 } from '../../../shared/random.js';
import { embed } from './embed.js';
import { exportOnnx, halves } from './export-onnx.js';
import { toHalfBits } from '../graph/dtype.js';
import { ONNX } from './onnx-proto.js';
import { type EmbeddingModel, openModel } from './open-model.js';
import { type RandomBertOptions, writeRandomBert } from './random-model.js';
import { cosine } from '../../../../test/support/measure.js';
import { withTempDir } from '../../../../test/support/temp-dir.js';

const TOK = 'test/fixtures/models/bert-wordpiece-uncased';
const TEXTS = ['Hello world!', 'The quick brown fox jumps over the lazy dog, twice, without stopping.', 'naïve café', '', 'Support ticket #42: the printer is on fire again and nobody is answering the phone.'];
let tmp: string;
const models: EmbeddingModel[] = [];

withTempDir('embedsmith-onnx-', (d) => (tmp = d));
afterAll(async () => {
  for (const m of models) await m.dispose();
});

async function exported(name: string, o: Partial<RandomBertOptions>, opts: Parameters<typeof exportOnnx>[2] = {}) {
  const src = join(tmp, `${name}-src`);
  await writeRandomBert(src, { tokenizerDir: TOK, seed: 11, ...o });
  const model = await openModel(src, { device: 'cpu' });
  models.push(model);
  const out = join(tmp, name);
  const files = await exportOnnx(model, out, opts);
  return { model, out, files };
}

function minRowCosine(a: Float32Array, b: Float32Array, d: number): number {
  let min = 1;
  for (let i = 0; i < a.length / d; i++) min = Math.min(min, cosine(a.subarray(i * d, (i + 1) * d), b.subarray(i * d, (i + 1) * d)));
  return min;
}

/** The exported model run by onnxruntime on our tokenizer's ids, padded to `padTo`. */
async function runExported(bytes: Uint8Array, model: EmbeddingModel, texts: string[], padTo: number) {
  const batch = model.tokenizer.encodeBatch(texts, { padTo });
  const i64 = (a: Int32Array): HostTensor => ({ dtype: 'int64', shape: [batch.batchSize, batch.seqLen], data: BigInt64Array.from(a, (v) => BigInt(v)) });
  const feeds: Record<string, HostTensor> = { input_ids: i64(batch.inputIds), attention_mask: i64(batch.attentionMask) };
  if (batch.tokenTypeIds && model.spec.typeVocabSize > 1) feeds.token_type_ids = i64(batch.tokenTypeIds);
  const session = await createSession(bytes, { device: 'cpu' });
  try {
    const out = await session.run(feeds);
    return { sentence: out.sentence_embedding.data as Float32Array, tokens: out.token_embeddings };
  } finally {
    await session.release();
  }
}

describe('exportOnnx', () => {
  it('writes one graph with dynamic axes that matches the engine at two batch sizes and lengths', async () => {
    const { model, files } = await exported('bert', { pooling: 'mean', normalize: true });
    expect(files.map((f) => f.path.slice(-10))).toEqual(['model.onnx']);
    const bytes = await readFile(files[0].path);
    const proto = ONNX.ModelProto.toObject(ONNX.ModelProto.decode(bytes), { longs: Number });
    const dims = (v: { type: { tensor_type: { shape: { dim: Array<{ dim_value?: number; dim_param?: string }> } } } }) => v.type.tensor_type.shape.dim.map((d) => d.dim_param ?? d.dim_value);
    expect(proto.graph.input.map((v: { name: string }) => v.name)).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(proto.graph.input.map(dims)).toEqual(Array(3).fill(['batch_size', 'sequence_length']));
    expect(proto.graph.output.map((v: { name: string }) => v.name)).toEqual(['sentence_embedding', 'token_embeddings']);
    expect(proto.graph.output.map(dims)).toEqual([['batch_size', 32], ['batch_size', 'sequence_length', 32]]);
    // Loadable by older runtimes: opset 18 / IR 8, so the engine's opset-20 Gelu is composed.
    expect([proto.ir_version, proto.opset_import.map((i: { version: number }) => i.version)]).toEqual([8, [18]]);
    const ops = new Set(proto.graph.node.map((n: { op_type: string }) => n.op_type));
    expect([ops.has('Gelu'), ops.has('Erf'), ops.has('LayerNormalization')]).toEqual([false, true, true]);
    const want = await embed(model, TEXTS);
    for (const [texts, padTo, rows] of [[TEXTS, 24, [0, 1, 2, 3, 4]], [TEXTS.slice(1, 3), 40, [1, 2]]] as const) {
      const got = await runExported(bytes, model, [...texts], padTo);
      const ref = Float32Array.from(rows.flatMap((r) => [...want.subarray(r * 32, (r + 1) * 32)]));
      expect(minRowCosine(got.sentence, ref, 32)).toBeGreaterThanOrEqual(0.99999);
      expect(got.tokens.shape).toEqual([texts.length, padTo, 32]);
    }
  });

  it('exports RoBERTa-style position ids (CumSum) and cls pooling without normalisation', async () => {
    const { model, files } = await exported('roberta', { family: 'roberta', pooling: 'cls', normalize: false });
    const bytes = await readFile(files[0].path);
    const got = await runExported(bytes, model, TEXTS, 20);
    const want = await embed(model, TEXTS);
    expect(minRowCosine(got.sentence, want, 32)).toBeGreaterThanOrEqual(0.99999);
    // Not normalised: the norms must match too, not just the directions.
    const norm = (a: Float32Array) => Math.hypot(...a.subarray(0, 32));
    expect(norm(got.sentence)).toBeCloseTo(norm(want), 4);
    expect(norm(want)).not.toBeCloseTo(1, 2);
  });

  it("converts to float16 bit-exactly as graph/dtype's toHalfBits (ties, subnormals, underflow), refusing overflow", () => {
    const rnd = mulberry32(5);
    const xs = Float32Array.from({ length: 20000 }, (_, i) => (rnd() - 0.5) * 2 ** (Math.floor(rnd() * 44) - 28) * (i % 7 === 0 ? 0 : 1));
    xs.set([65504, -65504, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 1 + 2 ** -11, 1 + 3 * 2 ** -11, -0, 6.1e-5, 0.1]);
    expect(Array.from(halves(xs))).toEqual(Array.from(xs, (x) => toHalfBits(x)));
    expect(() => halves(Float32Array.of(0, 70000), 'w')).toThrow(/'w' element 1 is 70000/);
  });

  it('writes fp16 weights (half the file) whose embeddings stay within cosine 0.999', async () => {
    const { model, files } = await exported('fp16', {}, { fp16: true });
    expect(files.map((f) => f.path.split('/').pop())).toEqual(['model.onnx', 'model_fp16.onnx']);
    const [full, half] = await Promise.all(files.map((f) => stat(f.path)));
    expect(half.size / full.size).toBeLessThan(0.55);
    const got = await runExported(await readFile(files[1].path), model, TEXTS, 24);
    const c = minRowCosine(got.sentence, await embed(model, TEXTS), 32);
    expect(c).toBeGreaterThanOrEqual(0.999);
    expect(c).toBeLessThan(1); // the weights really were rounded
  });

  it('loads in transformers.js, offline from the exported folder, with the same embeddings — also with external data', async () => {
    const { model } = await exported('tjs', { prompts: { query: 'query: ' } });
    const ext = await exported('tjs-ext', {}, { externalDataThreshold: 0 });
    // External data: the weights left the .onnx file for a page-aligned model.onnx_data.
    expect((await readdir(join(ext.out, 'onnx'))).sort()).toEqual(['model.onnx', 'model.onnx_data']);
    const proto = ONNX.ModelProto.toObject(ONNX.ModelProto.decode(await readFile(join(ext.out, 'onnx', 'model.onnx'))), { longs: Number });
    const word = proto.graph.initializer.find((t: { name: string }) => t.name === 'embeddings.word_embeddings.weight');
    expect(word).toMatchObject({ data_location: 1, external_data: [{ key: 'location', value: 'model.onnx_data' }, { key: 'offset' }, { key: 'length', value: String(30522 * 32 * 4) }] });
    expect(JSON.parse(await readFile(join(ext.out, 'config.json'), 'utf8'))['transformers.js_config']).toEqual({ use_external_data_format: { 'model.onnx': 1 } });

    const { AutoModel, AutoTokenizer, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = tmp;
    for (const [name, m] of [['tjs', model], ['tjs-ext', ext.model]] as const) {
      const tok = await AutoTokenizer.from_pretrained(name, { local_files_only: true });
      const net = await AutoModel.from_pretrained(name, { local_files_only: true, dtype: 'fp32', device: 'cpu' });
      try {
        const inputs = tok(TEXTS, { padding: true, truncation: true });
        const outputs = await net(inputs);
        const got = outputs.sentence_embedding.data as Float32Array;
        expect(outputs.sentence_embedding.dims).toEqual([TEXTS.length, 32]);
        expect(minRowCosine(got, await embed(m, TEXTS), 32)).toBeGreaterThanOrEqual(0.99999);
      } finally {
        await net.dispose();
      }
    }
  });
});
