// UMAP's 2-D layout by stochastic gradient descent on the fuzzy-set cross-entropy (McInnes,
// Healy & Melville 2018, arXiv:1802.03426, §3.2 and Algorithm 5; umap-learn's
// optimize_layout_euclidean). It is umap-js 1.4's initializeSimplicialSetEmbedding,
// makeEpochsPerSample and optimizeLayoutStep, step for step and draw for draw, over typed
// arrays instead of number[][] rows and a string-keyed Map. Given the same graph and generator
// it tracks umap-js's layout to ~1e-13 for the first epochs; after that SGD's sensitivity
// amplifies the rounding of powB (below) and the two become different samples of the same
// layout distribution (layout.test.ts checks both).
//
// What that means, per umap-js (and where umap-learn differs, noted):
//   - init: every coordinate uniform in [−10, 10), drawn point by point (umap-learn defaults
//     to a spectral init; umap-js has none and draws at random, so we do too);
//   - edges with w < max(w)/nEpochs are dropped; edge e is sampled every max(w)/w_e epochs
//     (epochs per sample), with 5 negative samples per positive one (negative_sample_rate);
//   - attraction −2ab·d^(2(b−1)) / (1 + a·d^(2b)), repulsion 2γb / ((0.001 + d²)(1 + a·d^(2b))),
//     each coordinate's step clipped to ±4, learning rate 1 falling linearly to 0;
//   - a, b fitted to min_dist by umap-js's findABParams (Levenberg–Marquardt on the curve
//     1/(1 + a·x^(2b)) against the offset exponential, as umap-learn's find_ab_params).
//
// Edges run in (row, col) order with head = col and tail = row, both moved (move_other):
// that order, and one generator call per coordinate of the init and per negative sample, are
// what keep our draws identical to umap-js's.
import { EngineError } from '../../../shared/errors.js';
// Pinned to umap-js 1.4.x (package.json "1.4"): findABParams is exported by dist/umap.js but
// not re-exported from the package index. layout.test.ts fails if it moves or changes.
import { findABParams } from 'umap-js/dist/umap.js';
import type { FuzzyGraph } from './fuzzy-graph.js';

export interface LayoutOptions {
  /** SGD epochs; default defaultEpochs(n), umap-js's rule. */
  nEpochs?: number;
  /** umap-learn's min_dist: how tightly points may pack. */
  minDist: number;
  /** Uniform [0, 1) generator for the init and negative sampling (mulberry32 in use). */
  random: () => number;
  signal?: AbortSignal;
  /** After each epoch: epochs done so far, of `total`. */
  onEpoch?: (done: number, total: number) => void;
}

// umap-learn's defaults, as umap-js 1.4 sets them.
const NEGATIVE_SAMPLE_RATE = 5;
const REPULSION_STRENGTH = 1; // gamma
const LEARNING_RATE = 1; // initial alpha
const SPREAD = 1;
const CLIP = 4;

export function cancelled(): EngineError {
  return new EngineError('CANCELLED', 'UMAP projection cancelled');
}

/** min_dist must lie inside the [0, 3·spread] range findABParams fits the curve over. */
export function checkMinDist(minDist: number): void {
  if (!(minDist >= 0 && minDist < SPREAD * 3)) {
    throw new EngineError('BAD_INPUT', `minDist ${minDist} must be in [0, ${SPREAD * 3}), e.g. 0.1 (smaller packs clusters tighter)`, { setting: 'minDist' });
  }
}

/** umap-js's getNEpochs: more epochs for small sets, 200 above 7,500 points. */
export function defaultEpochs(n: number): number {
  return n <= 2500 ? 500 : n <= 5000 ? 400 : n <= 7500 ? 300 : 200;
}

/** The SGD's edge list and sampling schedule. */
interface Schedule {
  head: Int32Array;
  tail: Int32Array;
  epochsPerSample: Float64Array;
  epochOfNextSample: Float64Array;
  epochsPerNegativeSample: Float64Array;
  epochOfNextNegativeSample: Float64Array;
}

function schedule(graph: FuzzyGraph, nEpochs: number): Schedule {
  const { n, indptr, indices, values } = graph;
  let max = 0;
  for (let e = 0; e < values.length; e++) if (values[e] > max) max = values[e];
  // Edges too weak to be sampled even once in nEpochs are dropped (umap-learn does the same).
  const cut = max / nEpochs;
  let m = 0;
  for (let e = 0; e < values.length; e++) if (values[e] >= cut) m++;
  const s: Schedule = {
    head: new Int32Array(m),
    tail: new Int32Array(m),
    epochsPerSample: new Float64Array(m),
    epochOfNextSample: new Float64Array(m),
    epochsPerNegativeSample: new Float64Array(m),
    epochOfNextNegativeSample: new Float64Array(m),
  };
  let at = 0;
  for (let i = 0; i < n; i++) {
    for (let e = indptr[i]; e < indptr[i + 1]; e++) {
      if (values[e] < cut) continue;
      s.tail[at] = i;
      s.head[at] = indices[e];
      const eps = nEpochs / ((values[e] / max) * nEpochs);
      s.epochsPerSample[at] = s.epochOfNextSample[at] = eps;
      s.epochsPerNegativeSample[at] = s.epochOfNextNegativeSample[at] = eps / NEGATIVE_SAMPLE_RATE;
      at++;
    }
  }
  return s;
}

