// A model folder ready to embed: weights (load.ts), tokenizer, the encoder spec that nn builds
// graphs from, and an encoder on the chosen device: by default one session of the frozen,
// dynamic-axes graph (frozen-encoder.ts); or runtime's createEncoder, which builds one static
// session per (batch, length) bucket lazily. `dispose` frees the sessions.
import { EngineError } from '../../../shared/errors.js';
import { type EncoderSpec, buildEncode, embeddingWidth, modelFloat16Problem, paramSpecs, specFromHfConfig } from '../nn/index.js';
import type { PrecisionChoice } from '../../../shared/jobs.js';
import { type Device, type DevicePref, type Encoder, type Precision, createEncoder, resolvePrecision, selectDevice } from '../runtime/index.js';
import type { Tokenizer } from '../tokenize/tokenizer.js';
import { frozenEncoderBytes } from './export-onnx.js';
import { createFrozenEncoder } from './frozen-encoder.js';
import { type LoadedModel, loadModelFolder, loadModelTokenizer } from './load.js';

export interface OpenModelOptions {
  /** 'auto' (default) probes cuda → webgpu → cpu. */
  device?: DevicePref;
  /** Longest input in tokens, special tokens included; default the model's max_seq_length. */
  maxLength?: number;
  /** Intra-op threads (default: every logical core). */
  threads?: number;
  /**
   * 'frozen': one session of the dynamic-axes graph with the weights inside (frozen-encoder.ts);
   * the default on the CPU, where it is ~1.5× faster. 'buckets': runtime's createEncoder, one
   * static session per (batch, length) bucket with the weights fed as inputs; the default on
   * GPUs, where that path is the one verified on WebGPU (the frozen graph has int64 shape
   * arithmetic the WebGPU EP may place on the CPU).
   */
  encoder?: 'frozen' | 'buckets';
  /**
   * Keep the first N dimensions of each embedding (Matryoshka truncation), re-normalised when
   * the model normalises: sentence-transformers' truncate_dim. Default: the folder's own
   * truncate_dim, else the full width.
   */
  dims?: number;
  /** 'fp16': float16 activations and matmuls (runtime/precision.ts; the bucketed encoder); default 'fp32'. */
  precision?: PrecisionChoice;
}

export interface EmbeddingModel {
  readonly dir: string;
  readonly loaded: LoadedModel;
  readonly tokenizer: Tokenizer;
  readonly spec: EncoderSpec;
  /** Embedding width D as returned (after any truncation to `dims`). */
  readonly dim: number;
  readonly device: Device;
  /** Why this device (selectDevice's reason), for logs and the UI. */
  readonly deviceReason: string;
  /** The precision it embeds in ('auto' resolved), and why. */
  readonly precision: Precision;
  readonly precisionReason: string;
  readonly encoder: Encoder;
  /** Whether the encoder takes any (batch, length): then the CPU pads each batch only to its longest text. */
  readonly dynamicShapes: boolean;
  dispose(): Promise<void>;
}

/** The encoder spec of a loaded folder: config.json sizes, the sentence-transformers pooling. */
export function specOfModel(loaded: Pick<LoadedModel, 'config' | 'sentence' | 'dir'>): EncoderSpec {
  const { pooling, normalize } = loaded.sentence;
  // Last-token pooling is implemented for the decoder family (Qwen3) whose checkpoints use it.
  if (pooling === 'lasttoken' && loaded.config.family !== 'qwen3') {
    throw new EngineError(
      'UNSUPPORTED',
      `${loaded.dir}: 1_Pooling/config.json asks for last-token pooling, which Embedsmith implements only for Qwen3 (decoder) models, not for ${loaded.config.family}; use a model with mean or cls pooling`,
      { dir: loaded.dir, pooling },
    );
  }
  // A Qwen3 folder without sentence-transformers modules: its own last-token pooling, not the mean default.
  const own = loaded.config.family === 'qwen3' && !loaded.sentence.fromModules;
  const dense = loaded.sentence.dense.map(({ inFeatures, outFeatures, bias }) => ({ inFeatures, outFeatures, bias }));
  return specFromHfConfig(loaded.config.raw, own ? { pooling: 'lasttoken', normalize } : { pooling, normalize, dense });
}

