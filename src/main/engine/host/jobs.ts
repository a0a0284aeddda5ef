// The engine's jobs: long work (a hub download now; mining, training, export later) started
// here, so every kind gets the same life cycle, events and cancellation (DESIGN §2 host/).
//   queued → running → done | failed | cancelled, each sent as one `onJobProgress` event.
// Progress in between is throttled (a download reports every network chunk; the UI needs a
// few updates a second), and rate/ETA are worked out here from `done`/`total` over a window.
// Lanes keep the door open for "one GPU job at a time": jobs naming the same lane run one
// after another in start order; jobs without a lane start at once.
import { randomUUID } from 'node:crypto';
import { EngineError, type JobKind, type JobProgress, type JobResultByKind } from '../../../shared/api.js';
import { explainFsError } from '../workspace/fs-errors.js';

/** What a job reports while it runs; the registry fills in fraction, rate and ETA when missing. */
export interface JobUpdate {
  message: string;
  fraction?: number | null;
  done?: number;
  total?: number;
  unit?: JobProgress['unit'];
  rate?: number;
  etaSeconds?: number;
}

export interface JobContext {
  readonly jobId: string;
  /** Aborted by cancel(); the job should stop soon and may throw whatever it throws then. */
  readonly signal: AbortSignal;
  /** Cheap to call on every chunk or step: events leave at most every `minIntervalMs`. */
  progress(update: JobUpdate): void;
}

export interface JobSpec<K extends JobKind> {
  kind: K;
  /** What it works on, shown with every event (JobProgress.subject). */
  subject?: string;
  /** Shown while queued and when the job starts. */
  message: string;
  /** Jobs sharing a lane run one at a time (e.g. 'gpu'); absent: starts at once. */
  lane?: string;
  run(ctx: JobContext): Promise<JobResultByKind[K]>;
  /** The message of the done event; default 'Done'. */
  doneMessage?(result: JobResultByKind[K]): string;
}

export interface JobRegistryOptions {
  /** Receives every event; the engine service fans it out to onJobProgress listeners. */
  emit(progress: JobProgress): void;
  /** Least time between two progress events of one job (state changes are never held). Default 100 ms. */
  minIntervalMs?: number;
  /** Rate is measured over this much recent progress. Default 5 s. */
  rateWindowMs?: number;
  /** Finished jobs kept for listJobs (a reloaded page still finds its result). Default 50. */
  keepFinished?: number;
}

interface Job {
  progress: JobProgress;
  spec: JobSpec<JobKind>;
  controller: AbortController;
  lastEmit: number;
  held: JobProgress | null;
  timer: ReturnType<typeof setTimeout> | null;
  samples: { t: number; done: number }[];
  settled: Promise<JobProgress>;
  resolveSettled(p: JobProgress): void;
}

const FINAL = new Set<JobProgress['state']>(['done', 'failed', 'cancelled']);

export class JobRegistry {
  #jobs = new Map<string, Job>();
  #lanes = new Map<string, Job[]>(); // per lane: the running job first, then the queued ones
  #opts: Required<JobRegistryOptions>;
  #count = 0;

  constructor(options: JobRegistryOptions) {
    this.#opts = { minIntervalMs: 100, rateWindowMs: 5000, keepFinished: 50, ...options };
  }

  /** Starts (or queues) a job and returns its id; its outcome arrives only as events. */
  start<K extends JobKind>(spec: JobSpec<K>): string {
    // Unique across engine restarts too: a renderer may still hold ids from a crashed host.
    const jobId = `${spec.kind}-${++this.#count}-${randomUUID().slice(0, 8)}`;
    let resolveSettled!: (p: JobProgress) => void;
    const settled = new Promise<JobProgress>((r) => (resolveSettled = r));
    const job: Job = {
      progress: { jobId, kind: spec.kind, ...(spec.subject === undefined ? {} : { subject: spec.subject }), state: 'queued', fraction: null, message: spec.message },
      spec: spec as unknown as JobSpec<JobKind>,
      controller: new AbortController(),
      lastEmit: 0,
      held: null,
      timer: null,
      samples: [],
      settled,
      resolveSettled,
    };
    this.#jobs.set(jobId, job);
    if (spec.lane === undefined) {
      this.#run(job);
    } else {
      const lane = this.#lanes.get(spec.lane) ?? [];
      lane.push(job);
      this.#lanes.set(spec.lane, lane);
      if (lane.length === 1) this.#run(job);
      else this.#send(job, job.progress); // waits its turn, visibly
    }
    this.#prune();
    return jobId;
  }

  /** Stops a queued job at once, or aborts a running one (it ends 'cancelled' when it has stopped). */
  cancel(jobId: string): boolean {
    const job = this.#jobs.get(jobId);
    if (!job || FINAL.has(job.progress.state) || job.controller.signal.aborted) return false;
    job.controller.abort(new EngineError('CANCELLED', 'cancelled by the user'));
    if (job.progress.state === 'queued') this.#finish(job, { state: 'cancelled', message: 'Cancelled before it started' });
    return true;
  }

