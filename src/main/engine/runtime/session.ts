// The one place that imports onnxruntime-node (DESIGN §2). A session wraps one serialised
// graph on one execution provider. `run` takes and gives HostTensors (dtype, shape, typed
// array); `runTensors` takes and gives DeviceTensors (ort tensors, possibly living on the GPU)
// for the state store, which keeps training state on the device between steps.

import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { EngineError } from '../../../shared/errors.js';
import { type DType, type HostTensor, type TypedArrayOf, numel } from '../graph/dtype.js';

export type Device = 'cpu' | 'webgpu' | 'cuda';
export const DEVICES: readonly Device[] = ['cpu', 'webgpu', 'cuda'];
/** The onnxruntime version in use, for model cards and reports. */
export const ONNXRUNTIME_VERSION: string = ort.env.versions.node ?? ort.env.versions.common;

/**
 * Where an output is left: 'cpu' (host memory, readable) or 'gpu-buffer' (WebGPU device
 * memory: feed it to the next run, read it only through state.ts's Identity session, since
 * `getData()` on such a tensor aborts the process in onnxruntime-node 1.30; DESIGN §3).
 */
export type OutputLocation = 'cpu' | 'gpu-buffer';

/** An ort tensor, host or device. Only runtime code touches its insides. */
export type DeviceTensor = ort.Tensor;

export interface SessionOptions {
  device: Device;
  /** Intra-op threads; default os.availableParallelism() (logical cores). */
  threads?: number;
  /**
   * Sequential execution plus onnxruntime's `session.use_deterministic_compute`, which makes
   * kernels that have a deterministic variant use it (CUDA reductions, cuDNN algorithm
   * search). Same inputs, same `threads`, same device then give the same outputs on the CPU
   * EP. It does not make results equal across thread counts (reductions split differently),
   * across devices, or across onnxruntime versions; on WebGPU it changes nothing we rely on.
   */
  deterministic?: boolean;
  /** Per-output location; unlisted outputs go to 'cpu'. 'gpu-buffer' is honoured on webgpu only. */
  outputLocations?: Readonly<Record<string, OutputLocation>>;
  /** onnxruntime's log level for this session: 'verbose' prints node placement to stderr. */
  logLevel?: 'verbose' | 'info' | 'warning' | 'error' | 'fatal';
  /** Enables onnxruntime's profiler; `endProfiling()` writes `<prefix>_<date>.json`. */
  profilePrefix?: string;
}

export interface Session {
  readonly device: Device;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph; `fetches` limits which outputs are computed and returned (default all). */
  run(feeds: Readonly<Record<string, HostTensor>>, fetches?: readonly string[]): Promise<Record<string, HostTensor>>;
  /** As `run`, with ort tensors in and out; the caller owns (and disposes) the outputs. */
  runTensors(feeds: Readonly<Record<string, DeviceTensor>>, fetches: readonly string[]): Promise<Record<string, DeviceTensor>>;
  /** Writes the profile file (see `profilePrefix`). */
  endProfiling(): void;
  release(): Promise<void>;
}

const LOG_LEVEL = { verbose: 0, info: 1, warning: 2, error: 3, fatal: 4 } as const;

const DTYPES: Record<string, DType> = {
  float32: 'float32',
  float16: 'float16',
  float64: 'float64',
  int32: 'int32',
  int64: 'int64',
  bool: 'bool',
};

/** Whether the underlying ort build has this provider compiled in (CUDA is a separate download). */
export function providerBundled(device: Device): boolean {
  return ort.listSupportedBackends().some((b) => b.name === device && b.bundled);
}

export function defaultThreads(): number {
  return availableParallelism();
}

/**
 * A host tensor as a CPU ort tensor. `copy` (default) detaches it from the caller's array,
 * which state needs (the caller may reuse the array); one-off feeds can skip the copy.
 */
