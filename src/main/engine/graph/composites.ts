// Composite functions built from primitive ops: they need no gradient rule (backward goes
// through their parts) and run on every execution provider that has the parts.

import type { Tensor } from './graph.js';
import * as o from './ops.js';

/** Exact GELU, as BERT uses: 0.5 x (1 + erf(x / sqrt 2)). */
export function gelu(x: Tensor): Tensor {
  return o.mul(o.mul(x, 0.5), o.add(o.erf(o.mul(x, Math.SQRT1_2)), 1));
}

/**
 * Layer normalisation over the last axis with biased variance, as torch.nn.LayerNorm:
 * (x - mean) / sqrt(var + eps) * gamma + beta. Composed rather than ONNX LayerNormalization
 * because that op's Mean/InvStdDev outputs are float32 only, which breaks float64 gradient
 * checks (DESIGN §3), and because a composed rule needs no fused backward.
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-12): Tensor {
  const mean = o.reduceMean(x, [-1], true); // [..., D] -> [..., 1]
  const centred = o.sub(x, mean);
  const variance = o.reduceMean(o.mul(centred, centred), [-1], true);
  const inv = o.reciprocal(o.sqrt(o.add(variance, eps)));
  return o.add(o.mul(o.mul(centred, inv), gamma), beta);
}

/**
 * log(softmax(x)) along `axis`, composed as x - m - log(sum(exp(x - m))) with m the max:
 * the WebGPU EP has no LogSoftmax kernel (DESIGN §3). The max only shifts for stability; its
 * gradient contributions cancel exactly (the expression is shift-invariant).
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const shifted = o.sub(x, o.reduceMax(x, [axis], true));
  return o.sub(shifted, o.log(o.reduceSum(o.exp(shifted), [axis], true)));
}

/** Sum of several tensors as chained Adds (the WebGPU EP lacks the variadic Sum). */
export function addAll(xs: readonly Tensor[]): Tensor {
  return xs.reduce((acc, t) => o.add(acc, t));
}

/** A dropout site's keep mask: a bool tensor (true = keep) fed from JS, and its drop probability. */
export interface KeepMask {
  keep: Tensor;
  p: number;
}

/**
 * Inverted dropout as torch.nn.Dropout trains it: kept elements scaled by 1/(1-p), the rest 0.
 * The mask is an input, not a random op (the WebGPU EP has none: DESIGN §3), and bool, so a
 * step uploads 1 byte per element rather than a 4-byte float mask; the scale is a constant.
 * Where's rule routes dy through the kept elements; the bool condition gets no gradient.
 * No mask: identity (p = 0 or inference).
 */
export function dropout(x: Tensor, mask: KeepMask | null): Tensor {
  return mask ? o.where(mask.keep, o.mul(x, 1 / (1 - mask.p)), 0) : x;
}
