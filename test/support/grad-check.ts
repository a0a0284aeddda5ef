// Test helpers shared by graph/ and nn/ tests: uniform test data, "build, serialise and run"
// in one call, and the finite-difference gradient check (micrograd's reference-checked tests,
// with central differences in float64 as the independent reference).
//
// checkGradients builds loss = sum(f(inputs) * R) with R a fixed random tensor, so every
// output element contributes with its own weight; runs loss and backward's gradients through
// the onnxruntime CPU EP; then perturbs each float input element by ±eps and compares
// (L(x+eps) - L(x-eps)) / 2eps with the analytic gradient.

import { createSession } from '../../src/main/engine/runtime/session.js';
import { backward } from '../../src/main/engine/graph/backward.js';
import { type DType, type HostTensor, hostTensor, numel, toNumbers } from '../../src/main/engine/graph/dtype.js';
import { Graph, type Tensor } from '../../src/main/engine/graph/graph.js';
import * as o from '../../src/main/engine/graph/ops.js';
import { serialize } from '../../src/main/engine/graph/serialize.js';
import type { Shape } from '../../src/main/engine/graph/shape.js';
import { mulberry32 } from '../../src/shared/random.js';

export function uniform(random: () => number, n: number, lo = -1, hi = 1): number[] {
  return Array.from({ length: n }, () => lo + (hi - lo) * random());
}

/** Serialises `g`, runs it once on the CPU EP (one thread, deterministic) and returns the outputs named in `fetch` (all by default). */
export async function evaluate(g: Graph, feeds: Record<string, HostTensor>, fetch?: string[]): Promise<Record<string, HostTensor>> {
  const session = await createSession(serialize(g), { device: 'cpu', threads: 1, deterministic: true });
  try {
    return await session.run(feeds, fetch);
  } finally {
    await session.release();
  }
}

export interface GradInput {
  name: string;
  shape: Shape;
  /** float64 (default, differentiated) or an integer/bool operand fed as-is (indices, masks). */
  dtype?: Extract<DType, 'float64' | 'int32' | 'int64' | 'bool'>;
  /** Starting values; default uniform in `range`. */
  values?: readonly number[];
  /** Range of the default values; default [-1, 1]. Keep it away from kinks (Abs, Relu, Max). */
  range?: readonly [number, number];
}

export interface GradCheckOptions {
  /** Central-difference step; default 1e-6. */
  eps?: number;
  seed?: number;
}

export interface GradCheckResult {
  /** Per float input: max |analytic - numeric| over its elements / max(largest |gradient|, 1e-3). */
  errors: Record<string, number>;
  maxError: number;
  /** Op types of the function's own nodes (before backward), to prove a case used its op. */
  forwardOps: ReadonlySet<string>;
  /** The graph's node count, to spot rules that build far more than they should. */
  nodes: number;
}

export async function checkGradients(
  inputs: readonly GradInput[],
  build: (...ts: Tensor[]) => Tensor,
  opts: GradCheckOptions = {},
): Promise<GradCheckResult> {
  const eps = opts.eps ?? 1e-6;
  const random = mulberry32(opts.seed ?? 1234);
  const g = new Graph('gradcheck');
  const ts = inputs.map((i) => g.input(i.name, i.dtype ?? 'float64', i.shape));
  const y = build(...ts);
  const forwardOps = new Set(g.nodes.map((n) => n.op));
  if (y.dtype !== 'float64') throw new Error(`checkGradients: the function must return float64, got ${y}`);
  const weights = g.constant(hostTensor('float64', y.shape, uniform(random, numel(y.shape), 0.5, 1.5)));
  const loss = o.reduceSum(o.mul(y, weights));
  const params = ts.filter((t) => t.dtype === 'float64');
  const grads = backward(loss, params);
  g.output(loss, 'loss');
  grads.forEach((dp, k) => g.output(dp, `grad_${params[k].name}`));

  const values = inputs.map((i) => i.values ?? uniform(random, numel(i.shape), ...(i.range ?? [-1, 1])));
  const feeds = (vs: readonly (readonly number[])[]): Record<string, HostTensor> =>
    Object.fromEntries(inputs.map((i, k) => [i.name, hostTensor(i.dtype ?? 'float64', i.shape, vs[k])]));

  const session = await createSession(serialize(g), { device: 'cpu', threads: 1, deterministic: true });
  try {
    const analytic = await session.run(feeds(values));
    const lossAt = async (vs: number[][]): Promise<number> => toNumbers((await session.run(feeds(vs), ['loss'])).loss)[0];
    const errors: Record<string, number> = {};
    for (const [k, input] of inputs.entries()) {
      if ((input.dtype ?? 'float64') !== 'float64') continue;
      const a = toNumbers(analytic[`grad_${input.name}`]);
      let worst = 0;
      let scale = 0;
      for (let e = 0; e < a.length; e++) {
        const plus = values.map((v) => [...v]);
        const minus = values.map((v) => [...v]);
        plus[k][e] += eps;
        minus[k][e] -= eps;
        const numeric = ((await lossAt(plus)) - (await lossAt(minus))) / (2 * eps);
        worst = Math.max(worst, Math.abs(a[e] - numeric));
        scale = Math.max(scale, Math.abs(a[e]), Math.abs(numeric));
      }
      // Relative to the gradient's size, floored so an exactly-zero gradient is not judged
      // by the finite difference's round-off (~1e-10).
      errors[input.name] = worst / Math.max(scale, 1e-3);
    }
    return { errors, maxError: Math.max(0, ...Object.values(errors)), forwardOps, nodes: g.nodes.length };
  } finally {
    await session.release();
  }
}
