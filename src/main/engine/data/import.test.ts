// Positive paths: each format and encoding imports into a complete dataset folder whose rows,
// roles and report match the input; export writes them back.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importDataset } from './import.js';
import { exportDataset } from './store.js';
import { allRows } from '../../../../test/support/dataset-rows.js';

let tmp: string;
beforeEach(async () => void (tmp = await mkdtemp(join(tmpdir(), 'import-'))));
afterEach(async () => rm(tmp, { recursive: true, force: true }));

async function load(name: string, content: string | Uint8Array, opts = {}) {
  const file = join(tmp, name);
  await writeFile(file, content);
  const r = await importDataset(file, join(tmp, 'ds'), opts);
  return { ...r, rows: await allRows(r.dir) };
}

describe('formats', () => {
  it('pairs from query/answer headers, with quoted commas and newlines', async () => {
    const r = await load('qa.csv', 'id,Question,Answer\n1,"what, exactly?","line one\nline two"\n2,q2,a2\n');
    expect(r.meta.format).toBe('pairs');
    expect(r.meta.roles).toEqual({ anchor: 'Question', positive: 'Answer' });
    expect(r.meta.ignoredColumns).toEqual(['id']);
    expect(r.rows).toEqual([
      { line: 2, anchor: 'what, exactly?', positive: 'line one\nline two' },
      { line: 4, anchor: 'q2', positive: 'a2' },
    ]);
    expect(await readdir(r.dir)).toEqual(expect.arrayContaining(['dataset.json', 'rows.jsonl', 'report.json', 'skipped.jsonl']));
    expect(JSON.parse(await readFile(join(r.dir, 'dataset.json'), 'utf8')).counts).toEqual({ sourceRows: 2, rows: 2, skipped: 0, warnings: 0 });
  });

  it('triplets with negative_1..2 (TSV, sniffed tab); a missing second negative is fine', async () => {
    const r = await load('t.tsv', 'anchor\tpositive\tnegative_1\tnegative_2\nq\tp\tn1\tn2\nq2\tp2\tm1\t\n');
    expect(r.meta.format).toBe('triplets');
    expect(r.meta.source.delimiter).toBe('\t');
    expect(r.rows.map((x) => x.negatives)).toEqual([['n1', 'n2'], ['m1']]);
    expect(r.meta.maxNegatives).toBe(2);
  });

  it('labeled text+label, with single-example labels and imbalance reported', async () => {
    const lines = ['text;label', ...Array.from({ length: 20 }, (_, i) => `billing question ${i};billing`), 'where is my parcel;shipping'];
    const r = await load('l.csv', lines.join('\n'));
    expect(r.meta.source.delimiter).toBe(';');
    expect(r.meta.format).toBe('labeled');
    expect(r.meta.labels).toEqual({ billing: 20, shipping: 1 });
    expect(r.report.issues.find((i) => i.code === 'SINGLE_EXAMPLE_LABEL')).toMatchObject({ line: 22 });
    expect(r.report.issues.some((i) => i.code === 'CLASS_IMBALANCE')).toBe(true);
  });

  it('pairs with a label column keep their label counts, for filtering rows by label', async () => {
    const r = await load('pl.csv', 'anchor,positive,label\nq1,p1,billing\nq2,p2,login\nq3,p3,billing\n');
    expect(r.meta.format).toBe('pairs');
    expect(r.meta.labels).toEqual({ billing: 2, login: 1 });
  });

  it('scored sentence1/sentence2/score; a non-numeric score skips the row', async () => {
    const r = await load('s.jsonl', '{"sentence1":"a","sentence2":"b","score":0.5}\n{"sentence1":"c","sentence2":"d","score":"high"}\n');
    expect(r.meta.format).toBe('scored');
    expect(r.rows).toEqual([{ line: 1, anchor: 'a', positive: 'b', score: 0.5 }]);
    expect(r.report.issues[0]).toMatchObject({ line: 2, code: 'BAD_SCORE', severity: 'error' });
  });

  it('JSONL with a negatives list', async () => {
    const r = await load('n.jsonl', '{"query":"q","positive":"p","negatives":["x","y"]}\n');
    expect(r.meta.format).toBe('triplets');
    expect(r.rows[0].negatives).toEqual(['x', 'y']);
  });

  it('Parquet pairs with --map overriding the header guess', async () => {
    const buf = parquetWriteBuffer({
      columnData: [
        { name: 'title', data: ['t1', 't2'], type: 'STRING' },
        { name: 'body', data: ['b1', 'b2'], type: 'STRING' },
        { name: 'summary', data: ['s1', 's2'], type: 'STRING' },
      ],
    });
    const r = await load('p.parquet', new Uint8Array(buf), { map: 'anchor=summary,positive=body' });
    expect(r.meta.roles).toEqual({ anchor: 'summary', positive: 'body' });
    expect(r.rows).toEqual([
      { line: 1, anchor: 's1', positive: 'b1' },
      { line: 2, anchor: 's2', positive: 'b2' },
    ]);
  });
});

