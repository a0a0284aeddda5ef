// One user action at a time (a project opened, a row edited, a negative rejected, a job
// started): overlapping actions on one engine state would race, so a second click while one
// runs does nothing. It says what is running and keeps the engine's error of the last
// failure, which the owner's other reads may report here too (`fail`).
import { EngineError, type ErrorData } from '../../../shared/api.js';

export class OneAtATime {
  #doing = $state<string | null>(null);
  #error = $state.raw<ErrorData | null>(null);

  /** What the running action does (its label); null when none runs. */
  get doing(): string | null {
    return this.#doing;
  }
  get error(): ErrorData | null {
    return this.#error;
  }

  /** Runs `action` unless another runs; false when it was refused, or failed (`error` says why). */
  async run(label: string, action: () => Promise<void>): Promise<boolean> {
    if (this.#doing !== null) return false;
    this.#doing = label;
    this.#error = null;
    try {
      await action();
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    } finally {
      this.#doing = null;
    }
  }

  fail(err: unknown): void {
    this.#error = EngineError.toData(err);
  }

  dismiss(): void {
    this.#error = null;
  }
}
