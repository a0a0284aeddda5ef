// Every setting of a training run, resolved to a value (DESIGN §6 `embedsmith train`), and
// their checks. RUN_DIR/config.json holds exactly this object, so a run can be read, repeated
// and resumed; `--resume` refuses to continue a run whose settings changed underneath it.

import { availableParallelism } from 'node:os';
import { EngineError } from '../../../shared/errors.js';
import { settingProblem } from '../../../shared/setting-table.js';
import { TRAIN_SETTING_DEFAULTS, resumeMatchedKeys, trainSettingRows, type TrainSettingValues } from '../../../shared/train-settings.js';
import { rolePrompt } from '../model/embed.js';
import { readSentenceConfig } from '../model/sentence-config.js';
import { lossChoices } from './losses/index.js';

/** Every setting of a run (src/shared/train-settings.ts declares each: default, check, flag, doc). */
export type TrainSettings = TrainSettingValues;

export const TRAIN_DEFAULTS = TRAIN_SETTING_DEFAULTS;

function bad(setting: string, message: string): EngineError {
  return new EngineError('BAD_INPUT', `--${setting}: ${message}`, { setting });
}

export function checkSettings(s: TrainSettings): TrainSettings {
  // Each setting against its row (src/shared/train-settings.ts): its kind, null, choices, its
  // documented range (finite, whole where it counts something, bounds that say why) and own rule.
  const ctx = { cores: availableParallelism() };
  const values = s as unknown as Record<string, unknown>;
  for (const row of trainSettingRows()) {
    const problem = settingProblem(row, values[row.key], ctx);
    if (problem) throw new EngineError('BAD_INPUT', problem, { setting: row.flag, value: JSON.stringify(values[row.key]) ?? 'undefined' });
  }
  // The loss registry's names (the table takes any word: the losses are the engine's).
  if (!lossChoices().includes(s.loss)) throw bad('loss', `'${s.loss}' is not a loss; use ${lossChoices().join(', ')}`);
  // Rules between settings.
  if (s.matryoshkaWeights !== null) {
    if (s.matryoshka === null) throw bad('matryoshka-weights', 'needs --matryoshka (the widths the weights belong to)');
    if (s.matryoshkaWeights.length !== s.matryoshka.length) {
      throw bad('matryoshka-weights', `${s.matryoshkaWeights.length} weight(s) for ${s.matryoshka.length} width(s) (${s.matryoshka.join(',')}); give one weight per width`);
    }
  }
  if (s.guide !== null && s.symmetric) throw bad('guide', 'masks queries → documents only; drop --symmetric or --guide');
  if (s.lora === null && (s.loraAlpha !== null || s.loraTargets !== null || s.loraDropout !== 0)) {
    throw bad('lora', '--lora-alpha, --lora-dropout and --lora-targets set up LoRA; give the rank too, e.g. --lora 16');
  }
  if (s.lora !== null && s.gradCacheRows !== null) throw bad('lora', 'does not run with --grad-cache yet (its chunk graphs have no frozen inputs); drop one of them');
  return s;
}

/** The settings --resume must match, as one object (the checkpoint's fingerprint hashes it). */
export function resumeSettings(s: TrainSettings): Partial<TrainSettings> {
  const values = s as unknown as Record<string, unknown>;
  return Object.fromEntries(resumeMatchedKeys().map((k) => [k, values[k]])) as Partial<TrainSettings>;
}

export function resumeMismatch(saved: TrainSettings, now: TrainSettings): string | null {
  const was = saved as unknown as Record<string, unknown>;
  const is = now as unknown as Record<string, unknown>;
  for (const row of trainSettingRows()) {
    if (row.resume !== 'match') continue;
    const k = row.key;
    // A run saved before a setting existed ran with that setting's default.
    const before = k in was ? was[k] : row.default;
    if (JSON.stringify(before) !== JSON.stringify(is[k])) return `${k} was ${JSON.stringify(before)}, now ${JSON.stringify(is[k])}`;
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
