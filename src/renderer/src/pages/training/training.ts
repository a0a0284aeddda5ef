// The Training page's rules without the markup: presets, the form and the TrainRequest it
// makes (DESIGN §6 `embedsmith train`), the pre-flight memory estimate, the ETA, the series
// the charts draw from metrics.jsonl, and the request that resumes a stopped run.
import type { RunView, TrainRequest } from '../../../../shared/api.js';
import { rangeWords, settingProblem, type SettingRow, type SettingUi } from '../../../../shared/setting-table.js';
import { resumeRepeatedKeys, settingsFromJson, trainSettingRow, type TrainRequestSettings } from '../../../../shared/train-settings.js';
import { LORA_ADVISED_PARAMS, autoEvalEvery } from '../../../../shared/train-defaults.js';

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

/**
 * The form holds every request setting of the settings table (src/shared/train-settings.ts) at
 * its default, a preset's on top; the page shows the rows marked for it (trainFormFields).
 * `evaluate` is the page's own switch: on the dataset's held-out rows (split.json), every
 * `evalEvery` steps; 0: only at the end; null: about five times a run.
 */
export type TrainForm = Required<Omit<TrainRequestSettings, 'eval' | 'template' | 'evalEvery'>> & {
  evaluate: boolean;
  evalEvery: number | null;
};

/** The table's rows the form holds: every request setting but `eval` and `template`, which come from the page. */
function formRows(): SettingRow[] {
  return resumeRepeatedKeys()
    .filter((k) => k !== 'eval' && k !== 'template')
    .map((k) => trainSettingRow(k)!);
}

/** The fields the page shows, from the table (rows registered at run time included), in its order. */
export function trainFormFields(): (SettingRow & { ui: SettingUi })[] {
  return formRows().filter((r): r is SettingRow & { ui: SettingUi } => r.ui !== undefined);
}

/** The LoRA rank the presets choose: adapters of rank 16 (PEFT's usual choice for encoders). */
export const PRESET_LORA_RANK = 16;

/**
 * LoRA or full fine-tuning for this model: every preset adapts a model above
 * LORA_ADVISED_PARAMS (the Models page's advice, shared/train-defaults) with rank-16 adapters,
 * since full fine-tuning would keep 16 bytes of weights, gradients and AdamW moments per
 * parameter; smaller models train every weight. Null model (none chosen yet): full.
 */
export function presetLora(model: { params: number } | null): number | null {
  return model && model.params > LORA_ADVISED_PARAMS ? PRESET_LORA_RANK : null;
}

/** A preset's settings for this model: its own, and LoRA where the model is large. */
export function presetSettings(id: PresetId, model: { params: number } | null): PresetSettings & { lora: number | null } {
  return { ...PRESETS[id].settings, lora: presetLora(model) };
}

export function formFromPreset(id: PresetId, model: { params: number } | null = null): TrainForm {
  const defaults = Object.fromEntries(formRows().map((r) => [r.key, r.default]));
  return { ...defaults, ...presetSettings(id, model), evaluate: true, evalEvery: null } as TrainForm;
}

/** The preset the settings still match for this model (LoRA included), or null once the user changed one of them. */
export function matchingPreset(f: PresetSettings & { lora?: number | null }, model: { params: number } | null = null): PresetId | null {
  const keys = Object.keys(PRESETS.quick.settings) as (keyof PresetSettings)[];
  const lora = presetLora(model);
  return (Object.keys(PRESETS) as PresetId[]).find((id) => keys.every((k) => PRESETS[id].settings[k] === f[k]) && (f.lora ?? null) === lora) ?? null;
}

const CTX = { cores: 1 };

/**
 * The first field the engine would refuse, said with the field's label and the fix: each row's
 * own check (kind, range, choices), as the engine applies it. A blank "evaluate every" is
 * allowed: it means about five times a run.
 */
export function trainFormProblem(f: TrainForm): string | null {
  const values = f as unknown as Record<string, unknown>;
  for (const row of formRows()) {
    // A cleared number field binds as null or undefined: blank, a value where the row allows null.
    const raw = values[row.key] ?? (row.nullable || row.key === 'evalEvery' ? null : undefined);
    const v = row.key === 'evalEvery' && raw === null ? 0 : raw;
    const problem = settingProblem(row, v, CTX);
    if (problem === null) continue;
    const label = row.ui?.label ?? row.key;
    if (row.kind === 'int' || row.kind === 'number') {
      const range = rangeWords(row, CTX);
      const eg = row.example ?? (row.default !== null && row.default !== undefined ? String(row.default) : null);
      return `${label} must be ${row.kind === 'int' ? 'a whole number' : 'a number'}${range ? ` ${range}` : ''}${row.nullable ? ', or blank' : ''}${eg ? `, e.g. ${eg}` : ''}.`;
    }
    return `${label}: ${problem.replace(/^--\S+:? ?/, '')}`;
  }
  return null;
}

