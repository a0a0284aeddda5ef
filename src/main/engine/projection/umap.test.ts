import { describe, expect, it } from 'vitest';
import { bruteForceTopK, type SearchFn, type TopK } from '../search/top-k.js';
import { mulberry32 } from '../../../shared/random.js';
import { type UmapProgress, knnGraph, projectUmap, projectUmapWithNeighbours } from './umap.js';

const DIM = 16;

/** `per` points around each of `k` random unit centres, noise σ, then normalised. */
function blobs(k: number, per: number, sigma: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const centres = Array.from({ length: k }, () => Array.from({ length: DIM }, gauss));
  const out = new Float32Array(k * per * DIM);
  for (let i = 0; i < k * per; i++) {
    const v = centres[i % k].map((c) => c + sigma * gauss());
    const n = Math.hypot(...v);
    v.forEach((x, d) => (out[i * DIM + d] = x / n));
  }
  return out;
}

const brute: SearchFn = async (q, c, d, k) => bruteForceTopK(q, c, d, k);
const data = blobs(3, 30, 0.15, 1); // point i belongs to blob i % 3

/** Every point is nearer its own group's 2-D centroid than any other group's. */
function separated(layout: Float32Array, group: (i: number) => number, groups: number): boolean {
  const n = layout.length / 2;
  const c = Array.from({ length: groups }, () => [0, 0, 0]);
  for (let i = 0; i < n; i++) {
    const g = c[group(i)];
    g[0] += layout[2 * i];
    g[1] += layout[2 * i + 1];
    g[2]++;
  }
  for (let i = 0; i < n; i++) {
    const d = c.map(([x, y, m]) => Math.hypot(layout[2 * i] - x / m, layout[2 * i + 1] - y / m));
    if (d.indexOf(Math.min(...d)) !== group(i)) return false;
  }
  return true;
}

