// mineDataset over dataset folders written by hand: what the new folder holds for each input
// format, the --corpus dataset, the split carried over, and that a cancelled or failed run
// leaves no folder. The model is a table of 2-D unit vectors (text → angle), so every
// ordering is known; bruteForceTopK is the searcher.
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyEdit } from '../data/edits.js';
import { readDatasetMeta } from '../data/store.js';
import { DATASET_SCHEMA_VERSION, type DatasetFormat, type DatasetMeta, type DatasetRow } from '../data/types.js';
import { type EmbedFn, type MineDatasetArgs, mineDataset } from './mine-dataset.js';
import type { MineReport } from './mine-report.js';
import { bruteForceTopK } from '../search/top-k.js';
import { allRows } from '../../../../test/support/dataset-rows.js';

let tmp: string;
beforeEach(async () => void (tmp = await mkdtemp(join(tmpdir(), 'mine-'))));
afterEach(async () => rm(tmp, { recursive: true, force: true }));

const ROLES: Record<string, DatasetMeta['roles']> = {
  pairs: { anchor: 'anchor', positive: 'positive' },
  triplets: { anchor: 'anchor', positive: 'positive', negative: ['negative'] },
  labeled: { text: 'text', label: 'label' },
};

async function dataset(name: string, format: DatasetFormat, rows: Omit<DatasetRow, 'line'>[]): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(dir);
  const meta: DatasetMeta = {
    schemaVersion: DATASET_SCHEMA_VERSION,
    name,
    format,
    roles: ROLES[format],
    ignoredColumns: [],
    source: { file: `${name}.csv`, kind: 'csv', bytes: 0, sha256: '', columns: [] },
    counts: { sourceRows: rows.length, rows: rows.length, skipped: 0, warnings: 0 },
    maxNegatives: Math.max(0, ...rows.map((r) => r.negatives?.length ?? 0)),
    createdAt: new Date().toISOString(),
    engineVersion: '0.1.0',
  };
  await writeFile(join(dir, 'dataset.json'), JSON.stringify(meta));
  await writeFile(join(dir, 'rows.jsonl'), rows.map((r, i) => JSON.stringify({ line: i + 2, ...r }) + '\n').join(''));
  await writeFile(join(dir, 'report.json'), JSON.stringify({ schemaVersion: 1, issues: [], counts: {}, truncated: [] }));
  return dir;
}

/** A model that knows each text's angle; records which roles and texts it embedded. */
function model(angles: Record<string, number>) {
  const roles: string[] = [];
  const texts: string[] = [];
  const embed: EmbedFn = async (batch, role) => {
    roles.push(role);
    texts.push(...batch);
    return Float32Array.from(
      batch.flatMap((t) => {
        if (!(t in angles)) throw new Error(`no angle for '${t}'`);
        const r = (angles[t] * Math.PI) / 180;
        return [Math.cos(r), Math.sin(r)];
      }),
    );
  };
  return { embed, roles, texts };
}

const search: MineDatasetArgs['search'] = async (...a) => bruteForceTopK(...a);

const rowsOf = allRows;

// Anchors a1…a9 at 10°·i, each with positive p_i half a degree past it; a5 has a second
// positive at 44°. a5's nearest non-positive texts: p4 (40.5°, 9.5° away), p6 (60.5°, 10.5°).
const ANGLES: Record<string, number> = { p5b: 44 };
const PAIRS: Omit<DatasetRow, 'line'>[] = [];
for (let i = 1; i <= 9; i++) {
  ANGLES[`a${i}`] = 10 * i;
  ANGLES[`p${i}`] = 10 * i + 0.5;
  PAIRS.push({ anchor: `a${i}`, positive: `p${i}` });
}
PAIRS.push({ anchor: 'a5', positive: 'p5b' });
const cos = (deg: number) => Math.cos((deg * Math.PI) / 180);

