// Bench: the JS side of dropout for one MiniLM-shape training step (sites and shapes taken
// from engine/nn's real step graph): drawing every site's keep mask, as the float32 masks
// the contract used to take (0 or 1/(1-p), a fresh array per step) and as the bool masks it
// takes now (runtime/dropout.ts, buffers reused across steps). Generation only; the upload
// and the step itself are train-step's business.
//
//   node dist/main/engine/bench/dropout-masks.js [--batch 32] [--length 64] [--negatives 0]
//       [--layers 6] [--hidden 384] [--dropout 0.1] [--steps 7]

import { trainStepGraph } from '../nn/index.js';
import { KeepMaskBuffers } from '../runtime/dropout.js';
import { mixSeed } from '../../../shared/random.js';
import { fmtMs } from './step-timer.js';
import { benchBertSpec } from './bert-shape.js';

const opt = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a non-negative number`);
  return v;
};

/** The float32 generator the bool masks replaced (runtime/dropout.ts before 2026-11), kept for comparison. */
function float32Mask(n: number, p: number, seed: number, step: number, index: number): Float32Array {
  const out = new Float32Array(n);
  const keep = 1 / (1 - p);
  const threshold = p * 4294967296;
  let a = mixSeed(seed, step, index);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (t ^ (t >>> 14)) >>> 0 < threshold ? 0 : keep;
  }
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main(): void {
  const hidden = opt('hidden', 384);
  const p = opt('dropout', 0.1);
  const spec = benchBertSpec(hidden, opt('layers', 6), p);
  const shape = { queries: opt('batch', 32), negativesPerQuery: opt('negatives', 0), length: opt('length', 64) };
  const steps = Math.max(1, opt('steps', 7));
  const { dropout: sites } = trainStepGraph(spec, shape);
  const n = sites.reduce((s, d) => s + d.shape.reduce((a, b) => a * b, 1), 0);
  const rows = shape.queries * (2 + shape.negativesPerQuery);
  console.log(`dropout masks for one step: ${spec.layers} layers, hidden ${hidden}, S = ${rows} rows × ${shape.length} tokens, p = ${p}`);
  console.log(`${sites.length} sites, ${(n / 1e6).toFixed(1)} M elements: float32 ${(4 * n / 1e6).toFixed(0)} MB, bool ${(n / 1e6).toFixed(0)} MB per step`);

  let sink = 0; // keeps the work observable so it cannot be optimised away
  const before: number[] = [];
  for (let s = 0; s < steps; s++) {
    const t = performance.now();
    for (const [i, d] of sites.entries()) sink += float32Mask(d.shape.reduce((a, b) => a * b, 1), d.p, 42, s, i)[0];
    before.push(performance.now() - t);
  }
  const buffers = new KeepMaskBuffers();
  const after: number[] = [];
  let kept = 0;
  for (let s = 0; s < steps; s++) {
    const t = performance.now();
    const masks = buffers.draw('bench', sites, 42, s);
    after.push(performance.now() - t);
    if (s === steps - 1) for (const m of masks) for (let i = 0; i < m.length; i++) kept += m[i];
    sink += masks[0][0];
  }
  const rate = (ms: number) => `${(n / 1e3 / ms).toFixed(0)} M elements/s`;
  console.log(`median of ${steps} steps (first step included: buffer allocation and JIT warm-up)`);
  console.log(`before  float32, fresh arrays   ${fmtMs(median(before)).padEnd(9)} ${rate(median(before))}`);
  console.log(`after   bool, reused buffers    ${fmtMs(median(after)).padEnd(9)} ${rate(median(after))}` +
    ` (first step ${fmtMs(after[0])}, ${(buffers.byteLength / 1e6).toFixed(0)} MB held)`);
  console.log(`speed-up ${(median(before) / median(after)).toFixed(1)}×; keep fraction ${(kept / n).toFixed(5)} (want ${1 - p}); sink ${sink > 0}`);
}

main();
