// Gemma 3's text stack (Gemma Team 2025, "Gemma 3 Technical Report") read as a bidirectional
// encoder (or a causal one: use_bidirectional_attention false), as EmbeddingGemma (Vera et al. 2025, "EmbeddingGemma: Powerful and Lightweight Text
// Representations") uses it. Token embeddings scaled by sqrt(hidden_size) (a constant in the
// graph's dtype, as the checkpoints multiply in the embedding's dtype); pre- and post-norm
// layers: x + norm_post_attn(attn(norm_in(x))), then x + norm_post_ffn(mlp(norm_pre_ffn(x)));
// every norm an RMSNorm that scales by (1 + w), computed as Qwen3's rmsNorm with weight w + 1;
// attention as Qwen3's (grouped-query, head_dim from the config, per-head q/k norms before
// rotary positions) scaled by query_pre_attn_scalar^-1/2 instead of head_dim^-1/2; a GeGLU MLP
// with tanh-approximated GELU, down(gelu_tanh(gate(x)) · up(x)); no biases; a final norm.
// Layers are 'full_attention' (rotary base rope_theta, every key) or 'sliding_attention'
// (rotary base rope_local_base_freq, keys nearby only).
//
// The bidirectional window: with use_bidirectional_attention, transformers' Gemma3TextConfig
// rewrites sliding_window to sliding_window // 2 + 1 and the mask keeps keys with
// |query - key| < that (the "Fix SWA" change, transformers PR 40700, which says the intended
// window is sliding_window // 2 on each side). So a query sees keys at distance <=
// floor(sliding_window / 2) both ways: EmbeddingGemma's 512 is 256 each way, the same rule as
// ModernBERT's local_attention. The config.json on disk holds the unhalved 512, which is what
// this reads. Without use_bidirectional_attention (a Gemma 3 text generator read for its hidden
// states) attention is causal, and a sliding layer's query sees itself and the
// sliding_window - 1 keys before it (transformers' sliding-window causal mask).
//
// Checkpoint keys (after the loader strips 'model.'): embed_tokens, layers.<i>.{input_layernorm,
// post_attention_layernorm, pre_feedforward_layernorm, post_feedforward_layernorm},
// layers.<i>.self_attn.{q,k,v,o}_proj, layers.<i>.self_attn.{q,k}_norm, layers.<i>.mlp.{gate,
// up,down}_proj, norm. The sentence-transformers Dense layers that follow the pooling are
// generic (encoder.ts sentenceEmbedding).

import { EngineError } from '../../../shared/errors.js';
import { type Tensor, hostTensor, ops as o } from '../graph/index.js';
import { type ConfigReader, type EncoderFamily, type SiteFn, paramCollector, refuseUnknownMath } from './family.js';
import { additiveMask, dropout, embedding, linear, maskFill } from './layers.js';
import { type Rotary, ropeThetaOf, rotaryTables } from './modernbert.js';
import { type Qwen3Options, attention, gqaLayerParams, rmsNorm } from './qwen3.js';

export interface Gemma3Options extends Qwen3Options {
  /** Per layer: true = global attention with ropeTheta; false = sliding window with localRopeTheta. */
  globalLayers: boolean[];
  /** sliding_window as config.json holds it: a query sees keys at distance <= floor(window / 2) (bidirectional), or the window - 1 keys before it (causal). */
  window: number;
  /** use_bidirectional_attention: every key (EmbeddingGemma); false: causal, keys at or before the query. */
  bidirectional: boolean;
  localRopeTheta: number;
  /** query_pre_attn_scalar: attention scores are q·kᵀ / sqrt(this). */
  queryScale: number;
}

/** Fields Gemma3TextConfig has that this encoder reads, or that do not change the encoder's math as handled below. */
const KNOWN = [
  'vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'head_dim',
  'hidden_activation', 'max_position_embeddings', 'rms_norm_eps', 'rope_theta', 'rope_local_base_freq', 'rope_scaling', 'rope_parameters',
  'attention_bias', 'attention_dropout', 'query_pre_attn_scalar', 'sliding_window', 'layer_types', 'sliding_window_pattern',
  '_sliding_window_pattern', 'use_bidirectional_attention', 'attn_logit_softcapping', 'pad_token_id', 'bos_token_id', 'eos_token_id',
  // Applied to the LM head's logits only, which an encoder never computes.
  'final_logit_softcapping',
  // Generation-time cache layout, not math.
  'cache_implementation',
];

function unsupported(msg: string, key: string): EngineError {
  return new EngineError('UNSUPPORTED', `config.json ${msg}`, { key });
}

