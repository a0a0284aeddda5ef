// Layers, pooling and InfoNCE against central finite differences in float64 (test/support/grad-check.ts)
// and against plain-JS forward references.

import { describe, expect, it } from 'vitest';
import { Graph, type Tensor, hostTensor, ops as o, toNumbers } from '../graph/index.js';
import { type GradInput, checkGradients, evaluate, uniform } from '../../../../test/support/grad-check.js';
import { mulberry32 } from '../../../shared/random.js';
import { additiveMask, dropout, encoderLayer, linear, multiHeadAttention } from './layers.js';
import { infoNce } from './loss.js';
import { clsPool, l2Normalize, meanPool } from './pooling.js';

const FD_TOL = 1e-6;
const B = 2;
const L = 4;
const D = 8;
const H = 2;
const F = 12;
// Row 0 unpadded, row 1 with its last two tokens padded.
const MASK = [1, 1, 1, 1, 1, 1, 0, 0];
const mask: GradInput = { name: 'mask', shape: [B, L], dtype: 'int32', values: MASK };

/** GradInputs for a Linear [out, in] named `key`, plus a reader that picks them from the build args. */
const lin = (key: string, out: number, inp: number): GradInput[] => [
  { name: `${key}.weight`, shape: [out, inp], range: [-0.5, 0.5] },
  { name: `${key}.bias`, shape: [out], range: [-0.2, 0.2] },
];
const byName = (inputs: readonly GradInput[], ts: readonly Tensor[]) =>
  Object.fromEntries(inputs.map((i, k) => [i.name, ts[k]]));
const W = (t: Record<string, Tensor>, key: string) => ({ weight: t[`${key}.weight`], bias: t[`${key}.bias`] });
/** x [B, L, D], its padding mask, and the q, k, v and output projections of one attention block. */
const attentionInputs: GradInput[] = [{ name: 'x', shape: [B, L, D] }, mask, ...lin('q', D, D), ...lin('k', D, D), ...lin('v', D, D), ...lin('o', D, D)];

describe('layers pass finite differences in float64', () => {
  it('linear over a 3-D input (torch layout: W [out, in])', async () => {
    const inputs = [{ name: 'x', shape: [B, L, D] }, ...lin('fc', 3, D)];
    const r = await checkGradients(inputs, (...ts) => {
      const t = byName(inputs, ts);
      return linear(t.x, W(t, 'fc'));
    });
    expect(r.maxError).toBeLessThan(FD_TOL);
  });

  it('multi-head attention with a padding mask', async () => {
    const inputs: GradInput[] = [
      ...attentionInputs,
    ];
    const r = await checkGradients(inputs, (...ts) => {
      const t = byName(inputs, ts);
      const w = { query: W(t, 'q'), key: W(t, 'k'), value: W(t, 'v'), output: W(t, 'o') };
      return multiHeadAttention(t.x, additiveMask(t.mask, 'float64'), w, H);
    });
    console.log('FD attention', r.maxError);
    expect(r.forwardOps).toContain('Softmax');
    expect(r.maxError).toBeLessThan(FD_TOL);
    // The key bias cannot move the output (softmax is shift-invariant): its gradient is ~0.
    expect(r.errors['k.bias']).toBeLessThan(FD_TOL);
  });

  it('padded keys do not influence unpadded outputs (forward)', async () => {
    const random = mulberry32(3);
    const run = async (x: number[]) => {
      const g = new Graph();
      const tx = g.input('x', 'float64', [B, L, D]);
      const tm = g.input('mask', 'int32', [B, L]);
      const eye = hostTensor('float64', [D, D], Array.from({ length: D * D }, (_, i) => (i % (D + 1) === 0 ? 1 : 0)));
      const w = { weight: g.constant(eye) };
      g.output(multiHeadAttention(tx, additiveMask(tm, 'float64'), { query: w, key: w, value: w, output: w }, H), 'y');
      const out = await evaluate(g, { x: hostTensor('float64', [B, L, D], x), mask: hostTensor('int32', [B, L], MASK) });
      return toNumbers(out.y);
    };
    const x = uniform(random, B * L * D);
    const changed = [...x];
    for (let i = (L + 2) * D; i < 2 * L * D; i++) changed[i] += 5; // row 1, padded tokens 2 and 3
    const [a, b] = [await run(x), await run(changed)];
    for (let i = L * D; i < (L + 2) * D; i++) expect(a[i]).toBe(b[i]); // row 1, real tokens
  });

  it('a full encoder layer (attention, residuals, LayerNorms, GELU FFN) with dropout masks', async () => {
    const keep = (name: string, shape: number[], n: number): GradInput => ({
      name,
      shape,
      dtype: 'bool',
      values: Array.from({ length: n }, (_, i) => (i % 5 === 3 ? 0 : 1)),
    });
    const inputs: GradInput[] = [
      ...attentionInputs,
      { name: 'ln1.weight', shape: [D], range: [0.8, 1.2] },
      { name: 'ln1.bias', shape: [D], range: [-0.1, 0.1] },
      ...lin('fi', F, D),
      ...lin('fo', D, F),
      { name: 'ln2.weight', shape: [D], range: [0.8, 1.2] },
      { name: 'ln2.bias', shape: [D], range: [-0.1, 0.1] },
      keep('drop.probs', [B, H, L, L], B * H * L * L),
      keep('drop.attn', [B, L, D], B * L * D),
      keep('drop.out', [B, L, D], B * L * D),
    ];
    const r = await checkGradients(inputs, (...ts) => {
      const t = byName(inputs, ts);
      const w = {
        attention: { query: W(t, 'q'), key: W(t, 'k'), value: W(t, 'v'), output: W(t, 'o') },
        attentionNorm: W(t, 'ln1') as { weight: Tensor; bias: Tensor },
        intermediate: W(t, 'fi'),
        output: W(t, 'fo'),
        outputNorm: W(t, 'ln2') as { weight: Tensor; bias: Tensor },
      };
      const site = (name: string) => ({ keep: t[name], p: 0.1 });
      const sites = { 'attention.probs': site('drop.probs'), 'attention.output': site('drop.attn'), output: site('drop.out') };
      return encoderLayer(t.x, additiveMask(t.mask, 'float64'), w, H, 1e-5, (s) => sites[s]);
    });
    console.log('FD encoder layer', r.maxError);
    expect(r.forwardOps).toContain('Gelu');
    expect(r.maxError).toBeLessThan(FD_TOL);
  });

  it('dropout zeroes dropped elements, scales kept ones by 1/(1-p), and is the identity without a mask', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [4]);
    expect(dropout(x, null)).toBe(x);
    const y = dropout(x, { keep: g.input('keep', 'bool', [4]), p: 0.2 });
    expect(y.producer?.op).toBe('Where');
    g.output(y, 'y');
    const out = await evaluate(g, { x: hostTensor('float32', [4], [1, -2, 3, -4]), keep: hostTensor('bool', [4], [1, 0, 0, 1]) });
    expect(toNumbers(out.y)).toEqual([Math.fround(1 / 0.8), 0, 0, Math.fround(-4 * Math.fround(1 / 0.8))]);
  });

  it('dropout passes finite differences: dy flows through kept elements only, times 1/(1-p)', async () => {
    const keep = [1, 0, 1, 1, 0, 1];
    const r = await checkGradients(
      [{ name: 'x', shape: [2, 3] }, { name: 'keep', shape: [2, 3], dtype: 'bool', values: keep }],
      (x, k) => dropout(o.mul(x, x), { keep: k, p: 0.3 }),
    );
    expect(r.forwardOps).toContain('Where');
    expect(r.maxError).toBeLessThan(FD_TOL);
  });
});

