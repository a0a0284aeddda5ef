// The Training page's rules without the markup: presets, the form and the TrainRequest it
// makes (DESIGN §6 `embedsmith train`), the pre-flight memory estimate, the ETA, the series
// the charts draw from metrics.jsonl, and the request that resumes a stopped run.
import { RESUME_REPEATED_SETTINGS, type DeviceChoice, type PrecisionChoice, type RunView, type TrainRequest } from '../../../../shared/api.js';
import { autoEvalEvery } from '../../../../shared/train-defaults.js';

export type PresetId = 'quick' | 'balanced' | 'thorough';

export interface PresetSettings {
  epochs: number;
  batchSize: number;
  lr: number;
  maxLength: number;
  warmup: number;
}

/**
 * Balanced is the CLI's default (sentence-transformers' MNRL defaults: batch 32, 2e-5, 128
 * tokens). Quick trades quality for a look at the curves in minutes: shorter texts and smaller
 * batches cost less per step, and a higher rate moves faster in the one pass it gets. Thorough
 * sees the data three times with bigger batches (more in-batch negatives per query) and
 * longer texts (less cut off); it needs memory — the pre-flight check says how much.
 */
export const PRESETS: Record<PresetId, { label: string; why: string; settings: PresetSettings }> = {
  quick: {
    label: 'Quick',
    why: 'A first look in minutes: one pass, batches of 16, texts cut at 64 tokens.',
    settings: { epochs: 1, batchSize: 16, lr: 5e-5, maxLength: 64, warmup: 0.1 },
  },
  balanced: {
    label: 'Balanced',
    why: 'The usual fine-tuning recipe (the command line’s defaults): one pass, batches of 32, 128 tokens.',
    settings: { epochs: 1, batchSize: 32, lr: 2e-5, maxLength: 128, warmup: 0.1 },
  },
  thorough: {
    label: 'Thorough',
    why: 'Three passes, batches of 64 (more in-batch negatives), 256 tokens: slower, needs more memory.',
    settings: { epochs: 3, batchSize: 64, lr: 2e-5, maxLength: 256, warmup: 0.1 },
  },
};

export interface TrainForm extends PresetSettings {
  /** Blank: whole epochs. */
  maxSteps: number | null;
  /** Evaluate on the dataset's held-out rows (split.json) every N steps; 0: only at the end; null: about 5 times a run. */
  evaluate: boolean;
  evalEvery: number | null;
  checkpointEvery: number;
  seed: number;
  device: DeviceChoice;
  precision: PrecisionChoice;
}

export function formFromPreset(id: PresetId): TrainForm {
  return { ...PRESETS[id].settings, maxSteps: null, evaluate: true, evalEvery: null, checkpointEvery: 0, seed: 42, device: 'auto', precision: 'fp32' };
}

/** The preset the settings still match, or null once the user changed one of them. */
export function matchingPreset(f: PresetSettings): PresetId | null {
  const keys = Object.keys(PRESETS.quick.settings) as (keyof PresetSettings)[];
  return (Object.keys(PRESETS) as PresetId[]).find((id) => keys.every((k) => PRESETS[id].settings[k] === f[k])) ?? null;
}

export function trainFormProblem(f: TrainForm): string | null {
  const posInt = (v: number | null) => v !== null && Number.isInteger(v) && v >= 1;
  if (!posInt(f.epochs)) return 'Epochs must be a whole number of at least 1.';
  if (f.maxSteps != null && !posInt(f.maxSteps)) return 'Max steps must be a whole number of at least 1, or blank for whole epochs.';
  if (!posInt(f.batchSize)) return 'Batch size must be a whole number of at least 1, e.g. 32.';
  if (!(f.lr > 0)) return 'The learning rate must be a positive number, e.g. 2e-5.';
  if (!Number.isInteger(f.maxLength) || f.maxLength < 3) return 'Max length must be a whole number of tokens, at least 3, e.g. 128.';
  if (!(f.warmup >= 0)) return 'Warmup must be at least 0: a fraction of the run (0.1) or a number of steps.';
  if (f.evalEvery != null && (!Number.isInteger(f.evalEvery) || f.evalEvery < 0)) return 'Evaluate every must be a whole number of steps (0: only at the end), or blank for about five times a run.';
  if (!Number.isInteger(f.checkpointEvery) || f.checkpointEvery < 0) return 'Checkpoint every must be a whole number of steps (0: only at the end).';
  if (!Number.isInteger(f.seed)) return 'The seed must be a whole number.';
  return null;
}

export { autoEvalEvery };

/**
 * `eval` is the dataset itself: the engine evaluates on its split.json held-out rows (and
 * trains on the rest). `steps` is plannedSteps, for the automatic evaluation interval.
 * `template` is the Templates page's; with both roles empty it is left out, so the engine
 * applies the model's own prompts (an empty template would turn those off too).
 */
export function trainRequest(
  f: TrainForm,
  io: { model: string; dataset: string; out: string; canEvaluate: boolean; steps: number; template?: { query: string; document: string } },
): TrainRequest {
  const evaluate = f.evaluate && io.canEvaluate;
  const template = io.template && (io.template.query || io.template.document) ? { template: { query: io.template.query, document: io.template.document } } : {};
  return {
    model: io.model,
    dataset: io.dataset,
    out: io.out,
    settings: {
      epochs: f.epochs, maxSteps: f.maxSteps ?? null, batchSize: f.batchSize, lr: f.lr, maxLength: f.maxLength, warmup: f.warmup,
      seed: f.seed, device: f.device, precision: f.precision, checkpointEvery: f.checkpointEvery,
      eval: evaluate ? io.dataset : null, evalEvery: evaluate ? (f.evalEvery ?? autoEvalEvery(io.steps)) : 0,
      ...template,
    },
  };
}