// x^b for x > 0 as exp(b·ln x). V8's Math.pow with a non-integer exponent costs ~75 ns in
// this loop against ~20 ns for exp∘log, and at 20,000 points the SGD takes ~170 M powers
// (a 200-epoch run: 18.5 s of CPU with Math.pow, 11.6 s with this). Both are accurate to
// ~1e-15 relative (umap-learn itself runs this loop in float32 under numba fastmath); the
// price is that the layout matches umap-js's to rounding, not to the bit, and the SGD
// amplifies rounding over epochs (layout.test.ts says how closely).
function powB(x: number, b: number): number {
  return Math.exp(b * Math.log(x));
}

function clip(x: number): number {
  return x > CLIP ? CLIP : x < -CLIP ? -CLIP : x;
}

/** One epoch of umap-js's optimizeLayoutStep over `emb` ([n, 2] interleaved), in place. */
function epochStep(emb: Float64Array, n: number, s: Schedule, epoch: number, alpha: number, a: number, b: number, random: () => number): void {
  const { head, tail, epochsPerSample, epochOfNextSample, epochsPerNegativeSample, epochOfNextNegativeSample } = s;
  const attract = -2 * a * b;
  const repel = 2 * REPULSION_STRENGTH * b;
  for (let i = 0; i < head.length; i++) {
    if (epochOfNextSample[i] > epoch) continue;
    const j = head[i], cj = 2 * j, ck = 2 * tail[i];
    const dx = emb[cj] - emb[ck], dy = emb[cj + 1] - emb[ck + 1];
    const d2 = dx * dx + dy * dy;
    let coeff = 0;
    if (d2 > 0) {
      const pb = powB(d2, b);
      coeff = (attract * (pb / d2)) / (a * pb + 1); // d^(2(b−1)) = d^(2b) / d²
    }
    let g = clip(coeff * dx);
    emb[cj] += g * alpha;
    emb[ck] += -g * alpha;
    g = clip(coeff * dy);
    emb[cj + 1] += g * alpha;
    emb[ck + 1] += -g * alpha;
    epochOfNextSample[i] += epochsPerSample[i];

    const nNeg = Math.floor((epoch - epochOfNextNegativeSample[i]) / epochsPerNegativeSample[i]);
    for (let p = 0; p < nNeg; p++) {
      const k = Math.floor(random() * n), co = 2 * k;
      const ex = emb[cj] - emb[co], ey = emb[cj + 1] - emb[co + 1];
      const e2 = ex * ex + ey * ey;
      let rc = 0;
      if (e2 > 0) {
        rc = repel / ((0.001 + e2) * (a * powB(e2, b) + 1));
      } else if (j === k) {
        continue;
      }
      // A sample on top of the point (another point at distance 0) pushes by the full clip on
      // both axes: umap-js's rule (and earlier umap-learn's; today's umap-learn pushes 0).
      emb[cj] += (rc > 0 ? clip(rc * ex) : CLIP) * alpha;
      emb[cj + 1] += (rc > 0 ? clip(rc * ey) : CLIP) * alpha;
    }
    epochOfNextNegativeSample[i] += nNeg * epochsPerNegativeSample[i];
  }
}

/**
 * [n, 2] layout (interleaved x, y; float64) of a fuzzy graph. Yields to the event loop after
 * every epoch, so a cancel (signal) lands within one epoch.
 */
export async function optimizeLayout(graph: FuzzyGraph, opts: LayoutOptions): Promise<Float64Array> {
  const { n } = graph;
  const nEpochs = opts.nEpochs ?? defaultEpochs(n);
  const { random, signal, onEpoch } = opts;
  checkMinDist(opts.minDist);
  const { a, b } = findABParams(SPREAD, opts.minDist);
  const s = schedule(graph, nEpochs);
  const emb = new Float64Array(2 * n);
  for (let c = 0; c < 2 * n; c++) emb[c] = random() * 20 + -10;
  let alpha = LEARNING_RATE;
  for (let epoch = 0; epoch < nEpochs; epoch++) {
    epochStep(emb, n, s, epoch, alpha, a, b, random);
    alpha = LEARNING_RATE * (1 - epoch / nEpochs);
    onEpoch?.(epoch + 1, nEpochs);
    if (signal?.aborted) throw cancelled();
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw cancelled();
  }
  return emb;
}
