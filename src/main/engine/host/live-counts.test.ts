// The pages' dataset numbers after edits: import-time counts (rows, held-out split, labels,
// duplicate warnings) must follow deleted and changed rows, read through the same read side
// the app uses. Expected values are worked out by hand from the CSV below.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDataset, splitDataset } from '../data/index.js';
import { applyEdit, undoLastEdit } from '../data/edits.js';
import { describeDataset, listDatasets } from './read-service.js';

let tmp: string;
let dir: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'embedsmith-live-counts-'));
  dir = join(tmp, 'project', 'datasets', 'faq');
  // Rows 0–9 (lines 2–11): row 3 repeats row 0 exactly, row 4 repeats row 1 up to case, and
  // labels a × 6, b × 4.
  const lines = ['anchor,positive,label'];
  const rows = [
    ['reset password', 'use settings', 'a'], ['refund status', 'five days', 'b'], ['login fails', 'clear cookies', 'a'],
    ['reset password', 'use settings', 'a'], ['Refund  Status', 'Five days', 'b'], ['invoice copy', 'billing page', 'a'],
    ['change plan', 'plans page', 'b'], ['delete account', 'contact us', 'a'], ['two factor', 'authenticator app', 'a'], ['ship abroad', 'yes we do', 'b'],
  ];
  for (const r of rows) lines.push(r.join(','));
  await writeFile(join(tmp, 'faq.csv'), lines.join('\n') + '\n');
  await importDataset(join(tmp, 'faq.csv'), dir);
  await splitDataset(dir, { evalFraction: 0.3, seed: 1 });
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('dataset counts after edits', () => {
  it('match the import before any edit', async () => {
    const d = await describeDataset(dir);
    expect(d.summary.rows).toBe(10);
    expect(d.summary.labels).toEqual({ a: 6, b: 4 });
    expect(d.issueCounts.DUPLICATE).toBe(1);
    expect(d.issueCounts.NEAR_DUPLICATE).toBe(1);
  });

  it('follow deletions: rows, split, labels and the duplicate warnings', async () => {
    const before = await describeDataset(dir);
    const split = before.summary.split!;
    await applyEdit(dir, { op: 'delete', index: 3 }); // the exact duplicate (label a)
    await applyEdit(dir, { op: 'delete', index: 1 }); // the first of the near pair (label b): row 4 repeats nothing now
    const d = await describeDataset(dir);
    expect(d.summary.rows).toBe(8);
    expect(d.summary.labels).toEqual({ a: 5, b: 3 });
    expect(d.summary.split!.train + d.summary.split!.eval).toBe(8);
    expect(split.train + split.eval).toBe(10);
    expect(d.issueCounts.DUPLICATE ?? 0).toBe(0);
    expect(d.issueCounts.NEAR_DUPLICATE ?? 0).toBe(0);
    expect(d.issues.filter((i) => i.code.endsWith('DUPLICATE'))).toEqual([]);
    expect(d.summary.warnings).toBe(before.summary.warnings - 2);
    // The project's dataset list (the dropdowns) says the same.
    const listed = (await listDatasets(join(tmp, 'project')))[0];
    expect(listed.rows).toBe(8);
  });

  it('find a duplicate that an edit made, and undo brings the counts back', async () => {
    await applyEdit(dir, { op: 'change', index: 6, fields: { anchor: 'ship abroad', positive: 'yes we do' } }); // now repeats row 9's texts; row 9 comes later
    let d = await describeDataset(dir);
    expect(d.issueCounts.DUPLICATE).toBe(1);
    expect(d.issues.find((i) => i.code === 'DUPLICATE')!.message).toBe('row 9 repeats row 6 exactly');
    await undoLastEdit(dir);
    await undoLastEdit(dir);
    await undoLastEdit(dir);
    d = await describeDataset(dir);
    expect(d.summary.rows).toBe(10);
    expect(d.summary.labels).toEqual({ a: 6, b: 4 });
    expect(d.issueCounts.DUPLICATE).toBe(1);
    expect(d.issueCounts.NEAR_DUPLICATE).toBe(1);
  });
});
