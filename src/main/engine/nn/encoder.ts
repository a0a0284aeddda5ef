// The BERT-family encoder, config-driven: BertModel (MiniLM, BGE, E5, GTE) and RobertaModel /
// XLMRobertaModel (multilingual E5), as transformers' modeling_bert.py / modeling_roberta.py
// without the pooler. Parameter names are the checkpoint's own keys (no 'bert.' / 'roberta.'
// prefix), so loading is a name-by-name copy with asserted shapes (nanoGPT, STYLE.md).

import { EngineError } from '../../../shared/errors.js';
import { type KeepMask, type Tensor, hostTensor, layerNorm, ops as o } from '../graph/index.js';
import type { DataInputSpec, ParamSpec } from '../runtime/contract.js';
import { decays } from './adamw.js';
import { type EncoderLayerWeights, additiveMask, dropout, embedding, encoderLayer } from './layers.js';
import { clsPool, l2Normalize, meanPool } from './pooling.js';

export interface EncoderSpec {
  /** 'bert': positions 0..L-1. 'roberta' (also XLM-R): positions cumsum(ids != pad)·(ids != pad) + pad. */
  arch: 'bert' | 'roberta';
  /** Rows of embeddings.word_embeddings (config vocab_size). */
  vocabSize: number;
  /** Model width D (hidden_size). */
  hidden: number;
  /** Transformer blocks (num_hidden_layers). */
  layers: number;
  /** Attention heads (num_attention_heads); head size D / heads. */
  heads: number;
  /** FFN width (intermediate_size). */
  intermediate: number;
  /** Rows of embeddings.position_embeddings (max_position_embeddings). */
  maxPositions: number;
  /** Rows of embeddings.token_type_embeddings; 0: no table; 1: row 0 always, no token_type_ids input. */
  typeVocabSize: number;
  /** LayerNorm epsilon (1e-12 for BERT checkpoints, 1e-5 for RoBERTa / XLM-R). */
  layerNormEps: number;
  /** The padding id; RoBERTa's position ids start after it (padding_idx). */
  padTokenId: number;
  /** Sentence pooling: mean over attention-mask tokens, or the first token. */
  pooling: 'mean' | 'cls';
  /** L2-normalise the sentence embedding (sentence-transformers' Normalize module). */
  normalize: boolean;
  /** Dropout after the embeddings LayerNorm, the attention output and the FFN output (hidden_dropout_prob). */
  hiddenDropout: number;
  /** Dropout on the attention probabilities (attention_probs_dropout_prob). */
  attentionDropout: number;
}

export const SUPPORTED_MODEL_TYPES = ['bert', 'roberta', 'xlm-roberta'] as const;

/** Settings config.json does not hold: they come from sentence-transformers' module files. */
export interface PoolingOptions {
  pooling?: 'mean' | 'cls';
  normalize?: boolean;
}

/** An EncoderSpec from a Hugging Face config.json object (missing fields take HF's defaults). */
export function specFromHfConfig(config: Record<string, unknown>, st: PoolingOptions = {}): EncoderSpec {
  const type = config.model_type;
  if (typeof type !== 'string' || !(SUPPORTED_MODEL_TYPES as readonly string[]).includes(type)) {
    throw new EngineError(
      'BAD_INPUT',
      `config.json model_type ${JSON.stringify(type)} is not supported; supported model types: ${SUPPORTED_MODEL_TYPES.join(', ')}`,
      { model_type: type },
    );
  }
  const roberta = type !== 'bert';
  const num = (key: string, fallback: number, int = true): number => {
    const v = config[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (int && !Number.isInteger(v))) {
      throw new EngineError('BAD_INPUT', `config.json ${key} = ${JSON.stringify(v)} must be a non-negative ${int ? 'integer' : 'number'}`);
    }
    return v;
  };
  const act = config.hidden_act ?? 'gelu';
  if (act !== 'gelu') {
    throw new EngineError('BAD_INPUT', `config.json hidden_act ${JSON.stringify(act)} is not supported; only exact 'gelu' (erf) is`);
  }
  const posType = config.position_embedding_type ?? 'absolute';
  if (posType !== 'absolute') {
    throw new EngineError('BAD_INPUT', `config.json position_embedding_type ${JSON.stringify(posType)} is not supported; only 'absolute' is`);
  }
  const spec: EncoderSpec = {
    arch: roberta ? 'roberta' : 'bert',
    vocabSize: num('vocab_size', roberta ? 50265 : 30522),
    hidden: num('hidden_size', 768),
    layers: num('num_hidden_layers', 12),
    heads: num('num_attention_heads', 12),
    intermediate: num('intermediate_size', 3072),
    maxPositions: num('max_position_embeddings', 512),
    typeVocabSize: num('type_vocab_size', 2),
    layerNormEps: num('layer_norm_eps', 1e-12, false),
    padTokenId: num('pad_token_id', roberta ? 1 : 0),
    pooling: st.pooling ?? 'mean',
    normalize: st.normalize ?? true,
    hiddenDropout: num('hidden_dropout_prob', 0.1, false),
    attentionDropout: num('attention_probs_dropout_prob', 0.1, false),
  };
  checkSpec(spec);
  return spec;
}

