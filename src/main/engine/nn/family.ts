// What every encoder family shares (encoder.ts holds the table of families): the spec type,
// the family interface, config reading with named errors, the no-decay rule, and BERT's
// post-LN layer stack, which MPNet reuses under its own key names. A module of its own so
// that the family files and the table import it without importing each other.

import { EngineError } from '../../../shared/errors.js';
import type { KeepMask, Tensor } from '../graph/index.js';
import type { ParamSpec } from '../runtime/contract.js';
import { decays } from './adamw.js';
import { type EncoderLayerWeights, encoderLayer } from './layers.js';
import type { Gemma3Options } from './gemma3.js';
import type { ModernBertOptions } from './modernbert.js';
import type { Qwen3Options } from './qwen3.js';

export type EncoderArch = 'bert' | 'roberta' | 'mpnet' | 'modernbert' | 'qwen3' | 'gemma3';

export interface EncoderSpec {
  /**
   * 'bert': positions 0..L-1. 'roberta' (also XLM-R): positions cumsum(ids != pad)·(ids != pad) + pad.
   * 'mpnet': RoBERTa's positions plus a relative-position bias. 'modernbert': rotary positions.
   */
  arch: EncoderArch;
  /** Rows of the word embeddings (config vocab_size). */
  vocabSize: number;
  /** Model width D (hidden_size). */
  hidden: number;
  /** Transformer blocks (num_hidden_layers). */
  layers: number;
  /** Attention heads (num_attention_heads); head size D / heads. */
  heads: number;
  /** FFN width (intermediate_size; ModernBERT's Wi makes twice this, for GeGLU). */
  intermediate: number;
  /** Rows of embeddings.position_embeddings (max_position_embeddings); ModernBERT: its rotary range. */
  maxPositions: number;
  /** Rows of embeddings.token_type_embeddings; 0: no table; 1: row 0 always, no token_type_ids input. */
  typeVocabSize: number;
  /** LayerNorm epsilon (1e-12 for BERT checkpoints, 1e-5 for RoBERTa / XLM-R / MPNet / ModernBERT). */
  layerNormEps: number;
  /** The padding id; RoBERTa's and MPNet's position ids start after it (padding_idx). */
  padTokenId: number;
  /** Sentence pooling: mean over attention-mask tokens, the first token, or the last real token (Qwen3). */
  pooling: 'mean' | 'cls' | 'lasttoken';
  /** L2-normalise the sentence embedding (sentence-transformers' Normalize module). */
  normalize: boolean;
  /** Dropout after the embeddings LayerNorm, the attention output and the FFN output (hidden_dropout_prob; ModernBERT: embedding_dropout = mlp_dropout). */
  hiddenDropout: number;
  /** Dropout on the attention probabilities (attention_probs_dropout_prob; ModernBERT: attention_dropout, also after Wo). */
  attentionDropout: number;
  /** MPNet: buckets of the relative-position bias shared by all layers (relative_attention_num_buckets). */
  relativeBuckets?: number;
  /** ModernBERT's switches (modernbert.ts). */
  modernBert?: ModernBertOptions;
  /** Qwen3's grouped-query attention, head width and rotary base (qwen3.ts). */
  qwen3?: Qwen3Options;
  /** Gemma 3's switches (gemma3.ts). */
  gemma3?: Gemma3Options;
  /** sentence-transformers Dense modules between the pooling and Normalize, in order (EmbeddingGemma: 768 → 3072 → 768). */
  dense?: DenseLayer[];
}

/**
 * A sentence-transformers Dense module: y = x·Wᵀ (+ b), activation Identity (others are refused
 * where the module is read). Its parameters are `dense.<i>.linear.weight` [out, in] and
 * `dense.<i>.linear.bias` [out], the module file's own 'linear.*' keys under the module's place.
 */
export interface DenseLayer {
  inFeatures: number;
  outFeatures: number;
  bias: boolean;
}

/** Settings config.json does not hold: they come from sentence-transformers' module files. */
export interface PoolingOptions {
  pooling?: 'mean' | 'cls' | 'lasttoken';
  normalize?: boolean;
  /** Dense modules after the pooling (modules.json). */
  dense?: DenseLayer[];
}

export interface EncoderInputs {
  inputIds: Tensor;
  attentionMask: Tensor;
  tokenTypeIds?: Tensor;
}

