// The project lock: `project.lock` in the project folder, created exclusively ('wx'), holding
// {pid, hostname, holder, since}. Two Embedsmith windows (or the app and the CLI) writing one
// project would interleave saves, so the second opener is refused with a message naming the
// first. A lock left by a crashed process on this machine is detected (its pid is gone) and
// taken over; a lock from another machine (shared or synced folder) cannot be checked and is
// only ever removed by the user.
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { EngineError } from '../../../shared/errors.js';
import { ioError } from './atomic.js';

export interface LockInfo {
  pid: number;
  hostname: string;
  /** Which program holds it, e.g. 'Embedsmith desktop' or 'embedsmith CLI'. */
  holder: string;
  /** ISO 8601: when it was taken. */
  since: string;
}

export class ProjectLock {
  #released = false;
  private constructor(
    readonly path: string,
    readonly info: LockInfo,
    /** The exact bytes we wrote: release deletes the file only if it still holds them. */
    private readonly text: string,
  ) {}

  /**
   * Takes the lock at `path` for the project in `projectDir` (named in messages).
   * Throws LOCKED when a live process holds it; `note` says when a stale lock was taken over.
   */
  static async acquire(path: string, projectDir: string, holder: string): Promise<{ lock: ProjectLock; note?: string }> {
    const info: LockInfo = { pid: process.pid, hostname: hostname(), holder, since: new Date().toISOString() };
    const text = JSON.stringify(info, null, 2) + '\n';
    let note: string | undefined;
    // A few rounds: each lost race (lock vanished, or another process took the stale one
    // first) sends us round again, and the next round reports the new holder.
    for (let round = 0; round < 4; round++) {
      if (await createExclusive(path, text)) return { lock: new ProjectLock(path, info, text), note };
      const existing = await readLock(path);
      if (existing === null) continue; // released between our create and our read
      if (existing.info === null || !isStale(existing.info)) throw lockedError(projectDir, path, existing.info);
      // Move the stale file aside under a unique name rather than unlinking it: of several
      // processes taking over at once, only one rename finds it; then check that what we
      // moved is the stale lock we judged, not a fresh one created in the meantime.
      const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
      try {
        await rename(path, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw ioError(err, path, 'take over the stale lock');
      }
      const moved = await readFile(aside, 'utf8').catch(() => null);
      if (moved !== existing.text) {
        await rename(aside, path).catch(() => {}); // not ours to remove: put it back
        continue;
      }
      await unlink(aside).catch(() => {});
      note =
        `Took over a stale lock on ${projectDir}: ${describe(existing.info)} ` +
        'is no longer running (it probably crashed or was killed).';
    }
    throw new EngineError(
      'LOCKED',
      `Could not take the lock ${path}: other programs keep opening this project at the same time. ` +
        'Fix: close the project in the other Embedsmith windows and try again.',
      { lockPath: path },
    );
  }

  /** Deletes the lock file if it is still ours; safe to call twice. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    const now = await readFile(this.path, 'utf8').catch(() => null);
    // Someone removed our lock (by hand) and another process took it: leave theirs alone.
    if (now !== this.text) return;
    await unlink(this.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw ioError(err, this.path, 'delete the lock');
    });
  }
}

/** True when we created the file; false when it already exists. */
async function createExclusive(path: string, text: string): Promise<boolean> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw ioError(err, path, 'create the lock');
  }
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
    await fh.close();
    return true;
  } catch (err) {
    // Never leave a half-written lock behind: it would block the project with no holder named.
    await fh.close().catch(() => {});
    await unlink(path).catch(() => {});
    throw ioError(err, path, 'write the lock');
  }
}

/** The lock's text and parsed content (null content when unreadable), or null when absent. */
export async function readLock(path: string): Promise<{ text: string; info: LockInfo | null } | null> {
  for (let attempt = 0; ; attempt++) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw ioError(err, path, 'read the lock');
    }
    const info = parseLock(text);
    // An empty or torn file may be another opener between its create and its write; look again.
    if (info !== null || attempt >= 2) return { text, info };
    await new Promise((r) => setTimeout(r, 50));
  }
}

function parseLock(text: string): LockInfo | null {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    // pid must be a positive integer: process.kill(0 or -n) would signal a process group.
    if (!Number.isInteger(v.pid) || (v.pid as number) <= 0 || typeof v.hostname !== 'string') return null;
    return {
      pid: v.pid as number,
      hostname: v.hostname,
      holder: typeof v.holder === 'string' ? v.holder : 'an unknown program',
      since: typeof v.since === 'string' ? v.since : 'an unknown time',
    };
  } catch {
    return null;
  }
}

/** Only a lock from this machine whose process is gone is stale; other hosts cannot be checked. */
export function isStale(info: LockInfo): boolean {
  return info.hostname === hostname() && !isProcessAlive(info.pid);
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: existence check, delivers nothing
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user — still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describe(info: LockInfo): string {
  return `${info.holder} (pid ${info.pid} on ${info.hostname}, since ${info.since})`;
}

function lockedError(projectDir: string, path: string, info: LockInfo | null): EngineError {
  const who = info === null ? `a program that left an unreadable lock file` : describe(info);
  return new EngineError(
    'LOCKED',
    `The project ${projectDir} is already open in ${who}. ` +
      `Fix: close the project there; if that program is no longer running, delete ${path} and try again.`,
    info === null ? { lockPath: path } : { lockPath: path, ...info },
  );
}
