// The encoder families, config-driven, as ONE table (FAMILIES): each family reads its spec from
// config.json, lists its parameters under the checkpoint's own keys (no 'bert.' / 'model.'
// prefix, so loading is a name-by-name copy with asserted shapes: nanoGPT, STYLE.md), and
// builds its forward graph. Here: BertModel (MiniLM, BGE, E5, GTE) and RobertaModel /
// XLMRobertaModel (multilingual E5), as transformers' modeling_bert.py / modeling_roberta.py
// without the pooler; MPNet in mpnet.ts, ModernBERT in modernbert.ts. Every caller (step graph,
// encoder, export) goes through specFromHfConfig / paramSpecs / encoderForward / checkSpec.

import { EngineError } from '../../../shared/errors.js';
import { Graph, type Tensor, layerNorm, ops as o } from '../graph/index.js';
import type { DataInputSpec, DropoutSpec, ParamSpec } from '../runtime/contract.js';
import { decays } from './adamw.js';
import {
  type DropoutFn,
  type EncoderArch,
  type EncoderFamily,
  type EncoderInputs,
  type EncoderSpec,
  type ParamFn,
  type PoolingOptions,
  type SiteFn,
  bertLayers,
  bertLikeSpec,
  paramCollector,
  reader,
} from './family.js';
import { additiveMask, dropout, embedding, linear, paddingPositions } from './layers.js';
import { GEMMA3 } from './gemma3.js';
import { MODERNBERT } from './modernbert.js';
import { MPNET } from './mpnet.js';
import { QWEN3 } from './qwen3.js';
import type { FusedParams } from './flat-params.js';
import { clsPool, l2Normalize, lastTokenPool, meanPool } from './pooling.js';

export {
  type ConfigReader,
  type DenseLayer,
  type DropoutFn,
  type EncoderArch,
  type EncoderFamily,
  type EncoderInputs,
  type EncoderSpec,
  type LayerKeys,
  type ParamFn,
  type PoolingOptions,
  type SiteFn,
  familyDecays,
  layerWeights,
  refuseUnknownMath,
} from './family.js';

const BERT: EncoderFamily = {
  fromConfig: (c, st) => bertLikeSpec(c, c.raw.model_type === 'bert' ? 'bert' : 'roberta', st, 2),
  params(spec) {
    const { hidden: d, intermediate: f } = spec;
    const { out, add, lin, norm } = paramCollector(d, decays);
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
  },
  forward: bertForward,
  // RoBERTa's last position id is L + padding_idx.
  positionsNeeded: (spec, length) => (spec.arch === 'roberta' ? length + spec.padTokenId + 1 : length),
};

/** The families, by the arch a spec names. */
const FAMILIES: Record<EncoderArch, EncoderFamily> = { bert: BERT, roberta: BERT, mpnet: MPNET, modernbert: MODERNBERT, qwen3: QWEN3, gemma3: GEMMA3 };

/** config.json model_type → the family that builds it. */
const MODEL_TYPES: Record<string, EncoderArch> = { bert: 'bert', roberta: 'roberta', 'xlm-roberta': 'roberta', mpnet: 'mpnet', modernbert: 'modernbert', qwen3: 'qwen3', gemma3_text: 'gemma3' };
export const SUPPORTED_MODEL_TYPES = Object.keys(MODEL_TYPES);

