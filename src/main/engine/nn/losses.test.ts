// SupCon, CoSENT and symmetric InfoNCE: values against plain-JS references written from the
// papers' formulas, gradients against central finite differences in float64.
import { describe, expect, it } from 'vitest';
import { Graph, type Tensor, hostTensor, ops as o, toNumbers } from '../graph/index.js';
import { checkGradients, evaluate, uniform } from '../../../../test/support/grad-check.js';
import { mulberry32 as rng } from '../../../shared/random.js';
import { cosentBias, cosentLoss, infoNce, matryoshkaLoss, supConLoss, supConWeights } from './loss.js';
import { l2Normalize } from './pooling.js';

const D = 6;
const unitRows = (a: number[], n: number) => Array.from({ length: n }, (_, i) => {
  const v = a.slice(i * D, (i + 1) * D);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
});
const dot = (a: number[], b: number[]) => a.reduce((s, x, k) => s + x * b[k], 0);
const lse = (xs: number[]) => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};

async function value(build: (g: Graph) => Tensor, feeds: Record<string, ReturnType<typeof hostTensor>>): Promise<number> {
  const g = new Graph();
  g.output(build(g), 'y');
  return toNumbers((await evaluate(g, feeds)).y)[0];
}

describe('supervised contrastive loss (Khosla et al. 2020, L_out)', () => {
  const labels = ['a', 'b', 'a', 'c', 'b', 'a'];
  const B = labels.length;
  const w = Array.from(supConWeights(labels));

  it('weights: 1/(|P(i)|·anchors) on same-label pairs, none for a label seen once', () => {
    // anchors with positives: rows 0,1,2,4,5 (row 3 'c' has none) -> 5.
    expect(w[0 * B + 2]).toBeCloseTo(1 / (2 * 5), 7);
    expect(w[1 * B + 4]).toBeCloseTo(1 / (1 * 5), 7);
    expect(w.slice(3 * B, 4 * B).every((x) => x === 0)).toBe(true);
    expect(w[0]).toBe(0);
  });

  it('matches the formula and finite differences', async () => {
    const temperature = 0.1;
    const build = (e: Tensor, wt: Tensor) => supConLoss(l2Normalize(e), wt, { temperature });
    const r = await checkGradients([{ name: 'e', shape: [B, D] }, { name: 'w', shape: [B, B], values: w }], build, { eps: 1e-7 });
    expect(r.maxError).toBeLessThan(1e-6);

    const e = uniform(rng(3), B * D);
    const got = await value((g) => build(g.input('e', 'float64', [B, D]), g.input('w', 'float64', [B, B])), {
      e: hostTensor('float64', [B, D], e), w: hostTensor('float64', [B, B], w),
    });
    const u = unitRows(e, B);
    let want = 0;
    const anchors = labels.filter((l, i) => labels.some((m, j) => j !== i && m === l)).length;
    for (let i = 0; i < B; i++) {
      const others = u.map((x, a) => (a === i ? null : dot(u[i], x) / temperature)).filter((x): x is number => x !== null);
      const z = lse(others);
      const pos = labels.flatMap((l, p) => (p !== i && l === labels[i] ? [p] : []));
      // The weights as fed (float32-rounded), each checked against 1/(|P(i)|·anchors) to 1e-7.
      for (const p of pos) {
        expect(Math.abs(w[i * B + p] - 1 / (pos.length * anchors))).toBeLessThan(1e-7);
        want += -(dot(u[i], u[p]) / temperature - z) * w[i * B + p];
      }
    }
    expect(Math.abs(got - want)).toBeLessThan(1e-10);
  });
});

describe('CoSENT (Su 2022)', () => {
  const gold = [0.9, 0.1, 0.5, 0.5, 0.0];
  const B = gold.length;
  it('matches log(1 + Σ_{gold_i > gold_j} exp(s_j − s_i)) and finite differences', async () => {
    const bias = Array.from(cosentBias(gold));
    const build = (u: Tensor, v: Tensor, pb: Tensor) => cosentLoss(l2Normalize(u), l2Normalize(v), pb, { temperature: 0.05 });
    const r = await checkGradients([{ name: 'u', shape: [B, D] }, { name: 'v', shape: [B, D] }, { name: 'b', shape: [B, B], values: bias }], (u, v, pb) => build(u, v, pb), { eps: 1e-7 });
    expect(r.errors.u).toBeLessThan(1e-6);
    expect(r.errors.v).toBeLessThan(1e-6);

    const random = rng(5);
    const [u, v] = [uniform(random, B * D), uniform(random, B * D)];
    const got = await value((g) => build(g.input('u', 'float64', [B, D]), g.input('v', 'float64', [B, D]), g.input('b', 'float64', [B, B])), {
      u: hostTensor('float64', [B, D], u), v: hostTensor('float64', [B, D], v), b: hostTensor('float64', [B, B], bias),
    });
    const [uu, vv] = [unitRows(u, B), unitRows(v, B)];
    const s = uu.map((x, i) => dot(x, vv[i]) / 0.05);
    const terms = [0];
    for (let i = 0; i < B; i++) for (let j = 0; j < B; j++) if (gold[i] > gold[j]) terms.push(s[j] - s[i]);
    expect(Math.abs(got - lse(terms))).toBeLessThan(1e-9);
  });
});

