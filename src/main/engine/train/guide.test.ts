// Guided in-batch negatives: the mask rule as GISTEmbedLoss states it, the masked InfoNCE
// against a plain-JS loss that leaves those candidates out, a planted near-duplicate that
// stops hurting the loss once the guide masks it, and a guided training run end to end.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDataset } from '../data/index.js';
import { Graph, hostTensor, toNumbers } from '../graph/index.js';
import { evaluate } from '../../../../test/support/grad-check.js';
import { writeRandomBert } from '../model/random-model.js';
import { NEGATIVE_FILL } from '../nn/graphs.js';
import { infoNce } from '../nn/loss.js';
import { guideBias } from './guide.js';
import { recipeLoss } from './recipe.js';
import { type StepRecord, trainRun } from './run.js';
import { TRAIN_DEFAULTS, type TrainSettings, checkSettings } from './settings.js';

const lse = (xs: number[]) => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};

/** InfoNCE of unit rows with a [B, C] bias, as the step graph computes it. */
async function maskedLoss(q: number[][], c: number[][], bias: Float32Array): Promise<number> {
  const [B, C, D] = [q.length, c.length, q[0]!.length];
  const g = new Graph();
  const out = infoNce(g.input('q', 'float32', [B, D]), g.input('c', 'float32', [C, D]), 0.05, g.input('b', 'float32', [B, C])).loss;
  g.output(out, 'y');
  const r = await evaluate(g, { q: hostTensor('float32', [B, D], q.flat()), c: hostTensor('float32', [C, D], c.flat()), b: hostTensor('float32', [B, C], Array.from(bias)) });
  return toNumbers(r.y)[0]!;
}
const unit = (v: number[]) => v.map((x) => x / Math.hypot(...v));
const dot = (a: number[], b: number[]) => a.reduce((s, x, k) => s + x * b[k]!, 0);

describe('guide mask (GISTEmbedLoss margin_strategy)', () => {
  // Row 0: positive 0.8; candidates 0.85 (above), 0.78 (within a 0.05 margin), 0.5.
  const scores = Float32Array.from([0.8, 0.85, 0.78, 0.5, 0.1, 0.9, 0.2, 0.3]);
  it('absolute masks s > s⁺ − margin, relative s > s⁺·(1 − margin), never the positive', () => {
    const plain = guideBias(scores, 2, 4, { strategy: 'absolute', margin: 0 });
    expect(Array.from(plain.bias.slice(0, 4))).toEqual([0, NEGATIVE_FILL, 0, 0]);
    // Row 1's positive is column 1 (0.9): nothing scores above it.
    expect(Array.from(plain.bias.slice(4))).toEqual([0, 0, 0, 0]);
    expect(plain.masked).toBe(1);
    const abs = guideBias(scores, 2, 4, { strategy: 'absolute', margin: 0.05 });
    expect(Array.from(abs.bias.slice(0, 4))).toEqual([0, NEGATIVE_FILL, NEGATIVE_FILL, 0]);
    const rel = guideBias(scores, 2, 4, { strategy: 'relative', margin: 0.1 }); // 0.8·0.9 = 0.72
    expect(Array.from(rel.bias.slice(0, 4))).toEqual([0, NEGATIVE_FILL, NEGATIVE_FILL, 0]);
    expect(rel.bias[4 + 1]).toBe(0);
  });

  it('a masked candidate is exactly absent from the loss; a planted near-duplicate stops hurting it', async () => {
    const D = 6;
    const rnd = (() => { let s = 7; return () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1; })();
    const q = [0, 1, 2].map(() => unit(Array.from({ length: D }, rnd)));
    const pos = q.map((v) => unit(v.map((x) => x + 0.6 * rnd())));
    // Column 3: a near-copy of query 0's positive planted as another candidate (a false negative for query 0).
    const dup = unit(pos[0]!.map((x) => x + 0.01 * rnd()));
    const c = [...pos, dup];
    const guideScores = Float32Array.from(q.flatMap((v) => c.map((d) => dot(v, d))));
    // The guide sees the duplicate as good as the positive: with a small margin it is masked for query 0.
    const { bias, masked } = guideBias(guideScores, 3, 4, { strategy: 'absolute', margin: 0.05 });
    expect(bias[0 * 4 + 3]).toBe(NEGATIVE_FILL);
    expect(masked).toBeGreaterThanOrEqual(1);
    const got = await maskedLoss(q, c, bias);
    // Plain JS: each query's softmax over the candidates the guide left in.
    let want = 0;
    for (let i = 0; i < 3; i++) {
      const kept = c.map((d, j) => [j, dot(q[i]!, d) / 0.05] as const).filter(([j]) => bias[i * 4 + j] === 0);
      want += (lse(kept.map(([, s]) => s)) - dot(q[i]!, c[i]!) / 0.05) / 3;
    }
    expect(Math.abs(got - want)).toBeLessThan(1e-4);
    const unguided = await maskedLoss(q, c, new Float32Array(12));
    const withoutDup = await maskedLoss(q, pos, new Float32Array(9));
    expect(unguided).toBeGreaterThan(withoutDup + 0.1); // the duplicate hurts query 0
    // Masked, query 0 no longer pays for its duplicate: its term is the one it has without the duplicate.
    const term0 = (cands: number[][]) => lse(cands.map((d) => dot(q[0]!, d) / 0.05)) - dot(q[0]!, pos[0]!) / 0.05;
    const guidedTerm0 = lse(c.filter((_, j) => bias[j] === 0).map((d) => dot(q[0]!, d) / 0.05)) - dot(q[0]!, pos[0]!) / 0.05;
    expect(guidedTerm0).toBeCloseTo(term0(pos), 12);
    expect(term0(c)).toBeGreaterThan(term0(pos) + 0.3);
    expect(got).toBeLessThan(unguided - 0.1);
  });
});

