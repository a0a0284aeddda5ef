// Runs a device object's calls one at a time, in the order they were made, and refuses calls
// after dispose. onnxruntime's session.run blocks its thread anyway, and a strict order keeps
// each caller's results its own; encoders and searchers (and anything else holding sessions)
// share this instead of each keeping its own queue and disposed flag.
import { EngineError } from '../../../shared/errors.js';

export class OneAtATime {
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** `what` names the object in the refusal after close, e.g. 'encoder'; `fix` says what to do instead. */
  constructor(
    private readonly what: string,
    private readonly fix = 'create a new one',
  ) {}

  /** Runs `fn` after every call made before it has settled; its result or error is the caller's. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new EngineError('BAD_INPUT', `the ${this.what} was disposed; ${this.fix}`));
    const next = this.#queue.then(fn);
    // The queue only orders the calls: a failed call's error reaches its own caller through
    // `next`, and must not fail the calls queued after it.
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Refuses new calls and waits for the queued ones. True the first time (the caller then
   * releases its sessions), false after, so dispose() can be called twice.
   */
  async close(): Promise<boolean> {
    if (this.#closed) return false;
    this.#closed = true;
    await this.#queue;
    return true;
  }
}