describe('mineDataset', () => {
  it('pairs become triplets: every row kept, its anchor’s negatives with scores and ranks', async () => {
    const data = await dataset('pairs', 'pairs', PAIRS);
    const m = model(ANGLES);
    const r = await mineDataset({ dataDir: data, outDir: join(tmp, 'out'), embed: m.embed, search, options: { rankMin: 0, rankMax: 5, negatives: 2 }, model: { path: '/models/x' } });
    expect(m.roles).toEqual(['document', 'query']);
    const rows = await rowsOf(r.dir);
    expect(rows.map((x) => x.positive)).toEqual(PAIRS.map((x) => x.positive));
    const a5 = rows.filter((x) => x.anchor === 'a5');
    expect(a5).toHaveLength(2);
    for (const row of a5) {
      expect(row.negatives).toEqual(['p4', 'p6']); // never p5 nor p5b, its positives
      expect(row.negativeRanks).toEqual([1, 2]);
      expect(row.negativeScores![0]).toBeCloseTo(cos(9.5), 6);
      expect(row.negativeScores![1]).toBeCloseTo(cos(10.5), 6);
    }
    const meta = await readDatasetMeta(r.dir);
    expect(meta).toMatchObject({ format: 'triplets', maxNegatives: 2, name: 'out', counts: { rows: 10 } });
    expect(meta.roles.negative).toEqual(['negatives']);
    expect(r.meta.mining).toMatchObject({ from: data, model: { path: '/models/x' }, dim: 2, options: { rankMin: 0, rankMax: 5, negatives: 2, sampling: 'top' } });
    expect(r.meta.mining.counts).toEqual({ anchors: 9, corpus: 10, rows: 10, heldOut: 0, mined: 18, shortAnchors: 0, shortRows: 0 });
    const report = JSON.parse(await readFile(join(r.dir, 'mining-report.json'), 'utf8')) as MineReport;
    expect(report.totals.mined).toBe(18);
    expect(report.histograms.positive.n).toBe(10);
    expect((await readdir(r.dir)).sort()).toEqual(['dataset.json', 'mining-report.json', 'report.json', 'rows.jsonl']);
  });

  it("triplets keep their own negatives first (this model's score, rank 0) and never mine them again", async () => {
    const data = await dataset('t', 'triplets', [{ anchor: 'a5', positive: 'p5', negatives: ['p4'] }, ...PAIRS.filter((x) => x.anchor !== 'a5').map((x) => ({ ...x, negatives: [x.anchor === 'a9' ? 'p1' : 'p9'] }))]);
    const r = await mineDataset({ dataDir: data, outDir: join(tmp, 'out'), embed: model(ANGLES).embed, search, options: { rankMin: 0, rankMax: 5, negatives: 2 } });
    const [row] = await rowsOf(r.dir);
    expect(row.negatives).toEqual(['p4', 'p6', 'p3']);
    expect(row.negativeRanks).toEqual([0, 2, 3]); // p4 holds rank 1 but is not mined again
    expect(row.negativeScores![0]).toBeCloseTo(cos(9.5), 6);
    expect(r.report.removed.existing).toBeGreaterThanOrEqual(1);
    expect(r.meta).toMatchObject({ format: 'triplets', maxNegatives: 3 });
  });

  it('labeled: negatives come from other labels only; one query-side embedding; margins refused', async () => {
    const angles = { a0: 0, a1: 1, b3: 3, b4: 4, c6: 6.5 };
    const rows = [
      { text: 'a0', label: 'A' },
      { text: 'a1', label: 'A' },
      { text: 'b3', label: 'B' },
      { text: 'b4', label: 'B' },
      { text: 'c6', label: 'C' },
    ];
    const data = await dataset('l', 'labeled', rows);
    const m = model(angles);
    const r = await mineDataset({ dataDir: data, outDir: join(tmp, 'out'), embed: m.embed, search, options: { rankMin: 0, rankMax: 4, negatives: 2 } });
    expect(m.roles).toEqual(['query']);
    const out = await rowsOf(r.dir);
    expect(out.map((x) => x.negatives)).toEqual([
      ['b3', 'b4'],
      ['b3', 'b4'],
      ['a1', 'a0'],
      ['c6', 'a1'],
      ['b4', 'b3'],
    ]);
    expect(r.meta).toMatchObject({ format: 'labeled', labels: { A: 2, B: 2, C: 1 } });
    const m2 = model(angles);
    await expect(mineDataset({ dataDir: data, outDir: join(tmp, 'out2'), embed: m2.embed, search, options: { margin: 0.1 } })).rejects.toMatchObject({ code: 'BAD_INPUT', details: { setting: 'margin' } });
    expect(m2.roles).toEqual([]); // refused before any embedding
  });

  it("--corpus adds a dataset's documents, not its anchors", async () => {
    const data = await dataset('one', 'pairs', [{ anchor: 'q', positive: 'p' }]);
    const corpus = await dataset('extra', 'triplets', [{ anchor: 'zq', positive: 'zd', negatives: ['zn'] }]);
    const angles = { q: 0, p: 0.4, zq: 0.8, zd: 1.2, zn: 1.6 };
    const alone = await mineDataset({ dataDir: data, outDir: join(tmp, 'alone'), embed: model(angles).embed, search, options: { rankMin: 0, rankMax: 5, negatives: 2 } });
    expect(alone.report.totals).toMatchObject({ corpus: 1, mined: 0, short: 1 });
    const r = await mineDataset({ dataDir: data, outDir: join(tmp, 'out'), corpusDir: corpus, embed: model(angles).embed, search, options: { rankMin: 0, rankMax: 5, negatives: 2 } });
    const [row] = await rowsOf(r.dir);
    expect(row.negatives).toEqual(['zd', 'zn']); // zq is nearer, but an anchor is a query, not a document
    expect(r.meta.mining.corpus).toBe(corpus);
  });

  it('keeps a row that found no negative and counts it as short', async () => {
    const data = await dataset('one', 'pairs', [{ anchor: 'q', positive: 'p' }, { anchor: 'r', positive: 's' }]);
    const r = await mineDataset({ dataDir: data, outDir: join(tmp, 'out'), embed: model({ q: 0, p: 1, r: 90, s: 91 }).embed, search, options: { rankMin: 1, rankMax: 5, negatives: 1 } });
    const rows = await rowsOf(r.dir);
    expect(rows).toEqual([
      { line: 2, anchor: 'q', positive: 'p' },
      { line: 3, anchor: 'r', positive: 's' },
    ]);
    expect(r.report.rows).toEqual({ total: 2, short: 2, heldOut: 0 });
    expect(r.report.short.listed).toEqual([
      { anchor: 'q', line: 2, found: 0 },
      { anchor: 'r', line: 3, found: 0 },
    ]);
  });

  it('carries split.json over, renumbered past deleted rows', async () => {
    const data = await dataset('pairs', 'pairs', PAIRS);
    await writeFile(join(data, 'split.json'), JSON.stringify({ seed: 1, evalFraction: 0.2, counts: { train: 8, eval: 2 }, eval: [2, 4] }));
    await applyEdit(data, { op: 'delete', index: 1 });
    const r = await mineDataset({ dataDir: data, outDir: join(tmp, 'out'), embed: model(ANGLES).embed, search, options: { rankMin: 0, rankMax: 5, negatives: 1 } });
    const split = JSON.parse(await readFile(join(r.dir, 'split.json'), 'utf8'));
    expect(split).toEqual({ seed: 1, evalFraction: 0.2, counts: { train: 7, eval: 2 }, eval: [1, 3] });
    expect((await rowsOf(r.dir)).map((x) => x.anchor)[1]).toBe('a3');
  });
});

