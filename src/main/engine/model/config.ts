// config.json of a Hugging Face encoder (transformers' BertConfig / RobertaConfig /
// XLMRobertaConfig / MPNetConfig / ModernBertConfig / Qwen3Config / Gemma3TextConfig). The loader reads the fields the engine needs into a typed object and
// keeps the whole file as `raw`, so a save writes back every field it did not touch.
import { EngineError } from '../../../shared/errors.js';

/** Encoder families the engine runs (nn/encoder.ts builds each one's graph). */
export type ModelFamily = 'bert' | 'roberta' | 'xlm-roberta' | 'mpnet' | 'modernbert' | 'qwen3' | 'gemma3_text';

export interface ModelConfig {
  family: ModelFamily;
  /** `model_type` as written ('bert', 'roberta', 'xlm-roberta', 'mpnet', 'modernbert'). */
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  /** Rows of the position table (RoBERTa's first padding_idx+1 rows are never used); ModernBERT: its rotary range. */
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  /** 'gelu' (erf) in every supported checkpoint (ModernBERT: hidden_activation); others are refused where they are used. */
  hiddenAct: string;
  padTokenId: number;
  hiddenDropout: number;
  attentionDropout: number;
  /** The file as read, unknown fields included. */
  raw: Record<string, unknown>;
}

/**
 * What differs between families at the file level: the bare class a save names, how position
 * ids are laid out (RoBERTa and MPNet start after padding_idx), and the config keys and
 * defaults of the few shared fields whose names differ (ModernBERT's norm_eps, hidden_activation).
 */
interface FamilyFile {
  bareArchitecture: string;
  /** 'padding': position ids run from pad_token_id + 1; 'plain': from 0 (or no table at all). */
  positions: 'plain' | 'padding';
  typeVocabSize: number;
  padTokenId: number;
  epsKey: string;
  epsDefault: number;
  actKey: string;
  dropout: { hidden: string; attention: string; dflt: number };
}

const BERT_DROPOUT = { hidden: 'hidden_dropout_prob', attention: 'attention_probs_dropout_prob', dflt: 0.1 };
const FAMILY_FILES: Record<ModelFamily, FamilyFile> = {
  bert: { bareArchitecture: 'BertModel', positions: 'plain', typeVocabSize: 2, padTokenId: 0, epsKey: 'layer_norm_eps', epsDefault: 1e-12, actKey: 'hidden_act', dropout: BERT_DROPOUT },
  roberta: { bareArchitecture: 'RobertaModel', positions: 'padding', typeVocabSize: 2, padTokenId: 1, epsKey: 'layer_norm_eps', epsDefault: 1e-12, actKey: 'hidden_act', dropout: BERT_DROPOUT },
  'xlm-roberta': { bareArchitecture: 'XLMRobertaModel', positions: 'padding', typeVocabSize: 2, padTokenId: 1, epsKey: 'layer_norm_eps', epsDefault: 1e-12, actKey: 'hidden_act', dropout: BERT_DROPOUT },
  // MPNetConfig has no type_vocab_size: MPNet has no token-type table.
  mpnet: { bareArchitecture: 'MPNetModel', positions: 'padding', typeVocabSize: 0, padTokenId: 1, epsKey: 'layer_norm_eps', epsDefault: 1e-12, actKey: 'hidden_act', dropout: BERT_DROPOUT },
  // ModernBERT: rotary positions (no table), no token types; its own key names.
  modernbert: {
    bareArchitecture: 'ModernBertModel', positions: 'plain', typeVocabSize: 0, padTokenId: 50283, epsKey: 'norm_eps', epsDefault: 1e-5, actKey: 'hidden_activation',
    dropout: { hidden: 'mlp_dropout', attention: 'attention_dropout', dflt: 0 },
  },
  // Qwen3: a decoder read as an encoder (nn/qwen3.ts): rotary positions, RMSNorm (rms_norm_eps),
  // SiLU; no hidden dropout field; pads with <|endoftext|> (151643).
  qwen3: {
    bareArchitecture: 'Qwen3Model', positions: 'plain', typeVocabSize: 0, padTokenId: 151643, epsKey: 'rms_norm_eps', epsDefault: 1e-6, actKey: 'hidden_act',
    dropout: { hidden: 'hidden_dropout', attention: 'attention_dropout', dflt: 0 },
  },
  // Gemma 3's text stack as EmbeddingGemma runs it (nn/gemma3.ts): rotary positions, RMSNorm,
  // tanh GELU (hidden_activation); pads with <pad> (0).
  gemma3_text: {
    bareArchitecture: 'Gemma3TextModel', positions: 'plain', typeVocabSize: 0, padTokenId: 0, epsKey: 'rms_norm_eps', epsDefault: 1e-6, actKey: 'hidden_activation',
    dropout: { hidden: 'hidden_dropout', attention: 'attention_dropout', dflt: 0 },
  },
};
const FAMILIES = Object.keys(FAMILY_FILES) as ModelFamily[];

