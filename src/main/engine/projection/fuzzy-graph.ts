// UMAP's fuzzy simplicial set (McInnes, Healy & Melville 2018, arXiv:1802.03426, §3.1 and
// Algorithms 2–3) from a k-NN graph, in typed arrays. It reproduces umap-js 1.4's
// smoothKNNDistance, computeMembershipStrengths and fuzzySimplicialSet operation for operation
// (themselves ports of umap-learn's smooth_knn_dist and fuzzy_simplicial_set), so the values
// agree to the last bit; what changes is the storage. umap-js keys every entry of its sparse
// matrix by the string `${row}:${col}` in a Map and rebuilds the map for each of transpose,
// add, multiply and subtract, which cost ~13 s of CPU at 20,000 × 15; here the union is one
// merge of two sorted CSR rows per point. umap-js's search graph (kept only for transform())
// is not built.
//
// Per point i, with neighbour distances d_i1 ≤ … ≤ d_ik (the point itself first, distance 0):
//   ρ_i = distance to the nearest neighbour at a positive distance (local_connectivity = 1)
//   σ_i solves Σ_{j≥1} exp(−max(0, d_ij − ρ_i)/σ_i) = log2 k   (binary search, 64 steps)
//   p_{j|i} = exp(−max(0, d_ij − ρ_i)/σ_i), 0 for i itself
// and the graph is the fuzzy union (set_op_mix_ratio = 1): w_ij = p_{j|i} + p_{i|j} − p_{j|i}·p_{i|j}.
import { EngineError } from '../../../shared/errors.js';

/** Symmetric sparse matrix in CSR form, columns ascending within a row, no stored zeros. */
export interface FuzzyGraph {
  n: number;
  /** [n + 1] row i's entries are indptr[i] ≤ e < indptr[i + 1]. */
  indptr: Int32Array;
  /** [nnz] column of each entry. */
  indices: Int32Array;
  /** [nnz] membership strength in (0, 1]. */
  values: Float64Array;
}

// umap-learn's SMOOTH_K_TOLERANCE and MIN_K_DIST_SCALE, as umap-js copies them.
const SMOOTH_K_TOLERANCE = 1e-5;
const MIN_K_DIST_SCALE = 1e-3;
const SIGMA_STEPS = 64;

/**
 * ρ and σ per point (umap-learn smooth_knn_dist, bandwidth 1). `distances` is [n, k] row-major,
 * column 0 the point itself: the σ search skips it, as umap-learn and umap-js do.
 */
export function smoothKnnDistance(distances: Float64Array, n: number, k: number, localConnectivity = 1): { sigmas: Float64Array; rhos: Float64Array } {
  const target = Math.log(k) / Math.log(2);
  const sigmas = new Float64Array(n);
  const rhos = new Float64Array(n);
  const nonZero = new Float64Array(k);
  // The floor for points with ρ = 0 uses the mean over all rows of each row's mean distance;
  // umap-js recomputes it inside the loop (O(n²k)), it depends on no row, so once here.
  let globalMean = -1;
  for (let i = 0; i < n; i++) {
    const row = i * k;
    let m = 0;
    for (let j = 0; j < k; j++) if (distances[row + j] > 0) nonZero[m++] = distances[row + j];
    let rho = 0;
    if (m >= localConnectivity) {
      const index = Math.floor(localConnectivity);
      const interpolation = localConnectivity - index;
      if (index > 0) {
        rho = nonZero[index - 1];
        if (interpolation > SMOOTH_K_TOLERANCE) rho += interpolation * (nonZero[index] - nonZero[index - 1]);
      } else {
        rho = interpolation * nonZero[0];
      }
    } else if (m > 0) {
      for (let j = 0; j < m; j++) if (nonZero[j] > rho) rho = nonZero[j];
    }
    let lo = 0, hi = Infinity, mid = 1;
    for (let step = 0; step < SIGMA_STEPS; step++) {
      let psum = 0;
      for (let j = 1; j < k; j++) {
        const d = distances[row + j] - rho;
        psum += d > 0 ? Math.exp(-(d / mid)) : 1;
      }
      if (Math.abs(psum - target) < SMOOTH_K_TOLERANCE) break;
      if (psum > target) {
        hi = mid;
        mid = (lo + hi) / 2;
      } else {
        lo = mid;
        mid = hi === Infinity ? mid * 2 : (lo + hi) / 2;
      }
    }
    // σ is kept above 1/1000 of the mean distance so that near-duplicate neighbourhoods do not
    // give p = 0 to everything past ρ (umap-learn's MIN_K_DIST_SCALE).
    let floor: number;
    if (rho > 0) {
      floor = MIN_K_DIST_SCALE * rowMean(distances, row, k);
    } else {
      if (globalMean < 0) {
        let s = 0;
        for (let r = 0; r < n; r++) s += rowMean(distances, r * k, k);
        globalMean = s / n;
      }
      floor = MIN_K_DIST_SCALE * globalMean;
    }
    sigmas[i] = mid < floor ? floor : mid;
    rhos[i] = rho;
  }
  return { sigmas, rhos };
}

