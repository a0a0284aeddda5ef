// A toy model that follows the step-graph contract (contract.ts) end to end, for runtime
// tests and the device-probe bench without engine/nn: embedding lookup, masked mean pooling,
// dropout, a tanh projection and a squared-error loss, then global-norm clipping and AdamW
// written with graph ops under the contract's names. Small enough for lavapipe; it has the
// ops that matter on WebGPU (Gather and its ScatterElements gradient, MatMul, reductions).
//
// AdamW as torch.optim.AdamW (decoupled decay), with clipping as clip_grad_norm_:
//   g ← g · min(1, max_norm / (‖g‖ + 1e-6));  m ← β1 m + (1-β1) g;  v ← β2 v + (1-β2) g²
//   p ← p · decay_factor − adam_step_size · m / (√v · adam_inv_bias2 + ε)
// where the runtime feeds adam_step_size = lr/(1-β1^t), adam_inv_bias2 = 1/√(1-β2^t),
// decay_factor = 1 - lr·wd (1 for params with decay: false).

import { backward } from '../graph/backward.js';
import { type KeepMask, addAll, dropout as applyDropout } from '../graph/composites.js';
import { Graph, type Tensor } from '../graph/graph.js';
import * as o from '../graph/ops.js';
import { serialize } from '../graph/serialize.js';
import { type BucketShape, type PaddedBatch, padToBucket } from './buckets.js';
import type { DataInputSpec, EncodeGraph, ParamSpec, StepGraph } from './contract.js';
import { mulberry32 } from '../../../shared/random.js';

export interface ToyConfig {
  vocab: number;
  dim: number;
  out: number;
  dropout: number;
  betas: [number, number];
  eps: number;
  maxGradNorm: number;
}

export const TOY: ToyConfig = { vocab: 11, dim: 4, out: 3, dropout: 0.25, betas: [0.9, 0.999], eps: 1e-8, maxGradNorm: 1 };

/** The squared-error target for output k: fixed, so the loss has something to fit. */
export const toyTarget = (k: number): number => 0.5 * Math.sin(k + 1);

export function toyParams(cfg: ToyConfig = TOY): ParamSpec[] {
  return [
    { key: 'emb.weight', shape: [cfg.vocab, cfg.dim], decay: true },
    { key: 'proj.weight', shape: [cfg.dim, cfg.out], decay: true },
    { key: 'proj.bias', shape: [cfg.out], decay: false },
  ];
}

export function toyInitialParams(cfg: ToyConfig = TOY, seed = 7): Map<string, Float32Array> {
  const random = mulberry32(seed);
  return new Map(
    toyParams(cfg).map((p) => [p.key, Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => random() - 0.5)]),
  );
}

function forward(p: Record<string, Tensor>, ids: Tensor, mask: Tensor, drop: KeepMask | null): Tensor {
  const e = o.gather(p['emb.weight'], ids); // [B, L] -> [B, L, D]
  const mf = o.cast(mask, 'float32'); // [B, L]
  const summed = o.reduceSum(o.mul(e, o.unsqueeze(mf, [2])), [1]); // [B, L, D] -> [B, D]
  const count = o.max(o.reduceSum(mf, [1], true), 1); // [B, 1]; all-padding rows divide by 1
  const pooled = o.div(summed, count);
  const dropped = applyDropout(pooled, drop);
  return o.tanh(o.add(o.matmul(dropped, p['proj.weight']), p['proj.bias'])); // [B, D] x [D, K] -> [B, K]
}

function dataInputs(g: Graph, { batch, length }: BucketShape): [Tensor, Tensor] {
  return [g.input('input_ids', 'int32', [batch, length]), g.input('attention_mask', 'int32', [batch, length])];
}

/** The data inputs dataInputs declares, as the contract lists them. */
const dataSpecs = ({ batch, length }: BucketShape): DataInputSpec[] => [
  { name: 'input_ids', dtype: 'int32', shape: [batch, length] },
  { name: 'attention_mask', dtype: 'int32', shape: [batch, length] },
];

