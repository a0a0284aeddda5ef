// Reverse-mode differentiation over the node list. The list is already topological (a node
// can only consume tensors that exist), so walking it backwards visits every consumer of a
// tensor before its producer; gradients of a tensor used several times (fan-out) are summed
// with chained Adds (not the variadic Sum, which the WebGPU EP lacks: DESIGN §3).

import { EngineError } from '../../../shared/errors.js';
import { isFloat, numel } from './dtype.js';
import type { Tensor } from './graph.js';
import { GRADIENTS, MULTI_OUTPUT } from './gradients.js';
import * as o from './ops.js';
import { fmt, sameShape } from './shape.js';

export interface BackwardOptions {
  /** Give zeros for params the loss does not depend on instead of throwing (default false). */
  allowUnused?: boolean;
}

/** dLoss/dParam for each param, as tensors added to the loss's graph (nodes named grad/…). */
export function backward(loss: Tensor, params: readonly Tensor[], opts: BackwardOptions = {}): Tensor[] {
  const g = loss.graph;
  if (!isFloat(loss.dtype) || numel(loss.shape) !== 1) {
    throw new EngineError('BAD_INPUT', `backward needs a float loss with one element, got ${loss}`);
  }
  for (const p of params) {
    if (p.graph !== g) throw new EngineError('BAD_INPUT', `param ${p} belongs to another graph than the loss`);
    if (!isFloat(p.dtype)) throw new EngineError('BAD_INPUT', `param ${p} is not a float tensor`);
  }

  // Tensors that depend on some param: only their producers need a gradient rule.
  const live = new Set<Tensor>(params);
  for (const node of g.nodes) {
    if (node.inputs.some((t) => live.has(t))) for (const t of node.outputs) live.add(t);
  }

  const grads = new Map<Tensor, Tensor>();
  g.scope('grad', () => {
    grads.set(loss, o.full(g, loss.shape, 1, loss.dtype));
    for (let i = g.nodes.length - 1; i >= 0; i--) {
      const node = g.nodes[i];
      // A node of several outputs (LayerNormalization's statistics, TopK's indices) is
      // differentiated through its first output only, its rule may read the others; except
      // MULTI_OUTPUT ops (Split), whose rules take every output's gradient.
      const reached = node.outputs.findIndex((t, k) => k > 0 && grads.has(t));
      const multi = MULTI_OUTPUT.has(node.op);
      if (reached > 0 && !multi) {
        throw new EngineError(
          'NOT_IMPLEMENTED',
          `a gradient reaches output ${reached} ${node.outputs[reached]} of ${node.op} node '${node.name}', ` +
            `but only the first output of a node is differentiated: compute that value from differentiable ops instead`,
          { node: node.name, op: node.op },
        );
      }
      // A node whose rule takes every output's gradient (Split) gets zeros for unreached outputs.
      const dys = multi && node.outputs.some((t) => grads.has(t)) ? node.outputs.map((t) => grads.get(t) ?? o.zerosLike(t)) : null;
      const dy = dys ? dys[0] : grads.get(node.outputs[0]);
      if (!dy || !node.inputs.some((t) => live.has(t) && isFloat(t.dtype))) continue;
      const rule = GRADIENTS[node.op];
      if (!rule) {
        throw new EngineError(
          'NOT_IMPLEMENTED',
          `no gradient rule for op '${node.op}' (node '${node.name}', output ${node.outputs[0]}): ` +
            `add a row to GRADIENTS in engine/graph/gradients.ts or build it from differentiable ops`,
          { node: node.name, op: node.op },
        );
      }
      const dxs = rule({ node, x: node.inputs, y: node.outputs[0], dy, dys: dys ?? [dy] });
      if (dxs.length < node.inputs.length) {
        throw new EngineError(
          'INTERNAL',
          `the ${node.op} rule returned ${dxs.length} gradients for ${node.inputs.length} inputs (node '${node.name}')`,
        );
      }
      node.inputs.forEach((t, k) => {
        const dx = dxs[k];
        if (!dx || !live.has(t) || !isFloat(t.dtype)) return;
        if (dx.dtype !== t.dtype || !sameShape(dx.shape, t.shape)) {
          throw new EngineError(
            'INTERNAL',
            `the ${node.op} rule gave ${dx.dtype}${fmt(dx.shape)} for input ${k} ${t} of node '${node.name}'`,
          );
        }
        const prev = grads.get(t);
        grads.set(t, prev ? o.add(prev, dx) : dx);
      });
    }
  });

  return params.map((p) => {
    const dp = grads.get(p);
    if (dp) return dp;
    if (opts.allowUnused) return o.zerosLike(p);
    throw new EngineError(
      'BAD_INPUT',
      `the loss ${loss} does not depend on param ${p}; drop it from params or pass { allowUnused: true }`,
      { param: p.name },
    );
  });
}