/** A model folder with the encoder parameters its config calls for (nn's specs; pooling does not change them). */
export function loadEncoderFolder(dir: string): Promise<LoadedModel> {
  return loadModelFolder(dir, { expected: (c) => paramSpecs(specFromHfConfig(c.raw)) });
}

export async function openModel(dir: string, opts: OpenModelOptions = {}): Promise<EmbeddingModel> {
  // The parameter list depends on config sizes only; pooling does not change it.
  const loaded = await loadEncoderFolder(dir);
  return modelFromLoaded(loaded, specOfModel(loaded), opts);
}

/**
 * An embedding model from parameters in memory: a loaded folder, or one whose params a
 * training run swapped in (evaluation during training embeds with the current weights).
 */
export async function modelFromLoaded(loaded: LoadedModel, spec: EncoderSpec, opts: OpenModelOptions = {}): Promise<EmbeddingModel> {
  const tokenizer = await loadModelTokenizer(loaded, opts.maxLength);
  const choice = await selectDevice(opts.device ?? 'auto');
  const precision = await resolvePrecision(opts.precision ?? 'fp32', choice.device, modelFloat16Problem(spec));
  const weightBytes = [...loaded.params.values()].reduce((n, p) => n + p.byteLength, 0);
  const frozen = encoderKind(choice.device, precision.precision, opts.encoder, weightBytes, loaded.dir) === 'frozen';
  // Inference never drops out: the graph ignores dropout, but keep the spec honest.
  const inference = { ...spec, hiddenDropout: 0, attentionDropout: 0 };
  const encoder = frozen
    ? await createFrozenEncoder({ device: choice.device, model: frozenEncoderBytes({ spec: inference, loaded }), threads: opts.threads })
    : await createEncoder({ device: choice.device, params: loaded.params, threads: opts.threads, buildEncode: (shape) => buildEncode(inference, shape, precision.precision) });
  return {
    dir: loaded.dir,
    loaded,
    tokenizer,
    spec: inference,
    dim: outputDims(loaded, embeddingWidth(spec), opts.dims),
    device: choice.device,
    deviceReason: choice.reason,
    precision: precision.precision,
    precisionReason: precision.reason,
    encoder,
    dynamicShapes: frozen,
    dispose: () => encoder.dispose(),
  };
}

/**
 * Weight bytes the frozen graph can hold: its weights sit inside one ONNX protobuf message,
 * which cannot exceed 2 GiB (onnxruntime refuses it). Qwen3-Embedding-0.6B takes 2.38 GB in
 * float32, so past this the bucketed encoder, which feeds the weights as inputs, serves instead.
 */
export const FROZEN_WEIGHT_LIMIT = 2e9;

/**
 * Which encoder serves: the frozen graph on the CPU in fp32 when the weights fit in it (the
 * fp16 graph is built by nn per bucket), else the bucketed one; an explicit 'frozen' that cannot
 * hold the weights is refused rather than failing inside onnxruntime.
 */
export function encoderKind(device: Device, precision: Precision, requested: 'frozen' | 'buckets' | undefined, weightBytes: number, dir: string): 'frozen' | 'buckets' {
  const fits = weightBytes <= FROZEN_WEIGHT_LIMIT;
  if (requested === 'frozen' && !fits) {
    throw new EngineError(
      'BAD_INPUT',
      `${dir}: the frozen encoder holds the weights inside one ONNX message, which cannot exceed 2 GiB, and these take ${(weightBytes / 1e9).toFixed(2)} GB; use the bucketed encoder (the default for a model this large)`,
      { dir, weightBytes },
    );
  }
  return precision === 'fp32' && (requested ?? (device === 'cpu' && fits ? 'frozen' : 'buckets')) === 'frozen' ? 'frozen' : 'buckets';
}

/** The embedding width a caller gets: `dims` (checked), else the folder's truncate_dim, else the full width. */
export function outputDims(loaded: Pick<LoadedModel, 'dir' | 'sentence'>, hidden: number, dims?: number): number {
  const want = dims ?? loaded.sentence.truncateDim ?? hidden;
  if (!Number.isInteger(want) || want < 1 || want > hidden) {
    throw new EngineError('BAD_INPUT', `--dims ${want}: the model ${loaded.dir} has ${hidden} dimensions; give an integer from 1 to ${hidden}`, { setting: 'dims', value: want });
  }
  return want;
}
