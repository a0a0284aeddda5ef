// The contract between graph builders (engine/nn) and the runtime that runs them
// (engine/runtime): what a training-step graph and an encoder graph take and give, by name.
// nn implements it, runtime's trainer and encoder consume it; neither knows the other's insides.

import type { HostTensor } from '../graph/dtype.js';

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
 * A dropout site. In graphs with `dropoutInGraph` (engine/nn's) the graph computes its keep
 * mask itself from the int32 scalar input 'dropout_key' (the runtime feeds
 * runtime/dropout.ts dropoutKey(seed, step)) and, in grad-cache chunk graphs, 'dropout_row0'
 * (the chunk's first batch row). Otherwise it is a bool input (true = keep, 1 byte per
 * element) fed with a JS-drawn mask (runtime/dropout.ts), which depends on (seed, step, this
 * spec's index) alone. Either way the graph scales kept elements by 1/(1-p) itself.
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
   * Every trained parameter. State inputs are 'p.<slot>', 'm.<slot>', 'v.<slot>' (float32,
   * the slot's shape; `state` says what the slots are), outputs 'p.<slot>.next' and so on.
   */
  params: ParamSpec[];
  /** e.g. input_ids, attention_mask, token_type_ids: int32 [S, L]. */
  data: DataInputSpec[];
  /** [] when dropout is 0. */
  dropout: DropoutSpec[];
  /** The graph computes its keep masks from 'dropout_key' (see DropoutSpec); else they are bool inputs. */
  dropoutInGraph?: boolean;
  /**
   * How parameters and moments are held as state tensors: flat buffers ('p.flat.decay', ...,
   * engine/nn's graphs) or one tensor per key ('p.<key>', the toy graph). Absent: per key.
   */
  state?: StateSlot[];
  /**
   * Parameters the graph reads but does not train (LoRA's base weights, nn/lora-step.ts):
   * float32 inputs 'frozen.<key>' (frozenName), kept on the device like state but with no
   * moments and no '.next' output. Absent: none.
   */
  frozen?: ParamSpec[];
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

/**
 * One state tensor of each kind (p, m, v, and grad-cache's acc): its name after the kind's
 * prefix, and where each parameter lives in it. A flat slot is 1-D, entries packed in
 * ParamSpec order without gaps; a per-key slot holds one entry with the parameter's shape.
 */
export interface StateSlot {
  name: string;
  shape: number[];
  entries: { key: string; shape: number[]; offset: number }[];
}

/**
 * A flat slot's length is a multiple of this: the zero tail (never read, its gradient 0, so
 * AdamW leaves it 0) lets the gradient norm sum in two stages over [n / FLAT_BLOCK, FLAT_BLOCK]
 * rows, whose float32 rounding error is that of per-tensor sums, not of one 22 M-term sum.
 */
export const FLAT_BLOCK = 1024;

/**
 * Flat state: one float32 buffer per weight-decay group ('flat.decay', 'flat.no_decay'), each
 * parameter a contiguous range in ParamSpec order, then zeros up to a multiple of FLAT_BLOCK.
 * The optimiser then runs over two tensors instead of ~100 (a handful of dispatches, not 16
 * per tensor), and parameters that sit next to each other in a group (a layer's q, k, v
 * weights) can be read as one tensor.
 */
export function flatSlots(params: readonly ParamSpec[]): StateSlot[] {
  const slots: StateSlot[] = [];
  for (const [name, decay] of [['flat.decay', true], ['flat.no_decay', false]] as const) {
    let offset = 0;
    const entries = params.filter((p) => p.decay === decay).map((p) => {
      const e = { key: p.key, shape: [...p.shape], offset };
      offset += p.shape.reduce((a, b) => a * b, 1);
      return e;
    });
    if (entries.length) slots.push({ name, shape: [Math.ceil(offset / FLAT_BLOCK) * FLAT_BLOCK], entries });
  }
  return slots;
}

/** One slot per parameter, named by its key: the state layout of graphs that declare none. */
export function perKeySlots(params: readonly ParamSpec[]): StateSlot[] {
  return params.map((p) => ({ name: p.key, shape: [...p.shape], entries: [{ key: p.key, shape: [...p.shape], offset: 0 }] }));
}

/** A graph's state layout (StepGraph.state, per key when it declares none). */
export const stateSlots = (g: Pick<StepGraph, 'params' | 'state'>): StateSlot[] => g.state ?? perKeySlots(g.params);

/** The slot's values packed from per-key arrays (which the caller has checked for size). */
export function packSlot(slot: StateSlot, values: ReadonlyMap<string, Float32Array>): Float32Array {
  const only = slot.entries.length === 1 ? values.get(slot.entries[0].key)! : null;
  if (only && only.length === slot.shape.reduce((a, b) => a * b, 1)) return only;
  const out = new Float32Array(slot.shape.reduce((a, b) => a * b, 1));
  for (const e of slot.entries) out.set(values.get(e.key)!, e.offset);
  return out;
}

/** Per-key copies of a slot's values, added to `into`. */
export function unpackSlot(slot: StateSlot, data: Float32Array, into: Map<string, Float32Array>): Map<string, Float32Array> {
  for (const e of slot.entries) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    into.set(e.key, data.slice(e.offset, e.offset + n));
  }
  return into;
}

/** The state kinds a step graph feeds per slot: parameters, AdamW moments, gradient accumulators. */
export type StateKind = 'p' | 'm' | 'v' | 'acc';

/**
 * Feeds '<kind>.<slot>' for every kind given, packed from per-key values (flat slots): for
 * running a step graph by hand (benches, tests) with per-key references such as torch fixtures.
 */
export function flatFeeds(params: readonly ParamSpec[], values: Partial<Record<StateKind, ReadonlyMap<string, Float32Array>>>): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const slot of flatSlots(params)) {
    for (const [kind, map] of Object.entries(values)) {
      out[`${kind}.${slot.name}`] = { dtype: 'float32', shape: slot.shape, data: packSlot(slot, map) };
    }
  }
  return out;
}

