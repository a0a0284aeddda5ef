// Bench: 2-D UMAP of --points L2-normalised Gaussian blobs (default 20,000 × 384, 20 blobs),
// two ways in the same process:
//   - ours: projectUmap — exact k-NN graph from mining/search.ts (ONNX MatMul + TopK tiles on
//     --device) handed to umap-js through setPrecomputedKNN
//   - umap-js alone: its random-projection forest + NN-descent on the same rows (its default
//     Euclidean metric, which on unit rows ranks exactly as cosine, as ours does)
// Both then build the same fuzzy graph and run the same SGD for the same epochs with the same
// seeded generator. Printed: seconds per phase and in total, the ratio, NN-descent's recall
// against the exact graph, and how often a point's 2-D nearest neighbour is from its own blob.
//
//   bench/run.sh umap [--points 20000] [--dim 384] [--blobs 20] [--epochs N] [--neighbors 15]
//                     [--device cpu|webgpu|cuda] [--seed 1]
// --epochs defaults to umap-js's own rule (200 above 7,500 points).
import { parseArgs } from 'node:util';
import { UMAP } from 'umap-js';
import { createSearcher } from '../mining/search.js';
import { type UmapProgress, projectUmap } from '../projection/umap.js';
import { type Device, mulberry32 } from '../runtime/index.js';

const { values: args } = parseArgs({
  options: {
    points: { type: 'string', default: '20000' },
    dim: { type: 'string', default: '384' },
    blobs: { type: 'string', default: '20' },
    epochs: { type: 'string' },
    neighbors: { type: 'string', default: '15' },
    device: { type: 'string', default: 'cpu' },
    seed: { type: 'string', default: '1' },
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
  console.log(`fuzzy graph + init        ${f(o.graph)}`);
  console.log(`  = up to the layout      ${f(upTo(o.knn, o.graph))}   ${f(t.init)}`);
  console.log(`layout, ${String(epochs).padStart(3)} epochs        ${f(o.layout)}   ${f(t.layout)}`);
  console.log(`total                     ${f(o.total)}   ${f(t.total)}`);
  const r = (a: number[], b: number[]) => `${(b[0] / a[0]).toFixed(2)}× wall, ${(b[1] / a[1]).toFixed(2)}× cpu`;
  console.log(`\nspeed-up, total: ${r(o.total, t.total)}; up to the layout: ${r(upTo(o.knn, o.graph), t.init)}`);
  console.log(`NN-descent recall@${nNeighbors} vs exact: ${((100 * found) / (n * nNeighbors)).toFixed(2)}% (ours: 100% by construction)`);
  console.log(`2-D nearest neighbour from the same blob: ours ${(100 * sameBlobNeighbour(ours, blob)).toFixed(1)}%, umap-js ${(100 * sameBlobNeighbour(umap.getEmbedding().flat(), blob)).toFixed(1)}%`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
