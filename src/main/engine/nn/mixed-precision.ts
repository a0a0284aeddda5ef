// Mixed-precision training in the step graph (Micikevicius et al. 2018, "Mixed Precision
// Training"): the encoder runs under graph/autocast.ts's float16 policy, while the master
// weights, the AdamW moments, the pooling, the loss and the optimiser stay float32. The loss is
// multiplied by a fed scale before backward, so small float16 activation gradients do not
// flush to zero, and the float32 parameter gradients are divided by it again before clipping
// and AdamW see them. An overflow shows up as a non-finite gradient norm: AdamW's guard then
// leaves the state unchanged and the trainer's loss scaler (train/loss-scaler.ts) halves the scale.

import { FLOAT16_AUTOCAST, type Graph, type Tensor, ops as o } from '../graph/index.js';
import { LOSS_SCALE } from '../runtime/contract.js';

/** float32: everything float32. float16: float16 activations and matmuls (mixed precision). */
export type GraphPrecision = 'fp32' | 'fp16';

/** `forward()` built under the precision's autocast policy, its result handed on as float32. */
export function withPrecision(g: Graph, precision: GraphPrecision | undefined, forward: () => Tensor): Tensor {
  if (precision !== 'fp16') return forward();
  const out = g.autocast(FLOAT16_AUTOCAST, forward);
  return out.dtype === 'float32' ? out : o.cast(out, 'float32');
}

/**
 * `gradients(loss)` (a backward pass: FlatParams' flat gradients, or plain `backward`); with
 * `precision` fp16, of loss · loss_scale (a float32 scalar input), unscaled again in float32:
 * one Mul per gradient tensor (1/scale is exact: the scaler keeps powers of two).
 */
export function precisionGradients(loss: Tensor, precision: GraphPrecision | undefined, gradients: (loss: Tensor) => Tensor[]): Tensor[] {
  if (precision !== 'fp16') return gradients(loss);
  const scale = loss.graph.input(LOSS_SCALE, 'float32', []);
  const inv = o.reciprocal(scale);
  return gradients(o.mul(loss, scale)).map((g) => o.mul(g, inv));
}
