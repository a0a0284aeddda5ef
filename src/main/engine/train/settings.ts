// Every setting of a training run, resolved to a value (DESIGN §6 `embedsmith train`), and
// their checks. RUN_DIR/config.json holds exactly this object, so a run can be read, repeated
// and resumed; `--resume` refuses to continue a run whose settings changed underneath it.

import { availableParallelism } from 'node:os';
import { EngineError } from '../../../shared/errors.js';
import { TRAIN_RANGES, rangeProblem, type SettingRange } from '../../../shared/setting-ranges.js';
import { RESUME_MATCHED_SETTINGS } from '../../../shared/jobs.js';
import { PRECISION_CHOICES, type PrecisionChoice } from '../../../shared/jobs.js';
import type { InstructionTemplate } from '../data/templates.js';
import { rolePrompt } from '../model/embed.js';
import { readSentenceConfig } from '../model/sentence-config.js';
import type { DevicePref } from '../runtime/index.js';
import type { ScheduleName } from './schedule.js';

export interface TrainSettings {
  /** Base model folder. */
  model: string;
  /** Training dataset folder (pairs or triplets; rows in split.json's eval side are held out). */
  data: string;
  /** Evaluation dataset folder (default: none; --eval). */
  eval: string | null;
  epochs: number;
  /** Takes precedence over epochs; data repeats epoch after epoch. */
  maxSteps: number | null;
  /** Queries per step. */
  batchSize: number;
  lr: number;
  /** Fraction of the run (< 1) or a number of steps. */
  warmup: number;
  schedule: ScheduleName;
  weightDecay: number;
  /** Cosine similarities are divided by this (0.05 = sentence-transformers' scale 20). */
  temperature: number;
  /** Tokens per text, special tokens included. */
  maxLength: number;
  /** Dropout probability everywhere, or null for the model config's own. */
  dropout: number | null;
  seed: number;
  shuffle: boolean;
  /** Hard negatives per query used per step (null: as many as the data has). */
  negatives: number | null;
  maxGradNorm: number;
  /** Evaluate every N steps (0: only at the end). */
  evalEvery: number;
  /** Metric that picks the best model and drives early stopping. */
  metric: string;
  /** Stop after this many evaluations without improvement (0: never). */
  patience: number;
  /** Checkpoint every N steps (0: only at the end). */
  checkpointEvery: number;
  keepCheckpoints: number;
  device: DevicePref;
  /** fp16: mixed precision (float16 activations and matmuls, dynamic loss scale); auto: fp16 on WebGPU with shader-f16. */
  precision: PrecisionChoice;
  /** Instruction templates by role; empty strings mean the model's own prompts are not used either. */
  template: Pick<InstructionTemplate, 'query' | 'document'>;
  /** CPU threads (recorded: results are bit-exact only for the same count). */
  threads: number;
  /** 'auto': InfoNCE for pairs/triplets, SupCon for labelled texts, CoSENT for scored pairs. */
  loss: 'auto' | 'infonce' | 'supcon' | 'cosent';
  /** InfoNCE both ways (queries → documents and positives → queries). */
  symmetric: boolean;
  /** Learn the temperature (starting at `temperature`), as CLIP's logit scale; capped at 1/100. */
  learnTemperature: boolean;
  /**
   * Gradient caching (Gao et al. 2021): embed the batch in chunks of this many rows, take the
   * loss gradient w.r.t. the embeddings, then backpropagate chunk by chunk. A big batch (more
   * in-batch negatives) in the memory of a small one, with the same result. null: off.
   */
  gradCacheRows: number | null;
  /**
   * Matryoshka widths (Kusupati et al. 2022): the loss is summed over these prefix widths of
   * the embedding, each re-normalised, so `embed --dims N` keeps quality at N. null: off.
   */
  matryoshka: number[] | null;
  /** One weight per Matryoshka width (null: 1 each, as sentence-transformers). */
  matryoshkaWeights: number[] | null;
  /**
   * Guide model for in-batch negatives (GISTEmbed): a model folder, or 'base' for the base
   * model frozen. Candidates it scores above a query's positive leave that query's softmax. null: off.
   */
  guide: string | null;
  /** GISTEmbedLoss' margin: absolute masks s > s⁺ − margin, relative s > s⁺·(1 − margin). */
  guideMargin: number;
  guideMarginStrategy: 'absolute' | 'relative';
  /**
   * LoRA rank r (nn/lora-step.ts): only low-rank adapters of the targeted linears train, AdamW
   * keeps state for them alone, and they are merged into the weights on save. null: full fine-tuning.
   */
  lora: number | null;
  /** The adapters' update is scaled by alpha / r; null: 2·r. */
  loraAlpha: number | null;
  /** Adapter dropout; only 0 (PEFT's default) is supported. */
  loraDropout: number;
  /** Module names that get adapters (the family's own key names, e.g. query,key,value,dense); null: every linear of a layer. */
  loraTargets: string[] | null;
}

export const TRAIN_DEFAULTS: Omit<TrainSettings, 'model' | 'data' | 'threads' | 'template'> = {
  eval: null,
  epochs: 1,
  maxSteps: null,
  batchSize: 32,
  lr: 2e-5,
  warmup: 0.1,
  schedule: 'linear',
  weightDecay: 0.01,
  temperature: 0.05,
  maxLength: 128,
  dropout: null,
  seed: 42,
  shuffle: true,
  negatives: null,
  maxGradNorm: 1.0,
  evalEvery: 0,
  metric: 'ndcg@10',
  patience: 0,
  checkpointEvery: 0,
  keepCheckpoints: 2,
  device: 'auto',
  precision: 'fp32',
  loss: 'auto',
  symmetric: false,
  learnTemperature: false,
  gradCacheRows: null,
  matryoshka: null,
  matryoshkaWeights: null,
  guide: null,
  guideMargin: 0,
  guideMarginStrategy: 'absolute',
  lora: null,
  loraAlpha: null,
  loraDropout: 0,
  loraTargets: null,
};

