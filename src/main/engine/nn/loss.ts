// InfoNCE as sentence-transformers' MultipleNegativesRankingLoss with hard negatives
// (sentence_transformers/losses/MultipleNegativesRankingLoss.py; van den Oord et al. 2018,
// "Representation Learning with Contrastive Predictive Coding"). DESIGN §6.

import { EngineError } from '../../../shared/errors.js';
import { type Tensor, hostTensor, logSoftmax, ops as o } from '../graph/index.js';

export interface InfoNce {
  /** Scalar: mean over queries of the cross entropy against each query's own positive. */
  loss: Tensor;
  /** [B, C] cosine / temperature (when the inputs are L2-normalised). */
  scores: Tensor;
}

/**
 * queries [B, D] and candidates [C, D] (C = B positives, then B·N mined negatives), both
 * normalised: every query is scored against every candidate (all in-batch positives and
 * every query's negatives); query i's label is column i. Log-softmax is composed (the WebGPU
 * EP has no LogSoftmax kernel) and the diagonal is picked by a constant one-hot product.
 */
export function infoNce(queries: Tensor, candidates: Tensor, temperature: number, bias?: Tensor): InfoNce {
  const [b] = queries.shape;
  const [c] = candidates.shape;
  if (c < b) throw new EngineError('BAD_INPUT', `infoNce: ${c} candidates for ${b} queries; each query needs its positive`);
  const cos = o.div(o.matmul(queries, o.transpose(candidates, [1, 0])), temperature); // [B, D] x [D, C] -> [B, C]
  // bias [C]: 0 for real candidates, a large negative for filler slots (a query with fewer
  // mined negatives than the batch's N): exp underflows to exactly 0, so a filler gets no
  // probability and no gradient, the same loss as if the slot did not exist.
  const scores = bias ? o.add(cos, bias) : cos;
  const onehot = new Array<number>(b * c).fill(0);
  for (let i = 0; i < b; i++) onehot[i * c + i] = 1;
  const labels = queries.graph.constant(hostTensor(queries.dtype, [b, c], onehot));
  const picked = o.reduceSum(o.mul(logSoftmax(scores, -1), labels)); // [B, C] -> []
  return { loss: o.div(o.neg(picked), b), scores };
}