/** An EncoderSpec from a Hugging Face config.json object (missing fields take HF's defaults). */
export function specFromHfConfig(config: Record<string, unknown>, st: PoolingOptions = {}): EncoderSpec {
  const type = config.model_type;
  const arch = typeof type === 'string' ? MODEL_TYPES[type] : undefined;
  if (!arch) {
    throw new EngineError(
      'BAD_INPUT',
      `config.json model_type ${JSON.stringify(type)} is not supported; supported model types: ${SUPPORTED_MODEL_TYPES.join(', ')}`,
      { model_type: type },
    );
  }
  const spec = FAMILIES[arch].fromConfig(reader(config), st);
  if (st.dense?.length) spec.dense = st.dense.map((d) => ({ ...d }));
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
  let width = spec.hidden;
  for (const [i, d] of (spec.dense ?? []).entries()) {
    if (d.inFeatures !== width) throw bad(`Dense module ${i} takes ${d.inFeatures} features but the embedding before it has ${width}; the modules.json pipeline does not fit together`);
    width = d.outFeatures;
  }
  if (length !== undefined) {
    const needed = positionsNeeded(spec, length);
    if (needed > spec.maxPositions) {
      throw bad(`sequence length ${length} needs ${needed} position embeddings; the model has ${spec.maxPositions}: use a max length of at most ${length - (needed - spec.maxPositions)}`);
    }
  }
}

/** Position-table rows (ModernBERT: rotary range) an input of `length` tokens needs. */
export function positionsNeeded(spec: EncoderSpec, length: number): number {
  return FAMILIES[spec.arch].positionsNeeded(spec, length);
}

/** Every parameter, in HF state_dict order, with its shape and weight-decay flag; the Dense modules' last. */
export function paramSpecs(spec: EncoderSpec): ParamSpec[] {
  return [...FAMILIES[spec.arch].params(spec), ...denseParams(spec)];
}

/** The parameter key of Dense module `i`'s tensor: its module file's own 'linear.weight' / 'linear.bias' under 'dense.<i>.'. */
export const denseKey = (i: number, name: 'weight' | 'bias'): string => `dense.${i}.linear.${name}`;

/** Whether a parameter belongs to a Dense module (a save writes those to the module's own folder). */
export const isDenseKey = (key: string): boolean => /^dense\.\d+\.linear\./.test(key);

/** The Dense modules' parameters (family.ts DenseLayer), decayed as sentence-transformers decays a linear. */
export function denseParams(spec: EncoderSpec): ParamSpec[] {
  return (spec.dense ?? []).flatMap((d, i) => [
    { key: denseKey(i, 'weight'), shape: [d.outFeatures, d.inFeatures], decay: true },
    ...(d.bias ? [{ key: denseKey(i, 'bias'), shape: [d.outFeatures], decay: false }] : []),
  ]);
}

/**
 * Why a model cannot run its activations in float16, or null. Gemma 3's residual stream outgrows
 * float16's range (65,504): transformers' Gemma 3 gives empty output in float16 (its issue 36822)
 * and EmbeddingGemma's model card asks for float32 or bfloat16.
 */
export function modelFloat16Problem(spec: EncoderSpec): string | null {
  return spec.arch === 'gemma3' ? "Gemma 3's activations outgrow float16's range (EmbeddingGemma supports float32 and bfloat16 only)" : null;
}

/** The sentence embedding's width: the last Dense module's output, else the hidden size. */
export function embeddingWidth(spec: EncoderSpec): number {
  return spec.dense?.length ? spec.dense[spec.dense.length - 1].outFeatures : spec.hidden;
}

/** int32 [B, L] data inputs; token_type_ids only where the type table has more than one row. */
export function dataInputs(spec: EncoderSpec, batch: number, length: number): DataInputSpec[] {
  const names = ['input_ids', 'attention_mask', ...(spec.typeVocabSize > 1 ? ['token_type_ids'] : [])];
  return names.map((name) => ({ name, dtype: 'int32', shape: [batch, length] }));
}

/**
 * Each layer's q, k, v weights and biases as two stacked tensors (FusedParams for the flat
 * state, which holds them side by side): layerWeights then gives attention one Gemm for all three.
 */
export function fusedParams(spec: EncoderSpec): FusedParams[] {
  const out: FusedParams[] = [];
  for (let i = 0; i < spec.layers; i++) {
    const k = `encoder.layer.${i}.attention.self`;
    for (const w of ['weight', 'bias']) out.push({ name: `${k}.qkv.${w}`, keys: ['query', 'key', 'value'].map((n) => `${k}.${n}.${w}`) });
  }
  return out;
}

