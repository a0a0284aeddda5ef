// The config-driven encoder: HF config parsing, parameter lists, the graphs' declared inputs,
// and finite differences through a whole tiny encoder (embeddings, positions, layers, pooling).

import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../shared/errors.js';
import type { Tensor } from '../graph/index.js';
import { type GradInput, checkGradients } from '../../../../test/support/grad-check.js';
import { type EncoderSpec, dataInputs, encoderForward, paramSpecs, sentenceEmbedding, specFromHfConfig } from './encoder.js';
import { trainStepGraph } from './graphs.js';
import { MINILM_CONFIG } from '../../../../test/support/tiny-step.js';


describe('specFromHfConfig', () => {
  it('reads a BertModel config (MiniLM)', () => {
    expect(specFromHfConfig(MINILM_CONFIG)).toEqual({
      arch: 'bert',
      vocabSize: 30522,
      hidden: 384,
      layers: 6,
      heads: 12,
      intermediate: 1536,
      maxPositions: 512,
      typeVocabSize: 2,
      layerNormEps: 1e-12,
      padTokenId: 0,
      pooling: 'mean',
      normalize: true,
      hiddenDropout: 0.1,
      attentionDropout: 0.1,
    });
    expect(specFromHfConfig(MINILM_CONFIG, { pooling: 'cls', normalize: false })).toMatchObject({ pooling: 'cls', normalize: false });
  });

  it('reads XLM-R (multilingual E5) as the roberta architecture', () => {
    const spec = specFromHfConfig({ ...MINILM_CONFIG, model_type: 'xlm-roberta', vocab_size: 250037, max_position_embeddings: 514, type_vocab_size: 1, layer_norm_eps: 1e-5, pad_token_id: 1 });
    expect(spec).toMatchObject({ arch: 'roberta', typeVocabSize: 1, padTokenId: 1, maxPositions: 514 });
    expect(dataInputs(spec, 2, 8).map((d) => d.name)).toEqual(['input_ids', 'attention_mask']);
  });

  it('rejects unknown architectures and activations, naming what is supported', () => {
    const err = (() => {
      try {
        specFromHfConfig({ ...MINILM_CONFIG, model_type: 'distilbert' });
      } catch (e) {
        return e as EngineError;
      }
    })();
    expect(err).toBeInstanceOf(EngineError);
    expect(err?.code).toBe('BAD_INPUT');
    expect(err?.message).toMatch(/distilbert.*bert, roberta, xlm-roberta/);
    expect(() => specFromHfConfig({ ...MINILM_CONFIG, hidden_act: 'gelu_new' })).toThrow(/gelu_new/);
    expect(() => specFromHfConfig({ ...MINILM_CONFIG, num_attention_heads: 5 })).toThrow(/divisible/);
  });

  it('lists HF keys with decay flags; the MiniLM encoder has 22.57 M parameters (no pooler)', () => {
    const ps = paramSpecs(specFromHfConfig(MINILM_CONFIG));
    expect(ps).toHaveLength(5 + 6 * 16);
    expect(ps.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0)).toBe(22_565_376);
    const flags = Object.fromEntries(ps.map((p) => [p.key, p.decay]));
    expect(flags['embeddings.word_embeddings.weight']).toBe(true);
    expect(flags['encoder.layer.3.attention.self.query.weight']).toBe(true);
    expect(flags['encoder.layer.3.attention.self.query.bias']).toBe(false);
    expect(flags['encoder.layer.3.output.LayerNorm.weight']).toBe(false);
    expect(flags['embeddings.LayerNorm.weight']).toBe(false);
  });

  it('declares one dropout site per HF site (masks from one key input), and none at p = 0', () => {
    const spec = { ...specFromHfConfig(MINILM_CONFIG), layers: 2 };
    const shape = { queries: 2, negativesPerQuery: 1, length: 8 };
    const { dropout, graph } = trainStepGraph(spec, shape);
    expect(dropout.map((d) => d.name)).toEqual([
      'dropout.embeddings',
      ...[0, 1].flatMap((i) => ['attention.probs', 'attention.output', 'output'].map((s) => `dropout.encoder.layer.${i}.${s}`)),
    ]);
    expect(dropout[1]).toEqual({ name: 'dropout.encoder.layer.0.attention.probs', shape: [6, 12, 8, 8], p: 0.1 }); // S = 2·(2+1)
    expect(dropout[0]).toEqual({ name: 'dropout.embeddings', shape: [48, 384], p: 0.1 }); // [S·L, D] rows: the encoder's layout
    // Masks come from the graph's hash of one int32 key (device-dropout.ts): no mask inputs.
    expect(graph.inputs.filter((t) => t.dtype === 'bool' || t.name.startsWith('dropout'))
      .map((t) => `${t.name} ${t.dtype}`)).toEqual(['dropout_key int32']);
    const wheres = graph.nodes.filter((n) => n.op === 'Where' && n.name.startsWith('encoder/'));
    expect(wheres).toHaveLength(dropout.length);
    expect(trainStepGraph({ ...spec, hiddenDropout: 0, attentionDropout: 0 }, shape).dropout).toEqual([]);
    // 'host' masks (the CPU's choice): a bool input per site, fed from JS, and no key.
    const host = trainStepGraph(spec, shape, { dropoutMasks: 'host' });
    expect(host.dropoutInGraph).toBe(false);
    expect(host.graph.inputs.filter((t) => t.dtype === 'bool').map((t) => t.name)).toEqual(dropout.map((d) => d.name));
    expect(host.graph.inputs.some((t) => t.name === 'dropout_key')).toBe(false);
  });

  it('refuses lengths past the position table (RoBERTa positions start after padding_idx)', () => {
    const spec = specFromHfConfig({ ...MINILM_CONFIG, model_type: 'roberta', max_position_embeddings: 20, pad_token_id: 1 });
    expect(() => trainStepGraph({ ...spec, layers: 1 }, { queries: 1, negativesPerQuery: 0, length: 18 })).not.toThrow();
    expect(() => trainStepGraph(spec, { queries: 1, negativesPerQuery: 0, length: 19 })).toThrow(/at most 18/);
  });
});

