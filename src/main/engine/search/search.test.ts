// The tiled ONNX search against bruteForceTopK (float64 dot products, full sort): same indices,
// scores within 1e-6, on CPU and on the WebGPU EP (lavapipe here: tiny shapes). Tile sizes are
// forced small so every case crosses several query and corpus tiles with padded last tiles.

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph } from '../graph/graph.js';
import * as o from '../graph/ops.js';
import { mulberry32 } from '../../../shared/random.js';
import { type Device, createSession } from '../runtime/session.js';
import { type SearchOptions, buildSearchGraph, createSearcher, searchTopK, tilePlan } from './search.js';
import { type SearchFn, type TopK, bruteForceTopK } from './top-k.js';
import { probeWebgpu } from '../../../../test/support/webgpu.js';

/** n rows of dim values, each row L2-normalised (what embeddings look like). */
function unitRows(n: number, dim: number, seed: number): Float32Array {
  const rnd = mulberry32(seed);
  const out = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) {
    let ss = 0;
    for (let d = 0; d < dim; d++) {
      const v = rnd() * 2 - 1;
      out[r * dim + d] = v;
      ss += v * v;
    }
    for (let d = 0; d < dim; d++) out[r * dim + d] /= Math.sqrt(ss);
  }
  return out;
}

function expectSame(got: TopK, want: TopK): void {
  expect(got.k).toBe(want.k);
  expect(got.rows).toBe(want.rows);
  expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
  let worst = 0;
  for (let i = 0; i < want.scores.length; i++) worst = Math.max(worst, Math.abs(got.scores[i] - want.scores[i]));
  expect(worst).toBeLessThan(1e-6);
}

const SMALL: SearchOptions = { queryTile: 16, corpusTile: 64, threads: 1 };
const D = 16;
const Q = unitRows(37, D, 1); // 3 query tiles of 16 (11 padded rows)
const C = unitRows(301, D, 2); // 5 corpus tiles of 64 (19 padded rows)

/** A corpus with exact copies of row 0 at `copies`, and queries that are that row (score 1). */
function withDuplicates(copies: number[]): { queries: Float32Array; corpus: Float32Array } {
  const corpus = C.slice();
  for (const at of copies) corpus.set(C.subarray(0, D), at * D);
  const queries = new Float32Array(3 * D);
  for (let r = 0; r < 3; r++) queries.set(C.subarray(0, D), r * D);
  return { queries, corpus };
}

describe('TopK op (graph/ops.ts)', () => {
  it('infers [.., k] float values and int64 indices, and refuses K past the axis', () => {
    const x = new Graph('t').input('x', 'float32', [3, 5]);
    const t = o.topK(x, 2);
    expect([t.values.dtype, t.values.shape, t.indices.dtype, t.indices.shape]).toEqual(['float32', [3, 2], 'int64', [3, 2]]);
    expect(o.topK(x, 3, 0).values.shape).toEqual([3, 5]);
    expect(() => o.topK(x, 6)).toThrow(/K \[6\] must be one value in \[0, 5\]/);
  });
});

describe('tile plan', () => {
  it('balances tiles and rounds them to the alignment without passing the maximum', () => {
    expect(tilePlan(100_000, 16384, 64)).toEqual({ size: 14336, count: 7 });
    expect(tilePlan(10_000, 1024, 8)).toEqual({ size: 1000, count: 10 });
    expect(tilePlan(301, 64, 64)).toEqual({ size: 64, count: 5 });
    expect(tilePlan(5, 1024, 8)).toEqual({ size: 8, count: 1 });
    expect(tilePlan(37, 20, 8)).toEqual({ size: 20, count: 2 }); // 19 rounds to 24 > 20: capped
  });
});

