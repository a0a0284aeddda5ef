// backward(): fan-out sums, broadcast reduction, and loud failures. References are closed
// forms computed in plain JS, not the code under test.

import { describe, expect, it } from 'vitest';
import { backward } from './backward.js';
import { hostTensor, toNumbers } from './dtype.js';
import { Graph } from './graph.js';
import * as o from './ops.js';
import { checkGradients, evaluate, uniform } from '../../../../test/support/grad-check.js';
import { mulberry32 } from '../../../shared/random.js';

describe('backward', () => {
  it('sums the gradients of a tensor used several times (fan-out)', async () => {
    const xs = [0.3, -1.2, 0.8];
    const ws = [2, -0.5, 1.5];
    const g = new Graph();
    const x = g.input('x', 'float64', [3]);
    const w = g.input('w', 'float64', [3]);
    // f = sum(x*w + x*x + exp(x))  =>  df/dx = w + 2x + exp(x), df/dw = x
    const loss = o.reduceSum(o.add(o.add(o.mul(x, w), o.mul(x, x)), o.exp(x)));
    const [dx, dw] = backward(loss, [x, w]);
    g.output(dx, 'dx');
    g.output(dw, 'dw');
    const out = await evaluate(g, { x: hostTensor('float64', [3], xs), w: hostTensor('float64', [3], ws) });
    toNumbers(out.dx).forEach((v, i) => expect(v).toBeCloseTo(ws[i] + 2 * xs[i] + Math.exp(xs[i]), 12));
    expect(toNumbers(out.dw)).toEqual(xs);
  });

  it('adds no node for a Transpose that undoes another, and differentiates through the pair', async () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [2, 3, 4]);
    const t = o.transpose(x, [1, 2, 0]); // [3, 4, 2]
    expect(o.transpose(t, [2, 0, 1])).toBe(x);
    expect(o.transpose(t, [0, 2, 1]).shape).toEqual([3, 2, 4]); // not an inverse: a node
    // q^T k with k transposed first: the MatMul rule's transpose of k^T is k itself.
    const result = await checkGradients([{ name: 'q', shape: [2, 3, 4] }, { name: 'k', shape: [2, 5, 4] }], (q, k) => {
      const s = o.matmul(q, o.transposeLast2(k));
      return o.reduceSum(o.mul(s, s));
    });
    expect(result.maxError).toBeLessThan(1e-6);
  });

  it('reduces broadcast gradients back to the operand shape', async () => {
    const random = mulberry32(3);
    const r = uniform(random, 24);
    const g = new Graph();
    const x = g.input('x', 'float64', [2, 3, 4]);
    const bias = g.input('bias', 'float64', [4]);
    const scale = g.input('scale', 'float64', [3, 1]);
    const y = o.mul(o.add(x, bias), scale);
    const loss = o.reduceSum(o.mul(y, g.constant(hostTensor('float64', [2, 3, 4], r))));
    const [dBias, dScale] = backward(loss, [bias, scale]);
    g.output(dBias, 'dBias');
    g.output(dScale, 'dScale');
    const xs = uniform(random, 24);
    const bs = uniform(random, 4);
    const ss = uniform(random, 3);
    const out = await evaluate(g, {
      x: hostTensor('float64', [2, 3, 4], xs),
      bias: hostTensor('float64', [4], bs),
      scale: hostTensor('float64', [3, 1], ss),
    });
    const wantBias = [0, 0, 0, 0];
    const wantScale = [0, 0, 0];
    for (let i = 0; i < 24; i++) {
      const [j, k] = [Math.floor(i / 4) % 3, i % 4];
      wantBias[k] += r[i] * ss[j];
      wantScale[j] += r[i] * (xs[i] + bs[k]);
    }
    expect(out.dBias.shape).toEqual([4]);
    expect(out.dScale.shape).toEqual([3, 1]);
    toNumbers(out.dBias).forEach((v, i) => expect(v).toBeCloseTo(wantBias[i], 12));
    toNumbers(out.dScale).forEach((v, i) => expect(v).toBeCloseTo(wantScale[i], 12));
  });

  it('passes finite differences on a diamond with shared sub-expressions', async () => {
    const result = await checkGradients([{ name: 'x', shape: [2, 3] }, { name: 'w', shape: [3, 3] }], (x, w) => {
      const h = o.tanh(o.matmul(x, w));
      return o.add(o.mul(h, x), o.matmul(h, o.transpose(w)));
    });
    expect(result.maxError).toBeLessThan(1e-6);
  });

  it('fails loudly, naming the op and the node, when a rule is missing', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    const [y] = g.rawNode('Mystery', [x], {}, [{ dtype: 'float32', shape: [2] }]);
    const loss = o.reduceSum(y);
    expect(() => backward(loss, [x])).toThrow(/no gradient rule for op 'Mystery' \(node 'Mystery_\d+'/);
  });

  it('names the node when a rule cannot handle its attributes', () => {
    const g = new Graph();
    const t = g.input('t', 'float32', [3, 5]);
    const ids = g.input('ids', 'int32', [2]);
    const loss = o.reduceSum(o.gather(t, ids, 1));
    expect(() => backward(loss, [t])).toThrow(/Gather node 'Gather_\d+': only axis 0/);
  });

  it('differentiates a node of several outputs through its first only, naming the node otherwise', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 4]);
    const scale = g.input('scale', 'float32', [4]);
    const bias = g.input('bias', 'float32', [4]);
    const { y, mean, invStdDev } = o.layerNormalization(x, scale, bias, 1e-5);
    expect(backward(o.reduceSum(y), [x, scale, bias])).toHaveLength(3);
    for (const [k, stat] of [[1, mean], [2, invStdDev]] as const) {
      expect(() => backward(o.reduceSum(o.add(y, stat)), [x])).toThrow(
        new RegExp(`reaches output ${k} .* of LayerNormalization node 'LayerNormalization_\\d+'`),
      );
    }
    // TopK's first output is its values: its rule refuses them rather than give zeros.
    const { values } = o.topK(x, 2);
    expect(() => backward(o.reduceSum(values), [x])).toThrow(/TopK node 'TopK_\d+': its values are not differentiated/);
  });

  it('rejects params the loss does not use, unless allowUnused', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    const unused = g.input('unused', 'float32', [2, 2]);
    const loss = o.reduceSum(o.mul(x, x));
    expect(() => backward(loss, [x, unused])).toThrow(/does not depend on param 'unused'/);
    const [, dUnused] = backward(loss, [x, unused], { allowUnused: true });
    g.output(dUnused, 'dUnused');
    const out = await evaluate(g, { x: hostTensor('float32', [2], [1, 2]), unused: hostTensor('float32', [2, 2], [1, 2, 3, 4]) });
    expect(toNumbers(out.dUnused)).toEqual([0, 0, 0, 0]);
  });

  it('rejects a loss with more than one element', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    expect(() => backward(o.mul(x, x), [x])).toThrow(/one element/);
  });
});
