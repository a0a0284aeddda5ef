// Weight-space interpolation between a base model and a model fine-tuned from it: the
// forgetting guard of LM-Cocktail (Xiao et al. 2023, "LM-Cocktail: Resilient Tuning of
// Language Models via Model Merging") and WiSE-FT (Wortsman et al. 2022). Every float tensor
// becomes (1 − α)·base + α·tuned, so α = 0 is the base model and α = 1 the tuned one, bit for
// bit. Each element is computed in float64 and rounded once to float32, the closest float32
// to the formula. Everything that is not a weight (tokenizer, pooling, prompts, max length)
// comes from the tuned model: it is the one whose recipe the user chose.
import { EngineError } from '../../../shared/errors.js';
import type { LoadedModel } from './load.js';
import { toFloat32, type SafeTensor } from './safetensors.js';
import type { SavableModel } from './save.js';

export interface MergeResult {
  model: SavableModel;
  /** How many tensors were interpolated (parameters and float passthrough tensors). */
  interpolated: number;
  /** What was kept from one side only, for display. */
  notes: string[];
}

/** Checks α and both models' shapes, then interpolates every weight. */
export function mergeModels(base: LoadedModel, tuned: LoadedModel, alpha: number): MergeResult {
  if (!Number.isFinite(alpha) || alpha < 0 || alpha > 1) {
    throw new EngineError('BAD_INPUT', `--alpha must be a number from 0 (the base model) to 1 (the tuned model), got ${alpha}; 0.5 weighs both equally`, { setting: 'alpha', value: alpha });
  }
  const where = `${base.dir} and ${tuned.dir}`;
  if (base.config.family !== tuned.config.family) {
    throw new EngineError('BAD_INPUT', `${where} are different architectures (${base.config.family} vs ${tuned.config.family}); merge a model with the base it was fine-tuned from`);
  }
  const missing = [...base.params.keys()].filter((k) => !tuned.params.has(k));
  const extra = [...tuned.params.keys()].filter((k) => !base.params.has(k));
  if (missing.length || extra.length) {
    const list = (ks: string[]) => ks.slice(0, 5).join(', ') + (ks.length > 5 ? ` … (${ks.length})` : '');
    throw new EngineError('BAD_INPUT', `${where} do not have the same weights${missing.length ? `; only the base has ${list(missing)}` : ''}${extra.length ? `; only the tuned model has ${list(extra)}` : ''}. Merge a model with the base it was fine-tuned from`);
  }
  const params = new Map<string, Float32Array>();
  for (const [key, b] of base.params) {
    const t = tuned.params.get(key)!;
    const bs = base.shapes.get(key) ?? [];
    const ts = tuned.shapes.get(key) ?? [];
    if (bs.join('x') !== ts.join('x')) {
      throw new EngineError('BAD_INPUT', `${where}: weight '${key}' is [${bs.join(', ')}] in the base and [${ts.join(', ')}] in the tuned model; merge a model with the base it was fine-tuned from`, { key });
    }
    params.set(key, lerp(b, t, alpha));
  }
  const notes: string[] = [];
  const passthrough = new Map<string, SafeTensor>();
  let extraFloats = 0;
  for (const [key, t] of tuned.passthrough) {
    const b = base.passthrough.get(key);
    if (b && isFloat(b) && isFloat(t) && b.shape.join('x') === t.shape.join('x')) {
      const data = lerp(toFloat32(b, key), toFloat32(t, key), alpha);
      passthrough.set(key, { dtype: 'F32', shape: t.shape, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
      extraFloats++;
    } else {
      passthrough.set(key, t);
      notes.push(`'${key}' kept from the tuned model (${b ? 'not a float tensor of the same shape in the base' : 'absent from the base'})`);
    }
  }
  if (base.sentence.maxSeqLength !== tuned.sentence.maxSeqLength) {
    notes.push(`max_seq_length ${tuned.sentence.maxSeqLength ?? 'unset'} comes from the tuned model (the base says ${base.sentence.maxSeqLength ?? 'unset'}): every merge embeds at that length`);
  }
  return { model: { ...tuned, params, passthrough }, interpolated: params.size + extraFloats, notes };
}

function isFloat(t: SafeTensor): boolean {
  return t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16' || t.dtype === 'F64';
}

/** (1 − α)·a + α·b per element, in float64, rounded once to float32. */
export function lerp(a: Float32Array, b: Float32Array, alpha: number): Float32Array {
  const out = new Float32Array(a.length);
  const keep = 1 - alpha;
  for (let i = 0; i < a.length; i++) out[i] = keep * a[i]! + alpha * b[i]!;
  return out;
}
