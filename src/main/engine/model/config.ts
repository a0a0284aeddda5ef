// config.json of a Hugging Face encoder (transformers' BertConfig / RobertaConfig /
// XLMRobertaConfig / MPNetConfig / ModernBertConfig). The loader reads the fields the engine needs into a typed object and
// keeps the whole file as `raw`, so a save writes back every field it did not touch.
import { EngineError } from '../../../shared/errors.js';

/** Encoder families the engine runs (nn/encoder.ts builds each one's graph). */
export type ModelFamily = 'bert' | 'roberta' | 'xlm-roberta' | 'mpnet' | 'modernbert';

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
};
const FAMILIES = Object.keys(FAMILY_FILES) as ModelFamily[];

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
        `${FAMILIES.join(', ')} (MiniLM, BGE, E5, GTE, multilingual-E5, all-mpnet-base-v2, gte-modernbert and modernbert-embed use these). Pick a base model of one of these types.`,
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
  const num = (key: string, dflt: number): number => {
    const v = c[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new EngineError('SCHEMA', `${file}: '${key}' is ${JSON.stringify(c[key])}; expected a number`, { file, key });
    return v;
  };
  const f = FAMILY_FILES[family];
  const pet = c.position_embedding_type ?? 'absolute';
  // ModernBERT configs carry position_embedding_type 'absolute' unused (rotary positions).
  if (family !== 'modernbert' && pet !== 'absolute') {
    throw new EngineError('UNSUPPORTED', `${file}: position_embedding_type ${JSON.stringify(pet)} is not supported; only 'absolute' (the BERT/RoBERTa default)`, { file });
  }
  const cfg: ModelConfig = {
    family,
    modelType: modelType as string,
    vocabSize: int('vocab_size'),
    hiddenSize: int('hidden_size'),
    numLayers: int('num_hidden_layers'),
    numHeads: int('num_attention_heads'),
    intermediateSize: int('intermediate_size'),
    maxPositionEmbeddings: int('max_position_embeddings', 512),
    typeVocabSize: f.typeVocabSize === 0 ? 0 : int('type_vocab_size', f.typeVocabSize),
    layerNormEps: num(f.epsKey, f.epsDefault),
    hiddenAct: typeof c[f.actKey] === 'string' ? (c[f.actKey] as string) : 'gelu',
    padTokenId: int('pad_token_id', f.padTokenId),
    hiddenDropout: num(f.dropout.hidden, f.dropout.dflt),
    attentionDropout: num(f.dropout.attention, f.dropout.dflt),
    raw: c,
  };
  if (cfg.numHeads === 0 || cfg.hiddenSize % cfg.numHeads !== 0) {
    throw new EngineError('SCHEMA', `${file}: hidden_size ${cfg.hiddenSize} is not divisible by num_attention_heads ${cfg.numHeads}`, { file });
  }
  return cfg;
}
