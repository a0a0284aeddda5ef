// Exact top-k search by dot product on an execution provider (CPU or WebGPU), tiled so memory
// stays bounded whatever the corpus size. One ONNX graph per tile shape:
//
//   scores = queries[Tq, D] x corpusᵀ[D, Tc] + bias[1, Tc]    bias: 0, or -Infinity on padding
//   values, indices = TopK(scores, kt = min(k, Tc), axis -1, largest, sorted)
//
// Every tile has the same static shape (one session per shape, cached): the last query and
// corpus tiles are zero-padded, padded corpus columns score -Infinity so they sort after every
// real row, and the merge drops any index past the tile's real rows anyway. Each tile's sorted
// kt candidates are merged into a running top-k per query in JS, not in the graph: the merge
// is O(k + kt) per query and tile against O(Tc·D) for the tile's matmul, it needs no device
// state between runs, and it states the tie rule (score descending, then corpus index
// ascending, bruteForceTopK's and ONNX TopK's rule) across tiles in one comparison.
//
// Both nodes (MatMul+Add, which onnxruntime fuses to Gemm, and TopK) run on the WebGPU EP, no
// CPU fallback (search.test.ts checks with the profiler). CPU and WebGPU sum the dot products
// in different orders, so they can swap scores tied to ~1e-7; each matches bruteForceTopK.
//
// Memory bound per tile run, float32: Tq·D + D·Tc + Tq·Tc (scores) + Tc (bias), plus the
// outputs Tq·kt·12 bytes (values + int64 indices) and the transposed corpus tile in JS (D·Tc).
// Defaults Tq 1024, Tc 16384 at D 384: 1.5 + 24 + 64 MiB on the device (and 24 MiB in JS),
// under WebGPU's default 128 MiB storage-buffer binding limit up to D ≈ 2048. The results
// themselves take nq·k·8 bytes (indices + scores): 7.6 MiB for 10k queries at k 100.

import { EngineError } from '../../../shared/errors.js';
import { Graph } from '../graph/graph.js';
import * as o from '../graph/ops.js';
import { serialize } from '../graph/serialize.js';
import { OneAtATime } from '../runtime/one-at-a-time.js';
import { SessionCache } from '../runtime/session-cache.js';
import { type Device, defaultThreads } from '../runtime/session.js';
import { type TopK, checkSearchInput } from './top-k.js';

export interface SearchRunOptions {
  /** Stops the search between tiles with EngineError('CANCELLED'). */
  signal?: AbortSignal;
  /** Called after each tile run: `done` of `total` (query tiles × corpus tiles). */
  onProgress?: (done: number, total: number) => void;
}

export interface SearchOptions extends SearchRunOptions {
  /** Execution provider; default 'cpu'. */
  device?: Device;
  /** CPU intra-op threads; default all logical cores. */
  threads?: number;
  /** Most query rows per tile (default 1024); tiles are balanced, so often fewer. */
  queryTile?: number;
  /** Most corpus rows per tile (default 16384); see the memory bound at the top of the file. */
  corpusTile?: number;
}

export const DEFAULT_QUERY_TILE = 1024;
export const DEFAULT_CORPUS_TILE = 16384;
// Results past this many entries (nq·k) would not fit one typed array comfortably (8 GiB).
const MAX_RESULTS = 2 ** 30;

/** The tile graph: [tq, dim] queries against a [dim, tc] corpus tile, top kt per query row. */
export function buildSearchGraph(tq: number, tc: number, dim: number, kt: number): Uint8Array {
  const g = new Graph('topk-search');
  const q = g.input('queries', 'float32', [tq, dim]);
  const ct = g.input('corpus_t', 'float32', [dim, tc]);
  const bias = g.input('bias', 'float32', [1, tc]);
  const scores = o.add(o.matmul(q, ct), bias); // [Tq, D] x [D, Tc] -> [Tq, Tc]
  const top = o.topK(scores, kt); // [Tq, Tc] -> [Tq, kt] twice
  g.output(top.values, 'scores');
  g.output(top.indices, 'indices');
  return serialize(g);
}