export function toDeviceTensor(name: string, t: HostTensor, copy = true): DeviceTensor {
  if (t.data.length !== numel(t.shape)) {
    throw new EngineError('BAD_INPUT', `feed '${name}': ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  }
  return new ort.Tensor(t.dtype, copy ? t.data.slice() : t.data, [...t.shape]);
}

/** A CPU-located ort tensor's values. Refuses device tensors rather than letting ort abort. */
export function toHostTensor(name: string, v: ort.OnnxValue): HostTensor {
  const t = v as ort.Tensor;
  if (t.location !== 'cpu') {
    throw new EngineError(
      'INTERNAL',
      `output '${name}' lives in '${t.location}' memory; read it back through StateStore.read (runtime/state.ts)`,
    );
  }
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
  const { device } = opts;
  if (!DEVICES.includes(device)) {
    throw new EngineError('BAD_INPUT', `device '${String(device)}' is not one of: ${DEVICES.join(', ')}`);
  }
  const locations = opts.outputLocations ?? {};
  const onDevice = Object.entries(locations).filter(([, loc]) => loc === 'gpu-buffer');
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [device],
    graphOptimizationLevel: 'all',
    // onnxruntime's memory pattern plans one block for every intermediate from the first run's
    // allocations; for the training step that block outgrew the live tensors by ~0.9 GiB. Off,
    // the arena reuses freed buffers instead: MiniLM 32×64 step peak RSS 2.78 -> 1.85 GiB, the
    // same ms/step (bench/README.md, session 3). CPU only: unmeasured on GPU providers.
    ...(device === 'cpu' ? { enableMemPattern: false } : {}),
    intraOpNumThreads: opts.threads ?? defaultThreads(),
    ...(opts.deterministic
      ? { executionMode: 'sequential', extra: { session: { use_deterministic_compute: '1' } } }
      : {}),
    // Only WebGPU buffers can be handed from run to run in ort-node 1.30; elsewhere outputs come to the host.
    ...(device === 'webgpu' && onDevice.length ? { preferredOutputLocation: { ...locations } } : {}),
    ...(opts.logLevel ? { logSeverityLevel: LOG_LEVEL[opts.logLevel], logVerbosityLevel: 0 } : {}),
    ...(opts.profilePrefix ? { enableProfiling: true, profileFilePrefix: opts.profilePrefix } : {}),
  };
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, options);
  } catch (err) {
    const msg = (err as Error).message;
    if (device !== 'cpu' && /adapter|provider|shared library|EP|Vulkan|WebGPU|CUDA/i.test(msg)) {
      throw new EngineError('UNSUPPORTED', `the ${device} execution provider failed to start: ${msg}`, { device });
    }
    throw new EngineError('INTERNAL', `onnxruntime rejected the model: ${msg}`);
  }
  const inputNames = [...session.inputNames];
  const outputNames = [...session.outputNames];

  const check = (feeds: Readonly<Record<string, unknown>>, fetches: readonly string[]): void => {
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
  };

  const runTensors = async (
    feeds: Readonly<Record<string, DeviceTensor>>,
    fetches: readonly string[],
  ): Promise<Record<string, DeviceTensor>> => {
    check(feeds, fetches);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await session.run(feeds as Record<string, ort.Tensor>, [...fetches]);
    } catch (err) {
      throw new EngineError('INTERNAL', `onnxruntime run failed on ${device}: ${(err as Error).message}`);
    }
    const out: Record<string, DeviceTensor> = {};
    for (const name of fetches) out[name] = results[name] as ort.Tensor;
    return out;
  };

  return {
    device,
    inputNames,
    outputNames,
    async run(feeds, fetches = outputNames) {
      check(feeds, fetches);
      const ortFeeds: Record<string, DeviceTensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toDeviceTensor(name, t, false);
      const results = await runTensors(ortFeeds, fetches);
      const out: Record<string, HostTensor> = {};
      for (const name of fetches) out[name] = toHostTensor(name, results[name]);
      return out;
    },
    runTensors,
    endProfiling: () => session.endProfiling(),
    release: () => session.release(),
  };
}
