// The optimiser inside the step graph: global-norm gradient clipping with
// torch.nn.utils.clip_grad_norm_ semantics, then torch.optim.AdamW (Loshchilov & Hutter 2019,
// "Decoupled Weight Decay Regularization"; torch/optim/adamw.py, single-tensor path).
// The per-step scalars are computed in JS by the trainer (contract.ts STEP_SCALARS), so one
// graph serves every step:
//   adam_step_size = lr / (1 - β1^t),  adam_inv_bias2 = 1 / sqrt(1 - β2^t),  decay_factor = 1 - lr·wd.

import { type Tensor, addAll, ops as o } from '../graph/index.js';

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
 */
export function adamwUpdate(
  states: readonly AdamWState[],
  grads: readonly Tensor[],
  scalars: AdamWScalars,
  opts: AdamWOptions,
): AdamWResult {
  const [beta1, beta2] = opts.betas;
  // Chained Adds, not the variadic Sum (no WebGPU kernel).
  const gradNorm = o.sqrt(addAll(grads.map((g) => o.reduceSum(o.mul(g, g)))));
  const coef = Number.isFinite(opts.maxGradNorm)
    ? o.min(o.div(opts.maxGradNorm, o.add(gradNorm, 1e-6)), 1)
    : null;
  // NaN < x is false, so a NaN norm fails the test as an infinite one does.
  const finite = opts.skipNonFinite === false ? null : o.less(gradNorm, 3.0e38);
  const keep = (updated: Tensor, old: Tensor) => (finite ? o.where(finite, updated, old) : updated);
  const next = states.map((s, i) => {
    const g = coef ? o.mul(grads[i], coef) : grads[i];
    const p = s.decay ? o.mul(s.p, scalars.decayFactor) : s.p;
    const m = o.add(o.mul(s.m, beta1), o.mul(g, 1 - beta1));
    const v = o.add(o.mul(s.v, beta2), o.mul(o.mul(g, g), 1 - beta2));
    const denom = o.add(o.mul(o.sqrt(v), scalars.invBias2), opts.eps);
    return { p: keep(o.sub(p, o.mul(o.div(m, denom), scalars.stepSize)), s.p), m: keep(m, s.m), v: keep(v, s.v) };
  });
  return { gradNorm, next };
}

/** sentence-transformers' no_decay rule: no weight decay on biases and LayerNorm parameters. */
export function decays(key: string): boolean {
  return !(key.endsWith('.bias') || key.includes('LayerNorm.'));
}
