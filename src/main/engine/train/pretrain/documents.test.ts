import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDocuments } from './documents.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'es-docs-'));
  await mkdir(join(root, 'corpus/sub'), { recursive: true });
  await writeFile(join(root, 'corpus/b.md'), '\uFEFF# B\n\nBody of b.\n');
  await writeFile(join(root, 'corpus/sub/a.txt'), 'Plain text a.\n');
  await writeFile(join(root, 'corpus/empty.txt'), '  \n');
  await writeFile(join(root, 'corpus/picture.png'), 'not text');
  await writeFile(
    join(root, 'corpus/docs.jsonl'),
    ['{"title": "T1", "text": "First."}', '', '{"text": "Second, untitled."}', 'not json', '{"body": "no text key"}', '{"title": 3, "text": "x"}', '["a"]'].join('\n'),
  );
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('readDocuments', () => {
  it('reads a folder in sorted path order; lists what it skipped and counts other files', async () => {
    const set = await readDocuments(join(root, 'corpus'));
    expect(set.documents).toEqual([
      { source: 'b.md', text: '# B\n\nBody of b.\n' },
      { source: 'docs.jsonl:1', title: 'T1', text: 'First.' },
      { source: 'docs.jsonl:3', text: 'Second, untitled.' },
      { source: join('sub', 'a.txt'), text: 'Plain text a.\n' },
    ]);
    expect(set.files).toBe(4);
    expect(set.otherFiles).toBe(1);
    expect(set.skipped).toBe(5);
    expect(set.problems.map((p) => p.source)).toEqual(['docs.jsonl:4', 'docs.jsonl:5', 'docs.jsonl:6', 'docs.jsonl:7', 'empty.txt']);
    expect(set.problems[1].message).toMatch(/no "text" string \(keys: body\)/);
  });

  it('refuses an unknown extension and an input with no documents, saying what to give', async () => {
    await expect(readDocuments(join(root, 'corpus/picture.png'))).rejects.toThrow(/'\.png' is not a document file\. Fix: give a \.txt or \.md file/);
    await expect(readDocuments(join(root, 'corpus/empty.txt'))).rejects.toThrow(/gave no documents \(1 file\(s\) read.*empty\.txt: the file is empty/);
    await expect(readDocuments(join(root, 'missing'))).rejects.toThrow(/--input .*missing does not exist/);
  });
});
