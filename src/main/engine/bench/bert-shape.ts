// The BERT the step benches build: MiniLM's family (bert-base-uncased vocabulary, 512
// positions, mean pooling, normalised) at any width and depth, heads of 32 and FFN 4× wide.
import type { EncoderSpec } from '../nn/index.js';

export function benchBertSpec(hidden: number, layers: number, dropout: number): EncoderSpec {
  return {
    arch: 'bert', vocabSize: 30522, hidden, layers, heads: hidden / 32, intermediate: 4 * hidden,
    maxPositions: 512, typeVocabSize: 2, layerNormEps: 1e-12, padTokenId: 0, pooling: 'mean', normalize: true,
    hiddenDropout: dropout, attentionDropout: dropout,
  };
}