describe('mineDataset with a split: eval rows are held out of mining', () => {
  // a5's two rows (indices 4 and 9) are eval. Its positive p5b (44°) would be a4's nearest
  // non-positive (4° away) and p5 a6's (9.5°); its own negative e5 (45°) would be a4's second.
  const SPLIT = { seed: 1, evalFraction: 0.2, counts: { train: 8, eval: 2 }, eval: [4, 9] };
  const EVAL_TEXTS = ['a5', 'p5', 'p5b', 'e5'];

  it('pairs: train anchors never get an eval text, eval rows keep only their own negatives, counts say so', async () => {
    const rows = PAIRS.map((x, i) => (i === 4 ? { ...x, negatives: ['e5'] } : x));
    const data = await dataset('t', 'triplets', rows);
    await writeFile(join(data, 'split.json'), JSON.stringify(SPLIT));
    const m = model({ ...ANGLES, e5: 45 });
    const r = await mineDataset({ dataDir: data, outDir: join(tmp, 'out'), embed: m.embed, search, options: { rankMin: 0, rankMax: 5, negatives: 2 } });
    const out = await rowsOf(r.dir);
    expect(out.map((x) => x.anchor)).toEqual(rows.map((x) => x.anchor)); // in order, none dropped
    expect(out[3]).toMatchObject({ anchor: 'a4', negatives: ['p3', 'p2'], negativeRanks: [1, 2] }); // not p5b, e5
    expect(out[5]).toMatchObject({ anchor: 'a6', negatives: ['p7', 'p4'], negativeRanks: [1, 2] }); // not p5
    for (const row of out) for (const n of row.negatives ?? []) if (row.anchor !== 'a5') expect(EVAL_TEXTS).not.toContain(n);
    // Eval rows: own negatives scored by this model at rank 0, nothing mined; a pair stays a pair.
    expect(out[4]).toMatchObject({ anchor: 'a5', positive: 'p5', negatives: ['e5'], negativeRanks: [0] });
    expect(out[4].negativeScores![0]).toBeCloseTo(cos(5), 6);
    expect(out[9]).toEqual({ line: 11, anchor: 'a5', positive: 'p5b' });
    // Eval positives are never embedded; a5 and e5 only to score e5.
    expect(m.roles).toEqual(['document', 'query']);
    expect(m.texts).not.toContain('p5');
    expect(m.texts).not.toContain('p5b');
    expect(r.meta.mining.counts).toEqual({ anchors: 8, corpus: 8, rows: 10, heldOut: 2, mined: 16, shortAnchors: 0, shortRows: 0 });
    expect(r.report.totals).toMatchObject({ anchors: 8, corpus: 8 });
    expect(r.report.rows).toEqual({ total: 10, short: 0, heldOut: 2 });
    expect(JSON.parse(await readFile(join(r.dir, 'split.json'), 'utf8'))).toEqual(SPLIT);
  });

  it('pairs after an edit: the split still names the eval rows and they are still held out', async () => {
    const data = await dataset('pairs', 'pairs', PAIRS);
    await writeFile(join(data, 'split.json'), JSON.stringify(SPLIT));
    await applyEdit(data, { op: 'delete', index: 0 });
    const r = await mineDataset({ dataDir: data, outDir: join(tmp, 'out'), embed: model(ANGLES).embed, search, options: { rankMin: 0, rankMax: 5, negatives: 2 } });
    const out = await rowsOf(r.dir);
    const split = JSON.parse(await readFile(join(r.dir, 'split.json'), 'utf8'));
    expect(split).toEqual({ ...SPLIT, counts: { train: 7, eval: 2 }, eval: [3, 8] });
    expect(split.eval.map((i: number) => out[i])).toEqual([
      { line: 6, anchor: 'a5', positive: 'p5' },
      { line: 11, anchor: 'a5', positive: 'p5b' },
    ]);
    expect(r.meta.mining.counts).toMatchObject({ anchors: 7, rows: 9, heldOut: 2 });
  });

  it('labeled: only train texts are anchors and candidates', async () => {
    const angles = { a0: 0, a1: 1, b3: 3, b4: 4, c6: 6.5 };
    const data = await dataset('l', 'labeled', [
      { text: 'a0', label: 'A' },
      { text: 'a1', label: 'A' },
      { text: 'b3', label: 'B' },
      { text: 'b4', label: 'B' },
      { text: 'c6', label: 'C' },
    ]);
    await writeFile(join(data, 'split.json'), JSON.stringify({ seed: 1, evalFraction: 0.2, counts: { train: 4, eval: 1 }, eval: [2] }));
    const m = model(angles);
    const r = await mineDataset({ dataDir: data, outDir: join(tmp, 'out'), embed: m.embed, search, options: { rankMin: 0, rankMax: 4, negatives: 2 } });
    const out = await rowsOf(r.dir);
    expect(out.map((x) => x.negatives)).toEqual([['b4', 'c6'], ['b4', 'c6'], undefined, ['c6', 'a1'], ['b4', 'a1']]); // b3 was a0's and a1's nearest
    expect(m.texts).not.toContain('b3');
    expect(r.meta).toMatchObject({ labels: { A: 2, B: 2, C: 1 }, mining: { counts: { anchors: 4, corpus: 4, rows: 5, heldOut: 1 } } });
  });

  it('refuses a split that holds out every row, before embedding', async () => {
    const data = await dataset('one', 'pairs', [{ anchor: 'q', positive: 'p' }]);
    await writeFile(join(data, 'split.json'), JSON.stringify({ seed: 1, evalFraction: 0.5, counts: { train: 0, eval: 1 }, eval: [0] }));
    const m = model({ q: 0, p: 1 });
    await expect(mineDataset({ dataDir: data, outDir: join(tmp, 'out'), embed: m.embed, search, options: { rankMin: 0, rankMax: 5, negatives: 1 } })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/split\.json holds out all 1 rows/) });
    expect(m.roles).toEqual([]);
  });
});

