// LoRA's graph side: the adapted encoder's gradients (adapters and frozen weights alike) against
// float64 finite differences, and the merged weights against the unmerged graph (within 1e-5),
// on a tiny ModernBERT (fused Wqkv) and a tiny MPNet (q and v separately).

import { describe, expect, it } from 'vitest';
import { Graph, type Tensor, backward, hostTensor, ops as o, serialize } from '../graph/index.js';
import { ModelProto } from '../graph/onnx-schema.js';
import { linear } from './layers.js';
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

describe('LoRA on the activations', () => {
  it('adds s·(x·Aᵀ)·Bᵀ to x·Wᵀ without forming W + s·B·A or a gradient for the frozen W', async () => {
    const [n, inp, out, r] = [5, 4, 3, 2];
    const g = new Graph('lora-linear');
    const x = g.input('x', 'float32', [n, inp]);
    const w = g.input('l.weight', 'float32', [out, inp]);
    const a = g.input('l.lora_A.weight', 'float32', [r, inp]);
    const b = g.input('l.lora_B.weight', 'float32', [out, r]);
    const spec: LoraSpec = { rank: r, alpha: 6, targets: ['l'] };
    const record = withLora({ 'l.weight': w, 'l.lora_A.weight': a, 'l.lora_B.weight': b }, [{ module: 'l', a: 'l.lora_A.weight', b: 'l.lora_B.weight', weight: 'l.weight' }], spec);
    const y = linear(x, { weight: record['l.weight'] });
    const [ga, gb] = backward(o.reduceSum(o.mul(y, y), [0, 1], false), [a, b]);
    g.output(y, 'y');
    g.output(ga, 'gA');
    g.output(gb, 'gB');
    const proto = ModelProto.toObject(ModelProto.decode(serialize(g)), { longs: Number }) as { graph: { node: { op_type: string }[] } };
    // The merged weight would need a MatMul B·A; only the Gemms of the activation path remain.
    expect(proto.graph.node.map((nd) => nd.op_type)).not.toContain('MatMul');
    const random = mulberry32(5);
    const v = (k: number) => Float32Array.from(uniform(random, k, -1, 1));
    const [X, W, A, B] = [v(n * inp), v(out * inp), v(r * inp), v(out * r)];
    const got = await evaluate(g, {
      x: hostTensor('float32', [n, inp], X), 'l.weight': hostTensor('float32', [out, inp], W),
      'l.lora_A.weight': hostTensor('float32', [r, inp], A), 'l.lora_B.weight': hostTensor('float32', [out, r], B),
    });
    // float64 reference: y = x·(W + s·B·A)ᵀ, dL/dY = 2y, dA = s·Bᵀ·dYᵀ·X, dB = s·dYᵀ·X·Aᵀ.
    const s = spec.alpha / r;
    const weff = (i: number, j: number) => W[i * inp + j] + s * Array.from({ length: r }, (_, k) => B[i * r + k] * A[k * inp + j]).reduce((p, q) => p + q, 0);
    const yRef = Array.from({ length: n * out }, (_, t) => Array.from({ length: inp }, (_, j) => X[Math.floor(t / out) * inp + j] * weff(t % out, j)).reduce((p, q) => p + q, 0));
    const dy = yRef.map((u) => 2 * u);
    const gARef = Array.from({ length: r * inp }, (_, t) => {
      const [k, j] = [Math.floor(t / inp), t % inp];
      let acc = 0;
      for (let q = 0; q < n; q++) for (let i = 0; i < out; i++) acc += B[i * r + k] * dy[q * out + i] * X[q * inp + j];
      return s * acc;
    });
    const gBRef = Array.from({ length: out * r }, (_, t) => {
      const [i, k] = [Math.floor(t / r), t % r];
      let acc = 0;
      for (let q = 0; q < n; q++) for (let j = 0; j < inp; j++) acc += dy[q * out + i] * X[q * inp + j] * A[k * inp + j];
      return s * acc;
    });
    const close = (got: Float32Array, want: number[]) => want.forEach((u, i) => expect(Math.abs(got[i] - u)).toBeLessThan(1e-4 * (1 + Math.abs(u))));
    close(got.y.data as Float32Array, yRef);
    close(got.gA.data as Float32Array, gARef);
    close(got.gB.data as Float32Array, gBRef);
  });
});
