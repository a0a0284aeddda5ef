// Crash-safe file replacement: write a temp file beside the target, fsync it, rename it over
// the target, fsync the folder. A reader (or the next start after a crash or power cut) sees
// either the whole old file or the whole new one, never a torn mix — rename within one folder
// is atomic on POSIX and NTFS, and the two fsyncs order the data before the name change.
import { open, rename, unlink } from 'node:fs/promises';
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

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const target = resolve(path);
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(temp, 'wx');
    let written = 0;
    // Loop: write() may write fewer bytes than asked (e.g. a full disk reports late).
    while (written < bytes.length) {
      const end = Math.min(written + CHUNK, bytes.length);
      const { bytesWritten } = await fh.write(bytes, written, end - written, written);
      written += bytesWritten;
      await atomicWriteFaults.afterChunk?.(temp, written, bytes.length);
    }
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
async function syncDir(dir: string): Promise<void> {
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
