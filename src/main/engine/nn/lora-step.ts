// LoRA wired into training: which linears get adapters by default, the
// step graph's split into trained adapters (flat state with AdamW moments) and frozen base
// weights (plain 'frozen.<key>' inputs, no moments: the point of LoRA is that AdamW state is
// r·(in + out) numbers per adapted linear, not in·out), and the merge for save.
//
// Adapter dropout: PEFT drops the linear's *input* before A (y = W·x + s·B·A·drop(x)). linear()
// (nn/layers.ts) computes the adapter path on the activations, but it draws no masks of its own
// (the families' dropout sites do): only p = 0 (PEFT's LoraConfig default) is taken, and
// anything else is refused by name.

import { EngineError } from '../../../shared/errors.js';
import type { Graph, Tensor } from '../graph/index.js';
import { type ParamSpec, frozenName } from '../runtime/contract.js';
import { isDenseKey } from './encoder.js';
import { type LoraAdapter, type LoraSpec, loraAdapters, mergeLora, withLora } from './lora.js';

/** The run's LoRA choice (train settings): rank, alpha, dropout, target module names. */
export interface LoraChoice {
  rank: number;
  /** null: 2·rank (see loraSpecOf). */
  alpha: number | null;
  dropout: number;
  /** null: every linear inside the encoder's layers (defaultLoraTargets). */
  targets: readonly string[] | null;
}

/**
 * The module names of every 2-D weight inside a layer ('….layer.3.attention.self.query.weight'
 * → 'query'): attention q, k, v, o and the FFN linears, in each family's own key names (BERT:
 * query, key, value, dense; ModernBERT: Wqkv, Wo, Wi; MPNet: q, k, v, o, dense). Embeddings
 * and norms are not linears of a layer and stay out.
 */
export function defaultLoraTargets(params: readonly ParamSpec[]): string[] {
  const names = new Set<string>();
  for (const p of params) {
    if (p.shape.length !== 2 || !p.key.endsWith('.weight') || !/(^|\.)layers?\.\d+\./.test(p.key) || /norm|embed/i.test(p.key)) continue;
    const module = p.key.slice(0, -'.weight'.length);
    names.add(module.slice(module.lastIndexOf('.') + 1));
  }
  return [...names];
}

/**
 * The graph-side spec. alpha defaults to 2·r: PEFT's LoraConfig default is a fixed
 * lora_alpha = 8 with r = 8 (scale 1), which shrinks the update as r grows (r 16 → 0.5);
 * 2·r keeps the scale fixed at 2 for any rank, the rule most LoRA fine-tuning recipes use.
 */
export function loraSpecOf(choice: LoraChoice, params: readonly ParamSpec[]): LoraSpec {
  if (choice.dropout !== 0) {
    throw new EngineError(
      'UNSUPPORTED',
      `--lora-dropout ${choice.dropout}: adapter dropout is not supported yet (PEFT's drops each adapted linear's input before A; the adapter path draws no masks). Fix: drop --lora-dropout (0, PEFT's default) and use --dropout for regularisation`,
      { setting: 'lora-dropout' },
    );
  }
  const targets = choice.targets ?? defaultLoraTargets(params);
  if (targets.length === 0) throw new EngineError('BAD_INPUT', 'LoRA found no linear layer to adapt in this model; name them with --lora-targets', { setting: 'lora-targets' });
  return { rank: choice.rank, alpha: choice.alpha ?? 2 * choice.rank, targets };
}

export interface LoraStep {
  /**
   * What AdamW trains, in flat state: the adapters (A, B), then the sentence-transformers Dense
   * modules after the pooling (EmbeddingGemma's), which train whole as they do under
   * sentence-transformers, whose add_adapter wraps only the transformer.
   */
  params: ParamSpec[];
  /** The base weights, fed as 'frozen.<key>' inputs without moments. */
  frozen: ParamSpec[];
  adapters: LoraAdapter[];
}

export function loraStep(base: readonly ParamSpec[], lora: LoraSpec): LoraStep {
  const { adapters, specs } = loraAdapters(base, lora);
  return { params: [...specs, ...base.filter((p) => isDenseKey(p.key))], frozen: base.filter((p) => !isDenseKey(p.key)), adapters };
}

/** encoderForward's parameter record: frozen inputs plus the trained record, each adapted weight replaced by W + s·B·A. */
export function loraRecord(g: Graph, step: LoraStep, lora: LoraSpec, trained: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
  const frozen = Object.fromEntries(step.frozen.map((p) => [p.key, g.input(frozenName(p.key), 'float32', p.shape)]));
  return withLora({ ...frozen, ...trained }, step.adapters, lora);
}

/** Base weights with the adapters folded in and the adapter keys gone: a plain model. */
export function mergedParams(all: ReadonlyMap<string, Float32Array>, step: LoraStep, lora: LoraSpec): Map<string, Float32Array> {
  const shapes = new Map(step.frozen.map((p) => [p.key, p.shape] as const));
  return mergeLora(all, shapes, step.adapters, lora);
}