describe('mineDataset leaves nothing behind', () => {
  const leftovers = async () => (await readdir(tmp)).filter((n) => n !== 'pairs');

  it('when cancelled while embedding', async () => {
    const data = await dataset('pairs', 'pairs', PAIRS);
    const ctl = new AbortController();
    const m = model(ANGLES);
    const embed: EmbedFn = async (texts, role) => {
      ctl.abort();
      return m.embed(texts, role);
    };
    await expect(mineDataset({ dataDir: data, outDir: join(tmp, 'out'), embed, search, signal: ctl.signal, options: { rankMin: 0, rankMax: 5 } })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await leftovers()).toEqual([]);
  });

  it('when cancelled after the rows are written, before the folder is renamed into place', async () => {
    const data = await dataset('pairs', 'pairs', PAIRS);
    const ctl = new AbortController();
    let wrote = false;
    const onProgress: MineDatasetArgs['onProgress'] = (p) => {
      if (p.phase === 'write' && p.done === p.total) {
        const temp = readdirSync(tmp).find((n) => n.startsWith('.out.'));
        wrote = temp !== undefined && readdirSync(join(tmp, temp)).includes('rows.jsonl');
        ctl.abort();
      }
    };
    await expect(mineDataset({ dataDir: data, outDir: join(tmp, 'out'), embed: model(ANGLES).embed, search, signal: ctl.signal, onProgress, options: { rankMin: 0, rankMax: 5 } })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(wrote).toBe(true);
    expect(await leftovers()).toEqual([]);
  });

  it('when the search fails, and refuses a non-empty --out before embedding', async () => {
    const data = await dataset('pairs', 'pairs', PAIRS);
    const broken: MineDatasetArgs['search'] = async () => {
      throw new Error('device lost');
    };
    await expect(mineDataset({ dataDir: data, outDir: join(tmp, 'out'), embed: model(ANGLES).embed, search: broken, options: { rankMin: 0, rankMax: 5 } })).rejects.toThrow('device lost');
    expect(await leftovers()).toEqual([]);
    await mkdir(join(tmp, 'full'));
    await writeFile(join(tmp, 'full', 'x'), '');
    const m = model(ANGLES);
    await expect(mineDataset({ dataDir: data, outDir: join(tmp, 'full'), embed: m.embed, search, options: { rankMin: 0, rankMax: 5 } })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(m.roles).toEqual([]);
  });
});
