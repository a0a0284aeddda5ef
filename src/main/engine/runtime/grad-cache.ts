// The gradient-caching trainer (Gao et al. 2021, "Scaling Deep Contrastive Learning Batch Size
// under Memory Limited Setup"; graphs and the why in nn/grad-cache.ts): the Trainer interface
// of trainer.ts, with each optimizer step run as
//   pass 1  embed graph per chunk of `chunkRows` rows          -> E [S, D] on the host
//   pass 2  loss graph on E                                    -> loss, u = dLoss/dE [S, D]
//   pass 3  chunk-backward graph per chunk, u's rows fed       -> 'acc.<slot>' state
//   pass 4  update graph: clip + AdamW on the accumulators     -> p, m, v state, grad_norm
// so the memory is one chunk's activations, the result one big step's. Only E and u (S·D
// floats each: 3 MB at 2,048 rows × 384) cross to the host; accumulators stay with the state.
//
// Dropout: engine/nn's chunk graphs hash their masks in the graph from the step's key and the
// chunk's first row ('dropout_row0'), so they are rows of the one-graph step's masks. For
// graphs with JS-drawn masks: chunk k's masks are rows [k·c, (k+1)·c) of the very masks the plain trainer draws
// for the whole step (the same (seed, step, site) streams, entered at the chunk's first
// element: fillKeepMask's offset), redrawn in pass 3 rather than stored (a step's masks are
// ~0.6 M bytes a row at MiniLM × 64 tokens). So a step equals the plain step at any chunk size,
// dropout included, up to float32 summation order.

import { EngineError } from '../../../shared/errors.js';
import { type HostTensor, numel } from '../graph/dtype.js';
import { type GradCacheGraph, type GradCacheGraphs, type StateSlot, accName, nextName, stateSlots } from './contract.js';
import { dropoutKey, fillKeepMask } from './dropout.js';
import { dataFeeds, stateNameMaps } from './params.js';
import { type SessionKey, keyString } from './session-cache.js';
import type { Session } from './session.js';
import { stateOutputLocations } from './state.js';
import { type StepContext, type StepRunner, type Trainer, type TrainerBaseOptions, createTrainerWith } from './trainer.js';

export interface GradCacheTrainerOptions extends TrainerBaseOptions {
  /** The four graph builders (nn/grad-cache.ts gradCacheGraphs); each shape is built once, lazily. */
  graphs: GradCacheGraphs;
  /**
   * Rows per chunk in passes 1 and 3: the memory knob (a plain step of P pairs holds 2·P rows'
   * activations). A step's S = B·(2+N) rows need not divide by it: the last chunk repeats its
   * last row, with zero gradient, so one session per (chunkRows, length) serves every step.
   * Steps with fewer rows than this run as one chunk of S rows.
   */
  chunkRows: number;
}

export async function createGradCacheTrainer(opts: GradCacheTrainerOptions): Promise<Trainer> {
  if (!(Number.isInteger(opts.chunkRows) && opts.chunkRows >= 1)) {
    throw new EngineError('BAD_INPUT', `chunkRows ${opts.chunkRows} must be an integer >= 1, e.g. 128 for the memory of a 64-pair step`);
  }
  return createTrainerWith(opts, gradCacheRunner(opts.graphs, opts.chunkRows));
}

type Meta = Omit<GradCacheGraph, 'model'>;