describe('searchTopK on the CPU EP', () => {
  it('matches brute force with nq, nc not multiples of the tiles', async () => {
    expectSame(await searchTopK(Q, C, D, 10, SMALL), bruteForceTopK(Q, C, D, 10));
  });

  it('matches brute force for k larger than a corpus tile (kt = tile, merged over 5 tiles)', async () => {
    expectSame(await searchTopK(Q, C, D, 150, SMALL), bruteForceTopK(Q, C, D, 150));
  });

  it('clamps k to the corpus size and says so in k, ranking the whole corpus', async () => {
    const got = await searchTopK(Q, C, D, 1000, SMALL);
    expect(got.k).toBe(301);
    expectSame(got, bruteForceTopK(Q, C, D, 1000));
  });

  it('matches brute force with the default tiles (one query tile, one corpus tile)', async () => {
    expectSame(await searchTopK(Q, C, D, 7, { threads: 1 }), bruteForceTopK(Q, C, D, 7));
  });

  it('never returns padded corpus rows, even when every real score is negative', async () => {
    // Padded rows are zeros (score 0): without the -Infinity bias they would beat every real
    // row. Scores rise with the row index, so the true top 5 all sit in the padded last tile.
    const corpus = C.map((v, i) => (i % D === 0 ? 0.1 + (300 - Math.floor(i / D)) / 300 : v));
    const queries = new Float32Array(5 * D);
    for (let r = 0; r < 5; r++) queries[r * D] = -1 - r;
    const got = await searchTopK(queries, corpus, D, 5, SMALL);
    expect(Math.max(...got.indices)).toBeLessThan(301);
    expect(Math.max(...got.scores)).toBeLessThan(0);
    expectSame(got, bruteForceTopK(queries, corpus, D, 5));
  });

  it('breaks exact ties by lower corpus index, within a tile and across tiles', async () => {
    // Row 0 copied into tile 0 (rows 10, 20), tile 1 (90) and the padded last tile (300).
    const copies = [10, 20, 90, 300];
    const { queries, corpus } = withDuplicates(copies);
    for (const k of [2, 4, 6]) {
      const got = await searchTopK(queries, corpus, D, k, SMALL);
      const want = bruteForceTopK(queries, corpus, D, k);
      expectSame(got, want);
      expect(Array.from(got.indices.subarray(0, Math.min(k, 5)))).toEqual([0, ...copies].slice(0, k));
    }
  });

  it('reports progress per tile and stops on abort with CANCELLED', async () => {
    const seen: [number, number][] = [];
    await searchTopK(Q, C, D, 3, { ...SMALL, onProgress: (d, t) => seen.push([d, t]) });
    expect(seen).toEqual(Array.from({ length: 15 }, (_, i) => [i + 1, 15]));

    const pre = new AbortController();
    pre.abort();
    await expect(searchTopK(Q, C, D, 3, { ...SMALL, signal: pre.signal })).rejects.toMatchObject({ code: 'CANCELLED' });

    // Aborted from a later macrotask: proves the search yields to the event loop between tiles.
    const late = new AbortController();
    const onProgress = (done: number) => void (done === 2 && setImmediate(() => late.abort()));
    await expect(searchTopK(Q, C, D, 3, { ...SMALL, signal: late.signal, onProgress })).rejects.toMatchObject({
      code: 'CANCELLED',
      details: { done: 2, total: 15 },
    });
  });

  it('serves several shapes from one searcher, and is a SearchFn', async () => {
    const searcher = createSearcher(SMALL);
    const fn: SearchFn = searcher.search;
    expectSame(await fn(Q, C, D, 4), bruteForceTopK(Q, C, D, 4));
    const q2 = unitRows(3, 8, 5);
    const c2 = unitRows(20, 8, 6);
    expectSame(await fn(q2, c2, 8, 4), bruteForceTopK(q2, c2, 8, 4));
    expectSame(await fn(Q, C, D, 4), bruteForceTopK(Q, C, D, 4));
    await searcher.dispose();
    await expect(fn(Q, C, D, 4)).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('rejects bad input with BAD_INPUT naming the value', async () => {
    await expect(searchTopK(Q, C, D, 0)).rejects.toMatchObject({ code: 'BAD_INPUT', message: /k 0/ });
    await expect(searchTopK(Q, C, 15, 3)).rejects.toMatchObject({ code: 'BAD_INPUT', message: /whole rows of 15/ });
    const bad = C.slice();
    bad[5 * D + 3] = NaN;
    await expect(searchTopK(Q, bad, D, 3)).rejects.toMatchObject({ code: 'BAD_INPUT', message: /corpus row 5 holds NaN at column 3/ });
    await expect(searchTopK(Q, C, D, 3, { corpusTile: 0 })).rejects.toMatchObject({ code: 'BAD_INPUT', message: /corpusTile 0/ });
  });
});

const probe = await probeWebgpu();
const tmp = mkdtempSync(join(tmpdir(), 'embedsmith-search-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!probe.ok)('searchTopK on the WebGPU EP (lavapipe: tiny shapes)', () => {
  const gpu: SearchOptions = { ...SMALL, device: 'webgpu' as Device };
  const q = Q.subarray(0, 19 * D); // 2 query tiles (16 + 3 real rows)

  it('matches brute force for small k, k > tile, k >= corpus and exact ties', async () => {
    const searcher = createSearcher(gpu);
    for (const k of [10, 150, 1000]) expectSame(await searcher.search(q, C, D, k), bruteForceTopK(q, C, D, k));
    const { queries, corpus } = withDuplicates([10, 20, 90, 300]);
    for (const k of [2, 4, 6]) expectSame(await searcher.search(queries, corpus, D, k), bruteForceTopK(queries, corpus, D, k));
    await searcher.dispose();
  });

  it('places MatMul and TopK (every node) on the WebGPU EP, no Memcpy (profiler)', async () => {
    const session = await createSession(buildSearchGraph(16, 64, D, 10), { device: 'webgpu', threads: 1, profilePrefix: join(tmp, 'search') });
    const bias = new Float32Array(64);
    await session.run({
      queries: { dtype: 'float32', shape: [16, D], data: Q.subarray(0, 16 * D) },
      corpus_t: { dtype: 'float32', shape: [D, 64], data: C.subarray(0, 64 * D) },
      bias: { dtype: 'float32', shape: [1, 64], data: bias },
    });
    session.endProfiling();
    await session.release();
    const file = readdirSync(tmp).find((f) => f.startsWith('search'))!;
    const events = JSON.parse(readFileSync(join(tmp, file), 'utf8')) as { cat: string; name: string; args?: { op_name?: string; provider?: string } }[];
    const nodes = events.filter((e) => e.cat === 'Node' && e.args?.provider);
    expect(new Set(nodes.map((e) => e.args!.op_name))).toContain('TopK');
    expect(nodes.filter((e) => e.args!.provider !== 'WebGpuExecutionProvider').map((e) => `${e.name} on ${e.args!.provider}`)).toEqual([]);
    expect(nodes.filter((e) => e.args!.op_name?.startsWith('Memcpy')).map((e) => e.name)).toEqual([]);
  });
});
