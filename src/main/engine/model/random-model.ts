// Seeded random model folders (BERT, RoBERTa, MPNet, ModernBERT, Qwen3, Gemma 3), written by our own saveModelFolder: the tiny models the
// tests embed and export, and the MiniLM-shape model the embed bench times. Weights follow
// BERT's init (N(0, 0.02²); LayerNorm weight 1, bias 0, with a little noise so no symmetry
// hides a bug); the same seed writes the same bytes (STYLE habit 7).
import { readdir } from 'node:fs/promises';
import { EngineError } from '../../../shared/errors.js';
import { paramSpecs, specFromHfConfig } from '../nn/index.js';
import { mulberry32 } from '../../../shared/random.js';
import { parseModelConfig } from './config.js';
import { TOKENIZER_FILES } from './load.js';
import { saveModelFolder } from './save.js';
import type { SentenceConfig } from './sentence-config.js';

export interface RandomBertOptions {
  /** A folder with the tokenizer files to copy (its vocabulary size sets vocab_size unless given). */
  tokenizerDir: string;
  vocabSize?: number;
  hidden?: number;
  layers?: number;
  heads?: number;
  intermediate?: number;
  maxPositions?: number;
  /**
   * 'bert' (token types, positions from 0), 'roberta' (no types, positions after the pad id),
   * 'mpnet' (RoBERTa's positions + relative bias) or 'modernbert' (rotary; global layers 0, 3 …,
   * sliding window 4 elsewhere, bias-free) or 'qwen3' (causal, rotary, 2 kv heads, head_dim
   * 12, last-token pooling unless `pooling` says otherwise) or 'gemma3' (EmbeddingGemma's
   * layout: bidirectional, sliding window 4 on all but every 3rd layer, 2 kv heads, head_dim 12,
   * Dense modules hidden → 2·hidden → hidden unless `dense` says otherwise).
   */
  family?: 'bert' | 'roberta' | 'mpnet' | 'modernbert' | 'qwen3' | 'gemma3';
  /** sentence-transformers Dense modules after the pooling: [in, out, bias] each. */
  dense?: Array<[number, number, boolean]>;
  /** Extra config.json fields (e.g. ModernBERT's switches). */
  config?: Record<string, unknown>;
  pooling?: 'mean' | 'cls' | 'lasttoken';
  normalize?: boolean;
  maxSeqLength?: number;
  prompts?: Record<string, string>;
  seed?: number;
}

/** all-MiniLM-L6-v2's shape: 6 layers, width 384, 12 heads, FFN 1536, bert-base-uncased's vocabulary. */
export const MINILM_L6 = { vocabSize: 30522, hidden: 384, layers: 6, heads: 12, intermediate: 1536, maxPositions: 512 } as const;

export async function writeRandomBert(dir: string, o: RandomBertOptions): Promise<void> {
  const family = o.family ?? 'bert';
  const raw = { ...randomConfig(family, o), ...o.config };
  const config = parseModelConfig(raw, `${dir}/config.json`);
  const d = raw.hidden_size as number;
  const denseShapes = o.dense ?? (family === 'gemma3' ? [[d, 2 * d, false], [2 * d, d, false]] : []);
  const dense = denseShapes.map(([inFeatures, outFeatures, bias], i) => ({ path: `${2 + i}_Dense`, inFeatures, outFeatures, bias }));
  const specs = paramSpecs(specFromHfConfig(raw, { dense }));
  const rnd = mulberry32(o.seed ?? 42);
  // Box–Muller: two uniforms → one standard normal (the second is dropped for simplicity).
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const params = new Map<string, Float32Array>();
  const shapes = new Map<string, readonly number[]>();
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    // Gemma 3's norms scale by 1 + w: their weights start near 0.
    const isLnWeight = /norm\.weight$/i.test(s.key) && family !== 'gemma3';
    const scale = /norm\./i.test(s.key) ? 0.05 : s.key.includes('relative_attention_bias') ? 0.5 : 0.02;
    params.set(s.key, Float32Array.from({ length: n }, () => (isLnWeight ? 1 : 0) + scale * normal()));
    shapes.set(s.key, s.shape);
  }
  const present = new Set(await readdir(o.tokenizerDir).catch(() => [] as string[]));
  const tokenizerFiles = TOKENIZER_FILES.filter((f) => present.has(f));
  if (tokenizerFiles.length === 0) {
    throw new EngineError('NOT_FOUND', `${o.tokenizerDir} has no tokenizer files (${TOKENIZER_FILES.slice(0, 4).join(', ')} …); give a tokenizer folder`, { dir: o.tokenizerDir });
  }
  const sentence: SentenceConfig = {
    pooling: o.pooling ?? (family === 'qwen3' ? 'lasttoken' : 'mean'),
    normalize: o.normalize ?? true,
    maxSeqLength: o.maxSeqLength ?? o.maxPositions ?? 128,
    doLowerCase: false,
    prompts: o.prompts ?? {},
    defaultPromptName: null,
    similarityFnName: 'cosine',
    includePrompt: true,
    transformerPath: '',
    fromModules: true,
    dense,
  };
  await saveModelFolder(
    { hfDir: o.tokenizerDir, config, params, shapes, passthrough: new Map(), sentence, tokenizerFiles },
    dir,
    { overwrite: true },
  );
}