function gradCacheRunner(graphs: GradCacheGraphs, chunkRows: number): StepRunner {
  const metas = new Map<string, Meta>();
  // One set of mask buffers per chunk shape, refilled per chunk: ort is done with a feed when run() resolves.
  const maskBuffers = new Map<string, Uint8Array[]>();

  async function open(ctx: StepContext, key: SessionKey, build: () => GradCacheGraph, hostOut: string[], stateOut: (m: Meta) => string[]) {
    const k = keyString(key);
    const session: Session = await ctx.cache.getOrCreate(key, () => {
      const { model, ...meta } = build();
      metas.set(k, meta);
      return { model, outputLocations: stateOutputLocations(ctx.device, stateOut(meta), hostOut) };
    });
    return { session, meta: metas.get(k)! };
  }

  return {
    async run(batch, shape, ctx) {
      const { state } = ctx;
      const b = shape.batch;
      const l = shape.length;
      const s = b * graphs.rowsPerQuery;
      const c = Math.min(chunkRows, s);
      const bucket = `${c}x${l}`;
      const accUpdates = (m: Meta) => Object.fromEntries(stateSlots(m).map((p) => [nextName(accName(p.name)), accName(p.name)]));
      const embed = await open(ctx, { kind: 'gc-embed', rows: c, length: l }, () => graphs.embed(c, l), ['sentence_embedding'], () => []);
      const back = await open(ctx, { kind: 'gc-backward', rows: c, length: l }, () => graphs.chunkBackward(c, l), [], (m) => Object.keys(accUpdates(m)));
      const loss = await open(ctx, { kind: 'gc-loss', queries: b }, () => graphs.loss(b), ['loss', 'embedding_grad'], () => []);
      const update = await open(ctx, { kind: 'gc-update' }, () => graphs.update(), ['grad_norm'], (m) => Object.keys(stateNameMaps(stateSlots(m)).updates));
      for (const g of [embed, back, update]) await ctx.useParams(g.meta, `grad-cache ${bucket}`);
      await ensureAccumulators(ctx, stateSlots(update.meta));
      const masks = maskViews(bucket, embed.meta, back.meta);

      // The whole step's inputs, checked once at their full size: [S, L] rows plus the loss graph's (negative_bias).
      const full = dataFeeds([...embed.meta.data.map((d) => ({ ...d, shape: [s, ...d.shape.slice(1)] })), ...loss.meta.data], batch);
      const chunks = Math.ceil(s / c);
      const chunkFeeds = (k: number): Record<string, HostTensor> => {
        const feeds: Record<string, HostTensor> = {};
        for (const d of embed.meta.data) feeds[d.name] = { dtype: d.dtype, shape: d.shape, data: rowsOf(full[d.name].data as Int32Array | Float32Array, k * c, c, s, 'repeat') } as HostTensor;
        if (embed.meta.dropoutInGraph) {
          if (embed.meta.dropout.length) {
            feeds.dropout_key = { dtype: 'int32', shape: [], data: new Int32Array([dropoutKey(ctx.seed, ctx.step)]) };
            feeds.dropout_row0 = { dtype: 'int32', shape: [], data: new Int32Array([k * c]) };
          }
          return feeds;
        }
        embed.meta.dropout.forEach((d, i) => {
          const perRow = numel(d.shape) / c; // [c, ...] batch axis first (contract.ts GradCacheGraphs)
          fillKeepMask(masks[i], d.p, ctx.seed, ctx.step, i, k * c * perRow);
          feeds[d.name] = { dtype: 'bool', shape: d.shape, data: masks[i] };
        });
        return feeds;
      };

      // Pass 1: embeddings, chunk by chunk; the session frees each chunk's activations.
      let emb: Float32Array | null = null;
      let dim = 0;
      for (let k = 0; k < chunks; k++) {
        const out = await state.run(embed.session, { feeds: chunkFeeds(k), updates: {}, fetch: ['sentence_embedding'] });
        const e = out.sentence_embedding;
        dim = e.shape[1];
        emb ??= new Float32Array(s * dim);
        emb.set((e.data as Float32Array).subarray(0, Math.min(c, s - k * c) * dim), k * c * dim); // [c, D] -> rows of [S, D]
      }
      // Pass 2: the loss and its gradient w.r.t. every embedding.
      const lossFeeds: Record<string, HostTensor> = { embeddings: { dtype: 'float32', shape: [s, dim], data: emb! } };
      for (const d of loss.meta.data) lossFeeds[d.name] = full[d.name];
      const l2 = await state.run(loss.session, { feeds: lossFeeds, updates: {}, fetch: ['loss', 'embedding_grad'] });
      const u = l2.embedding_grad.data as Float32Array;
      // Pass 3: the same chunks, the same masks, each with its rows of u; gradients summed into the accumulators.
      for (let k = 0; k < chunks; k++) {
        const feeds = chunkFeeds(k);
        feeds.embedding_grad = { dtype: 'float32', shape: [c, dim], data: rowsOf(u, k * c, c, s, 'zero', dim) };
        feeds.first_chunk = { dtype: 'bool', shape: [], data: new Uint8Array([k === 0 ? 1 : 0]) };
        await state.run(back.session, { feeds, updates: accUpdates(back.meta), fetch: [] });
      }
      // Pass 4: clip + AdamW; a non-finite norm leaves the state as it was (adamw.ts).
      const out = await state.run(update.session, { feeds: ctx.scalars, updates: stateNameMaps(stateSlots(update.meta)).updates, fetch: ['grad_norm'] });
      return { loss: l2.loss.data[0] as number, gradNorm: out.grad_norm.data[0] as number };
    },
  };

  function maskViews(bucket: string, embed: Meta, back: Meta): Uint8Array[] {
    const sig = (m: Meta) => m.dropout.map((d) => `${d.name}[${d.shape.join(',')}]${d.p}`).join(' ');
    if (sig(embed) !== sig(back)) {
      throw new EngineError('INTERNAL', `grad-cache embed and chunk-backward graphs for ${bucket} have other dropout sites: ${sig(embed)} vs ${sig(back)}`);
    }
    let views = maskBuffers.get(bucket);
    if (!views) maskBuffers.set(bucket, (views = embed.dropout.map((d) => new Uint8Array(numel(d.shape)))));
    return views;
  }
}

/** Zero accumulators on first use; their values never matter, since each step's first chunk overwrites them. */
async function ensureAccumulators(ctx: StepContext, slots: readonly StateSlot[]): Promise<void> {
  for (const s of slots) {
    if (!ctx.state.has(accName(s.name))) {
      await ctx.state.set(accName(s.name), { dtype: 'float32', shape: s.shape, data: new Float32Array(numel(s.shape)) });
    }
  }
}

/**
 * Rows [start, start + count) of a row-major [total, width] array; rows past `total` (the last
 * chunk's padding) repeat the last row (data: real inputs keep every op finite) or are 0 (the
 * gradient: padding rows then add exactly 0 to every accumulator).
 */
function rowsOf<T extends Int32Array | Float32Array>(a: T, start: number, count: number, total: number, pad: 'repeat' | 'zero', width = a.length / total): T {
  const real = Math.min(count, total - start);
  if (real === count) return a.subarray(start * width, (start + count) * width) as T;
  const out = (a instanceof Int32Array ? new Int32Array(count * width) : new Float32Array(count * width)) as T;
  out.set(a.subarray(start * width, (start + real) * width));
  if (pad === 'repeat') for (let r = real; r < count; r++) out.copyWithin(r * width, (real - 1) * width, real * width);
  return out;
}