/** Which layers attend globally: layer_types, else every sliding_window_pattern-th layer (counting from 1), transformers' default 6. */
function globalLayers(c: ConfigReader, layers: number): boolean[] {
  const types = c.raw.layer_types;
  if (types !== undefined && types !== null) {
    if (!Array.isArray(types) || types.length !== layers || !types.every((t) => t === 'full_attention' || t === 'sliding_attention')) {
      throw unsupported(`layer_types = ${JSON.stringify(types)} must list 'full_attention' or 'sliding_attention' for each of the ${layers} layers`, 'layer_types');
    }
    return types.map((t) => t === 'full_attention');
  }
  const key = c.raw.sliding_window_pattern !== undefined ? 'sliding_window_pattern' : '_sliding_window_pattern';
  const every = c.num(key, 6);
  if (every < 1) throw unsupported(`${key} = ${every} must be at least 1`, key);
  return Array.from({ length: layers }, (_, i) => (i + 1) % every === 0);
}

/** The two rotary bases: rope_theta / rope_local_base_freq, or newer configs' rope_parameters per layer type (default rope only). */
function ropeBases(c: ConfigReader): { global: number; local: number } {
  if (c.raw.rope_scaling !== undefined && c.raw.rope_scaling !== null) {
    throw unsupported(`rope_scaling = ${JSON.stringify(c.raw.rope_scaling)} is not supported: only plain rotary positions are (EmbeddingGemma has none). Use a checkpoint without rope_scaling`, 'rope_scaling');
  }
  const rp = c.raw.rope_parameters as Record<string, Record<string, unknown>> | undefined | null;
  if (rp === undefined || rp === null) return { global: c.num('rope_theta', 1_000_000, false), local: c.num('rope_local_base_freq', 10_000, false) };
  return { global: ropeThetaOf(rp, 'full_attention'), local: ropeThetaOf(rp, 'sliding_attention') };
}

export const GEMMA3: EncoderFamily = {
  fromConfig(c, st) {
    refuseUnknownMath(c, 'Gemma 3', KNOWN);
    const act = c.raw.hidden_activation ?? 'gelu_pytorch_tanh';
    if (act !== 'gelu_pytorch_tanh') throw unsupported(`hidden_activation ${JSON.stringify(act)} is not supported; Gemma 3 uses 'gelu_pytorch_tanh'`, 'hidden_activation');
    if (c.bool('attention_bias', false)) throw unsupported('attention_bias = true is not supported: Gemma 3 checkpoints have bias-free projections', 'attention_bias');
    const cap = c.raw.attn_logit_softcapping;
    if (cap !== undefined && cap !== null) throw unsupported(`attn_logit_softcapping = ${JSON.stringify(cap)} is not supported (Gemma 3 and EmbeddingGemma have null)`, 'attn_logit_softcapping');
    const layers = c.num('num_hidden_layers', 26);
    const hidden = c.num('hidden_size', 2304);
    const heads = c.num('num_attention_heads', 8);
    const kvHeads = c.num('num_key_value_heads', 4);
    const headDim = c.num('head_dim', 256);
    if (kvHeads < 1 || heads % kvHeads !== 0) {
      throw new EngineError('BAD_INPUT', `config.json num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}`, { key: 'num_key_value_heads' });
    }
    if (headDim < 2 || headDim % 2 !== 0) throw new EngineError('BAD_INPUT', `config.json head_dim ${headDim} must be even for rotary positions`, { key: 'head_dim' });
    const queryScale = c.num('query_pre_attn_scalar', 256, false);
    if (!(queryScale > 0)) throw new EngineError('BAD_INPUT', `config.json query_pre_attn_scalar ${queryScale} must be positive`, { key: 'query_pre_attn_scalar' });
    const global = globalLayers(c, layers);
    const window = c.num('sliding_window', 4096);
    if (!global.every(Boolean) && window < 1) throw new EngineError('BAD_INPUT', `config.json sliding_window ${window} must be at least 1`, { key: 'sliding_window' });
    const bases = ropeBases(c);
    return {
      arch: 'gemma3',
      vocabSize: c.num('vocab_size', 262_208),
      hidden,
      layers,
      heads,
      intermediate: c.num('intermediate_size', 9216),
      maxPositions: c.num('max_position_embeddings', 131_072),
      typeVocabSize: 0,
      layerNormEps: c.num('rms_norm_eps', 1e-6, false),
      padTokenId: c.num('pad_token_id', 0),
      pooling: st.pooling ?? 'mean',
      normalize: st.normalize ?? true,
      // Gemma 3 has no hidden dropout; 0 unless a training run asks for one (residual branches).
      hiddenDropout: 0,
      attentionDropout: c.num('attention_dropout', 0, false),
      gemma3: { kvHeads, headDim, ropeTheta: bases.global, localRopeTheta: bases.local, globalLayers: global, window, queryScale, bidirectional: c.bool('use_bidirectional_attention', false) },
    };
  },
  params(spec) {
    const g = spec.gemma3!;
    const d = spec.hidden;
    const { out, add } = paramCollector(d);
    add('embed_tokens.weight', [spec.vocabSize, d]);
    for (let i = 0; i < spec.layers; i++) {
      const k = `layers.${i}`;
      gqaLayerParams(add, k, spec, g);
      for (const n of ['input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm', 'post_feedforward_layernorm']) add(`${k}.${n}.weight`, [d]);
    }
    add('norm.weight', [d]);
    return out;
  },
  forward(spec, P, inputs, site) {
    const g = spec.gemma3!;
    const ids = inputs.inputIds;
    const [, l] = ids.shape;
    const eps = spec.layerNormEps;
    const norm = (x: Tensor, key: string) => rmsNorm(x, o.add(P(key), 1), eps); // x / rms(x) · (1 + w)
    const lin = (key: string) => ({ weight: P(`${key}.weight`) });
    let x = o.mul(embedding(P('embed_tokens.weight'), ids), Math.sqrt(spec.hidden)); // [B, L] -> [B, L, D], scaled
    const padMask = additiveMask(inputs.attentionMask, x.dtype); // [B, 1, 1, L]
    // Keys a query sees, as (before, after) distances (the window note at the top); only the kinds of layer the model has.
    const band = (before: number, after: number) => bandMask(padMask, spec.maxPositions, l, before, after); // [B, 1, L, L]
    const half = Math.floor(g.window / 2);
    const globalMask = !g.globalLayers.some(Boolean) ? null : g.bidirectional ? padMask : band(Infinity, 0);
    const localMask = g.globalLayers.every(Boolean) ? null : g.bidirectional ? band(half, half) : band(g.window - 1, 0);
    const tables = new Map<number, Rotary>();
    const rotary = (theta: number): Rotary => {
      if (!tables.has(theta)) tables.set(theta, rotaryTables(x, theta, g.headDim, spec.maxPositions, l));
      return tables.get(theta)!;
    };
    const variant = { scale: 1 / Math.sqrt(g.queryScale), norm };
    for (let i = 0; i < spec.layers; i++) {
      const k = `layers.${i}`;
      const global = g.globalLayers[i];
      const drop: SiteFn = (s, shape, p) => site(`dropout.${k}.${s}`, shape, p);
      const h = norm(x, `${k}.input_layernorm.weight`);
      const attn = attention(h, P, `${k}.self_attn`, spec.heads, g, eps, (global ? globalMask : localMask)!, rotary(global ? g.ropeTheta : g.localRopeTheta), spec.attentionDropout, drop, variant);
      x = o.add(x, dropout(norm(attn, `${k}.post_attention_layernorm.weight`), drop('attention.output', attn.shape, spec.hiddenDropout)));
      const m = norm(x, `${k}.pre_feedforward_layernorm.weight`);
      const act = o.mul(geluTanh(linear(m, lin(`${k}.mlp.gate_proj`))), linear(m, lin(`${k}.mlp.up_proj`))); // [B, L, F]
      const mlp = norm(linear(act, lin(`${k}.mlp.down_proj`)), `${k}.post_feedforward_layernorm.weight`); // [B, L, D]
      x = o.add(x, dropout(mlp, drop('mlp', mlp.shape, spec.hiddenDropout)));
    }
    return norm(x, 'norm.weight');
  },
  positionsNeeded: (_spec, length) => length,
};

