// The two graphs the runtime runs (runtime/contract.ts): one training step — forward, the loss
// (step-loss.ts: InfoNCE unless a train/losses unit gives another), backward, clipping and AdamW in ONE ONNX graph (DESIGN §3) — and the encoder alone.
// Names are the contract's: flat state 'p.<slot>' / 'm.<slot>' / 'v.<slot>' in (flat-params.ts),
// '<name>.next' out; scalars adam_step_size, adam_inv_bias2, decay_factor; outputs loss and
// grad_norm. The encoder graph takes one 'p.<key>' per parameter.

import { EngineError } from '../../../shared/errors.js';
import { Graph, ops as o, serialize } from '../graph/index.js';
import {
  type DataInputSpec,
  type DropoutSpec,
  type EncodeGraph,
  type ParamSpec,
  type StepGraph,
  STEP_SCALARS,
  nextName,
  stateNames,
} from '../runtime/contract.js';
import { adamwUpdate } from './adamw.js';
import { FlatParams } from './flat-params.js';
import { DeviceDropout } from './device-dropout.js';
import { type DropoutFn, type EncoderSpec, checkSpec, dataInputs, dropoutSites, encoderForward, fusedParams, paramSpecs, sentenceEmbedding } from './encoder.js';
import { type MatryoshkaDim, type Scale, matryoshkaLoss } from './loss.js';
import { INFONCE_STEP, type StepLoss } from './step-loss.js';
import { type GraphPrecision, precisionGradients, withPrecision } from './mixed-precision.js';
import type { LoraSpec } from './lora.js';
import { loraRecord, loraStep } from './lora-step.js';

export type DropoutMasks = 'graph' | 'host';

/** The learned-temperature parameter: log of the similarity scale (CLIP's logit_scale), not decayed. */
export const LOGIT_SCALE_KEY = 'loss.logit_scale';
/** CLIP's cap on the learned scale (a temperature no lower than 0.01). */
export const MAX_SCALE = 100;

export interface StepShape {
  /** B: queries (= positives) per step; texts per step for supcon; pairs for cosent. */
  queries: number;
  /** N: mined negatives per query (0 for plain pairs). */
  negativesPerQuery: number;
  /** L: padded sequence length of every row. */
  length: number;
  /**
   * Adds a float32 data input 'negative_bias' [B·N], added to the negative columns' scores:
   * 0 for a real negative, NEGATIVE_FILL for a filler slot of a query that has fewer mined
   * negatives than N (the runtime feeds an empty text there).
   */
  maskNegatives?: boolean;
  /**
   * Adds a float32 data input 'guide_bias' [B, B + B·N], added to every query's candidate
   * scores: NEGATIVE_FILL where a guide model ranks the candidate above the query's positive
   * (train/guide.ts, GISTEmbed), 0 elsewhere. InfoNCE only.
   */
  guided?: boolean;
}

/** The bias of a filler negative slot: exp(-1e4) is exactly 0 in float32. */
export const NEGATIVE_FILL = -1e4;

export interface TrainStepOptions {
  /** Cosine similarities are divided by this (sentence-transformers' scale 20 = 1 / 0.05). */
  temperature?: number;
  /** Global-norm clipping threshold, torch semantics; Infinity turns clipping off. */
  maxGradNorm?: number;
  betas?: readonly [number, number];
  eps?: number;
  /** Also output 'grad.<key>' (the raw, pre-clip gradient of every parameter), for tests. */
  exposeGradients?: boolean;
  /** Leave the state unchanged on a non-finite gradient norm (default true; adamw.ts). */
  skipNonFinite?: boolean;
  /** The loss and its row layout (step-loss.ts; train/losses/<name>.ts); default InfoNCE. */
  loss?: StepLoss;
  /** InfoNCE both ways (queries → documents and positives → queries), averaged. */
  symmetric?: boolean;
  /**
   * Where the dropout keep masks come from: 'graph' (default) hashes them in the graph
   * (device-dropout.ts); 'host' takes them as bool inputs drawn in JS (runtime/dropout.ts),
   * which the 2-core CPU EP runs faster: the hash is ~20 int32 passes over every mask element.
   */
  dropoutMasks?: DropoutMasks;
  /** Train the temperature too: a parameter LOGIT_SCALE_KEY [1] (feed log(1/temperature) at the start). */
  learnTemperature?: boolean;
  /** Matryoshka widths: the loss at each prefix width, weighted and summed (loss.ts matryoshkaLoss). */
  matryoshka?: readonly MatryoshkaDim[];
  /** 'fp16': float16 encoder with a fed loss scale (nn/mixed-precision.ts); default 'fp32'. */
  precision?: GraphPrecision;
  /** LoRA (nn/lora-step.ts): only the adapters train; the base weights are frozen inputs. */
  lora?: LoraSpec;
}

