// LoRA adapters on the run's side: their seeded start (PEFT's init), and RUN/adapter: the trained adapters as a PEFT adapter folder beside the merged RUN/model,
// for people who keep one base model and several small adapters (`PeftModel.from_pretrained(
// base, 'RUN/adapter')`). PEFT names tensors after the wrapped model: 'base_model.model.' +
// the module path + '.lora_A.weight' / '.lora_B.weight', without the adapter name.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type TensorToWrite, writeSafetensors } from '../model/safetensors.js';
import type { LoraStep } from '../nn/lora-step.js';
import { mulberry32 } from '../../../shared/random.js';
import type { LoraSpec } from '../nn/lora.js';
import { writeFileAtomic, writeJsonAtomic } from '../workspace/atomic.js';
import { withIo } from '../workspace/fs-errors.js';

export const PEFT_PREFIX = 'base_model.model.';

/** adapter_config.json as PEFT's LoraConfig writes it, with what this run used. */
export function adapterConfig(lora: LoraSpec, baseModel: string): Record<string, unknown> {
  return {
    peft_type: 'LORA',
    task_type: 'FEATURE_EXTRACTION',
    base_model_name_or_path: baseModel,
    r: lora.rank,
    lora_alpha: lora.alpha,
    lora_dropout: 0,
    target_modules: [...lora.targets],
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    use_rslora: false,
    init_lora_weights: true,
  };
}

/** Writes adapter_model.safetensors and adapter_config.json into `dir` from the run's parameters. */
export async function saveAdapterFolder(dir: string, params: ReadonlyMap<string, Float32Array>, step: LoraStep, lora: LoraSpec, baseModel: string): Promise<void> {
  await withIo(dir, 'create the folder', () => mkdir(dir, { recursive: true }));
  const tensors = step.params
    .filter((p) => step.adapters.some((a) => a.a === p.key || a.b === p.key)) // the Dense modules are in RUN/model, not an adapter
    .map((p): [string, TensorToWrite] => [PEFT_PREFIX + p.key, { dtype: 'F32', shape: p.shape, data: params.get(p.key)! }])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  await writeFileAtomic(join(dir, 'adapter_model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
  await writeJsonAtomic(join(dir, 'adapter_config.json'), adapterConfig(lora, baseModel));
}

/**
 * Starting adapters as PEFT initialises them: A from kaiming_uniform(a=√5), i.e. U(−1/√in,
 * 1/√in), B zeros, so the adapted model starts exactly as the base model. Seeded: a resumed
 * or repeated run starts from the same A.
 */
export function initialAdapters(step: LoraStep, seed: number): Map<string, Float32Array> {
  const random = mulberry32((seed ^ 0x4c6f5241) >>> 0); // 'LoRA': its own stream, apart from dropout's
  const out = new Map<string, Float32Array>();
  for (const p of step.params) {
    const n = p.shape[0] * p.shape[1];
    if (!step.adapters.some((a) => a.a === p.key || a.b === p.key)) continue; // a Dense module starts from the model's weights
    if (step.adapters.some((a) => a.a === p.key)) {
      const bound = 1 / Math.sqrt(p.shape[1]);
      out.set(p.key, Float32Array.from({ length: n }, () => (2 * random() - 1) * bound));
    } else out.set(p.key, new Float32Array(n));
  }
  return out;
}
