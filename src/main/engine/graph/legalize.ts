// Rewrites applied just before serialisation, on a copy of the node list:
//  1. dead-node elimination: only nodes an output depends on are kept, so gradient rules may
//     build terms eagerly (e.g. Pow's exponent gradient when the exponent is a constant);
//  2. float64 nodes that onnxruntime's CPU EP cannot run are rebuilt from primitives: Erf (no
//     float64 kernel, DESIGN §3) as a series, Gelu (its function body uses Erf) and
//     LayerNormalization (float64 statistics have no kernel) as their composed forms. float64
//     graphs are what the finite-difference tests run, so the fused ops' gradient rules are
//     checked against these independent forwards.
// Expansion nodes and constants are added to the graph (constants are shared by value, so
// serialising twice adds nothing new).

import { composedGelu, composedLayerNorm } from './composites.js';
import { type Graph, type Node, type Tensor, floatAttr } from './graph.js';
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

/**
 * float64 nodes onnxruntime's CPU EP cannot run, rebuilt from primitives; each returns tensors
 * standing for the node's outputs, in order.
 */
const FLOAT64_EXPANSIONS: Readonly<Record<string, (node: Node) => Tensor[]>> = {
  Erf: (node) => [erfSeries(node.inputs[0])],
  Gelu: (node) => [composedGelu(node.inputs[0])], // its Erf is expanded in turn
  // Its float64 statistics have no kernel (stash_type 11); 1e-5 is ONNX's default epsilon.
  LayerNormalization: (node) => {
    const [x, scale, bias] = node.inputs;
    const { y, mean, invStdDev } = composedLayerNorm(x, scale, bias, floatAttr(node, 'epsilon', 1e-5));
    return [y, mean, invStdDev];
  },
};

/** The nodes to serialise: live ones, with the float64 nodes above expanded in place. */
export function legalize(g: Graph, opts: LegalizeOptions = {}): Node[] {
  return expand(g, liveNodes(g, g.outputs), new Set(opts.compose ?? []));
}

export interface LegalizeOptions {
  /** Ops rebuilt from primitives whatever their dtype (one of FLOAT64_EXPANSIONS' ops). */
  compose?: readonly string[];
}

function expand(g: Graph, nodes: readonly Node[], compose: ReadonlySet<string>): Node[] {
  const out: Node[] = [];
  for (const node of nodes) {
    const rebuild = FLOAT64_EXPANSIONS[node.op];
    if (!rebuild || (node.inputs[0].dtype !== 'float64' && !compose.has(node.op))) {
      out.push(node);
      continue;
    }
    let parts: Tensor[] = [];
    const captured = g.capture(() => g.scope(node.name, () => void (parts = rebuild(node))));
    out.push(...expand(g, captured, compose)); // an expansion may use ops that need expanding themselves
    // Rename each result to the node's output, so the consumers stay as they are.
    node.outputs.forEach((t, i) => {
      const name = node.outputs.length === 1 ? node.name : `${node.name}:${i}`;
      out.push({ name, op: 'Identity', inputs: [parts[i]], outputs: [t], attrs: {} });
    });
  }
  return out;
}
