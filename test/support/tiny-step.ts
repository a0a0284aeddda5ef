// Seeded inputs for running a tiny BERT step or encode graph by hand: starting weights and a
// batch of token rows; and MiniLM's published config for tests at real size. Tests that check plumbing or precision (not parity with torch, which
// has its own fixtures) share these instead of each drawing its own.
import type { EncoderSpec } from '../../src/main/engine/nn/encoder.js';
import { paramSpecs } from '../../src/main/engine/nn/encoder.js';
import { mulberry32 } from '../../src/shared/random.js';

/** LayerNorm weights 1, every other value uniform in [-spread/2, spread/2), from `seed`. */
export function randomParams(spec: EncoderSpec, spread: number, seed = 17): Map<string, Float32Array> {
  const random = mulberry32(seed);
  return new Map(
    paramSpecs(spec).map((p) => {
      const n = p.shape.reduce((a, b) => a * b, 1);
      const ln = p.key.endsWith('LayerNorm.weight');
      return [p.key, Float32Array.from({ length: n }, () => (ln ? 1 : (random() - 0.5) * spread))];
    }),
  );
}

/**
 * `rows` rows of `length` token slots, row-major, BERT's three inputs: each row 3 to 8 real
 * tokens (id 1 first, then ids in [2, vocab)), the rest padding (id 0, mask 0), token types 0.
 */
export function randomBertBatch(rows: number, length: number, vocab: number, seed = 23): Record<string, Int32Array> {
  const random = mulberry32(seed);
  const lens = Array.from({ length: rows }, () => 3 + Math.floor(random() * 6));
  const grid = (f: (r: number, l: number) => number) => Int32Array.from({ length: rows * length }, (_, i) => f(Math.floor(i / length), i % length));
  return {
    input_ids: grid((r, l) => (l < lens[r] ? (l === 0 ? 1 : 2 + Math.floor(random() * (vocab - 2))) : 0)),
    attention_mask: grid((r, l) => (l < lens[r] ? 1 : 0)),
    token_type_ids: grid(() => 0),
  };
}

/** all-MiniLM-L6-v2's config.json (abridged to the fields that matter). */
export const MINILM_CONFIG = {
  architectures: ['BertModel'],
  model_type: 'bert',
  vocab_size: 30522,
  hidden_size: 384,
  num_hidden_layers: 6,
  num_attention_heads: 12,
  intermediate_size: 1536,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
  position_embedding_type: 'absolute',
};
