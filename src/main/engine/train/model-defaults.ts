// What a base model says about how to train it, read from its config files only (no weights):
// the length it was trained at and its width. Training defaults follow them, as
// sentence-transformers keeps a model's own max_seq_length, instead of fixed numbers that make
// a small or short model worse (issue 15 §1–2).
import { join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { defaultLearningRate } from '../../../shared/train-defaults.js';
import { parseModelConfig } from '../model/config.js';
import { positionLimit } from '../model/load.js';
import { readSentenceConfig } from '../model/sentence-config.js';
import { readJsonIfExists } from '../tokenize/tokenizer-files.js';

export interface ModelLimits {
  /** sentence_bert_config.json max_seq_length: the length the model was trained at; null when the folder does not say. */
  trained: number | null;
  /** Longest input the position table holds (config.json max_position_embeddings, less RoBERTa's padding rows). */
  positions: number;
  hidden: number;
}

export async function readModelLimits(modelDir: string): Promise<ModelLimits> {
  const sentence = await readSentenceConfig(modelDir, -1);
  const hfDir = sentence.transformerPath ? join(modelDir, sentence.transformerPath) : modelDir;
  const file = join(hfDir, 'config.json');
  const raw = await readJsonIfExists(file);
  if (raw === undefined) throw new EngineError('NOT_FOUND', `${modelDir} has no config.json; give a Hugging Face model folder (config.json + model.safetensors + tokenizer files)`, { dir: modelDir });
  const config = parseModelConfig(raw, file);
  return { trained: sentence.maxSeqLength, positions: positionLimit(config), hidden: config.hiddenSize };
}

/** The model's own length: its max_seq_length, else its position limit. */
export function ownMaxLength(l: ModelLimits): number {
  return l.trained === null ? l.positions : Math.min(l.trained, l.positions);
}

/** A warning when `maxLength` reaches past the positions the model was trained with; null when it does not. */
export function maxLengthWarning(maxLength: number, l: ModelLimits, setting = '--max-length'): string | null {
  if (l.trained === null || maxLength <= l.trained) return null;
  return (
    `${setting} ${maxLength} is longer than the ${l.trained} tokens the model was trained with (sentence_bert_config.json max_seq_length): ` +
    `positions ${l.trained}–${maxLength - 1} have never been trained and texts that reach them may embed worse. ` +
    `Leave ${setting} out to use ${l.trained}, or keep it if you mean to extend the model's length`
  );
}

/** Defaults for `train`/`pretrain` settings the user left out. */
export function modelTrainDefaults(l: ModelLimits): { maxLength: number; lr: number } {
  return { maxLength: ownMaxLength(l), lr: defaultLearningRate(l.hidden) };
}