/** Throws BAD_INPUT for a spec no graph can be built from; `length` also checks the positions. */
export function checkSpec(spec: EncoderSpec, length?: number): void {
  const bad = (msg: string) => new EngineError('BAD_INPUT', msg);
  if (spec.hidden % spec.heads !== 0) throw bad(`hidden size ${spec.hidden} is not divisible by ${spec.heads} heads`);
  for (const p of [spec.hiddenDropout, spec.attentionDropout]) {
    if (!(p >= 0 && p < 1)) throw bad(`dropout probability ${p} must lie in [0, 1)`);
  }
  if (length !== undefined) {
    // RoBERTa's last position id is L + padding_idx.
    const needed = spec.arch === 'roberta' ? length + spec.padTokenId + 1 : length;
    if (needed > spec.maxPositions) {
      throw bad(`sequence length ${length} needs ${needed} position embeddings; the model has ${spec.maxPositions}: use a max length of at most ${length - (needed - spec.maxPositions)}`);
    }
  }
}

/** Every parameter, in HF state_dict order, with its shape and weight-decay flag. */
export function paramSpecs(spec: EncoderSpec): ParamSpec[] {
  const { hidden: d, intermediate: f } = spec;
  const out: ParamSpec[] = [];
  const add = (key: string, shape: number[]) => out.push({ key, shape, decay: decays(key) });
  const lin = (key: string, o: number, i: number) => (add(`${key}.weight`, [o, i]), add(`${key}.bias`, [o]));
  const norm = (key: string) => (add(`${key}.weight`, [d]), add(`${key}.bias`, [d]));
  add('embeddings.word_embeddings.weight', [spec.vocabSize, d]);
  add('embeddings.position_embeddings.weight', [spec.maxPositions, d]);
  if (spec.typeVocabSize > 0) add('embeddings.token_type_embeddings.weight', [spec.typeVocabSize, d]);
  norm('embeddings.LayerNorm');
  for (let i = 0; i < spec.layers; i++) {
    const k = `encoder.layer.${i}`;
    for (const n of ['query', 'key', 'value']) lin(`${k}.attention.self.${n}`, d, d);
    lin(`${k}.attention.output.dense`, d, d);
    norm(`${k}.attention.output.LayerNorm`);
    lin(`${k}.intermediate.dense`, f, d);
    lin(`${k}.output.dense`, d, f);
    norm(`${k}.output.LayerNorm`);
  }
  return out;
}

/** int32 [B, L] data inputs; token_type_ids only where the type table has more than one row. */
export function dataInputs(spec: EncoderSpec, batch: number, length: number): DataInputSpec[] {
  const names = ['input_ids', 'attention_mask', ...(spec.typeVocabSize > 1 ? ['token_type_ids'] : [])];
  return names.map((name) => ({ name, dtype: 'int32', shape: [batch, length] }));
}

export interface EncoderInputs {
  inputIds: Tensor;
  attentionMask: Tensor;
  tokenTypeIds?: Tensor;
}

/** The bool keep mask for a dropout site (with its p), or null; called only for sites whose p > 0. */
export type DropoutFn = (site: string, shape: readonly number[], p: number) => KeepMask | null;

