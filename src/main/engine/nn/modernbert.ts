// ModernBERT (Warner et al. 2024, "Smarter, Better, Faster, Longer: A Modern Bidirectional
// Encoder …"; gte-modernbert-base, modernbert-embed-base) as an encoder: pre-LN layers with
// rotary positions (Su et al. 2021, RoFormer) whose base differs between global layers
// (global_rope_theta) and sliding-window layers (local_rope_theta); every n-th layer
// (global_attn_every_n_layers, from layer 0) attends globally, the others only to keys at
// distance <= local_attention / 2; a GeGLU MLP (Shazeer 2020: Wi makes 2·intermediate, the
// first half goes through exact GELU and multiplies the second); linears and norms without
// biases unless attention_bias / mlp_bias / norm_bias say otherwise; a norm after the token
// embeddings, none before layer 0's attention (the embedding norm serves), and a final norm.
// No position table, no token types.
// Checkpoint keys: embeddings.tok_embeddings, embeddings.norm, layers.<i>.attn_norm (i > 0),
// layers.<i>.attn.Wqkv (q, k, v stacked along the output rows), layers.<i>.attn.Wo,
// layers.<i>.mlp_norm, layers.<i>.mlp.Wi, layers.<i>.mlp.Wo, final_norm.

import { EngineError } from '../../../shared/errors.js';
import { type Tensor, hostTensor, layerNorm, ops as o } from '../graph/index.js';
import { type ConfigReader, type EncoderFamily, type SiteFn, paramCollector, refuseUnknownMath } from './family.js';
import { additiveMask, dropout, embedding, gelu, linear, maskFill } from './layers.js';

export interface ModernBertOptions {
  /** Per layer: true = global attention with global_rope_theta; false = sliding window with local_rope_theta. */
  globalLayers: boolean[];
  /** local_attention: a sliding-window layer's query sees keys at distance <= floor(window / 2). */
  window: number;
  globalRopeTheta: number;
  localRopeTheta: number;
  /** norm_bias: the LayerNorms have a bias. */
  normBias: boolean;
  /** attention_bias: Wqkv and Wo have biases. */
  attentionBias: boolean;
  /** mlp_bias: Wi and Wo of the MLP have biases. */
  mlpBias: boolean;
}

/** Fields ModernBertConfig has that this encoder reads, or that do not change the bare encoder. */
const KNOWN = [
  'vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'hidden_activation', 'max_position_embeddings',
  'norm_eps', 'norm_bias', 'attention_bias', 'mlp_bias', 'global_rope_theta', 'local_rope_theta', 'global_attn_every_n_layers', 'local_attention',
  'layer_types', 'rope_parameters', 'rope_scaling', 'embedding_dropout', 'attention_dropout', 'mlp_dropout', 'pad_token_id',
  // Token ids, init, the MLM / classification heads, kernels and compilation: not the encoder's math.
  'bos_token_id', 'eos_token_id', 'cls_token_id', 'sep_token_id', 'initializer_cutoff_factor', 'decoder_bias', 'classifier_pooling',
  'classifier_dropout', 'classifier_bias', 'classifier_activation', 'deterministic_flash_attn', 'sparse_prediction', 'sparse_pred_ignore_index',
  'reference_compile', 'repad_logits_with_grad',
  // Carried by some ModernBERT configs but unused by ModernBertModel (rotary positions, norm_eps).
  'position_embedding_type',
];

