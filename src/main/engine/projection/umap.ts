// 2-D UMAP (McInnes, Healy & Melville 2018, arXiv:1802.03426) in three stages, each ours:
//   1. knnGraph: exact k nearest neighbours from our top-k searcher (search/search.ts, on the
//      device), not umap-js's random-projection forest and NN-descent;
//   2. fuzzy-graph.ts: the fuzzy simplicial set (σ/ρ calibration, membership strengths, fuzzy
//      union) in CSR typed arrays;
//   3. layout.ts: the SGD layout in typed arrays.
// Stages 2 and 3 follow umap-js 1.4 operation for operation and draw for draw (the graph
// equals umap-js's to the bit, the layout to rounding: their tests check against umap-js
// itself); they replace it because its string-keyed sparse matrices and number[][] rows cost
// ~35 s of CPU at 20,000 points, and it builds a search graph for transform() we never call. Randomness (initial layout, negative sampling) comes from
// mulberry32(seed): the same seed and data give the same layout.
//
// Distances: rows are L2-normalised and the distance is Euclidean on the unit sphere,
// √(2 − 2·cos). Its neighbours are exactly the cosine neighbours, and it is umap-js's default
// metric, so the bench compares identical graphs built two ways.
//
// Embedding-space neighbours: the same search also gives each point's nearest other points by
// cosine, which the projection file keeps (projection-file.ts) so the UI can list true
// neighbours rather than nearest points in the distorted 2-D layout. Asking for more of them
// than UMAP's graph uses widens the one search; UMAP still gets the first nNeighbors columns,
// which are the same points the narrower search returns (the searcher's order is exact, ties
// to the lower index).
//
// Before/after views: projectUmap takes no initial layout (umap-js draws it uniformly in
// [-10, 10]², and so do we), and with the same seed two different graphs still diverge after
// the first epoch. So both views use the same seed and the after-layout is aligned to the
// before-layout with alignByText (shared/procrustes.ts) — rotation or reflection, uniform scale
// and translation, exactly the freedoms a UMAP layout leaves arbitrary.
import { EngineError } from '../../../shared/errors.js';
import { normalizeRows } from '../eval/embed-rows.js';
import type { SearchFn } from '../search/top-k.js';
import { mulberry32 } from '../../../shared/random.js';
import { fuzzySimplicialSet } from './fuzzy-graph.js';
import { cancelled, checkMinDist, optimizeLayout } from './layout.js';

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
  /** Finds each point's nNeighbors nearest (itself first); bruteForceTopK in tests, search/search.ts in use. */
  search: SearchFn;
  /**
   * projectUmapWithNeighbours only: how many nearest other points (cosine, in the embedding
   * space) to keep per point; capped at n − 1. Default 10.
   */
  neighbours?: number;
  signal?: AbortSignal;
  onProgress?: (p: UmapProgress) => void;
}

export interface KnnGraph {
  n: number;
  k: number;
  /** [n, k] neighbour indices, the point itself first. */
  indices: Int32Array;
  /** [n, k] √(2 − 2·cos) distances, 0 for the point itself. */
  distances: Float64Array;
  /** [n, k] cosine similarities as the searcher scored them, 1 for the point itself. */
  scores: Float32Array;
}

/** Each point's nearest other points in the embedding space. */
export interface EmbeddingNeighbours {
  n: number;
  k: number;
  /** [n, k] neighbour indices, nearest first (equal scores: lower index first), never the point itself. */
  indices: Int32Array;
  /** [n, k] their cosine similarities. */
  scores: Float32Array;
}

// Rows per search call: bounds the [chunk, n] score block the searcher holds and lets a
// cancel land between calls.
const KNN_CHUNK = 2048;

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
  const indices = new Int32Array(n * k);
  const distances = new Float64Array(n * k);
  const scores = new Float32Array(n * k);
  for (let s = 0; s < n; s += KNN_CHUNK) {
    if (signal?.aborted) throw cancelled();
    const e = Math.min(n, s + KNN_CHUNK);
    const top = await search(rows.subarray(s * dim, e * dim), rows, dim, k);
    if (top.k !== k) throw new EngineError('INTERNAL', `the searcher returned ${top.k} neighbours per row for k = ${k} over ${n} points`);
    for (let q = 0; q < e - s; q++) {
      const self = s + q, row = self * k;
      // smoothKnnDistance skips column 0 as "self" when it calibrates σ, and the membership
      // strength is zeroed only where index = row (as in umap-learn): exact duplicates ranked
      // above the point itself (ties go to the lower index) would break both, so the point is
      // moved to the front. If k duplicates outrank it, the last is dropped to make room.
      let at = top.indices.subarray(q * k, (q + 1) * k).indexOf(self);
      if (at < 0) at = k - 1;
      indices[row] = self;
      distances[row] = 0;
      scores[row] = 1;
      for (let j = 0, out = 1; j < k; j++) {
        if (j === at) continue;
        indices[row + out] = top.indices[q * k + j];
        scores[row + out] = top.scores[q * k + j];
        distances[row + out++] = Math.sqrt(Math.max(0, 2 - 2 * top.scores[q * k + j]));
      }
    }
    onProgress?.({ phase: 'knn', done: e, total: n });
  }
  return { n, k, indices, distances, scores };
}

