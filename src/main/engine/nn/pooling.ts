// Sentence pooling and normalisation as sentence-transformers' Pooling and Normalize modules
// (sentence_transformers/models/Pooling.py, Normalize.py), from primitives.

import { type Tensor, ops as o } from '../graph/index.js';

/**
 * Mean over the tokens whose mask is 1: sum(h·m) / max(sum(m), 1e-9), as Pooling's
 * pooling_mode_mean_tokens. h [B, L, D], mask int32 [B, L] -> [B, D].
 */
export function meanPool(h: Tensor, mask: Tensor): Tensor {
  const [b, l] = mask.shape;
  const m = o.cast(o.reshape(mask, [b, l, 1]), h.dtype); // [B, L] -> [B, L, 1]
  const summed = o.reduceSum(o.mul(h, m), [1]); // [B, L, D] -> [B, D]
  const count = o.max(o.reduceSum(m, [1]), 1e-9); // [B, L, 1] -> [B, 1]
  return o.div(summed, count);
}

/** The first token's hidden state ([CLS] / <s>): h [B, L, D] -> [B, D]. */
export function clsPool(h: Tensor): Tensor {
  const [b, , d] = h.shape;
  return o.reshape(o.slice(h, [0], [1], [1]), [b, d]); // [B, 1, D] -> [B, D]
}

/** x / max(||x||₂, 1e-12) over the last axis, as torch.nn.functional.normalize. */
export function l2Normalize(x: Tensor): Tensor {
  const norm = o.sqrt(o.reduceSum(o.mul(x, x), [-1], true)); // [B, D] -> [B, 1]
  return o.div(x, o.max(norm, 1e-12));
}

/**
 * The last real token's hidden state, as Pooling's pooling_mode_lasttoken: h [B, L, D], mask
 * int32 [B, L] -> [B, D]. The mask is one contiguous run of ones (right or left padding), so the
 * last real token is where the mask is 1 and the next position's is 0 (past the end counts as
 * 0): that one-hot row selects it by a product and a sum, ops whose gradients are plain.
 */
export function lastTokenPool(h: Tensor, mask: Tensor): Tensor {
  const [b, l] = mask.shape;
  const m = o.cast(mask, h.dtype); // [B, L]
  // m shifted left by one, 0 past the end: [B, L]. The open end (clamped) keeps L out of the
  // graph's constants, so the dynamic-axes export needs no rule for it.
  const next = o.slice(o.pad(m, [0, 0, 0, 1]), [1], [2 ** 31 - 1], [1]);
  const last = o.reshape(o.mul(m, o.sub(1, next)), [b, l, 1]); // one-hot on the last real token: [B, L, 1]
  return o.reduceSum(o.mul(h, last), [1]); // [B, L, D] -> [B, D]
}
