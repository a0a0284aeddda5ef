// Composite functions built from primitive ops: they need no gradient rule (backward goes
// through their parts) and run on every execution provider that has the parts. layerNorm and
// gelu are the exceptions DESIGN §3 allows: fused ops with their own rules, justified where
// the rules are (gradients.ts).

import { isFloat } from './dtype.js';
import type { Tensor } from './graph.js';
import * as o from './ops.js';
import { sameShape } from './shape.js';

/**
 * Exact GELU, as BERT uses: 0.5 x (1 + erf(x / sqrt 2)). One fused Gelu node for every float
 * dtype (float64 is composed again at serialisation, legalize.ts), with its own gradient rule
 * (gradients.ts); composedGelu is the reference.
 */
export function gelu(x: Tensor): Tensor {
  return isFloat(x.dtype) ? o.gelu(x) : composedGelu(x);
}

/** gelu from primitives: the fallback and the reference. */
export function composedGelu(x: Tensor): Tensor {
  return o.mul(o.mul(x, 0.5), o.add(o.erf(o.mul(x, Math.SQRT1_2)), 1));
}

/**
 * Layer normalisation over the last axis with biased variance, as torch.nn.LayerNorm:
 * (x - mean) / sqrt(var + eps) * gamma + beta. One fused LayerNormalization node (float32 and
 * float64; the float64 one is composed again at serialisation, legalize.ts) whose hand-written
 * gradient rule (gradients.ts) reuses its Mean/InvStdDev; the composed form remains for other
 * dtypes and for gamma/beta that are not [D].
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-12): Tensor {
  const last = x.shape.slice(-1);
  // float16 x: under autocast (graph/autocast.ts) the node computes in float32 with float32
  // gamma/beta; outside one, inference refuses the mixed dtypes loudly.
  const fused = isFloat(x.dtype) && sameShape(gamma.shape, last) && sameShape(beta.shape, last);
  if (!fused) return composedLayerNorm(x, gamma, beta, eps).y;
  // The node sees 2-D rows: onnxruntime fuses a 3-D Add + LayerNormalization into its
  // SkipLayerNormalization, which rounds differently, and only where nothing else reads the
  // Add, i.e. in forward-only graphs. 2-D keeps forward-only and training graphs on the same
  // kernels, bit for bit (grad-cache's pass 3 replays pass 1: nn/grad-cache.test.ts).
  const rows = o.reshape(x, [-1, last[0]]); // [..., D] -> [N, D]
  return o.reshape(o.layerNormalization(rows, gamma, beta, eps).y, x.shape); // [N, D] -> [..., D]
}

/** layerNorm from primitives, with its statistics ([..., 1]): the fallback and the reference. */
export function composedLayerNorm(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  eps: number,
): { y: Tensor; mean: Tensor; invStdDev: Tensor } {
  const mean = o.reduceMean(x, [-1], true); // [..., D] -> [..., 1]
  const centred = o.sub(x, mean);
  const variance = o.reduceMean(o.mul(centred, centred), [-1], true);
  const invStdDev = o.reciprocal(o.sqrt(o.add(variance, eps)));
  return { y: o.add(o.mul(o.mul(centred, invStdDev), gamma), beta), mean, invStdDev };
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
