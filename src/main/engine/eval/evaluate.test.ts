import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATASET_SCHEMA_VERSION, type DatasetFormat, type DatasetRow } from '../data/types.js';
import { bruteForceTopK, type SearchFn } from '../search/top-k.js';
import { type EmbedFn, type EvalProgress, evaluateDataset } from './evaluate.js';

let tmp: string;
beforeAll(async () => void (tmp = await mkdtemp(join(tmpdir(), 'embedsmith-eval-'))));
afterAll(async () => rm(tmp, { recursive: true, force: true }));

async function dataset(name: string, format: DatasetFormat, rows: Omit<DatasetRow, 'line'>[], evalRows?: number[]): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(dir, { recursive: true });
  const meta = {
    schemaVersion: DATASET_SCHEMA_VERSION, name, format, roles: {}, ignoredColumns: [],
    source: { file: 'x.csv', kind: 'csv', bytes: 0, sha256: '', columns: [] },
    counts: { sourceRows: rows.length, rows: rows.length, skipped: 0, warnings: 0 }, maxNegatives: 2, createdAt: '', engineVersion: '',
  };
  await writeFile(join(dir, 'dataset.json'), JSON.stringify(meta));
  await writeFile(join(dir, 'rows.jsonl'), rows.map((r, i) => JSON.stringify({ line: i + 2, ...r })).join('\n') + '\n');
  if (evalRows) await writeFile(join(dir, 'split.json'), JSON.stringify({ seed: 1, evalFraction: 0.5, counts: { train: rows.length - evalRows.length, eval: evalRows.length }, eval: evalRows }));
  return dir;
}

/** Embeds by table lookup and records each call's texts and role. */
function fakeEmbed(table: Record<string, number[]>) {
  const calls: { role: string; texts: string[] }[] = [];
  const embed: EmbedFn = async (texts, role) => {
    calls.push({ role, texts });
    return new Float32Array(
      texts.flatMap((t) => {
        if (!(t in table)) throw new Error(`no vector for ${t}`);
        return table[t];
      }),
    );
  };
  return { embed, calls };
}
const brute: SearchFn = async (q, c, d, k) => bruteForceTopK(q, c, d, k);
const deg = (d: number) => [Math.cos((d * Math.PI) / 180), Math.sin((d * Math.PI) / 180)];

