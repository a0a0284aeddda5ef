import { UMAP } from 'umap-js';
import { describe, expect, it } from 'vitest';
import { bruteForceTopK, type SearchFn } from '../search/top-k.js';
import { mulberry32 } from '../../../shared/random.js';
import { fuzzySimplicialSet, smoothKnnDistance } from './fuzzy-graph.js';
import { type KnnGraph, knnGraph } from './umap.js';

const brute: SearchFn = async (q, c, d, k) => bruteForceTopK(q, c, d, k);
const DIM = 8;
const K = 10;

/**
 * 100 unit rows: 4 noisy clusters, then 12 copies of one row (their 10 neighbours all sit at
 * distance 0, so ρ = 0 and σ takes the global floor) and 2 pairs of duplicates (ρ from the
 * first neighbour past the twin).
 */
function rows(): Float32Array {
  const rand = mulberry32(5);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const out = new Float32Array(100 * DIM);
  const centres = Array.from({ length: 4 }, () => Array.from({ length: DIM }, gauss));
  for (let i = 0; i < 100; i++) {
    const v = i < 84 ? centres[i % 4].map((c) => c + 0.3 * gauss()) : i < 96 ? centres[0].map((c) => c + 0.05) : Array.from({ length: DIM }, gauss);
    const norm = Math.hypot(...v);
    v.forEach((x, d) => (out[i * DIM + d] = x / norm));
  }
  out.copyWithin(97 * DIM, 96 * DIM, 97 * DIM); // 97 = 96
  out.copyWithin(99 * DIM, 98 * DIM, 99 * DIM); // 99 = 98
  return out;
}

/** umap-js 1.4's own graph from the same k-NN: the independent reference (private methods). */
function umapJs(g: KnnGraph): { umap: UMAP; entries: Map<string, number> } {
  const umap = new UMAP({ nNeighbors: g.k });
  const rowsOf = <T extends ArrayLike<number>>(a: T) => Array.from({ length: g.n }, (_, i) => Array.from(a).slice(i * g.k, (i + 1) * g.k));
  umap.setPrecomputedKNN(rowsOf(g.indices), rowsOf(g.distances));
  const priv = umap as unknown as {
    fuzzySimplicialSet(X: unknown[], k: number, mix: number): { getAll(): { row: number; col: number; value: number }[] };
  };
  expect(typeof priv.fuzzySimplicialSet).toBe('function'); // fails loudly if umap-js moves it
  const entries = new Map<string, number>();
  for (const { row, col, value } of priv.fuzzySimplicialSet(new Array(g.n).fill([]), g.k, 1).getAll()) {
    if (value !== 0) entries.set(`${row}:${col}`, value); // umap-js keeps the self edges' zeros
  }
  return { umap, entries };
}

describe('fuzzySimplicialSet', () => {
  it("equals umap-js's fuzzySimplicialSet on the same k-NN graph", async () => {
    const g = await knnGraph(rows(), DIM, K, brute);
    const ref = umapJs(g).entries;
    const ours = fuzzySimplicialSet(g.indices, g.distances, g.n, g.k);
    expect(ours.indices.length).toBe(ref.size);
    let worst = 0;
    for (let i = 0; i < g.n; i++) {
      for (let e = ours.indptr[i]; e < ours.indptr[i + 1]; e++) {
        const want = ref.get(`${i}:${ours.indices[e]}`);
        expect(want, `entry (${i}, ${ours.indices[e]})`).toBeDefined();
        worst = Math.max(worst, Math.abs(ours.values[e] - want!));
        if (e > ours.indptr[i]) expect(ours.indices[e]).toBeGreaterThan(ours.indices[e - 1]);
      }
    }
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it("gives umap-js's σ and ρ, the ρ = 0 floor included", async () => {
    const g = await knnGraph(rows(), DIM, K, brute);
    const { umap } = umapJs(g);
    const priv = umap as unknown as { smoothKNNDistance(d: number[][], k: number): { sigmas: number[]; rhos: number[] } };
    const ref = priv.smoothKNNDistance(Array.from({ length: g.n }, (_, i) => Array.from(g.distances.subarray(i * K, (i + 1) * K))), K);
    const ours = smoothKnnDistance(g.distances, g.n, K);
    expect(ours.rhos[90]).toBe(0); // the 12 copies
    expect(ours.rhos[96]).toBeGreaterThan(0); // a twin: ρ past the zero
    for (let i = 0; i < g.n; i++) {
      expect(Math.abs(ours.sigmas[i] - ref.sigmas[i])).toBeLessThanOrEqual(1e-6 * ref.sigmas[i]);
      expect(Math.abs(ours.rhos[i] - ref.rhos[i])).toBeLessThanOrEqual(1e-9);
    }
  });

  it('calibrates σ so each point’s strengths to its k − 1 neighbours sum to log2 k (McInnes et al. §3.1)', async () => {
    const g = await knnGraph(rows(), DIM, K, brute);
    const { sigmas, rhos } = smoothKnnDistance(g.distances, g.n, K);
    for (let i = 0; i < 84; i++) {
      let sum = 0;
      for (let j = 1; j < K; j++) sum += Math.exp(-Math.max(0, g.distances[i * K + j] - rhos[i]) / sigmas[i]);
      expect(sum).toBeCloseTo(Math.log2(K), 4);
    }
  });

  it('is the fuzzy union p + q − pq of a hand-made graph, without self edges', () => {
    // 3 points, k = 3 (self + 2). With two neighbours the nearest gets strength 1 (d = ρ) and σ
    // makes the other log2 3 − 1 =: c, whatever the distances. Nearest: 0 → 1, 1 → 0, 2 → 1.
    const g = fuzzySimplicialSet(new Int32Array([0, 1, 2, 1, 0, 2, 2, 1, 0]), new Float64Array([0, 0.1, 0.3, 0, 0.1, 0.25, 0, 0.25, 0.3]), 3, 3);
    const c = Math.log2(3) - 1;
    expect(Array.from(g.indptr)).toEqual([0, 2, 4, 6]);
    expect(Array.from(g.indices)).toEqual([1, 2, 0, 2, 0, 1]);
    // w01 = 1 + 1 − 1, w12 = c + 1 − c, w02 = c + c − c² (a max-union would give c)
    const want = [1, 2 * c - c * c, 1, 1, 2 * c - c * c, 1];
    Array.from(g.values).forEach((v, e) => expect(v).toBeCloseTo(want[e], 4));
  });

  it('names the bad index a broken searcher returns', () => {
    expect(() => fuzzySimplicialSet(new Int32Array([0, 7, 1, 0]), new Float64Array(4), 2, 2)).toThrow(/neighbour 7 of point 0 is outside 0..1/);
  });
});