describe('symmetric InfoNCE (MultipleNegativesSymmetricRankingLoss)', () => {
  it('averages queries→documents and positives→queries', async () => {
    const B = 3;
    const C = 5; // 3 positives + 2 extra negatives
    const random = rng(8);
    const [q, c] = [uniform(random, B * D), uniform(random, C * D)];
    const build = (a: Tensor, b: Tensor) => infoNce(l2Normalize(a), l2Normalize(b), 0.05, undefined, { symmetric: true }).loss;
    const r = await checkGradients([{ name: 'q', shape: [B, D] }, { name: 'c', shape: [C, D] }], build, { eps: 1e-7 });
    expect(r.maxError).toBeLessThan(1e-6);
    const got = await value((g) => build(g.input('q', 'float64', [B, D]), g.input('c', 'float64', [C, D])), {
      q: hostTensor('float64', [B, D], q), c: hostTensor('float64', [C, D], c),
    });
    const [qs, cs] = [unitRows(q, B), unitRows(c, C)];
    let fwd = 0;
    let back = 0;
    for (let i = 0; i < B; i++) {
      const row = cs.map((x) => dot(qs[i], x) / 0.05);
      fwd += (lse(row) - row[i]) / B;
      const col = qs.map((x) => dot(cs[i], x) / 0.05);
      back += (lse(col) - col[i]) / B;
    }
    expect(Math.abs(got - (fwd + back) / 2)).toBeLessThan(1e-10);
  });
});

describe('Matryoshka loss (Kusupati et al. 2022; MatryoshkaLoss)', () => {
  it('sums the weighted InfoNCE of each re-normalised prefix; gradients pass finite differences', async () => {
    const B = 3;
    const W = 8;
    const dims = [{ dim: 8, weight: 1 }, { dim: 4, weight: 0.5 }, { dim: 2, weight: 2 }];
    const build = (e: Tensor) =>
      matryoshkaLoss(e, dims, (x) => infoNce(o.slice(x, [0], [B], [0]), o.slice(x, [B], [2 * B], [0]), 0.05).loss);
    const r = await checkGradients([{ name: 'e', shape: [2 * B, W] }], build, { eps: 1e-7 });
    expect(r.maxError).toBeLessThan(1e-6);
    const e = uniform(rng(12), 2 * B * W);
    const got = await value((g) => build(g.input('e', 'float64', [2 * B, W])), { e: hostTensor('float64', [2 * B, W], e) });
    let want = 0;
    for (const { dim, weight } of dims) {
      // Plain JS: cut every row to its first `dim` values, normalise, InfoNCE over the batch.
      const rows = Array.from({ length: 2 * B }, (_, i) => {
        const v = e.slice(i * W, i * W + dim);
        const n = Math.hypot(...v);
        return v.map((x) => x / n);
      });
      let l = 0;
      for (let i = 0; i < B; i++) {
        const s = rows.slice(B).map((c) => dot(rows[i], c) / 0.05);
        l += (lse(s) - s[i]) / B;
      }
      want += weight * l;
    }
    expect(Math.abs(got - want)).toBeLessThan(1e-10);
    // Each width counts: dropping the 2-wide term changes the value.
    const fewer = await value((g) => matryoshkaLoss(g.input('e', 'float64', [2 * B, W]), dims.slice(0, 2), (x) => infoNce(o.slice(x, [0], [B], [0]), o.slice(x, [B], [2 * B], [0]), 0.05).loss), { e: hostTensor('float64', [2 * B, W], e) });
    expect(Math.abs(fewer - got)).toBeGreaterThan(1e-3);
  });

  it('refuses a width the embeddings do not have', () => {
    const g = new Graph();
    const e = g.input('e', 'float64', [4, 8]);
    expect(() => matryoshkaLoss(e, [{ dim: 9, weight: 1 }], (x) => o.reduceSum(x))).toThrow(/9 is not a width of this model's 8-dimensional embeddings/);
  });
});
