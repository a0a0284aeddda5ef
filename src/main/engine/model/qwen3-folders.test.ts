// Qwen3 folders as Qwen3-Embedding uses them: its instruction prompts, weights past what the
// frozen graph holds, and the exported encoder fed as Qwen3-Embedding's tokenizer feeds it: left-padded
// (tokenizer_config padding_side 'left'), where the engine right-pads. Last-token pooling inside
// the ONNX graph must find the last real token either way, and causal attention with rotary
// positions must make the padding side invisible.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostTensor } from '../graph/index.js';
import { createSession } from '../runtime/index.js';
import { embed, embedTexts } from './embed.js';
import { exportOnnx } from './export-onnx.js';
import { FROZEN_WEIGHT_LIMIT, encoderKind, openModel } from './open-model.js';
import { writeRandomBert } from './random-model.js';
import { withTempDir } from '../../../../test/support/temp-dir.js';

const TOK = 'test/fixtures/models/bert-wordpiece-uncased';
const TEXTS = ['Hello world!', 'The quick brown fox jumps over the lazy dog, twice, without stopping.', 'naïve café', 'ticket #42'];
let tmp: string;
withTempDir('embedsmith-qwen3-export-', (d) => (tmp = d));

describe('Qwen3 ONNX export', () => {
  it('embeds left-padded batches as the engine embeds right-padded ones (cos >= 0.99999)', async () => {
    const src = join(tmp, 'src');
    await writeRandomBert(src, { tokenizerDir: TOK, family: 'qwen3', seed: 11, layers: 2, maxPositions: 64 });
    const model = await openModel(src, { device: 'cpu', encoder: 'buckets' });
    try {
      expect(model.spec.pooling).toBe('lasttoken');
      const want = await embed(model, TEXTS);
      const [file] = await exportOnnx(model, join(tmp, 'onnx'));
      const rows = TEXTS.map((t) => model.tokenizer.encode(t).ids);
      const l = Math.max(...rows.map((r) => r.length)) + 3;
      const pad = model.spec.padTokenId;
      const i64 = (v: number[]): HostTensor => ({ dtype: 'int64', shape: [rows.length, l], data: BigInt64Array.from(v, (x) => BigInt(x)) });
      const ids = rows.flatMap((r) => [...Array<number>(l - r.length).fill(pad), ...r]);
      const mask = rows.flatMap((r) => [...Array<number>(l - r.length).fill(0), ...r.map(() => 1)]);
      const session = await createSession(new Uint8Array(await readFile(file.path)), { device: 'cpu' });
      const got = (await session.run({ input_ids: i64(ids), attention_mask: i64(mask) })).sentence_embedding.data as Float32Array;
      await session.release();
      const d = model.dim;
      let worst = 1;
      for (let r = 0; r < rows.length; r++) {
        let ab = 0, aa = 0, bb = 0;
        for (let j = r * d; j < (r + 1) * d; j++) [ab, aa, bb] = [ab + got[j] * want[j], aa + got[j] ** 2, bb + want[j] ** 2];
        worst = Math.min(worst, ab / Math.sqrt(aa * bb));
      }
      console.log('qwen3 ONNX left padding vs engine right padding: min cos', worst);
      expect(worst).toBeGreaterThanOrEqual(0.99999);
    } finally {
      await model.dispose();
    }
  });
});

describe('the encoder for weights past 2 GiB (Qwen3-Embedding-0.6B: 2.38 GB in float32)', () => {
  const qwen06b = 595_776_512 * 4;
  it('is the bucketed one by default, the frozen graph below the limit, and an explicit frozen one is refused', () => {
    expect(qwen06b).toBeGreaterThan(FROZEN_WEIGHT_LIMIT);
    expect(encoderKind('cpu', 'fp32', undefined, qwen06b, '/m')).toBe('buckets');
    expect(encoderKind('cpu', 'fp32', undefined, 90e6, '/m')).toBe('frozen'); // MiniLM
    expect(encoderKind('cpu', 'fp16', undefined, 90e6, '/m')).toBe('buckets');
    expect(encoderKind('webgpu', 'fp32', undefined, 90e6, '/m')).toBe('buckets');
    expect(() => encoderKind('cpu', 'fp32', 'frozen', qwen06b, '/m')).toThrow(/cannot exceed 2 GiB, and these take 2\.38 GB; use the bucketed encoder/);
  });
});

describe("Qwen3-Embedding's instruction prompts", () => {
  it('come from config_sentence_transformers.json: "Instruct: {task}\\nQuery:" before queries, nothing before documents', async () => {
    const query = 'Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:';
    const dir = join(tmp, 'prompts');
    await writeRandomBert(dir, { tokenizerDir: TOK, family: 'qwen3', seed: 12, layers: 1, maxPositions: 64, prompts: { query, document: '' } });
    const model = await openModel(dir, { device: 'cpu' });
    try {
      const q = await embedTexts(model, ['what is rotary embedding?'], { role: 'query' });
      const d = await embedTexts(model, ['what is rotary embedding?'], { role: 'document' });
      expect([q.prompt, d.prompt]).toEqual([query, '']);
      const [asQuery, plain] = [await embed(model, [`${query}what is rotary embedding?`]), await embed(model, ['what is rotary embedding?'])];
      expect(q.embeddings).toEqual(asQuery);
      expect(d.embeddings).toEqual(plain);
      expect(q.embeddings).not.toEqual(d.embeddings);
    } finally {
      await model.dispose();
    }
  });
});
