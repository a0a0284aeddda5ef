// The UI side of the engine host: starts the worker, relays calls and events, and survives
// the worker's death — calls in flight fail with HOST_CRASHED, running jobs are reported
// failed, and the next call starts a fresh worker.
import { Worker } from 'node:worker_threads';
import type {
  CallResult,
  EngineEvent,
  EngineMethod,
  EngineTransport,
  JobProgress,
  Unsubscribe,
  WireMessage,
} from '../../../shared/api.js';
import type { EngineServiceOptions } from './engine-service.js';
import type { HostRequest } from './host-worker.js';

export type WorkerFactory = (options: { workerData: EngineServiceOptions }) => Worker;

/** Plain Node: the compiled sibling file. The desktop app passes electron-vite's `?nodeWorker`. */
export const nodeWorkerFactory: WorkerFactory = (options) =>
  new Worker(new URL('./host-worker.js', import.meta.url), options);

export class EngineHost implements EngineTransport {
  #factory: WorkerFactory;
  #options: EngineServiceOptions;
  #worker: Worker | null = null;
  #nextId = 1;
  #pending = new Map<number, (r: CallResult) => void>();
  #listeners = new Map<EngineEvent, Set<(payload: unknown) => void>>();
  #runningJobs = new Map<string, JobProgress>();
  #disposed = false;

  constructor(options: EngineServiceOptions, factory: WorkerFactory = nodeWorkerFactory) {
    this.#options = options;
    this.#factory = factory;
  }

  call(method: EngineMethod, args: unknown[]): Promise<CallResult> {
    if (this.#disposed) {
      return Promise.resolve({ ok: false, error: { code: 'HOST_CRASHED', message: 'the engine host has shut down' } });
    }
    const worker = this.#ensureWorker();
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      const req: HostRequest = { type: 'call', id, method, args };
      worker.postMessage(req);
    });
  }

  subscribe(event: EngineEvent, listener: (payload: unknown) => void): Unsubscribe {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Asks the worker to release project locks, then stops it (force after `timeoutMs`). */
  async dispose(timeoutMs = 3000): Promise<void> {
    this.#disposed = true;
    const worker = this.#worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'shutdown' } satisfies HostRequest);
    const timer = setTimeout(() => void worker.terminate(), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  #emit(event: EngineEvent, payload: unknown): void {
    if (event === 'onJobProgress') {
      const p = payload as JobProgress;
      if (p.state === 'running' || p.state === 'queued') this.#runningJobs.set(p.jobId, p);
      else this.#runningJobs.delete(p.jobId);
    }
    for (const l of this.#listeners.get(event) ?? []) l(payload);
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = this.#factory({ workerData: this.#options });
    worker.on('message', (m: WireMessage) => {
      if (m.type === 'result') {
        const resolve = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        resolve?.(m.ok ? { ok: true, value: m.value } : { ok: false, error: m.error });
      } else if (m.type === 'event') {
        this.#emit(m.event, m.payload);
      }
    });
    let lastError = '';
    worker.on('error', (err) => (lastError = err instanceof Error ? err.message : String(err)));
    worker.on('exit', (code) => {
      if (this.#worker === worker) this.#worker = null;
      if (this.#disposed && this.#pending.size === 0) return;
      const message =
        `the engine host stopped (exit code ${code}${lastError ? `: ${lastError}` : ''}); ` +
        'the call did not complete — try again, a fresh host starts on the next call';
      for (const resolve of this.#pending.values()) resolve({ ok: false, error: { code: 'HOST_CRASHED', message } });
      this.#pending.clear();
      for (const job of this.#runningJobs.values()) {
        this.#emit('onJobProgress', { ...job, state: 'failed', error: { code: 'HOST_CRASHED', message } });
      }
    });
    this.#worker = worker;
    return worker;
  }
}
