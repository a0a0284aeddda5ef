// LoRA in the training step: the adapters' gradients against the plain step's weight gradient
// (dL/dB = s·dL/dW·Aᵀ, dL/dA = s·Bᵀ·dL/dW, products in float64 here), the default targets per
// family, and the trainer: base weights unchanged and without moments, bit-exact resume.
import { afterEach, describe, expect, it } from 'vitest';
import { type HostTensor, serialize } from '../graph/index.js';
import { mulberry32 } from '../../../shared/random.js';
import { createSession } from '../runtime/session.js';
import { type Trainer, createTrainer } from '../runtime/trainer.js';
import { flatFeeds, frozenName } from '../runtime/contract.js';
import { type EncoderSpec, paramSpecs } from './encoder.js';
import { buildTrainStep, trainStepGraph } from './graphs.js';
import { defaultLoraTargets, loraSpecOf, loraStep, mergedParams } from './lora-step.js';
import { initialAdapters } from '../train/lora-adapter.js';
import type { LoraSpec } from './lora.js';

const SPEC: EncoderSpec = {
  arch: 'bert', vocabSize: 50, hidden: 16, layers: 1, heads: 2, intermediate: 32, maxPositions: 16, typeVocabSize: 2,
  layerNormEps: 1e-12, padTokenId: 0, pooling: 'mean', normalize: true, hiddenDropout: 0, attentionDropout: 0,
};
const B = 3;
const L = 6;
const BASE = paramSpecs(SPEC);
const LORA: LoraSpec = loraSpecOf({ rank: 2, alpha: 6, dropout: 0, targets: null }, BASE);
const STEP = loraStep(BASE, LORA);

function baseValues(): Map<string, Float32Array> {
  const random = mulberry32(7);
  return new Map(BASE.map((p) => {
    const n = p.shape.reduce((a, b) => a * b, 1);
    return [p.key, Float32Array.from({ length: n }, () => (p.key.includes('LayerNorm.weight') ? 1 : 0) + (random() - 0.5) * 0.2)];
  }));
}

/** Adapters with B nonzero too (PEFT's start has B = 0, which would hide half of the check). */
function adapterValues(): Map<string, Float32Array> {
  const random = mulberry32(11);
  return new Map(STEP.params.map((p) => [p.key, Float32Array.from({ length: p.shape[0] * p.shape[1] }, () => (random() - 0.5) * 0.4)]));
}

function data(seed: number): Record<string, Int32Array> {
  const random = mulberry32(seed);
  const n = 2 * B;
  return {
    input_ids: Int32Array.from({ length: n * L }, (_, i) => (i % L === 0 ? 2 : 5 + Math.floor(random() * 40))),
    attention_mask: new Int32Array(n * L).fill(1),
    token_type_ids: new Int32Array(n * L),
  };
}

const scalars = (): Record<string, HostTensor> => ({
  adam_step_size: { dtype: 'float32', shape: [], data: new Float32Array([1e-3]) },
  adam_inv_bias2: { dtype: 'float32', shape: [], data: new Float32Array([1]) },
  decay_factor: { dtype: 'float32', shape: [], data: new Float32Array([1]) },
});

async function runGraph(graph: Parameters<typeof serialize>[0], feeds: Record<string, HostTensor>, fetch: string[]) {
  const s = await createSession(serialize(graph), { device: 'cpu', threads: 1 });
  try {
    return await s.run(feeds, fetch);
  } finally {
    await s.release();
  }
}

const asFeeds = (d: Record<string, Int32Array>): Record<string, HostTensor> =>
  Object.fromEntries(Object.entries(d).map(([k, a]) => [k, { dtype: 'int32', shape: [2 * B, L], data: a } as HostTensor]));