/** The graph's first `k` columns (the point itself and its k − 1 nearest): what a search with k would give. */
export function firstColumns(g: KnnGraph, k: number): KnnGraph {
  if (k === g.k) return g;
  if (!Number.isInteger(k) || k < 1 || k > g.k) throw new EngineError('INTERNAL', `cannot take ${k} columns of a ${g.k}-NN graph`);
  const indices = new Int32Array(g.n * k), distances = new Float64Array(g.n * k), scores = new Float32Array(g.n * k);
  for (let i = 0; i < g.n; i++) {
    indices.set(g.indices.subarray(i * g.k, i * g.k + k), i * k);
    distances.set(g.distances.subarray(i * g.k, i * g.k + k), i * k);
    scores.set(g.scores.subarray(i * g.k, i * g.k + k), i * k);
  }
  return { n: g.n, k, indices, distances, scores };
}

/** Each point's `k` nearest other points: columns 1 … k of the graph (column 0 is the point itself). */
export function neighboursOf(g: KnnGraph, k: number): EmbeddingNeighbours {
  if (!Number.isInteger(k) || k < 0 || k >= g.k) throw new EngineError('INTERNAL', `a ${g.k}-NN graph holds at most ${g.k - 1} neighbours besides the point, ${k} asked`);
  const indices = new Int32Array(g.n * k), scores = new Float32Array(g.n * k);
  for (let i = 0; i < g.n; i++) {
    indices.set(g.indices.subarray(i * g.k + 1, i * g.k + 1 + k), i * k);
    scores.set(g.scores.subarray(i * g.k + 1, i * g.k + 1 + k), i * k);
  }
  return { n: g.n, k, indices, scores };
}

/** [n, 2] layout of `embeddings` ([n, dim], row-major). */
export async function projectUmap(embeddings: Float32Array, dim: number, opts: UmapOptions): Promise<Float32Array> {
  return (await runUmap(embeddings, dim, opts, 0)).layout;
}

/** The layout and each point's `opts.neighbours` (default 10) nearest other points in the embedding space, from the same search. */
export async function projectUmapWithNeighbours(embeddings: Float32Array, dim: number, opts: UmapOptions): Promise<{ layout: Float32Array; neighbours: EmbeddingNeighbours }> {
  const { neighbours = 10 } = opts;
  if (!Number.isInteger(neighbours) || neighbours < 0) throw new EngineError('BAD_INPUT', `neighbours ${neighbours} must be a whole number ≥ 0, e.g. 10`, { setting: 'neighbours' });
  const r = await runUmap(embeddings, dim, opts, neighbours);
  return { layout: r.layout, neighbours: r.neighbours };
}

async function runUmap(embeddings: Float32Array, dim: number, opts: UmapOptions, keep: number): Promise<{ layout: Float32Array; neighbours: EmbeddingNeighbours }> {
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
  checkMinDist(minDist);
  if (!Number.isInteger(seed)) throw new EngineError('BAD_INPUT', `the UMAP seed must be an integer, got ${seed}`, { setting: 'seed' });

  keep = Math.min(keep, n - 1);
  const wide = await knnGraph(unitRows(embeddings, dim), dim, Math.max(nNeighbors, keep + 1), search, signal, onProgress);
  const knn = firstColumns(wide, nNeighbors);
  if (signal?.aborted) throw cancelled();
  onProgress?.({ phase: 'graph', done: 0, total: 1 });
  const graph = fuzzySimplicialSet(knn.indices, knn.distances, n, nNeighbors);
  onProgress?.({ phase: 'graph', done: 1, total: 1 });
  if (signal?.aborted) throw cancelled();
  const layout = await optimizeLayout(graph, {
    nEpochs, minDist, random: mulberry32(seed), signal,
    onEpoch: (done, total) => onProgress?.({ phase: 'layout', done, total }),
  });
  return { layout: Float32Array.from(layout), neighbours: neighboursOf(wide, keep) };
}
