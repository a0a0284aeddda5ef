// One place that turns a failed file-system call into an EngineError naming the path, what was
// being done, the OS code, and what to do about it. Node's own messages ("ENOSPC: no space
// left on device, write") name neither the file nor a fix, and a write on an open handle or a
// stream carries no path at all, so callers pass the path they were writing.
import { readFile } from 'node:fs/promises';
import { EngineError } from '../../../shared/errors.js';

const FIXES: Record<string, string> = {
  ENOSPC: 'the disk is full: free space on the disk that holds it (or write somewhere else) and run the command again',
  EDQUOT: 'your disk quota is used up: free space (or write somewhere else) and run the command again',
  EFBIG: 'the file system cannot hold a file this large (FAT32 stops at 4 GiB): write to a disk formatted with ext4, APFS or NTFS',
  EACCES: 'you lack the permission: check the owner and mode of the file and the folders above it (ls -l), or use a folder you own',
  EPERM: 'the operating system forbids it: check the file is not locked, immutable or owned by another user, or use a folder you own',
  EROFS: 'the file system is read-only: write somewhere else',
  ELOOP: 'a symbolic link on the path points back to itself (a link loop): fix or remove the link (ls -l shows where each points)',
  ENOENT: 'it does not exist: check the path, and that the folder was not moved or deleted meanwhile',
  ENOTDIR: 'a part of the path is a file, not a folder: check the path',
  EISDIR: 'it is a folder where a file was expected: give the path of a file',
  ENAMETOOLONG: 'the path is too long for the file system: use a shorter folder or file name',
  EMFILE: 'too many files are open: close other programs or raise the limit (ulimit -n)',
  ENFILE: 'the system has too many files open: close other programs and try again',
  EBUSY: 'another program is using it: close that program and try again',
  EIO: 'the disk reported a read/write error: check the disk (dmesg, SMART) and try again',
};

/** Any fs failure as EngineError('IO') naming the path, the OS code and a fix; EngineErrors pass through. */
export function ioError(err: unknown, path: string, action: string): EngineError {
  if (err instanceof EngineError) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  const code = e?.code ?? 'UNKNOWN';
  const fix = FIXES[code] ?? 'check the disk and the path, and try again';
  // Node's message repeats the code and sometimes the path: keep its short description only.
  const what = (e?.message ?? String(err)).replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '').replace(/, \w+$/, '');
  return new EngineError('IO', `Could not ${action} ${path} (${code}: ${what}). Fix: ${fix}.`, { path, osCode: code });
}

/** True for errors that came from the operating system (they carry an errno code). */
export function isFsError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).errno === 'number';
}

/** Runs `fn`; an OS error from it becomes ioError naming `path` (or the path the error names). */
export async function withIo<T>(path: string, action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isFsError(err)) throw ioError(err, err.path ?? path, action);
    throw err;
  }
}

/**
 * The last resort where errors leave the engine (a job's failure, the CLI's message): an OS
 * error no caller wrapped still gets its fix, and its path when Node kept one.
 */
export function explainFsError(err: unknown): unknown {
  if (!isFsError(err)) return err;
  return ioError(err, err.path ?? 'a file (the operating system did not say which)', err.syscall ?? 'use');
}

/** The UTF-8 text of `path`, or undefined when there is no such file; other failures as ioError(…, action). */
export async function readTextIfExists(path: string, action = 'read'): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(err, path, action);
  }
}
