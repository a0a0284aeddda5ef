// Transformer layers from graph primitives, with Hugging Face BERT semantics
// (transformers/models/bert/modeling_bert.py: BertSelfAttention, BertSelfOutput, BertOutput).
// Nothing here has a gradient rule of its own: every layer is a composite of the primitives in
// graph/ops.ts, so backward() differentiates it for free (tinygrad's rule, STYLE.md). Two of
// those primitives are fused ops with hand-written rules, for speed and memory measured on the
// MiniLM step: LayerNormalization and Gelu (graph/composites.ts, graph/gradients.ts).
//
// WebGPU constraints kept throughout (DESIGN §3): ids stay int32, no variadic Sum, no random
// ops (dropout takes a bool keep mask fed from JS), no LogSoftmax.

import { EngineError } from '../../../shared/errors.js';
import { type DType, type KeepMask, type Tensor, dropout, gelu, hostTensor, layerNorm, ops as o } from '../graph/index.js';

export { type KeepMask, dropout, gelu, layerNorm };

/** A torch.nn.Linear's tensors: weight [out, in], bias [out]. */
export interface LinearWeights {
  weight: Tensor;
  bias?: Tensor;
}

/** A LoRA-adapted weight's parts (nn/lora.ts): the frozen base W [out, in], A [r, in], B [out, r] and alpha / r. */
export interface LowRankParts {
  base: Tensor;
  a: Tensor;
  b: Tensor;
  scale: number;
}

// Adapted weights, by the tensor W + scale·B·A that stands for them in the parameter record.
// Whatever reads that tensor directly still gets the adapted weight; linear() looks here first
// and takes the cheaper path on the activations.
const LOW_RANK = new WeakMap<Tensor, LowRankParts>();

/** Registers `adapted` (= base + scale·b·a) so linear() computes it on the activations instead. */
export function markLowRank(adapted: Tensor, parts: LowRankParts): Tensor {
  LOW_RANK.set(adapted, parts);
  return adapted;
}

/**
 * torch.nn.Linear: y = x·Wᵀ + b over the last axis, any leading axes, then dropout where `keep`
 * is given: one Gemm (transB, bias as its C) on [N, in] rows, so W needs no Transpose node and
 * the weight gradient is one 2-D product (the Gemm rule) rather than a batched one plus a
 * ReduceSum over the batch. The encoder keeps its hidden state as [B·L, D] rows, so no Reshape
 * is needed either.
 */
export function linear(x: Tensor, w: LinearWeights, keep: KeepMask | null = null): Tensor {
  const [out, inp] = w.weight.shape;
  const lead = x.shape.slice(0, -1);
  const x2 = o.reshape(x, [-1, inp]); // [..., in] -> [N, in] (no node when 2-D)
  // dropout(linear(x)) with its 1/(1-p) as Gemm's alpha and beta: one Where, not a Mul and a
  // Where, and the gradient's scale rides in the weight-gradient Gemms (the Gemm rule).
  const s = keep ? 1 / (1 - keep.p) : 1;
  const low = LOW_RANK.get(w.weight);
  let y: Tensor;
  if (low) {
    // LoRA on the activations: x·Wᵀ + scale·(x·Aᵀ)·Bᵀ. The adapted weight W + scale·B·A is never
    // formed (its nodes are left dead and dropped), so neither is its [out, in] gradient: the
    // frozen W gets no gradient at all, and A, B get theirs from two thin [N, r] products.
    const main = o.gemm(x2, low.base, w.bias ?? null, { transB: true, alpha: s, beta: s }); // [N, in] x [out, in]ᵀ -> [N, out]
    const down = o.gemm(x2, low.a, null, { transB: true }); // [N, in] x [r, in]ᵀ -> [N, r]
    y = o.gemm(down, low.b, main, { transB: true, alpha: s * low.scale, beta: 1 }); // [N, r] x [out, r]ᵀ + main -> [N, out]
  } else {
    y = o.gemm(x2, w.weight, w.bias ?? null, { transB: true, alpha: s, beta: s }); // [N, in] x [out, in]ᵀ -> [N, out]
  }
  const shaped = o.reshape(y, [...lead, out]); // [N, out] -> [..., out]
  return keep ? o.where(keep.keep, shaped, 0) : shaped;
}

