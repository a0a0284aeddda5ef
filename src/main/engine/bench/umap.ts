// Bench: 2-D UMAP of --points L2-normalised Gaussian blobs (default 20,000 × 384, 20 blobs),
// two ways in the same process:
//   - ours: projectUmap — exact k-NN graph from search/search.ts (ONNX MatMul + TopK tiles on
//     --device), then the fuzzy graph (projection/fuzzy-graph.ts) and the SGD layout
//     (projection/layout.ts) in typed arrays
//   - umap-js alone: its random-projection forest + NN-descent on the same rows (its default
//     Euclidean metric, which on unit rows ranks exactly as cosine, as ours does), its
//     Map-backed fuzzy graph and search graph, and its SGD on number[][] rows
// The graph and layout arithmetic are the same (ours reproduces umap-js's layout bit for bit
// from the same k-NN graph: projection/layout.test.ts), as are the epochs and the seeded
// generator; only the k-NN graphs differ. Printed: seconds per phase and in total, the ratio,
// NN-descent's recall against the exact graph, and two layout qualities: how often a point's
// 2-D nearest neighbour is from its own blob, and trustworthiness (Venna & Kaski 2001) at
// k = nNeighbors over --trust-sample points.
//
//   bench/run.sh umap [--points 20000] [--dim 384] [--blobs 20] [--epochs N] [--neighbors 15]
//                     [--device cpu|webgpu|cuda] [--seed 1] [--trust-sample 500]
// --epochs defaults to umap-js's own rule (200 above 7,500 points).
import { parseArgs } from 'node:util';
import { UMAP } from 'umap-js';
import { createSearcher } from '../search/search.js';
import { type UmapProgress, projectUmap } from '../projection/umap.js';
import { type Device } from '../runtime/index.js';
import { mulberry32 } from '../../../shared/random.js';

const { values: args } = parseArgs({
  options: {
    points: { type: 'string', default: '20000' },
    dim: { type: 'string', default: '384' },
    blobs: { type: 'string', default: '20' },
    epochs: { type: 'string' },
    neighbors: { type: 'string', default: '15' },
    device: { type: 'string', default: 'cpu' },
    seed: { type: 'string', default: '1' },
    'trust-sample': { type: 'string', default: '500' },
  },
});
const int = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return n;
};
const n = int('points', args.points)!;
const dim = int('dim', args.dim)!;
const blobCount = int('blobs', args.blobs)!;
const nEpochs = int('epochs', args.epochs);
const nNeighbors = int('neighbors', args.neighbors)!;
const seed = int('seed', args.seed)!;
const trustSample = Math.min(n, int('trust-sample', args['trust-sample'])!);

/** Unit rows around `blobCount` random centres; noise 0.6 per coordinate: blobs overlap in places. */
function blobs(): { rows: Float32Array; blob: Int32Array } {
  const rand = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const centres = Array.from({ length: blobCount }, () => Float64Array.from({ length: dim }, gauss));
  const rows = new Float32Array(n * dim);
  const blob = new Int32Array(n);
  const v = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    blob[i] = Math.floor(rand() * blobCount);
    let ss = 0;
    for (let d = 0; d < dim; d++) ss += (v[d] = centres[blob[i]][d] + 0.6 * gauss()) ** 2;
    for (let d = 0; d < dim; d++) rows[i * dim + d] = v[d] / Math.sqrt(ss);
  }
  return { rows, blob };
}

/** Share of points whose nearest other point in the 2-D layout is from the same blob. */
function sameBlobNeighbour(layout: ArrayLike<number>, blob: Int32Array): number {
  let same = 0;
  for (let i = 0; i < n; i++) {
    let best = Infinity, at = -1;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const d = (layout[2 * i] - layout[2 * j]) ** 2 + (layout[2 * i + 1] - layout[2 * j + 1]) ** 2;
      if (d < best) {
        best = d;
        at = j;
      }
    }
    if (blob[at] === blob[i]) same++;
  }
  return same / n;
}

/**
 * Trustworthiness at k (Venna & Kaski 2001; sklearn.manifold.trustworthiness) of each layout:
 * 1 − 2/(nk(2n − 3k − 1)) Σᵢ Σ_{j ∈ Uᵢ} (r(i, j) − k), with Uᵢ the 2-D k nearest that are not
 * among the k nearest in the input, r their input rank. 1 = no false neighbours. The sum over i
 * is estimated from `trustSample` evenly spaced points.
 */
function trustworthiness(rows: Float32Array, layouts: ArrayLike<number>[], k: number): number[] {
  const score = new Float64Array(n); // −cos: ranks like the Euclidean distance on unit rows
  const sorted = new Float64Array(n);
  const near = new Int32Array(k), nearD = new Float64Array(k);
  const sums = layouts.map(() => 0);
  for (let s = 0; s < trustSample; s++) {
    const i = Math.floor((s * n) / trustSample);
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += rows[i * dim + d] * rows[j * dim + d];
      score[j] = -dot;
    }
    score[i] = -Infinity; // counted below every j: lowerBound is then the 1-based rank
    sorted.set(score);
    sorted.sort();
    layouts.forEach((L, l) => {
      nearD.fill(Infinity);
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const d = (L[2 * i] - L[2 * j]) ** 2 + (L[2 * i + 1] - L[2 * j + 1]) ** 2;
        if (d >= nearD[k - 1]) continue;
        let at = k - 1;
        for (; at > 0 && nearD[at - 1] > d; at--) [nearD[at], near[at]] = [nearD[at - 1], near[at - 1]];
        [nearD[at], near[at]] = [d, j];
      }
      for (const j of near) {
        let lo = 0, hi = n;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (sorted[mid] < score[j]) lo = mid + 1;
          else hi = mid;
        }
        if (lo > k) sums[l] += lo - k;
      }
    });
  }
  return sums.map((x) => 1 - (2 / (trustSample * k * (2 * n - 3 * k - 1))) * x);
}

