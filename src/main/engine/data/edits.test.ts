// Edits: every op changes what readers see and nothing else; undo and redo walk the history;
// rows.jsonl is never rewritten; bad edits are refused by the importer's rules; the journal
// survives a torn last line; export and split see the edited rows.
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyEdit, editHistory, readRow, redoEdit, undoLastEdit } from './edits.js';
import { importDataset } from './import.js';
import { splitDataset } from './split.js';
import { exportDataset, readRowsWithEdits } from './store.js';
import type { DatasetRow } from './types.js';
import { allRows } from '../../../../test/support/dataset-rows.js';

let tmp: string;
beforeEach(async () => void (tmp = await mkdtemp(join(tmpdir(), 'edits-'))));
afterEach(async () => rm(tmp, { recursive: true, force: true }));

async function dataset(csv: string, name = 'ds'): Promise<string> {
  const file = join(tmp, `${name}.csv`);
  await writeFile(file, csv);
  return (await importDataset(file, join(tmp, name))).dir;
}
const PAIRS = 'anchor,positive,label\nq0,p0,a\nq1,p1,b\nq2,p2,a\n';
const rows = (dir: string, opts = {}): Promise<DatasetRow[]> => allRows(dir, { onWarning: () => {}, ...opts });
const anchors = async (dir: string) => (await rows(dir)).map((r) => r.anchor);

