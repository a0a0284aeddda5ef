// The import and dataset commands: exit codes (0 ok, 2 bad usage or input), the DESIGN §6
// --json shape, and messages without stack traces.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { datasetCommand } from './dataset.js';
import { importCommand } from './import.js';
import { sink } from '../../../../../test/support/cli-run.js';

const NASTY = resolve(__dirname, '../../../../../test/fixtures/nasty');
let tmp: string;
beforeEach(async () => void (tmp = await mkdtemp(join(tmpdir(), 'cli-import-'))));
afterEach(async () => rm(tmp, { recursive: true, force: true }));

describe('embedsmith import', () => {
  it('--json prints {dataset, format, rows, skipped, issues}', async () => {
    const s = sink();
    const code = await importCommand([join(NASTY, 'ragged-rows.csv'), '--out', join(tmp, 'ds'), '--json'], s.out);
    expect(code).toBe(0);
    const o = JSON.parse(s.logs[0]);
    expect(Object.keys(o)).toEqual(['dataset', 'format', 'rows', 'skipped', 'issues']);
    expect(o).toMatchObject({ dataset: join(tmp, 'ds'), format: 'pairs', rows: 3, skipped: 2 });
    expect(o.issues[0]).toEqual({ line: 3, code: 'COLUMN_COUNT', message: expect.stringContaining('line 3') });
  });

  it.each(['empty.csv', 'header-only.csv', 'unbalanced-quote.csv', 'binary-garbage.csv', 'duplicate-header.csv', 'missing-column.parquet'])(
    '%s: exit 2, one message naming the file, no stack trace',
    async (name) => {
      const s = sink();
      expect(await importCommand([join(NASTY, name), '--out', join(tmp, 'ds')], s.out)).toBe(2);
      expect(s.errors.join('\n')).toContain(name);
      expect(s.errors.join('\n')).not.toMatch(/\n\s+at /);
    },
  );

  it('bad usage: exit 2 with the usage line', async () => {
    const s = sink();
    expect(await importCommand([join(NASTY, 'ragged-rows.csv')], s.out)).toBe(2);
    expect(s.errors[0]).toContain('--out DATASET_DIR is required');
    expect(await importCommand(['x.csv', '--out', 'd', '--format', 'quads'], s.out)).toBe(2);
    expect(await importCommand(['missing.csv', '--out', join(tmp, 'd')], s.out)).toBe(2);
  });

  it('--map and --delimiter reach the importer; dataset export and split work on the result', async () => {
    const file = join(tmp, 'in.txt');
    await writeFile(file, 'q|reply|other\nhow|like this|x\nwhy|because|y\nwhen|now|z\n');
    const s = sink();
    expect(await importCommand([file, '--out', join(tmp, 'ds'), '--delimiter', '|', '--map', 'anchor=q,positive=reply'], s.out)).toBe(0);
    expect(s.logs[0]).toContain('Imported 3 pairs rows');
    expect(await datasetCommand(['export', join(tmp, 'ds'), '--out', join(tmp, 'out.csv')], s.out)).toBe(0);
    expect(await readFile(join(tmp, 'out.csv'), 'utf8')).toBe('anchor,positive\r\nhow,like this\r\nwhy,because\r\nwhen,now\r\n');
    expect(await datasetCommand(['split', join(tmp, 'ds'), '--eval', '0.34', '--seed', '1'], s.out)).toBe(0);
    expect(JSON.parse(await readFile(join(tmp, 'ds', 'split.json'), 'utf8')).counts).toEqual({ train: 2, eval: 1 });
    expect(await datasetCommand(['export', join(tmp, 'nope'), '--out', join(tmp, 'o.csv')], s.out)).toBe(2);
  });
});
