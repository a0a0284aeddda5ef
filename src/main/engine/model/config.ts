// config.json of a Hugging Face encoder (transformers' BertConfig / RobertaConfig /
// XLMRobertaConfig). The loader reads the fields the engine needs into a typed object and
// keeps the whole file as `raw`, so a save writes back every field it did not touch.
import { EngineError } from '../../../shared/errors.js';

/** Encoder families the engine runs: all are BertModel's graph; they differ in details. */
export type ModelFamily = 'bert' | 'roberta' | 'xlm-roberta';

export interface ModelConfig {
  family: ModelFamily;
  /** `model_type` as written ('bert', 'roberta', 'xlm-roberta'). */
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  /** Rows of the position table; RoBERTa's first padding_idx+1 rows are never used. */
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  /** 'gelu' (erf) in every supported checkpoint; others are refused where they are used. */
  hiddenAct: string;
  padTokenId: number;
  hiddenDropout: number;
  attentionDropout: number;
  /** The file as read, unknown fields included. */
  raw: Record<string, unknown>;
}

const FAMILIES: Record<string, ModelFamily> = { bert: 'bert', roberta: 'roberta', 'xlm-roberta': 'xlm-roberta' };

/** The model class a saved folder names in `architectures`: the bare encoder. */
export const BARE_ARCHITECTURE: Record<ModelFamily, string> = { bert: 'BertModel', roberta: 'RobertaModel', 'xlm-roberta': 'XLMRobertaModel' };

export function parseModelConfig(raw: unknown, file = 'config.json'): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new EngineError('SCHEMA', `${file} is not a JSON object; it should be a transformers config (save_pretrained writes one)`, { file });
  }
  const c = raw as Record<string, unknown>;
  const modelType = c.model_type;
  const family = typeof modelType === 'string' ? FAMILIES[modelType] : undefined;
  if (!family) {
    const arch = Array.isArray(c.architectures) ? ` (architectures: ${(c.architectures as string[]).join(', ')})` : '';
    throw new EngineError(
      'UNSUPPORTED',
      `${file}: model_type ${JSON.stringify(modelType)}${arch} is not supported; Embedsmith trains BERT-family encoders: ` +
        `${Object.keys(FAMILIES).join(', ')} (MiniLM, BGE, E5, GTE-small/base, multilingual-E5 use these). Pick a base model of one of these types.`,
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
  const pet = c.position_embedding_type ?? 'absolute';
  if (pet !== 'absolute') {
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
    typeVocabSize: int('type_vocab_size', 2),
    layerNormEps: num('layer_norm_eps', 1e-12),
    hiddenAct: typeof c.hidden_act === 'string' ? c.hidden_act : 'gelu',
    padTokenId: int('pad_token_id', family === 'bert' ? 0 : 1),
    hiddenDropout: num('hidden_dropout_prob', 0.1),
    attentionDropout: num('attention_probs_dropout_prob', 0.1),
    raw: c,
  };
  if (cfg.numHeads === 0 || cfg.hiddenSize % cfg.numHeads !== 0) {
    throw new EngineError('SCHEMA', `${file}: hidden_size ${cfg.hiddenSize} is not divisible by num_attention_heads ${cfg.numHeads}`, { file });
  }
  return cfg;
}
