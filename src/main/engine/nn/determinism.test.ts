// Determinism of a MiniLM-size training step (6 layers, hidden 384, 12 heads, FFN 1536, vocab
// 30522) on the multi-threaded CPU EP: two sessions, two runs, bit-identical outputs. This is
// what catches a racy kernel such as ScatterND's reduction='add' (onnxruntime #18048), which
// the embedding gradient deliberately avoids. Small batch (4 queries × 1 negative × 32) so
// it takes seconds; timing figures are printed, never asserted (STYLE.md habit 9).

import { describe, expect, it } from 'vitest';
import { type HostTensor, hostTensor, serialize } from '../graph/index.js';
import { liveNodes } from '../graph/legalize.js';
import { mulberry32 } from '../../../shared/random.js';
import { flatFeeds } from '../runtime/contract.js';
import { createSession } from '../runtime/session.js';
import { type EncoderSpec, paramSpecs, specFromHfConfig } from './encoder.js';
import { MINILM_CONFIG } from '../../../../test/support/tiny-step.js';
import { trainStepGraph } from './graphs.js';

const MINILM: EncoderSpec = { ...specFromHfConfig(MINILM_CONFIG), hiddenDropout: 0, attentionDropout: 0 };
const SHAPE = { queries: 4, negativesPerQuery: 1, length: 32 };

function feeds(): Record<string, HostTensor> {
  const random = mulberry32(20261127);
  const normalish = () => (random() + random() + random() - 1.5) * 0.04; // ~N(0, 0.02²)
  const P = new Map<string, Float32Array>();
  const M = new Map<string, Float32Array>();
  const V = new Map<string, Float32Array>();
  for (const p of paramSpecs(MINILM)) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    const ln = p.key.includes('LayerNorm.weight');
    for (let i = 0; i < n; i++) values[i] = (ln ? 1 : 0) + normalish();
    P.set(p.key, values);
    // Non-zero moments, as at a later step.
    M.set(p.key, values.map((v) => v * 1e-3));
    V.set(p.key, values.map((v) => v * v * 1e-4));
  }
  const out: Record<string, HostTensor> = flatFeeds(paramSpecs(MINILM), { p: P, m: M, v: V });
  const rows = SHAPE.queries * (2 + SHAPE.negativesPerQuery);
  const ids: number[] = [];
  const mask: number[] = [];
  for (let r = 0; r < rows; r++) {
    const len = 4 + Math.floor(random() * (SHAPE.length - 4));
    for (let t = 0; t < SHAPE.length; t++) {
      const real = t < len;
      // Ids repeat across rows, so embedding gradients accumulate into shared rows.
      ids.push(!real ? 0 : t === 0 ? 101 : t === len - 1 ? 102 : 1000 + Math.floor(random() * 300));
      mask.push(real ? 1 : 0);
    }
  }
  const shape = [rows, SHAPE.length];
  out.input_ids = hostTensor('int32', shape, ids);
  out.attention_mask = hostTensor('int32', shape, mask);
  out.token_type_ids = hostTensor('int32', shape, new Array(ids.length).fill(0));
  out.adam_step_size = hostTensor('float32', [], [2e-5 / 0.1]);
  out.adam_inv_bias2 = hostTensor('float32', [], [1 / Math.sqrt(1 - 0.999)]);
  out.decay_factor = hostTensor('float32', [], [1 - 2e-5 * 0.01]);
  return out;
}

const bytes = (t: HostTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

describe('MiniLM-size training step', () => {
  it('gives bit-identical loss, grad norm and state on two runs with 2 CPU threads', async () => {
    let t0 = performance.now();
    const built = trainStepGraph(MINILM, SHAPE);
    const buildMs = performance.now() - t0;
    t0 = performance.now();
    const model = serialize(built.graph);
    const serializeMs = performance.now() - t0;

    const input = feeds();
    const results: Record<string, HostTensor>[] = [];
    const timings: number[] = [];
    for (let run = 0; run < 2; run++) {
      t0 = performance.now();
      const session = await createSession(model, { device: 'cpu', threads: 2 });
      const createMs = performance.now() - t0;
      t0 = performance.now();
      results.push(await session.run(input));
      timings.push(createMs, performance.now() - t0);
      await session.release();
    }
    console.log('MiniLM step', {
      nodesBuilt: built.graph.nodes.length,
      nodesLive: liveNodes(built.graph, built.graph.outputs).length,
      buildMs: Math.round(buildMs),
      serializeMs: Math.round(serializeMs),
      modelBytes: model.byteLength,
      sessionCreateMs: timings.filter((_, i) => i % 2 === 0).map(Math.round),
      runMs: timings.filter((_, i) => i % 2 === 1).map(Math.round),
      loss: results[0].loss.data[0],
      gradNorm: results[0].grad_norm.data[0],
    });

    const [a, b] = results;
    expect(Number.isFinite(a.loss.data[0]) && a.loss.data[0] > 0).toBe(true);
    expect(Object.keys(a)).toHaveLength(2 + 3 * built.state!.length);
    // Every output byte for byte (the largest: the 30522 × 384 embedding table and its moments).
    const differing = Object.keys(a).filter((k) => !bytes(a[k]).equals(bytes(b[k])));
    expect(differing).toEqual([]);
    // And the update really moved the parameters (a graph that returned its inputs would pass the above).
    const word = 'p.flat.decay'; // the embedding table lives in it
    expect(bytes(a[`${word}.next`]).equals(bytes(input[word]))).toBe(false);
  }, 90_000);
});
