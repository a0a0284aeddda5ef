// The optimiser inside the step graph: global-norm gradient clipping with
// torch.nn.utils.clip_grad_norm_ semantics, then torch.optim.AdamW (Loshchilov & Hutter 2019,
// "Decoupled Weight Decay Regularization"; torch/optim/adamw.py, single-tensor path).
// The per-step scalars are computed in JS by the trainer (contract.ts STEP_SCALARS), so one
// graph serves every step:
//   adam_step_size = lr / (1 - β1^t),  adam_inv_bias2 = 1 / sqrt(1 - β2^t),  decay_factor = 1 - lr·wd.

import { type Tensor, addAll, numel, ops as o } from '../graph/index.js';
import { FLAT_BLOCK } from '../runtime/contract.js';

export interface AdamWOptions {
  /** Clip the global 2-norm of all gradients to this; Infinity turns clipping off. */
  maxGradNorm: number;
  /** Moment decay rates (β1, β2). */
  betas: readonly [number, number];
  /** Added to the bias-corrected sqrt(v) (torch places it after the correction). */
  eps: number;
  /**
   * Keep p, m and v unchanged when the gradient norm is NaN or infinite (default true): one
   * bad batch must not poison the weights. The trainer sees the non-finite grad_norm and
   * reports the step as skipped.
   */
  skipNonFinite?: boolean;
}

export interface AdamWState {
  p: Tensor;
  m: Tensor;
  v: Tensor;
  /** Decoupled weight decay applies (false for biases and LayerNorm weights). */
  decay: boolean;
}

export interface AdamWScalars {
  stepSize: Tensor;
  invBias2: Tensor;
  decayFactor: Tensor;
}

export interface AdamWResult {
  /** Global 2-norm of the gradients BEFORE clipping (what torch's clip_grad_norm_ returns). */
  gradNorm: Tensor;
  next: { p: Tensor; m: Tensor; v: Tensor }[];
}

/**
 * total = sqrt(Σ g²) over every tensor; coef = min(1, maxNorm / (total + 1e-6)); g *= coef;
 * p' = p·decay_factor (decay params only); m' = β1 m + (1-β1) g; v' = β2 v + (1-β2) g²;
 * p' -= step_size · m' / (sqrt(v')·inv_bias2 + eps). The decay uses the pre-update p, as torch.
 *
 * Written with as few full-size passes as the algebra allows, since each elementwise op over
 * 22.6 M MiniLM parameters costs a memory pass on the CPU and a dispatch per tensor on a GPU:
 * the clip coefficient folds into the moments' scalar factors ((1-β1)·coef, (1-β2)·coef²), and
 * the bias correction into the step and eps: m'/(sqrt(v')·ib + eps) = (m'/ib)/(sqrt(v') + eps/ib).
 * Equal in real arithmetic to torch's order; float32 rounding differs in the last bits.
 * The non-finite guard is one Where on g (NaN·0 is NaN, so g must be zeroed) plus scalar
 * factors that make the update the identity: m' = 1·m + 0·0, v' = 1·v + 0, p' = p·1 − 0.
 */
export function adamwUpdate(
  states: readonly AdamWState[],
  grads: readonly Tensor[],
  scalars: AdamWScalars,
  opts: AdamWOptions,
): AdamWResult {
  const [beta1, beta2] = opts.betas;
  // Chained Adds, not the variadic Sum (no WebGPU kernel).
  const gradNorm = o.sqrt(addAll(grads.map(sumOfSquares)));
  const coef = Number.isFinite(opts.maxGradNorm)
    ? o.min(o.div(opts.maxGradNorm, o.add(gradNorm, 1e-6)), 1)
    : null;
  // NaN < x is false, so a NaN norm fails the test as an infinite one does.
  const finite = opts.skipNonFinite === false ? null : o.less(gradNorm, 3.0e38);
  /** A scalar factor, replaced by `identity` when the step is not finite. */
  const gate = (x: Tensor, identity: number): Tensor => (finite ? o.where(finite, x, identity) : x);
  const scalar = (v: number): Tensor => gradNorm.graph.scalar(v, gradNorm.dtype);
  const b1 = gate(scalar(beta1), 1);
  const b2 = gate(scalar(beta2), 1);
  const a1 = gate(coef ? o.mul(coef, 1 - beta1) : scalar(1 - beta1), 0);
  const a2 = gate(coef ? o.mul(o.mul(coef, coef), 1 - beta2) : scalar(1 - beta2), 0);
  const step = gate(o.div(scalars.stepSize, scalars.invBias2), 0);
  const eps = o.div(opts.eps, scalars.invBias2);
  const decay = gate(scalars.decayFactor, 1);
  const next = states.map((s, i) => {
    const g = finite ? o.where(finite, grads[i], 0) : grads[i];
    const m = o.add(o.mul(s.m, b1), o.mul(g, a1));
    const v = o.add(o.mul(s.v, b2), o.mul(o.mul(g, g), a2));
    const update = o.mul(o.div(m, o.add(o.sqrt(v), eps)), step);
    return { p: o.sub(s.decay ? o.mul(s.p, decay) : s.p, update), m, v };
  });
  return { gradNorm, next };
}

/**
 * Σ g² as one number. A flat gradient (flat-params.ts: 1-D, a multiple of FLAT_BLOCK long)
 * is summed per block of FLAT_BLOCK first, then across blocks: one 22 M-term float32 sum
 * drifted 1.5e-5 relative from torch's float64 norm on the tiny-BERT fixture (tolerance 1e-5).
 */
function sumOfSquares(g: Tensor): Tensor {
  const n = numel(g.shape);
  const sq = o.mul(g, g);
  if (g.rank !== 1 || n <= FLAT_BLOCK || n % FLAT_BLOCK !== 0) return o.reduceSum(sq);
  return o.reduceSum(o.reduceSum(o.reshape(sq, [n / FLAT_BLOCK, FLAT_BLOCK]), [1])); // [n] -> [n/B, B] -> [n/B] -> []
}

/** sentence-transformers' no_decay rule: no weight decay on biases and LayerNorm parameters. */
export function decays(key: string): boolean {
  return !(key.endsWith('.bias') || key.includes('LayerNorm.'));
}
