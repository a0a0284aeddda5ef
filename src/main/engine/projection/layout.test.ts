import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { UMAP } from 'umap-js';
import { findABParams } from 'umap-js/dist/umap.js';
import { describe, expect, it } from 'vitest';
import { bruteForceTopK, type SearchFn } from '../search/top-k.js';
import { mulberry32 } from '../../../shared/random.js';
import { fuzzySimplicialSet } from './fuzzy-graph.js';
import { defaultEpochs, optimizeLayout } from './layout.js';
import { type KnnGraph, knnGraph } from './umap.js';

const brute: SearchFn = async (q, c, d, k) => bruteForceTopK(q, c, d, k);
const DIM = 8;

/** n unit rows in 3 loose clusters. */
function rows(n: number): Float32Array {
  const rand = mulberry32(11);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const centres = Array.from({ length: 3 }, () => Array.from({ length: DIM }, gauss));
  const out = new Float32Array(n * DIM);
  for (let i = 0; i < n; i++) {
    const v = centres[i % 3].map((c) => c + 0.4 * gauss());
    const norm = Math.hypot(...v);
    v.forEach((x, d) => (out[i * DIM + d] = x / norm));
  }
  return out;
}

/** umap-js 1.4's whole fit (graph, init, SGD) on a precomputed k-NN graph. */
function umapJsLayout(g: KnnGraph, nEpochs: number, minDist: number, seed: number): number[] {
  const umap = new UMAP({ nComponents: 2, nNeighbors: g.k, nEpochs, minDist, random: mulberry32(seed) });
  const rowsOf = (a: ArrayLike<number>) => Array.from({ length: g.n }, (_, i) => Array.from(a).slice(i * g.k, (i + 1) * g.k));
  umap.setPrecomputedKNN(rowsOf(g.indices), rowsOf(g.distances));
  return umap.fit(Array.from({ length: g.n }, () => [])).flat();
}

/**
 * Trustworthiness at k (Venna & Kaski 2001, as sklearn.manifold.trustworthiness): 1 minus the
 * normalised rank excess of the 2-D neighbours that are not input neighbours.
 */
function trustworthiness(x: Float32Array, layout: ArrayLike<number>, k: number): number {
  const n = x.length / DIM;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const others = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i);
    const dot = (j: number) => x.subarray(j * DIM, (j + 1) * DIM).reduce((s, v, d) => s + v * x[i * DIM + d], 0);
    const rank = new Map(others.sort((p, q) => dot(q) - dot(p)).map((j, r) => [j, r + 1]));
    const d2 = (j: number) => (layout[2 * i] - layout[2 * j]) ** 2 + (layout[2 * i + 1] - layout[2 * j + 1]) ** 2;
    for (const j of others.sort((p, q) => d2(p) - d2(q)).slice(0, k)) sum += Math.max(0, rank.get(j)! - k);
  }
  return 1 - (2 / (n * k * (2 * n - 3 * k - 1))) * sum;
}

describe('optimizeLayout', () => {
  it("takes umap-js's steps and draws: equal to ~1e-13 over the first epochs", async () => {
    const g = await knnGraph(rows(120), DIM, 12, brute);
    for (const [nEpochs, minDist, seed] of [[5, 0.1, 3], [4, 0.5, 9]]) {
      const ours = await optimizeLayout(fuzzySimplicialSet(g.indices, g.distances, g.n, g.k), { nEpochs, minDist, random: mulberry32(seed) });
      const ref = umapJsLayout(g, nEpochs, minDist, seed);
      // Only powB's rounding differs (layout.ts); a changed formula, edge order or draw would
      // be off by whole units. Later epochs amplify the rounding (1e-5 by epoch 10).
      expect(Math.max(...Array.from(ours, (v, i) => Math.abs(v - ref[i])))).toBeLessThan(1e-9);
    }
  });

  it("lays a whole run out as faithfully as umap-js (trustworthiness within 0.02)", async () => {
    const x = rows(300);
    const g = await knnGraph(x, DIM, 12, brute);
    const ours = await optimizeLayout(fuzzySimplicialSet(g.indices, g.distances, g.n, g.k), { nEpochs: 200, minDist: 0.1, random: mulberry32(4) });
    const ref = umapJsLayout(g, 200, 0.1, 4);
    const [t, tRef] = [trustworthiness(x, ours, 12), trustworthiness(x, ref, 12)];
    expect(tRef).toBeGreaterThan(0.85); // the data have structure worth keeping
    expect(Math.abs(t - tRef)).toBeLessThan(0.02);
  });

  it('same seed → same layout; another seed → another', async () => {
    const g = await knnGraph(rows(120), DIM, 12, brute);
    const graph = fuzzySimplicialSet(g.indices, g.distances, g.n, g.k);
    const run = (seed: number) => optimizeLayout(graph, { nEpochs: 30, minDist: 0.1, random: mulberry32(seed) });
    const a = await run(1);
    expect(a.every(Number.isFinite)).toBe(true);
    expect(await run(1)).toEqual(a);
    expect(await run(2)).not.toEqual(a);
  });

  it('stops between epochs when the signal aborts, with CANCELLED', async () => {
    const g = await knnGraph(rows(120), DIM, 12, brute);
    const graph = fuzzySimplicialSet(g.indices, g.distances, g.n, g.k);
    const ac = new AbortController();
    const seen: number[] = [];
    const run = optimizeLayout(graph, {
      nEpochs: 50, minDist: 0.1, random: mulberry32(1), signal: ac.signal,
      onEpoch: (done, total) => {
        seen.push(done);
        expect(total).toBe(50);
        if (done === 4) ac.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it("follows umap-js's epoch rule and refuses a min_dist outside [0, 3·spread)", async () => {
    expect([2500, 2501, 5000, 7500, 7501].map(defaultEpochs)).toEqual([500, 400, 400, 300, 200]);
    const g = await knnGraph(rows(120), DIM, 12, brute);
    const graph = fuzzySimplicialSet(g.indices, g.distances, g.n, g.k);
    await expect(optimizeLayout(graph, { minDist: -1, random: Math.random })).rejects.toThrow(/minDist -1 must be in \[0, 3\)/);
  });
});

describe('findABParams (umap-js 1.4 internal export, pinned)', () => {
  it('is still where layout.ts imports it from, in umap-js 1.4.x', () => {
    const require = createRequire(import.meta.url);
    const pkg = JSON.parse(readFileSync(require.resolve('umap-js/package.json'), 'utf8')) as { version: string };
    // layout.ts deep-imports dist/umap.js; a new minor may move it. Re-check, then update here.
    expect(pkg.version).toMatch(/^1\.4\./);
    expect(typeof findABParams).toBe('function');
  });

  it("fits umap-learn's curve: min_dist 0.1 gives a ≈ 1.577, b ≈ 0.895 (umap-learn find_ab_params)", () => {
    const { a, b } = findABParams(1, 0.1);
    expect(Math.abs(a / 1.5769434603113077 - 1)).toBeLessThan(0.01);
    expect(Math.abs(b / 0.8950608779109733 - 1)).toBeLessThan(0.01);
  });
});