const secs = (t0: number) => (performance.now() - t0) / 1000;
const cpuSecs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function main(): Promise<void> {
  const { rows, blob } = blobs();
  console.log(`data: ${n} × ${dim} unit rows, ${blobCount} blobs; nNeighbors ${nNeighbors}, epochs ${nEpochs ?? "umap-js's rule"}, seed ${seed}, search device ${args.device}\n`);

  // Ours, through the production path; phase boundaries from its progress events. Wall and
  // process CPU seconds (all threads) both: this VM's cores are shared, and CPU time is what a
  // neighbour's load disturbs least.
  const searcher = createSearcher({ device: args.device as Device });
  const wall: Partial<Record<UmapProgress['phase'], number>> = {};
  const cpu: Partial<Record<UmapProgress['phase'], number>> = {};
  let epochs = 0;
  let t0 = performance.now();
  let c0 = cpuSecs();
  const ours = await projectUmap(rows, dim, {
    nNeighbors, nEpochs, seed, search: searcher.search,
    onProgress: (p) => {
      wall[p.phase] = performance.now();
      cpu[p.phase] = cpuSecs();
      if (p.phase === 'layout') epochs = p.total;
    },
  });
  const o = {
    knn: [(wall.knn! - t0) / 1000, cpu.knn! - c0],
    graph: [(wall.graph! - wall.knn!) / 1000, cpu.graph! - cpu.knn!],
    layout: [(wall.layout! - wall.graph!) / 1000, cpu.layout! - cpu.graph!],
    total: [secs(t0), cpuSecs() - c0],
  };
  await searcher.dispose();

  // umap-js alone. It wants number[][]; the conversion is not charged to it.
  const X = Array.from({ length: n }, (_, i) => Array.from(rows.subarray(i * dim, (i + 1) * dim)));
  const umap = new UMAP({ nComponents: 2, nNeighbors, minDist: 0.1, nEpochs, random: mulberry32(seed) });
  t0 = performance.now();
  c0 = cpuSecs();
  umap.initializeFit(X);
  const init = [secs(t0), cpuSecs() - c0];
  const t1 = performance.now();
  const c1 = cpuSecs();
  await umap.fitAsync(X);
  const t = { init, layout: [secs(t1), cpuSecs() - c1], total: [secs(t0), cpuSecs() - c0] };

  // NN-descent's recall against the exact graph (umap-js keeps it in a private field).
  const exact = createSearcher({ device: args.device as Device });
  const top = await exact.search(rows, rows, dim, nNeighbors);
  await exact.dispose();
  const approx = (umap as unknown as { knnIndices: number[][] }).knnIndices;
  let found = 0;
  for (let i = 0; i < n; i++) {
    const truth = new Set(top.indices.subarray(i * top.k, (i + 1) * top.k));
    for (const j of approx[i]) if (truth.has(j)) found++;
  }

  const f = ([w, c]: number[]) => `${w.toFixed(2).padStart(7)} s (cpu ${c.toFixed(2).padStart(6)} s)`;
  const upTo = (a: number[], b: number[]) => [a[0] + b[0], a[1] + b[1]];
  console.log('phase                     ours (exact k-NN)             umap-js (NN-descent)');
  console.log(`k-NN graph                ${f(o.knn)}`);
  console.log(`fuzzy graph               ${f(o.graph)}`);
  console.log(`  = up to the layout      ${f(upTo(o.knn, o.graph))}   ${f(t.init)}`);
  console.log(`layout, ${String(epochs).padStart(3)} epochs        ${f(o.layout)}   ${f(t.layout)}`);
  console.log(`total                     ${f(o.total)}   ${f(t.total)}`);
  const r = (a: number[], b: number[]) => `${(b[0] / a[0]).toFixed(2)}× wall, ${(b[1] / a[1]).toFixed(2)}× cpu`;
  console.log(`\nspeed-up, total: ${r(o.total, t.total)}; up to the layout: ${r(upTo(o.knn, o.graph), t.init)}`);
  console.log(`NN-descent recall@${nNeighbors} vs exact: ${((100 * found) / (n * nNeighbors)).toFixed(2)}% (ours: 100% by construction)`);
  const theirs = umap.getEmbedding().flat();
  console.log(`2-D nearest neighbour from the same blob: ours ${(100 * sameBlobNeighbour(ours, blob)).toFixed(1)}%, umap-js ${(100 * sameBlobNeighbour(theirs, blob)).toFixed(1)}%`);
  const [tOurs, tTheirs] = trustworthiness(rows, [ours, theirs], nNeighbors);
  console.log(`trustworthiness@${nNeighbors} (${trustSample} points): ours ${tOurs.toFixed(4)}, umap-js ${tTheirs.toFixed(4)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
