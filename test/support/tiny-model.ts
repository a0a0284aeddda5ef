// Test helpers: the BERT/RoBERTa parameter list (a local stand-in for nn's specs, written from
// transformers' modeling_bert.py) and a writer of tiny model folders with seeded random weights.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelConfig } from '../../src/main/engine/model/config.js';
import { writeSafetensors, type TensorToWrite } from '../../src/main/engine/model/safetensors.js';
import type { ParamSpec } from '../../src/main/engine/model/weights.js';

/** BertModel's parameters (RoBERTa / XLM-R have the same names), pooler excluded. */
export function bertExpected(c: ModelConfig): ParamSpec[] {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const out: ParamSpec[] = [
    { key: 'embeddings.word_embeddings.weight', shape: [c.vocabSize, H] },
    { key: 'embeddings.position_embeddings.weight', shape: [c.maxPositionEmbeddings, H] },
    { key: 'embeddings.token_type_embeddings.weight', shape: [c.typeVocabSize, H] },
    { key: 'embeddings.LayerNorm.weight', shape: [H] },
    { key: 'embeddings.LayerNorm.bias', shape: [H] },
  ];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const n of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      out.push({ key: `${p}${n}.weight`, shape: [H, H] }, { key: `${p}${n}.bias`, shape: [H] });
    }
    out.push({ key: `${p}attention.output.LayerNorm.weight`, shape: [H] }, { key: `${p}attention.output.LayerNorm.bias`, shape: [H] });
    out.push({ key: `${p}intermediate.dense.weight`, shape: [I, H] }, { key: `${p}intermediate.dense.bias`, shape: [I] });
    out.push({ key: `${p}output.dense.weight`, shape: [H, I] }, { key: `${p}output.dense.bias`, shape: [H] });
    out.push({ key: `${p}output.LayerNorm.weight`, shape: [H] }, { key: `${p}output.LayerNorm.bias`, shape: [H] });
  }
  return out;
}

export function tinyConfig(family: 'bert' | 'roberta' | 'xlm-roberta' = 'bert'): Record<string, unknown> {
  const bert = family === 'bert';
  return {
    architectures: [bert ? 'BertModel' : family === 'roberta' ? 'RobertaModel' : 'XLMRobertaModel'],
    model_type: family,
    vocab_size: 30522, // the fixture vocabulary's size, so the bert-wordpiece tokenizer fits
    hidden_size: 8,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 16,
    hidden_act: 'gelu',
    max_position_embeddings: bert ? 32 : 34,
    type_vocab_size: bert ? 2 : 1,
    layer_norm_eps: bert ? 1e-12 : 1e-5,
    pad_token_id: bert ? 0 : 1,
    some_unknown_field: { kept: true },
  };
}

export interface TinyModelOptions {
  family?: 'bert' | 'roberta' | 'xlm-roberta';
  dtype?: 'F32' | 'F16' | 'BF16';
  /** Key prefix as a task class writes it, e.g. 'bert.'. */
  prefix?: string;
  /** Split the weights over this many shards with an index file. */
  shards?: number;
  /** Add pooler.*, a cls.* head and the position_ids buffer. */
  extras?: boolean;
  /** Write sentence-transformers files: pooling mode, normalize, prompts. */
  st?: { pooling: 'cls' | 'mean' | 'lasttoken'; normalize: boolean; maxSeqLength?: number; prompts?: Record<string, string>; defaultPromptName?: string };
  /** Copy these tokenizer files from this folder. */
  tokenizerFrom?: string;
  /** Override config.json fields. */
  config?: Record<string, unknown>;
  seed?: number;
}

