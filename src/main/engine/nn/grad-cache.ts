// Gradient caching: Gao, Zhang, Han & Callan 2021, "Scaling Deep Contrastive Learning Batch
// Size under Memory Limited Setup" (RepL4NLP; arXiv:2101.06983). InfoNCE couples every row of
// the batch only through the embeddings, so the step splits (paper §3.2-3.3):
//   1. embed the rows in chunks, no graph state kept        -> E [S, D]
//   2. loss and u = dLoss/dE on E alone                     -> small: [S, D]
//   3. per chunk, forward again and backpropagate u:        -> Σ_chunks d(Σ E⊙u)/dθ = dLoss/dθ
//   4. clip + AdamW on the accumulated gradient, as trainStepGraph does.
// Only one chunk's activations are alive at a time, and the gradient is the big batch's (every
// query still sees all S rows as candidates), which gradient accumulation is not: it only
// averages small batches' gradients, each with its own few negatives.
// The runtime (runtime/grad-cache.ts) runs these; names are contract.ts GradCacheGraphs'.

import { EngineError } from '../../../shared/errors.js';
import { Graph, type Tensor, backward, ops as o, serialize } from '../graph/index.js';
import {
  type GradCacheGraph,
  type GradCacheGraphs,
  STEP_SCALARS,
  accName,
  nextName,
  stateNames,
} from '../runtime/contract.js';
import { FlatParams } from './flat-params.js';
import { type EncoderSpec, checkSpec, dataInputs, dropoutSites, encoderForward, fusedParams, paramSpecs, sentenceEmbedding } from './encoder.js';
import { type DropoutMasks, type TrainStepOptions, adamwScope, declareInputs, outputState } from './graphs.js';
import { infoNce } from './loss.js';

/** A grad-cache graph before serialisation (tests look inside). */
export interface GradCacheBuild extends Omit<GradCacheGraph, 'model'> {
  graph: Graph;
}

/** The step's row layout, as trainStepGraph's StepShape without the per-bucket sizes. */
export interface GradCacheLayout {
  /** N: mined negatives per query (0 for plain pairs). */
  negativesPerQuery: number;
  /** The loss graph takes 'negative_bias' [B·N] (graphs.ts StepShape.maskNegatives). */
  maskNegatives?: boolean;
}

export type GradCacheOptions = Omit<TrainStepOptions, 'exposeGradients'>;

export interface ChunkOptions {
  /** As TrainStepOptions.dropoutMasks. */
  dropoutMasks?: DropoutMasks;
  /** Chunk backward only: also output 'sentence_embedding', to check pass 3 replays pass 1 (tests). */
  exposeEmbedding?: boolean;
}

function checkInts(what: string, values: Record<string, number>, min = 1): void {
  for (const [k, v] of Object.entries(values)) {
    if (!(Number.isInteger(v) && v >= min)) throw new EngineError('BAD_INPUT', `${what}: ${k} = ${v} must be an integer >= ${min}`);
  }
}

/**
 * Parameters, data and keep-mask inputs for `rows` rows, and their normalised sentence
 * embeddings [rows, D]: the encoder as trainStepGraph runs it, so the dropout sites come in
 * its order with its shapes (batch axis first).
 */
function chunkForward(g: Graph, spec: EncoderSpec, rows: number, length: number, masks: DropoutMasks = 'graph') {
  checkInts('grad-cache chunk', { rows, length });
  checkSpec(spec, length);
  const params = paramSpecs(spec);
  const data = dataInputs(spec, rows, length);
  // The step's sites for these rows, masks computed in the graph from the chunk's first row.
  const dropout = dropoutSites(spec, rows, length);
  const { inputs, drop } = declareInputs(g, data, dropout, rows, true, masks);
  // The step graph's flat state (flat-params.ts), so the trainer's state feeds every pass.
  const flat = new FlatParams(g, params, (slot) => g.input(stateNames(slot.name).p, 'float32', slot.shape), fusedParams(spec));
  const P = flat.record();
  const hidden = g.scope('encoder', () => encoderForward(spec, P, inputs, drop)); // [rows, L, D]
  const e = g.scope('pool', () => sentenceEmbedding(spec, hidden, inputs.attentionMask, P)); // [rows, D]
  return { params, data, dropout, flat, e };
}

/** Pass 1: sentence embeddings of one chunk, forward only (the session keeps no activations). */
export function embedChunkGraph(spec: EncoderSpec, rows: number, length: number, opts: ChunkOptions = {}): GradCacheBuild {
  const g = new Graph('grad-cache-embed');
  const { params, data, dropout, flat, e } = chunkForward(g, spec, rows, length, opts.dropoutMasks);
  g.output(e, 'sentence_embedding');
  return { graph: g, params, data, dropout, dropoutInGraph: opts.dropoutMasks !== 'host', state: flat.slots };
}

/**
 * Pass 3: the chunk's forward again (same masks as pass 1, so the same E), then the gradient of
 * the surrogate Σ E⊙u, u = dLoss/dE held constant: by the chain rule that is the chunk's share
 * of dLoss/dθ (paper eq. 6). Added to the accumulators; the first chunk starts them with Where,
 * not 0·acc, so a NaN left by a failed earlier step cannot leak in.
 */
