// One training run as the Training page shows it: its config and metrics.jsonl from
// readRun, polled about once a second while its job runs. The engine reports a step through
// JobProgress too, but only the run folder has every step's loss, rate, gradient norm,
// throughput and evaluations, and it is the same whether the run is live, stopped or old.
import { EngineError, type EngineApi, type ErrorData, type RunView } from '../../../../shared/api.js';

export const POLL_MS = 1000;

export class RunMonitor {
  #engine: EngineApi;
  #dir = $state<string | null>(null);
  #run = $state.raw<RunView | null>(null);
  #error = $state.raw<ErrorData | null>(null);
  #missing = $state(false);
  #timer: ReturnType<typeof setTimeout> | null = null;
  #live = false;
  /** Answers to older reads are dropped: a slow one must not replace a newer one. */
  #asked = 0;
  #disposed = false;

  constructor(engine: EngineApi) {
    this.#engine = engine;
  }

  get dir(): string | null {
    return this.#dir;
  }
  get run(): RunView | null {
    return this.#run;
  }
  get error(): ErrorData | null {
    return this.#error;
  }
  /** The folder has no config.json: a run still queued, or one that failed before it began. */
  get missing(): boolean {
    return this.#missing;
  }

  /**
   * Shows `dir`, polling while `live`. Call it whenever either changes; it reads at once when
   * the folder changes and once more when the job ends, so the last steps are not missed.
   */
  follow(dir: string | null, live: boolean): void {
    if (this.#disposed) return;
    const moved = dir !== this.#dir;
    const ended = this.#live && !live;
    this.#live = live;
    if (moved) {
      this.#dir = dir;
      this.#run = null;
      this.#error = null;
      this.#missing = false;
    }
    if (moved || ended) void this.refresh();
    if (live && this.#timer === null) this.#tick();
    if (!live) this.#stop();
  }

  async refresh(): Promise<void> {
    const dir = this.#dir;
    if (!dir) return;
    const asked = ++this.#asked;
    try {
      const run = await this.#engine.readRun(dir);
      if (asked !== this.#asked || dir !== this.#dir) return;
      this.#run = run;
      this.#error = null;
      this.#missing = false;
    } catch (err) {
      if (asked !== this.#asked || dir !== this.#dir) return;
      const e = EngineError.toData(err);
      // No config.json is a state, not a failure: the job's own events say why (queued, failed).
      if (e.code === 'NOT_FOUND') this.#missing = true;
      else this.#error = e;
    }
  }

  dispose(): void {
    this.#disposed = true;
    this.#stop();
  }

  #tick(): void {
    this.#timer = setTimeout(async () => {
      await this.refresh();
      // Re-armed only after the read, so a slow engine is never asked twice at once.
      if (this.#live && !this.#disposed && this.#timer !== null) this.#tick();
    }, POLL_MS);
  }

  #stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
