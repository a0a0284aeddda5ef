// Contrastive losses, from primitives (DESIGN §3):
// - InfoNCE as sentence-transformers' MultipleNegativesRankingLoss with hard negatives
//   (sentence_transformers/losses/MultipleNegativesRankingLoss.py; van den Oord et al. 2018,
//   "Representation Learning with Contrastive Predictive Coding"), optionally symmetric as
//   MultipleNegativesSymmetricRankingLoss (queries ↔ positives both ways);
// - supervised contrastive loss for labelled texts (Khosla et al. 2020, "Supervised
//   Contrastive Learning", the L_out form: mean over each anchor's positives);
// - CoSENT for scored pairs (Su 2022, "CoSENT"; sentence-transformers' CoSENTLoss).
// Similarities are cosine × scale, scale = 1 / temperature, or a learned scalar tensor.

import { EngineError } from '../../../shared/errors.js';
import { type Tensor, hostTensor, logSoftmax, ops as o } from '../graph/index.js';
import { l2Normalize } from './pooling.js';

export interface InfoNce {
  /** Scalar: mean over queries of the cross entropy against each query's own positive. */
  loss: Tensor;
  /** [B, C] cosine / temperature (when the inputs are L2-normalised). */
  scores: Tensor;
}

/** How similarities are sharpened: divided by a fixed temperature, or times a (learned) scale tensor. */
export type Scale = { temperature: number } | { scale: Tensor };

const scaled = (s: Tensor, k: Scale): Tensor => ('temperature' in k ? o.div(s, k.temperature) : o.mul(s, k.scale));

/** Constant [n, n] identity (float). */
function identity(like: Tensor, n: number, value = 1): Tensor {
  const v = new Array<number>(n * n).fill(0);
  for (let i = 0; i < n; i++) v[i * n + i] = value;
  return like.graph.constant(hostTensor(like.dtype, [n, n], v));
}

/** -mean_i log_softmax(scores)[i, i] over the first `b` columns' diagonal. */
function diagonalNll(scores: Tensor, b: number, c: number): Tensor {
  const onehot = new Array<number>(b * c).fill(0);
  for (let i = 0; i < b; i++) onehot[i * c + i] = 1;
  const labels = scores.graph.constant(hostTensor(scores.dtype, [b, c], onehot));
  return o.div(o.neg(o.reduceSum(o.mul(logSoftmax(scores, -1), labels))), b); // [B, C] -> []
}

/**
 * queries [B, D] and candidates [C, D] (C = B positives, then B·N mined negatives), both
 * normalised: every query is scored against every candidate (all in-batch positives and
 * every query's negatives); query i's label is column i. Log-softmax is composed (the WebGPU
 * EP has no LogSoftmax kernel) and the diagonal is picked by a constant one-hot product.
 * `symmetric` adds the positives → queries direction and averages the two.
 */
export function infoNce(queries: Tensor, candidates: Tensor, temperature: number, bias?: Tensor, extra: { scale?: Tensor; symmetric?: boolean } = {}): InfoNce {
  const [b] = queries.shape;
  const [c] = candidates.shape;
  if (c < b) throw new EngineError('BAD_INPUT', `infoNce: ${c} candidates for ${b} queries; each query needs its positive`);
  const cos = scaled(o.matmul(queries, o.transpose(candidates, [1, 0])), extra.scale ? { scale: extra.scale } : { temperature }); // [B, D] x [D, C] -> [B, C]
  // bias [C] or [B, C] (per query: a guide model's mask, train/guide.ts): 0 for real candidates, a large negative for filler slots (a query with fewer
  // mined negatives than the batch's N): exp underflows to exactly 0, so a filler gets no
  // probability and no gradient, the same loss as if the slot did not exist.
  const scores = bias ? o.add(cos, bias) : cos;
  const forward = diagonalNll(scores, b, c);
  if (!extra.symmetric) return { loss: forward, scores };
  // Each positive against the B queries: column block [B, B] transposed.
  const backwardDir = diagonalNll(o.transpose(o.slice(cos, [0], [b], [1]), [1, 0]), b, b); // [B, B]
  return { loss: o.div(o.add(forward, backwardDir), 2), scores };
}

/**
 * Supervised contrastive loss over normalised embeddings e [B, D]: for anchor i, p_ia =
 * softmax over a ≠ i of s_ia; loss = -Σ_i Σ_p w_ip log p_ip with `weights` [B, B] fed from
 * the labels: w_ip = 1 / (|P(i)| · A) for p with i's label (p ≠ i), A = anchors that have any
 * positive (the others get no weight, as Khosla et al.'s formula leaves them undefined).
 */