export { autoEvalEvery };

/** A text, list or number field's value as the input shows it ('' for unset). */
export function fieldText(row: SettingRow, value: unknown): string {
  return value === null || value === undefined ? '' : Array.isArray(value) ? value.join(',') : String(value);
}

/**
 * What the user typed as the row's value: '' is null where the row allows it; lists split at
 * commas. A word that is not a number stays NaN, for trainFormProblem to name.
 */
export function fieldValue(row: SettingRow, text: string): unknown {
  const t = text.trim();
  if (t === '' && row.nullable) return null;
  if (row.kind === 'int' || row.kind === 'number') return t === '' ? NaN : Number(t);
  if (row.kind === 'numbers') return t.split(',').map((w) => (w.trim() === '' ? NaN : Number(w)));
  if (row.kind === 'names') return t.split(',').map((w) => w.trim());
  return t;
}


/**
 * `eval` is the dataset itself: the engine evaluates on its split.json held-out rows (and
 * trains on the rest). `steps` is plannedSteps, for the automatic evaluation interval.
 * `template` is the Templates page's; with both roles empty it is left out, so the engine
 * applies the model's own prompts (an empty template would turn those off too). The fields the
 * page shows up front are always sent; the others only where they differ from the table's
 * default, so the request says what the user chose.
 */
export function trainRequest(
  f: TrainForm,
  io: { model: string; dataset: string; out: string; canEvaluate: boolean; steps: number; template?: { query: string; document: string } },
): TrainRequest {
  const evaluate = f.evaluate && io.canEvaluate;
  const template = io.template && (io.template.query || io.template.document) ? { template: { query: io.template.query, document: io.template.document } } : {};
  const values = f as unknown as Record<string, unknown>;
  const sent = formRows().filter((r) => r.key !== 'evalEvery' && (r.ui?.advanced === false || JSON.stringify(values[r.key] ?? null) !== JSON.stringify(r.default)));
  return {
    model: io.model,
    dataset: io.dataset,
    out: io.out,
    settings: {
      ...Object.fromEntries(sent.map((r) => [r.key, values[r.key] ?? null])),
      eval: evaluate ? io.dataset : null,
      evalEvery: evaluate ? (f.evalEvery ?? autoEvalEvery(io.steps)) : 0,
      ...template,
    },
  };
}

/**
 * Resuming must repeat the run's settings exactly (the engine refuses otherwise): every request
 * setting of the table, taken from its config.json.
 */
export function resumeRequest(run: RunView): TrainRequest {
  const c = settingsFromJson(run.config);
  const settings = Object.fromEntries(resumeRepeatedKeys().filter((k) => k in c).map((k) => [k, c[k]])) as TrainRequest['settings'];
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
 * Bytes per unit, fitted to the peak RSS of eight training steps on the CPU EP (bench/README.md,
 * "Memory of a step", 2026-12-07; dropout 0.1, fp32): MiniLM full at 16×64, 32×64, 64×64 and
 * 32×128 pairs × tokens (1.68–4.05 GiB), gte-modernbert-base and all-mpnet-base-v2 full at
 * 8×64 (9.68 and 6.41 GiB), ModernBERT-base and EmbeddingGemma-300m with LoRA r 16 at 8×64
 * (3.10 and 6.83 GiB). The fit is within 28 % of each (onnxruntime's arena grows in doublings,
 * so peaks come in steps no linear rule follows); the rule before it (28 bytes a parameter,
 * fitted to small models only) said half of what the base-size models took.
 */
export const MEMORY_BYTES = {
  /**
   * Per trained parameter: the flat weights and AdamW moments in and out (the step's outputs sit
   * beside its inputs), each tensor's gradient and the flat one, and AdamW's full-size temporaries.
   */
  state: 58,
  /** Per frozen parameter (LoRA's base weights, `train --lora`): the weight, its per-tensor view, and the activations' share that scales with the model. */
  frozen: 18,
  /** onnxruntime, Node and the app's own, whatever the model. */
  runtime: 400e6,
  /** Per (text, token, hidden unit, layer): what the layers keep for the backward pass. */
  token: 31,
  /** Per (text, head, token², layer): attention scores and probabilities kept for the backward pass. */
  attention: 29,
} as const;

/**
 * Memory one training step needs: trained parameters × 58 + frozen ones × 18 + 400 MB
 * + texts · length · hidden · layers · 31 + texts · heads · length² · layers · 29 bytes, where each query brings 2 + N texts (itself,
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
