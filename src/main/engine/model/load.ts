// Loading a model folder (DESIGN §5): Hugging Face config + safetensors weights, the
// sentence-transformers modules around them, and which tokenizer files it has. The encoder's
// parameter list comes from the caller (`expected`), so this file knows file formats only.
import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { readJsonIfExists } from '../tokenize/tokenizer-files.js';
import { loadTokenizer, type Tokenizer } from '../tokenize/tokenizer.js';
import { parseModelConfig, positionLimit } from './config.js';
import type { ModelConfig } from './config.js';
import type { SafeTensor } from './safetensors.js';
import { readDenseWeights } from './dense-modules.js';
import { readSentenceConfig, type SentenceConfig } from './sentence-config.js';
import { readWeights, type ExpectedParams } from './weights.js';

/** Tokenizer files a save copies, when the source has them. */
export const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.txt',
  'vocab.json',
  'merges.txt',
  'added_tokens.json',
  'sentencepiece.bpe.model',
  'spiece.model',
];

export interface LoadedModel {
  /** The folder given. */
  dir: string;
  /** Where config.json and the tokenizer files are (dir, or dir/0_Transformer in old saves). */
  hfDir: string;
  config: ModelConfig;
  /** Encoder parameters, float32, bare BertModel keys, in the expected order. */
  params: Map<string, Float32Array>;
  shapes: Map<string, readonly number[]>;
  /** pooler.* and other unused encoder tensors: saved back unchanged. */
  passthrough: Map<string, SafeTensor>;
  sentence: SentenceConfig;
  /** TOKENIZER_FILES present in hfDir. */
  tokenizerFiles: string[];
  /** What the loader decided on the user's behalf (dropped heads, defaults, limits), for display. */
  notes: string[];
}

export interface LoadOptions {
  /** The encoder's parameters for a config: key → shape (nn's specs in production). */
  expected: ExpectedParams;
}

/**
 * Why a model folder gave no config.json. Paths are typed in the browser, so the usual cause is
 * a folder that is not there (a typo), which "has no config.json" hid (issue 15 item 18).
 */
/** A model folder, or a training run's `model/` (DESIGN §6: RUN_DIR/model/ is a complete model folder). */
export async function modelDir(dir: string): Promise<string> {
  const has = (p: string) => access(p).then(() => true, () => false);
  // A run folder has a config.json too (the run's settings), but no weights beside it.
  if (!(await has(join(dir, 'model.safetensors'))) && (await has(join(dir, 'model', 'config.json')))) return join(dir, 'model');
  return dir;
}

export async function noConfigError(dir: string, needs: string): Promise<EngineError> {
  const found = await stat(dir).catch(() => null);
  if (!found) return new EngineError('NOT_FOUND', `${dir} does not exist; check the path, or give a Hugging Face model folder (${needs}), e.g. from \`embedsmith pull ORG/NAME\``, { dir });
  return new EngineError('NOT_FOUND', `${dir} has no config.json; give a Hugging Face model folder (${needs}), e.g. from \`embedsmith pull ORG/NAME\``, { dir });
}

export async function loadModelFolder(dir: string, opts: LoadOptions): Promise<LoadedModel> {
  const notes: string[] = [];
  // modules.json may move the transformers files into a sub-folder; read it before config.json.
  const probe = await readSentenceConfig(dir, -1).catch(() => undefined);
  const hfDir = probe?.transformerPath ? join(dir, probe.transformerPath) : dir;
  const configFile = join(hfDir, 'config.json');
  const raw = await readJsonIfExists(configFile);
  if (raw === undefined) throw await noConfigError(dir, 'config.json + model.safetensors + tokenizer files');
  const config = parseModelConfig(raw, configFile);
  const sentence = await readSentenceConfig(dir, config.hiddenSize);
  const weights = await readWeights(hfDir, config, opts.expected);
  // The Dense modules' weights follow the encoder's (nn's paramSpecs lists them last).
  const dense = await readDenseWeights(dir, sentence.dense);
  for (const [k, v] of dense.params) weights.params.set(k, v);
  for (const [k, v] of dense.shapes) weights.shapes.set(k, v);
  if (weights.dropped.length > 0) notes.push(`not loaded (task heads and buffers, unused by an embedder): ${weights.dropped.join(', ')}`);
  if (weights.prefix) notes.push(`stripped the key prefix '${weights.prefix}'`);
  const nonF32 = Object.entries(weights.dtypes).filter(([d]) => d !== 'F32');
  if (nonF32.length > 0) notes.push(`widened ${nonF32.map(([d, n]) => `${n} ${d}`).join(', ')} tensor(s) to float32 (exact)`);
  if (!sentence.fromModules) notes.push('no modules.json: using mean pooling without normalisation, as sentence-transformers does for a plain transformers model');
  const present = new Set(await readdir(hfDir));
  return {
    dir,
    hfDir,
    config,
    params: weights.params,
    shapes: weights.shapes,
    passthrough: weights.passthrough,
    sentence,
    tokenizerFiles: TOKENIZER_FILES.filter((f) => present.has(f)),
    notes,
  };
}

export { positionLimit };

/** The model's tokenizer, with sentence-transformers' max_seq_length and lowercasing applied. */
export async function loadModelTokenizer(model: LoadedModel, maxLength?: number): Promise<Tokenizer> {
  const limit = positionLimit(model.config);
  const want = maxLength ?? model.sentence.maxSeqLength ?? undefined;
  if (want !== undefined && want > limit) {
    throw new EngineError('BAD_INPUT', `max length ${want} exceeds the model's ${limit} positions (config.json max_position_embeddings ${model.config.maxPositionEmbeddings}); use at most ${limit}`);
  }
  const tok = await loadTokenizer(model.hfDir, { maxLength: want, hasTokenTypeIds: model.config.family === 'bert', lowercaseInput: model.sentence.doLowerCase });
  // tokenizer_config's model_max_length may exceed the positions (some repos say 1e30 or 8192).
  return tok.maxLength > limit ? loadTokenizer(model.hfDir, { maxLength: limit, hasTokenTypeIds: model.config.family === 'bert', lowercaseInput: model.sentence.doLowerCase }) : tok;
}
