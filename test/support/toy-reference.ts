// An independent float64 reference for the toy model (engine/runtime/toy.ts): forward and backward written
// out by hand in plain JS, then clip_grad_norm_ and AdamW exactly as torch.optim.AdamW
// computes them (bias corrections applied the textbook way, not through the runtime's
// pre-combined scalars), so the graph, the scalars and the state plumbing are all checked
// against something that shares none of their code.

import { TOY, type ToyConfig, toyParams, toyTarget } from '../../src/main/engine/runtime/toy.js';

export interface RefBatch {
  ids: Int32Array;
  mask: Int32Array;
  batch: number;
  length: number;
  /** Keep mask for the pooled vector, [batch, dim]; null when dropout is off. */
  drop: Float32Array | null;
}

export interface RefState {
  p: Map<string, Float64Array>;
  m: Map<string, Float64Array>;
  v: Map<string, Float64Array>;
  t: number;
}

export function refInit(params: Map<string, Float32Array>): RefState {
  const f64 = (a: Float32Array) => Float64Array.from(a);
  const zero = (a: Float32Array) => new Float64Array(a.length);
  return {
    p: new Map([...params].map(([k, a]) => [k, f64(a)])),
    m: new Map([...params].map(([k, a]) => [k, zero(a)])),
    v: new Map([...params].map(([k, a]) => [k, zero(a)])),
    t: 0,
  };
}

/** Sentence embeddings (tanh outputs, no dropout) of the toy model: float64 [batch, out]. */
export function refEmbed(p: Map<string, Float32Array>, b: RefBatch, cfg: ToyConfig = TOY): Float64Array {
  const { dim: D, out: K } = cfg;
  const [E, W, bias] = ['emb.weight', 'proj.weight', 'proj.bias'].map((k) => p.get(k)!);
  const out = new Float64Array(b.batch * K);
  for (let r = 0; r < b.batch; r++) {
    const x = new Float64Array(D);
    let count = 0;
    for (let l = 0; l < b.length; l++) {
      const w = b.mask[r * b.length + l];
      count += w;
      for (let d = 0; d < D; d++) x[d] += E[b.ids[r * b.length + l] * D + d] * w;
    }
    for (let k = 0; k < K; k++) {
      let z = bias[k];
      for (let d = 0; d < D; d++) z += (x[d] / Math.max(count, 1)) * W[d * K + k];
      out[r * K + k] = Math.tanh(z);
    }
  }
  return out;
}

/** Loss and gradients of the toy model at `p`. */
export function refLossAndGrads(p: Map<string, Float64Array>, b: RefBatch, cfg: ToyConfig = TOY) {
  const { dim: D, out: K } = cfg;
  const E = p.get('emb.weight')!;
  const W = p.get('proj.weight')!;
  const bias = p.get('proj.bias')!;
  const dE = new Float64Array(E.length);
  const dW = new Float64Array(W.length);
  const db = new Float64Array(K);
  let loss = 0;
  const n = b.batch * K;
  for (let r = 0; r < b.batch; r++) {
    let count = 0;
    const pooled = new Float64Array(D);
    for (let l = 0; l < b.length; l++) {
      const w = b.mask[r * b.length + l];
      count += w;
      for (let d = 0; d < D; d++) pooled[d] += E[b.ids[r * b.length + l] * D + d] * w;
    }
    const scale = 1 / Math.max(count, 1);
    const keep = (d: number) => (b.drop ? b.drop[r * D + d] : 1);
    const x = Array.from(pooled, (s, d) => s * scale * keep(d));
    const dx = new Float64Array(D);
    for (let k = 0; k < K; k++) {
      let z = bias[k];
      for (let d = 0; d < D; d++) z += x[d] * W[d * K + k];
      const h = Math.tanh(z);
      loss += (h - toyTarget(k)) ** 2 / n;
      const dz = ((2 * (h - toyTarget(k))) / n) * (1 - h * h);
      db[k] += dz;
      for (let d = 0; d < D; d++) {
        dW[d * K + k] += x[d] * dz;
        dx[d] += W[d * K + k] * dz;
      }
    }
    for (let l = 0; l < b.length; l++) {
      const w = b.mask[r * b.length + l];
      for (let d = 0; d < D; d++) dE[b.ids[r * b.length + l] * D + d] += dx[d] * keep(d) * scale * w;
    }
  }
  return { loss, grads: new Map([['emb.weight', dE], ['proj.weight', dW], ['proj.bias', db]]) };
}

/** One torch-style AdamW step with clip_grad_norm_(max_norm); mutates `s`, returns loss and pre-clip norm. */
export function refStep(s: RefState, b: RefBatch, lr: number, wd: number, cfg: ToyConfig = TOY) {
  const { loss, grads } = refLossAndGrads(s.p, b, cfg);
  let sq = 0;
  for (const g of grads.values()) for (const x of g) sq += x * x;
  const norm = Math.sqrt(sq);
  const clip = Math.min(1, cfg.maxGradNorm / (norm + 1e-6));
  const [b1, b2] = cfg.betas;
  s.t += 1;
  const bc1 = 1 - b1 ** s.t;
  const bc2 = 1 - b2 ** s.t;
  for (const spec of toyParams(cfg)) {
    const p = s.p.get(spec.key)!;
    const m = s.m.get(spec.key)!;
    const v = s.v.get(spec.key)!;
    const g = grads.get(spec.key)!;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] * clip;
      if (spec.decay) p[i] *= 1 - lr * wd;
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      p[i] -= (lr / bc1) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + cfg.eps));
    }
  }
  return { loss, gradNorm: norm };
}