  /** Every job still known (all live ones, the newest finished ones), in start order. */
  list(): JobProgress[] {
    return [...this.#jobs.values()].map((j) => ({ ...j.progress }));
  }

  get(jobId: string): JobProgress | undefined {
    const p = this.#jobs.get(jobId)?.progress;
    return p && { ...p };
  }

  /** Resolves with the final event of a job (tests, the CLI); rejects for an unknown id. */
  settled(jobId: string): Promise<JobProgress> {
    const job = this.#jobs.get(jobId);
    if (!job) return Promise.reject(new EngineError('NOT_FOUND', `no job ${jobId}; listJobs names the known ones`));
    return job.settled;
  }

  /** Cancels everything and waits until running jobs have stopped (before the host exits). */
  async dispose(): Promise<void> {
    const ids = [...this.#jobs.keys()];
    for (const id of ids) this.cancel(id);
    await Promise.all(ids.map((id) => this.#jobs.get(id)?.settled));
  }

  #run(job: Job): void {
    const { jobId } = job.progress;
    this.#set(job, { state: 'running', message: job.spec.message });
    const ctx: JobContext = { jobId, signal: job.controller.signal, progress: (u) => this.#progress(job, u) };
    // Promise.resolve().then: a run that throws synchronously fails the job like a rejection,
    // and both handlers are attached, so no rejection is ever left unhandled.
    Promise.resolve()
      .then(() => job.spec.run(ctx))
      .then(
        (result) => this.#finish(job, { state: 'done', fraction: 1, message: job.spec.doneMessage?.(result) ?? 'Done', result }),
        (err: unknown) =>
          job.controller.signal.aborted
            ? this.#finish(job, { state: 'cancelled', message: 'Cancelled' })
            : this.#finish(job, { state: 'failed', message: 'Failed', error: EngineError.toData(explainFsError(err)) }),
      );
  }

  #progress(job: Job, u: JobUpdate): void {
    // Reports after cancel or the end are late news: the next event is the final one.
    if (job.progress.state !== 'running' || job.controller.signal.aborted) return;
    const now = Date.now();
    const p: JobProgress = { ...job.progress, message: u.message };
    for (const k of ['done', 'total', 'unit', 'rate', 'etaSeconds'] as const) delete p[k];
    if (u.unit !== undefined) p.unit = u.unit;
    if (u.done !== undefined) p.done = u.done;
    if (u.total !== undefined) p.total = u.total;
    p.fraction = u.fraction !== undefined ? u.fraction : u.done !== undefined && u.total ? Math.min(1, u.done / u.total) : job.progress.fraction;
    if (u.done !== undefined) {
      job.samples.push({ t: now, done: u.done });
      while (job.samples.length > 2 && now - job.samples[0].t > this.#opts.rateWindowMs) job.samples.shift();
    }
    const rate = u.rate ?? this.#rate(job);
    if (rate !== undefined) p.rate = rate;
    const eta = u.etaSeconds ?? (rate && u.done !== undefined && u.total !== undefined ? Math.max(0, (u.total - u.done) / rate) : undefined);
    if (eta !== undefined) p.etaSeconds = eta;
    job.progress = p;

    const wait = job.lastEmit + this.#opts.minIntervalMs - now;
    if (wait <= 0) {
      this.#send(job, p);
      return;
    }
    // Too soon: hold the newest report and send it when the interval is up, so the last
    // report before a pause is never lost.
    job.held = p;
    job.timer ??= setTimeout(() => {
      job.timer = null;
      if (job.held) this.#send(job, job.held);
    }, wait);
  }

  /** Units per second over the window; undefined until it spans long enough to mean something. */
  #rate(job: Job): number | undefined {
    const s = job.samples;
    if (s.length < 2) return undefined;
    const dt = (s[s.length - 1].t - s[0].t) / 1000;
    return dt >= 0.25 ? (s[s.length - 1].done - s[0].done) / dt : undefined;
  }

  #set(job: Job, change: Partial<JobProgress>): void {
    job.progress = { ...job.progress, ...change };
    this.#send(job, job.progress);
  }

  #finish(job: Job, change: Partial<JobProgress>): void {
    if (FINAL.has(job.progress.state)) return;
    if (job.timer) clearTimeout(job.timer);
    job.timer = null;
    job.held = null; // superseded by the final event
    const p: JobProgress = { ...job.progress, ...change };
    delete p.etaSeconds; // nothing is left to wait for
    this.#set(job, p);
    job.resolveSettled({ ...job.progress });
    const lane = job.spec.lane === undefined ? undefined : this.#lanes.get(job.spec.lane);
    if (lane) {
      const wasRunning = lane[0] === job;
      lane.splice(lane.indexOf(job), 1);
      if (lane.length === 0) this.#lanes.delete(job.spec.lane!);
      else if (wasRunning) this.#run(lane[0]);
    }
    this.#prune();
  }

  #send(job: Job, p: JobProgress): void {
    job.lastEmit = Date.now();
    job.held = null;
    this.#opts.emit({ ...p });
  }

  #prune(): void {
    const ended = [...this.#jobs.values()].filter((j) => FINAL.has(j.progress.state));
    for (const j of ended.slice(0, Math.max(0, ended.length - this.#opts.keepFinished))) this.#jobs.delete(j.progress.jobId);
  }
}