describe('applyEdit', () => {
  it('add, change, delete and relabel show in readDatasetRows; rows.jsonl stays byte-identical', async () => {
    const dir = await dataset(PAIRS);
    const original = await readFile(join(dir, 'rows.jsonl'));
    const add = await applyEdit(dir, { op: 'add', row: { anchor: 'q3', positive: 'p3', label: 'b' } });
    expect(add.entry).toMatchObject({ id: 1, op: 'add', index: 3, before: null, after: { line: 0, anchor: 'q3', positive: 'p3', label: 'b' } });
    await applyEdit(dir, { op: 'change', index: 0, fields: { positive: 'p0 fixed' } });
    await applyEdit(dir, { op: 'delete', index: 1 });
    await applyEdit(dir, { op: 'relabel', index: 2, label: 'c' });
    expect(await rows(dir)).toEqual([
      { line: 2, anchor: 'q0', positive: 'p0 fixed', label: 'a' },
      { line: 4, anchor: 'q2', positive: 'p2', label: 'c' },
      { line: 0, anchor: 'q3', positive: 'p3', label: 'b' },
    ]);
    expect((await readFile(join(dir, 'rows.jsonl'))).equals(original)).toBe(true);
  });

  it('indices are stable: after deleting row 0, row 2 is still the third imported row', async () => {
    const dir = await dataset(PAIRS);
    await applyEdit(dir, { op: 'delete', index: 0 });
    await applyEdit(dir, { op: 'change', index: 2, fields: { anchor: 'q2 edited' } });
    const indexed = [];
    for await (const r of readRowsWithEdits(dir)) indexed.push([r.index, r.row.anchor]);
    expect(indexed).toEqual([
      [1, 'q1'],
      [2, 'q2 edited'],
    ]);
    await expect(applyEdit(dir, { op: 'change', index: 0, fields: { anchor: 'x' } })).rejects.toThrow(/has no row 0 .*deleted row keeps its index/);
    await expect(applyEdit(dir, { op: 'delete', index: 7 })).rejects.toMatchObject({ code: 'BAD_INPUT', details: { index: 7 } });
  });

  it('refuses rows the importer would skip, naming the row, the field and the fix', async () => {
    const dir = await dataset(PAIRS);
    await expect(applyEdit(dir, { op: 'change', index: 1, fields: { anchor: '   ' } })).rejects.toThrow(/row 1: column 'anchor' is empty\. Fix: /);
    await expect(applyEdit(dir, { op: 'add', row: { anchor: 'q' } })).rejects.toThrow(/column 'positive' has no value/);
    await expect(applyEdit(dir, { op: 'add', row: { anchor: 'q', positive: 'p', anchr: 'typo' } })).rejects.toThrow(/unknown field 'anchr'; a row of this pairs dataset has anchor, positive, label/);
    await expect(applyEdit(dir, { op: 'relabel', index: 0, label: ' ' })).rejects.toThrow(/new label is empty/);
    const triplets = await dataset('anchor,positive,negative_1\nq,p,n\n', 't');
    await expect(applyEdit(triplets, { op: 'change', index: 0, fields: { negatives: [] } })).rejects.toThrow(/no negative/);
    await expect(applyEdit(triplets, { op: 'relabel', index: 0, label: 'x' })).rejects.toThrow(/without labels/);
    const scored = await dataset('sentence1,sentence2,score\na,b,0.5\n', 's');
    await expect(applyEdit(scored, { op: 'change', index: 0, fields: { score: 'high' } })).rejects.toThrow(/score 'high' in column 'score' is not a number/);
    expect((await applyEdit(scored, { op: 'change', index: 0, fields: { score: '0.75' } })).entry.after).toMatchObject({ score: 0.75 });
    // Nothing refused reached the journal.
    expect((await editHistory(dir)).entries).toEqual([]);
  });

  it('warns but allows what the importer only warns about', async () => {
    const dir = await dataset(PAIRS);
    const r = await applyEdit(dir, { op: 'change', index: 0, fields: { positive: 'Q0' } });
    expect(r.warnings.map((w) => w.code)).toEqual(['ANCHOR_EQUALS_POSITIVE']);
  });

  it('negative_1, negative_2 … are accepted; mined scores survive only while anchor and negatives stand', async () => {
    const dir = await dataset('anchor,positive,negative_1\nq,p,n\nr,s,t\n');
    const mined = (await readFile(join(dir, 'rows.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.stringify({ ...JSON.parse(l), negativeScores: [0.5], negativeRanks: [12] }));
    await writeFile(join(dir, 'rows.jsonl'), mined.join('\n') + '\n');
    await applyEdit(dir, { op: 'change', index: 0, fields: { positive: 'p2' } });
    await applyEdit(dir, { op: 'change', index: 1, fields: { negative_1: 'u', negative_2: 'v' } });
    const [a, b] = await rows(dir);
    expect(a).toMatchObject({ positive: 'p2', negativeScores: [0.5], negativeRanks: [12] });
    expect(b).toEqual({ line: 3, anchor: 'r', positive: 's', negatives: ['u', 'v'] });
    await applyEdit(dir, { op: 'change', index: 1, fields: { negative_1: null } });
    expect((await rows(dir))[1].negatives).toEqual(['v']);
    await applyEdit(dir, { op: 'change', index: 1, fields: { negatives: ['x', 'y', 'z'] } });
    expect((await rows(dir))[1].negatives).toEqual(['x', 'y', 'z']);
  });

  it('rejecting one mined negative keeps the others\' scores and ranks', async () => {
    const dir = await dataset('anchor,positive,negative_1,negative_2,negative_3\nq,p,n1,n2,n3\n');
    const mined = (await readFile(join(dir, 'rows.jsonl'), 'utf8')).trim().split('\n')
      .map((l) => JSON.stringify({ ...JSON.parse(l), negativeScores: [0.9, 0.8, 0.7], negativeRanks: [11, 12, 13] }));
    await writeFile(join(dir, 'rows.jsonl'), mined.join('\n') + '\n');
    await applyEdit(dir, { op: 'change', index: 0, fields: { negative_2: null } });
    expect((await rows(dir))[0]).toMatchObject({ negatives: ['n1', 'n3'], negativeScores: [0.9, 0.7], negativeRanks: [11, 13] });
    // Promoting a negative to positive (same anchor) keeps the rest's too.
    await applyEdit(dir, { op: 'change', index: 0, fields: { positive: 'n1', negative_1: null } });
    expect((await rows(dir))[0]).toMatchObject({ positive: 'n1', negatives: ['n3'], negativeScores: [0.7], negativeRanks: [13] });
    // A new anchor invalidates them.
    await applyEdit(dir, { op: 'change', index: 0, fields: { anchor: 'q2' } });
    expect((await rows(dir))[0].negativeScores).toBeUndefined();
  });
});

describe('undo and redo', () => {
  it('undo walks back one edit at a time, redo forward; a new edit ends redo', async () => {
    const dir = await dataset(PAIRS);
    await applyEdit(dir, { op: 'delete', index: 0 });
    await applyEdit(dir, { op: 'change', index: 1, fields: { anchor: 'q1 new' } });
    expect(await anchors(dir)).toEqual(['q1 new', 'q2']);
    expect(await undoLastEdit(dir)).toMatchObject({ id: 2, op: 'change' });
    expect(await anchors(dir)).toEqual(['q1', 'q2']);
    expect(await undoLastEdit(dir)).toMatchObject({ id: 1, op: 'delete' });
    expect(await anchors(dir)).toEqual(['q0', 'q1', 'q2']);
    await expect(undoLastEdit(dir)).rejects.toThrow(/nothing to undo/);
    expect(await redoEdit(dir)).toMatchObject({ id: 1 });
    expect(await anchors(dir)).toEqual(['q1', 'q2']);
    await applyEdit(dir, { op: 'relabel', index: 2, label: 'z' });
    await expect(redoEdit(dir)).rejects.toThrow(/nothing to redo/);
    const h = await editHistory(dir);
    expect(h.entries.map((e) => [e.id, e.op, e.target ?? e.index, e.undone])).toEqual([
      [1, 'delete', 0, false],
      [2, 'change', 1, true],
      [3, 'undo', 2, false],
      [4, 'undo', 1, false],
      [5, 'redo', 1, false],
      [6, 'relabel', 2, false],
    ]);
    expect(h).toMatchObject({ canUndo: true, canRedo: false });
  });

  it('an undone add frees its index only until a new add; the new row takes it', async () => {
    const dir = await dataset(PAIRS);
    await applyEdit(dir, { op: 'add', row: { anchor: 'a', positive: 'b' } });
    await undoLastEdit(dir);
    expect(await anchors(dir)).toEqual(['q0', 'q1', 'q2']);
    const again = await applyEdit(dir, { op: 'add', row: { anchor: 'c', positive: 'd' } });
    expect(again.entry.index).toBe(3);
    const deleted = await applyEdit(dir, { op: 'delete', index: 3 });
    expect(deleted.entry.before).toMatchObject({ anchor: 'c' });
    expect((await applyEdit(dir, { op: 'add', row: { anchor: 'e', positive: 'f' } })).entry.index).toBe(4);
  });
});

describe('crash safety', () => {
  it('a torn last line is ignored with a warning, and the next edit cuts it off', async () => {
    const dir = await dataset(PAIRS);
    await applyEdit(dir, { op: 'delete', index: 0 });
    await appendFile(join(dir, 'edits.jsonl'), '{"id":2,"time":"2026-01-01T00:00:00Z","op":"dele');
    const warnings: string[] = [];
    expect(await rows(dir, { onWarning: (m: string) => warnings.push(m) })).toHaveLength(2);
    expect(warnings).toEqual([expect.stringMatching(/edits\.jsonl line 2: an edit cut short .* ignored/)]);
    await applyEdit(dir, { op: 'delete', index: 1 });
    const lines = (await readFile(join(dir, 'edits.jsonl'), 'utf8')).split('\n');
    expect(lines).toHaveLength(3); // two entries and the final newline: the torn bytes are gone
    expect(JSON.parse(lines[1])).toMatchObject({ id: 2, op: 'delete', index: 1 });
    expect((await editHistory(dir)).warnings).toEqual([]);
    expect(await anchors(dir)).toEqual(['q2']);
  });

  it('a damaged line before the end is an error naming the line, not a guess', async () => {
    const dir = await dataset(PAIRS);
    await applyEdit(dir, { op: 'delete', index: 0 });
    await applyEdit(dir, { op: 'delete', index: 1 });
    const [a, b] = (await readFile(join(dir, 'edits.jsonl'), 'utf8')).split('\n');
    await writeFile(join(dir, 'edits.jsonl'), `${a.slice(0, 10)}\n${b}\n`);
    await expect(rows(dir)).rejects.toMatchObject({ code: 'SCHEMA', details: { line: 1 } });
  });
});

describe('downstream readers see edits', () => {
  it('export writes edited rows, extra negatives, and mined scores and ranks after the negatives', async () => {
    const dir = await dataset('anchor,positive,negative_1\nq,p,n\nr,s,t\n');
    const mined = (await readFile(join(dir, 'rows.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l, i) => JSON.stringify({ ...JSON.parse(l), negativeScores: [0.25 + i], negativeRanks: [11 + i] }));
    await writeFile(join(dir, 'rows.jsonl'), mined.join('\n') + '\n');
    await applyEdit(dir, { op: 'delete', index: 0 });
    await applyEdit(dir, { op: 'add', row: { anchor: 'x', positive: 'y', negatives: ['n1', 'n2'] } });
    await exportDataset(dir, join(tmp, 'out.csv'));
    expect(await readFile(join(tmp, 'out.csv'), 'utf8')).toBe(
      'anchor,positive,negative_1,negative_2,negative_1_score,negative_1_rank,negative_2_score,negative_2_rank\r\n' + 'r,s,t,,1.25,12,,\r\n' + 'x,y,n1,n2,,,,\r\n',
    );
    await exportDataset(dir, join(tmp, 'out.jsonl'));
    expect(JSON.parse((await readFile(join(tmp, 'out.jsonl'), 'utf8')).split('\n')[0])).toEqual({ anchor: 'r', positive: 's', negative_1: 't', negative_1_score: 1.25, negative_1_rank: 12 });
  });

  it('split.json holds stable indices; readDatasetRows({split}) returns each side, added rows as train', async () => {
    const body = Array.from({ length: 10 }, (_, i) => `q${i},p${i}`).join('\n');
    const dir = await dataset(`anchor,positive\n${body}\n`);
    await applyEdit(dir, { op: 'delete', index: 0 });
    const s = await splitDataset(dir, { evalFraction: 0.3, seed: 1 });
    expect(s.eval).not.toContain(0);
    expect(s.counts).toEqual({ train: 6, eval: 3 });
    await applyEdit(dir, { op: 'add', row: { anchor: 'new', positive: 'row' } });
    const evalRows = await rows(dir, { split: 'eval' });
    const trainRows = await rows(dir, { split: 'train' });
    expect(evalRows.map((r) => r.anchor)).toEqual(s.eval.map((i) => `q${i}`));
    expect(trainRows.map((r) => r.anchor)).toContain('new');
    expect(trainRows.length + evalRows.length).toBe(10);
    expect(await readRow(dir, 10)).toMatchObject({ anchor: 'new', line: 0 });
  });

  it('a split needs split.json', async () => {
    const dir = await dataset(PAIRS);
    await expect(rows(dir, { split: 'eval' })).rejects.toThrow(/no split\.json\. Fix: split it first/);
  });
});
