// Qwen3 (Qwen3-Embedding-0.6B / 4B / 8B) as an encoder: a decoder stack read for its hidden
// states. Pre-norm layers with RMSNorm (x / sqrt(mean(x²) + eps) · w: no mean subtraction, no
// bias) before attention, before the MLP and at the end; causal attention (a token sees itself
// and earlier tokens) on top of the padding mask; rotary positions (rope_theta) applied after a
// per-head RMSNorm of q and k over head_dim; grouped-query attention (num_key_value_heads kv
// heads, each serving heads / kv_heads consecutive query heads); head_dim from the config, so
// heads · head_dim may differ from hidden_size; a SwiGLU MLP, down(silu(gate(x)) · up(x)); no
// biases anywhere. The sentence embedding is the last real token's state (pooling.ts lastTokenPool).
// Checkpoint keys (after the loader strips 'model.'): embed_tokens, layers.<i>.input_layernorm,
// layers.<i>.self_attn.{q,k,v,o}_proj, layers.<i>.self_attn.{q,k}_norm,
// layers.<i>.post_attention_layernorm, layers.<i>.mlp.{gate,up,down}_proj, norm. The LM head
// (tied or not) is not part of the encoder.

import { EngineError } from '../../../shared/errors.js';
import { type Tensor, hostTensor, ops as o } from '../graph/index.js';
import { type ConfigReader, type EncoderFamily, type EncoderSpec, type SiteFn, paramCollector, refuseUnknownMath } from './family.js';
import { additiveMask, dropout, embedding, linear, maskFill } from './layers.js';
import { type Rotary, rotate, rotaryTables } from './modernbert.js';

export interface Qwen3Options {
  /** num_key_value_heads: k and v heads; each serves heads / kvHeads query heads. */
  kvHeads: number;
  /** head_dim: the width of one head (not necessarily hidden / heads). */
  headDim: number;
  ropeTheta: number;
}

/** Fields Qwen3Config has that this encoder reads, or that do not change the encoder's math as handled below. */
const KNOWN = [
  'vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'head_dim', 'hidden_act',
  'max_position_embeddings', 'rms_norm_eps', 'rope_theta', 'rope_scaling', 'rope_parameters', 'attention_bias', 'attention_dropout',
  'use_sliding_window', 'sliding_window', 'max_window_layers', 'layer_types', 'pad_token_id', 'bos_token_id', 'eos_token_id',
];

function unsupported(msg: string, key: string): EngineError {
  return new EngineError('UNSUPPORTED', `config.json ${msg}`, { key });
}

function ropeTheta(c: ConfigReader): number {
  const scaling = c.raw.rope_scaling;
  if (scaling !== undefined && scaling !== null) {
    throw unsupported(`rope_scaling = ${JSON.stringify(scaling)} is not supported: only plain rotary positions are. Use a checkpoint without rope_scaling`, 'rope_scaling');
  }
  const rp = c.raw.rope_parameters as Record<string, unknown> | undefined | null;
  if (rp !== undefined && rp !== null) {
    if (typeof rp.rope_theta !== 'number' || (rp.rope_type ?? 'default') !== 'default' || Object.keys(rp).some((k) => k !== 'rope_theta' && k !== 'rope_type')) {
      throw unsupported(`rope_parameters = ${JSON.stringify(rp)} is not supported: only {rope_type: 'default', rope_theta}`, 'rope_parameters');
    }
    return rp.rope_theta;
  }
  return c.num('rope_theta', 10000, false);
}

