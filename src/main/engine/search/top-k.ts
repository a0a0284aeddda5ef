// Exact top-k similarity search: the result shape every searcher returns, and the plain
// brute-force reference the device search (search.ts) is tested against. Its own room because
// mining, eval, projection and training's evaluator all search; none of them owns it. Scores
// are dot products; callers pass L2-normalised embeddings, so they are cosine similarities.
import { EngineError } from '../../../shared/errors.js';

export interface TopK {
  /** Neighbours per query row (min of the k asked and the corpus size). */
  k: number;
  /** Query rows. */
  rows: number;
  /** [rows, k] corpus indices, per row by score descending; equal scores: lower index first (ONNX TopK's rule). */
  indices: Int32Array;
  /** [rows, k] the matching scores. */
  scores: Float32Array;
}

/** Any top-k searcher: queries [nq, dim], corpus [nc, dim], both row-major float32. */
export type SearchFn = (queries: Float32Array, corpus: Float32Array, dim: number, k: number) => Promise<TopK>;

export function checkSearchInput(queries: Float32Array, corpus: Float32Array, dim: number, k: number): { nq: number; nc: number; k: number } {
  if (!Number.isInteger(dim) || dim < 1) throw new EngineError('BAD_INPUT', `embedding width ${dim} must be a positive integer`);
  if (queries.length % dim !== 0 || corpus.length % dim !== 0) {
    throw new EngineError('BAD_INPUT', `query (${queries.length}) and corpus (${corpus.length}) arrays must be whole rows of ${dim} values`);
  }
  if (!Number.isInteger(k) || k < 1) throw new EngineError('BAD_INPUT', `k ${k} must be a positive integer, e.g. 10`, { setting: 'k' });
  const nc = corpus.length / dim;
  if (nc === 0) throw new EngineError('BAD_INPUT', 'the corpus is empty: nothing to search');
  return { nq: queries.length / dim, nc, k: Math.min(k, nc) };
}

/** float64 dot products, full sort per query: slow and obviously right. */
export function bruteForceTopK(queries: Float32Array, corpus: Float32Array, dim: number, kAsked: number): TopK {
  const { nq, nc, k } = checkSearchInput(queries, corpus, dim, kAsked);
  const indices = new Int32Array(nq * k);
  const scores = new Float32Array(nq * k);
  const s = new Float64Array(nc);
  const order = Array.from({ length: nc }, (_, i) => i);
  for (let q = 0; q < nq; q++) {
    for (let c = 0; c < nc; c++) {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += queries[q * dim + d] * corpus[c * dim + d];
      s[c] = Math.fround(dot);
    }
    order.sort((a, b) => s[b] - s[a] || a - b);
    for (let j = 0; j < k; j++) {
      indices[q * k + j] = order[j];
      scores[q * k + j] = s[order[j]];
    }
  }
  return { k, rows: nq, indices, scores };
}