describe('a whole tiny encoder passes finite differences in float64', () => {
  const tiny = (arch: EncoderSpec['arch'], over: Partial<EncoderSpec> = {}): EncoderSpec => ({
    arch,
    vocabSize: 7,
    hidden: 4,
    layers: 1,
    heads: 2,
    intermediate: 6,
    maxPositions: 6,
    typeVocabSize: arch === 'bert' ? 2 : arch === 'roberta' ? 1 : 0,
    layerNormEps: 1e-5,
    padTokenId: arch === 'bert' || arch === 'modernbert' ? 0 : 1,
    pooling: 'mean',
    normalize: true,
    hiddenDropout: 0,
    attentionDropout: 0,
    ...over,
  });
  const cases: [string, EncoderSpec, number[], number[]?][] = [
    // RoBERTa: pad id 1 on the padded tail; positions computed in the graph.
    ['roberta, mean pooling, normalised', tiny('roberta'), [0, 3, 4, 2, 0, 5, 2, 1]],
    ['bert, cls pooling, token types, unnormalised', tiny('bert', { pooling: 'cls', normalize: false }), [2, 3, 3, 4, 2, 6, 5, 0]],
    // MPNet: the relative-position bias table gets its gradient through the shared [B, H, L, L] sum.
    ['mpnet, relative-position bias', tiny('mpnet', { layers: 2, relativeBuckets: 8 }), [0, 3, 4, 2, 0, 5, 2, 1]],
    // ModernBERT: a global layer, then a sliding-window one (window 2: distance <= 1), rotary
    // positions with two bases, GeGLU; bias-free, and with every bias.
    ...[false, true].map((bias): [string, EncoderSpec, number[]] => [
      `modernbert, global + local layers, ${bias ? 'with' : 'without'} biases`,
      tiny('modernbert', {
        layers: 2,
        maxPositions: 8,
        modernBert: { globalLayers: [true, false], window: 2, globalRopeTheta: 100, localRopeTheta: 10, normBias: bias, attentionBias: bias, mlpBias: bias },
      }),
      [1, 3, 4, 2, 1, 5, 2, 0],
    ]),
    // Qwen3: causal attention, RMSNorm, q/k norms, rotary, 4 query heads on 2 kv heads of width
    // 4 (≠ hidden / heads = 1), SwiGLU, last-token pooling; right padding, then left padding.
    ...[[1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 0, 0, 1, 1]].map((mask): [string, EncoderSpec, number[], number[]] => [
      `qwen3, causal GQA, last-token pooling, ${mask[4] ? 'right' : 'left'} padding`,
      tiny('qwen3', { layers: 2, heads: 4, maxPositions: 8, pooling: 'lasttoken', padTokenId: 0, qwen3: { kvHeads: 2, headDim: 4, ropeTheta: 100 } }),
      mask[4] ? [1, 3, 4, 2, 1, 5, 2, 0] : [1, 3, 4, 2, 0, 0, 2, 5],
      mask,
    ]),
  ];
  for (const [name, spec, ids, mask] of cases) {
    it(name, async () => {
      const params = paramSpecs(spec);
      const inputs: GradInput[] = [
        ...params.map((p): GradInput => ({ name: p.key, shape: p.shape, range: /norm\.weight/i.test(p.key) ? [0.8, 1.2] : [-0.5, 0.5] })),
        { name: 'input_ids', shape: [2, 4], dtype: 'int32', values: ids },
        { name: 'attention_mask', shape: [2, 4], dtype: 'int32', values: mask ?? [1, 1, 1, 1, 1, 1, 1, 0] },
        ...(spec.typeVocabSize > 1 ? [{ name: 'token_type_ids', shape: [2, 4], dtype: 'int32', values: [0, 0, 1, 1, 0, 1, 1, 0] } as GradInput] : []),
      ];
      const r = await checkGradients(inputs, (...ts: Tensor[]) => {
        const t = Object.fromEntries(inputs.map((i, k) => [i.name, ts[k]]));
        const h = encoderForward(spec, t, { inputIds: t.input_ids, attentionMask: t.attention_mask, tokenTypeIds: t.token_type_ids });
        return sentenceEmbedding(spec, h, t.attention_mask);
      });
      console.log(`FD tiny encoder (${name})`, r.maxError, 'nodes', r.nodes);
      expect(r.maxError).toBeLessThan(1e-6);
    });
  }
});