/** config.json of a random model of `family`. */
function randomConfig(family: NonNullable<RandomBertOptions['family']>, o: RandomBertOptions): Record<string, unknown> {
  const sizes = {
    vocab_size: o.vocabSize ?? 30522,
    hidden_size: o.hidden ?? 32,
    num_hidden_layers: o.layers ?? 2,
    num_attention_heads: o.heads ?? 4,
    intermediate_size: o.intermediate ?? 64,
  };
  if (family === 'qwen3') {
    return {
      architectures: ['Qwen3Model'],
      model_type: 'qwen3',
      ...sizes,
      num_key_value_heads: 2,
      head_dim: 12,
      hidden_act: 'silu',
      max_position_embeddings: o.maxPositions ?? 128,
      rms_norm_eps: 1e-6,
      rope_theta: 1000000,
      rope_scaling: null,
      attention_bias: false,
      attention_dropout: 0,
      use_sliding_window: false,
      sliding_window: null,
      tie_word_embeddings: true,
      pad_token_id: 0, // the WordPiece fixture's [PAD]
    };
  }
  if (family === 'gemma3') {
    const layers = sizes.num_hidden_layers;
    return {
      architectures: ['Gemma3TextModel'],
      model_type: 'gemma3_text',
      ...sizes,
      num_key_value_heads: 2,
      head_dim: 12,
      hidden_activation: 'gelu_pytorch_tanh',
      max_position_embeddings: o.maxPositions ?? 128,
      rms_norm_eps: 1e-6,
      rope_theta: 1000000,
      rope_local_base_freq: 10000,
      rope_scaling: null,
      query_pre_attn_scalar: 12,
      sliding_window: 4,
      layer_types: Array.from({ length: layers }, (_, i) => ((i + 1) % 3 === 0 ? 'full_attention' : 'sliding_attention')),
      use_bidirectional_attention: true,
      attention_bias: false,
      attention_dropout: 0,
      attn_logit_softcapping: null,
      final_logit_softcapping: null,
      pad_token_id: 0, // the WordPiece fixture's [PAD]
    };
  }
  if (family === 'modernbert') {
    return {
      architectures: ['ModernBertModel'],
      model_type: 'modernbert',
      ...sizes,
      hidden_activation: 'gelu',
      max_position_embeddings: o.maxPositions ?? 128,
      norm_eps: 1e-5,
      norm_bias: false,
      attention_bias: false,
      mlp_bias: false,
      global_rope_theta: 160000,
      local_rope_theta: 10000,
      global_attn_every_n_layers: 3,
      local_attention: 4,
      embedding_dropout: 0,
      attention_dropout: 0,
      mlp_dropout: 0,
      pad_token_id: 0, // the WordPiece fixture's [PAD]
    };
  }
  const bert = family === 'bert';
  return {
    architectures: [{ bert: 'BertModel', roberta: 'RobertaModel', mpnet: 'MPNetModel' }[family]],
    model_type: family,
    ...sizes,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    // RoBERTa and MPNet spend pad_token_id + 1 rows before the first position.
    max_position_embeddings: (o.maxPositions ?? 128) + (bert ? 0 : 2),
    ...(family === 'mpnet' ? { relative_attention_num_buckets: 32 } : { type_vocab_size: bert ? 2 : 1, position_embedding_type: 'absolute' }),
    layer_norm_eps: bert ? 1e-12 : 1e-5,
    pad_token_id: bert ? 0 : 1,
  };
}
