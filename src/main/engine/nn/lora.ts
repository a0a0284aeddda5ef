// LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"), the graph side:
// a targeted linear's weight W [out, in] becomes W + (alpha / r)·B·A with A [r, in] and
// B [out, r] trained and W frozen, so AdamW keeps state for r·(in + out) numbers instead of
// in·out. The record handed to the family's forward (encoderForward takes the parameter record)
// holds W + (alpha/r)·B·A for each adapted weight, marked so that linear() computes
// x·Wᵀ + (alpha/r)·(x·Aᵀ)·Bᵀ instead: every family gets LoRA without a line of its own, and no
// [out, in] product or gradient is formed (the frozen W needs none). mergeLora folds the
// adapters into the weights for save and export, so the result loads anywhere as a plain model.
// Keys follow PEFT: '<module>.lora_A.weight', '<module>.lora_B.weight' beside '<module>.weight'.
// The step graph and trainer wiring (frozen inputs without optimiser state) is nn/lora-step.ts.

import { EngineError } from '../../../shared/errors.js';
import { type Tensor, ops as o } from '../graph/index.js';
import type { ParamSpec } from '../runtime/contract.js';
import { isDenseKey } from './encoder.js';
import { markLowRank } from './layers.js';

export interface LoraSpec {
  /** r: the adapters' rank. */
  rank: number;
  /** alpha: the update is scaled by alpha / r. */
  alpha: number;
  /** Module names (the last part of a linear's key before '.weight') that get adapters. */
  targets: readonly string[];
}

/** Adapters, by module key: A [r, in] and B [out, r]. */
export interface LoraAdapter {
  module: string;
  a: string;
  b: string;
  /** The adapted weight's key. */
  weight: string;
}

/** The adapters a parameter list gets: one per 2-D '.weight' whose module name is a target. */
export function loraAdapters(params: readonly ParamSpec[], lora: LoraSpec): { adapters: LoraAdapter[]; specs: ParamSpec[] } {
  if (!(Number.isInteger(lora.rank) && lora.rank >= 1) || !(lora.alpha > 0)) {
    throw new EngineError('BAD_INPUT', `LoRA rank ${lora.rank} must be a positive integer and alpha ${lora.alpha} positive`, { setting: 'lora' });
  }
  const adapters: LoraAdapter[] = [];
  const specs: ParamSpec[] = [];
  const found = new Set<string>();
  for (const p of params) {
    if (!p.key.endsWith('.weight') || p.shape.length !== 2) continue;
    const module = p.key.slice(0, -'.weight'.length);
    const name = module.slice(module.lastIndexOf('.') + 1);
    // The Dense modules after the pooling train whole under LoRA (lora-step.ts), never adapted.
    if (!lora.targets.includes(name) || name.includes('embeddings') || isDenseKey(p.key)) continue;
    found.add(name);
    const [out, inp] = p.shape;
    const a = `${module}.lora_A.weight`;
    const b = `${module}.lora_B.weight`;
    adapters.push({ module, a, b, weight: p.key });
    // Adapters are decayed as sentence-transformers decays any non-bias weight.
    specs.push({ key: a, shape: [lora.rank, inp], decay: true }, { key: b, shape: [out, lora.rank], decay: true });
  }
  const missing = lora.targets.filter((t) => !found.has(t));
  if (missing.length > 0) {
    throw new EngineError('BAD_INPUT', `LoRA targets ${missing.join(', ')} name no linear layer of this model; use module names such as the last part of '${params.find((p) => p.shape.length === 2 && p.key.includes('.0.'))?.key ?? params[0]?.key}'`, { setting: 'lora-targets', missing });
  }
  return { adapters, specs };
}

/** The parameter record with each adapted weight replaced by W + (alpha / r)·B·A. */
export function withLora(params: Readonly<Record<string, Tensor>>, adapters: readonly LoraAdapter[], lora: LoraSpec): Record<string, Tensor> {
  const out: Record<string, Tensor> = { ...params };
  for (const ad of adapters) {
    const [w, a, b] = [params[ad.weight], params[ad.a], params[ad.b]];
    if (!w || !a || !b) throw new EngineError('INTERNAL', `LoRA adapter of '${ad.module}' lacks a tensor`);
    const scale = lora.alpha / lora.rank;
    // [out, r] x [r, in] -> [out, in]; linear() reads the parts instead (nn/layers.ts markLowRank)
    out[ad.weight] = markLowRank(o.add(w, o.mul(o.matmul(b, a), scale)), { base: w, a, b, scale });
  }
  return out;
}

/**
 * The weights with the adapters folded in (float64 sums, rounded once), adapters removed: what
 * save and export write. `shapes` gives each weight's [out, in].
 */
export function mergeLora(
  params: ReadonlyMap<string, Float32Array>,
  shapes: ReadonlyMap<string, readonly number[]>,
  adapters: readonly LoraAdapter[],
  lora: LoraSpec,
): Map<string, Float32Array> {
  const merged = new Map(params);
  const scale = lora.alpha / lora.rank;
  const r = lora.rank;
  for (const ad of adapters) {
    const [out, inp] = shapes.get(ad.weight)!;
    const w = params.get(ad.weight)!;
    const a = params.get(ad.a)!;
    const b = params.get(ad.b)!;
    const next = new Float32Array(w.length);
    for (let i = 0; i < out; i++) {
      for (let j = 0; j < inp; j++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += b[i * r + k] * a[k * inp + j];
        next[i * inp + j] = w[i * inp + j] + scale * s;
      }
    }
    merged.set(ad.weight, next);
    merged.delete(ad.a);
    merged.delete(ad.b);
  }
  return merged;
}
