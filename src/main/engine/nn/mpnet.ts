// MPNet (Song et al. 2020, "MPNet: Masked and Permuted Pre-training for Language
// Understanding"; all-mpnet-base-v2) as an encoder: BERT's post-LN layers with RoBERTa's
// position ids (after padding_idx), no token types, and one relative-position bias table
// shared by every layer, added to the scaled attention scores. The bias is T5's bucketing of
// relative distances (Raffel et al. 2020, §2.1), bidirectional: half the buckets for keys
// before the query, half for keys after; within each half, exact buckets for short distances
// and log-spaced ones up to a maximum distance (128), beyond which all share the last bucket.
// Checkpoint keys: encoder.layer.<i>.attention.attn.{q,k,v,o}, attention.LayerNorm,
// intermediate.dense, output.dense, output.LayerNorm, encoder.relative_attention_bias.

import { EngineError } from '../../../shared/errors.js';
import { type Tensor, hostTensor, layerNorm, ops as o } from '../graph/index.js';
import { type EncoderFamily, type EncoderSpec, type LayerKeys, bertLayers, bertLikeSpec, paramCollector, refuseUnknownMath } from './family.js';
import { additiveMask, dropout, embedding, paddingPositions } from './layers.js';

/** The largest distance with its own log bucket: MPNet fixes it at 128 (not a config field). */
export const MPNET_MAX_DISTANCE = 128;

/**
 * The bucket of relative position `rel` = key - query: keys before the query in buckets
 * [0, half), keys after in [half, numBuckets); distances below half/2 exact, longer ones
 * log-spaced up to `maxDistance`, truncated toward zero, then saturating. torch computes the
 * log in float32; the buckets are the same for every distance up to 600 either way (the
 * fixture's table, from torch, checks it).
 */
export function relativeBucket(rel: number, numBuckets: number, maxDistance = MPNET_MAX_DISTANCE): number {
  const half = Math.floor(numBuckets / 2);
  const ret = rel > 0 ? half : 0;
  const n = Math.abs(rel);
  const exact = Math.floor(half / 2);
  if (n < exact) return ret + n;
  const scaled = (Math.log(n / exact) / Math.log(maxDistance / exact)) * (half - exact);
  return ret + Math.min(exact + Math.trunc(scaled), half - 1);
}

const MPNET_KEYS: LayerKeys = {
  query: 'attention.attn.q',
  key: 'attention.attn.k',
  value: 'attention.attn.v',
  output: 'attention.attn.o',
  attentionNorm: 'attention.LayerNorm',
};

/** Fields MPNetConfig has that this encoder reads, or that do not change it. */
const KNOWN = [
  'vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'hidden_act', 'hidden_dropout_prob',
  'attention_probs_dropout_prob', 'max_position_embeddings', 'layer_norm_eps', 'relative_attention_num_buckets', 'pad_token_id',
  'bos_token_id', 'eos_token_id', 'initializer_range', 'position_embedding_type',
];

/** The longest input: positions run from pad + 1 to max_position_embeddings - 1. */
const lengthLimit = (spec: EncoderSpec): number => spec.maxPositions - spec.padTokenId - 1;

export const MPNET: EncoderFamily = {
  fromConfig(c, st) {
    refuseUnknownMath(c, 'MPNet', KNOWN);
    if (c.raw.type_vocab_size !== undefined && c.raw.type_vocab_size !== 0) {
      throw new EngineError('UNSUPPORTED', `config.json type_vocab_size = ${JSON.stringify(c.raw.type_vocab_size)}: MPNet has no token-type embeddings; remove the field`, { key: 'type_vocab_size' });
    }
    const spec = { ...bertLikeSpec(c, 'mpnet', st, 0), relativeBuckets: c.num('relative_attention_num_buckets', 32) };
    if (spec.relativeBuckets < 4) throw new EngineError('BAD_INPUT', `config.json relative_attention_num_buckets = ${spec.relativeBuckets} must be at least 4`);
    return spec;
  },
  params(spec) {
    const { hidden: d, intermediate: f } = spec;
    const { out, add, lin, norm } = paramCollector(d);
    add('embeddings.word_embeddings.weight', [spec.vocabSize, d]);
    add('embeddings.position_embeddings.weight', [spec.maxPositions, d]);
    norm('embeddings.LayerNorm');
    for (let i = 0; i < spec.layers; i++) {
      const k = `encoder.layer.${i}`;
      for (const n of ['q', 'k', 'v', 'o']) lin(`${k}.attention.attn.${n}`, d, d);
      norm(`${k}.attention.LayerNorm`);
      lin(`${k}.intermediate.dense`, f, d);
      lin(`${k}.output.dense`, d, f);
      norm(`${k}.output.LayerNorm`);
    }
    add('encoder.relative_attention_bias.weight', [spec.relativeBuckets!, spec.heads]);
    return out;
  },
  forward(spec, P, inputs, site) {
    const ids = inputs.inputIds;
    const [b, l] = ids.shape;
    let x = embedding(P('embeddings.word_embeddings.weight'), ids); // [B, L] -> [B, L, D]
    x = o.add(x, embedding(P('embeddings.position_embeddings.weight'), paddingPositions(ids, spec.padTokenId)));
    x = layerNorm(x, P('embeddings.LayerNorm.weight'), P('embeddings.LayerNorm.bias'), spec.layerNormEps);
    x = dropout(x, site('dropout.embeddings', [b, l, spec.hidden], spec.hiddenDropout));
    const bias = relativePositionBias(P('encoder.relative_attention_bias.weight'), l, lengthLimit(spec)); // [1, H, L, L]
    // HF adds the bias, then the mask; for an attended key the mask is exactly 0, so one sum
    // [B, H, L, L] computed once serves every layer with the same values.
    const maskAdd = o.add(additiveMask(inputs.attentionMask, x.dtype), bias); // [B, 1, 1, L] + [1, H, L, L]
    return bertLayers(spec, P, x, maskAdd, site, MPNET_KEYS);
  },
  positionsNeeded: (spec, length) => length + spec.padTokenId + 1,
};

/**
 * The shared bias [1, H, L, L]: bucket(j - i) of every (query i, key j), looked up in the
 * [buckets, H] table. Buckets depend on the length only, so they are a constant — computed for
 * the longest input the model takes and sliced to L, which keeps the exported graph's length
 * axis dynamic (the slice end becomes Shape(input_ids)[1]).
 */
function relativePositionBias(table: Tensor, l: number, maxLength: number): Tensor {
  const [buckets, heads] = table.shape;
  const n = Math.max(maxLength, l);
  const ids = new Int32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) ids[i * n + j] = relativeBucket(j - i, buckets);
  const all = table.graph.constant(hostTensor('int32', [n, n], ids));
  const idx = o.slice(all, [0, 0], [l, l], [0, 1]); // [n, n] -> [L, L]
  const values = embedding(table, idx); // [L, L] -> [L, L, H]
  return o.reshape(o.transpose(values, [2, 0, 1]), [1, heads, l, l]); // [L, L, H] -> [H, L, L] -> [1, H, L, L]
}
