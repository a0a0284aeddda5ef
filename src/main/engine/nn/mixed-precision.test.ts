// Mixed precision in the step graph: which nodes run in float16 (the autocast policy), and that
// the loss scale is undone exactly, with an overflow leaving the weights and moments alone.
// The numbers run on the CPU EP, which computes float16 nodes through inserted float32 casts
// (runtime/precision.ts): every op's result is still rounded to float16, as on a GPU. The
// WebGPU run against fp32 is train/precision.webgpu.test.ts.

import { describe, expect, it } from 'vitest';
import { LOSS_SCALE } from '../runtime/contract.js';
import { randomBertBatch, randomParams } from '../../../../test/support/tiny-step.js';
import { createTrainer } from '../runtime/trainer.js';
import { type EncoderSpec } from './index.js';
import { createEncoder } from '../runtime/encoder.js';
import { buildEncode, buildTrainStep, trainStepGraph } from './graphs.js';

const SPEC: EncoderSpec = {
  arch: 'bert', vocabSize: 40, hidden: 16, layers: 2, heads: 2, intermediate: 32, maxPositions: 16, typeVocabSize: 2,
  layerNormEps: 1e-12, padTokenId: 0, pooling: 'mean', normalize: true, hiddenDropout: 0, attentionDropout: 0,
};
const SHAPE = { batch: 2, length: 8 };
const initialParams = () => randomParams(SPEC, 0.4);
const batch = () => randomBertBatch(6, SHAPE.length, SPEC.vocabSize);
const step = (precision: 'fp32' | 'fp16') => (s: { batch: number; length: number }) =>
  buildTrainStep(SPEC, { queries: s.batch, negativesPerQuery: 1, length: s.length }, { precision, temperature: 0.05 });

async function trainer(precision: 'fp32' | 'fp16', scale: () => number) {
  return createTrainer({ device: 'cpu', buildStep: step(precision), initialParams: initialParams(), lr: () => 1e-2, threads: 1, lossScale: scale });
}

describe('fp16 step graph', () => {
  it('runs matmuls in float16, softmax and LayerNorm in float32, and keeps state, loss and norm float32', () => {
    const { graph: g } = trainStepGraph(SPEC, { queries: 2, negativesPerQuery: 1, length: 8 }, { precision: 'fp16' });
    const forward = g.nodes.filter((n) => n.name.startsWith('encoder/'));
    const ops = (op: string) => forward.filter((n) => n.op === op);
    const products = [...ops('MatMul'), ...ops('Gemm')]; // attention scores and context; the linear layers
    expect(products.length).toBeGreaterThanOrEqual(2 * 4);
    for (const n of products) expect(n.inputs.every((t) => t.dtype === 'float16'), n.name).toBe(true);
    for (const n of ops('Gelu')) expect(n.inputs[0].dtype).toBe('float16');
    for (const op of ['Softmax', 'LayerNormalization']) {
      expect(ops(op).length).toBeGreaterThan(0);
      for (const n of ops(op)) expect(n.inputs.map((t) => t.dtype).every((d) => d === 'float32'), n.name).toBe(true);
    }
    // A tensor read by several nodes is cast once: the attention mask goes into every layer's scores.
    const readers = (t: { name: string }) => forward.filter((n) => n.inputs.some((i) => i.name === t.name));
    const casts = forward.filter((n) => n.op === 'Cast' && n.outputs[0].dtype === 'float16');
    const shared = casts.filter((c) => readers(c.outputs[0]).length > 1);
    expect(shared.length).toBeGreaterThan(0);
    expect(new Set(casts.map((c) => c.inputs[0].name)).size).toBe(casts.length);
    for (const t of [...g.inputs, ...g.outputs]) expect(t.dtype, t.name).not.toBe('float16');
    expect(g.inputs.find((t) => t.name === LOSS_SCALE)?.dtype).toBe('float32');
    // The optimiser is untouched by autocast: no float16 node outside the encoder and its backward.
    const adamw = g.nodes.filter((n) => n.name.startsWith('adamw/'));
    expect(adamw.length).toBeGreaterThan(0);
    for (const n of adamw) for (const t of [...n.inputs, ...n.outputs]) expect(t.dtype, n.name).not.toBe('float16');
  });

  it('follows the fp32 step and gives the same gradient norm at any loss scale (the scale is undone)', async () => {
    const data = batch();
    const fp32 = await trainer('fp32', () => 1);
    const ref = await fp32.step(data, SHAPE);
    await fp32.dispose();
    for (const scale of [1, 2 ** 10, 2 ** 16]) {
      const t = await trainer('fp16', () => scale);
      const r = await t.step(data, SHAPE);
      await t.dispose();
      expect(Math.abs(r.loss - ref.loss) / ref.loss, `loss at scale ${scale}`).toBeLessThan(1e-2);
      expect(Math.abs(r.gradNorm - ref.gradNorm) / ref.gradNorm, `grad norm at scale ${scale}`).toBeLessThan(3e-2);
    }
  });

  it('an overflowing scale gives a non-finite gradient norm and leaves parameters and moments exactly as they were', async () => {
    let scale = 2 ** 10;
    const t = await trainer('fp16', () => scale);
    const data = batch();
    await t.step(data, SHAPE); // moments are non-zero from here
    const p = await t.getParams();
    const { m, v } = await t.getOptimizerState();
    scale = 2 ** 100; // gradients beyond float16's 65504
    const r = await t.step(data, SHAPE);
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(Number.isFinite(r.gradNorm)).toBe(false);
    const p2 = await t.getParams();
    const after = await t.getOptimizerState();
    for (const [k, a] of p) {
      expect(p2.get(k), k).toEqual(a);
      expect(after.m.get(k), `m ${k}`).toEqual(m.get(k));
      expect(after.v.get(k), `v ${k}`).toEqual(v.get(k));
    }
    await t.dispose();
  });

  it('the fp16 encoder gives float32 embeddings within float16 rounding of the fp32 ones', async () => {
    const data = batch();
    const shape = { batch: 6, length: 8 };
    const { input_ids, attention_mask, token_type_ids } = data;
    const embed = async (precision: 'fp32' | 'fp16') => {
      const e = await createEncoder({ device: 'cpu', params: initialParams(), threads: 1, buildEncode: (s) => buildEncode(SPEC, s, precision) });
      const out = await e.embed({ input_ids, attention_mask, token_type_ids }, shape);
      await e.dispose();
      return out;
    };
    const [a, b] = [await embed('fp32'), await embed('fp16')];
    const d = SPEC.hidden;
    for (let r = 0; r < shape.batch; r++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += a[r * d + i] * b[r * d + i];
      expect(dot, `row ${r}`).toBeGreaterThan(0.999); // both normalised: cosine
      expect(dot, `row ${r}`).toBeLessThan(1 + 1e-6);
    }
    expect(b).not.toEqual(a); // it did run in float16
  });
});
