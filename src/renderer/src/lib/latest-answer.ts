// The stale-answer guard. A page asks the engine again whenever its input changes (a model
// folder typed, another dataset picked, a key pressed in a template); answers can come back in
// any order, and an old one must never overwrite a newer one. Each question `ask`ed makes the
// answers to every earlier one stale; `take` hands an answer (or its error) on only while fresh.
import { EngineError, type ErrorData } from '../../../shared/api.js';

/** True while the question it was made for is still the latest. */
export type Fresh = () => boolean;

export class LatestAnswer {
  #question = 0;

  /** Starts a question: from now on, answers to earlier ones are stale. */
  ask(): Fresh {
    const mine = ++this.#question;
    return () => mine === this.#question;
  }

  /** The current question's check, for several calls that answer one question together. */
  still(): Fresh {
    const mine = this.#question;
    return () => mine === this.#question;
  }

  /** Makes every answer still on its way stale (the subject went away, the view was closed). */
  forget(): void {
    this.#question++;
  }

  /**
   * Asks with `call`'s promise: its value goes to `onValue`, its failure (as the engine's
   * ErrorData) to `onError`, and neither once a later question was asked.
   */
  take<T>(answer: Promise<T>, onValue: (value: T) => void, onError: (error: ErrorData) => void): void {
    const fresh = this.ask();
    answer.then(
      (value) => fresh() && onValue(value),
      (err: unknown) => fresh() && onError(EngineError.toData(err)),
    );
  }
}