describe('encodings', () => {
  const text = 'anchor,positive\ncafé,crème brûlée\n';
  it.each([
    ['utf8', Buffer.from(text, 'utf8')],
    ['utf8', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')])],
    ['utf16le', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])],
    ['utf16be', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()])],
    ['latin1', Buffer.from(text, 'latin1')],
  ])('%s (%#)', async (encoding, bytes) => {
    const r = await load('e.csv', bytes);
    expect(r.meta.source.encoding).toBe(encoding);
    expect(r.meta.source.columns).toEqual(['anchor', 'positive']); // BOM not glued to the first name
    expect(r.rows[0]).toMatchObject({ anchor: 'café', positive: 'crème brûlée' });
    expect(r.report.issues.some((i) => i.code === 'ENCODING_FALLBACK')).toBe(encoding === 'latin1');
  });

  it('Latin-1 bytes after a UTF-8-looking first 64 KiB: starts over as Latin-1 and says so', async () => {
    const head = 'anchor,positive\n' + 'plain,ascii\n'.repeat(7000);
    const r = await load('late.csv', Buffer.concat([Buffer.from(head), Buffer.from('café,thé\n', 'latin1')]));
    expect(r.meta.source.encoding).toBe('latin1');
    expect(r.rows.at(-1)).toMatchObject({ anchor: 'café', positive: 'thé' });
    expect(r.report.issues.find((i) => i.code === 'ENCODING_FALLBACK')?.line).toBe(7002);
  });

  it('--encoding utf8 on Latin-1 bytes: BAD_INPUT naming the line', async () => {
    await expect(load('x.csv', Buffer.from('anchor,positive\nq,p\ncafé,thé\n', 'latin1'), { encoding: 'utf8' })).rejects.toThrow(/x\.csv line 3 is not valid UTF-8/);
  });
});

describe('report and export', () => {
  it('a stray leading quote that swallows rows is an error naming where the field starts and ends, not one huge text', async () => {
    // Issue 15 §5: 302 rows; line 10 opens with a stray quote that a quote on line 31 closes,
    // and line 20 inside has an empty answer. Before, 280 rows came in with a 1,829-character
    // anchor and nothing said what became of lines 10–31.
    const lines = ['question,answer'];
    for (let line = 2; line <= 303; line++) {
      if (line === 10) lines.push(`"how do I reset item ${line},Open settings and press reset for item ${line}.`);
      else if (line === 20) lines.push(`what is item ${line},`);
      else if (line === 31) lines.push(`where is the "spare" item ${line}",In the drawer for item ${line}.`);
      else lines.push(`what is item ${line},Item ${line} is a thing.`);
    }
    const r = await load('stray.csv', lines.join('\n') + '\n');
    const runaway = r.report.issues.filter((i) => i.code === 'RUNAWAY_QUOTE');
    expect(runaway).toHaveLength(1);
    expect(runaway[0]).toMatchObject({ line: 10, severity: 'error' });
    expect(runaway[0].message).toMatch(/^line 10: starts a quoted field that only ends on line 31 \([\d,]+ characters over 22 lines\).*swallowed lines 10–31.*Fix: delete the quote that opens the field on line 10/);
    // Every row outside the swallowed lines is imported; the swallowed record is counted as skipped.
    expect(r.rows.map((x) => x.line)).toEqual(Array.from({ length: 302 }, (_, i) => i + 2).filter((l) => l < 10 || l > 31));
    expect(r.meta.counts).toMatchObject({ rows: 280, skipped: 1 });
    expect(r.rows.every((x) => (x.anchor ?? '').length < 40)).toBe(true);
  });

  it('a quoted text that really spans lines (prose, not rows) is kept', async () => {
    const r = await load('multi.csv', 'anchor,positive\nhow to install,"Steps:\n1. unpack it, then\n2. run setup"\nq2,p2\n');
    expect(r.report.issues).toEqual([]);
    expect(r.rows.map((x) => x.positive)).toEqual(['Steps:\n1. unpack it, then\n2. run setup', 'p2']);
  });

  it('duplicates, near-duplicates and anchor == positive are warnings with lines', async () => {
    const r = await load('d.csv', 'anchor,positive\nq,p\nq,p\nQ,  P\nsame,Same\n');
    expect(r.report.issues.map((i) => [i.line, i.code])).toEqual([
      [3, 'DUPLICATE'],
      [4, 'NEAR_DUPLICATE'],
      [5, 'ANCHOR_EQUALS_POSITIVE'],
    ]);
    expect(r.meta.counts).toMatchObject({ rows: 4, skipped: 0, warnings: 3 });
  });

  it('export writes roles as columns in CSV and JSONL, round-tripping the texts', async () => {
    const r = await load('t.csv', 'anchor,positive,negative_1\n"a, ""quoted""","multi\nline",n\n');
    await exportDataset(r.dir, join(tmp, 'out.csv'));
    await exportDataset(r.dir, join(tmp, 'out.jsonl'));
    expect(await readFile(join(tmp, 'out.csv'), 'utf8')).toBe('anchor,positive,negative_1\r\n"a, ""quoted""","multi\nline",n\r\n');
    expect(JSON.parse(await readFile(join(tmp, 'out.jsonl'), 'utf8'))).toEqual({ anchor: 'a, "quoted"', positive: 'multi\nline', negative_1: 'n' });
    const again = await importDataset(join(tmp, 'out.csv'), join(tmp, 'ds2'));
    expect(again.meta.counts.rows).toBe(1);
  });

  it('refuses to import over a non-empty folder', async () => {
    await load('a.csv', 'anchor,positive\nq,p\n');
    await expect(importDataset(join(tmp, 'a.csv'), join(tmp, 'ds'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
  });
});