describe('evaluateDataset: pairs', () => {
  // Corpus d1 d2 d3 = unit axes. Vectors are not unit length: evaluate normalises them.
  //   q1 (0.2, 0.9, 0.4): ranks d2, d3, d1; relevant {d1, d3} (rows 1 and 3 merge) → ranks 3, 2
  //   q2 (0, 2, 0): d2 first; relevant {d2} → rank 1
  //   q3 (0.5, 0.1, 0.8): ranks d3, d1, d2; relevant {d1} → rank 2
  const table = { d1: [1, 0, 0], d2: [0, 1, 0], d3: [0, 0, 1], q1: [0.2, 0.9, 0.4], q2: [0, 2, 0], q3: [0.5, 0.1, 0.8] };
  const rows = [
    { anchor: 'q1', positive: 'd1' },
    { anchor: 'q2', positive: 'd2' },
    { anchor: 'q1', positive: 'd3' },
    { anchor: 'q3', positive: 'd1' },
  ];

  it('scores distinct anchors against the distinct positives (hand-computed)', async () => {
    const { embed, calls } = fakeEmbed(table);
    const r = await evaluateDataset({ dataDir: await dataset('pairs', 'pairs', rows), embed, search: brute });
    expect(calls).toEqual([
      { role: 'query', texts: ['q1', 'q2', 'q3'] },
      { role: 'document', texts: ['d1', 'd2', 'd3'] },
    ]);
    expect(r.split).toBe('all');
    expect(r.counts).toEqual({ rows: 4, queries: 3, evaluated: 3, noRelevant: 0, corpus: 3, corpusFromDir: 0, mergedAnchors: 1 });
    expect(r.perQuery.map((p) => [p.query, p.relevant, p.ranks, p.line])).toEqual([
      ['q1', ['d1', 'd3'], [3, 2], 2],
      ['q2', ['d2'], [1], 3],
      ['q3', ['d1'], [2], 5],
    ]);
    // Each query's ranked list as searched: q1 (0.2, 0.9, 0.4)/|q1| → d2, d3, d1 with those cosines.
    const n1 = Math.hypot(0.2, 0.9, 0.4);
    expect(r.perQuery[0].retrieved.map((x) => [x.text, x.relevant])).toEqual([['d2', false], ['d3', true], ['d1', true]]);
    expect(r.perQuery[0].retrieved.map((x) => x.score)).toEqual([0.9 / n1, 0.4 / n1, 0.2 / n1].map((v) => expect.closeTo(v, 6)));
    const m = r.metrics;
    expect(m['mrr@10']).toBeCloseTo((1 / 2 + 1 + 1 / 2) / 3, 12);
    // q1: DCG 1/log2(3) + 1/log2(4), IDCG 1 + 1/log2(3) → 0.693426; q2 1; q3 1/log2(3) = 0.630930
    expect(m['ndcg@10']).toBeCloseTo((0.6934264 + 1 + 0.6309298) / 3, 6);
    // q1 AP (1/2 + 2/3) / 2; q2 1; q3 1/2
    expect(m['map@100']).toBeCloseTo(((1 / 2 + 2 / 3) / 2 + 1 + 1 / 2) / 3, 12);
    expect(m['accuracy@1']).toBeCloseTo(1 / 3, 12);
    expect(m['recall@1']).toBeCloseTo(1 / 3, 12);
    expect(m['recall@5']).toBe(1);
    expect(m['precision@10']).toBeCloseTo((2 / 10 + 1 / 10 + 1 / 10) / 3, 12);
    for (const k of ['ndcg@10', 'mrr@10', 'map@100', 'recall@1', 'recall@5', 'recall@10', 'recall@100', 'accuracy@1', 'accuracy@5', 'accuracy@10', 'precision@10']) {
      expect(m[k], k).toBeTypeOf('number');
    }
  });

  it('without negatives, compares against the next anchor’s positive', async () => {
    const { embed } = fakeEmbed(table);
    const r = await evaluateDataset({ dataDir: await dataset('pairs-sim', 'pairs', rows), embed, search: brute });
    const n1 = Math.hypot(0.2, 0.9, 0.4), n3 = Math.hypot(0.5, 0.1, 0.8);
    // positives q1·d1, q1·d3, q2·d2, q3·d1; negatives q1·d2, q2·d1 (q3's neighbour q1 has d1 first: its own positive, skipped)
    expect(r.similarity.positive.mean).toBeCloseTo((0.2 / n1 + 0.4 / n1 + 1 + 0.5 / n3) / 4, 6);
    expect(r.similarity.negative.mean).toBeCloseTo((0.9 / n1 + 0) / 2, 6);
    // Only q2·d2 = 1 beats 0.9/n1 = 0.8955; all four beat 0 → 5 of 8 pairs
    expect(r.similarity.auc).toBeCloseTo(5 / 8, 12);
    expect(r.metrics.similarity_auc).toBeCloseTo(5 / 8, 12);
    expect(r.similarity.negativeKind).toMatch(/another anchor/);
  });
});