/** Writes a tiny random model folder; returns the tensors written (key → dtype, shape, bits). */
export async function writeTinyModel(dir: string, o: TinyModelOptions = {}): Promise<Map<string, TensorToWrite>> {
  const cfgRaw = { ...tinyConfig(o.family), ...o.config };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(cfgRaw, null, 2));
  const c = cfgRaw as Record<string, number>;
  const cfg = { vocabSize: c.vocab_size, hiddenSize: c.hidden_size, numLayers: c.num_hidden_layers, intermediateSize: c.intermediate_size, maxPositionEmbeddings: c.max_position_embeddings, typeVocabSize: c.type_vocab_size } as ModelConfig;
  let s = o.seed ?? 1;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const dtype = o.dtype ?? 'F32';
  const make = (shape: number[]): TensorToWrite => {
    const n = shape.reduce((a, b) => a * b, 1);
    const f = Float32Array.from({ length: n }, () => rnd() * 0.1);
    if (dtype === 'F32') return { dtype, shape, data: f };
    const bits = new Uint16Array(n);
    const u = new Uint32Array(f.buffer);
    // BF16: the float's top half; F16: a finite half built from sign, small exponent, mantissa.
    for (let i = 0; i < n; i++) bits[i] = dtype === 'BF16' ? u[i] >>> 16 : (u[i] >>> 31) << 15 | ((8 + (i % 6)) << 10) | (u[i] & 0x3ff);
    return { dtype, shape, data: bits };
  };
  const tensors = new Map<string, TensorToWrite>();
  const p = o.prefix ?? '';
  for (const spec of bertExpected(cfg)) tensors.set(p + spec.key, make([...spec.shape]));
  if (o.extras) {
    tensors.set(`${p}pooler.dense.weight`, make([cfg.hiddenSize, cfg.hiddenSize]));
    tensors.set(`${p}pooler.dense.bias`, make([cfg.hiddenSize]));
    tensors.set(`${p}embeddings.position_ids`, { dtype: 'I64', shape: [1, cfg.maxPositionEmbeddings], data: BigInt64Array.from({ length: cfg.maxPositionEmbeddings }, (_, i) => BigInt(i)) });
    tensors.set('cls.predictions.bias', make([cfg.vocabSize]));
  }
  const entries = [...tensors.entries()];
  const shards = o.shards ?? 1;
  if (shards === 1) {
    await writeFile(join(dir, 'model.safetensors'), writeSafetensors(entries, { format: 'pt' }));
  } else {
    const weightMap: Record<string, string> = {};
    for (let k = 0; k < shards; k++) {
      const name = `model-0000${k + 1}-of-0000${shards}.safetensors`;
      const part = entries.filter((_, i) => i % shards === k);
      for (const [key] of part) weightMap[key] = name;
      await writeFile(join(dir, name), writeSafetensors(part, { format: 'pt' }));
    }
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  }
  if (o.st) {
    const modules = [
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      ...(o.st.normalize ? [{ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' }] : []),
    ];
    await writeFile(join(dir, 'modules.json'), JSON.stringify(modules));
    await mkdir(join(dir, '1_Pooling'), { recursive: true });
    const m = o.st.pooling;
    await writeFile(
      join(dir, '1_Pooling', 'config.json'),
      JSON.stringify({ word_embedding_dimension: cfg.hiddenSize, pooling_mode_cls_token: m === 'cls', pooling_mode_mean_tokens: m === 'mean', pooling_mode_max_tokens: false, pooling_mode_mean_sqrt_len_tokens: false, pooling_mode_lasttoken: m === 'lasttoken' }),
    );
    if (o.st.normalize) await mkdir(join(dir, '2_Normalize'), { recursive: true });
    await writeFile(join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: o.st.maxSeqLength ?? 16, do_lower_case: false }));
    await writeFile(join(dir, 'config_sentence_transformers.json'), JSON.stringify({ prompts: o.st.prompts ?? {}, default_prompt_name: o.st.defaultPromptName ?? null, similarity_fn_name: 'cosine' }));
  }
  if (o.tokenizerFrom) {
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt']) await copyFile(join(o.tokenizerFrom, f), join(dir, f));
  }
  return tensors;
}
