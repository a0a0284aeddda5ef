// The contract between graph builders (engine/nn) and the runtime that runs them
// (engine/runtime): what a training-step graph and an encoder graph take and give, by name.
// nn implements it, runtime's trainer and encoder consume it; neither knows the other's insides.

export interface ParamSpec {
  /** The Hugging Face checkpoint key, e.g. 'encoder.layer.0.attention.self.query.weight'. */
  key: string;
  shape: number[];
  /** AdamW weight decay applies (false for biases and LayerNorm weights). */
  decay: boolean;
}

export interface DataInputSpec {
  name: string;
  dtype: 'int32' | 'float32';
  shape: number[];
}

/**
 * An input fed with a JS-generated keep mask (runtime/dropout.ts): bool, true = keep, 1 byte
 * per element. The graph scales kept elements by 1/(1-p) itself (a constant), so the runtime
 * feeds only which elements survive. Masks depend on (seed, step, this spec's index) alone.
 */
export interface DropoutSpec {
  name: string;
  shape: number[];
  /** Drop probability in (0, 1). */
  p: number;
}

export interface StepGraph {
  /** Serialised ONNX. */
  model: Uint8Array;
  /**
   * State inputs 'p.<key>', 'm.<key>', 'v.<key>' (float32, the param's shape);
   * state outputs 'p.<key>.next', 'm.<key>.next', 'v.<key>.next'.
   */
  params: ParamSpec[];
  /** e.g. input_ids, attention_mask, token_type_ids: int32 [S, L]. */
  data: DataInputSpec[];
  /** [] when dropout is 0. */
  dropout: DropoutSpec[];
  // Scalar float32 inputs, shape []: 'adam_step_size' = lr/(1-β1^t),
  // 'adam_inv_bias2' = 1/sqrt(1-β2^t), 'decay_factor' = 1-lr·wd.
  // Scalar float32 outputs: 'loss', 'grad_norm' (global norm BEFORE clipping).
}

export interface EncodeGraph {
  model: Uint8Array;
  /** Inputs 'p.<key>'. */
  params: ParamSpec[];
  data: DataInputSpec[];
  /** float32 [B, D]. */
  output: 'sentence_embedding';
}

export const STEP_SCALARS = ['adam_step_size', 'adam_inv_bias2', 'decay_factor'] as const;
export const stateNames = (key: string) => ({ p: `p.${key}`, m: `m.${key}`, v: `v.${key}` });
export const nextName = (name: string) => `${name}.next`;

/**
 * Gradient caching (Gao et al. 2021; nn/grad-cache.ts builds, runtime/grad-cache.ts runs): one
 * optimizer step as four graphs, so only one chunk's activations are alive at a time.
 * Chunk graphs take the step's rows [queries; positives; negatives] in chunks of `rows`; their
 * dropout sites are the step graph's, in its order, with the batch axis first, so a chunk's
 * masks are row slices of the masks the one-graph step would draw.
 */
export interface GradCacheGraphs {
  /** Rows per query in the step's layout (2 + N): a step of B queries has B·rowsPerQuery rows. */
  rowsPerQuery: number;
  /** Pass 1: inputs 'p.<key>', data [rows, L], keep masks; output 'sentence_embedding' [rows, D]. No backward. */
  embed(rows: number, length: number): GradCacheGraph;
  /**
   * Pass 3: embed's inputs plus 'embedding_grad' [rows, D] (dLoss/dE from pass 2), 'acc.<key>'
   * and bool 'first_chunk' []; outputs 'acc.<key>.next' = (first_chunk ? 0 : acc) + this chunk's gradient.
   */
  chunkBackward(rows: number, length: number): GradCacheGraph;
  /** Pass 2: 'embeddings' [S, D] and `data` (e.g. negative_bias) → 'loss' [], 'embedding_grad' [S, D]. */
  loss(queries: number): GradCacheGraph;
  /** Pass 4: 'p.', 'm.', 'v.', 'acc.<key>' and STEP_SCALARS → StepGraph's state outputs and 'grad_norm'. */
  update(): GradCacheGraph;
}

/** A grad-cache graph has a StepGraph's fields (params [] for the loss graph); its inputs and outputs are as named above. */
export type GradCacheGraph = StepGraph;

/** The gradient accumulator of a parameter, kept with the state between passes 3 and 4. */
export const accName = (key: string) => `acc.${key}`;
