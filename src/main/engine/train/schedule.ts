// Learning-rate schedules as transformers' get_linear_schedule_with_warmup and
// get_constant_schedule_with_warmup (optimization.py), applied like torch's LambdaLR: the rate
// of a step depends on how many steps ran before it, so with warmup the very first step runs
// at lr 0 — exactly as a sentence-transformers run does.

import { EngineError } from '../../../shared/errors.js';

export type ScheduleName = 'linear' | 'constant';

export interface Schedule {
  lr: number;
  schedule: ScheduleName;
  warmupSteps: number;
  totalSteps: number;
}

/** Warmup in steps from `--warmup`: a fraction of the run below 1 (ceil, as warmup_ratio), else a step count. */
export function warmupSteps(warmup: number, totalSteps: number): number {
  if (!(warmup >= 0) || (warmup >= 1 && !Number.isInteger(warmup))) {
    throw new EngineError('BAD_INPUT', `--warmup ${warmup}: give a fraction of the run in [0, 1) (e.g. 0.1) or a whole number of steps`, { setting: 'warmup' });
  }
  return warmup < 1 ? Math.ceil(warmup * totalSteps) : Math.min(warmup, totalSteps);
}

/** The rate for the step after `done` steps (0-based, as LambdaLR's last_epoch). */
export function lrAt(s: Schedule, done: number): number {
  const { warmupSteps: w, totalSteps: t } = s;
  if (done < w) return (s.lr * done) / Math.max(1, w);
  if (s.schedule === 'constant') return s.lr;
  return s.lr * Math.max(0, (t - done) / Math.max(1, t - w));
}