/** Per-key values of `kind` from tensors named '<kind>.<slot><suffix>' (e.g. suffix '.next' for a step's outputs). */
export function flatValues(params: readonly ParamSpec[], tensors: Readonly<Record<string, HostTensor>>, kind: StateKind, suffix = ''): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const slot of flatSlots(params)) unpackSlot(slot, tensors[`${kind}.${slot.name}${suffix}`].data as Float32Array, out);
  return out;
}

export const STEP_SCALARS = ['adam_step_size', 'adam_inv_bias2', 'decay_factor'] as const;
/**
 * The float32 scalar input of a mixed-precision step graph (nn/mixed-precision.ts): the loss is
 * multiplied by it before backward and the gradients divided by it after. fp32 graphs lack it.
 */
export const LOSS_SCALE = 'loss_scale';
/** The p, m, v state names of a slot (or of a key, in per-key state). */
export const stateNames = (slot: string) => ({ p: `p.${slot}`, m: `m.${slot}`, v: `v.${slot}` });
export const nextName = (name: string) => `${name}.next`;
/** The input name of a frozen parameter (StepGraph.frozen). */
export const frozenName = (key: string) => `frozen.${key}`;

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
  /** Pass 1: the step's state inputs 'p.<slot>', data [rows, L], keep masks; output 'sentence_embedding' [rows, D]. No backward. */
  embed(rows: number, length: number): GradCacheGraph;
  /**
   * Pass 3: embed's inputs plus 'embedding_grad' [rows, D] (dLoss/dE from pass 2), 'acc.<slot>'
   * (one per state slot, shaped as it) and bool 'first_chunk' []; outputs 'acc.<slot>.next' =
   * (first_chunk ? 0 : acc) + this chunk's gradient.
   */
  chunkBackward(rows: number, length: number): GradCacheGraph;
  /** Pass 2: 'embeddings' [S, D] and `data` (e.g. negative_bias) → 'loss' [], 'embedding_grad' [S, D]. */
  loss(queries: number): GradCacheGraph;
  /** Pass 4: 'p.', 'm.', 'v.', 'acc.<slot>' and STEP_SCALARS → StepGraph's state outputs and 'grad_norm'. */
  update(): GradCacheGraph;
}

/** A grad-cache graph has a StepGraph's fields (params [] for the loss graph); its inputs and outputs are as named above. */
export type GradCacheGraph = StepGraph;

/** The gradient accumulator of a state slot, kept with the state between passes 3 and 4. */
export const accName = (slot: string) => `acc.${slot}`;
