// The engine's jobs as the UI sees them, built once in App so a download (later: mining,
// training) keeps being followed while the user is on other pages. Events from
// `onJobProgress` are the truth; `load()` catches up after a page reload or a reconnect,
// since the jobs live in the engine, not in the page.
import { SvelteMap } from 'svelte/reactivity';
import { EngineError, type EngineApi, type ErrorData, type JobKind, type JobProgress } from '../../../shared/api.js';

const LIVE: readonly JobProgress['state'][] = ['queued', 'running'];

export class JobsState {
  #engine: EngineApi;
  /** By id, in the order first seen (a Map keeps insertion order); each entry is the latest event. */
  #jobs = new SvelteMap<string, JobProgress>();
  /** A call that failed before a job existed (a bad id, an unreachable engine). */
  #error = $state.raw<ErrorData | null>(null);
  #starting = $state(false);
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
  /** True while a start call is on its way to the engine (the button should not start two). */
  get starting(): boolean {
    return this.#starting;
  }

  get(jobId: string): JobProgress | undefined {
    return this.#jobs.get(jobId);
  }

  /** The most recently started job of a kind, running or finished. */
  latest(kind: JobKind): JobProgress | undefined {
    return this.all.filter((j) => j.kind === kind).at(-1);
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

  /** Starts a hub download; resolves with its job id, or null when the call failed (`error` says why). */
  async pullModel(repo: string): Promise<string | null> {
    if (this.#starting) return null;
    this.#starting = true;
    this.#error = null;
    try {
      const { jobId } = await this.#engine.pullModel(repo.trim());
      // Its first event normally came before the answer; if not, show it as starting.
      if (!this.#jobs.has(jobId)) this.#put({ jobId, kind: 'pull-model', state: 'queued', fraction: null, message: 'Starting…' });
      return jobId;
    } catch (err) {
      this.#error = EngineError.toData(err);
      return null;
    } finally {
      this.#starting = false;
    }
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