describe('evaluateDataset: triplets, split and --corpus', () => {
  const table = { a1: deg(0), a2: deg(90), p1: deg(10), n1: deg(40), p2: deg(60), n2: deg(150), x1: deg(85) };
  const rows = [
    { anchor: 'a1', positive: 'p1', negatives: ['n1'] },
    { anchor: 'a2', positive: 'p2', negatives: ['n2', 'p1'] },
  ];

  it("eval rows only as queries; every row's documents and the extra corpus are searched", async () => {
    const dir = await dataset('triplets', 'triplets', rows, [1]);
    const extra = await dataset('extra', 'pairs', [{ anchor: 'zz', positive: 'x1' }, { anchor: 'zz', positive: 'n2' }]);
    const { embed, calls } = fakeEmbed(table);
    const r = await evaluateDataset({ dataDir: dir, corpusDir: extra, embed, search: brute });
    expect(r.split).toBe('eval');
    expect(calls[0]).toEqual({ role: 'query', texts: ['a2'] });
    expect(calls[1]).toEqual({ role: 'document', texts: ['p1', 'n1', 'p2', 'n2', 'x1'] });
    expect(r.counts).toMatchObject({ rows: 1, queries: 1, corpus: 5, corpusFromDir: 1 });
    // a2 at 90°: x1 (85°) outranks p2 (60°) → rank 2
    expect(r.perQuery[0].ranks).toEqual([2]);
    expect(r.metrics['mrr@10']).toBe(0.5);
    // anchor–negative: a2·n2 = cos 60°, a2·p1 = cos 80°
    expect(r.similarity.negative.count).toBe(2);
    expect(r.similarity.negative.mean).toBeCloseTo((Math.cos(Math.PI / 3) + Math.cos((80 * Math.PI) / 180)) / 2, 6);
    expect(r.similarity.positive.mean).toBeCloseTo(Math.cos(Math.PI / 6), 6);
  });

  it("split 'all' uses every row; 'eval' without split.json is refused", async () => {
    const { embed } = fakeEmbed(table);
    const r = await evaluateDataset({ dataDir: await dataset('triplets-all', 'triplets', rows, [1]), split: 'all', embed, search: brute });
    expect(r.counts.queries).toBe(2);
    await expect(evaluateDataset({ dataDir: await dataset('nosplit', 'triplets', rows), split: 'eval', embed, search: brute })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/no split.json/),
    });
  });

  it('reports progress and stops on cancel', async () => {
    const dir = await dataset('triplets-cancel', 'triplets', rows);
    const seen: EvalProgress[] = [];
    const { embed } = fakeEmbed(table);
    await evaluateDataset({ dataDir: dir, embed, search: brute, onProgress: (p) => seen.push(p) });
    expect(seen.at(0)).toEqual({ phase: 'embed', done: 2, total: 6 });
    expect(seen.at(1)).toEqual({ phase: 'embed', done: 6, total: 6 });
    expect(seen.at(-1)).toEqual({ phase: 'search', done: 2, total: 2 });
    const ac = new AbortController();
    const run = evaluateDataset({ dataDir: dir, embed, search: brute, signal: ac.signal, onProgress: () => ac.abort() });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

describe('evaluateDataset: labelled', () => {
  // cat 0° A, kitten 12° A, dog 90° B, puppy 80° B, Tiger 5° B, TIGER 5° B (same text up to case).
  const table = { cat: deg(0), kitten: deg(12), dog: deg(90), puppy: deg(80), Tiger: deg(5), TIGER: deg(5) };
  const rows = [
    { text: 'cat', label: 'A' },
    { text: 'kitten', label: 'A' },
    { text: 'dog', label: 'B' },
    { text: 'puppy', label: 'B' },
    { text: 'Tiger', label: 'B' },
    { text: 'TIGER', label: 'B' },
  ];

  it('leave-one-out 1-NN, never voting with a case/space twin (hand-computed)', async () => {
    // cat → Tiger (5°) B ✗; kitten → Tiger (7°) B ✗; dog → puppy B ✓; puppy → dog B ✓;
    // Tiger → (TIGER excluded) cat (5°) A ✗; TIGER → cat A ✗  → accuracy 2/6
    // confusion (A, B): true A [0, 2], true B [2, 2] → F1 A 0, B 0.5 → macro 0.25
    const { embed, calls } = fakeEmbed(table);
    const r = await evaluateDataset({ dataDir: await dataset('labeled', 'labeled', rows), embed, search: brute, k: 1 });
    expect(calls).toEqual([{ role: 'text', texts: ['cat', 'kitten', 'dog', 'puppy', 'Tiger', 'TIGER'] }]);
    expect(r.classification!.predictions.map((p) => p.predicted)).toEqual(['B', 'B', 'B', 'B', 'A', 'A']);
    expect(r.classification!.mode).toBe('leave-one-out');
    expect(r.classification!.report.confusion.matrix).toEqual([[0, 2], [2, 2]]);
    expect(r.metrics.knn_accuracy).toBeCloseTo(2 / 6, 12);
    expect(r.metrics.knn_macro_f1).toBeCloseTo(0.25, 12);
    // All 15 pairs: same label 1 (A) + 6 (B), different 8.
    expect(r.similarity.positive.count).toBe(7);
    expect(r.similarity.negative.count).toBe(8);
    expect(r.similarity.positiveKind).toBe('same label');
  });

  it('with a split, train rows vote for eval rows', async () => {
    // eval: kitten, dog; voters cat A, puppy B, Tiger B, TIGER B → kitten → Tiger B ✗, dog → puppy B ✓
    const { embed } = fakeEmbed(table);
    const r = await evaluateDataset({ dataDir: await dataset('labeled-split', 'labeled', rows, [1, 2]), embed, search: brute, k: 1 });
    expect(r.classification!.mode).toBe('split');
    expect(r.classification!.predictions.map((p) => [p.text, p.predicted])).toEqual([
      ['kitten', 'B'],
      ['dog', 'B'],
    ]);
    expect(r.counts).toMatchObject({ rows: 2, corpus: 4 });
    expect(r.metrics.knn_accuracy).toBe(0.5);
  });

  it('refuses --corpus for labelled data', async () => {
    const { embed } = fakeEmbed(table);
    const dir = await dataset('labeled-corpus', 'labeled', rows);
    await expect(evaluateDataset({ dataDir: dir, corpusDir: dir, embed, search: brute })).rejects.toThrow(/leave out --corpus/);
  });
});
