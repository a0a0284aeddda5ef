// Dynamic loss scaling for mixed-precision runs, with the rule and the defaults of PyTorch's
// torch.amp.GradScaler (Micikevicius et al. 2018): start at 2^16; a step whose gradients hold
// an Inf or NaN is skipped and the scale halved; after 2,000 steps in a row without one the
// scale doubles. The step graph multiplies the loss by the scale and divides the gradients
// by it (nn/mixed-precision.ts); its NaN guard leaves the weights and moments unchanged on a
// non-finite gradient norm, which is GradScaler's skipped optimizer.step().
//
// How this meets the run's own NaN guard (train/run.ts), which halves the learning rate after
// a non-finite step: in an fp16 run, a finite loss with non-finite gradients is an overflow of
// the scaled float16 gradients, which the scale cures, so only the scale is halved and the
// learning rate stays. A non-finite loss means the forward pass itself broke (float16
// activations beyond 65504, or a bad batch): no loss scale changes the forward, so that step
// goes through the run's guard as in fp32 (learning rate halved) and the scale counts it as an
// overflow too, as GradScaler would, which sees only the gradients.

import { EngineError } from '../../../shared/errors.js';

export interface LossScalerOptions {
  /** torch's init_scale. */
  initScale: number;
  growthFactor: number;
  backoffFactor: number;
  /** Clean steps in a row before the scale grows. */
  growthInterval: number;
}

export const GRAD_SCALER_DEFAULTS: LossScalerOptions = { initScale: 2 ** 16, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000 };

/** What a checkpoint keeps so a resumed run scales exactly as the uninterrupted one. */
export interface LossScalerState {
  scale: number;
  /** Clean steps since the last growth or overflow (torch's _growth_tracker). */
  growthTracker: number;
}

export function initialScalerState(opts: LossScalerOptions = GRAD_SCALER_DEFAULTS): LossScalerState {
  return { scale: opts.initScale, growthTracker: 0 };
}

/** The state after a step whose gradients were (`foundInf`) or were not finite. */
export function updateScale(state: LossScalerState, foundInf: boolean, opts: LossScalerOptions = GRAD_SCALER_DEFAULTS): LossScalerState {
  if (!(state.scale > 0 && Number.isFinite(state.scale)) || !Number.isInteger(state.growthTracker) || state.growthTracker < 0) {
    throw new EngineError('INTERNAL', `loss scaler state ${JSON.stringify(state)} is not a positive finite scale and a whole step count`);
  }
  if (foundInf) return { scale: state.scale * opts.backoffFactor, growthTracker: 0 };
  const clean = state.growthTracker + 1;
  return clean === opts.growthInterval ? { scale: state.scale * opts.growthFactor, growthTracker: 0 } : { scale: state.scale, growthTracker: clean };
}