describe('train --guide', () => {
  const TOK = join(import.meta.dirname, '../../../../test/fixtures/models/bert-wordpiece-uncased');
  let root: string, model: string, pairs: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'es-guide-'));
    model = join(root, 'model');
    await writeRandomBert(model, { tokenizerDir: TOK, hidden: 32, layers: 1, heads: 4, intermediate: 32, seed: 9 });
    // Two rows whose positives say the same thing: in one batch each is the other's false negative.
    const lines = ['anchor,positive', 'reset my password,how to reset a password', 'forgot password,how do I reset my password', 'refund,refunds take five days', 'shipping,parcels ship in two days', 'cancel order,cancel an order from the orders page', 'change email,change your email in settings'];
    await writeFile(join(root, 'p.csv'), lines.join('\n') + '\n');
    pairs = join(root, 'pairs');
    await importDataset(join(root, 'p.csv'), pairs);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));
  const settings = (o: Partial<TrainSettings> = {}): TrainSettings => ({
    ...TRAIN_DEFAULTS, model, data: pairs, threads: 1, template: { query: '', document: '' }, device: 'cpu', batchSize: 6, lr: 1e-3, maxLength: 16, maxSteps: 3, warmup: 0, dropout: 0, shuffle: false, ...o,
  });

  it('masks what the base model ranks above each positive and records the count per step', async () => {
    const run = join(root, 'guided');
    await trainRun(settings({ guide: 'base', guideMargin: 0.02 }), run);
    const recs = (await readFile(join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
    expect(recs).toHaveLength(3);
    for (const r of recs) expect(r.guideMasked).toBeTypeOf('number');
    // A random guide ranks some of 5 other candidates above the positive for some of 6 queries.
    expect(recs[0]!.guideMasked).toBeGreaterThan(0);
    const plain = join(root, 'plain');
    await trainRun(settings(), plain);
    const p = (await readFile(join(plain, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
    expect(p[0]!.guideMasked).toBeUndefined();
    // Fewer candidates in the softmax: the first step's loss (same weights) is lower.
    expect(recs[0]!.loss).toBeLessThan(p[0]!.loss);
  });

  it('refuses what it cannot guide, and the recipe says why it cannot carry it', () => {
    expect(() => checkSettings(settings({ guide: 'base', symmetric: true }))).toThrow(/--guide: masks queries → documents only/);
    expect(() => checkSettings(settings({ guideMargin: 1 }))).toThrow(/--guide-margin: 1 must be a number in \[0, 1\)/);
    expect(() => recipeLoss(settings({ guide: 'base' }), 'pairs')).toThrow(/GISTEmbedLoss adds query–query/);
  });
});