/**
 * What real checkpoints use, checked before anything is sized from config.json: a model from
 * the hub can be hostile, and `num_hidden_layers: 1000000` once cost minutes and gigabytes
 * before failing. The limits leave room above the largest published models, not just the
 * BERT family (which tops out at XLM-RoBERTa-XXL: 48 layers, hidden 4096, FFN 16384,
 * vocabulary 250,002, 514 positions):
 * - layers 256: the deepest published transformers have 126 (Llama 3.1 405B);
 * - hidden 16,384 and FFN 65,536: Llama 3.1 405B uses 16,384 and 53,248;
 * - heads 256: 128 in the largest models;
 * - vocabulary 2^20: the largest tokenizers have 256,000 (Gemma) to 262,144 entries;
 * - positions 2^20: absolute tables stop at 8,192; long-context configs claim up to 1,048,576;
 * - token types 1,024: BERT has 2, RoBERTa 1, a few fine-tunes 16.
 */
export const CONFIG_LIMITS = {
  num_hidden_layers: 256,
  hidden_size: 16_384,
  num_attention_heads: 256,
  intermediate_size: 65_536,
  vocab_size: 1 << 20,
  max_position_embeddings: 1 << 20,
  type_vocab_size: 1024,
} as const;

/** The model class a saved folder names in `architectures`: the bare encoder. */
export const BARE_ARCHITECTURE = Object.fromEntries(FAMILIES.map((f) => [f, FAMILY_FILES[f].bareArchitecture])) as Record<ModelFamily, string>;

/** Longest input the model's positions allow (RoBERTa and MPNet spend pad_token_id+1 rows). */
export function positionLimit(config: ModelConfig): number {
  const f = FAMILY_FILES[config.family];
  return f.positions === 'padding' ? config.maxPositionEmbeddings - config.padTokenId - 1 : config.maxPositionEmbeddings;
}