/** The bool keep mask for a dropout site (with its p), or null; called only for sites whose p > 0. */
export type DropoutFn = (site: string, shape: readonly number[], p: number) => KeepMask | null;
/** The parameter getter a family's forward reads its weights through (checkpoint keys). */
export type ParamFn = ((key: string) => Tensor) & {
  /** Whether `key` can be read (flat state's stacked q, k, v: encoder.ts fusedParams). */
  has?: (key: string) => boolean;
};
/** A dropout site's keep mask, or null (p = 0, or no masks: inference). */
export type SiteFn = (site: string, shape: readonly number[], p: number) => KeepMask | null;

/** config.json, read with HF's defaults for missing fields and errors that name the field. */
export interface ConfigReader {
  raw: Record<string, unknown>;
  /** A non-negative number (an integer unless `int` is false). */
  num(key: string, fallback: number, int?: boolean): number;
  bool(key: string, fallback: boolean): boolean;
}

/** One encoder family: its spec, its parameters, its forward graph. */
export interface EncoderFamily {
  fromConfig(c: ConfigReader, st: PoolingOptions): EncoderSpec;
  /** Every parameter, in HF state_dict order, with its shape and weight-decay flag. */
  params(spec: EncoderSpec): ParamSpec[];
  /** The last hidden state [B, L, D] for int32 (or int64) [B, L] inputs. */
  forward(spec: EncoderSpec, P: ParamFn, inputs: EncoderInputs, site: SiteFn): Tensor;
  /** Position-table rows an input of `length` tokens needs (ModernBERT: its rotary range). */
  positionsNeeded(spec: EncoderSpec, length: number): number;
}

export function reader(raw: Record<string, unknown>): ConfigReader {
  return {
    raw,
    num(key, fallback, int = true) {
      const v = raw[key] ?? fallback;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (int && !Number.isInteger(v))) {
        throw new EngineError('BAD_INPUT', `config.json ${key} = ${JSON.stringify(v)} must be a non-negative ${int ? 'integer' : 'number'}`, { key });
      }
      return v;
    },
    bool(key, fallback) {
      const v = raw[key] ?? fallback;
      if (typeof v !== 'boolean') throw new EngineError('BAD_INPUT', `config.json ${key} = ${JSON.stringify(v)} must be true or false`, { key });
      return v;
    },
  };
}

/** PretrainedConfig's own fields: never part of an encoder's math. */
const GENERIC_FIELDS = [
  'architectures', 'model_type', 'torch_dtype', 'dtype', 'transformers_version', '_name_or_path', '_attn_implementation', 'attn_implementation',
  'output_hidden_states', 'output_attentions', 'return_dict', 'use_cache', 'tie_word_embeddings', 'chunk_size_feed_forward', 'is_encoder_decoder',
  'is_decoder', 'add_cross_attention', 'gradient_checkpointing', 'id2label', 'label2id', 'problem_type', 'initializer_range', 'layer_norm_eps',
];
const MATH_NAME = /rope|rotary|theta|attn|attention|norm|act|bias|window|sliding|scal|position|layer|head|embed|softcap|eps|dim|size|pool|dropout|alibi|qk|gate|mlp|hidden|intermediate|vocab|causal|global|local|bucket/i;

/**
 * Refuses config fields a family does not read whose names say they change the math (rope,
 * attention, norm, window …): a field from a newer transformers release must not be silently
 * ignored. `known` lists the fields the family reads or knows to be irrelevant to the encoder.
 */
export function refuseUnknownMath(c: ConfigReader, family: string, known: readonly string[]): void {
  const bad = Object.keys(c.raw).filter((k) => !known.includes(k) && !GENERIC_FIELDS.includes(k) && MATH_NAME.test(k));
  if (bad.length > 0) {
    throw new EngineError(
      'UNSUPPORTED',
      `config.json has ${bad.map((k) => `${k} = ${JSON.stringify(c.raw[k])}`).join(', ')}, which the ${family} encoder does not implement; ` +
        "it would change the model's math, so it is not ignored. Use a checkpoint without it, or remove it only if it is at its no-op value",
      { fields: bad },
    );
  }
}

/**
 * The no-decay rule of sentence-transformers (and the HF Trainer): biases and norm weights are
 * not decayed. 'bias' is matched as sentence-transformers' fit() does, as a substring, so MPNet's
 * relative_attention_bias table is not decayed; ModernBERT's norms are '*norm.weight'.
 */
export function familyDecays(key: string): boolean {
  return decays(key) && !/(norm|_bias)\./i.test(key);
}

/**
 * Collects a family's ParamSpecs in checkpoint order, each with its decay flag: `add` one
 * tensor, `lin` a linear layer's weight [out, in] and bias, `norm` a norm's weight [d] and bias.
 */
