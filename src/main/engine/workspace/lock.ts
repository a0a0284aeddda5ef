// Locks that keep one writer per folder: `project.lock` in a project (held while the project
// is open), `dataset.lock` in a dataset folder (while an edit, split or count is saved) and
// `run.lock` in a run folder (while it trains). Each holds {pid, startTime, hostname, holder,
// command, since}, so a second writer is refused with a message naming the first and the fix.
//
// The file is written whole under a temp name, fsynced and hard-linked into place: link() fails
// with EEXIST atomically, so a lock file never exists half-written. An empty or garbage lock can
// then only come from a crash of an older version or a lost write: it is taken over as stale.
// A lock of this machine whose process is gone is stale too; on Linux the process's start time
// (from /proc) is compared as well, so a pid the OS has since given to another program does not
// keep the folder locked forever. A lock from another machine (shared or synced folder) cannot
// be checked and is only ever removed by the user.
import { readFileSync } from 'node:fs';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { ioError } from './atomic.js';
import { readTextIfExists } from './fs-errors.js';

export interface LockInfo {
  pid: number;
  hostname: string;
  /** Which program holds it, e.g. 'Embedsmith desktop' or 'embedsmith CLI'. */
  holder: string;
  /** ISO 8601: when it was taken. */
  since: string;
  /** The holder's command line (shortened), so a user can tell which of several it is. */
  command?: string;
  /** Linux: the holder's start time in clock ticks after boot (/proc/PID/stat field 22). */
  startTime?: string;
}

/** What a lock guards: named in messages, with a fix suited to it. */
export type LockKind = 'project' | 'dataset' | 'run';

export interface LockOptions {
  /** Keep trying this long while a live holder has it (short writes such as edits); default 0. */
  waitMs?: number;
}

// The program name folder locks record; the CLI and the engine service set theirs at start.
let defaultHolder = 'Embedsmith';
export function setDefaultLockHolder(holder: string): void {
  defaultHolder = holder;
}

export class FileLock {
  #released = false;
  private constructor(
    readonly path: string,
    readonly info: LockInfo,
    /** The exact bytes we wrote: release deletes the file only if it still holds them. */
    private readonly text: string,
  ) {}

  /**
   * Takes the lock at `path` guarding `target` (named in messages). Throws LOCKED when a live
   * process holds it (after `waitMs`); `note` says when a stale lock was taken over.
   */
  static async acquire(path: string, target: string, holder: string = defaultHolder, kind: LockKind = 'project', opts: LockOptions = {}): Promise<{ lock: FileLock; note?: string }> {
    const deadline = Date.now() + (opts.waitMs ?? 0);
    for (let pause = 20; ; pause = Math.min(pause * 2, 250)) {
      try {
        return await FileLock.#tryAcquire(path, target, holder, kind);
      } catch (err) {
        if (!(err instanceof EngineError) || err.code !== 'LOCKED' || Date.now() + pause > deadline) throw err;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }

  static async #tryAcquire(path: string, target: string, holder: string, kind: LockKind): Promise<{ lock: FileLock; note?: string }> {
    const info: LockInfo = { pid: process.pid, hostname: hostname(), holder, since: new Date().toISOString(), command: commandLine() };
    const start = processStartTime(process.pid);
    if (start !== null) info.startTime = start;
    const text = JSON.stringify(info, null, 2) + '\n';
    let note: string | undefined;
    // A few rounds: each lost race (lock vanished, or another process took the stale one
    // first) sends us round again, and the next round reports the new holder.
    for (let round = 0; round < 4; round++) {
      if (await createExclusive(path, text)) return { lock: new FileLock(path, info, text), note };
      const existing = await readLock(path);
      if (existing === null) continue; // released between our create and our read
      if (existing.info !== null && !isStale(existing.info)) throw lockedError(kind, target, path, existing.info);
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
      const was =
        existing.info === null
          ? `an empty or unreadable lock file (left by a crash while it was written)`
          : `${describeHolder(existing.info)} is no longer running (it probably crashed or was killed)`;
      note = `Took over a stale lock on ${target}: ${was}.`;
    }
    throw new EngineError(
      'LOCKED',
      `Could not take the lock ${path}: other programs keep taking it at the same time. Fix: wait for them to finish and try again.`,
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

export const DATASET_LOCK = 'dataset.lock';
export const RUN_LOCK = 'run.lock';

/**
 * Runs `fn` holding `dir`'s folder lock (dataset.lock or run.lock). Datasets wait a while for
 * the lock (edits take milliseconds, so two at once both land); runs are refused at once.
 */
export async function withFolderLock<T>(dir: string, kind: 'dataset' | 'run', fn: (note?: string) => Promise<T>): Promise<T> {
  const path = join(dir, kind === 'dataset' ? DATASET_LOCK : RUN_LOCK);
  const { lock, note } = await FileLock.acquire(path, dir, defaultHolder, kind, { waitMs: kind === 'dataset' ? 30_000 : 0 });
  try {
    return await fn(note);
  } finally {
    await lock.release();
  }
}

/** True when we created the file; false when it already exists. */
async function createExclusive(path: string, text: string): Promise<boolean> {
  // A project opener sweeps the project's temp files: ours may vanish before the link; write it again.
  for (let attempt = 0; ; attempt++) {
    const made = await linkFromTemp(path, text, attempt >= 2);
    if (made !== 'temp-gone') return made;
  }
}

async function linkFromTemp(path: string, text: string, last: boolean): Promise<boolean | 'temp-gone'> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(temp, 'wx');
    await fh.writeFile(text, 'utf8');
    await fh.sync();
    await fh.close();
    fh = undefined;
    try {
      await link(temp, path);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code === 'ENOENT' && !last) return 'temp-gone';
      // A file system without hard links (FAT, some network shares): create in place instead.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EOPNOTSUPP') return await createInPlace(path, text);
      throw err;
    }
  } catch (err) {
    await fh?.close().catch(() => {});
    throw ioError(err, path, 'create the lock');
  } finally {
    await unlink(temp).catch(() => {});
  }
}

async function createInPlace(path: string, text: string): Promise<boolean> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
    await fh.close();
    return true;
  } catch (err) {
    // Never leave a half-written lock behind.
    await fh.close().catch(() => {});
    await unlink(path).catch(() => {});
    throw err;
  }
}