/** Resuming must repeat the run's settings exactly (the engine refuses otherwise): taken from its config.json. */
export function resumeRequest(run: RunView): TrainRequest {
  const c = run.config;
  const settings = Object.fromEntries(RESUME_REPEATED_SETTINGS.filter((k) => k in c).map((k) => [k, c[k]])) as TrainRequest['settings'];
  return { model: String(c.model), dataset: String(c.data), out: run.dir, resume: true, settings };
}

/** Steps the engine will plan: ceil(rows / batch) per epoch (the last batch is smaller), or max steps. */
export function plannedSteps(trainRows: number, f: Pick<TrainForm, 'batchSize' | 'epochs' | 'maxSteps'>): number {
  // A cleared number field binds as null (or undefined): whole epochs.
  if (f.maxSteps != null) return f.maxSteps;
  return Math.ceil(trainRows / Math.max(1, f.batchSize)) * f.epochs;
}

export interface MemoryEstimate {
  /** Parameters with their gradients and AdamW state (old and new), plus the runtime. */
  weights: number;
  /** Activations kept for the backward pass. */
  activations: number;
  total: number;
}

/**
 * Bytes per unit, fitted to peak RSS of MiniLM-shape steps on the CPU EP (bench/README.md,
 * session 3: 16×64, 32×64, 64×64 and 32×128 pairs × tokens, dropout 0.1, 1.41–3.92 GiB):
 * the four measurements agree with the fit to within 2 %.
 */
export const MEMORY_BYTES = {
  /** Per parameter: weights, gradient, Adam m and v, and the step's new weights, m and v beside the old. */
  state: 28,
  /**
   * Per frozen parameter (LoRA's base weights, `train --lora`): the weight, and for adapted
   * linears the weight W + (alpha/r)·B·A the step forms and its gradient; no moments. Measured
   * at batch 8 × 64 (bench/README.md): MiniLM r 16 0.64 GiB (this gives 0.86), ModernBERT-base
   * r 16 3.49 GiB (this gives 3.20) — within 35 %, the activation term's error at small batches.
   */
  frozen: 12,
  /** onnxruntime, Node and the app's own, whatever the model. */
  runtime: 400e6,
  /** Per (text, token, hidden unit, layer): what the layers keep for the backward pass. */
  token: 36,
  /** Per (text, head, token², layer): attention scores and probabilities kept for the backward pass. */
  attention: 33,
} as const;

/**
 * Memory one training step needs: parameters × 28 + 400 MB + texts · length · hidden · layers · 36
 * + texts · heads · length² · layers · 33 bytes, where each query brings 2 + N texts (itself,
 * its positive, N hard negatives) padded to `length` tokens. Measured on the CPU; on a GPU
 * the same tensors sit in its memory. Long texts cost mostly attention (length²).
 */
export function estimateMemory(
  model: { params: number; hidden: number; layers: number; heads: number },
  step: { batchSize: number; negatives: number; maxLength: number; /** LoRA: the adapters' parameter count (the rest is frozen). */ trainedParams?: number },
): MemoryEstimate {
  const texts = step.batchSize * (2 + step.negatives);
  const L = step.maxLength;
  const trained = Math.min(step.trainedParams ?? model.params, model.params);
  const weights = trained * MEMORY_BYTES.state + (model.params - trained) * MEMORY_BYTES.frozen + MEMORY_BYTES.runtime;
  const activations = texts * L * model.layers * (model.hidden * MEMORY_BYTES.token + model.heads * L * MEMORY_BYTES.attention);
  return { weights, activations, total: weights + activations };
}

/** Largest label count over smallest (1 = even); null without labels. */
export function labelImbalance(labels: Record<string, number> | null): { ratio: number; largest: string; smallest: string } | null {
  const entries = Object.entries(labels ?? {}).filter(([, n]) => n > 0);
  if (entries.length < 2) return null;
  entries.sort((a, b) => b[1] - a[1]);
  const [largest, most] = entries[0];
  const [smallest, least] = entries[entries.length - 1];
  return { ratio: most / least, largest, smallest };
}

/**
 * Seconds left from two observations of the job's step count: the rate since this page first
 * saw it (not since the job began, which may be before a resume). Null until a step passed.
 */
export function etaSeconds(first: { t: number; done: number }, last: { t: number; done: number }, total: number): number | null {
  const steps = last.done - first.done;
  if (steps <= 0 || last.t <= first.t) return null;
  return ((total - last.done) * (last.t - first.t)) / 1000 / steps;
}

export type SeriesKey = 'loss' | 'lr' | 'gradNorm' | 'pairsPerSec';

/** One metric of metrics.jsonl against the step; missing values become NaN (a gap). */
export function series(metrics: readonly Record<string, unknown>[], key: SeriesKey): { x: number; y: number }[] {
  return metrics.map((m) => ({ x: Number(m.step), y: typeof m[key] === 'number' ? (m[key] as number) : NaN }));
}

/** The evaluation points: steps that ran an evaluation, with the chosen metric's value. */
export function evalSeries(metrics: readonly Record<string, unknown>[], metric: string): { x: number; y: number }[] {
  return metrics.flatMap((m) => {
    const e = m.eval as Record<string, number> | undefined;
    return e && typeof e[metric] === 'number' ? [{ x: Number(m.step), y: e[metric] }] : [];
  });
}

/** A new run name: '<dataset>-<preset>', then '-2', '-3' … past the runs that exist. */
export function runName(dataset: string, preset: string, taken: readonly string[]): string {
  const base = `${dataset}-${preset}`;
  if (!taken.includes(base)) return base;
  let i = 2;
  while (taken.includes(`${base}-${i}`)) i++;
  return `${base}-${i}`;
}