function modernBertOptions(c: ConfigReader, layers: number): ModernBertOptions {
  const bad = (msg: string, key: string) => new EngineError('UNSUPPORTED', `config.json ${msg}`, { key });
  let globalLayers: boolean[];
  const types = c.raw.layer_types;
  if (types !== undefined && types !== null) {
    if (!Array.isArray(types) || types.length !== layers || !types.every((t) => t === 'full_attention' || t === 'sliding_attention')) {
      throw bad(`layer_types = ${JSON.stringify(types)} must list 'full_attention' or 'sliding_attention' for each of the ${layers} layers`, 'layer_types');
    }
    globalLayers = types.map((t) => t === 'full_attention');
  } else {
    const every = c.num('global_attn_every_n_layers', 3);
    if (every < 1) throw bad(`global_attn_every_n_layers = ${every} must be at least 1`, 'global_attn_every_n_layers');
    globalLayers = Array.from({ length: layers }, (_, i) => i % every === 0);
  }
  if (c.raw.rope_scaling !== undefined && c.raw.rope_scaling !== null) {
    throw bad(`rope_scaling = ${JSON.stringify(c.raw.rope_scaling)} is not supported: only plain rotary positions are`, 'rope_scaling');
  }
  let globalRopeTheta = c.num('global_rope_theta', 160000, false);
  let localRopeTheta = c.num('local_rope_theta', 10000, false);
  const rp = c.raw.rope_parameters as Record<string, Record<string, unknown>> | undefined | null;
  if (rp !== undefined && rp !== null) {
    // Newer configs: one entry per attention kind; only the default (unscaled) rope is supported.
    const theta = (kind: string) => ropeThetaOf(rp, kind);
    globalRopeTheta = theta('full_attention');
    localRopeTheta = globalLayers.every(Boolean) ? localRopeTheta : theta('sliding_attention');
  }
  return {
    globalLayers,
    window: c.num('local_attention', 128),
    globalRopeTheta,
    localRopeTheta,
    normBias: c.bool('norm_bias', false),
    attentionBias: c.bool('attention_bias', false),
    mlpBias: c.bool('mlp_bias', false),
  };
}

/** rope_parameters[kind].rope_theta of a newer config (ModernBERT's, Gemma 3's), refused unless plain rotary ({rope_type: 'default', rope_theta}). */
export function ropeThetaOf(rp: Record<string, Record<string, unknown>>, kind: string): number {
  const e = rp[kind];
  if (typeof e !== 'object' || e === null || typeof e.rope_theta !== 'number' || (e.rope_type ?? 'default') !== 'default' || Object.keys(e).some((k) => k !== 'rope_theta' && k !== 'rope_type')) {
    throw new EngineError('UNSUPPORTED', `config.json rope_parameters.${kind} = ${JSON.stringify(e)} is not supported: only {rope_type: 'default', rope_theta}`, { key: 'rope_parameters' });
  }
  return e.rope_theta;
}