/**
 * Embedding lookup: rows of `table` [V, D] picked by int32 `ids` -> [...ids, D]. Its gradient
 * is the Gather rule's ScatterElements add (not ScatterND, which races on the multi-threaded
 * CPU EP, onnxruntime #18048).
 */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  return o.gather(table, ids, 0);
}

/**
 * RoBERTa's (and MPNet's) position ids: cumsum(ids != pad)·(ids != pad) + pad
 * (create_position_ids_from_input_ids), int32 [B, L].
 */
export function paddingPositions(ids: Tensor, pad: number): Tensor {
  const [, l] = ids.shape;
  const real = o.sub(1, o.cast(o.equal(ids, pad), 'float32')); // [B, L] 1 where not pad
  // No CumSum in the op table: a prefix sum is a product with an upper-triangular ones
  // matrix (exact in float32 for any realistic length). ONNX export turns it into CumSum.
  const tri = new Array<number>(l * l).fill(0);
  for (let i = 0; i < l; i++) for (let j = i; j < l; j++) tri[i * l + j] = 1;
  const cumsum = o.matmul(real, ids.graph.constant(hostTensor('float32', [l, l], tri))); // [B, L] x [L, L] -> [B, L]
  return o.cast(o.add(o.mul(cumsum, real), pad), 'int32');
}

/** torch.finfo(dtype).min, the value HF's get_extended_attention_mask fills masked keys with. */
export function maskFill(dtype: DType): number {
  if (dtype === 'float64') return -Number.MAX_VALUE;
  if (dtype === 'float16') return -65504;
  return -3.4028234663852886e38;
}

/**
 * HF's extended attention mask: int32 [B, L] (1 = attend) -> (1 - mask)·finfo.min as
 * [B, 1, 1, L], broadcast over heads and query positions and ADDED to the scaled scores.
 * Masked keys get probability exactly 0 in softmax, so padding influences nothing.
 */
export function additiveMask(mask: Tensor, dtype: DType): Tensor {
  const [b, l] = mask.shape;
  const m = o.cast(o.reshape(mask, [b, 1, 1, l]), dtype); // [B, L] -> [B, 1, 1, L]
  return o.mul(o.sub(1, m), maskFill(dtype));
}

export interface AttentionWeights {
  /** q, k, v: each present unless `qkv` is. */
  query?: LinearWeights;
  key?: LinearWeights;
  value?: LinearWeights;
  /** q, k, v stacked ([3D, D], [3D]) where the flat state holds them side by side: one Gemm for all three. */
  qkv?: LinearWeights;
  /** attention.output.dense: the projection after the heads are concatenated. */
  output: LinearWeights;
}

/**
 * Multi-head self-attention as BertSelfAttention + the output dense (no residual, no norm):
 * softmax(q·kᵀ / sqrt(dh) + maskAdd) · v, heads concatenated, then projected.
 * `maskAdd` is additiveMask's [B, 1, 1, L], applied AFTER the 1/sqrt(dh) scale as HF does; it
 * also gives B and L, so `x` may be [B, L, D] or the encoder's [B·L, D] rows (same rank out).
 * `probsKeep` is the attention-probs dropout mask, bool [B, H, L, L] (or null); `outputKeep`
 * the dropout after the output dense, bool, x's shape (or null).
 */