export function buildToyStep(shape: BucketShape, cfg: ToyConfig = TOY): StepGraph {
  const g = new Graph('toy-step');
  const specs = toyParams(cfg);
  const p = Object.fromEntries(specs.map((s) => [s.key, g.input(`p.${s.key}`, 'float32', s.shape)]));
  const m = specs.map((s) => g.input(`m.${s.key}`, 'float32', s.shape));
  const v = specs.map((s) => g.input(`v.${s.key}`, 'float32', s.shape));
  const [ids, mask] = dataInputs(g, shape);
  const dropout = cfg.dropout > 0 ? [{ name: 'dropout.pooled', shape: [shape.batch, cfg.dim], p: cfg.dropout }] : [];
  const drop = dropout.length ? { keep: g.input(dropout[0].name, 'bool', dropout[0].shape), p: cfg.dropout } : null;
  const stepSize = g.input('adam_step_size', 'float32', []);
  const invBias2 = g.input('adam_inv_bias2', 'float32', []);
  const decayFactor = g.input('decay_factor', 'float32', []);

  const h = forward(p, ids, mask, drop);
  const target = g.constant({ dtype: 'float32', shape: [cfg.out], data: Float32Array.from({ length: cfg.out }, (_, k) => toyTarget(k)) });
  const diff = o.sub(h, target);
  const loss = o.reduceMean(o.mul(diff, diff)); // [B, K] -> []

  const params = specs.map((s) => p[s.key]);
  const grads = backward(loss, params);
  const norm = o.sqrt(addAll(grads.map((gr) => o.reduceSum(o.mul(gr, gr))))); // global L2 norm, []
  const coef = o.min(o.div(cfg.maxGradNorm, o.add(norm, 1e-6)), 1);
  const [b1, b2] = cfg.betas;
  specs.forEach((s, i) => {
    const gc = o.mul(grads[i], coef);
    const m1 = o.add(o.mul(m[i], b1), o.mul(gc, 1 - b1));
    const v1 = o.add(o.mul(v[i], b2), o.mul(o.mul(gc, gc), 1 - b2));
    const denom = o.add(o.mul(o.sqrt(v1), invBias2), cfg.eps);
    const decayed = s.decay ? o.mul(params[i], decayFactor) : params[i];
    g.output(o.sub(decayed, o.mul(stepSize, o.div(m1, denom))), `p.${s.key}.next`);
    g.output(m1, `m.${s.key}.next`);
    g.output(v1, `v.${s.key}.next`);
  });
  g.output(loss, 'loss');
  g.output(norm, 'grad_norm');
  return {
    model: serialize(g),
    params: specs,
    data: dataSpecs(shape),
    dropout,
  };
}

export function buildToyEncode(shape: BucketShape, cfg: ToyConfig = TOY): EncodeGraph {
  const g = new Graph('toy-encode');
  const specs = toyParams(cfg);
  const p = Object.fromEntries(specs.map((s) => [s.key, g.input(`p.${s.key}`, 'float32', s.shape)]));
  const [ids, mask] = dataInputs(g, shape);
  g.output(forward(p, ids, mask, null), 'sentence_embedding');
  return {
    model: serialize(g),
    params: specs,
    data: dataSpecs(shape),
    output: 'sentence_embedding',
  };
}

/** A random padded batch for the toy model: `rows` real rows of 1..length tokens, padded to `shape`. */
export function toyBatch(random: () => number, shape: BucketShape, rows = shape.batch, cfg: ToyConfig = TOY): PaddedBatch {
  const lens = Array.from({ length: rows }, () => 1 + Math.floor(random() * shape.length));
  const ids = lens.map((n) => Array.from({ length: n }, () => Math.floor(random() * cfg.vocab)));
  return padToBucket(
    { input_ids: ids, attention_mask: lens.map((n) => new Array<number>(n).fill(1)) },
    { lengths: shape.length, batch: shape.batch },
  );
}
