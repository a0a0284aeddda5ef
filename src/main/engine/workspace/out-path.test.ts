import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOutPath } from './out-path.js';
import { atomicWriteFaults, writeStreamAtomic } from './atomic.js';

let tmp: string;
beforeEach(async () => void (tmp = await mkdtemp(join(tmpdir(), 'embedsmith-out-'))));
afterEach(async () => {
  atomicWriteFaults.afterChunk = undefined;
  await rm(tmp, { recursive: true, force: true });
});

describe('checkOutPath', () => {
  it('refuses a folder output over an existing file, and a file output over a folder, naming the path', async () => {
    await writeFile(join(tmp, 'notes.txt'), 'precious');
    await expect(checkOutPath(join(tmp, 'notes.txt'), 'folder')).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining(`--out ${join(tmp, 'notes.txt')} is an existing file`) });
    await expect(checkOutPath(tmp, 'file')).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('is a folder; this writes a file') });
    await expect(checkOutPath(join(tmp, 'new'), 'folder')).resolves.toBeUndefined();
    await expect(checkOutPath(join(tmp, 'notes.txt'), 'file')).resolves.toBeUndefined(); // a file output replaces a file: atomically
  });

  it('refuses an output inside (or equal to) a source, through symlinks too', async () => {
    const ds = join(tmp, 'ds');
    await mkdir(ds);
    const src = [{ path: ds, what: 'the dataset' }];
    await expect(checkOutPath(join(ds, 'rows.jsonl'), 'file', src)).rejects.toMatchObject({ code: 'BAD_INPUT', details: { source: ds } });
    await expect(checkOutPath(ds, 'folder', src)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await symlink(ds, join(tmp, 'link'));
    await expect(checkOutPath(join(tmp, 'link', 'deeper', 'x.jsonl'), 'file', src)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(checkOutPath(join(tmp, 'ds-out.jsonl'), 'file', src)).resolves.toBeUndefined(); // a sibling that shares the prefix
  });
});

describe('writeStreamAtomic', () => {
  it('a failure mid-write keeps the old file whole and leaves no temp', async () => {
    const file = join(tmp, 'export.jsonl');
    await writeFile(file, 'old complete export\n');
    atomicWriteFaults.afterChunk = (_t, written) => {
      if (written > 10) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    };
    await expect(
      writeStreamAtomic(file, async (write) => {
        for (let i = 0; i < 5; i++) await write(`row ${i} of the new export\n`);
      }),
    ).rejects.toMatchObject({ code: 'IO', message: expect.stringContaining(`Could not write ${file}`) });
    expect(await readFile(file, 'utf8')).toBe('old complete export\n');
    expect(await readdir(tmp)).toEqual(['export.jsonl']);
  });
});
