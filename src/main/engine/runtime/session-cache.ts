// Sessions per shape bucket (DESIGN §3: static shapes, one session per (batch, length),
// built lazily). Building the MiniLM step graph takes ~40 ms and creating its session
// ~250-450 ms, so each bucket is built once and reused for every later step of that shape.

import { type OutputLocation, type Session, type SessionOptions, createSession } from './session.js';

/** What identifies a session: graph kind, shape bucket, device and anything else that changes the graph. */
export type SessionKey = Readonly<Record<string, string | number | boolean>>;

/** A serialised model, or one with the per-output locations its session needs. */
export type ModelSource = Uint8Array | { model: Uint8Array; outputLocations?: Record<string, OutputLocation> };

/** A stable string for a key: entries sorted, so {a, b} and {b, a} are the same session. */
export function keyString(key: SessionKey): string {
  return Object.keys(key)
    .sort()
    .map((k) => `${k}=${String(key[k])}`)
    .join(',');
}

export class SessionCache {
  readonly #options: SessionOptions;
  // Promises, so two callers asking for the same bucket at once share one creation.
  readonly #sessions = new Map<string, Promise<Session>>();

  /** `options` (device, threads, deterministic …) apply to every session made here. */
  constructor(options: SessionOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#sessions.size;
  }

  keys(): string[] {
    return [...this.#sessions.keys()];
  }

  has(key: SessionKey): boolean {
    return this.#sessions.has(keyString(key));
  }

  /** The session for `key`, calling `build` (graph construction + serialisation) only on a miss. */
  getOrCreate(key: SessionKey, build: () => ModelSource | Promise<ModelSource>): Promise<Session> {
    const k = keyString(key);
    let session = this.#sessions.get(k);
    if (!session) {
      session = (async () => {
        const source = await build();
        const { model, outputLocations } = source instanceof Uint8Array ? { model: source, outputLocations: undefined } : source;
        return createSession(model, { ...this.#options, ...(outputLocations ? { outputLocations } : {}) });
      })();
      this.#sessions.set(k, session);
      // A failed build must not poison the key: the next call tries again.
      session.catch(() => {
        if (this.#sessions.get(k) === session) this.#sessions.delete(k);
      });
    }
    return session;
  }

  /** Releases one bucket's session (e.g. a rarely used shape), if present. */
  async release(key: SessionKey): Promise<void> {
    const k = keyString(key);
    const session = this.#sessions.get(k);
    this.#sessions.delete(k);
    if (session) await (await session).release();
  }

  /** Releases every session (end of a job, or to free GPU memory); later calls build afresh. */
  async releaseAll(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    const settled = await Promise.allSettled(sessions);
    for (const s of settled) if (s.status === 'fulfilled') await s.value.release();
  }
}