export function chunkBackwardGraph(spec: EncoderSpec, rows: number, length: number, opts: ChunkOptions = {}): GradCacheBuild {
  const g = new Graph('grad-cache-backward');
  const { params, data, dropout, flat, e } = chunkForward(g, spec, rows, length, opts.dropoutMasks);
  const u = g.input('embedding_grad', 'float32', e.shape);
  const first = g.input('first_chunk', 'bool', []);
  const acc = flat.slots.map((slot) => g.input(accName(slot.name), 'float32', slot.shape));
  const surrogate = g.scope('surrogate', () => o.reduceSum(o.mul(e, u))); // [rows, D] -> []
  const grads = flat.gradients(surrogate);
  g.scope('accumulate', () =>
    flat.slots.forEach((slot, i) => g.output(o.where(first, grads[i], o.add(acc[i], grads[i])), nextName(accName(slot.name)))),
  );
  if (opts.exposeEmbedding) g.output(e, 'sentence_embedding');
  return { graph: g, params, data, dropout, dropoutInGraph: opts.dropoutMasks !== 'host', state: flat.slots };
}

/**
 * Pass 2: InfoNCE over all S = B·(2+N) embeddings with trainStepGraph's row layout, bias and
 * temperature (its 'loss' scope, on an input instead of the encoder's output), and dLoss/dE.
 */
export function lossGraph(spec: EncoderSpec, queries: number, layout: GradCacheLayout, temperature = 0.05): GradCacheBuild {
  const b = queries;
  const n = layout.negativesPerQuery;
  checkInts('grad-cache loss', { queries: b });
  checkInts('grad-cache loss', { negativesPerQuery: n }, 0);
  if (!(temperature > 0)) throw new EngineError('BAD_INPUT', `temperature ${temperature} must be positive (sentence-transformers' scale 20 = 1 / 0.05)`);
  const rows = b * (2 + n);
  const g = new Graph('grad-cache-loss');
  const emb = g.input('embeddings', 'float32', [rows, spec.hidden]);
  const masked = layout.maskNegatives === true && n > 0;
  const negBias = masked ? g.input('negative_bias', 'float32', [b * n]) : null;
  const { loss } = g.scope('loss', () => {
    const q = o.slice(emb, [0], [b], [0]); // [B, D]
    const docs = o.slice(emb, [b], [rows], [0]); // [B + B·N, D]
    // [B] zeros for the positives, then the negatives' bias: [B + B·N].
    const bias = negBias ? o.concat([o.full(g, [b], 0, 'float32'), negBias], 0) : undefined;
    return infoNce(q, docs, temperature, bias);
  });
  const [grad] = backward(loss, [emb]);
  g.output(loss, 'loss');
  g.output(grad, 'embedding_grad');
  const data = masked ? [{ name: 'negative_bias', dtype: 'float32' as const, shape: [b * n] }] : [];
  return { graph: g, params: [], data, dropout: [] };
}

/** Pass 4: global-norm clipping and AdamW on the accumulated gradients (adamw.ts, non-finite skip included). */
export function updateGraph(spec: EncoderSpec, opts: GradCacheOptions = {}): GradCacheBuild {
  const maxGradNorm = opts.maxGradNorm ?? 1.0;
  if (!(maxGradNorm > 0)) throw new EngineError('BAD_INPUT', `maxGradNorm ${maxGradNorm} must be positive; use Infinity to turn clipping off`);
  const g = new Graph('grad-cache-update');
  const params = paramSpecs(spec);
  const input = (name: string, shape: number[]): Tensor => g.input(name, 'float32', shape);
  const flat = new FlatParams(g, params, (slot) => input(stateNames(slot.name).p, slot.shape));
  const state = flat.slots.map((slot, i) => {
    const names = stateNames(slot.name);
    return { p: flat.inputs[i], m: input(names.m, slot.shape), v: input(names.v, slot.shape), decay: flat.decays(i) };
  });
  const grads = flat.slots.map((slot) => input(accName(slot.name), slot.shape));
  const [stepSize, invBias2, decayFactor] = STEP_SCALARS.map((name) => input(name, []));
  const { gradNorm, next } = adamwScope(g, state, grads, { stepSize, invBias2, decayFactor }, { ...opts, maxGradNorm });
  g.output(gradNorm, 'grad_norm');
  outputState(g, flat.slots, next);
  return { graph: g, params, data: [], dropout: [], state: flat.slots };
}

/** The four graph builders runtime/grad-cache.ts needs, serialised; `opts` as trainStepGraph's. */
export function gradCacheGraphs(spec: EncoderSpec, layout: GradCacheLayout, opts: GradCacheOptions = {}): GradCacheGraphs {
  checkInts('grad-cache layout', { negativesPerQuery: layout.negativesPerQuery }, 0);
  const ser = ({ graph, ...rest }: GradCacheBuild, what: string): GradCacheGraph => ({
    model: serialize(graph, { docString: `embedsmith grad-cache ${what}` }),
    ...rest,
  });
  return {
    rowsPerQuery: 2 + layout.negativesPerQuery,
    embed: (rows, length) => ser(embedChunkGraph(spec, rows, length, { dropoutMasks: opts.dropoutMasks }), 'embed'),
    chunkBackward: (rows, length) => ser(chunkBackwardGraph(spec, rows, length, { dropoutMasks: opts.dropoutMasks }), 'chunk backward'),
    loss: (queries) => ser(lossGraph(spec, queries, layout, opts.temperature), 'loss'),
    update: () => ser(updateGraph(spec, opts), 'update'),
  };
}
