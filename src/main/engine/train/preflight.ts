// A run's size checked before anything is allocated (issue 14: `--max-steps 1e8` was accepted
// and filled 2.5 GB of memory in a minute, building the step plan). What grows with the step
// count: the plan (each step's example indices, held in memory for the whole run) and
// metrics.jsonl (one line per step, on disk). Both are estimated from the settings and the
// example count, and the run is refused when either would not fit, naming the setting.
import { statfs } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { EngineError } from '../../../shared/errors.js';

// Bytes of one plan entry: 8 per example index plus the object, its epoch and the array (with
// the slack push() leaves). Measured on Node 20 (heap after gc, 100,000 steps): 233, 442 and
// 1,218 bytes per step at batch 4, 32 and 128; this line gives 232, 456 and 1,224.
const PLAN_BYTES_PER_INDEX = 8;
const PLAN_STEP_OVERHEAD = 200;
/** A metrics.jsonl line with eval metrics left out, e.g. {"step":12,"epoch":0,"loss":…,"lr":…,"gradNorm":…,"pairsPerSec":…}. */
const METRICS_LINE = 150;
/** The plan may take at most this share of the machine's memory: the model, its moments and the step graph need the rest. */
const MEMORY_SHARE = 0.25;

export interface RunSize {
  steps: number;
  planBytes: number;
  metricsBytes: number;
}

/** Steps the plan will hold: --max-steps, else epochs × batches per epoch (duplicate-free batching may add a few). */
export function estimateRunSize(s: { maxSteps: number | null; epochs: number; batchSize: number }, examples: number): RunSize {
  const perBatch = Math.max(1, Math.min(s.batchSize, examples));
  const steps = s.maxSteps ?? s.epochs * Math.ceil(examples / perBatch);
  return { steps, planBytes: steps * (perBatch * PLAN_BYTES_PER_INDEX + PLAN_STEP_OVERHEAD), metricsBytes: steps * METRICS_LINE };
}

export interface Machine {
  memoryBytes: number;
  /** Free bytes on the run folder's disk; null when the OS cannot say. */
  freeDiskBytes: number | null;
}

export async function thisMachine(runDir: string): Promise<Machine> {
  const fs = await statfs(runDir).catch(() => null);
  return { memoryBytes: totalmem(), freeDiskBytes: fs ? fs.bavail * fs.bsize : null };
}

const gb = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;

/** Throws BAD_INPUT naming the setting when the run would not fit this machine. */
export function preflightRun(s: { maxSteps: number | null; epochs: number; batchSize: number }, examples: number, m: Machine, runDir: string): RunSize {
  const size = estimateRunSize(s, examples);
  const setting = s.maxSteps !== null ? `--max-steps ${s.maxSteps}` : `--epochs ${s.epochs}`;
  const fix = s.maxSteps !== null ? 'give fewer --max-steps (or split the run and continue it from its model)' : 'give fewer --epochs, or --max-steps';
  if (size.planBytes > MEMORY_SHARE * m.memoryBytes) {
    throw new EngineError(
      'BAD_INPUT',
      `${setting}: a run of ${size.steps} steps of ${s.batchSize} would need about ${gb(size.planBytes)} of memory for its step plan alone, ` +
        `more than a quarter of this machine's ${gb(m.memoryBytes)} (the model and the step graph need the rest). Fix: ${fix}.`,
      { setting: s.maxSteps !== null ? 'max-steps' : 'epochs', steps: size.steps, planBytes: size.planBytes },
    );
  }
  if (m.freeDiskBytes !== null && size.metricsBytes > m.freeDiskBytes) {
    throw new EngineError(
      'BAD_INPUT',
      `${setting}: metrics.jsonl would grow to about ${gb(size.metricsBytes)} (a line per step), more than the ${gb(m.freeDiskBytes)} free on the disk of ${runDir}. Fix: ${fix}, or free disk space.`,
      { setting: s.maxSteps !== null ? 'max-steps' : 'epochs', steps: size.steps, metricsBytes: size.metricsBytes },
    );
  }
  return size;
}
