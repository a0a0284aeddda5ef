// The encoder: runs EncodeGraphs (contract.ts) per shape bucket with the parameters uploaded
// once to the device, returning sentence embeddings on the host.

import { EngineError } from '../../../shared/errors.js';
import type { BucketShape } from './buckets.js';
import type { EncodeGraph, ParamSpec } from './contract.js';
import { checkParamKeys, checkShape, dataFeeds, paramFromHost } from './params.js';
import { OneAtATime } from './one-at-a-time.js';
import { SessionCache } from './session-cache.js';
import type { Device } from './session.js';
import { StateStore } from './state.js';

export interface EncoderOptions {
  device: Device;
  /** Builds the encode graph for a shape bucket; called once per bucket, lazily. */
  buildEncode: (shape: BucketShape) => EncodeGraph;
  /** Parameters by HF checkpoint key; must match the graph's params exactly. */
  params: Map<string, Float32Array>;
  threads?: number;
  deterministic?: boolean;
}

export interface Encoder {
  readonly device: Device;
  /** Embeddings as float32 [batch, D], row-major (padded rows included: drop them with PaddedBatch.rows). */
  embed(data: Readonly<Record<string, Int32Array>>, shape: BucketShape): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export async function createEncoder(opts: EncoderOptions): Promise<Encoder> {
  const { device } = opts;
  const cache = new SessionCache({ device, threads: opts.threads, deterministic: opts.deterministic });
  const state = new StateStore(device);
  const graphs = new Map<string, Omit<EncodeGraph, 'model'>>();
  let specs: ParamSpec[] | null = null;
  const calls = new OneAtATime('encoder');

  async function embedOnce(data: Readonly<Record<string, Int32Array>>, shape: BucketShape): Promise<Float32Array> {
    checkShape(shape);
    const bucket = `${shape.batch}x${shape.length}`;
    const session = await cache.getOrCreate({ kind: 'encode', batch: shape.batch, length: shape.length, device }, () => {
      const { model, ...meta } = opts.buildEncode(shape);
      graphs.set(bucket, meta);
      return model;
    });
    const graph = graphs.get(bucket)!;
    if (!specs) {
      checkParamKeys(graph.params, opts.params, 'encoder parameters');
      for (const s of graph.params) await state.set(`p.${s.key}`, paramFromHost(s, opts.params, 'encoder parameters'));
      specs = graph.params;
    }
    const out = await state.run(session, { feeds: dataFeeds(graph.data, data), updates: {}, fetch: [graph.output] });
    const emb = out[graph.output];
    if (emb.dtype !== 'float32' || emb.shape.length !== 2 || emb.shape[0] !== shape.batch) {
      throw new EngineError('INTERNAL', `'${graph.output}' came back ${emb.dtype} [${emb.shape.join(', ')}], not float32 [${shape.batch}, D]`);
    }
    return emb.data as Float32Array;
  }

  return {
    device,
    embed(data, shape) {
      return calls.run(() => embedOnce(data, shape));
    },
    async dispose() {
      if (!(await calls.close())) return;
      await cache.releaseAll();
      await state.dispose();
    },
  };
}