export function supConLoss(e: Tensor, weights: Tensor, scale: Scale): Tensor {
  const [b] = e.shape;
  const s = scaled(o.matmul(e, o.transpose(e, [1, 0])), scale); // [B, D] x [D, B] -> [B, B]
  // A large negative on the diagonal takes each anchor out of its own denominator.
  const masked = o.add(s, identity(s, b, -1e4));
  return o.neg(o.reduceSum(o.mul(logSoftmax(masked, -1), weights))); // [B, B] -> []
}

/** SupCon weights from labels (row-major [B, B]); rows of labels seen once are all zero. */
export function supConWeights(labels: readonly string[]): Float32Array {
  const b = labels.length;
  const w = new Float32Array(b * b);
  const count = labels.map((l, i) => labels.filter((m, j) => j !== i && m === l).length);
  const anchors = count.filter((n) => n > 0).length;
  for (let i = 0; i < b; i++) for (let j = 0; j < b; j++) if (i !== j && labels[i] === labels[j]) w[i * b + j] = 1 / (count[i] * anchors);
  return w;
}

/**
 * CoSENT over pairs (u_i, v_i), normalised, with gold scores: s_i = cos(u_i, v_i)·scale;
 * loss = log(1 + Σ_{i,j: gold_i > gold_j} exp(s_j − s_i)). `pairBias` [B, B] is 0 where
 * gold_i > gold_j and a large negative elsewhere (fed from the scores; cosentBias).
 */
export function cosentLoss(u: Tensor, v: Tensor, pairBias: Tensor, scale: Scale): Tensor {
  const [b] = u.shape;
  const s = scaled(o.reduceSum(o.mul(u, v), [1]), scale); // [B, D] -> [B]
  const d = o.sub(o.reshape(s, [1, b]), o.reshape(s, [b, 1])); // d_ij = s_j - s_i: [B, B]
  const flat = o.reshape(o.add(d, pairBias), [1, b * b]);
  // log(1 + Σ exp(x)) = -log_softmax([0, x…])[0].
  const withZero = o.concat([o.full(u.graph, [1, 1], 0, u.dtype), flat], 1); // [1, 1 + B·B]
  return o.neg(o.reshape(o.slice(logSoftmax(withZero, -1), [0], [1], [1]), []));
}

export const PAIR_MASKED = -1e4;

/** CoSENT's pair bias from gold scores. */
export function cosentBias(gold: readonly number[]): Float32Array {
  const b = gold.length;
  const w = new Float32Array(b * b).fill(PAIR_MASKED);
  for (let i = 0; i < b; i++) for (let j = 0; j < b; j++) if (gold[i] > gold[j]) w[i * b + j] = 0;
  return w;
}

/** One prefix width of a Matryoshka loss and its weight. */
export interface MatryoshkaDim {
  dim: number;
  weight: number;
}

/**
 * Matryoshka representation learning (Kusupati et al. 2022; sentence-transformers'
 * MatryoshkaLoss): the wrapped loss computed on each prefix e[:, :d] of the embeddings,
 * re-normalised (cosine at that width), weighted and summed, so the first d dimensions work
 * as an embedding of their own. The full width takes part only when it is listed, as in
 * sentence-transformers. e [S, D] is the pooled embedding (normalised or not: a prefix is
 * re-normalised either way, and normalising is scale-invariant).
 */
export function matryoshkaLoss(e: Tensor, dims: readonly MatryoshkaDim[], lossOf: (e: Tensor) => Tensor): Tensor {
  const [, width] = e.shape;
  let total: Tensor | null = null;
  for (const { dim, weight } of dims) {
    if (!(Number.isInteger(dim) && dim >= 1 && dim <= width)) {
      throw new EngineError('BAD_INPUT', `--matryoshka: ${dim} is not a width of this model's ${width}-dimensional embeddings; give integers from 1 to ${width}`, { setting: 'matryoshka' });
    }
    const prefix = l2Normalize(dim === width ? e : o.slice(e, [0], [dim], [1])); // [S, D] -> [S, d]
    const term = weight === 1 ? lossOf(prefix) : o.mul(lossOf(prefix), weight);
    total = total ? o.add(total, term) : term;
  }
  if (!total) throw new EngineError('BAD_INPUT', '--matryoshka needs at least one width, e.g. 256,128,64', { setting: 'matryoshka' });
  return total;
}
