// The nn package's public surface: layers, the encoder families, pooling, InfoNCE, AdamW,
// and the graph builders that implement runtime/contract.ts.

export {
  type AttentionWeights,
  type EncoderLayerWeights,
  type KeepMask,
  type LayerNormWeights,
  type LinearWeights,
  additiveMask,
  dropout,
  embedding,
  encoderLayer,
  gelu,
  layerNorm,
  linear,
  maskFill,
  multiHeadAttention,
} from './layers.js';
export { clsPool, l2Normalize, lastTokenPool, meanPool } from './pooling.js';
export { type InfoNce, infoNce } from './loss.js';
export { type AdamWOptions, type AdamWResult, type AdamWScalars, type AdamWState, adamwUpdate, decays } from './adamw.js';
export {
  type DenseLayer,
  type DropoutFn,
  type EncoderArch,
  type EncoderInputs,
  type EncoderSpec,
  type PoolingOptions,
  SUPPORTED_MODEL_TYPES,
  checkSpec,
  dataInputs,
  denseKey,
  denseParams,
  embeddingWidth,
  encoderForward,
  isDenseKey,
  layerWeights,
  modelFloat16Problem,
  paramSpecs,
  positionsNeeded,
  sentenceEmbedding,
  specFromHfConfig,
} from './encoder.js';
export { type ModernBertOptions } from './modernbert.js';
export { relativeBucket } from './mpnet.js';
export { type Qwen3Options } from './qwen3.js';
export { type Gemma3Options } from './gemma3.js';
export {
  type EncodeShape,
  type StepShape,
  type TrainStepBuild,
  type TrainStepOptions,
  buildEncode,
  buildTrainStep,
  trainStepGraph,
} from './graphs.js';