export const MODERNBERT: EncoderFamily = {
  fromConfig(c, st) {
    refuseUnknownMath(c, 'ModernBERT', KNOWN);
    const act = c.raw.hidden_activation ?? 'gelu';
    if (act !== 'gelu') {
      throw new EngineError('UNSUPPORTED', `config.json hidden_activation ${JSON.stringify(act)} is not supported; only exact 'gelu' (erf) is`, { key: 'hidden_activation' });
    }
    const embDrop = c.num('embedding_dropout', 0, false);
    const mlpDrop = c.num('mlp_dropout', 0, false);
    if (embDrop !== mlpDrop) {
      throw new EngineError('UNSUPPORTED', `config.json embedding_dropout ${embDrop} differs from mlp_dropout ${mlpDrop}; Embedsmith trains ModernBERT with one hidden dropout: set both to the same value`, { key: 'embedding_dropout' });
    }
    const layers = c.num('num_hidden_layers', 22);
    const spec = {
      arch: 'modernbert' as const,
      vocabSize: c.num('vocab_size', 50368),
      hidden: c.num('hidden_size', 768),
      layers,
      heads: c.num('num_attention_heads', 12),
      intermediate: c.num('intermediate_size', 1152),
      maxPositions: c.num('max_position_embeddings', 8192),
      typeVocabSize: 0,
      layerNormEps: c.num('norm_eps', 1e-5, false),
      padTokenId: c.num('pad_token_id', 50283),
      pooling: st.pooling ?? 'mean',
      normalize: st.normalize ?? true,
      hiddenDropout: mlpDrop,
      attentionDropout: c.num('attention_dropout', 0, false),
      modernBert: modernBertOptions(c, layers),
    };
    if ((spec.hidden / spec.heads) % 2 !== 0) throw new EngineError('BAD_INPUT', `head size ${spec.hidden / spec.heads} must be even for rotary positions`);
    return spec;
  },
  params(spec) {
    const m = spec.modernBert!;
    const { hidden: d, intermediate: f } = spec;
    const { out, add, lin, norm: normOf } = paramCollector(d);
    const norm = (key: string) => normOf(key, m.normBias);
    add('embeddings.tok_embeddings.weight', [spec.vocabSize, d]);
    norm('embeddings.norm');
    for (let i = 0; i < spec.layers; i++) {
      const k = `layers.${i}`;
      if (i > 0) norm(`${k}.attn_norm`);
      lin(`${k}.attn.Wqkv`, 3 * d, d, m.attentionBias);
      lin(`${k}.attn.Wo`, d, d, m.attentionBias);
      norm(`${k}.mlp_norm`);
      lin(`${k}.mlp.Wi`, 2 * f, d, m.mlpBias);
      lin(`${k}.mlp.Wo`, d, f, m.mlpBias);
    }
    norm('final_norm');
    return out;
  },
  forward(spec, P, inputs, site) {
    const m = spec.modernBert!;
    const ids = inputs.inputIds;
    const g = ids.graph;
    const [b, l] = ids.shape;
    const d = spec.hidden;
    const dh = d / spec.heads;
    const zeros = m.normBias ? null : g.constant(hostTensor(P('final_norm.weight').dtype, [d], new Float32Array(d)));
    const norm = (x: Tensor, key: string) => layerNorm(x, P(`${key}.weight`), zeros ?? P(`${key}.bias`), spec.layerNormEps);
    const lin = (key: string, bias: boolean) => ({ weight: P(`${key}.weight`), bias: bias ? P(`${key}.bias`) : undefined });
    let x = embedding(P('embeddings.tok_embeddings.weight'), ids); // [B, L] -> [B, L, D]
    x = dropout(norm(x, 'embeddings.norm'), site('dropout.embeddings', [b, l, d], spec.hiddenDropout));
    const globalMask = additiveMask(inputs.attentionMask, x.dtype); // [B, 1, 1, L]
    const localMask = m.globalLayers.every(Boolean) ? null : slidingWindowMask(globalMask, spec.maxPositions, l, m.window);
    const tables = new Map<number, Rotary>();
    const rotary = (theta: number): Rotary => {
      if (!tables.has(theta)) tables.set(theta, rotaryTables(x, theta, dh, spec.maxPositions, l));
      return tables.get(theta)!;
    };
    for (let i = 0; i < spec.layers; i++) {
      const k = `layers.${i}`;
      const global = m.globalLayers[i];
      const drop: SiteFn = (s, shape, p) => site(`dropout.${k}.${s}`, shape, p);
      const h = i === 0 ? x : norm(x, `${k}.attn_norm`);
      const attn = attention(h, lin(`${k}.attn.Wqkv`, m.attentionBias), lin(`${k}.attn.Wo`, m.attentionBias), spec.heads, global ? globalMask : localMask!, rotary(global ? m.globalRopeTheta : m.localRopeTheta), spec.attentionDropout, drop);
      x = o.add(x, attn);
      const wi = linear(norm(x, `${k}.mlp_norm`), lin(`${k}.mlp.Wi`, m.mlpBias)); // [B, L, 2F]
      const f = spec.intermediate;
      const act = o.mul(gelu(o.slice(wi, [0], [f], [2])), o.slice(wi, [f], [2 * f], [2])); // GELU(first half) · second half: [B, L, F]
      x = o.add(x, linear(dropout(act, drop('mlp', act.shape, spec.hiddenDropout)), lin(`${k}.mlp.Wo`, m.mlpBias)));
    }
    return norm(x, 'final_norm');
  },
  positionsNeeded: (_spec, length) => length,
};

/** cos and sin of each position's rotation angles, [L, dh/2]. */
export interface Rotary {
  cos: Tensor;
  sin: Tensor;
}

/**
 * The rotary tables for `theta`, computed once for every position the model takes and sliced
 * to L (so an exported graph's length axis stays dynamic). The angles are rounded as torch
 * computes them in float32 — inverse frequencies theta^-(2j/dh), then position × frequency —
 * which is what the checkpoints were trained with; exact angles would differ by up to a few
 * float32 ulps of the angle at long positions.
 */