/** The weights of layer `i` as encoderLayer takes them. */
export function layerWeights(params: Readonly<Record<string, Tensor>>, i: number): EncoderLayerWeights {
  const P = (key: string): Tensor => {
    const t = params[`encoder.layer.${i}.${key}`];
    if (!t) throw new EngineError('INTERNAL', `parameter 'encoder.layer.${i}.${key}' is missing`);
    return t;
  };
  const lin = (k: string) => ({ weight: P(`${k}.weight`), bias: P(`${k}.bias`) });
  return {
    attention: {
      query: lin('attention.self.query'),
      key: lin('attention.self.key'),
      value: lin('attention.self.value'),
      output: lin('attention.output.dense'),
    },
    attentionNorm: lin('attention.output.LayerNorm'),
    intermediate: lin('intermediate.dense'),
    output: lin('output.dense'),
    outputNorm: lin('output.LayerNorm'),
  };
}

/** RoBERTa position ids: cumsum(ids != pad)·(ids != pad) + pad (create_position_ids_from_input_ids). */
function robertaPositions(ids: Tensor, pad: number): Tensor {
  const [, l] = ids.shape;
  const real = o.sub(1, o.cast(o.equal(ids, pad), 'float32')); // [B, L] 1 where not pad
  // No CumSum in the op table: a prefix sum is a product with an upper-triangular ones
  // matrix (exact in float32 for any realistic length).
  const tri = new Array<number>(l * l).fill(0);
  for (let i = 0; i < l; i++) for (let j = i; j < l; j++) tri[i * l + j] = 1;
  const cumsum = o.matmul(real, ids.graph.constant(hostTensor('float32', [l, l], tri))); // [B, L] x [L, L] -> [B, L]
  return o.cast(o.add(o.mul(cumsum, real), pad), 'int32');
}

/** The last hidden state [B, L, D] for int32 [B, L] inputs. */
export function encoderForward(
  spec: EncoderSpec,
  params: Readonly<Record<string, Tensor>>,
  inputs: EncoderInputs,
  drop: DropoutFn = () => null,
): Tensor {
  const [b, l] = inputs.inputIds.shape;
  const P = (key: string): Tensor => {
    const t = params[key];
    if (!t) throw new EngineError('INTERNAL', `parameter '${key}' is missing`);
    return t;
  };
  const site = (name: string, shape: readonly number[], p: number) => (p > 0 ? drop(name, shape, p) : null);
  let x = embedding(P('embeddings.word_embeddings.weight'), inputs.inputIds); // [B, L] -> [B, L, D]
  if (spec.typeVocabSize > 1) {
    if (!inputs.tokenTypeIds) throw new EngineError('INTERNAL', 'this encoder needs token_type_ids');
    x = o.add(x, embedding(P('embeddings.token_type_embeddings.weight'), inputs.tokenTypeIds));
  } else if (spec.typeVocabSize === 1) {
    x = o.add(x, P('embeddings.token_type_embeddings.weight')); // the one row [1, D], broadcast
  }
  const posTable = P('embeddings.position_embeddings.weight');
  const pos =
    spec.arch === 'roberta'
      ? embedding(posTable, robertaPositions(inputs.inputIds, spec.padTokenId)) // [B, L, D]
      : o.slice(posTable, [0], [l], [0]); // rows 0..L-1: [L, D], broadcast over B
  x = o.add(x, pos);
  x = layerNorm(x, P('embeddings.LayerNorm.weight'), P('embeddings.LayerNorm.bias'), spec.layerNormEps);
  x = dropout(x, site('dropout.embeddings', [b, l, spec.hidden], spec.hiddenDropout));
  const maskAdd = additiveMask(inputs.attentionMask, x.dtype); // [B, 1, 1, L], shared by every layer
  for (let i = 0; i < spec.layers; i++) {
    x = encoderLayer(x, maskAdd, layerWeights(params, i), spec.heads, spec.layerNormEps, (s, shape) =>
      site(`dropout.encoder.layer.${i}.${s}`, shape, s === 'attention.probs' ? spec.attentionDropout : spec.hiddenDropout),
    );
  }
  return x;
}

/** The sentence embedding [B, D]: pooled as the spec says, then normalised if it says so. */
export function sentenceEmbedding(spec: EncoderSpec, hidden: Tensor, attentionMask: Tensor): Tensor {
  const pooled = spec.pooling === 'cls' ? clsPool(hidden) : meanPool(hidden, attentionMask);
  return spec.normalize ? l2Normalize(pooled) : pooled;
}