/** A step graph before serialisation, for callers that want the graph itself (tests, benches). */
export interface TrainStepBuild extends Omit<StepGraph, 'model'> {
  graph: Graph;
}

/**
 * Input tensors for the data, and a DropoutFn: masks computed in the graph for `dropout`'s
 * sites (device-dropout.ts; none: no dropout). `chunked`: grad-cache's chunk graphs.
 */
export function declareInputs(g: Graph, data: DataInputSpec[], dropout: readonly DropoutSpec[], rows: number, chunked = false, masks: DropoutMasks = 'graph') {
  const t = Object.fromEntries(data.map((d) => [d.name, g.input(d.name, d.dtype, d.shape)]));
  const device = dropout.length && masks === 'graph' ? new DeviceDropout(g, dropout, rows, chunked) : null;
  const drop: DropoutFn = (site, shape, p) => {
    if (device) return device.mask(site, shape, p);
    return dropout.length ? { keep: g.input(site, 'bool', shape), p } : null; // 'host': a bool input per site
  };
  return {
    inputs: { inputIds: t.input_ids, attentionMask: t.attention_mask, tokenTypeIds: t.token_type_ids },
    drop,
  };
}

/**
 * The training-step graph. Its data rows are the loss's (StepLoss.rows): InfoNCE's S = B·(2+N)
 * are [queries; positives; negatives query-major (q0n0, q0n1, …, q1n0, …)].
 */
export function trainStepGraph(spec: EncoderSpec, shape: StepShape, opts: TrainStepOptions = {}): TrainStepBuild {
  const { queries: b, negativesPerQuery: n, length: l } = shape;
  if (!(b >= 1 && n >= 0 && l >= 1 && [b, n, l].every(Number.isInteger))) {
    throw new EngineError('BAD_INPUT', `step shape ${JSON.stringify(shape)} needs integers queries >= 1, negativesPerQuery >= 0, length >= 1`);
  }
  checkSpec(spec, l);
  const temperature = opts.temperature ?? 0.05;
  const maxGradNorm = opts.maxGradNorm ?? 1.0;
  if (!(temperature > 0) || !(maxGradNorm > 0)) {
    throw new EngineError('BAD_INPUT', `temperature (${temperature}) and maxGradNorm (${maxGradNorm}) must be positive; use Infinity to turn clipping off`);
  }
  const loss = opts.loss ?? INFONCE_STEP;
  if (!loss.candidates && n > 0) throw new EngineError('BAD_INPUT', `the ${loss.name} loss takes no mined negatives (got ${n} per query); mine only for pairs/triplets`);
  const rows = loss.rows(shape);
  const g = new Graph('train-step');
  const lora = opts.lora ? loraStep(paramSpecs(spec), opts.lora) : null;
  const params = lora ? lora.params : paramSpecs(spec);
  if (opts.learnTemperature) params.push({ key: LOGIT_SCALE_KEY, shape: [1], decay: false });
  const data = dataInputs(spec, rows, l);
  const dropout = dropoutSites(spec, rows, l);
  const { inputs, drop } = declareInputs(g, data, dropout, rows, false, opts.dropoutMasks);
  if (shape.guided && !loss.candidates) throw new EngineError('BAD_INPUT', `a guide model masks InfoNCE candidates; the ${loss.name} loss has none`, { setting: 'guide' });
  // The loss's own inputs (filler and guide masks, SupCon's label weights, CoSENT's gold order), after the tokens.
  const lossInputs = Object.fromEntries(loss.inputs(shape).map((d) => {
    data.push(d);
    return [d.name, g.input(d.name, d.dtype, d.shape)];
  }));
  const flat = new FlatParams(g, params, (slot) => g.input(stateNames(slot.name).p, 'float32', slot.shape), lora ? [] : fusedParams(spec));
  const state = flat.slots.map((slot, i) => {
    const names = stateNames(slot.name);
    return { p: flat.inputs[i], m: g.input(names.m, 'float32', slot.shape), v: g.input(names.v, 'float32', slot.shape), decay: flat.decays(i) };
  });
  const [stepSize, invBias2, decayFactor] = STEP_SCALARS.map((name) => g.input(name, 'float32', []));
  const P = lora ? loraRecord(g, lora, opts.lora!, flat.record()) : flat.record();

  const hidden = g.scope('encoder', () => withPrecision(g, opts.precision, () => encoderForward(spec, P, inputs, drop))); // [S, L, D]
  const value = g.scope('loss', () => {
    const e = sentenceEmbedding(spec, hidden, inputs.attentionMask, P); // [S, D]
    const learned = opts.learnTemperature ? o.min(o.exp(P[LOGIT_SCALE_KEY]), MAX_SCALE) : null; // [1]
    const scale: Scale = learned ? { scale: learned } : { temperature };
    const lossOf = loss.build({ g, shape, inputs: lossInputs, scale, temperature, learned, symmetric: opts.symmetric === true });
    return opts.matryoshka?.length ? matryoshkaLoss(e, opts.matryoshka, lossOf) : lossOf(e);
  });
  const grads = precisionGradients(value, opts.precision, (l) => flat.gradients(l));
  const { gradNorm, next } = adamwScope(g, state, grads, { stepSize, invBias2, decayFactor }, { ...opts, maxGradNorm });

  g.output(value, 'loss');
  g.output(gradNorm, 'grad_norm');
  outputState(g, flat.slots, next);
  if (opts.exposeGradients) for (const ps of params) g.output(flat.entryOf(grads, ps.key), `grad.${ps.key}`);
  return { graph: g, params, data, dropout, dropoutInGraph: opts.dropoutMasks !== 'host', state: flat.slots, ...(lora ? { frozen: lora.frozen } : {}) };
}

