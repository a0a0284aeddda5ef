// Two properties of the training step the trainer relies on: masked filler negatives leave
// the loss and gradients exactly as if the slots did not exist, and a non-finite gradient
// leaves every parameter and moment unchanged (the run reports the step as skipped).
import { describe, expect, it } from 'vitest';
import { type HostTensor } from '../graph/index.js';
import { mulberry32 } from '../../../shared/random.js';
import { evaluate } from '../../../../test/support/grad-check.js';
import { flatFeeds } from '../runtime/contract.js';
import { type EncoderSpec, paramSpecs } from './encoder.js';
import { NEGATIVE_FILL, trainStepGraph } from './graphs.js';

const SPEC: EncoderSpec = {
  arch: 'bert', vocabSize: 50, hidden: 16, layers: 1, heads: 2, intermediate: 32, maxPositions: 16, typeVocabSize: 2,
  layerNormEps: 1e-12, padTokenId: 0, pooling: 'mean', normalize: true, hiddenDropout: 0, attentionDropout: 0,
};
const B = 3;
const L = 6;

function params(poison = false): Record<string, HostTensor> {
  const random = mulberry32(7);
  const P = new Map<string, Float32Array>();
  const M = new Map<string, Float32Array>();
  const V = new Map<string, Float32Array>();
  for (const p of paramSpecs(SPEC)) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const v = Float32Array.from({ length: n }, () => (p.key.includes('LayerNorm.weight') ? 1 : 0) + (random() - 0.5) * 0.2);
    if (poison && p.key === 'encoder.layer.0.output.dense.weight') v[3] = NaN;
    P.set(p.key, v);
    M.set(p.key, v.map((x) => x * 0.01));
    V.set(p.key, v.map((x) => x * x * 0.01));
  }
  const out: Record<string, HostTensor> = flatFeeds(paramSpecs(SPEC), { p: P, m: M, v: V });
  out.adam_step_size = { dtype: 'float32', shape: [], data: new Float32Array([1e-3]) };
  out.adam_inv_bias2 = { dtype: 'float32', shape: [], data: new Float32Array([1]) };
  out.decay_factor = { dtype: 'float32', shape: [], data: new Float32Array([0.999]) };
  return out;
}

function rows(n: number, seed: number): Record<string, HostTensor> {
  const random = mulberry32(seed);
  const ids = Int32Array.from({ length: n * L }, (_, i) => (i % L === 0 ? 2 : 5 + Math.floor(random() * 40)));
  return {
    input_ids: { dtype: 'int32', shape: [n, L], data: ids },
    attention_mask: { dtype: 'int32', shape: [n, L], data: new Int32Array(n * L).fill(1) },
    token_type_ids: { dtype: 'int32', shape: [n, L], data: new Int32Array(n * L) },
  };
}

async function run(negatives: number, masked: boolean, feeds: Record<string, HostTensor>, fetch: string[]) {
  const { graph } = trainStepGraph(SPEC, { queries: B, negativesPerQuery: negatives, length: L, maskNegatives: masked }, { exposeGradients: true });
  return evaluate(graph, feeds, fetch);
}

describe('train step', () => {
  it('fully masked negatives give the loss and gradients of a step without negatives', async () => {
    const base = rows(2 * B, 1);
    const negs = rows(B, 2);
    const withNeg: Record<string, HostTensor> = { ...params() };
    for (const k of ['input_ids', 'attention_mask', 'token_type_ids'] as const) {
      const a = base[k].data as Int32Array;
      const b = negs[k].data as Int32Array;
      withNeg[k] = { dtype: 'int32', shape: [3 * B, L], data: Int32Array.from([...a, ...b]) };
    }
    withNeg.negative_bias = { dtype: 'float32', shape: [B], data: new Float32Array(B).fill(NEGATIVE_FILL) };
    const g = 'grad.encoder.layer.0.attention.self.query.weight';
    const masked = await run(1, true, withNeg, ['loss', g]);
    const plain = await run(0, false, { ...params(), ...base }, ['loss', g]);
    expect(masked.loss.data[0]).toBeCloseTo(plain.loss.data[0] as number, 6);
    const a = masked[g].data as Float32Array;
    const b = plain[g].data as Float32Array;
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-6);
    // An unmasked negative changes the loss: the mask is what removed it.
    withNeg.negative_bias = { dtype: 'float32', shape: [B], data: new Float32Array(B) };
    const open = await run(1, true, withNeg, ['loss']);
    expect(Math.abs((open.loss.data[0] as number) - (plain.loss.data[0] as number))).toBeGreaterThan(1e-3);
  });

  it('a NaN gradient leaves parameters and moments unchanged', async () => {
    const feeds = { ...params(true), ...rows(2 * B, 3) };
    const s = { p: 'p.flat.decay', m: 'm.flat.decay', v: 'v.flat.decay' }; // the poisoned weight's slot, and the embeddings'
    const out = await run(0, false, feeds, ['grad_norm', `${s.p}.next`, `${s.m}.next`, `${s.v}.next`]);
    expect(Number.isNaN(out.grad_norm.data[0])).toBe(true);
    expect(out[`${s.p}.next`].data).toEqual(feeds[s.p].data);
    expect(out[`${s.m}.next`].data).toEqual(feeds[s.m].data);
    expect(out[`${s.v}.next`].data).toEqual(feeds[s.v].data);
    // Healthy parameters do move.
    const ok = await run(0, false, { ...params(), ...rows(2 * B, 3) }, [`${s.p}.next`]);
    expect(ok[`${s.p}.next`].data).not.toEqual(params()[s.p].data);
  });
});
