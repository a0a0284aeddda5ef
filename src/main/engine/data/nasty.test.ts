// The committed corpus of bad files (test/fixtures/nasty, made by make.mjs): each must give a
// BAD_INPUT error naming the file and the place, or a dataset whose report lists every
// skipped row — never a crash, a hang, or a silently dropped row; and never a half-made folder.
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineError } from '../../../shared/errors.js';
import { importDataset } from './import.js';
import { allRows } from '../../../../test/support/dataset-rows.js';

const NASTY = resolve(__dirname, '../../../../test/fixtures/nasty');
const nasty = (name: string) => join(NASTY, name);
let tmp: string;
beforeEach(async () => void (tmp = await mkdtemp(join(tmpdir(), 'nasty-'))));
afterEach(async () => rm(tmp, { recursive: true, force: true }));

async function failure(file: string, opts = {}): Promise<EngineError> {
  const out = join(tmp, 'ds');
  const err = await importDataset(file, out, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EngineError);
  // Nothing half-imported: neither the target nor a temp folder is left.
  expect(await readdir(tmp)).toEqual([]);
  return err as EngineError;
}

const rowsOf = allRows;

describe('nasty corpus', () => {
  it('empty file: BAD_INPUT naming the file', async () => {
    const e = await failure(nasty('empty.csv'));
    expect(e.code).toBe('BAD_INPUT');
    expect(e.message).toMatch(/empty\.csv is empty/);
  });

  it('header only: names the columns and says to add rows', async () => {
    const e = await failure(nasty('header-only.csv'));
    expect(e.code).toBe('BAD_INPUT');
    expect(e.message).toContain('header (anchor, positive) but no data lines');
  });

  it('unbalanced quote: names where the quote opened and how to fix it', async () => {
    const e = await failure(nasty('unbalanced-quote.csv'));
    expect(e.code).toBe('BAD_INPUT');
    expect(e.message).toMatch(/unbalanced-quote\.csv: a quote \(".*opened after line 2 never closes/);
    expect(e.message).toContain('Fix:');
    expect(e.details).toMatchObject({ line: 3 });
  });

  it('ragged rows: short and long rows skipped and listed; trailing empty fields tolerated', async () => {
    const r = await importDataset(nasty('ragged-rows.csv'), join(tmp, 'ds'));
    expect(r.meta.counts).toMatchObject({ sourceRows: 5, rows: 3, skipped: 2 });
    const errors = r.report.issues.filter((i) => i.severity === 'error');
    expect(errors.map((i) => [i.line, i.code])).toEqual([
      [3, 'COLUMN_COUNT'],
      [4, 'COLUMN_COUNT'],
    ]);
    expect(errors[0].message).toContain('has 3 fields but the header has 2');
    expect(r.report.issues.find((i) => i.code === 'TRAILING_FIELDS')?.line).toBe(6);
    const skipped = (await readFile(join(r.dir, 'skipped.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(skipped.map((s) => s.line)).toEqual([3, 4]);
    expect((await rowsOf(r.dir)).map((x) => x.anchor)).toEqual(['q1', 'q4', 'q5']);
  });

  it('binary garbage: refused as not text', async () => {
    const e = await failure(nasty('binary-garbage.csv'));
    expect(e.code).toBe('BAD_INPUT');
    expect(e.message).toMatch(/binary-garbage\.csv looks binary/);
  });

  it('NUL bytes inside a text: that row is skipped and listed with its line', async () => {
    const r = await importDataset(nasty('nul-bytes.csv'), join(tmp, 'ds'));
    expect(r.meta.counts).toMatchObject({ rows: 2, skipped: 1 });
    expect(r.report.issues.find((i) => i.severity === 'error')).toMatchObject({ line: 3, code: 'NUL_BYTE' });
  });

  it('mixed line endings: \\r\\n, \\n and \\r all end rows; quoted newlines stay in the text', async () => {
    const r = await importDataset(nasty('mixed-line-endings.csv'), join(tmp, 'ds'));
    const rows = await rowsOf(r.dir);
    expect(rows.map((x) => [x.line, x.anchor, x.positive])).toEqual([
      [2, 'q1', 'p1'],
      [3, 'q2', 'p2'],
      [4, 'q3', 'p3'],
      [5, 'q4', 'p4 spans\r\ntwo lines'],
      [7, 'q5', 'p5'],
    ]);
  });

  it('UTF-16 without a BOM: detected from the NUL pattern', async () => {
    const r = await importDataset(nasty('utf16-no-bom.csv'), join(tmp, 'ds'));
    expect(r.meta.source.encoding).toBe('utf16le');
    expect((await rowsOf(r.dir)).map((x) => x.positive)).toEqual(['answer one', 'réponse deux']);
    expect(r.report.issues.some((i) => i.code === 'ENCODING_DETECTED')).toBe(true);
  });

  it('duplicate header names: BAD_INPUT naming the column and both positions', async () => {
    const e = await failure(nasty('duplicate-header.csv'));
    expect(e.message).toContain("duplicate-header.csv line 1: the column name 'text' appears twice (columns 1 and 3)");
  });

  it('a JSONL line that is not JSON, and one that is not an object: skipped and listed', async () => {
    const r = await importDataset(nasty('bad-line.jsonl'), join(tmp, 'ds'));
    expect(r.meta.counts).toMatchObject({ sourceRows: 4, rows: 2, skipped: 2 });
    const errors = r.report.issues.filter((i) => i.severity === 'error');
    expect(errors.map((i) => [i.line, i.code])).toEqual([
      [2, 'INVALID_JSON'],
      [4, 'NOT_AN_OBJECT'],
    ]);
  });

  it('Parquet without the positive column: names the role, the columns and --map', async () => {
    const e = await failure(nasty('missing-column.parquet'), { format: 'pairs' });
    expect(e.message).toContain('missing-column.parquet has no column for the positive role of the pairs format; columns are: id, query');
    expect(e.message).toContain('--map positive=COLUMN');
    const auto = await failure(nasty('missing-column.parquet'));
    expect(auto.message).toContain('cannot tell the format');
  });

  it('a 50 MB single field: streamed, the row skipped as too long, the others kept', async () => {
    const file = join(tmp, 'big.csv');
    await new Promise<void>((done, fail) => {
      const w = createWriteStream(file);
      w.on('error', fail);
      w.write('anchor,positive\nq1,p1\nq2,"');
      const chunk = 'x'.repeat(1 << 20);
      for (let i = 0; i < 50; i++) w.write(chunk);
      w.end('"\nq3,p3\n', done);
    });
    const r = await importDataset(file, join(tmp, 'ds'));
    expect(r.meta.counts).toMatchObject({ rows: 2, skipped: 1 });
    expect(r.report.issues.find((i) => i.severity === 'error')).toMatchObject({ line: 3, code: 'TEXT_TOO_LONG' });
  });
});
