// Messages for damaged dataset files and empty datasets: the file and line, and what to do.
import { appendFile, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEdit, readRow } from './edits.js';
import { importDataset } from './import.js';
import { allRows } from '../../../../test/support/dataset-rows.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'es-damaged-'));
  await writeFile(join(root, 'pairs.csv'), 'anchor,positive\nwhat is a cat,a cat is an animal\nwhat is a dog,a dog barks\n');
});
afterAll(() => rm(root, { recursive: true, force: true }));

const all = allRows;

describe('damaged and empty datasets', () => {
  it('a torn rows.jsonl line is named by file:line with a fix, not "Unexpected end of JSON input"', async () => {
    const dir = join(root, 'torn');
    await importDataset(join(root, 'pairs.csv'), dir);
    expect(await all(dir)).toHaveLength(2);
    await appendFile(join(dir, 'rows.jsonl'), '{"anchor":"cut off by a full di');
    const e = await all(dir).catch((err: { code: string; message: string }) => err);
    expect(e).toMatchObject({ code: 'SCHEMA', details: { file: join(dir, 'rows.jsonl'), line: 3 } });
    expect((e as { message: string }).message).toMatch(/rows\.jsonl:3 is damaged \(.*\).*Fix: import the source file again into a new dataset folder/);
    await writeFile(join(dir, 'rows.jsonl'), '[1,2]\n');
    await expect(all(dir)).rejects.toThrow(/rows\.jsonl:1 is damaged \(not a JSON object\)/);
  });

  it('a dataset with every row deleted says it has no rows, not "indices run 0–-1"', async () => {
    const dir = join(root, 'emptied');
    await importDataset(join(root, 'pairs.csv'), dir);
    await applyEdit(dir, { op: 'delete', index: 0 });
    await applyEdit(dir, { op: 'delete', index: 1 });
    const e = (await readRow(dir, 0).catch((err: Error) => err)) as Error;
    expect(e.message).toMatch(/has no rows at all \(none imported, or every one deleted\), so there is no row 0\. Fix: add a row/);
    expect(e.message).not.toMatch(/0–-1/);
    await expect(readRow(dir, 7)).rejects.toThrow(/no rows at all/);
  });

  it('importing a symbolic link loop says so and how to fix it', async () => {
    const loop = join(root, 'loop.csv');
    await symlink('loop.csv', loop);
    const e = (await importDataset(loop, join(root, 'never')).catch((err: Error) => err)) as Error;
    expect(e.message).toMatch(/^Could not read .*loop\.csv \(ELOOP: .*\)\. Fix: a symbolic link on the path points back to itself/);
  });
});
