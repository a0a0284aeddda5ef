// The engine's jobs as the UI sees them, built once in App so a download, an import, mining
// or training keeps being followed while the user is on other pages: the one job follower.
// Events from `onJobProgress` are the truth; `load()` catches up after a page reload or a
// reconnect, since the jobs live in the engine, not in the page. Pages start jobs through a
// JobStarter (job-starter.svelte.ts), which hands each new job here.
import { SvelteMap } from 'svelte/reactivity';
import { EngineError, type EngineApi, type ErrorData, type JobKind, type JobProgress } from '../../../../shared/api.js';

const LIVE: readonly JobProgress['state'][] = ['queued', 'running'];

export class JobsState {
  #engine: EngineApi;
  /** By id, in the order first seen (a Map keeps insertion order); each entry is the latest event. */
  #jobs = new SvelteMap<string, JobProgress>();
  /** A cancel the engine refused (App shows it, whichever page asked). */
  #error = $state.raw<ErrorData | null>(null);
  #unsubscribe: () => void;

  constructor(engine: EngineApi) {
    this.#engine = engine;
    this.#unsubscribe = engine.onJobProgress((p) => this.#put(p));
  }

  get all(): JobProgress[] {
    return [...this.#jobs.values()];
  }
  get error(): ErrorData | null {
    return this.#error;
  }
  get(jobId: string): JobProgress | undefined {
    return this.#jobs.get(jobId);
  }

  /** The most recently started job of a kind, running or finished. */
  latest(kind: JobKind): JobProgress | undefined {
    return this.all.filter((j) => j.kind === kind).at(-1);
  }

  /** The most recently started job of a kind that is still queued or running. */
  liveOf(kind: JobKind): JobProgress | undefined {
    return this.all.filter((j) => j.kind === kind && this.isLive(j)).at(-1);
  }

  isLive(job: JobProgress | undefined): boolean {
    return !!job && LIVE.includes(job.state);
  }

  /** Jobs the engine knows (running, queued, recently finished): after a reload or reconnect. */
  async load(): Promise<void> {
    try {
      const listed = await this.#engine.listJobs(); // in start order, so `latest` is the last
      // Finished jobs the engine no longer lists (a crashed host's, reported failed) stay shown.
      const ids = listed.map((j) => j.jobId);
      const kept = [...this.#jobs].filter(([id, j]) => !ids.includes(id) && !LIVE.includes(j.state));
      // An end event that arrived while the list was on its way is newer than the list.
      const merged = listed.map((j): [string, JobProgress] => {
        const seen = this.#jobs.get(j.jobId);
        return [j.jobId, seen && !LIVE.includes(seen.state) ? seen : j];
      });
      this.#jobs.clear();
      for (const [id, j] of [...kept, ...merged]) this.#jobs.set(id, j);
    } catch (err) {
      // Only a refresh: the list stays as events left it, and the next action reports errors
      // on the page; this one goes to the console.
      console.warn('embedsmith: the engine’s jobs could not be listed:', EngineError.toData(err).message);
    }
  }

  /**
   * A job a page just started: shown as starting until its first event, which normally came
   * before the call's answer but, over the web bridge, may follow it.
   */
  track(jobId: string, kind: JobKind, subject?: string): void {
    if (!this.#jobs.has(jobId)) this.#put({ jobId, kind, ...(subject ? { subject } : {}), state: 'queued', fraction: null, message: 'Starting…' });
  }

  /** Asks the engine to stop a job; its 'cancelled' event follows. */
  async cancel(jobId: string): Promise<boolean> {
    try {
      return await this.#engine.cancel(jobId);
    } catch (err) {
      this.#error = EngineError.toData(err);
      return false;
    }
  }

  dismissError(): void {
    this.#error = null;
  }

  dispose(): void {
    this.#unsubscribe();
  }

  #put(p: JobProgress): void {
    this.#jobs.set(p.jobId, p);
  }
}