/**
 * Balanced tiles: as few as `max` allows, equal sized, rounded up to `align` (fewer distinct
 * shapes, so fewer sessions) but never past `max`. 100k rows at max 16384: 7 tiles of 14336.
 */
export function tilePlan(n: number, max: number, align: number): { size: number; count: number } {
  const count = Math.ceil(n / max);
  const size = Math.min(Math.ceil(Math.ceil(n / count) / align) * align, max);
  return { size, count: Math.ceil(n / size) };
}

function checkTile(v: number | undefined, fallback: number, name: string): number {
  const t = v ?? fallback;
  if (!Number.isInteger(t) || t < 1) {
    throw new EngineError('BAD_INPUT', `${name} ${t} must be a positive integer, e.g. ${fallback}`, { setting: name });
  }
  return t;
}

/** NaN or ±Infinity would sort unpredictably (and break the -Infinity padding); name the row. */
function checkFinite(a: Float32Array, dim: number, what: string): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) {
      throw new EngineError('BAD_INPUT', `${what} row ${Math.floor(i / dim)} holds ${a[i]} at column ${i % dim}; embeddings must be finite: re-embed or drop that text`, { row: Math.floor(i / dim) });
    }
  }
}

/** Corpus rows [start, start+rows) as a zero-padded [dim, tc] transpose, and its bias row. */
function corpusTile(corpus: Float32Array, dim: number, start: number, rows: number, tc: number, ct: Float32Array, bias: Float32Array): void {
  ct.fill(0);
  for (let r = 0; r < rows; r++) {
    const src = (start + r) * dim;
    for (let d = 0; d < dim; d++) ct[d * tc + r] = corpus[src + d];
  }
  bias.fill(0, 0, rows);
  bias.fill(-Infinity, rows);
}

/**
 * Merges one tile's sorted candidates for one query into its running list (sorted, `have`
 * long), keeping the best `k`. Tile indices are local; `offset` makes them global, and ones at
 * or past `real` are padding. Returns the new length.
 */
function mergeRow(
  runIdx: Int32Array, runScore: Float32Array, base: number, have: number, k: number,
  tIdx: Int32Array, tScore: Float32Array, tBase: number, kt: number, offset: number, real: number,
  tmpIdx: Int32Array, tmpScore: Float32Array,
): number {
  let a = 0;
  let b = 0;
  let n = 0;
  while (n < k) {
    while (b < kt && tIdx[2 * (tBase + b)] >= real) b++; // low 32 bits of the int64 index
    const haveA = a < have;
    const haveB = b < kt;
    if (!haveA && !haveB) break;
    const sb = haveB ? tScore[tBase + b] : 0;
    const ib = haveB ? offset + tIdx[2 * (tBase + b)] : 0;
    const takeA = haveA && (!haveB || runScore[base + a] > sb || (runScore[base + a] === sb && runIdx[base + a] < ib));
    if (takeA) {
      tmpIdx[n] = runIdx[base + a];
      tmpScore[n++] = runScore[base + a++];
    } else {
      tmpIdx[n] = ib;
      tmpScore[n++] = sb;
      b++;
    }
  }
  runIdx.set(tmpIdx.subarray(0, n), base);
  runScore.set(tmpScore.subarray(0, n), base);
  return n;
}

export interface Searcher {
  /** A SearchFn; the optional fifth argument overrides the searcher's signal and onProgress. */
  search: (queries: Float32Array, corpus: Float32Array, dim: number, k: number, run?: SearchRunOptions) => Promise<TopK>;
  dispose(): Promise<void>;
}

