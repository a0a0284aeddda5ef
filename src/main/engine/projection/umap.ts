// 2-D UMAP (McInnes, Healy & Melville 2018, arXiv:1802.03426) through umap-js 1.4, fed the
// k-nearest-neighbour graph from our own top-k searcher (setPrecomputedKNN), so umap-js's
// random-projection forest and NN-descent never run: the neighbours are exact, and the search
// can run on the device (mining/search.ts) rather than in a JS loop. Randomness (initial
// layout, negative sampling) comes from mulberry32(seed): the same seed and data give the same
// layout.
//
// Distances: rows are L2-normalised and the distance is Euclidean on the unit sphere,
// √(2 − 2·cos). Its neighbours are exactly the cosine neighbours, and it is umap-js's default
// metric, so the bench compares identical graphs built two ways.
//
// Before/after views: umap-js 1.4 has no way to pass an initial layout (initializeFit draws it
// uniformly in [-10, 10]²), and with the same seed two different graphs still diverge after
// the first epoch. So both views use the same seed and the after-layout is aligned to the
// before-layout with alignProcrustes (procrustes.ts) — rotation or reflection, uniform scale
// and translation, exactly the freedoms a UMAP layout leaves arbitrary.
import { UMAP } from 'umap-js';
import { EngineError } from '../../../shared/errors.js';
import { normalizeRows } from '../eval/embed-rows.js';
import type { SearchFn } from '../mining/top-k.js';
import { mulberry32 } from '../runtime/dropout.js';

export { alignProcrustes, type Alignment } from './procrustes.js';

export interface UmapProgress {
  phase: 'knn' | 'graph' | 'layout';
  done: number;
  total: number;
}

export interface UmapOptions {
  /** Neighbourhood size, the point itself included (as in umap-learn): larger keeps more global structure. Default 15. */
  nNeighbors?: number;
  /** How tightly points may pack in the layout (umap-learn's min_dist). Default 0.1. */
  minDist?: number;
  /** SGD epochs; default umap-js's rule: 500 up to 2,500 points, down to 200 above 7,500. */
  nEpochs?: number;
  /** Seeds the initial layout and the negative sampling. Default 42. */
  seed?: number;
  /** Finds each point's nNeighbors nearest (itself first); bruteForceTopK in tests, mining/search.ts in use. */
  search: SearchFn;
  signal?: AbortSignal;
  onProgress?: (p: UmapProgress) => void;
}

export interface KnnGraph {
  /** [n][k] neighbour indices, the point itself first. */
  indices: number[][];
  /** [n][k] √(2 − 2·cos) distances, 0 for the point itself. */
  distances: number[][];
}

// Rows per search call: bounds the [chunk, n] score block the searcher holds and lets a
// cancel land between calls.
const KNN_CHUNK = 2048;

function cancelled(): EngineError {
  return new EngineError('CANCELLED', 'UMAP projection cancelled');
}

/** Unit rows: the input itself when already unit length (no copy), else a normalised copy. */
export function unitRows(embeddings: Float32Array, dim: number): Float32Array {
  for (let r = 0; r < embeddings.length / dim; r++) {
    let ss = 0;
    for (let d = r * dim; d < (r + 1) * dim; d++) ss += embeddings[d] * embeddings[d];
    if (Math.abs(ss - 1) > 1e-3) return normalizeRows(embeddings.slice(), dim);
  }
  return embeddings;
}