export function rotaryTables(like: Tensor, theta: number, dh: number, maxPositions: number, l: number): Rotary {
  const f = Math.fround;
  const half = dh / 2;
  const n = Math.max(maxPositions, l);
  const cos = new Float32Array(n * half);
  const sin = new Float32Array(n * half);
  for (let j = 0; j < half; j++) {
    const inv = f(1 / f(Math.pow(theta, f((2 * j) / dh))));
    for (let p = 0; p < n; p++) {
      const angle = f(p * inv);
      cos[p * half + j] = Math.cos(angle);
      sin[p * half + j] = Math.sin(angle);
    }
  }
  const g = like.graph;
  const slice = (t: Float32Array) => o.slice(g.constant(hostTensor(like.dtype, [n, half], t)), [0], [l], [0]); // [n, dh/2] -> [L, dh/2]
  return { cos: slice(cos), sin: slice(sin) };
}

/** x·cos + rotate_half(x)·sin with rotate_half(x) = [-x2, x1]: [.., L, dh] -> [.., L, dh]. */
export function rotate(x: Tensor, r: Rotary): Tensor {
  const dh = x.shape[x.rank - 1];
  const ax = x.rank - 1;
  const x1 = o.slice(x, [0], [dh / 2], [ax]);
  const x2 = o.slice(x, [dh / 2], [dh], [ax]);
  return o.concat([o.sub(o.mul(x1, r.cos), o.mul(x2, r.sin)), o.add(o.mul(x2, r.cos), o.mul(x1, r.sin))], ax);
}

/**
 * The sliding-window mask [B, 1, L, L]: the global mask where |i - j| <= window / 2, the
 * float's minimum elsewhere (as HF masks it). Positions come from a constant sliced to L.
 */
function slidingWindowMask(globalMask: Tensor, maxPositions: number, l: number, window: number): Tensor {
  const g = globalMask.graph;
  const n = Math.max(maxPositions, l);
  const pos = o.slice(g.constant(hostTensor(globalMask.dtype, [n], Float32Array.from({ length: n }, (_, i) => i))), [0], [l], [0]); // [L]
  const dist = o.abs(o.sub(o.reshape(pos, [l, 1]), o.reshape(pos, [1, l]))); // [L, 1] - [1, L] -> [L, L]
  const inside = o.less(dist, Math.floor(window / 2) + 0.5); // integer distances: < w/2 + 0.5 is <= w/2
  return o.where(inside, globalMask, maskFill(globalMask.dtype)); // [L, L] with [B, 1, 1, L] -> [B, 1, L, L]
}

/**
 * ModernBertAttention: q, k, v from one fused projection, rotary positions on q and k,
 * softmax(q·kᵀ·dh^-1/2 + mask)·v, heads concatenated, Wo, then dropout (out_drop).
 */
function attention(
  x: Tensor,
  wqkv: { weight: Tensor; bias?: Tensor },
  wo: { weight: Tensor; bias?: Tensor },
  heads: number,
  maskAdd: Tensor,
  rot: Rotary,
  p: number,
  drop: SiteFn,
): Tensor {
  const [b, l, d] = x.shape;
  const dh = d / heads;
  const qkv = linear(x, wqkv); // [B, L, 3D]: q, k, v stacked
  const part = (k: number, perm: number[]) =>
    o.transpose(o.reshape(o.slice(qkv, [k * d], [(k + 1) * d], [2]), [b, l, heads, dh]), perm); // [B, L, D] -> [B, L, H, dh] -> perm
  const q = rotate(part(0, [0, 2, 1, 3]), rot); // [B, H, L, dh]
  const k = rotate(part(1, [0, 2, 1, 3]), rot); // [B, H, L, dh]
  const v = part(2, [0, 2, 1, 3]); // [B, H, L, dh]
  const scores = o.add(o.mul(o.matmul(q, o.transposeLast2(k)), 1 / Math.sqrt(dh)), maskAdd); // [B, H, L, L]
  const probs = dropout(o.softmax(scores, -1), drop('attention.probs', [b, heads, l, l], p));
  const ctx = o.reshape(o.transpose(o.matmul(probs, v), [0, 2, 1, 3]), [b, l, d]); // [B, H, L, dh] -> [B, L, H, dh] -> [B, L, D]
  const out = linear(ctx, wo);
  return dropout(out, drop('attention.output', out.shape, p));
}
