// A temp folder for one test file: made before its tests, removed after them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll } from 'vitest';

/** A fresh folder under the OS temp dir, named from `prefix`; the caller removes it. */
export const tempDir = (prefix: string): Promise<string> => mkdtemp(join(tmpdir(), prefix));

/**
 * Registers a beforeAll that makes a temp folder and hands its path to `set`, and removes it
 * (with everything in it) after the file's tests: `let tmp: string; withTempDir('x-', (d) => (tmp = d));`.
 */
export function withTempDir(prefix: string, set: (dir: string) => void): void {
  beforeAll(async () => {
    const dir = await tempDir(prefix);
    set(dir);
    return () => rm(dir, { recursive: true, force: true });
  });
}