/** The k-NN graph UMAP wants, from our searcher. `rows` must be unit length. */
export async function knnGraph(rows: Float32Array, dim: number, k: number, search: SearchFn, signal?: AbortSignal, onProgress?: (p: UmapProgress) => void): Promise<KnnGraph> {
  const n = rows.length / dim;
  const indices: number[][] = [];
  const distances: number[][] = [];
  for (let s = 0; s < n; s += KNN_CHUNK) {
    if (signal?.aborted) throw cancelled();
    const e = Math.min(n, s + KNN_CHUNK);
    const top = await search(rows.subarray(s * dim, e * dim), rows, dim, k);
    for (let q = 0; q < e - s; q++) {
      const self = s + q;
      const idx = Array.from(top.indices.subarray(q * top.k, (q + 1) * top.k));
      const sim = Array.from(top.scores.subarray(q * top.k, (q + 1) * top.k));
      // umap-js skips column 0 as "self" when it calibrates σ (smoothKNNDistance) and zeroes
      // the self edge only where index = row: exact duplicates ranked above the point itself
      // (ties go to the lower index) would break both, so the point is moved to the front.
      let at = idx.indexOf(self);
      if (at < 0) at = idx.length - 1; // k duplicates outrank it: drop the last to make room
      idx.splice(at, 1);
      sim.splice(at, 1);
      indices.push([self, ...idx]);
      distances.push([0, ...sim.map((c) => Math.sqrt(Math.max(0, 2 - 2 * c)))]);
    }
    onProgress?.({ phase: 'knn', done: e, total: n });
  }
  return { indices, distances };
}

/** [n, 2] layout of `embeddings` ([n, dim], row-major). */
export async function projectUmap(embeddings: Float32Array, dim: number, opts: UmapOptions): Promise<Float32Array> {
  const { nNeighbors = 15, minDist = 0.1, nEpochs, seed = 42, search, signal, onProgress } = opts;
  if (!Number.isInteger(dim) || dim < 1 || embeddings.length % dim !== 0) {
    throw new EngineError('BAD_INPUT', `embeddings of ${embeddings.length} values are not whole rows of width ${dim}`);
  }
  const n = embeddings.length / dim;
  if (!Number.isInteger(nNeighbors) || nNeighbors < 2) throw new EngineError('BAD_INPUT', `nNeighbors ${nNeighbors} must be an integer ≥ 2, e.g. 15`, { setting: 'nNeighbors' });
  if (n <= nNeighbors) {
    throw new EngineError('BAD_INPUT', `UMAP needs more points than nNeighbors: ${n} points, nNeighbors ${nNeighbors}. Fix: set nNeighbors to at most ${Math.max(2, n - 1)}, or project more texts.`, { setting: 'nNeighbors' });
  }
  if (nEpochs !== undefined && (!Number.isInteger(nEpochs) || nEpochs < 1)) throw new EngineError('BAD_INPUT', `nEpochs ${nEpochs} must be a positive integer, e.g. 200`, { setting: 'nEpochs' });
  if (!Number.isInteger(seed)) throw new EngineError('BAD_INPUT', `the UMAP seed must be an integer, got ${seed}`, { setting: 'seed' });

  const graph = await knnGraph(unitRows(embeddings, dim), dim, nNeighbors, search, signal, onProgress);
  if (signal?.aborted) throw cancelled();
  const umap = new UMAP({ nComponents: 2, nNeighbors, minDist, nEpochs, random: mulberry32(seed) });
  umap.setPrecomputedKNN(graph.indices, graph.distances);
  // With a precomputed graph umap-js reads only X.length (and keeps X for transform(), which
  // we never call): empty rows spare an [n][dim] number[][] copy of the embeddings.
  const X: number[][] = Array.from({ length: n }, () => []);
  onProgress?.({ phase: 'graph', done: 0, total: 1 });
  const epochs = umap.initializeFit(X); // synchronous: fuzzy simplicial set + initial layout
  onProgress?.({ phase: 'graph', done: 1, total: 1 });
  if (signal?.aborted) throw cancelled();
  // fitAsync skips the initialisation done above (same X) and yields to the event loop
  // between epochs; returning false from the callback stops it.
  await umap.fitAsync(X, (epoch) => {
    onProgress?.({ phase: 'layout', done: epoch, total: epochs });
    return !signal?.aborted;
  });
  if (signal?.aborted) throw cancelled();
  const layout = umap.getEmbedding();
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    out[2 * i] = layout[i][0];
    out[2 * i + 1] = layout[i][1];
  }
  return out;
}