export function paramCollector(d: number, decay: (key: string) => boolean = familyDecays) {
  const out: ParamSpec[] = [];
  const add = (key: string, shape: number[]) => void out.push({ key, shape, decay: decay(key) });
  const lin = (key: string, o: number, i: number, bias = true) => (add(`${key}.weight`, [o, i]), bias && add(`${key}.bias`, [o]));
  const norm = (key: string, bias = true) => (add(`${key}.weight`, [d]), bias && add(`${key}.bias`, [d]));
  return { out, add, lin, norm };
}

/** A BERT / RoBERTa / XLM-R spec; MPNet reads the same fields (typeVocabDefault 0: no table). */
export function bertLikeSpec(c: ConfigReader, arch: EncoderArch, st: PoolingOptions, typeVocabDefault: number): EncoderSpec {
  const roberta = arch !== 'bert';
  const act = c.raw.hidden_act ?? 'gelu';
  if (act !== 'gelu') {
    throw new EngineError('BAD_INPUT', `config.json hidden_act ${JSON.stringify(act)} is not supported; only exact 'gelu' (erf) is`);
  }
  const posType = c.raw.position_embedding_type ?? 'absolute';
  if (posType !== 'absolute') {
    throw new EngineError('BAD_INPUT', `config.json position_embedding_type ${JSON.stringify(posType)} is not supported; only 'absolute' is`);
  }
  return {
    arch,
    vocabSize: c.num('vocab_size', roberta ? 50265 : 30522),
    hidden: c.num('hidden_size', 768),
    layers: c.num('num_hidden_layers', 12),
    heads: c.num('num_attention_heads', 12),
    intermediate: c.num('intermediate_size', 3072),
    maxPositions: c.num('max_position_embeddings', 512),
    typeVocabSize: typeVocabDefault === 0 ? 0 : c.num('type_vocab_size', typeVocabDefault),
    layerNormEps: c.num('layer_norm_eps', 1e-12, false),
    padTokenId: c.num('pad_token_id', roberta ? 1 : 0),
    pooling: st.pooling ?? 'mean',
    normalize: st.normalize ?? true,
    hiddenDropout: c.num('hidden_dropout_prob', 0.1, false),
    attentionDropout: c.num('attention_probs_dropout_prob', 0.1, false),
  };
}

/** Where a post-LN BERT-style layer keeps its attention tensors, relative to `encoder.layer.<i>.`. */
export interface LayerKeys {
  query: string;
  key: string;
  value: string;
  output: string;
  attentionNorm: string;
}
const BERT_LAYER_KEYS: LayerKeys = {
  query: 'attention.self.query',
  key: 'attention.self.key',
  value: 'attention.self.value',
  output: 'attention.output.dense',
  attentionNorm: 'attention.output.LayerNorm',
};

/** The weights of layer `i` as encoderLayer takes them (BERT's key names unless `keys` says otherwise). */
export function layerWeights(P: ParamFn, i: number, keys: LayerKeys = BERT_LAYER_KEYS): EncoderLayerWeights {
  const lin = (k: string) => ({ weight: P(`encoder.layer.${i}.${k}.weight`), bias: P(`encoder.layer.${i}.${k}.bias`) });
  // q, k, v stacked where the flat state offers them (encoder.ts fusedParams): one Gemm for all
  // three; q, k, v are then not read one by one (that would slice them out again).
  const qkv = `encoder.layer.${i}.attention.self.qkv`;
  const fused = P.has?.(`${qkv}.weight`) && P.has?.(`${qkv}.bias`);
  return {
    attention: {
      ...(fused
        ? { qkv: { weight: P(`${qkv}.weight`), bias: P(`${qkv}.bias`) } }
        : { query: lin(keys.query), key: lin(keys.key), value: lin(keys.value) }),
      output: lin(keys.output),
    },
    attentionNorm: lin(keys.attentionNorm),
    intermediate: lin('intermediate.dense'),
    output: lin('output.dense'),
    outputNorm: lin('output.LayerNorm'),
  };
}

/** The post-LN layer stack of BERT and MPNet; `maskAdd` broadcasts to [B, H, L, L]. */
export function bertLayers(spec: EncoderSpec, P: ParamFn, x: Tensor, maskAdd: Tensor, site: SiteFn, keys?: LayerKeys): Tensor {
  for (let i = 0; i < spec.layers; i++) {
    x = encoderLayer(x, maskAdd, layerWeights(P, i, keys), spec.heads, spec.layerNormEps, (s, shape) =>
      site(`dropout.encoder.layer.${i}.${s}`, shape, s === 'attention.probs' ? spec.attentionDropout : spec.hiddenDropout),
    );
  }
  return x;
}
