// previewImport against real files: it must answer what importDataset makes of the same file
// (encoding, delimiter, quoting, mapping, skipped rows by line), write nothing, and stop
// reading a large file after the first rows.
import { readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importDataset } from './import.js';
import { previewImport } from './preview.js';
import type { DatasetRow } from './types.js';
import { allRows, engineError } from '../../../../test/support/dataset-rows.js';

let tmp: string;
beforeEach(async () => void (tmp = await mkdtemp(join(tmpdir(), 'preview-'))));
afterEach(async () => rm(tmp, { recursive: true, force: true }));

async function put(name: string, content: string | Uint8Array): Promise<string> {
  const file = join(tmp, name);
  await writeFile(file, content);
  return file;
}

/** The rows importDataset stores for `file`, for comparison with the preview's. */
async function imported(file: string, opts = {}): Promise<DatasetRow[]> {
  const r = await importDataset(file, join(tmp, `ds-${Math.random().toString(36).slice(2)}`), opts);
  return allRows(r.dir);
}

const failure = engineError;

/** Descriptors this process holds open on `file` (Linux /proc; null where there is none). */
function openDescriptors(file: string): number | null {
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return null;
  }
  return fds.filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  }).length;
}

describe('previewImport', () => {
  it('a Latin-1 TSV: the encoding and tab found, accents decoded, the fallback noted, nothing written', async () => {
    const file = await put('faq.tsv', Buffer.from('question\tanswer\ncafé au lait?\tcrème brûlée\nthé\tvert\n', 'latin1'));
    const p = await previewImport(file);
    expect(p).toMatchObject({ kind: 'tsv', encoding: 'latin1', delimiter: '\t', columns: ['question', 'answer'], complete: true });
    expect(p.mapping).toEqual({ format: 'pairs', roles: { anchor: 'question', positive: 'answer' }, ignored: [] });
    expect(p.rows).toEqual([
      { line: 2, row: { line: 2, anchor: 'café au lait?', positive: 'crème brûlée' } },
      { line: 3, row: { line: 3, anchor: 'thé', positive: 'vert' } },
    ]);
    expect(p.notes).toEqual([expect.objectContaining({ code: 'ENCODING_FALLBACK', severity: 'warning', line: 2 })]);
    expect(p.rows.map((r) => r.row)).toEqual(await imported(file));
    expect(await readdir(tmp)).toEqual(expect.arrayContaining(['faq.tsv'])); // only the import made folders
    expect((await readdir(tmp)).filter((n) => !n.startsWith('ds-'))).toEqual(['faq.tsv']);
  });

  it('a CSV with quoted newlines, a sniffed semicolon and a mapping that skips rows: lines and issues as the import reports them', async () => {
    const csv = 'id;q;reply;notes\n1;"two\nlines; here";yes;\n2;plain;"say ""hi""";n\n3;;empty q;x\n4;a;b;c;d\n';
    const file = await put('support.csv', csv);
    const p = await previewImport(file, { map: 'anchor=q,positive=reply' });
    expect(p).toMatchObject({ kind: 'csv', encoding: 'utf8', delimiter: ';', columns: ['id', 'q', 'reply', 'notes'], complete: true });
    expect(p.mapping).toEqual({ format: 'pairs', roles: { anchor: 'q', positive: 'reply' }, ignored: ['id', 'notes'] });
    expect(p.rows).toEqual([
      { line: 2, row: { line: 2, anchor: 'two\nlines; here', positive: 'yes' } },
      { line: 4, row: { line: 4, anchor: 'plain', positive: 'say "hi"' } },
      { line: 5, row: null },
      { line: 6, row: null },
    ]);
    expect(p.issues.map((i) => [i.line, i.code, i.severity])).toEqual([
      [5, 'EMPTY_FIELD', 'error'],
      [6, 'COLUMN_COUNT', 'error'],
    ]);
    expect(p.issues[0].message).toBe("line 5: column 'q' is empty; row skipped");
    // The same rows, and the same findings, as the import itself.
    expect(p.rows.flatMap((r) => (r.row ? [r.row] : []))).toEqual(await imported(file, { map: 'anchor=q,positive=reply' }));
    const report = await importDataset(file, join(tmp, 'ds'), { map: 'anchor=q,positive=reply' });
    expect(report.report.issues.map((i) => i.message)).toEqual(p.issues.map((i) => i.message));
  });

  it('JSONL: lists as negatives, a bad line listed with its number, the format chosen by the names', async () => {
    const file = await put('t.jsonl', '{"query":"q1","pos":"p1","negatives":["n1","n2"]}\nnot json\n\n{"query":"q2","pos":"p2","negatives":[]}\n');
    const p = await previewImport(file);
    expect(p).toMatchObject({ kind: 'jsonl', encoding: 'utf8', columns: ['query', 'pos', 'negatives'], complete: true });
    expect(p.delimiter).toBeUndefined();
    expect(p.mapping.format).toBe('triplets');
    expect(p.rows).toEqual([
      { line: 1, row: { line: 1, anchor: 'q1', positive: 'p1', negatives: ['n1', 'n2'] } },
      { line: 2, row: null },
      { line: 4, row: null },
    ]);
    expect(p.issues.map((i) => [i.line, i.code])).toEqual([
      [2, 'INVALID_JSON'],
      [4, 'MISSING_FIELD'],
    ]);
  });

  it('Parquet: rows by number, a forced format and --map', async () => {
    const n = 30;
    const buf = parquetWriteBuffer({
      columnData: [
        { name: 'sentence', data: Array.from({ length: n }, (_, i) => `text ${i}`), type: 'STRING' },
        { name: 'topic', data: Array.from({ length: n }, (_, i) => `t${i % 3}`), type: 'STRING' },
      ],
    });
    const file = await put('l.parquet', new Uint8Array(buf));
    const p = await previewImport(file, { format: 'labeled', map: 'label=topic', limit: 5 });
    expect(p).toMatchObject({ kind: 'parquet', columns: ['sentence', 'topic'], complete: false });
    expect(p.encoding).toBeUndefined();
    expect(p.mapping.roles).toEqual({ text: 'sentence', label: 'topic' });
    expect(p.rows.map((r) => r.row)).toEqual([0, 1, 2, 3, 4].map((i) => ({ line: i + 1, text: `text ${i}`, label: `t${i % 3}` })));
  });

  it('a mapping naming a missing column: BAD_INPUT naming it, listing the columns found, with the fix', async () => {
    const file = await put('support.csv', 'id,question,reply\n1,q,a\n');
    const e = await failure(previewImport(file, { map: 'positive=answer' }));
    expect(e.code).toBe('BAD_INPUT');
    expect(e.message).toBe(`--map positive=answer: column 'answer' not found in ${file}; columns are: id, question, reply. Fix: map the positive role to one of them.`);
    expect(e.details).toMatchObject({ column: 'answer', columns: ['id', 'question', 'reply'] });
    expect(openDescriptors(file) ?? 0).toBe(0); // the file was let go although no row was read
    // A header that names no roles: the columns, so a form can offer them.
    const other = await put('x.csv', 'foo,bar\n1,2\n');
    expect((await failure(previewImport(other))).details).toMatchObject({ columns: ['foo', 'bar'] });
  });

  it('a missing file, an unreadable encoding, a bad delimiter or limit: errors that name it and the fix', async () => {
    const missing = await failure(previewImport(join(tmp, 'nope.csv')));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toBe(`${join(tmp, 'nope.csv')} does not exist. Fix: check the path.`);
    const latin = await put('l.csv', Buffer.from('anchor,positive\ncafé,thé\n', 'latin1'));
    expect((await failure(previewImport(latin, { encoding: 'utf8' }))).message).toBe(`${latin} line 2 is not valid UTF-8. Fix: re-save the file as UTF-8, or pass --encoding latin1 (or utf16le).`);
    const zip = await put('book.csv', Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4]));
    expect((await failure(previewImport(zip))).message).toMatch(/book\.csv is not a text table: it looks like a ZIP archive/);
    expect((await failure(previewImport(latin, { encoding: 'cp1252' as never }))).message).toBe(
      "--encoding 'cp1252' is not one of auto, utf8, utf16le, utf16be, latin1. Fix: pick one of those (auto reads UTF-8, else Latin-1).",
    );
    expect((await failure(previewImport(latin, { delimiter: ';;' }))).details).toEqual({ setting: 'delimiter' });
    expect((await failure(previewImport(latin, { limit: 0 }))).message).toContain('from 1 to 200');
  });

  it('UTF-8 that turns Latin-1 within the rows shown: starts over as Latin-1 and says where, as the import does', async () => {
    // 400-byte lines: the first 64 KiB (the encoding sample) are plain ASCII, line 180 is not.
    const line = (i: number) => Buffer.from(`${'q'.repeat(195)} ${i},${'p'.repeat(195)} ${i}\n`, 'latin1');
    const bytes = Buffer.concat([Buffer.from('anchor,positive\n'), ...Array.from({ length: 300 }, (_, i) => (i === 178 ? Buffer.from('café,thé\n', 'latin1') : line(i)))]);
    const file = await put('late.csv', bytes);
    const p = await previewImport(file, { limit: 200 });
    expect(p.encoding).toBe('latin1');
    expect(p.rows[178]).toEqual({ line: 180, row: { line: 180, anchor: 'café', positive: 'thé' } });
    expect(p.notes.map((n) => [n.code, n.line])).toEqual([['ENCODING_FALLBACK', 180]]);
    const r = await importDataset(file, join(tmp, 'ds'));
    expect(r.meta.source.encoding).toBe('latin1');
    expect(r.report.issues.find((i) => i.code === 'ENCODING_FALLBACK')?.message).toBe(p.notes[0].message);
    // Past the rows shown, the preview cannot know: it says UTF-8 and the import will say otherwise.
    expect((await previewImport(file, { limit: 20 })).encoding).toBe('utf8');
  });

  it('a 200k-row file: stops after the first rows, reads a sliver of it, and lets it go', async () => {
    const lines = ['query,answer', ...Array.from({ length: 200_000 }, (_, i) => `question number ${i},answer number ${i}`)];
    // The last line opens a quote that never closes: reading to it fails, as a short file shows.
    const tail = '\n"never closed,x\n';
    const short = await put('short.csv', lines.slice(0, 6).join('\n') + tail);
    expect((await failure(previewImport(short))).message).toContain('never closes');
    const file = await put('big.csv', lines.join('\n') + tail);
    const p = await previewImport(file);
    expect(p.rows).toHaveLength(20);
    expect(p.rows[19]).toEqual({ line: 21, row: { line: 21, anchor: 'question number 19', positive: 'answer number 19' } });
    expect(p.complete).toBe(false);
    expect(p.bytes).toBeGreaterThan(7_000_000);
    expect(p.bytesRead).toBeLessThan(p.bytes / 10);
    expect(openDescriptors(file) ?? 0).toBe(0);
  });
});
