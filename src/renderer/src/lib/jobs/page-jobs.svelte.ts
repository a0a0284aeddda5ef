// The jobs a page started for its named slots ('before', 'after', 'export'), remembered per
// project in localStorage. The jobs themselves live in the engine and JobsState follows their
// events wherever the user is, so leaving the page (or reloading) loses nothing: coming back,
// the page finds its job ids here and their progress and results in JobsState.
import type { ErrorData, JobKind, JobProgress } from '../../../../shared/api.js';
import { JobStarter, type StartCall } from './job-starter.svelte.js';
import type { JobsState } from './jobs.svelte.js';

const KEY = 'embedsmith.page-jobs.';

export interface StartedJob {
  jobId: string;
  kind: JobKind;
  /** The request's facts the page shows beside the result (model, dataset, destination). */
  about: Record<string, string>;
}

export interface JobStart<Slot extends string> {
  slot: Slot;
  kind: JobKind;
  about: Record<string, string>;
  call: StartCall;
}

export class PageJobs<Slot extends string> {
  #jobs: JobsState;
  #key: string | null;
  #started = $state.raw<Partial<Record<Slot, StartedJob>>>({});
  #starter: JobStarter;

  constructor(jobs: JobsState, page: string, projectDir: string | null) {
    this.#jobs = jobs;
    this.#starter = new JobStarter(jobs);
    this.#key = projectDir ? `${KEY}${page}.${projectDir}` : null;
    try {
      this.#started = this.#key ? (JSON.parse(localStorage.getItem(this.#key) ?? '{}') as Partial<Record<Slot, StartedJob>>) : {};
    } catch {
      this.#started = {};
    }
  }

  started(slot: Slot): StartedJob | undefined {
    return this.#started[slot];
  }

  /** The slot's job as JobsState knows it; undefined when none was started or the engine forgot it (restarted). */
  job(slot: Slot): JobProgress | undefined {
    const s = this.#started[slot];
    return s && this.#jobs.get(s.jobId);
  }

  live(slot: Slot): boolean {
    return this.#jobs.isLive(this.job(slot));
  }

  /** True while any slot's job is queued or running, or a start is on its way. */
  get busy(): boolean {
    return this.#starter.starting || (Object.keys(this.#started) as Slot[]).some((s) => this.live(s));
  }
  get starting(): boolean {
    return this.#starter.starting;
  }
  get error(): ErrorData | null {
    return this.#starter.error;
  }
  dismissError(): void {
    this.#starter.dismiss();
  }

  /**
   * Starts the jobs in order (compute jobs queue in the engine's one lane, so the second
   * waits visibly). A refused call stops the rest and is kept in `error`; jobs already
   * started keep running. Resolves true when all started.
   */
  async start(plan: readonly JobStart<Slot>[], clear: readonly Slot[] = []): Promise<boolean> {
    const done = await this.#starter.run(async (start) => {
      // A new plan replaces the old outcome of its slots (and of `clear`), so stale results
      // are not shown beside new ones.
      const next = { ...this.#started };
      for (const slot of [...plan.map((p) => p.slot), ...clear]) delete next[slot];
      this.#save(next);
      for (const p of plan) {
        const jobId = await start(p.kind, p.call);
        this.#save({ ...this.#started, [p.slot]: { jobId, kind: p.kind, about: p.about } });
      }
      return true;
    });
    return done === true;
  }

  /** Cancels every live job of these slots (all when none named). */
  async cancel(...slots: Slot[]): Promise<void> {
    const which = slots.length ? slots : (Object.keys(this.#started) as Slot[]);
    // Later slots first: a queued job is dropped before the lane frees up and starts it.
    for (const s of [...which].reverse()) {
      const j = this.job(s);
      if (j && this.#jobs.isLive(j)) await this.#jobs.cancel(j.jobId);
    }
  }

  #save(next: Partial<Record<Slot, StartedJob>>): void {
    this.#started = next;
    if (this.#key) localStorage.setItem(this.#key, JSON.stringify(next));
  }
}
