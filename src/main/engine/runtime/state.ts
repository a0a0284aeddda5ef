// Training state kept on the device between steps (DESIGN §3). A StateStore holds named ort
// tensors (parameters, AdamW moments); `run` feeds them with host data, takes the graph's
// updated state back as 'gpu-buffer' outputs on WebGPU, swaps them in by name and disposes
// the replaced tensors, so parameters never cross the PCIe bus during training.
//
// Moving single tensors between host and device goes through one-node Identity sessions on
// the same WebGPU EP: output location 'gpu-buffer' uploads, 'cpu' reads back. Reading a
// gpu-buffer tensor with `getData()` aborts the whole process in onnxruntime-node 1.30, so
// nothing here ever calls it. On the CPU the same API holds plain CPU tensors.

import { EngineError } from '../../../shared/errors.js';
import type { DType, HostTensor } from '../graph/dtype.js';
import { Graph } from '../graph/graph.js';
import { serialize } from '../graph/serialize.js';
import { SessionCache } from './session-cache.js';
import {
  type Device,
  type DeviceTensor,
  type OutputLocation,
  type Session,
  toDeviceTensor,
  toHostTensor,
} from './session.js';

/** Whether this device keeps run outputs in device memory between runs. */
export function keepsStateOnDevice(device: Device): boolean {
  return device === 'webgpu';
}

/** The per-output location map for a graph with these state and host outputs. */
export function stateOutputLocations(
  device: Device,
  stateOutputs: readonly string[],
  hostOutputs: readonly string[],
): Record<string, OutputLocation> | undefined {
  if (!keepsStateOnDevice(device)) return undefined;
  const map: Record<string, OutputLocation> = {};
  for (const n of stateOutputs) map[n] = 'gpu-buffer';
  for (const n of hostOutputs) map[n] = 'cpu';
  return map;
}

/** Host ↔ device copies of single tensors through cached Identity sessions (one per dtype, shape, direction). */
export class Transfer {
  readonly #cache: SessionCache;

  constructor(readonly device: Device) {
    this.#cache = new SessionCache({ device, threads: 1 });
  }

  #identity(dtype: DType, shape: readonly number[], to: OutputLocation): Promise<Session> {
    return this.#cache.getOrCreate({ kind: 'identity', dtype, shape: shape.join('x'), to }, () => {
      const g = new Graph('transfer');
      g.output(g.input('x', dtype, shape), 'y'); // output() of an input inserts the Identity node
      return { model: serialize(g), outputLocations: { y: to } };
    });
  }

  /** A device tensor holding a copy of `t` (a CPU tensor where the device has no separate memory). */
  async toDevice(name: string, t: HostTensor): Promise<DeviceTensor> {
    const host = toDeviceTensor(name, t);
    if (!keepsStateOnDevice(this.device)) return host;
    const session = await this.#identity(t.dtype, t.shape, 'gpu-buffer');
    return (await session.runTensors({ x: host }, ['y'])).y;
  }

  /** A host copy of `t`, wherever it lives. */
  async toHost(name: string, t: DeviceTensor): Promise<HostTensor> {
    if (t.location === 'cpu') {
      const h = toHostTensor(name, t);
      return { ...h, data: h.data.slice() };
    }
    if (t.location !== 'gpu-buffer') {
      throw new EngineError('INTERNAL', `state '${name}' is in '${t.location}' memory, which the runtime cannot read`);
    }
    const session = await this.#identity(t.type as DType, t.dims, 'cpu');
    return toHostTensor(name, (await session.runTensors({ x: t }, ['y'])).y);
  }

  release(): Promise<void> {
    return this.#cache.releaseAll();
  }
}

export interface StateRunOptions {
  /** Host-side feeds (token ids, masks, per-step scalars). */
  feeds: Readonly<Record<string, HostTensor>>;
  /** Graph output → state name it replaces, e.g. 'p.w.next' → 'p.w'. */
  updates: Readonly<Record<string, string>>;
  /** Outputs returned to the host (scalars such as the loss). */
  fetch: readonly string[];
}

export class StateStore {
  readonly #tensors = new Map<string, DeviceTensor>();
  readonly #transfer: Transfer;
  #disposed = false;

  constructor(readonly device: Device) {
    this.#transfer = new Transfer(device);
  }

  get names(): string[] {
    return [...this.#tensors.keys()];
  }

  has(name: string): boolean {
    return this.#tensors.has(name);
  }

  /** The live tensor (for inspection: location, dims). Do not dispose it; the store owns it. */
  get(name: string): DeviceTensor {
    const t = this.#tensors.get(name);
    if (!t) throw new EngineError('INTERNAL', `no state named '${name}'; state holds: ${this.names.join(', ') || 'nothing'}`);
    return t;
  }

  /** Uploads `value` as state `name`, disposing what it replaces. */
  async set(name: string, value: HostTensor): Promise<void> {
    this.#alive();
    const t = await this.#transfer.toDevice(name, value);
    this.#swap(name, t);
  }

  /** A host copy of state `name`. */
  async read(name: string): Promise<HostTensor> {
    this.#alive();
    return this.#transfer.toHost(name, this.get(name));
  }

  /**
   * Runs `session` with every input it has that names a state tensor fed from the store and
   * the rest from `opts.feeds`; swaps the `updates` outputs in and returns `fetch` on the host.
   * The session must have been created with `stateOutputLocations` for its outputs.
   * Nothing is replaced when the run fails, so the state stays consistent.
   */
  async run(session: Session, opts: StateRunOptions): Promise<Record<string, HostTensor>> {
    this.#alive();
    const feeds: Record<string, DeviceTensor> = {};
    for (const name of session.inputNames) {
      const state = this.#tensors.get(name);
      const host = opts.feeds[name];
      if (state && host) throw new EngineError('INTERNAL', `input '${name}' is both state and a host feed`);
      if (state) feeds[name] = state;
      else if (host) feeds[name] = toDeviceTensor(name, host, false);
    }
    for (const [out, name] of Object.entries(opts.updates)) {
      if (!this.#tensors.has(name)) throw new EngineError('INTERNAL', `output '${out}' would replace state '${name}', which is not set`);
    }
    const fetches = [...Object.keys(opts.updates), ...opts.fetch];
    const results = await session.runTensors(feeds, fetches);
    for (const [out, name] of Object.entries(opts.updates)) this.#swap(name, results[out]);
    const host: Record<string, HostTensor> = {};
    for (const name of opts.fetch) host[name] = toHostTensor(name, results[name]);
    return host;
  }

  /** Disposes every state tensor and the transfer sessions. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const t of this.#tensors.values()) t.dispose();
    this.#tensors.clear();
    await this.#transfer.release();
  }

  #swap(name: string, t: DeviceTensor): void {
    const old = this.#tensors.get(name);
    this.#tensors.set(name, t);
    // The old buffer is not referenced by anything else: the graph wrote a fresh output.
    if (old && old !== t) old.dispose();
  }

  #alive(): void {
    if (this.#disposed) throw new EngineError('INTERNAL', 'state store used after dispose()');
  }
}
