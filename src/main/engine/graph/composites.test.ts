// Composites against independent references: published GELU values, a plain-JS layer norm
// and log-softmax, finite differences in float64, and float32 agreeing with float64; the
// fused layerNorm and gelu against their composed forms.

import { describe, expect, it } from 'vitest';
import { backward } from './backward.js';
import { composedGelu, composedLayerNorm, gelu, layerNorm, logSoftmax } from './composites.js';
import { type DType, hostTensor, toNumbers } from './dtype.js';
import { Graph, type Tensor } from './graph.js';
import * as o from './ops.js';
import { checkGradients, evaluate, uniform } from '../../../../test/support/grad-check.js';
import { mulberry32 } from '../../../shared/random.js';

function maxRelDiff(a: number[], b: number[]): number {
  const scale = Math.max(...b.map(Math.abs), 1e-12);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]))) / scale;
}

/** One row, plain JS: (x - mean) / sqrt(var + eps) * gamma + beta. */
function layerNormRef(x: number[], gamma: number[], beta: number[], eps: number): number[] {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * gamma[i] + beta[i]);
}

describe('composites', () => {
  it('gelu matches published values of x * Phi(x), in float64 and float32', async () => {
    const xs = [1, 2, -0.5, 0];
    const want = [0.8413447460685429, 1.9544997361036416, -0.15426876936299344, 0];
    for (const [dtype, tol] of [['float64', 1e-14], ['float32', 1e-6]] as const) {
      const g = new Graph();
      g.output(gelu(g.input('x', dtype, [4])), 'y');
      const out = await evaluate(g, { x: hostTensor(dtype, [4], xs) });
      toNumbers(out.y).forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(tol));
    }
  });

  // float32 runs onnxruntime's LayerNormalization kernel, float64 its composed expansion.
  it('layerNorm and logSoftmax match plain-JS references, in float64 and float32', async () => {
    const random = mulberry32(7);
    const x = uniform(random, 8, -3, 3);
    const gamma = uniform(random, 4, 0.5, 1.5);
    const beta = uniform(random, 4);
    for (const [dtype, tol] of [['float64', 1e-13], ['float32', 1e-6]] as const) {
      const g = new Graph();
      const tx = g.input('x', dtype, [2, 4]);
      g.output(layerNorm(tx, g.input('gamma', dtype, [4]), g.input('beta', dtype, [4]), 1e-5), 'ln');
      g.output(logSoftmax(tx, -1), 'lsm');
      const out = await evaluate(g, {
        x: hostTensor(dtype, [2, 4], x),
        gamma: hostTensor(dtype, [4], gamma),
        beta: hostTensor(dtype, [4], beta),
      });
      const rows = [x.slice(0, 4), x.slice(4)];
      const ln = rows.flatMap((r) => layerNormRef(r, gamma, beta, 1e-5));
      const lsm = rows.flatMap((r) => r.map((v) => v - Math.log(r.reduce((s, u) => s + Math.exp(u), 0))));
      expect(maxRelDiff(toNumbers(out.ln), ln), dtype).toBeLessThan(tol);
      expect(maxRelDiff(toNumbers(out.lsm), lsm), dtype).toBeLessThan(tol);
    }
  });

  // The fused nodes and their hand-written rules against the composed forms and autodiff, on
  // the same float32 inputs: forward values and every gradient.
  it('fused layerNorm and gelu equal their composed forms in float32, forward and gradients', async () => {
    const random = mulberry32(5);
    const shapes = { x: [2, 3, 8], gamma: [8], beta: [8] };
    const values = { x: uniform(random, 48, -3, 3), gamma: uniform(random, 8, 0.5, 1.5), beta: uniform(random, 8) };
    const weights = uniform(random, 48, 0.5, 1.5);
    const run = async (fused: boolean) => {
      const g = new Graph();
      const [x, gamma, beta] = (['x', 'gamma', 'beta'] as const).map((k) => g.input(k, 'float32', shapes[k]));
      const ln = fused ? layerNorm(x, gamma, beta, 1e-5) : composedLayerNorm(x, gamma, beta, 1e-5).y;
      const y = fused ? gelu(o.add(ln, x)) : composedGelu(o.add(ln, x));
      const ops = new Set(g.nodes.map((n) => n.op));
      expect([ops.has('LayerNormalization'), ops.has('Gelu')]).toEqual([fused, fused]);
      const r = g.constant(hostTensor('float32', shapes.x, weights));
      const loss = o.reduceSum(o.mul(o.add(o.mul(ln, 0.5), y), r)); // both outputs reach the loss
      g.output(loss, 'loss');
      backward(loss, [x, gamma, beta]).forEach((d, i) => g.output(d, `d${i}`));
      g.output(ln, 'ln');
      g.output(y, 'y');
      const feeds = Object.fromEntries((['x', 'gamma', 'beta'] as const).map((k) => [k, hostTensor('float32', shapes[k], values[k])]));
      const out = await evaluate(g, feeds);
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, toNumbers(v)]));
    };
    const fused = await run(true);
    const composed = await run(false);
    for (const k of ['ln', 'y', 'loss', 'd0', 'd1', 'd2']) expect(maxRelDiff(fused[k], composed[k]), k).toBeLessThan(2e-6);
  });

  // x -> layerNorm -> gelu -> matmul -> logSoftmax: the chain a BERT layer and loss use.
  const chain = (x: Tensor, gamma: Tensor, beta: Tensor, w: Tensor): Tensor =>
    logSoftmax(o.matmul(gelu(layerNorm(x, gamma, beta, 1e-5)), w), -1);

  it('the layerNorm + GELU + logSoftmax chain passes finite differences in float64', async () => {
    const result = await checkGradients(
      [
        { name: 'x', shape: [2, 3, 4], range: [-2, 2] },
        { name: 'gamma', shape: [4], range: [0.5, 1.5] },
        { name: 'beta', shape: [4] },
        { name: 'w', shape: [4, 3] },
      ],
      chain,
    );
    expect(result.maxError).toBeLessThan(1e-6);
  });

  it('float32 agrees with float64 on the chain, forward and gradients', async () => {
    const random = mulberry32(11);
    const values = { x: uniform(random, 24, -2, 2), gamma: uniform(random, 4, 0.5, 1.5), beta: uniform(random, 4), w: uniform(random, 12) };
    const shapes = { x: [2, 3, 4], gamma: [4], beta: [4], w: [4, 3] };
    const run = async (dtype: DType) => {
      const g = new Graph();
      const ts = (['x', 'gamma', 'beta', 'w'] as const).map((k) => g.input(k, dtype, shapes[k]));
      const y = chain(ts[0], ts[1], ts[2], ts[3]);
      const loss = o.neg(o.reduceMean(o.slice(y, [0], [1], [2]))); // NLL of class 0
      g.output(loss, 'loss');
      backward(loss, ts).forEach((d, i) => g.output(d, `d_${ts[i].name}`));
      const feeds = Object.fromEntries(
        (['x', 'gamma', 'beta', 'w'] as const).map((k) => [k, hostTensor(dtype, shapes[k], values[k])]),
      );
      const out = await evaluate(g, feeds);
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, toNumbers(v)]));
    };
    const f64 = await run('float64');
    const f32 = await run('float32');
    for (const k of Object.keys(f64)) expect(maxRelDiff(f32[k], f64[k]), k).toBeLessThan(1e-5);
  });
});