describe('LoRA step', () => {
  it('targets every linear of a layer by default, in each family\'s own names', () => {
    expect(defaultLoraTargets(BASE).sort()).toEqual(['dense', 'key', 'query', 'value']);
    const modern: EncoderSpec = {
      ...SPEC, arch: 'modernbert', typeVocabSize: 0, layers: 2,
      modernBert: { globalLayers: [true, false], window: 2, globalRopeTheta: 100, localRopeTheta: 10, normBias: false, attentionBias: false, mlpBias: false },
    };
    expect(defaultLoraTargets(paramSpecs(modern)).sort()).toEqual(['Wi', 'Wo', 'Wqkv']);
    const mpnet: EncoderSpec = { ...SPEC, arch: 'mpnet', typeVocabSize: 0, padTokenId: 1, relativeBuckets: 8 };
    expect(defaultLoraTargets(paramSpecs(mpnet)).sort()).toEqual(['dense', 'k', 'o', 'q', 'v']);
    expect(STEP.adapters.map((a) => a.weight)).not.toContain('embeddings.word_embeddings.weight');
    expect(STEP.frozen).toHaveLength(BASE.length);
    expect(() => loraSpecOf({ rank: 4, alpha: null, dropout: 0.1, targets: null }, BASE)).toThrow(/lora-dropout/);
    expect(loraSpecOf({ rank: 4, alpha: null, dropout: 0, targets: null }, BASE).alpha).toBe(8);
  });

  it('gives A and B the gradients the plain step\'s weight gradient implies', async () => {
    const W = baseValues();
    const AB = adapterValues();
    const merged = mergedParams(new Map([...W, ...AB]), STEP, LORA); // W' = W + s·B·A
    const shape = { queries: B, negativesPerQuery: 0, length: L };
    const plain = trainStepGraph(SPEC, shape, { exposeGradients: true, maxGradNorm: Infinity });
    const plainOut = await runGraph(plain.graph, { ...flatFeeds(BASE, { p: merged, m: merged, v: merged }), ...scalars(), ...asFeeds(data(3)) }, ['loss', ...STEP.adapters.map((a) => `grad.${a.weight}`)]);
    const lora = trainStepGraph(SPEC, shape, { exposeGradients: true, maxGradNorm: Infinity, lora: LORA });
    const frozen = Object.fromEntries(BASE.map((p) => [frozenName(p.key), { dtype: 'float32', shape: p.shape, data: W.get(p.key)! } as HostTensor]));
    const loraOut = await runGraph(lora.graph, { ...flatFeeds(STEP.params, { p: AB, m: AB, v: AB }), ...frozen, ...scalars(), ...asFeeds(data(3)) }, ['loss', ...STEP.params.map((p) => `grad.${p.key}`)]);
    expect(loraOut.loss.data[0]).toBeCloseTo(plainOut.loss.data[0] as number, 5);
    const s = LORA.alpha / LORA.rank;
    const r = LORA.rank;
    let worst = 0;
    let scale = 0;
    for (const ad of STEP.adapters) {
      const [out, inp] = BASE.find((p) => p.key === ad.weight)!.shape;
      const gW = plainOut[`grad.${ad.weight}`].data as Float32Array;
      const A = AB.get(ad.a)!;
      const Bm = AB.get(ad.b)!;
      const gA = loraOut[`grad.${ad.a}`].data as Float32Array;
      const gB = loraOut[`grad.${ad.b}`].data as Float32Array;
      for (let i = 0; i < out; i++) for (let k = 0; k < r; k++) {
        let want = 0; // s · Σ_j gW[i, j] A[k, j]
        for (let j = 0; j < inp; j++) want += gW[i * inp + j] * A[k * inp + j];
        worst = Math.max(worst, Math.abs(s * want - gB[i * r + k]));
        scale = Math.max(scale, Math.abs(s * want));
      }
      for (let k = 0; k < r; k++) for (let j = 0; j < inp; j++) {
        let want = 0; // s · Σ_i B[i, k] gW[i, j]
        for (let i = 0; i < out; i++) want += Bm[i * r + k] * gW[i * inp + j];
        worst = Math.max(worst, Math.abs(s * want - gA[k * inp + j]));
        scale = Math.max(scale, Math.abs(s * want));
      }
    }
    expect(scale).toBeGreaterThan(1e-3); // the gradients are not trivially zero
    expect(worst).toBeLessThan(1e-4 * scale);
  });
});

describe('LoRA trainer (CPU EP)', () => {
  const trainers: Trainer[] = [];
  afterEach(async () => {
    await Promise.all(trainers.splice(0).map((t) => t.dispose()));
  });
  const start = () => new Map([...baseValues(), ...initialAdapters(STEP, 42)]);
  const make = async (initial: Map<string, Float32Array>) => {
    const t = await createTrainer({
      device: 'cpu', initialParams: initial, lr: () => 1e-2, seed: 5, deterministic: true, threads: 1,
      buildStep: (shape) => buildTrainStep(SPEC, { queries: shape.batch, negativesPerQuery: 0, length: shape.length }, { lora: LORA }),
    });
    trainers.push(t);
    return t;
  };
  const shape = { batch: B, length: L };

  it('trains only the adapters, keeps no moments for the base weights, and resumes bit-exactly', async () => {
    const init = start();
    const full = await make(init);
    for (let i = 0; i < 4; i++) await full.step(data(20 + i), shape);
    const after = await full.getParams();
    for (const p of BASE) expect(after.get(p.key)).toEqual(init.get(p.key)); // frozen
    const moved = STEP.adapters.some((a) => after.get(a.b)!.some((x) => x !== 0));
    expect(moved).toBe(true); // B started at zero and trained
    const opt = await full.getOptimizerState();
    expect([...opt.m.keys()].sort()).toEqual(STEP.params.map((p) => p.key).sort());

    const first = await make(start());
    for (let i = 0; i < 2; i++) await first.step(data(20 + i), shape);
    const params = await first.getParams();
    const state = await first.getOptimizerState();
    const resumed = await make(baseValues()); // a checkpoint's parameters carry the adapters back in
    await resumed.setParams(params);
    await resumed.setOptimizerState(state);
    for (let i = 2; i < 4; i++) await resumed.step(data(20 + i), shape);
    const again = await resumed.getParams();
    for (const [k, v] of after) expect(again.get(k), k).toEqual(v);
  });
});
