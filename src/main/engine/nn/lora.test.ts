// LoRA's graph side: the adapted encoder's gradients (adapters and frozen weights alike) against
// float64 finite differences, and the merged weights against the unmerged graph (within 1e-5),
// on a tiny ModernBERT (fused Wqkv) and a tiny MPNet (q and v separately).

import { describe, expect, it } from 'vitest';
import { Graph, type Tensor, hostTensor } from '../graph/index.js';
import { type GradInput, checkGradients, evaluate, uniform } from '../../../../test/support/grad-check.js';
import { mulberry32 } from '../../../shared/random.js';
import { type EncoderSpec, encoderForward, paramSpecs, sentenceEmbedding } from './encoder.js';
import { type LoraSpec, loraAdapters, mergeLora, withLora } from './lora.js';

const base = { vocabSize: 7, hidden: 4, heads: 2, intermediate: 6, maxPositions: 8, typeVocabSize: 0, layerNormEps: 1e-5, pooling: 'mean', normalize: true, hiddenDropout: 0, attentionDropout: 0 } as const;
const MODERN: EncoderSpec = {
  ...base, arch: 'modernbert', layers: 2, padTokenId: 0,
  modernBert: { globalLayers: [true, false], window: 2, globalRopeTheta: 100, localRopeTheta: 10, normBias: false, attentionBias: false, mlpBias: false },
};
const MPNET: EncoderSpec = { ...base, arch: 'mpnet', layers: 1, padTokenId: 1, relativeBuckets: 8 };
const IDS = [1, 3, 4, 2, 1, 5, 2, 0];
const MASK = [1, 1, 1, 1, 1, 1, 1, 0];

describe.each([
  ['modernbert', MODERN, { rank: 2, alpha: 4, targets: ['Wqkv', 'Wi'] }],
  ['mpnet', MPNET, { rank: 1, alpha: 3, targets: ['q', 'v'] }],
] as [string, EncoderSpec, LoraSpec][])('LoRA on %s', (_name, spec, lora) => {
  const params = paramSpecs(spec);
  const { adapters, specs } = loraAdapters(params, lora);
  const all = [...params, ...specs];

  it('adapts exactly the targeted linears, and refuses a target the model lacks', () => {
    const names = new Set(adapters.map((a) => a.module.slice(a.module.lastIndexOf('.') + 1)));
    expect([...names].sort()).toEqual([...lora.targets].sort());
    expect(adapters).toHaveLength(lora.targets.length * spec.layers);
    expect(() => loraAdapters(params, { ...lora, targets: ['query'] })).toThrow(/query/);
  });

  it('has finite-difference gradients through the adapters (float64)', async () => {
    const inputs: GradInput[] = [
      ...all.map((p): GradInput => ({ name: p.key, shape: p.shape, range: /norm\.weight/i.test(p.key) ? [0.8, 1.2] : [-0.5, 0.5] })),
      { name: 'input_ids', shape: [2, 4], dtype: 'int32', values: IDS },
      { name: 'attention_mask', shape: [2, 4], dtype: 'int32', values: MASK },
    ];
    const r = await checkGradients(inputs, (...ts: Tensor[]) => {
      const t = Object.fromEntries(inputs.map((i, k) => [i.name, ts[k]]));
      const h = encoderForward(spec, withLora(t, adapters, lora), { inputIds: t.input_ids, attentionMask: t.attention_mask });
      return sentenceEmbedding(spec, h, t.attention_mask);
    });
    expect(r.maxError).toBeLessThan(1e-6);
  });

  it('merged weights embed as the unmerged adapters do, within 1e-5', async () => {
    const random = mulberry32(3);
    const values = new Map(all.map((p) => [p.key, Float32Array.from(uniform(random, p.shape.reduce((a, b) => a * b, 1), -0.5, 0.5), (v) => (/norm\.weight/i.test(p.key) ? 1 + v / 5 : v))]));
    const shapes = new Map(all.map((p) => [p.key, p.shape]));
    const run = async (keys: readonly { key: string; shape: readonly number[] }[], adapted: boolean) => {
      const g = new Graph('lora-merge');
      const t = Object.fromEntries(keys.map((p) => [p.key, g.input(p.key, 'float32', p.shape)]));
      const ids = g.input('input_ids', 'int32', [2, 4]);
      const mask = g.input('attention_mask', 'int32', [2, 4]);
      const h = encoderForward(spec, adapted ? withLora(t, adapters, lora) : t, { inputIds: ids, attentionMask: mask });
      g.output(sentenceEmbedding(spec, h, mask), 'e');
      const feeds = Object.fromEntries(keys.map((p) => [p.key, hostTensor('float32', p.shape, (adapted ? values : merged).get(p.key)!)]));
      return (await evaluate(g, { ...feeds, input_ids: hostTensor('int32', [2, 4], IDS), attention_mask: hostTensor('int32', [2, 4], MASK) })).e.data as Float32Array;
    };
    const merged = mergeLora(values, shapes, adapters, lora);
    expect([...merged.keys()]).toEqual(params.map((p) => p.key)); // adapters gone
    const unmerged = await run(all, true);
    const plain = await run(params, false);
    let worst = 0;
    for (let i = 0; i < plain.length; i++) worst = Math.max(worst, Math.abs(plain[i] - unmerged[i]));
    expect(worst).toBeLessThanOrEqual(1e-5);
    // The adapters matter: without them the embeddings differ by far more.
    const withoutAdapters = await (async () => {
      const saved = new Map(merged);
      for (const ad of adapters) merged.set(ad.weight, values.get(ad.weight)!);
      const e = await run(params, false);
      for (const [k, v] of saved) merged.set(k, v);
      return e;
    })();
    let gap = 0;
    for (let i = 0; i < plain.length; i++) gap = Math.max(gap, Math.abs(withoutAdapters[i] - unmerged[i]));
    expect(gap).toBeGreaterThan(1e-3);
  });
});