export function parseModelConfig(raw: unknown, file = 'config.json'): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new EngineError('SCHEMA', `${file} is not a JSON object; it should be a transformers config (save_pretrained writes one)`, { file });
  }
  const c = raw as Record<string, unknown>;
  const modelType = c.model_type;
  const family = typeof modelType === 'string' && (FAMILIES as string[]).includes(modelType) ? (modelType as ModelFamily) : undefined;
  if (!family) {
    const arch = Array.isArray(c.architectures) ? ` (architectures: ${(c.architectures as string[]).join(', ')})` : '';
    throw new EngineError(
      'UNSUPPORTED',
      `${file}: model_type ${JSON.stringify(modelType)}${arch} is not supported; Embedsmith trains these encoder families: ` +
        `${FAMILIES.join(', ')} (MiniLM, BGE, E5, GTE, multilingual-E5, all-mpnet-base-v2, gte-modernbert, modernbert-embed, Qwen3-Embedding and EmbeddingGemma use these). Pick a base model of one of these types.`,
      { file, modelType },
    );
  }
  const int = (key: string, dflt?: number): number => {
    const v = c[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new EngineError('SCHEMA', `${file}: '${key}' is ${JSON.stringify(c[key])}; expected a non-negative integer`, { file, key });
    }
    return v;
  };
  /** A size: at least `min`, at most its CONFIG_LIMITS entry. */
  const size = (key: keyof typeof CONFIG_LIMITS, dflt?: number, min = 1): number => {
    const v = int(key, dflt);
    const max = CONFIG_LIMITS[key];
    if (v < min || v > max) {
      throw new EngineError(
        'SCHEMA',
        `${file}: '${key}' is ${v}, ${v < min ? `below the minimum of ${min}` : `above the limit of ${max}`} (real checkpoints use ${min}–${max}). ` +
          'Fix: use the config.json that was published with these weights (re-download the model); a config with this value describes no real model',
        { file, key, value: v, min, max },
      );
    }
    return v;
  };
  const fraction = (key: string, dflt: number, lo: number, hi: number): number => {
    const v = num(key, dflt);
    if (!(v >= lo && v < hi)) {
      throw new EngineError('SCHEMA', `${file}: '${key}' is ${v}; it must be at least ${lo} and below ${hi}. Fix: use the config.json that was published with these weights`, { file, key, value: v });
    }
    return v;
  };
  const num = (key: string, dflt: number): number => {
    const v = c[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new EngineError('SCHEMA', `${file}: '${key}' is ${JSON.stringify(c[key])}; expected a number`, { file, key });
    return v;
  };
  const f = FAMILY_FILES[family];
  const pet = c.position_embedding_type ?? 'absolute';
  // ModernBERT configs carry position_embedding_type 'absolute' unused (rotary positions).
  if (family !== 'modernbert' && family !== 'qwen3' && family !== 'gemma3_text' && pet !== 'absolute') {
    throw new EngineError('UNSUPPORTED', `${file}: position_embedding_type ${JSON.stringify(pet)} is not supported; only 'absolute' (the BERT/RoBERTa default)`, { file });
  }
  const cfg: ModelConfig = {
    family,
    modelType: modelType as string,
    vocabSize: size('vocab_size'),
    hiddenSize: size('hidden_size'),
    numLayers: size('num_hidden_layers'),
    numHeads: size('num_attention_heads'),
    intermediateSize: size('intermediate_size'),
    maxPositionEmbeddings: size('max_position_embeddings', 512),
    // RoBERTa and XLM-R have one token type; MPNet and ModernBERT none (no table at all).
    typeVocabSize: f.typeVocabSize === 0 ? 0 : size('type_vocab_size', f.typeVocabSize, 0),
    // Above 0 (it divides by sqrt(var + eps)); real ones are 1e-12 to 1e-5.
    layerNormEps: fraction(f.epsKey, f.epsDefault, Number.MIN_VALUE, 1),
    hiddenAct: typeof c[f.actKey] === 'string' ? (c[f.actKey] as string) : 'gelu',
    padTokenId: int('pad_token_id', f.padTokenId),
    hiddenDropout: fraction(f.dropout.hidden, f.dropout.dflt, 0, 1),
    attentionDropout: fraction(f.dropout.attention, f.dropout.dflt, 0, 1),
    raw: c,
  };
  if (cfg.hiddenSize % cfg.numHeads !== 0) {
    throw new EngineError('SCHEMA', `${file}: hidden_size ${cfg.hiddenSize} is not divisible by num_attention_heads ${cfg.numHeads}; each head takes an equal share. Fix: use the config.json published with these weights`, { file });
  }
  if (f.positions === 'padding' && cfg.maxPositionEmbeddings <= cfg.padTokenId + 1) {
    // RoBERTa and MPNet number positions from pad_token_id + 1: a smaller table leaves no position for a token.
    throw new EngineError('SCHEMA', `${file}: max_position_embeddings ${cfg.maxPositionEmbeddings} leaves no positions after the pad_token_id + 1 = ${cfg.padTokenId + 1} that ${modelType} reserves. Fix: use the config.json published with these weights`, { file, key: 'max_position_embeddings' });
  }
  if (cfg.padTokenId >= cfg.vocabSize) {
    throw new EngineError('SCHEMA', `${file}: pad_token_id ${cfg.padTokenId} is not below vocab_size ${cfg.vocabSize}, so it names no token. Fix: use the config.json published with these weights`, { file, key: 'pad_token_id' });
  }
  return cfg;
}
