// The sentence-transformers side of a model folder (sentence-transformers' save format):
//   modules.json                      [{ idx, name, path, type }]: Transformer → Pooling → Normalize
//   1_Pooling/config.json             pooling_mode_cls_token / _mean_tokens / _lasttoken … booleans
//   2_Dense/config.json, model.safetensors  { in_features, out_features, bias, activation_function }
//                                     and 'linear.weight' / 'linear.bias' (EmbeddingGemma: 2_Dense, 3_Dense)
//   2_Normalize/                      present ⇔ embeddings are L2-normalised
//   sentence_bert_config.json         { max_seq_length, do_lower_case }
//   config_sentence_transformers.json { prompts: { name: text }, default_prompt_name, similarity_fn_name }
// A plain transformers folder (no modules.json) gets what sentence-transformers itself builds
// for one: mean pooling, no Normalize module.
import { join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { readJsonIfExists } from '../tokenize/tokenizer-files.js';

export type PoolingMode = 'cls' | 'mean' | 'lasttoken';

export interface SentenceConfig {
  pooling: PoolingMode;
  /** L2-normalise the pooled embedding (a Normalize module follows the pooling). */
  normalize: boolean;
  /** sentence_bert_config max_seq_length; null when the folder does not say. */
  maxSeqLength: number | null;
  /** Lowercase input text before tokenising (sentence_bert_config do_lower_case). */
  doLowerCase: boolean;
  /** Instruction templates by name, e.g. { query: 'query: ', document: 'passage: ' }. */
  prompts: Record<string, string>;
  defaultPromptName: string | null;
  similarityFnName: string | null;
  /** Pooling include_prompt: whether prompt tokens count in mean pooling (default true). */
  includePrompt: boolean;
  /** Sub-folder holding the transformers files ('' normally; '0_Transformer' in old saves). */
  transformerPath: string;
  /** The folder had modules.json (false: defaults above were applied). */
  fromModules: boolean;
  /**
   * config_sentence_transformers.json truncate_dim: loaders keep the first N dimensions of the
   * pooled embedding (a Matryoshka-trained model exported with `export --dims N`); absent: all.
   */
  truncateDim?: number | null;
  /** Dense modules between the pooling and Normalize, in pipeline order (none in most models). */
  dense: DenseModule[];
}

/** A sentence-transformers Dense module: its folder and shape (activation Identity: others are refused). */
export interface DenseModule {
  /** The module's folder, relative to the model folder (e.g. '2_Dense'). */
  path: string;
  inFeatures: number;
  outFeatures: number;
  bias: boolean;
}


const MODES: Array<[string, PoolingMode | null]> = [
  ['pooling_mode_cls_token', 'cls'],
  ['pooling_mode_mean_tokens', 'mean'],
  ['pooling_mode_lasttoken', 'lasttoken'],
  ['pooling_mode_max_tokens', null],
  ['pooling_mode_mean_sqrt_len_tokens', null],
  ['pooling_mode_weightedmean_tokens', null],
];

type Module = { idx?: number; name?: string; path?: string; type?: string };

/** 'mean', or with Dense modules after it (EmbeddingGemma) 'mean + Dense 768 → 3072 → 768' (the UI appends ' pooling' in places). */
export function poolingText(s: Pick<SentenceConfig, 'pooling' | 'dense'>): string {
  return s.dense.length ? `${s.pooling} + Dense ${[s.dense[0].inFeatures, ...s.dense.map((d) => d.outFeatures)].join(' → ')}` : s.pooling;
}

/** `hiddenSize` < 0 skips the pooling-dimension check (used before config.json is read). */
export async function readSentenceConfig(dir: string, hiddenSize: number): Promise<SentenceConfig> {
  const modulesFile = join(dir, 'modules.json');
  const modules = (await readJsonIfExists(modulesFile)) as Module[] | undefined;
  const out: SentenceConfig = {
    pooling: 'mean',
    normalize: false,
    maxSeqLength: null,
    doLowerCase: false,
    prompts: {},
    defaultPromptName: null,
    similarityFnName: null,
    includePrompt: true,
    transformerPath: '',
    fromModules: modules !== undefined,
    dense: [],
  };
  if (modules !== undefined) {
    if (!Array.isArray(modules)) throw new EngineError('SCHEMA', `${modulesFile} is not a JSON array of modules; re-save the model with sentence-transformers`, { file: modulesFile });
    let pooled = false;
    for (const m of modules) {
      const type = String(m.type ?? '');
      const path = String(m.path ?? '');
      // sentence-transformers < 5.4 writes sentence_transformers.models.X; 5.4+ moved the
      // classes (…base.modules.transformer.Transformer, …sentence_transformer.modules.pooling.Pooling):
      // the class name is what identifies the module.
      const cls = type.startsWith('sentence_transformers.') ? type.slice(type.lastIndexOf('.') + 1) : '';
      if (cls === 'Transformer') out.transformerPath = path;
      else if (cls === 'Normalize') out.normalize = true;
      else if (cls === 'Pooling') {
        Object.assign(out, await readPooling(join(dir, path, 'config.json'), hiddenSize));
        pooled = true;
      }
      // A Dense module acts on the pooled vector, before any Normalize.
      else if (cls === 'Dense' && pooled && !out.normalize) out.dense.push(await readDense(dir, path));
      else {
        throw new EngineError(
          'UNSUPPORTED',
          `${modulesFile}: module '${m.name ?? m.idx}' of type ${type} is not supported; Embedsmith handles Transformer → Pooling → Dense (any number) → Normalize pipelines, in that order. Pick a base model without ${type.slice(type.lastIndexOf('.') + 1)} layers there`,
          { file: modulesFile, type },
        );
      }
    }
  }
  const sbFile = join(dir, 'sentence_bert_config.json');
  const sb = ((await readJsonIfExists(sbFile)) ?? {}) as { max_seq_length?: unknown; do_lower_case?: unknown };
  if (sb.max_seq_length !== undefined && sb.max_seq_length !== null) {
    if (!Number.isInteger(sb.max_seq_length) || (sb.max_seq_length as number) < 2) {
      throw new EngineError('SCHEMA', `${sbFile}: max_seq_length is ${JSON.stringify(sb.max_seq_length)}; expected an integer ≥ 2`, { file: sbFile });
    }
    out.maxSeqLength = sb.max_seq_length as number;
  }
  out.doLowerCase = sb.do_lower_case === true;
  const stFile = join(dir, 'config_sentence_transformers.json');
  const st = ((await readJsonIfExists(stFile)) ?? {}) as { prompts?: unknown; default_prompt_name?: unknown; similarity_fn_name?: unknown; truncate_dim?: unknown };
  if (st.prompts !== undefined && st.prompts !== null) {
    const p = st.prompts as Record<string, unknown>;
    if (typeof p !== 'object' || Array.isArray(p) || !Object.values(p).every((v) => typeof v === 'string')) {
      throw new EngineError('SCHEMA', `${stFile}: prompts must map names to strings, e.g. {"query": "query: "}; got ${JSON.stringify(st.prompts)}`, { file: stFile });
    }
    out.prompts = p as Record<string, string>;
  }
  if (typeof st.default_prompt_name === 'string') {
    if (!(st.default_prompt_name in out.prompts)) {
      throw new EngineError('SCHEMA', `${stFile}: default_prompt_name '${st.default_prompt_name}' is not one of the prompts (${Object.keys(out.prompts).join(', ') || 'none'})`, { file: stFile });
    }
    out.defaultPromptName = st.default_prompt_name;
  }
  if (typeof st.similarity_fn_name === 'string') out.similarityFnName = st.similarity_fn_name;
  if (st.truncate_dim !== undefined && st.truncate_dim !== null) {
    const n = st.truncate_dim;
    if (!Number.isInteger(n) || (n as number) < 1 || (hiddenSize > 0 && (n as number) > hiddenSize)) {
      throw new EngineError('SCHEMA', `${stFile}: truncate_dim is ${JSON.stringify(n)}; expected an integer from 1 to the model's width${hiddenSize > 0 ? ` ${hiddenSize}` : ''} (or null for all dimensions)`, { file: stFile });
    }
    out.truncateDim = n as number;
  }
  return out;
}

/** The Identity activation's class name as sentence-transformers writes it (torch.nn.modules.linear.Identity, or torch.nn.Identity). */
const IDENTITY = /^torch\.nn\.(modules\.linear\.)?Identity$/;

async function readDense(dir: string, path: string): Promise<DenseModule> {
  const file = join(dir, path, 'config.json');
  const c = (await readJsonIfExists(file)) as Record<string, unknown> | undefined;
  if (!c) throw new EngineError('NOT_FOUND', `modules.json lists a Dense module at '${path}' but ${file} does not exist; re-download the model`, { file });
  const size = (key: string): number => {
    const v = c[key];
    if (!Number.isInteger(v) || (v as number) < 1) throw new EngineError('SCHEMA', `${file}: ${key} is ${JSON.stringify(v)}; expected a positive integer`, { file, key });
    return v as number;
  };
  const act = c.activation_function ?? 'torch.nn.modules.linear.Identity';
  if (typeof act !== 'string' || !IDENTITY.test(act)) {
    throw new EngineError('UNSUPPORTED', `${file}: activation_function ${JSON.stringify(act)} is not supported; Embedsmith runs Dense modules with the Identity activation (as EmbeddingGemma's are)`, { file, key: 'activation_function' });
  }
  return { path, inFeatures: size('in_features'), outFeatures: size('out_features'), bias: c.bias !== false };
}

async function readPooling(file: string, hiddenSize: number): Promise<Partial<SentenceConfig>> {
  const c = (await readJsonIfExists(file)) as Record<string, unknown> | undefined;
  if (!c) throw new EngineError('NOT_FOUND', `modules.json lists a Pooling module but ${file} does not exist; re-download the model`, { file });
  // 'embedding_dimension' in sentence-transformers 5.4+, 'word_embedding_dimension' before.
  const dim = c.word_embedding_dimension ?? c.embedding_dimension;
  if (dim !== undefined && hiddenSize >= 0 && dim !== hiddenSize) {
    throw new EngineError('SCHEMA', `${file}: word_embedding_dimension ${dim} does not match config.json hidden_size ${hiddenSize}`, { file });
  }
  const on = typeof c.pooling_mode === 'string' ? [`pooling_mode_${c.pooling_mode === 'cls' ? 'cls_token' : c.pooling_mode === 'lasttoken' ? 'lasttoken' : `${c.pooling_mode}_tokens`}`] : MODES.map(([k]) => k).filter((k) => c[k] === true);
  if (on.length !== 1) {
    throw new EngineError('UNSUPPORTED', `${file} turns on ${on.length} pooling modes (${on.join(', ') || 'none'}); Embedsmith supports exactly one of cls, mean, lasttoken`, { file });
  }
  const mode = MODES.find(([k]) => k === on[0])?.[1];
  if (!mode) throw new EngineError('UNSUPPORTED', `${file}: pooling mode ${on[0]} is not supported; supported: cls, mean, lasttoken`, { file });
  return { pooling: mode, includePrompt: c.include_prompt !== false };
}