/** AdamW with clipping in the graph's 'adamw' scope (adamw.ts), with trainStepGraph's defaults; grad-cache's update graph shares it. */
export function adamwScope(g: Graph, state: Parameters<typeof adamwUpdate>[0], grads: Parameters<typeof adamwUpdate>[1], scalars: Parameters<typeof adamwUpdate>[2], opts: Pick<TrainStepOptions, 'betas' | 'eps' | 'skipNonFinite'> & { maxGradNorm: number }) {
  return g.scope('adamw', () =>
    adamwUpdate(state, grads, scalars, {
      maxGradNorm: opts.maxGradNorm,
      betas: opts.betas ?? [0.9, 0.999],
      eps: opts.eps ?? 1e-8,
      skipNonFinite: opts.skipNonFinite,
    }),
  );
}

/** The updated parameters and moments as the contract's '<name>.next' outputs, slot by slot. */
export function outputState(g: Graph, slots: readonly { name: string }[], next: ReturnType<typeof adamwUpdate>['next']): void {
  slots.forEach((slot, i) => {
    const names = stateNames(slot.name);
    g.output(next[i].p, nextName(names.p));
    g.output(next[i].m, nextName(names.m));
    g.output(next[i].v, nextName(names.v));
  });
}

/** The serialised training step (contract.ts StepGraph). */
export function buildTrainStep(spec: EncoderSpec, shape: StepShape, opts: TrainStepOptions = {}): StepGraph {
  const { graph, ...rest } = trainStepGraph(spec, shape, opts);
  return { model: serialize(graph, { docString: 'embedsmith training step' }), ...rest };
}

export interface EncodeShape {
  batch: number;
  length: number;
}

/**
 * The encoder for embedding: inputs 'p.<key>' and the data; outputs sentence_embedding [B, D]
 * (pooled and normalised as the spec says) and token_embeddings [B, L, D] (the last hidden
 * state, as sentence-transformers names it). No dropout. `precision` fp16 runs the encoder under
 * the float16 autocast policy (nn/mixed-precision.ts); the outputs stay float32.
 */
export function buildEncode(spec: EncoderSpec, shape: EncodeShape, precision: GraphPrecision = 'fp32'): EncodeGraph {
  const { batch, length } = shape;
  if (!(batch >= 1 && length >= 1 && Number.isInteger(batch) && Number.isInteger(length))) {
    throw new EngineError('BAD_INPUT', `encode shape ${JSON.stringify(shape)} needs integers batch >= 1, length >= 1`);
  }
  checkSpec(spec, length);
  const g = new Graph('encode');
  const params: ParamSpec[] = paramSpecs(spec);
  const data = dataInputs(spec, batch, length);
  const { inputs } = declareInputs(g, data, [], batch);
  const P = Object.fromEntries(params.map((ps) => [ps.key, g.input(stateNames(ps.key).p, 'float32', ps.shape)]));
  const hidden = g.scope('encoder', () => withPrecision(g, precision, () => encoderForward(spec, P, inputs)));
  g.output(g.scope('pool', () => sentenceEmbedding(spec, hidden, inputs.attentionMask, P)), 'sentence_embedding');
  g.output(hidden, 'token_embeddings');
  return { model: serialize(g, { docString: 'embedsmith encoder' }), params, data, output: 'sentence_embedding' };
}