describe('projectUmap', () => {
  const opts = { nNeighbors: 10, nEpochs: 100, search: brute };

  it('same seed → identical layout; another seed → a different one', async () => {
    const a = await projectUmap(data, DIM, { ...opts, seed: 7 });
    expect(a.length).toBe(90 * 2);
    expect(a.every(Number.isFinite)).toBe(true);
    expect(await projectUmap(data, DIM, { ...opts, seed: 7 })).toEqual(a);
    expect(await projectUmap(data, DIM, { ...opts, seed: 8 })).not.toEqual(a);
  });

  it('keeps well-separated blobs apart', async () => {
    const layout = await projectUmap(data, DIM, opts);
    expect(separated(layout, (i) => i % 3, 3)).toBe(true);
    // and locally: a point's nearest 2-D neighbour is from its own blob (the bench's measure)
    let same = 0;
    for (let i = 0; i < 90; i++) {
      let best = Infinity, at = -1;
      for (let j = 0; j < 90; j++) {
        const d = j === i ? Infinity : Math.hypot(layout[2 * i] - layout[2 * j], layout[2 * i + 1] - layout[2 * j + 1]);
        if (d < best) [best, at] = [d, j];
      }
      if (at % 3 === i % 3) same++;
    }
    expect(same / 90).toBeGreaterThanOrEqual(0.95);
  });

  it('lays out the graph our searcher returns (the precomputed kNN path, not NN-descent)', async () => {
    // A searcher that ignores geometry and pairs point i with points of the same i mod 2 —
    // a graph the data do not have. If umap-js ran its own NN-descent, the layout would show
    // the three real blobs; with our graph it shows the two fake groups.
    const calls: number[] = [];
    const fake: SearchFn = async (q, c, d, k): Promise<TopK> => {
      calls.push(k);
      const nq = q.length / d, nc = c.length / d;
      const indices = new Int32Array(nq * k), scores = new Float32Array(nq * k);
      const first = nc - nq; // the chunk is the whole set here: row r is point r
      for (let r = 0; r < nq; r++) {
        const self = first + r;
        for (let j = 0; j < k; j++) {
          indices[r * k + j] = (self + 2 * j) % nc; // same parity (nc is even); self first
          scores[r * k + j] = 1 - 0.01 * j;
        }
      }
      return { k, rows: nq, indices, scores };
    };
    const layout = await projectUmap(data, DIM, { ...opts, search: fake });
    expect(calls).toEqual([10]);
    expect(separated(layout, (i) => i % 2, 2)).toBe(true);
    expect(separated(layout, (i) => i % 3, 3)).toBe(false);
  });

  it('reports progress through knn, graph and every layout epoch, and cancels', async () => {
    const seen: UmapProgress[] = [];
    await projectUmap(data, DIM, { ...opts, nEpochs: 20, onProgress: (p) => seen.push(p) });
    expect(seen[0]).toEqual({ phase: 'knn', done: 90, total: 90 });
    expect(seen.filter((p) => p.phase === 'layout').map((p) => p.done)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const ac = new AbortController();
    let epochs = 0;
    const run = projectUmap(data, DIM, {
      ...opts,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.phase === 'layout' && ++epochs === 3) ac.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(epochs).toBe(3);
  });

  it('says how to fix too few points for nNeighbors', async () => {
    await expect(projectUmap(data.subarray(0, 5 * DIM), DIM, opts)).rejects.toThrow(/5 points, nNeighbors 10. Fix: set nNeighbors to at most 4/);
  });
});

describe('knnGraph', () => {
  it('puts each point first even when exact duplicates outrank it, with √(2 − 2cos) distances', async () => {
    // Points 0 and 1 are identical: ties go to the lower index, so point 1's search lists 0 first.
    const rows = new Float32Array([1, 0, 1, 0, 0.6, 0.8, 0, 1]);
    const g = await knnGraph(rows, 2, 3, brute);
    expect(Array.from(g.indices)).toEqual([
      0, 1, 2,
      1, 0, 2,
      2, 3, 0, // 2·3 = 0.8 > 2·0 = 0.6; 0 before 1 on the tie
      3, 2, 0,
    ]);
    expect(g.distances[1 * 3 + 1]).toBe(0);
    expect(g.distances[2 * 3 + 1]).toBeCloseTo(Math.sqrt(2 - 2 * 0.8), 6);
    expect(g.distances[3 * 3 + 2]).toBeCloseTo(Math.SQRT2, 6);
  });
});

describe('projectUmapWithNeighbours', () => {
  // 40 random rows at random lengths (cosine must not care), row 5 repeated at 25 and 33 (exact
  // ties), and 17 copies of one row at 40…56: more copies than a 15-wide search holds, so the
  // later copies' searches do not even return the point itself.
  const D = 8;
  const rand = mulberry32(11);
  const rowsOf = (): Float32Array => {
    const x = new Float32Array(57 * D);
    for (let i = 0; i < 40; i++) {
      const len = 0.2 + 3 * rand();
      for (let d = 0; d < D; d++) x[i * D + d] = (rand() * 2 - 1) * len;
    }
    x.copyWithin(25 * D, 5 * D, 6 * D);
    x.copyWithin(33 * D, 5 * D, 6 * D);
    for (let d = 0; d < D; d++) x[40 * D + d] = rand() - 0.5;
    for (let i = 41; i < 57; i++) x.copyWithin(i * D, 40 * D, 41 * D);
    return x;
  };
  const x = rowsOf();

  /** Independent reference: float64 cosine on the raw rows, every other point sorted by score, ties to the lower index. */
  function bruteCosineKnn(rows: Float32Array, dim: number, k: number): { indices: number[]; scores: number[] } {
    const n = rows.length / dim;
    const norm = (i: number) => Math.hypot(...rows.subarray(i * dim, (i + 1) * dim));
    const cos = (i: number, j: number) => {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += rows[i * dim + d] * rows[j * dim + d];
      return dot / (norm(i) * norm(j));
    };
    const indices: number[] = [], scores: number[] = [];
    for (let i = 0; i < n; i++) {
      const others = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i).map((j) => ({ j, s: cos(i, j) }));
      others.sort((a, b) => b.s - a.s || a.j - b.j);
      for (const o of others.slice(0, k)) {
        indices.push(o.j);
        scores.push(o.s);
      }
    }
    return { indices, scores };
  }

  it('stores each point\'s exact top-k by cosine, itself excluded, ties to the lower index', async () => {
    const { layout, neighbours } = await projectUmapWithNeighbours(x, D, { nEpochs: 5, neighbours: 10, search: brute });
    expect(layout.length).toBe(57 * 2);
    expect(neighbours).toMatchObject({ n: 57, k: 10 });
    const ref = bruteCosineKnn(x, D, 10);
    expect(Array.from(neighbours.indices)).toEqual(ref.indices);
    neighbours.scores.forEach((s, e) => expect(s).toBeCloseTo(ref.scores[e], 6));
    for (let i = 0; i < 57; i++) expect(Array.from(neighbours.indices.subarray(i * 10, i * 10 + 10))).not.toContain(i);
    // The cases the reference settles: the tied copies of row 5, and the last copy of the
    // 17 whose own search is all copies ranked before it.
    expect(Array.from(neighbours.indices.subarray(5 * 10, 5 * 10 + 2))).toEqual([25, 33]);
    expect(Array.from(neighbours.indices.subarray(33 * 10, 33 * 10 + 2))).toEqual([5, 25]);
    expect(Array.from(neighbours.indices.subarray(56 * 10, 57 * 10))).toEqual([40, 41, 42, 43, 44, 45, 46, 47, 48, 49]);
  });

  it('widens the one search past nNeighbors without changing the layout', async () => {
    const calls: number[] = [];
    const counting: SearchFn = async (q, c, d, k) => (calls.push(k), bruteForceTopK(q, c, d, k));
    const opts = { nNeighbors: 5, nEpochs: 30, seed: 3 };
    const wide = await projectUmapWithNeighbours(x, D, { ...opts, neighbours: 10, search: counting });
    expect(calls).toEqual([11]);
    expect(wide.layout).toEqual(await projectUmap(x, D, { ...opts, search: brute }));
    expect(Array.from(wide.neighbours.indices)).toEqual(bruteCosineKnn(x, D, 10).indices);
  });

  it('keeps at most n − 1 neighbours', async () => {
    const { neighbours } = await projectUmapWithNeighbours(x.subarray(0, 12 * D), D, { nNeighbors: 5, nEpochs: 5, neighbours: 20, search: brute });
    expect(neighbours.k).toBe(11);
    expect(Array.from(neighbours.indices)).toEqual(bruteCosineKnn(x.subarray(0, 12 * D), D, 11).indices);
  });
});