/** A searcher keeping one session per tile shape until dispose(); searches run one at a time. */
export function createSearcher(opts: SearchOptions = {}): Searcher {
  const device = opts.device ?? 'cpu';
  const maxTq = checkTile(opts.queryTile, DEFAULT_QUERY_TILE, 'queryTile');
  const maxTc = checkTile(opts.corpusTile, DEFAULT_CORPUS_TILE, 'corpusTile');
  const cache = new SessionCache({ device, threads: opts.threads ?? defaultThreads() });
  const calls = new OneAtATime('searcher');

  async function searchOnce(queries: Float32Array, corpus: Float32Array, dim: number, kAsked: number, run: SearchRunOptions): Promise<TopK> {
    const { nq, nc, k } = checkSearchInput(queries, corpus, dim, kAsked);
    if (nq * k > MAX_RESULTS) {
      throw new EngineError('BAD_INPUT', `${nq} queries × k ${k} = ${nq * k} results is more than ${MAX_RESULTS}; search the queries in batches or ask for a smaller k`, { setting: 'k' });
    }
    checkFinite(queries, dim, 'query');
    checkFinite(corpus, dim, 'corpus');
    const signal = run.signal ?? opts.signal;
    const onProgress = run.onProgress ?? opts.onProgress;
    const qp = tilePlan(nq, maxTq, 8);
    const cp = tilePlan(nc, maxTc, 64);
    const [tq, tc] = [qp.size, cp.size];
    const kt = Math.min(k, tc);
    const session = await cache.getOrCreate({ kind: 'search', tq, tc, dim, kt }, () => buildSearchGraph(tq, tc, dim, kt));

    const runIdx = new Int32Array(nq * k);
    const runScore = new Float32Array(nq * k);
    const tmpIdx = new Int32Array(k);
    const tmpScore = new Float32Array(k);
    const ct = new Float32Array(dim * tc);
    const bias = new Float32Array(tc);
    const qPad = new Float32Array(tq * dim); // only for a short last query tile
    const total = qp.count * cp.count;
    let have = 0; // running list length, the same for every query
    let done = 0;
    for (let c = 0; c < cp.count; c++) {
      const c0 = c * tc;
      const cRows = Math.min(tc, nc - c0);
      corpusTile(corpus, dim, c0, cRows, tc, ct, bias);
      let next = have;
      for (let q = 0; q < qp.count; q++) {
        if (signal?.aborted) {
          throw new EngineError('CANCELLED', `search cancelled after ${done} of ${total} tiles`, { done, total });
        }
        const q0 = q * tq;
        const qRows = Math.min(tq, nq - q0);
        let qTile = queries.subarray(q0 * dim, (q0 + tq) * dim);
        if (qRows < tq) {
          qPad.fill(0);
          qPad.set(queries.subarray(q0 * dim, nq * dim));
          qTile = qPad;
        }
        const out = await session.run({
          queries: { dtype: 'float32', shape: [tq, dim], data: qTile },
          corpus_t: { dtype: 'float32', shape: [dim, tc], data: ct },
          bias: { dtype: 'float32', shape: [1, tc], data: bias },
        });
        const tScore = out.scores.data as Float32Array;
        const idx64 = out.indices.data as BigInt64Array;
        // int64 indices < 2^31 read as their low 32-bit words (little-endian): no BigInt per element.
        const tIdx = new Int32Array(idx64.buffer, idx64.byteOffset, idx64.length * 2);
        for (let r = 0; r < qRows; r++) {
          next = mergeRow(runIdx, runScore, (q0 + r) * k, have, k, tIdx, tScore, r * kt, kt, c0, cRows, tmpIdx, tmpScore);
        }
        onProgress?.(++done, total);
        // session.run holds the JS thread; yield so an abort or a progress message can get through.
        await new Promise((resolve) => setImmediate(resolve));
      }
      have = next;
    }
    if (have !== k) throw new EngineError('INTERNAL', `search merged ${have} neighbours per query, expected ${k} (nc ${nc}, tiles ${cp.count} × ${tc})`);
    return { k, rows: nq, indices: runIdx, scores: runScore };
  }

  return {
    search(queries, corpus, dim, k, run = {}) {
      return calls.run(() => searchOnce(queries, corpus, dim, k, run));
    },
    async dispose() {
      if (!(await calls.close())) return;
      await cache.releaseAll();
    },
  };
}

/** One search with its own sessions, released afterwards. Bind opts to get a SearchFn. */
export async function searchTopK(queries: Float32Array, corpus: Float32Array, dim: number, k: number, opts: SearchOptions = {}): Promise<TopK> {
  const searcher = createSearcher(opts);
  try {
    return await searcher.search(queries, corpus, dim, k);
  } finally {
    await searcher.dispose();
  }
}