export const QWEN3: EncoderFamily = {
  fromConfig(c, st) {
    refuseUnknownMath(c, 'Qwen3', KNOWN);
    const act = c.raw.hidden_act ?? 'silu';
    if (act !== 'silu') throw unsupported(`hidden_act ${JSON.stringify(act)} is not supported; Qwen3 uses 'silu'`, 'hidden_act');
    if (c.bool('attention_bias', false)) throw unsupported('attention_bias = true is not supported: Qwen3 checkpoints have bias-free projections', 'attention_bias');
    const layers = c.num('num_hidden_layers', 28);
    // Sliding-window layers exist only where use_sliding_window is on; sliding_window alone is inert.
    if (c.bool('use_sliding_window', false)) {
      throw unsupported(`use_sliding_window = true (sliding_window = ${JSON.stringify(c.raw.sliding_window)}) is not supported: only full causal attention is`, 'sliding_window');
    }
    const types = c.raw.layer_types;
    if (types !== undefined && types !== null && (!Array.isArray(types) || !types.every((t) => t === 'full_attention'))) {
      throw unsupported(`layer_types = ${JSON.stringify(types)} is not supported: every layer must be 'full_attention'`, 'layer_types');
    }
    const hidden = c.num('hidden_size', 4096);
    const heads = c.num('num_attention_heads', 32);
    const kvHeads = c.num('num_key_value_heads', heads);
    const headDim = c.num('head_dim', heads > 0 ? Math.floor(hidden / heads) : 0);
    if (kvHeads < 1 || heads % kvHeads !== 0) {
      throw new EngineError('BAD_INPUT', `config.json num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}`, { key: 'num_key_value_heads' });
    }
    if (headDim < 2 || headDim % 2 !== 0) throw new EngineError('BAD_INPUT', `config.json head_dim ${headDim} must be even for rotary positions`, { key: 'head_dim' });
    const eos = c.raw.eos_token_id;
    return {
      arch: 'qwen3',
      vocabSize: c.num('vocab_size', 151936),
      hidden,
      layers,
      heads,
      intermediate: c.num('intermediate_size', 22016),
      maxPositions: c.num('max_position_embeddings', 32768),
      typeVocabSize: 0,
      layerNormEps: c.num('rms_norm_eps', 1e-6, false),
      // Qwen3 pads with <|endoftext|>, its eos token (configs often carry no pad_token_id).
      padTokenId: c.num('pad_token_id', typeof eos === 'number' ? eos : 151643),
      pooling: st.pooling ?? 'lasttoken',
      normalize: st.normalize ?? true,
      // Qwen3 has no hidden dropout; 0 unless a training run asks for one (residual branches).
      hiddenDropout: 0,
      attentionDropout: c.num('attention_dropout', 0, false),
      qwen3: { kvHeads, headDim, ropeTheta: ropeTheta(c) },
    };
  },
  params(spec) {
    const q = spec.qwen3!;
    const d = spec.hidden;
    const { out, add } = paramCollector(d);
    add('embed_tokens.weight', [spec.vocabSize, d]);
    for (let i = 0; i < spec.layers; i++) {
      const k = `layers.${i}`;
      gqaLayerParams(add, k, spec, q);
      add(`${k}.input_layernorm.weight`, [d]);
      add(`${k}.post_attention_layernorm.weight`, [d]);
    }
    add('norm.weight', [d]);
    return out;
  },
  forward(spec, P, inputs, site) {
    const q = spec.qwen3!;
    const ids = inputs.inputIds;
    const [, l] = ids.shape;
    const eps = spec.layerNormEps;
    const lin = (key: string) => ({ weight: P(`${key}.weight`) });
    let x = embedding(P('embed_tokens.weight'), ids); // [B, L] -> [B, L, D]
    const mask = causalMask(additiveMask(inputs.attentionMask, x.dtype), spec.maxPositions, l); // [B, 1, L, L]
    const rot = rotaryTables(x, q.ropeTheta, q.headDim, spec.maxPositions, l);
    for (let i = 0; i < spec.layers; i++) {
      const k = `layers.${i}`;
      const drop: SiteFn = (s, shape, p) => site(`dropout.${k}.${s}`, shape, p);
      const attn = attention(rmsNorm(x, P(`${k}.input_layernorm.weight`), eps), P, `${k}.self_attn`, spec.heads, q, eps, mask, rot, spec.attentionDropout, drop);
      x = o.add(x, dropout(attn, drop('attention.output', attn.shape, spec.hiddenDropout)));
      const h = rmsNorm(x, P(`${k}.post_attention_layernorm.weight`), eps);
      const gate = linear(h, lin(`${k}.mlp.gate_proj`)); // [B, L, F]
      const act = o.mul(o.mul(gate, o.sigmoid(gate)), linear(h, lin(`${k}.mlp.up_proj`))); // silu(gate) · up
      const mlp = linear(act, lin(`${k}.mlp.down_proj`)); // [B, L, D]
      x = o.add(x, dropout(mlp, drop('mlp', mlp.shape, spec.hiddenDropout)));
    }
    return rmsNorm(x, P('norm.weight'), eps);
  },
  positionsNeeded: (_spec, length) => length,
};

