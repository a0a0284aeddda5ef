// Crash-safe file replacement: write a temp file beside the target, fsync it, rename it over
// the target, fsync the folder. A reader (or the next start after a crash or power cut) sees
// either the whole old file or the whole new one, never a torn mix — rename within one folder
// is atomic on POSIX and NTFS, and the two fsyncs order the data before the name change.
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { ioError } from './fs-errors.js';

// ioError moved to fs-errors.ts (shared by reads and writes); kept importable from here.
export { ioError };

/**
 * Test-only fault points. Tests (and a child process they SIGKILL) set these to stop a write
 * at a known point; production code never sets them. A hook that throws fails the write.
 */
export const atomicWriteFaults: {
  /** After each chunk lands in the temp file; `written` of `total` bytes so far. */
  afterChunk?: (tempPath: string, written: number, total: number) => void | Promise<void>;
  /** After the temp file is complete and synced, just before it replaces the target. */
  beforeRename?: (tempPath: string) => void | Promise<void>;
} = {};

// Chunked so a large payload cannot block on one giant write and so tests can stop mid-file.
const CHUNK = 1 << 20;

/** Names of our temp files: `.<target>.<hex>.tmp`, hidden on POSIX, never the target itself. */
const TEMP_RE = /^\.(.+)\.[0-9a-f]{12}\.tmp$/;

export function isAtomicTempName(name: string): boolean {
  return TEMP_RE.test(name);
}

/**
 * The temp name every writer uses beside `target`: `.<name>.<12 hex>.<suffix>` ('tmp' for files
 * and model folders, 'import' for dataset folders). workspace/sweep.ts knows these names.
 */
export function tempPathFor(target: string, suffix: 'tmp' | 'import' = 'tmp'): string {
  const abs = resolve(target);
  return join(dirname(abs), `.${basename(abs)}.${randomBytes(6).toString('hex')}.${suffix}`);
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  await writeStreamAtomic(path, async (write) => {
    for (let at = 0; at < bytes.length; at += CHUNK) await write(bytes.subarray(at, Math.min(at + CHUNK, bytes.length)), bytes.length);
  });
}

/**
 * Writes `path` from the chunks `fill` hands to `write`, crash-safely: into a temp file beside
 * it, fsynced, renamed over it, the folder fsynced. A failure (full disk, a kill) leaves the old
 * file, or none, never a torn one: a torn export re-imports silently as a shorter dataset.
 */
export async function writeStreamAtomic<T>(path: string, fill: (write: (chunk: string | Uint8Array, total?: number) => Promise<void>) => Promise<T>): Promise<T> {
  const target = resolve(path);
  const dir = dirname(target);
  const temp = tempPathFor(target);
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  let result: T;
  try {
    fh = await open(temp, 'wx');
    const file = fh;
    let written = 0;
    result = await fill(async (chunk, total) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      // Loop: write() may write fewer bytes than asked (e.g. a full disk reports late).
      for (let at = 0; at < bytes.length; ) {
        const { bytesWritten } = await file.write(bytes, at, bytes.length - at, written);
        at += bytesWritten;
        written += bytesWritten;
      }
      await atomicWriteFaults.afterChunk?.(temp, written, total ?? written);
    });
    await fh.sync();
    await fh.close();
    fh = undefined;
    await atomicWriteFaults.beforeRename?.(temp);
    await renameWithRetry(temp, target);
  } catch (err) {
    await fh?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw ioError(err, target, 'write');
  }
  await syncDir(dir);
  return result;
}

/**
 * fsyncs every file and folder under `dir` (a model or dataset folder about to be renamed into
 * place): rename orders nothing by itself, so without this a power cut after the rename can
 * leave the new name pointing at empty files.
 */
export async function syncTree(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await syncTree(p);
    else if (e.isFile()) {
      const fh = await open(p, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  }
  await syncDir(dir);
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  // Two-space indent and a final newline: these files are meant to be read and diffed by people.
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

// Windows: a virus scanner or indexer briefly holding the target makes rename fail with
// EPERM/EACCES/EBUSY; a few short retries ride that out. Elsewhere the first error is final.
async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await rename(from, to);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const transient = code === 'EPERM' || code === 'EACCES' || code === 'EBUSY';
      if (process.platform !== 'win32' || !transient || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
    }
  }
}

// Persists the rename itself. Windows cannot open a folder for fsync (and NTFS journals the
// rename), so there the failure is expected and ignored.
export async function syncDir(dir: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (process.platform !== 'win32' && code !== 'EISDIR' && code !== 'EINVAL') throw ioError(err, dir, 'sync');
  } finally {
    await fh?.close().catch(() => {});
  }
}