/**
 * The padding mask [B, 1, 1, L] limited to keys from `before` positions before each query to
 * `after` positions after it: [B, 1, L, L], the float's minimum elsewhere (as HF masks them).
 * Positions come from a constant sliced to L, so an exported graph keeps its length axis dynamic.
 */
function bandMask(padMask: Tensor, maxPositions: number, l: number, before: number, after: number): Tensor {
  const g = padMask.graph;
  const n = Math.max(maxPositions, l);
  const pos = o.slice(g.constant(hostTensor(padMask.dtype, [n], Float32Array.from({ length: n }, (_, i) => i))), [0], [l], [0]); // [L]
  const ahead = o.sub(o.reshape(pos, [1, l]), o.reshape(pos, [l, 1])); // key - query: [L, L]
  const fill = maskFill(padMask.dtype);
  // Integer distances: < after + 0.5 is <= after; an infinite reach needs no test.
  const upTo = o.where(o.less(ahead, after + 0.5), padMask, fill); // [B, 1, L, L]
  return Number.isFinite(before) ? o.where(o.less(o.neg(ahead), before + 0.5), upTo, fill) : upTo;
}

/**
 * GELU with torch's tanh approximation ('gelu_pytorch_tanh'): 0.5·x·(1 + tanh(sqrt(2/π)·(x +
 * 0.044715·x³))), from primitives (Tanh has its gradient rule; no fused op is needed for one MLP
 * activation per layer).
 */
export function geluTanh(x: Tensor): Tensor {
  const inner = o.mul(o.add(x, o.mul(o.mul(o.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
  return o.mul(o.mul(x, 0.5), o.add(o.tanh(inner), 1));
}