function rowMean(a: Float64Array, start: number, k: number): number {
  let s = 0;
  for (let j = 0; j < k; j++) s += a[start + j];
  return s / k;
}

/**
 * The fuzzy union of the directed membership strengths, as CSR. `indices` and `distances` are
 * [n, k] row-major (−1 marks a missing neighbour, skipped); the point itself gets strength 0.
 */
export function fuzzySimplicialSet(indices: Int32Array, distances: Float64Array, n: number, k: number): FuzzyGraph {
  if (indices.length !== n * k || distances.length !== n * k) {
    throw new EngineError('INTERNAL', `k-NN graph of ${indices.length} indices and ${distances.length} distances is not [${n}, ${k}]: build it with knnGraph`);
  }
  const { sigmas, rhos } = smoothKnnDistance(distances, n, k);

  // P (directed, i → j), rows sorted by column. A column listed twice keeps its last value,
  // as umap-js's Map-backed matrix does.
  const pPtr = new Int32Array(n + 1);
  const pCol = new Int32Array(n * k);
  const pVal = new Float64Array(n * k);
  const order = new Int32Array(k);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    const row = i * k;
    let m = 0;
    for (let j = 0; j < k; j++) {
      const c = indices[row + j];
      if (c === -1 || c === i) continue;
      if (c < 0 || c >= n) {
        throw new EngineError('INTERNAL', `neighbour ${c} of point ${i} is outside 0..${n - 1}: the searcher returned a bad index`);
      }
      // insertion sort by column; equal columns go after (stable), so the last one wins below
      let at = m++;
      while (at > 0 && indices[row + order[at - 1]] > c) {
        order[at] = order[at - 1];
        at--;
      }
      order[at] = j;
    }
    for (let t = 0; t < m; t++) {
      const j = order[t];
      if (t + 1 < m && indices[row + order[t + 1]] === indices[row + j]) continue;
      const d = distances[row + j] - rhos[i];
      const v = d <= 0 ? 1 : Math.exp(-(d / sigmas[i]));
      if (v === 0) continue; // underflow: umap-js stores the 0, its layout then drops it
      pCol[nnz] = indices[row + j];
      pVal[nnz++] = v;
    }
    pPtr[i + 1] = nnz;
  }

  // Pᵀ by counting sort; filling row by row keeps each transposed row's columns ascending.
  const tPtr = new Int32Array(n + 1);
  for (let e = 0; e < nnz; e++) tPtr[pCol[e] + 1]++;
  for (let i = 0; i < n; i++) tPtr[i + 1] += tPtr[i];
  const tCol = new Int32Array(nnz);
  const tVal = new Float64Array(nnz);
  const fill = tPtr.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let e = pPtr[i]; e < pPtr[i + 1]; e++) {
      const at = fill[pCol[e]]++;
      tCol[at] = i;
      tVal[at] = pVal[e];
    }
  }

  // W = P + Pᵀ − P∘Pᵀ, merging the two sorted rows. (p + q) − p·q in umap-js's order: an
  // entry present on one side only is p + 0 − p·0 = p exactly.
  const indptr = new Int32Array(n + 1);
  const outCol = new Int32Array(2 * nnz);
  const outVal = new Float64Array(2 * nnz);
  let w = 0;
  for (let i = 0; i < n; i++) {
    let a = pPtr[i], b = tPtr[i];
    const aEnd = pPtr[i + 1], bEnd = tPtr[i + 1];
    while (a < aEnd || b < bEnd) {
      const ca = a < aEnd ? pCol[a] : n, cb = b < bEnd ? tCol[b] : n;
      const p = ca <= cb ? pVal[a] : 0, q = cb <= ca ? tVal[b] : 0;
      outCol[w] = ca <= cb ? ca : cb;
      outVal[w++] = p + q - p * q;
      if (ca <= cb) a++;
      if (cb <= ca) b++;
    }
    indptr[i + 1] = w;
  }
  return { n, indptr, indices: outCol.slice(0, w), values: outVal.slice(0, w) };
}
