// The gradient-caching graphs (Gao et al. 2021) on their own: the loss pass against a float64
// InfoNCE written out by hand, the chunk graphs' dropout sites against the one-graph step's
// (the runtime slices the step's masks by row), and pass 3 replaying pass 1 exactly.
// runtime/grad-cache.test.ts checks whole steps against trainStepGraph.
import { describe, expect, it } from 'vitest';
import { type HostTensor } from '../graph/index.js';
import { mulberry32 } from '../../../shared/random.js';
import { evaluate } from '../../../../test/support/grad-check.js';
import { flatFeeds, flatValues } from '../runtime/contract.js';
import { dropoutKey } from '../runtime/dropout.js';
import { type EncoderSpec, paramSpecs } from './encoder.js';
import { chunkBackwardGraph, embedChunkGraph, lossGraph } from './grad-cache.js';
import { NEGATIVE_FILL, trainStepGraph } from './graphs.js';

const SPEC: EncoderSpec = {
  arch: 'bert', vocabSize: 50, hidden: 16, layers: 2, heads: 2, intermediate: 32, maxPositions: 16, typeVocabSize: 2,
  layerNormEps: 1e-12, padTokenId: 0, pooling: 'mean', normalize: true, hiddenDropout: 0.2, attentionDropout: 0.1,
};
const f32 = (shape: number[], data: Float32Array): HostTensor => ({ dtype: 'float32', shape, data });

/** InfoNCE in float64 (loss.ts's definition) and its gradient from the closed form dL/ds = (softmax - onehot) / B. */
function referenceInfoNce(e: Float32Array, b: number, n: number, d: number, tau: number, bias: Float32Array | null) {
  const c = b * (1 + n);
  const row = (r: number) => e.subarray(r * d, (r + 1) * d);
  const grad = new Float64Array(e.length);
  let loss = 0;
  for (let i = 0; i < b; i++) {
    const s = Array.from({ length: c }, (_, j) => {
      const q = row(i);
      const k = row(b + j);
      let dot = 0;
      for (let x = 0; x < d; x++) dot += q[x] * k[x];
      return dot / tau + (bias && j >= b ? bias[j - b] : 0);
    });
    const max = Math.max(...s);
    const z = s.reduce((a, v) => a + Math.exp(v - max), 0);
    loss += (max + Math.log(z) - s[i]) / b;
    s.forEach((v, j) => {
      const ds = (Math.exp(v - max) / z - (j === i ? 1 : 0)) / b / tau;
      for (let x = 0; x < d; x++) {
        grad[i * d + x] += ds * row(b + j)[x];
        grad[(b + j) * d + x] += ds * row(i)[x];
      }
    });
  }
  return { loss, grad };
}

const run = evaluate;

