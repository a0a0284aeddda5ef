// Qwen3 beyond the parity fixture: the published Qwen3-Embedding-0.6B config read as its model
// card says (GQA 16 / 8 heads of 128 on width 1024, 596 M parameters), config fields that would
// change the math refused by name, and last-token pooling that gives left-padded rows the
// embeddings the float64 reference computed from the same rows right-padded.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../shared/errors.js';
import { hostTensor } from '../graph/index.js';
import { parseModelConfig } from '../model/config.js';
import { checkConfigAgainstWeights } from '../model/config-check.js';
import { parseSafetensors, toFloat32 } from '../model/safetensors.js';
import { createSession } from '../runtime/session.js';
import { paramSpecs, specFromHfConfig } from './encoder.js';
import { buildEncode } from './graphs.js';
import { readJson as json } from '../../../../test/support/torch-fixture.js';

// Qwen3-Embedding-0.6B's config.json as published.
const QWEN3_EMBEDDING_06B = {
  architectures: ['Qwen3ForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151643, head_dim: 128,
  hidden_act: 'silu', hidden_size: 1024, initializer_range: 0.02, intermediate_size: 3072, max_position_embeddings: 32768, max_window_layers: 28,
  model_type: 'qwen3', num_attention_heads: 16, num_hidden_layers: 28, num_key_value_heads: 8, rms_norm_eps: 1e-6, rope_scaling: null,
  rope_theta: 1000000, sliding_window: null, tie_word_embeddings: true, torch_dtype: 'bfloat16', transformers_version: '4.51.3', use_cache: true,
  use_sliding_window: false, vocab_size: 151669,
};
const FIXTURE = 'test/fixtures/tiny-qwen3-step';

function refused(config: Record<string, unknown>): EngineError {
  try {
    specFromHfConfig(config);
  } catch (e) {
    return e as EngineError;
  }
  throw new Error('not refused');
}

describe('Qwen3 configs', () => {
  it('read Qwen3-Embedding-0.6B: GQA 16 / 8 heads of width 128 on hidden 1024, last-token pooling, 596 M parameters', () => {
    const spec = specFromHfConfig(QWEN3_EMBEDDING_06B);
    expect(spec).toMatchObject({ arch: 'qwen3', hidden: 1024, heads: 16, layers: 28, padTokenId: 151643, pooling: 'lasttoken', layerNormEps: 1e-6 });
    expect(spec.qwen3).toEqual({ kvHeads: 8, headDim: 128, ropeTheta: 1000000 });
    const params = paramSpecs(spec);
    const count = params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    expect(Math.round(count / 1e6)).toBe(596); // the model card's "0.6B" (596 M on the hub page)
    expect(params.find((p) => p.key === 'layers.0.self_attn.q_proj.weight')?.shape).toEqual([2048, 1024]); // 16 × 128 ≠ 1024
    expect(params.find((p) => p.key === 'layers.0.self_attn.k_proj.weight')?.shape).toEqual([1024, 1024]); // 8 × 128
    expect(params.filter((p) => !p.decay).every((p) => /norm\.weight$/.test(p.key))).toBe(true);
  });

  it('refuse the fields that would change the math, by name', () => {
    for (const [extra, name] of [
      [{ rope_scaling: { rope_type: 'yarn', factor: 4 } }, 'rope_scaling'],
      [{ use_sliding_window: true, sliding_window: 4096 }, 'sliding_window'],
      [{ layer_types: ['full_attention', 'sliding_attention'] }, 'layer_types'],
      [{ rope_parameters: { rope_type: 'linear', rope_theta: 1e6, factor: 2 } }, 'rope_parameters'],
      [{ hidden_act: 'gelu' }, 'hidden_act'],
      [{ attention_bias: true }, 'attention_bias'],
      [{ partial_rotary_factor: 0.5 }, 'partial_rotary_factor'],
      [{ attn_logit_softcapping: 50 }, 'attn_logit_softcapping'],
      [{ num_key_value_heads: 3 }, 'num_key_value_heads'],
    ] as const) {
      expect(refused({ ...QWEN3_EMBEDDING_06B, ...extra }).message, name).toContain(name);
    }
    // The newer spelling of the same plain rotary base is read, not refused.
    const { rope_theta: _t, ...rest } = QWEN3_EMBEDDING_06B;
    expect(specFromHfConfig({ ...rest, rope_parameters: { rope_type: 'default', rope_theta: 1000000 } }).qwen3?.ropeTheta).toBe(1000000);
  });
});

describe('Qwen3 last-token pooling', () => {
  it('embeds left-padded rows as the reference embeds them right-padded (causal attention + rotary: padding is invisible)', async () => {
    const expected = json(`${FIXTURE}/expected.json`);
    const batches = json(`${FIXTURE}/batches.json`);
    const spec = specFromHfConfig(json(`${FIXTURE}/config.json`), { pooling: 'lasttoken', normalize: true });
    const file = parseSafetensors(new Uint8Array(readFileSync(`${FIXTURE}/params.safetensors`)));
    const rows = ['queries', 'positives', 'negatives'].flatMap((r) => batches.steps[0][r].input_ids as number[][]);
    const masks = ['queries', 'positives', 'negatives'].flatMap((r) => batches.steps[0][r].attention_mask as number[][]);
    // Move each row's padding to the front; rotary positions then differ by a constant shift per
    // row, which q·k does not see, and causal attention keeps the padding out of every real token.
    const left = rows.map((r, i) => [...r.filter((_, j) => !masks[i][j]), ...r.filter((_, j) => masks[i][j])]);
    const leftMasks = masks.map((m) => [...m.filter((v) => !v), ...m.filter((v) => v)]);
    expect(leftMasks.some((m) => m[0] === 0)).toBe(true);
    const enc = buildEncode(spec, { batch: rows.length, length: rows[0].length });
    const session = await createSession(enc.model, { device: 'cpu', threads: 1 });
    const out = await session.run({
      ...Object.fromEntries(enc.params.map((p) => [`p.${p.key}`, hostTensor('float32', p.shape, toFloat32(file.tensors.get(p.key)!, p.key))])),
      input_ids: hostTensor('int32', [rows.length, rows[0].length], left.flat()),
      attention_mask: hostTensor('int32', [rows.length, rows[0].length], leftMasks.flat()),
    });
    await session.release();
    const got = out.sentence_embedding.data as Float32Array;
    const want: number[][] = expected.embeddings_step1;
    const d = want[0].length;
    let worst = 1;
    want.forEach((row, r) => {
      let ab = 0, aa = 0, bb = 0;
      row.forEach((w, j) => ([ab, aa, bb] = [ab + w * got[r * d + j], aa + got[r * d + j] ** 2, bb + w * w]));
      worst = Math.min(worst, ab / Math.sqrt(aa * bb));
    });
    console.log('tiny-qwen3 left padding vs reference (right padding): min cos', worst);
    expect(worst).toBeGreaterThanOrEqual(0.99999);
  });
});

describe('Qwen3 config against its weights', () => {
  it('names vocab_size, num_hidden_layers and intermediate_size when the tensors disagree', () => {
    const raw = json(`${FIXTURE}/config.json`);
    const shapes = new Map(paramSpecs(specFromHfConfig(raw)).map((p) => [`model.${p.key}`, p.shape]));
    const check = (over: Record<string, unknown>) => () => checkConfigAgainstWeights(parseModelConfig({ ...raw, ...over }), shapes, 'model.', '/m', 'model.safetensors');
    expect(check({})).not.toThrow();
    expect(check({ vocab_size: 120 })).toThrow(/vocab_size is 120 but model\.safetensors holds 100 token embeddings/);
    expect(check({ num_hidden_layers: 3 })).toThrow(/num_hidden_layers is 3 .* 2 layers/);
    expect(check({ intermediate_size: 64 })).toThrow(/intermediate_size is 64 .* width 48/);
  });
});