export function multiHeadAttention(
  x: Tensor,
  maskAdd: Tensor,
  w: AttentionWeights,
  heads: number,
  probsKeep: KeepMask | null = null,
  outputKeep: KeepMask | null = null,
): Tensor {
  const [b, , , l] = maskAdd.shape;
  const d = x.shape[x.rank - 1];
  const dh = d / heads;
  const rows = o.reshape(x, [b * l, d]); // [B, L, D] -> [B·L, D] (no node when already rows)
  const split = (t: Tensor, perm: number[]): Tensor =>
    o.transpose(o.reshape(t, [b, l, heads, dh]), perm); // [B·L, D] -> [B, L, H, dh] -> perm
  let q: Tensor, kT: Tensor, v: Tensor;
  if (w.qkv) {
    // [B·L, 3D] -> [B, L, 3, H, dh] -> [3, B, H, L, dh] -> three [1, B, H, L, dh] (the leading 1
    // broadcasts through the matmuls); the Split's gradient is one Concat.
    const heads3 = o.transpose(o.reshape(linear(rows, w.qkv), [b, l, 3, heads, dh]), [2, 0, 3, 1, 4]);
    const [q1, k1, v1] = o.split(heads3, [1, 1, 1], 0);
    [q, kT, v] = [q1, o.transposeLast2(k1), v1]; // kT: [1, B, H, dh, L]
  } else {
    if (!w.query || !w.key || !w.value) throw new EngineError('INTERNAL', 'attention needs query, key and value weights, or qkv');
    q = split(linear(rows, w.query), [0, 2, 1, 3]); // -> [B, H, L, dh]
    kT = split(linear(rows, w.key), [0, 2, 3, 1]); // -> [B, H, dh, L]
    v = split(linear(rows, w.value), [0, 2, 1, 3]); // -> [B, H, L, dh]
  }
  // HF divides by sqrt(dh) (not a multiply by its reciprocal): same rounding as the reference.
  const scores = o.add(o.div(o.matmul(q, kT), Math.sqrt(dh)), maskAdd); // [B, H, L, L]
  const probs = dropout(o.softmax(scores, -1), probsKeep);
  const ctxHeads = o.matmul(probs, v); // [(1,) B, H, L, dh]
  const ctx = o.transpose(ctxHeads, ctxHeads.rank === 5 ? [0, 1, 3, 2, 4] : [0, 2, 1, 3]); // -> [(1,) B, L, H, dh]
  const rowsKeep = outputKeep && { ...outputKeep, keep: o.reshape(outputKeep.keep, [b * l, d]) }; // x's shape -> [B·L, D]
  const out = linear(o.reshape(ctx, [b * l, d]), w.output, rowsKeep); // [B, L, H, dh] -> [B·L, D]
  return o.reshape(out, x.shape); // [B·L, D] -> x's shape
}

export interface LayerNormWeights {
  weight: Tensor;
  bias: Tensor;
}

export interface EncoderLayerWeights {
  attention: AttentionWeights;
  attentionNorm: LayerNormWeights;
  intermediate: LinearWeights;
  output: LinearWeights;
  outputNorm: LayerNormWeights;
}

/**
 * One post-LN BERT layer (BertLayer): x = LN(dropout(attn(x)) + x);
 * x = LN(dropout(GELU(x·Wiᵀ + bi)·Woᵀ + bo) + x). Dropout sites as HF: attention probs,
 * attention output, FFN output (`drop(site)` names them relative to the layer). `x` is
 * [B, L, D] or [B·L, D] rows (the encoder's), as multiHeadAttention takes it.
 */
export function encoderLayer(
  x: Tensor,
  maskAdd: Tensor,
  w: EncoderLayerWeights,
  heads: number,
  eps: number,
  drop: (site: 'attention.probs' | 'attention.output' | 'output', shape: readonly number[]) => KeepMask | null = () => null,
): Tensor {
  const [b, , , l] = maskAdd.shape;
  const probsKeep = drop('attention.probs', [b, heads, l, l]);
  const attn = multiHeadAttention(x, maskAdd, w.attention, heads, probsKeep, drop('attention.output', x.shape));
  const h = layerNorm(o.add(attn, x), w.attentionNorm.weight, w.attentionNorm.bias, eps);
  const ffn = linear(gelu(linear(h, w.intermediate)), w.output, drop('output', h.shape));
  return layerNorm(o.add(ffn, h), w.outputNorm.weight, w.outputNorm.bias, eps);
}