/** A layer's attention (q, k, v, o projections, q / k norms) and gated-MLP weights, in checkpoint order: Qwen3's and Gemma 3's. */
export function gqaLayerParams(add: (key: string, shape: number[]) => void, k: string, spec: EncoderSpec, q: Qwen3Options): void {
  const { hidden: d, intermediate: f, heads } = spec;
  add(`${k}.self_attn.q_proj.weight`, [heads * q.headDim, d]);
  add(`${k}.self_attn.k_proj.weight`, [q.kvHeads * q.headDim, d]);
  add(`${k}.self_attn.v_proj.weight`, [q.kvHeads * q.headDim, d]);
  add(`${k}.self_attn.o_proj.weight`, [d, heads * q.headDim]);
  add(`${k}.self_attn.q_norm.weight`, [q.headDim]);
  add(`${k}.self_attn.k_norm.weight`, [q.headDim]);
  add(`${k}.mlp.gate_proj.weight`, [f, d]);
  add(`${k}.mlp.up_proj.weight`, [f, d]);
  add(`${k}.mlp.down_proj.weight`, [d, f]);
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · w (no mean subtraction, no bias). */
export function rmsNorm(x: Tensor, w: Tensor, eps: number): Tensor {
  const ms = o.reduceMean(o.mul(x, x), [-1], true); // [.., D] -> [.., 1]
  return o.mul(o.div(x, o.sqrt(o.add(ms, eps))), w);
}

/**
 * The padding mask [B, 1, 1, L] restricted to keys at or before each query: [B, 1, L, L], the
 * float's minimum at later keys (as HF masks them). Positions come from a constant sliced to L,
 * so an exported graph keeps its length axis dynamic.
 */
function causalMask(padMask: Tensor, maxPositions: number, l: number): Tensor {
  const g = padMask.graph;
  const n = Math.max(maxPositions, l);
  const pos = o.slice(g.constant(hostTensor(padMask.dtype, [n], Float32Array.from({ length: n }, (_, i) => i))), [0], [l], [0]); // [L]
  const earlier = o.less(o.sub(o.reshape(pos, [1, l]), o.reshape(pos, [l, 1])), 0.5); // key - query <= 0: [L, L]
  return o.where(earlier, padMask, maskFill(padMask.dtype)); // [L, L] with [B, 1, 1, L] -> [B, 1, L, L]
}

/** How a family varies Qwen3's attention: Gemma 3 scales by query_pre_attn_scalar^-1/2 and norms by (1 + w). */
export interface GqaVariant {
  /** The factor on q·kᵀ (Qwen3: head_dim^-1/2). */
  scale: number;
  /** The per-head q / k norm given its weight's key. */
  norm: (x: Tensor, key: string) => Tensor;
}

/**
 * Qwen3Attention: q, k, v projections; RMSNorm of each q and k head over head_dim; rotary
 * positions; each kv head repeated for its heads / kvHeads query heads; softmax(q·kᵀ·dh^-1/2 +
 * mask)·v; heads concatenated; o_proj. Gemma 3 (gemma3.ts) reuses it with its own `variant`.
 */
export function attention(
  x: Tensor, P: (key: string) => Tensor, k: string, heads: number, q: Qwen3Options, eps: number, mask: Tensor, rot: Rotary, p: number, drop: SiteFn,
  variant: GqaVariant = { scale: 1 / Math.sqrt(q.headDim), norm: (t, key) => rmsNorm(t, P(key), eps) },
): Tensor {
  const [b, l] = x.shape;
  const { kvHeads, headDim: dh } = q;
  const group = heads / kvHeads;
  const proj = (n: string, h: number) => o.reshape(linear(x, { weight: P(`${k}.${n}_proj.weight`) }), [b, l, h, dh]); // [B, L, h·dh] -> [B, L, h, dh]
  const headsFirst = (t: Tensor) => o.transpose(t, [0, 2, 1, 3]); // [B, L, h, dh] -> [B, h, L, dh]
  // A kv head serves query heads g·group … (g+1)·group − 1 (HF's repeat_kv).
  const repeat = (t: Tensor) => (group === 1 ? t : o.reshape(o.expand(o.reshape(t, [b, kvHeads, 1, l, dh]), [b, kvHeads, group, l, dh]), [b, heads, l, dh]));
  const qh = rotate(headsFirst(variant.norm(proj('q', heads), `${k}.q_norm.weight`)), rot); // [B, H, L, dh]
  const kh = repeat(rotate(headsFirst(variant.norm(proj('k', kvHeads), `${k}.k_norm.weight`)), rot)); // [B, H, L, dh]
  const vh = repeat(headsFirst(proj('v', kvHeads))); // [B, H, L, dh]
  const scores = o.add(o.mul(o.matmul(qh, o.transposeLast2(kh)), variant.scale), mask); // [B, H, L, L]
  const probs = dropout(o.softmax(scores, -1), drop('attention.probs', [b, heads, l, l], p));
  const ctx = o.reshape(o.transpose(o.matmul(probs, vh), [0, 2, 1, 3]), [b, l, heads * dh]); // [B, H, L, dh] -> [B, L, H·dh]
  return linear(ctx, { weight: P(`${k}.o_proj.weight`) });
}