/** The last hidden state [B, L, D] for int32 [B, L] inputs. */
export function encoderForward(
  spec: EncoderSpec,
  params: Readonly<Record<string, Tensor>>,
  inputs: EncoderInputs,
  drop: DropoutFn = () => null,
): Tensor {
  const read = (key: string): Tensor => {
    const t = params[key];
    if (!t) throw new EngineError('INTERNAL', `parameter '${key}' is missing`);
    return t;
  };
  const P: ParamFn = Object.assign(read, { has: (key: string) => key in params });
  const site: SiteFn = (name, shape, p) => (p > 0 ? drop(name, shape, p) : null);
  return FAMILIES[spec.arch].forward(spec, P, inputs, site);
}

/** BertModel / RobertaModel without the pooler. */
function bertForward(spec: EncoderSpec, P: ParamFn, inputs: EncoderInputs, site: SiteFn): Tensor {
  const [b, l] = inputs.inputIds.shape;
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
      ? embedding(posTable, paddingPositions(inputs.inputIds, spec.padTokenId)) // [B, L, D]
      : o.slice(posTable, [0], [l], [0]); // rows 0..L-1: [L, D], broadcast over B
  x = o.add(x, pos);
  // The layers run on [B·L, D] rows: every linear is then one Gemm, every LayerNorm one node.
  x = o.reshape(x, [b * l, spec.hidden]); // [B, L, D] -> [B·L, D]
  x = layerNorm(x, P('embeddings.LayerNorm.weight'), P('embeddings.LayerNorm.bias'), spec.layerNormEps);
  x = dropout(x, site('dropout.embeddings', x.shape, spec.hiddenDropout));
  const maskAdd = additiveMask(inputs.attentionMask, x.dtype); // [B, 1, 1, L], shared by every layer
  return o.reshape(bertLayers(spec, P, x, maskAdd, site), [b, l, spec.hidden]); // [B·L, D] -> [B, L, D]
}

/**
 * The dropout sites encoderForward asks for on `rows` × `length` inputs, in its order (sites
 * with p = 0 are not asked for), found by building the forward once on a scratch graph with a
 * recording DropoutFn, so every family's sites come out as its forward declares them. Graphs
 * that compute their masks in the graph declare them first (device-dropout.ts).
 */
export function dropoutSites(spec: EncoderSpec, rows: number, length: number): DropoutSpec[] {
  const g = new Graph('dropout-sites');
  const t = Object.fromEntries(dataInputs(spec, rows, length).map((d) => [d.name, g.input(d.name, d.dtype, d.shape)]));
  const P = Object.fromEntries(paramSpecs(spec).map((ps) => [ps.key, g.input(`p.${ps.key}`, 'float32', ps.shape)]));
  const out: DropoutSpec[] = [];
  const inputs = { inputIds: t.input_ids, attentionMask: t.attention_mask, tokenTypeIds: t.token_type_ids };
  encoderForward(spec, P, inputs, (name, shape, p) => (out.push({ name, shape: [...shape], p }), null));
  return out;
}

/**
 * The sentence embedding [B, D']: pooled as the spec says, through the Dense modules (whose
 * parameters `params` holds under denseParams' keys), then normalised if the spec says so.
 */
export function sentenceEmbedding(spec: EncoderSpec, hidden: Tensor, attentionMask: Tensor, params: Readonly<Record<string, Tensor>> = {}): Tensor {
  let e = spec.pooling === 'cls' ? clsPool(hidden) : spec.pooling === 'lasttoken' ? lastTokenPool(hidden, attentionMask) : meanPool(hidden, attentionMask);
  for (const [i, d] of (spec.dense ?? []).entries()) {
    const get = (key: string) => {
      const t = params[key];
      if (!t) throw new EngineError('INTERNAL', `Dense parameter '${key}' is missing`);
      return t;
    };
    e = linear(e, { weight: get(denseKey(i, 'weight')), bias: d.bias ? get(denseKey(i, 'bias')) : undefined }); // [B, in] -> [B, out]
  }
  return spec.normalize ? l2Normalize(e) : e;
}
