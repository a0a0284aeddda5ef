// Starting a compute job (mining, training) from a page. JobsState in App follows every job's
// events; this holds only what a page needs around the start call itself: "starting…" so a
// double click cannot start two, and the error of a call the engine refused before any job
// existed (a bad setting, a folder that exists), shown with the engine's message.
import { EngineError, type ErrorData } from '../../../shared/api.js';

export class JobStarter {
  #starting = $state(false);
  #error = $state.raw<ErrorData | null>(null);

  get starting(): boolean {
    return this.#starting;
  }
  get error(): ErrorData | null {
    return this.#error;
  }

  /** Runs the start call; its job id, or null when it was refused (`error` says why). */
  async start(call: () => Promise<{ jobId: string }>): Promise<string | null> {
    if (this.#starting) return null;
    this.#starting = true;
    this.#error = null;
    try {
      return (await call()).jobId;
    } catch (err) {
      this.#error = EngineError.toData(err);
      return null;
    } finally {
      this.#starting = false;
    }
  }

  dismiss(): void {
    this.#error = null;
  }
}
