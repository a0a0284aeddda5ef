// Every row of the gradient table against central finite differences in float64, run through
// the onnxruntime CPU EP. The test iterates GRADIENTS itself: a row without a case here fails.
// Fused ops without float64 kernels (Gelu, LayerNormalization) run forward as their composed
// expansions (legalize.ts), so their rules are checked against an independent forward.

import { afterAll, describe, expect, it } from 'vitest';
import type { Tensor } from './graph.js';
import { GRADIENTS } from './gradients.js';
import { INFERRED_OPS } from './infer.js';
import * as o from './ops.js';
import { type GradInput, checkGradients } from '../../../../test/support/grad-check.js';

interface Case {
  inputs: GradInput[];
  build: (...ts: Tensor[]) => Tensor;
}

const f = (name: string, shape: number[], range?: [number, number]): GradInput => ({ name, shape, range });
const pos: [number, number] = [0.5, 2];
// Values kept away from the kinks of Abs, Relu and Sign (at 0).
const awayFromZero = [-0.9, -0.5, 0.3, 0.7, -0.2, 1.1];

const CASES: Record<string, Case> = {
  Add: { inputs: [f('a', [2, 3]), f('b', [3])], build: (a, b) => o.add(a, b) },
  Sub: { inputs: [f('a', [2, 1, 3]), f('b', [4, 1])], build: (a, b) => o.sub(a, b) },
  Mul: { inputs: [f('a', [2, 3]), f('b', [2, 1])], build: (a, b) => o.mul(a, b) },
  Div: { inputs: [f('a', [3, 2]), f('b', [2], pos)], build: (a, b) => o.div(a, b) },
  Pow: { inputs: [f('a', [2, 3], pos), f('b', [2, 3], pos)], build: (a, b) => o.pow(a, b) },
  Max: { inputs: [f('a', [2, 3]), f('b', [3])], build: (a, b) => o.max(a, b) },
  Min: { inputs: [f('a', [2, 3]), f('b', [3])], build: (a, b) => o.min(a, b) },
  // Comparisons have no gradient; they are checked inside expressions that select with them.
  Less: { inputs: [f('a', [2, 3]), f('b', [3])], build: (a, b) => o.where(o.less(a, b), a, b) },
  Greater: { inputs: [f('a', [2, 3]), f('b', [3])], build: (a, b) => o.where(o.greater(a, b), o.mul(a, a), b) },
  Equal: {
    inputs: [f('a', [2, 3]), f('b', [2, 3])],
    build: (a, b) => o.where(o.equal(a, b), a, o.mul(a, b)),
  },
  // TopK gives no gradient itself; its indices select entries whose gradient flows through
  // GatherElements. Gaps between values (>= 0.1) keep the selection fixed under ±eps.
  TopK: {
    inputs: [{ name: 'a', shape: [2, 5], values: [0.9, -0.5, 0.3, 0.7, -0.2, 1.1, 0.1, -0.8, 0.4, 0.6] }],
    build: (a) => o.gatherElements(a, o.topK(a, 3).indices, 1),
  },
  Where: {
    inputs: [{ name: 'c', shape: [2, 3], dtype: 'bool', values: [1, 0, 0, 1, 1, 0] }, f('a', [2, 3]), f('b', [3])],
    build: (c, a, b) => o.where(c, a, b),
  },
  Neg: { inputs: [f('a', [2, 3])], build: (a) => o.neg(a) },
  Abs: { inputs: [{ name: 'a', shape: [2, 3], values: awayFromZero }], build: (a) => o.abs(a) },
  Sign: { inputs: [{ name: 'a', shape: [2, 3], values: awayFromZero }], build: (a) => o.mul(o.sign(a), o.mul(a, a)) },
  Relu: { inputs: [{ name: 'a', shape: [2, 3], values: awayFromZero }], build: (a) => o.relu(a) },
  Exp: { inputs: [f('a', [2, 3])], build: (a) => o.exp(a) },
  Log: { inputs: [f('a', [2, 3], pos)], build: (a) => o.log(a) },
  Sqrt: { inputs: [f('a', [2, 3], pos)], build: (a) => o.sqrt(a) },
  Erf: { inputs: [f('a', [2, 4], [-2.5, 2.5])], build: (a) => o.erf(a) },
  Gelu: { inputs: [f('a', [2, 4], [-3, 3])], build: (a) => o.gelu(a) },
  Tanh: { inputs: [f('a', [2, 3], [-2, 2])], build: (a) => o.tanh(a) },
  Sigmoid: { inputs: [f('a', [2, 3], [-3, 3])], build: (a) => o.sigmoid(a) },
  Reciprocal: { inputs: [f('a', [2, 3], pos)], build: (a) => o.reciprocal(a) },
  Identity: { inputs: [f('a', [2, 3])], build: (a) => o.identity(a) },
  // float64 -> float64, plus a bool -> float64 Cast whose input carries no gradient.
  Cast: {
    inputs: [{ name: 'a', shape: [2, 3], values: awayFromZero }],
    build: (a) => o.add(o.cast(a, 'float64'), o.mul(a, o.cast(o.greater(a, 0), 'float64'))),
  },
  Softmax: {
    inputs: [f('a', [2, 3, 4], [-2, 2])],
    build: (a) => o.add(o.softmax(a, -1), o.softmax(a, 1)),
  },
  LayerNormalization: {
    inputs: [f('x', [2, 3, 5], [-2, 2]), f('scale', [5], pos), f('bias', [5])],
    build: (x, scale, bias) => o.layerNormalization(x, scale, bias, 1e-5).y,
  },
  MatMul: { inputs: [f('a', [2, 3, 4]), f('b', [4, 5])], build: (a, b) => o.matmul(a, b) },
  // Every transpose combination, with a row-vector and a full C, alpha and beta.
  Gemm: {
    inputs: [f('a', [3, 4]), f('b', [4, 5]), f('c', [5]), f('at', [4, 3]), f('bt', [5, 4]), f('cf', [3, 5])],
    build: (a, b, c, at, bt, cf) =>
      o.add(
        o.add(o.gemm(a, b, c), o.gemm(at, bt, cf, { transA: true, transB: true })),
        o.add(o.gemm(at, b, null, { transA: true, alpha: 0.75 }), o.gemm(a, bt, c, { transB: true, alpha: 1.25, beta: 0.5 })),
      ),
  },
  // Pieces used differently, one not at all (its gradient is zeros).
  Split: {
    inputs: [f('a', [2, 6])],
    build: (a) => {
      const [x, , z] = o.split(a, [3, 1, 2], 1);
      return o.add(o.reduceSum(o.mul(x, x), [1], true), o.reduceSum(o.mul(z, 3), [1], true));
    },
  },
  ReduceSum: { inputs: [f('a', [2, 3, 4])], build: (a) => o.add(o.reduceSum(a, [1]), o.reduceSum(a)) },
  ReduceMean: { inputs: [f('a', [2, 3, 4])], build: (a) => o.reduceMean(a, [0, 2], true) },
  ReduceMax: {
    inputs: [f('a', [2, 3, 4])],
    build: (a) => o.add(o.reduceMax(a, [-1]), o.reduceSum(o.reduceMax(a, [0, 1], true))),
  },
  Transpose: { inputs: [f('a', [2, 3, 4])], build: (a) => o.transpose(a, [2, 0, 1]) },
  Reshape: { inputs: [f('a', [2, 3, 4])], build: (a) => o.reshape(a, [6, -1]) },
  Unsqueeze: { inputs: [f('a', [2, 3])], build: (a) => o.unsqueeze(a, [0, 2]) },
  Squeeze: { inputs: [f('a', [2, 1, 3])], build: (a) => o.squeeze(a, [1]) },
  Expand: { inputs: [f('a', [3, 1])], build: (a) => o.expand(a, [2, 3, 4]) },
  Concat: { inputs: [f('a', [2, 3]), f('b', [2, 1])], build: (a, b) => o.concat([a, b, a], 1) },
  Slice: { inputs: [f('a', [4, 5])], build: (a) => o.slice(a, [1, -3], [3, 100], [0, 1]) },
  Pad: { inputs: [f('a', [2, 3])], build: (a) => o.pad(a, [1, 0, 0, 2], 0.5) },
  Gather: {
    // Repeated ids: their rows' gradients must add up (embedding lookup). Both rules: a small
    // table (one-hot matmul) and one past SMALL_TABLE rows (scatter-add).
    inputs: [
      f('table', [5, 3]),
      { name: 'ids', shape: [2, 3], dtype: 'int32', values: [0, 4, 1, 4, 4, 2] },
      f('big', [70, 2]),
      { name: 'bigIds', shape: [5], dtype: 'int32', values: [69, 3, 69, 0, 40] },
    ],
    build: (t, ids, big, bigIds) =>
      o.concat([o.reshape(o.gather(t, ids, 0), [-1]), o.reshape(o.gather(big, bigIds, 0), [-1])], 0),
  },
  GatherElements: {
    inputs: [f('a', [3, 4]), { name: 'idx', shape: [3, 2], dtype: 'int64', values: [0, 3, 1, 1, 2, 0] }],
    build: (a, idx) => o.gatherElements(a, idx, 1),
  },
  ScatterElements: {
    inputs: [
      f('data', [4, 3]),
      { name: 'dup', shape: [2, 3], dtype: 'int32', values: [1, 3, 1, 1, 0, 1] },
      { name: 'uniq', shape: [2, 3], dtype: 'int32', values: [1, 3, 0, 2, 0, 1] },
      f('upd', [2, 3]),
    ],
    build: (data, dup, uniq, upd) =>
      o.add(o.scatterElements(data, dup, upd, 0, 'add'), o.scatterElements(data, uniq, o.mul(upd, upd), 0, 'none')),
  },
};

const TOLERANCE = 1e-6;
const seen: Record<string, number> = {};

describe('gradient table vs central finite differences (float64, CPU EP)', () => {
  it('covers every op the builder knows, and nothing else', () => {
    expect(Object.keys(GRADIENTS).sort()).toEqual([...INFERRED_OPS].sort());
  });

  for (const op of Object.keys(GRADIENTS)) {
    it(op, async () => {
      const c = CASES[op];
      expect(c, `no finite-difference case for ${op}: add one to CASES`).toBeDefined();
      const result = await checkGradients(c.inputs, c.build);
      expect(result.forwardOps.has(op), `the ${op} case does not use ${op}`).toBe(true);
      seen[op] = result.maxError;
      expect(result.maxError).toBeLessThan(TOLERANCE);
    });
  }

  afterAll(() => {
    const worst = Object.entries(seen).sort((a, b) => b[1] - a[1]);
    if (process.env.EMBEDSMITH_FD_REPORT) console.log(worst.map(([k, v]) => `${k} ${v.toExponential(1)}`).join('\n'));
  });
});