describe('grad-cache graphs', () => {
  it('the loss pass gives InfoNCE and dLoss/dE as a float64 reference does, masked negatives included', async () => {
    const [b, n, d, tau] = [4, 2, SPEC.hidden, 0.05];
    const random = mulberry32(3);
    const e = new Float32Array(b * (2 + n) * d);
    for (let r = 0; r < b * (2 + n); r++) {
      const v = Array.from({ length: d }, () => random() - 0.5);
      const norm = Math.hypot(...v);
      v.forEach((x, i) => (e[r * d + i] = x / norm));
    }
    const bias = Float32Array.from({ length: b * n }, (_, i) => (i === 3 ? NEGATIVE_FILL : 0));
    for (const masked of [false, true]) {
      const { graph } = lossGraph(SPEC, b, { negativesPerQuery: n, maskNegatives: masked }, tau);
      const feeds: Record<string, HostTensor> = { embeddings: f32([b * (2 + n), d], e) };
      if (masked) feeds.negative_bias = f32([b * n], bias);
      const out = await run(graph, feeds, ['loss', 'embedding_grad']);
      const want = referenceInfoNce(e, b, n, d, tau, masked ? bias : null);
      expect(Math.abs((out.loss.data[0] as number) - want.loss) / want.loss).toBeLessThan(1e-6);
      const got = out.embedding_grad.data as Float32Array;
      let err = 0;
      let norm = 0;
      for (let i = 0; i < got.length; i++) [err, norm] = [err + (got[i] - want.grad[i]) ** 2, norm + want.grad[i] ** 2];
      expect(Math.sqrt(err / norm), masked ? 'masked' : 'plain').toBeLessThan(1e-6);
    }
  });

  it('declares the one-graph step\'s dropout sites, in its order, batch axis first', () => {
    const step = trainStepGraph(SPEC, { queries: 4, negativesPerQuery: 1, length: 8 }).dropout; // 12 rows
    for (const g of [embedChunkGraph(SPEC, 3, 8), chunkBackwardGraph(SPEC, 3, 8)]) {
      expect(g.dropout.map((x) => x.name)).toEqual(step.map((x) => x.name));
      g.dropout.forEach((x, i) => {
        expect(x.p).toBe(step[i].p);
        expect([x.shape[0] * 4, ...x.shape.slice(1)]).toEqual(step[i].shape);
      });
    }
    expect(step.length).toBe(1 + 3 * SPEC.layers);
  });

  it('pass 3 replays pass 1: same masks, same embeddings and loss; other masks, other embeddings', async () => {
    const [rows, length] = [6, 8];
    const random = mulberry32(11);
    const init = new Map<string, Float32Array>();
    for (const p of paramSpecs(SPEC)) {
      const n = p.shape.reduce((a, x) => a * x, 1);
      init.set(p.key, Float32Array.from({ length: n }, () => (p.key.includes('LayerNorm.weight') ? 1 : 0) + (random() - 0.5) * 0.4));
    }
    const feeds: Record<string, HostTensor> = flatFeeds(paramSpecs(SPEC), { p: init });
    const ids = Int32Array.from({ length: rows * length }, (_, i) => (i % length === 0 ? 2 : 5 + Math.floor(random() * 40)));
    feeds.input_ids = { dtype: 'int32', shape: [rows, length], data: ids };
    feeds.attention_mask = { dtype: 'int32', shape: [rows, length], data: Int32Array.from(ids, (_, i) => (i % length < 6 ? 1 : 0)) };
    feeds.token_type_ids = { dtype: 'int32', shape: [rows, length], data: new Int32Array(rows * length) };
    const embed = embedChunkGraph(SPEC, rows, length);
    // The masks are hashed in the graph from the step's key and the chunk's first row.
    expect(embed.dropoutInGraph && embed.dropout.length).toBeTruthy();
    const masks = (step: number): Record<string, HostTensor> => ({
      dropout_key: { dtype: 'int32', shape: [], data: Int32Array.of(dropoutKey(42, step)) },
      dropout_row0: { dtype: 'int32', shape: [], data: Int32Array.of(0) },
    });
    const e1 = (await run(embed.graph, { ...feeds, ...masks(0) }, ['sentence_embedding'])).sentence_embedding.data as Float32Array;

    const back = chunkBackwardGraph(SPEC, rows, length, { exposeEmbedding: true });
    const extra: Record<string, HostTensor> = {
      embedding_grad: f32([rows, SPEC.hidden], Float32Array.from({ length: rows * SPEC.hidden }, () => random() - 0.5)),
      first_chunk: { dtype: 'bool', shape: [], data: new Uint8Array([1]) },
    };
    // A NaN accumulator must not leak into the first chunk's sum (Where, not 0·acc).
    const nan = new Map([...init].map(([k, v]) => [k, new Float32Array(v.length).fill(NaN)]));
    Object.assign(extra, flatFeeds(back.params, { acc: nan }));
    const slots = back.state!.map((s) => `acc.${s.name}.next`);
    const replay = await run(back.graph, { ...feeds, ...extra, ...masks(0) }, ['sentence_embedding', ...slots]);
    expect(replay.sentence_embedding.data).toEqual(e1);
    const acc = flatValues(back.params, replay, 'acc', '.next').get('encoder.layer.1.output.dense.weight')!;
    expect(acc.every(Number.isFinite)).toBe(true);
    expect(acc.some((x) => x !== 0)).toBe(true);

    const { graph: loss } = lossGraph(SPEC, 2, { negativesPerQuery: 1 });
    const lossOf = async (e: Float32Array) => (await run(loss, { embeddings: f32([rows, SPEC.hidden], e) }, ['loss'])).loss.data[0];
    expect(await lossOf(replay.sentence_embedding.data as Float32Array)).toBe(await lossOf(e1));

    const other = await run(back.graph, { ...feeds, ...extra, ...masks(1) }, ['sentence_embedding']);
    expect(other.sentence_embedding.data).not.toEqual(e1);
  });

  it('names bad shapes', () => {
    expect(() => embedChunkGraph(SPEC, 0, 8)).toThrow(/rows = 0 must be an integer >= 1/);
    expect(() => lossGraph(SPEC, 2, { negativesPerQuery: -1 })).toThrow(/negativesPerQuery = -1 must be an integer >= 0/);
    expect(() => chunkBackwardGraph(SPEC, 2, 40)).toThrow(/needs 40 position embeddings; the model has 16/);
  });
});
