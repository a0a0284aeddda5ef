// Rewrites applied just before serialisation, on a copy of the node list:
//  1. dead-node elimination: only nodes an output depends on are kept, so gradient rules may
//     build terms eagerly (e.g. Pow's exponent gradient when the exponent is a constant);
//  2. float64 Erf expands into a series, because onnxruntime's CPU EP has no float64 Erf
//     kernel (DESIGN §3) and float64 graphs are what the finite-difference tests run.
// Expansion nodes and constants are added to the graph (constants are shared by value, so
// serialising twice adds nothing new).

import type { Graph, Node, Tensor } from './graph.js';
import * as o from './ops.js';

/**
 * erf(x) = 2/sqrt(pi) * exp(-x^2) * x * sum_n (2x^2)^n / (1*3*...*(2n+1)).
 * Every term is positive, so the sum has no cancellation and stays accurate to ~1e-15 for
 * |x| <= 6 with 100 terms (checked against a 400-term sum in float64); beyond |x| = 6 the
 * input is clamped, where erf is ±1 to within 2e-17. Polynomial fits such as
 * Abramowitz–Stegun 7.1.26 (error 1.5e-7) are far too coarse for finite differences at
 * eps = 1e-6, and casting to float32 around the Erf kernel would be as coarse.
 *
 * The Horner form runs in u = 2x^2 / K with coefficients c_n K^n (K = 40): the plain
 * coefficients fall to 1e-190, and onnxruntime's graph optimiser (every level above
 * 'disabled', 1.30) drops an Add whose float64 constant underflows float32, as if it were
 * Add(x, 0). Scaled, every coefficient lies in [1e-29, 1e7].
 */
const ERF_TERMS = 100;
const ERF_CLAMP = 6;
const ERF_SCALE = 40;

function erfSeries(x: Tensor): Tensor {
  const xc = o.min(o.max(x, -ERF_CLAMP), ERF_CLAMP);
  const xx = o.mul(xc, xc);
  const u = o.mul(xx, 2 / ERF_SCALE);
  const coef: number[] = [1];
  for (let n = 1; n <= ERF_TERMS; n++) coef.push((coef[n - 1] * ERF_SCALE) / (2 * n + 1));
  let t = o.add(o.mul(u, coef[ERF_TERMS]), coef[ERF_TERMS - 1]);
  for (let n = ERF_TERMS - 2; n >= 0; n--) t = o.add(o.mul(t, u), coef[n]); // Horner in u
  return o.mul(o.mul(xc, o.exp(o.neg(xx))), o.mul(t, 2 / Math.sqrt(Math.PI)));
}

export function liveNodes(g: Graph, outputs: readonly Tensor[]): Node[] {
  const needed = new Set<Tensor>(outputs);
  const keep: Node[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const node = g.nodes[i];
    if (!node.outputs.some((t) => needed.has(t))) continue;
    keep.push(node);
    for (const t of node.inputs) needed.add(t);
  }
  return keep.reverse();
}

/** The nodes to serialise: live ones, with float64 Erf expanded in place. */
export function legalize(g: Graph): Node[] {
  const out: Node[] = [];
  for (const node of liveNodes(g, g.outputs)) {
    if (node.op === 'Erf' && node.inputs[0].dtype === 'float64') {
      let last: Tensor | undefined;
      out.push(...g.capture(() => g.scope(node.name, () => void (last = erfSeries(node.inputs[0])))));
      // Rename the series result to the Erf output, so the consumers stay as they are.
      out.push({ name: node.name, op: 'Identity', inputs: [last as Tensor], outputs: node.outputs, attrs: {} });
    } else {
      out.push(node);
    }
  }
  return out;
}
