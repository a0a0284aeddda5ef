// Bench: exact top-k search for hard-negative mining (search/search.ts) at the size DESIGN's
// users bring: 10,000 queries × 100,000 corpus rows, D 384, k 100, seeded random unit vectors.
// Prints wall seconds (session creation included), queries/s, the tile plan and the process's
// peak RSS; then times bruteForceTopK (JS, float64, full sort) on a few queries for a ratio
// and checks the search agrees with it on those queries.
//
//   bench/run.sh mining-search [--queries 10000] [--corpus 100000] [--dim 384] [--k 100]
//     [--device cpu] [--threads N] [--query-tile 1024] [--corpus-tile 16384] [--brute 20] [--seed 1]
import { DEFAULT_CORPUS_TILE, DEFAULT_QUERY_TILE, createSearcher, tilePlan } from '../search/search.js';
import { bruteForceTopK } from '../search/top-k.js';
import { type Device } from '../runtime/index.js';
import { mulberry32 } from '../../../shared/random.js';
import { opt, posInt } from './args.js';

const num = posInt;

/** n seeded rows of dim values uniform in [-1, 1), each L2-normalised (like embeddings). */
function unitRows(n: number, dim: number, seed: number): Float32Array {
  const rnd = mulberry32(seed);
  const out = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) {
    let ss = 0;
    for (let d = r * dim; d < (r + 1) * dim; d++) {
      out[d] = rnd() * 2 - 1;
      ss += out[d] * out[d];
    }
    const inv = 1 / Math.sqrt(ss);
    for (let d = r * dim; d < (r + 1) * dim; d++) out[d] *= inv;
  }
  return out;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const nq = num('queries', 10_000);
  const nc = num('corpus', 100_000);
  const dim = num('dim', 384);
  const k = num('k', 100);
  const brute = Math.min(num('brute', 20), nq);
  const device = opt('device', 'cpu') as Device;
  const threads = process.argv.includes('--threads') ? num('threads', 1) : undefined;
  const queryTile = num('query-tile', DEFAULT_QUERY_TILE);
  const corpusTile = num('corpus-tile', DEFAULT_CORPUS_TILE);
  const seed = num('seed', 1);

  let t = performance.now();
  const queries = unitRows(nq, dim, seed);
  const corpus = unitRows(nc, dim, seed + 1);
  console.log(`data: ${nq} queries × ${nc} corpus rows, D ${dim}, k ${k}, random unit vectors (seed ${seed}), made in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const qp = tilePlan(nq, queryTile, 8);
  const cp = tilePlan(nc, corpusTile, 64);
  console.log(`tiles: ${qp.count} query tiles of ${qp.size} × ${cp.count} corpus tiles of ${cp.size}; scores tile ${mib(qp.size * cp.size * 4)}, corpus tile ${mib(dim * cp.size * 4)}`);

  const searcher = createSearcher({ device, threads, queryTile, corpusTile });
  t = performance.now();
  let lastPct = -1;
  const result = await searcher.search(queries, corpus, dim, k, {
    onProgress: (done, total) => {
      const pct = Math.floor((10 * done) / total);
      if (pct !== lastPct) process.stderr.write(`\r  ${done}/${total} tiles, ${((performance.now() - t) / 1000).toFixed(0)} s`);
      lastPct = pct;
    },
  });
  const secs = (performance.now() - t) / 1000;
  process.stderr.write('\n');
  await searcher.dispose();
  const rssPeak = process.resourceUsage().maxRSS * 1024;
  console.log(`search (${device}, threads ${threads ?? 'all'}): ${secs.toFixed(1)} s, ${(nq / secs).toFixed(0)} queries/s, ${((2 * nq * nc * dim) / secs / 1e9).toFixed(1)} GFLOP/s matmul-equivalent; peak RSS ${mib(rssPeak)}`);

  t = performance.now();
  const ref = bruteForceTopK(queries.subarray(0, brute * dim), corpus, dim, k);
  const bruteSecs = (performance.now() - t) / 1000;
  const perQuery = bruteSecs / brute;
  let mismatched = 0;
  let worst = 0;
  for (let i = 0; i < brute * ref.k; i++) {
    if (ref.indices[i] !== result.indices[i]) mismatched++;
    worst = Math.max(worst, Math.abs(ref.scores[i] - result.scores[i]));
  }
  console.log(`brute force JS (float64, full sort) on ${brute} queries: ${bruteSecs.toFixed(1)} s, ${(1 / perQuery).toFixed(1)} queries/s → ${((perQuery * nq) / 60).toFixed(0)} min for all ${nq}; search is ${((perQuery * nq) / secs).toFixed(0)}× faster`);
  console.log(`agreement on those ${brute} queries: ${mismatched} of ${brute * ref.k} indices differ, max score difference ${worst.toExponential(1)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
