// Writing a dataset folder crash-safely: everything goes into a hidden temp folder beside the
// target and is renamed into place at the end, so a failure (bad input, full disk, Ctrl+C)
// leaves no half-made dataset behind. Import, retrieval import and derive all go through here.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import { withIo } from '../workspace/fs-errors.js';
import { ioError, syncDir, syncTree, tempPathFor } from '../workspace/atomic.js';
import { checkOutPath, type OutSource } from '../workspace/out-path.js';

const FLUSH_CHARS = 1 << 20;

/**
 * Runs `fill(temp, target)` on a fresh temp folder and renames it to `outDir`, which must be
 * absent or empty, and lie outside `sources` (the folders it is made from). `fill` may empty and refill `temp` (the importer's Latin-1 restart does).
 */
export async function writeDatasetFolder<T>(outDir: string, fill: (temp: string, target: string) => Promise<T>, sources: readonly OutSource[] = []): Promise<{ dir: string; result: T }> {
  const target = resolve(outDir);
  await checkOutPath(outDir, 'folder', sources);
  const entries = await readdir(target).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(ioError(e, target, 'list'))));
  if (entries && entries.length > 0) {
    throw new EngineError('ALREADY_EXISTS', `${target} already exists and is not empty. Fix: pick a new --out folder or delete that one.`, { path: target });
  }
  await withIo(dirname(target), 'create the folder', () => mkdir(dirname(target), { recursive: true }));
  const temp = tempPathFor(target, 'import');
  await withIo(temp, 'create the folder', () => mkdir(temp));
  try {
    const result = await fill(temp, target);
    await syncTree(temp); // the files' data reaches the disk before the name that publishes them
    // rmdir, not rm -r: only the empty folder checked above goes; one that another writer filled
    // meanwhile stays, and the rename below then fails instead of replacing it.
    await rmdir(target).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
    await rename(temp, target).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOTEMPTY' || e.code === 'EEXIST') {
        throw new EngineError('ALREADY_EXISTS', `${target} was filled by another program while this one wrote it; nothing was replaced. Fix: pick a new --out folder.`, { path: target });
      }
      throw ioError(e, target, 'rename into place');
    });
    await syncDir(dirname(target));
    return { dir: target, result };
  } catch (err) {
    await rm(temp, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

/** Empties a temp folder for a fresh attempt. */
export async function resetFolder(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
}

/** A JSONL writer that batches lines and waits on the disk (bounded memory, real errors). */
export class Sink {
  #stream: WriteStream;
  #buf: string[] = [];
  #chars = 0;
  #error: Error | undefined;
  constructor(readonly path: string) {
    this.#stream = createWriteStream(path, { flags: 'wx' });
    // A stream's errors carry no path ("ENOSPC: no space left on device, write"): name it here.
    this.#stream.on('error', (e) => (this.#error = ioError(e, path, 'write')));
  }
  async write(line: string): Promise<void> {
    this.#buf.push(line);
    this.#chars += line.length + 1;
    if (this.#chars >= FLUSH_CHARS) await this.#flush();
  }
  async #flush(): Promise<void> {
    if (this.#error) throw this.#error;
    if (this.#buf.length === 0) return;
    const data = this.#buf.join('\n') + '\n';
    this.#buf = [];
    this.#chars = 0;
    await new Promise<void>((ok, fail) => this.#stream.write(data, (e) => (e ? fail(ioError(e, this.path, 'write')) : ok())));
  }
  async close(): Promise<void> {
    await this.#flush();
    await new Promise<void>((ok, fail) => this.#stream.end((e?: Error | null) => (e ? fail(ioError(e, this.path, 'write')) : ok())));
    if (this.#error) throw this.#error;
  }
  destroy(): void {
    this.#stream.destroy();
  }
}
