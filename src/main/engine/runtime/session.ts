// The one place that imports onnxruntime-node (DESIGN §2). A session wraps one serialised
// graph; feeds and results are HostTensors (dtype, shape, typed array), so callers never see
// ort types. Later: WebGPU/CUDA providers, gpu-buffer outputs for training state, caches.

import * as ort from 'onnxruntime-node';
import { EngineError } from '../../../shared/errors.js';
import { type DType, type HostTensor, type TypedArrayOf, numel } from '../graph/dtype.js';

export type Device = 'cpu';

export interface SessionOptions {
  device: Device;
  /** Intra-op threads; default: onnxruntime's choice (one per physical core). */
  threads?: number;
  /**
   * Same inputs give bit-identical outputs: sequential execution and onnxruntime's
   * session.use_deterministic_compute. Reductions split across threads can still change
   * with `threads`, so pin that too when comparing runs.
   */
  deterministic?: boolean;
}

export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph; `fetches` limits which outputs are computed and returned (default all). */
  run(feeds: Readonly<Record<string, HostTensor>>, fetches?: readonly string[]): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

const DTYPES: Record<string, DType> = {
  float32: 'float32',
  float16: 'float16',
  float64: 'float64',
  int32: 'int32',
  int64: 'int64',
  bool: 'bool',
};

function toOrt(name: string, t: HostTensor): ort.Tensor {
  if (t.data.length !== numel(t.shape)) {
    throw new EngineError('BAD_INPUT', `feed '${name}': ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  }
  return new ort.Tensor(t.dtype, t.data, t.shape);
}

function fromOrt(name: string, v: ort.OnnxValue): HostTensor {
  const t = v as ort.Tensor;
  const dtype = DTYPES[t.type];
  if (!dtype) throw new EngineError('UNSUPPORTED', `output '${name}' has dtype ${t.type}, which the engine does not use`);
  let data = t.data as TypedArrayOf[DType];
  // ort may hand float16 back as a Float16Array where the runtime has one; keep raw bits.
  if (dtype === 'float16' && !(data instanceof Uint16Array)) {
    const view = data as unknown as ArrayBufferView;
    data = new Uint16Array(view.buffer, view.byteOffset, view.byteLength / 2);
  }
  return { dtype, shape: [...t.dims], data };
}

export async function createSession(model: Uint8Array, opts: SessionOptions): Promise<Session> {
  if (opts.device !== 'cpu') {
    throw new EngineError('NOT_IMPLEMENTED', `device '${String(opts.device)}' arrives with the GPU runtime; use 'cpu'`);
  }
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...(opts.threads !== undefined ? { intraOpNumThreads: opts.threads } : {}),
    ...(opts.deterministic
      ? { executionMode: 'sequential', extra: { session: { use_deterministic_compute: '1' } } }
      : {}),
  };
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, options);
  } catch (err) {
    throw new EngineError('INTERNAL', `onnxruntime rejected the model: ${(err as Error).message}`);
  }
  const inputNames = [...session.inputNames];
  const outputNames = [...session.outputNames];

  return {
    inputNames,
    outputNames,
    async run(feeds, fetches = outputNames) {
      const missing = inputNames.filter((n) => !(n in feeds));
      const unknown = Object.keys(feeds).filter((n) => !inputNames.includes(n));
      if (missing.length || unknown.length) {
        throw new EngineError(
          'BAD_INPUT',
          `feeds do not match the graph inputs: missing [${missing.join(', ')}], unknown [${unknown.join(', ')}]`,
        );
      }
      const badFetch = fetches.find((n) => !outputNames.includes(n));
      if (badFetch !== undefined) {
        throw new EngineError('BAD_INPUT', `'${badFetch}' is not an output; outputs are: ${outputNames.join(', ')}`);
      }
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrt(name, t);
      let results: ort.InferenceSession.ReturnType;
      try {
        results = await session.run(ortFeeds, [...fetches]);
      } catch (err) {
        throw new EngineError('INTERNAL', `onnxruntime run failed: ${(err as Error).message}`);
      }
      const out: Record<string, HostTensor> = {};
      for (const name of fetches) out[name] = fromOrt(name, results[name]);
      return out;
    },
    release: () => session.release(),
  };
}