/** The lock's text and parsed content (null content when unreadable), or null when absent. */
export async function readLock(path: string): Promise<{ text: string; info: LockInfo | null } | null> {
  for (let attempt = 0; ; attempt++) {
    const text = await readTextIfExists(path, 'read the lock');
    if (text === undefined) return null;
    const info = parseLock(text);
    // An empty or torn file may be an older version's opener between its create and its write; look again.
    if (info !== null || attempt >= 2) return { text, info };
    await new Promise((r) => setTimeout(r, 50));
  }
}

function parseLock(text: string): LockInfo | null {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    // pid must be a positive integer: process.kill(0 or -n) would signal a process group.
    if (!Number.isInteger(v.pid) || (v.pid as number) <= 0 || typeof v.hostname !== 'string') return null;
    const info: LockInfo = {
      pid: v.pid as number,
      hostname: v.hostname,
      holder: typeof v.holder === 'string' ? v.holder : 'an unknown program',
      since: typeof v.since === 'string' ? v.since : 'an unknown time',
    };
    if (typeof v.command === 'string') info.command = v.command;
    if (typeof v.startTime === 'string') info.startTime = v.startTime;
    return info;
  } catch {
    return null;
  }
}

/**
 * Only a lock from this machine can be judged: stale when its process is gone, or (Linux)
 * when the pid now belongs to a process that started at another time (the pid was reused).
 */
export function isStale(info: LockInfo): boolean {
  if (info.hostname !== hostname()) return false;
  if (!isProcessAlive(info.pid)) return true;
  if (info.startTime === undefined) return false;
  const now = processStartTime(info.pid);
  return now !== null && now !== info.startTime;
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

/** Linux: field 22 of /proc/PID/stat (start time, clock ticks after boot); null elsewhere or when gone. */
export function processStartTime(pid: number): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 is the command name in parentheses and may hold spaces or ')': split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = fields[22 - 3];
    return start !== undefined && /^\d+$/.test(start) ? start : null;
  } catch {
    return null;
  }
}

function commandLine(): string {
  const line = ['embedsmith', ...process.argv.slice(2)].join(' ');
  return line.length > 200 ? line.slice(0, 199) + '…' : line;
}

export function describeHolder(info: LockInfo): string {
  const cmd = info.command ? `, running \`${info.command}\`` : '';
  return `${info.holder} (pid ${info.pid} on ${info.hostname}${cmd}, since ${info.since})`;
}

function lockedError(kind: LockKind, target: string, path: string, info: LockInfo): EngineError {
  const who = describeHolder(info);
  const what =
    kind === 'project'
      ? `The project ${target} is already open in ${who}. Fix: close the project there (or wait for that command to finish)`
      : kind === 'dataset'
        ? `The dataset ${target} is being changed by ${who}. Fix: wait for it to finish and try again`
        : `The run folder ${target} is in use by ${who}. Fix: wait for that run to finish or stop it (Ctrl-C), or choose another --out`;
  return new EngineError('LOCKED', `${what}; if that program is no longer running, delete ${path} and try again.`, { lockPath: path, ...info });
}