function bad(setting: string, message: string): EngineError {
  return new EngineError('BAD_INPUT', `--${setting}: ${message}`, { setting });
}

export function checkSettings(s: TrainSettings): TrainSettings {
  // Every numeric setting against its documented range (src/shared/setting-ranges.ts): finite,
  // whole where it counts something, and within bounds that say why.
  const ctx = { cores: availableParallelism() };
  for (const [key, range] of Object.entries(TRAIN_RANGES) as [keyof typeof TRAIN_RANGES, SettingRange][]) {
    const v = s[key];
    if (v === null) continue; // optional settings left unset (max-steps, dropout, negatives, grad-cache)
    const problem = rangeProblem(v as number, range, ctx);
    if (problem) throw new EngineError('BAD_INPUT', `${problem} Fix: give --${range.flag} a value in that range.`, { setting: range.flag, value: String(v) });
  }
  if (!['linear', 'constant'].includes(s.schedule)) throw bad('schedule', `'${s.schedule}' is not a schedule; use linear or constant`);
  if (s.matryoshka !== null) {
    if (!Array.isArray(s.matryoshka) || s.matryoshka.length === 0) throw bad('matryoshka', 'give one or more widths, e.g. 256,128,64');
    for (const d of s.matryoshka) if (!Number.isInteger(d) || d < 1) throw bad('matryoshka', `${d} must be a positive integer`);
    if (new Set(s.matryoshka).size !== s.matryoshka.length) throw bad('matryoshka', `${s.matryoshka.join(',')} lists a width twice; give each once`);
  }
  if (s.matryoshkaWeights !== null) {
    if (s.matryoshka === null) throw bad('matryoshka-weights', 'needs --matryoshka (the widths the weights belong to)');
    if (s.matryoshkaWeights.length !== s.matryoshka.length) {
      throw bad('matryoshka-weights', `${s.matryoshkaWeights.length} weight(s) for ${s.matryoshka.length} width(s) (${s.matryoshka.join(',')}); give one weight per width`);
    }
    for (const w of s.matryoshkaWeights) if (!(w > 0 && Number.isFinite(w))) throw bad('matryoshka-weights', `${w} must be a positive number, e.g. 1`);
  }
  if (!(Number.isFinite(s.guideMargin) && s.guideMargin >= 0 && s.guideMargin < 1)) throw bad('guide-margin', `${s.guideMargin} must be a number in [0, 1), e.g. 0 or 0.05`);
  if (!['absolute', 'relative'].includes(s.guideMarginStrategy)) throw bad('guide-margin-strategy', `'${s.guideMarginStrategy}' is not a strategy; use absolute or relative`);
  if (s.guide !== null && s.symmetric) throw bad('guide', 'masks queries → documents only; drop --symmetric or --guide');
  if (!(PRECISION_CHOICES as readonly string[]).includes(s.precision)) throw bad('precision', `'${s.precision}' is not a precision; use ${PRECISION_CHOICES.join(', ')}`);
  if (s.lora === null && (s.loraAlpha !== null || s.loraTargets !== null || s.loraDropout !== 0)) {
    throw bad('lora', '--lora-alpha, --lora-dropout and --lora-targets set up LoRA; give the rank too, e.g. --lora 16');
  }
  if (s.loraTargets !== null && (!Array.isArray(s.loraTargets) || s.loraTargets.length === 0 || s.loraTargets.some((t) => typeof t !== 'string' || !/^[\w-]+$/.test(t)))) {
    throw bad('lora-targets', `${JSON.stringify(s.loraTargets)}: give module names separated by commas, e.g. query,key,value,dense`);
  }
  if (s.lora !== null && s.gradCacheRows !== null) throw bad('lora', 'does not run with --grad-cache yet (its chunk graphs have no frozen inputs); drop one of them');
  if (!['auto', 'infonce', 'supcon', 'cosent'].includes(s.loss)) throw bad('loss', `'${s.loss}' is not a loss; use auto, infonce, supcon or cosent`);
  return s;
}

/** Settings that must match for --resume to continue bit-exactly. */
export const RESUME_KEYS: readonly (keyof TrainSettings)[] = ['model', 'data', 'threads', ...RESUME_MATCHED_SETTINGS];

/** The settings --resume must match, as one object (the checkpoint's fingerprint hashes it). */
export function resumeSettings(s: TrainSettings): Partial<TrainSettings> {
  return Object.fromEntries(RESUME_KEYS.map((k) => [k, s[k]]));
}

export function resumeMismatch(saved: TrainSettings, now: TrainSettings): string | null {
  for (const k of RESUME_KEYS) {
    // A run saved before a setting existed ran with that setting's default.
    const was = k in saved ? saved[k] : TRAIN_DEFAULTS[k as keyof typeof TRAIN_DEFAULTS];
    if (JSON.stringify(was) !== JSON.stringify(now[k])) return `${k} was ${JSON.stringify(was)}, now ${JSON.stringify(now[k])}`;
  }
  return null;
}

/**
 * The template a run uses when none is given: the model's own prompts per role, as it will be
 * used after training. Reads only the sentence-transformers config files, not the weights.
 */
export async function modelTemplate(modelDir: string): Promise<TrainSettings['template']> {
  const sentence = await readSentenceConfig(modelDir, -1);
  return { query: rolePrompt(sentence, 'query'), document: rolePrompt(sentence, 'document') };
}
