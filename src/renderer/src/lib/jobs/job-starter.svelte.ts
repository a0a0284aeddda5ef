// Starting jobs from a page: the one place a start call is made. JobsState in App follows
// every job's events; this holds what a page needs around the call itself: "starting…" so a
// double click cannot start two, the error of a call the engine refused before any job
// existed (a bad setting, a folder that exists), shown with the engine's message, and the new
// job handed to JobsState at once, so it shows as starting even before its first event.
import type { ErrorData, JobKind } from '../../../../shared/api.js';
import { OneAtATime } from '../one-at-a-time.svelte.js';
import type { JobsState } from './jobs.svelte.js';

export type StartCall = () => Promise<{ jobId: string }>;

export class JobStarter {
  #jobs: JobsState;
  #one = new OneAtATime();

  constructor(jobs: JobsState) {
    this.#jobs = jobs;
  }

  get starting(): boolean {
    return this.#one.doing !== null;
  }
  get error(): ErrorData | null {
    return this.#one.error;
  }
  dismiss(): void {
    this.#one.dismiss();
  }

  /** Starts one job; its id, or null when the engine refused the call (`error` says why). */
  async start(kind: JobKind, call: StartCall, subject?: string): Promise<string | null> {
    return this.run(() => this.#startOne(kind, call, subject));
  }

  /**
   * Runs several starts as one (`starting` throughout): `work` gets a start function that
   * throws on a refusal, so the rest are not started. Resolves to work's value, or null when
   * a call was refused (`error` says why; jobs already started keep running).
   */
  async run<T>(work: (start: (kind: JobKind, call: StartCall) => Promise<string>) => Promise<T>): Promise<T | null> {
    let value: T | null = null;
    await this.#one.run('Starting…', async () => {
      value = await work((kind, call) => this.#startOne(kind, call));
    });
    return value;
  }

  async #startOne(kind: JobKind, call: StartCall, subject?: string): Promise<string> {
    const { jobId } = await call();
    this.#jobs.track(jobId, kind, subject);
    return jobId;
  }
}