describe('pooling and InfoNCE', () => {
  it('mean pooling over the mask, then L2 normalisation, passes finite differences', async () => {
    const r = await checkGradients([{ name: 'h', shape: [B, L, D] }, mask], (h, m) => l2Normalize(meanPool(h, m)));
    console.log('FD mean pool + L2', r.maxError);
    expect(r.maxError).toBeLessThan(FD_TOL);
    const c = await checkGradients([{ name: 'h', shape: [B, L, D] }], (h) => l2Normalize(clsPool(h)));
    expect(c.maxError).toBeLessThan(FD_TOL);
  });

  it('mean pooling ignores padded tokens and L2 norm gives unit rows (forward vs plain JS)', async () => {
    const h = uniform(mulberry32(5), B * L * D);
    const g = new Graph();
    const th = g.input('h', 'float64', [B, L, D]);
    const tm = g.input('mask', 'int32', [B, L]);
    g.output(l2Normalize(meanPool(th, tm)), 'e');
    const e = toNumbers((await evaluate(g, { h: hostTensor('float64', [B, L, D], h), mask: hostTensor('int32', [B, L], MASK) })).e);
    for (let b = 0; b < B; b++) {
      const n = MASK.slice(b * L, (b + 1) * L).reduce((s, v) => s + v, 0);
      const mean = Array.from({ length: D }, (_, d) => {
        let s = 0;
        for (let t = 0; t < n; t++) s += h[(b * L + t) * D + d];
        return s / n;
      });
      const norm = Math.hypot(...mean);
      mean.forEach((v, d) => expect(e[b * D + d]).toBeCloseTo(v / norm, 12));
    }
  });

  it('InfoNCE with hard negatives: value vs plain JS, gradients vs finite differences', async () => {
    const Bq = 3;
    const N = 2;
    const C = Bq + Bq * N;
    const build = (q: Tensor, docs: Tensor) => infoNce(l2Normalize(q), l2Normalize(docs), 0.05).loss;
    const r = await checkGradients([{ name: 'q', shape: [Bq, D] }, { name: 'docs', shape: [C, D] }], build, { eps: 1e-7 });
    console.log('FD InfoNCE', r.maxError);
    expect(r.maxError).toBeLessThan(FD_TOL);

    const random = mulberry32(9);
    const q = uniform(random, Bq * D);
    const docs = uniform(random, C * D);
    const g = new Graph();
    g.output(build(g.input('q', 'float64', [Bq, D]), g.input('docs', 'float64', [C, D])), 'loss');
    const got = toNumbers((await evaluate(g, { q: hostTensor('float64', [Bq, D], q), docs: hostTensor('float64', [C, D], docs) })).loss)[0];
    const unit = (v: number[]) => v.map((x) => x / Math.hypot(...v));
    const rows = (a: number[], n: number) => Array.from({ length: n }, (_, i) => unit(a.slice(i * D, (i + 1) * D)));
    const [qs, ds] = [rows(q, Bq), rows(docs, C)];
    let want = 0;
    for (let i = 0; i < Bq; i++) {
      const s = ds.map((d) => d.reduce((acc, v, k) => acc + v * qs[i][k], 0) / 0.05);
      const lse = Math.log(s.reduce((acc, v) => acc + Math.exp(v - Math.max(...s)), 0)) + Math.max(...s);
      want += (lse - s[i]) / Bq;
    }
    expect(Math.abs(got - want)).toBeLessThan(1e-12);
  });
});
