// The AdamW + global-norm clipping subgraph against a plain-JS transcription of
// torch.nn.utils.clip_grad_norm_ and torch.optim.AdamW (single-tensor path).

import { describe, expect, it } from 'vitest';
import { Graph, hostTensor, toNumbers } from '../graph/index.js';
import { evaluate, uniform } from '../../../../test/support/grad-check.js';
import { mulberry32 } from '../../../shared/random.js';
import { adamwUpdate, decays } from './adamw.js';

const SHAPES = [[3, 4], [4], [2, 2]];
const DECAY = [true, false, true];
const BETAS = [0.9, 0.999] as const;
const EPS = 1e-8;

/** torch semantics, written out: clip, decay, moments, bias-corrected update. */
function reference(p: number[][], m: number[][], v: number[][], g: number[][], lr: number, wd: number, t: number, maxNorm: number) {
  const total = Math.sqrt(g.flat().reduce((s, x) => s + x * x, 0));
  const coef = Math.min(1, maxNorm / (total + 1e-6));
  const out = p.map((pi, k) =>
    pi.map((x, e) => {
      const grad = g[k][e] * coef;
      const decayed = DECAY[k] ? x * (1 - lr * wd) : x;
      const mt = BETAS[0] * m[k][e] + (1 - BETAS[0]) * grad;
      const vt = BETAS[1] * v[k][e] + (1 - BETAS[1]) * grad * grad;
      const denom = Math.sqrt(vt) / Math.sqrt(1 - BETAS[1] ** t) + EPS;
      return [decayed - (lr / (1 - BETAS[0] ** t)) * (mt / denom), mt, vt];
    }),
  );
  return { total, p: out.map((r) => r.map((x) => x[0])), m: out.map((r) => r.map((x) => x[1])), v: out.map((r) => r.map((x) => x[2])) };
}

describe('adamwUpdate', () => {
  for (const [label, maxNorm] of [['clipping', 0.5], ['no clipping', 100]] as const) {
    it(`matches torch's AdamW with ${label} (float64)`, async () => {
      const random = mulberry32(label.length);
      const n = SHAPES.map((s) => s.reduce((a, b) => a * b, 1));
      const [p, m, g] = [0, 1, 2].map(() => n.map((k) => uniform(random, k)));
      const v = n.map((k) => uniform(random, k, 0, 0.1));
      const [lr, wd, t] = [1e-2, 0.1, 3];

      const graph = new Graph();
      const states = SHAPES.map((s, k) => ({
        p: graph.input(`p${k}`, 'float64', s),
        m: graph.input(`m${k}`, 'float64', s),
        v: graph.input(`v${k}`, 'float64', s),
        decay: DECAY[k],
      }));
      const grads = SHAPES.map((s, k) => graph.input(`g${k}`, 'float64', s));
      const scalar = (name: string) => graph.input(name, 'float64', []);
      const { gradNorm, next } = adamwUpdate(states, grads, { stepSize: scalar('step'), invBias2: scalar('inv2'), decayFactor: scalar('decay') }, { maxGradNorm: maxNorm, betas: BETAS, eps: EPS });
      graph.output(gradNorm, 'norm');
      next.forEach((s, k) => (graph.output(s.p, `p${k}'`), graph.output(s.m, `m${k}'`), graph.output(s.v, `v${k}'`)));
      const feeds = Object.fromEntries([
        ...SHAPES.flatMap((s, k) => [
          [`p${k}`, hostTensor('float64', s, p[k])],
          [`m${k}`, hostTensor('float64', s, m[k])],
          [`v${k}`, hostTensor('float64', s, v[k])],
          [`g${k}`, hostTensor('float64', s, g[k])],
        ]),
        ['step', hostTensor('float64', [], [lr / (1 - BETAS[0] ** t)])],
        ['inv2', hostTensor('float64', [], [1 / Math.sqrt(1 - BETAS[1] ** t)])],
        ['decay', hostTensor('float64', [], [1 - lr * wd])],
      ]);
      const out = await evaluate(graph, feeds);
      const want = reference(p, m, v, g, lr, wd, t, maxNorm);
      expect(want.total > maxNorm).toBe(label === 'clipping');
      expect(toNumbers(out.norm)[0]).toBeCloseTo(want.total, 13);
      SHAPES.forEach((_, k) => {
        for (const s of ['p', 'm', 'v'] as const) {
          const got = toNumbers(out[`${s}${k}'`]);
          got.forEach((x, e) => expect(Math.abs(x - want[s][k][e])).toBeLessThan(1e-13));
        }
      });
    });
  }

  it('exempts biases and LayerNorm parameters from weight decay', () => {
    expect(decays('encoder.layer.0.attention.self.query.weight')).toBe(true);
    expect(decays('embeddings.word_embeddings.weight')).toBe(true);
    expect(decays('encoder.layer.0.output.dense.bias')).toBe(false);
    expect(decays('encoder.layer.0.output.LayerNorm.weight')).toBe(false);
    expect(decays('embeddings.LayerNorm.bias')).toBe(false);
  });
});
