// The gradient table: one row per primitive op, returning one gradient per input (null where
// none flows: integer operands, constant shapes/axes, and ops whose derivative is zero almost
// everywhere). Composites (logSoftmax, dropout in composites.ts) are built from these and need
// no row; gelu and layerNorm are fused ops with rows of their own, for the reasons given at
// their rows. Every row is checked against central finite differences in float64 by
// gradients.test.ts, which iterates this table, so a row added without a check fails there.
// A node of several outputs is differentiated through its first (backward.ts); its rule may
// read the others (LayerNormalization's Mean and InvStdDev).
//
// Conventions: x = node inputs, y = its output, dy = dLoss/dy (same shape and dtype as y).
// Broadcasting ops reduce their gradient back to each operand's shape with sumToShape.

import { EngineError } from '../../../shared/errors.js';
import { hostTensor, isFloat, numel } from './dtype.js';
import { type Node, type Tensor, floatAttr, intAttr, intsAttr, stringAttr } from './graph.js';
import { constInts } from './infer.js';
import * as o from './ops.js';
import { invertPerm, normAxes, normAxis, sliceRange } from './shape.js';

export interface GradContext {
  readonly node: Node;
  readonly x: readonly Tensor[];
  readonly y: Tensor;
  readonly dy: Tensor;
  /** Every output's gradient, for MULTI_OUTPUT ops ([dy] otherwise). */
  readonly dys: readonly Tensor[];
}

/** Ops whose rule takes the gradient of every output (backward.ts fills unreached ones with zeros). */
export const MULTI_OUTPUT: ReadonlySet<string> = new Set(['Split']);
/** One gradient per input; entries past the node's inputs (absent optional ones) are ignored. */
export type GradRule = (c: GradContext) => readonly (Tensor | null)[];

/** Axes a Reduce* node reduced (all when the axes input is absent). */
function reducedAxes(node: Node): number[] {
  const x = node.inputs[0];
  return node.inputs[1] ? normAxes(constInts(node.inputs[1], 'axes'), x.rank) : x.shape.map((_, i) => i);
}

/** dy of a Reduce* node with the reduced axes kept as size 1, ready to broadcast against x. */
function keptDims(node: Node, t: Tensor): Tensor {
  const axes = reducedAxes(node);
  const x = node.inputs[0];
  return o.reshape(t, x.shape.map((d, i) => (axes.includes(i) ? 1 : d))); // [kept] -> [.., 1, ..]
}

/** Gather tables with at most this many rows get their gradient by a one-hot matmul, not a scatter. */
const SMALL_TABLE = 64;

/** Where `mask` holds, dy; elsewhere 0. */
const pick = (mask: Tensor, dy: Tensor): Tensor => o.where(mask, dy, 0);

export const GRADIENTS: Readonly<Record<string, GradRule>> = {
  Add: ({ x: [a, b], dy }) => [o.sumToShape(dy, a.shape), o.sumToShape(dy, b.shape)],
  Sub: ({ x: [a, b], dy }) => [o.sumToShape(dy, a.shape), o.sumToShape(o.neg(dy), b.shape)],
  Mul: ({ x: [a, b], dy }) => [o.sumToShape(o.mul(dy, b), a.shape), o.sumToShape(o.mul(dy, a), b.shape)],
  Div: ({ x: [a, b], y, dy }) => [
    o.sumToShape(o.div(dy, b), a.shape),
    o.sumToShape(o.neg(o.div(o.mul(dy, y), b)), b.shape), // -dy * a / b^2 = -dy * y / b
  ],
  Pow: ({ x: [a, b], y, dy }) => [
    o.sumToShape(o.mul(dy, o.mul(b, o.pow(a, o.sub(b, 1)))), a.shape),
    o.sumToShape(o.mul(dy, o.mul(y, o.log(a))), b.shape), // built always; pruned when b is constant
  ],
  // Ties split the gradient evenly, as torch.maximum/minimum do.
  Max: ({ x: [a, b], dy }) => {
    const half = o.mul(pick(o.equal(a, b), dy), 0.5);
    return [
      o.sumToShape(o.add(pick(o.greater(a, b), dy), half), a.shape),
      o.sumToShape(o.add(pick(o.less(a, b), dy), half), b.shape),
    ];
  },
  Min: ({ x: [a, b], dy }) => {
    const half = o.mul(pick(o.equal(a, b), dy), 0.5);
    return [
      o.sumToShape(o.add(pick(o.less(a, b), dy), half), a.shape),
      o.sumToShape(o.add(pick(o.greater(a, b), dy), half), b.shape),
    ];
  },
  Equal: () => [null, null],
  // Piecewise constant in its indices, which select values through Gather/GatherElements;
  // the values output itself is not differentiated here (see ops.topK).
  TopK: ({ node }) => {
    throw ruleError(node, 'its values are not differentiated; gather the selected entries with its indices instead');
  },
  Less: () => [null, null],
  Greater: () => [null, null],
  Where: ({ x: [c, a, b], dy }) => [
    null,
    o.sumToShape(o.where(c, dy, 0), a.shape),
    o.sumToShape(o.where(c, 0, dy), b.shape),
  ],

  Neg: ({ dy }) => [o.neg(dy)],
  Abs: ({ x: [a], dy }) => [o.mul(dy, o.sign(a))],
  Sign: () => [null], // zero almost everywhere
  Relu: ({ x: [a], dy }) => [pick(o.greater(a, 0), dy)],
  Exp: ({ y, dy }) => [o.mul(dy, y)],
  Log: ({ x: [a], dy }) => [o.div(dy, a)],
  Sqrt: ({ y, dy }) => [o.div(o.mul(dy, 0.5), y)],
  Erf: ({ x: [a], dy }) => [o.mul(dy, o.mul(o.exp(o.neg(o.mul(a, a))), 2 / Math.sqrt(Math.PI)))],
  Tanh: ({ y, dy }) => [o.mul(dy, o.sub(1, o.mul(y, y)))],
  Sigmoid: ({ y, dy }) => [o.mul(dy, o.mul(y, o.sub(1, y)))],
  Reciprocal: ({ y, dy }) => [o.neg(o.mul(dy, o.mul(y, y)))],
  Identity: ({ dy }) => [dy],
  // Fused rather than composed (DESIGN §3): the composite keeps three [tokens, 1536] tensors
  // per layer alive for backward (this rule needs only x) and costs 5 forward and 10 backward
  // full-size ops; one Gelu kernel and the 10 ops here (erf recomputed) took GELU from ~173 to
  // ~121 ms of kernel time per MiniLM step (32 pairs × 64 tokens, 2-core CPU EP) and peak RSS
  // from 2.51 to 2.11 GiB.
  // d/dx x Phi(x) = Phi(x) + x phi(x); with u = x / sqrt 2 that is
  // 0.5 (1 + erf(u) + u exp(ln(2 / sqrt pi) - u^2)), the constant folded into the exponent.
  Gelu: ({ x: [a], dy }) => {
    const u = o.mul(a, Math.SQRT1_2);
    const slope = o.mul(u, o.exp(o.sub(Math.log(2 / Math.sqrt(Math.PI)), o.mul(u, u))));
    return [o.mul(o.mul(o.add(o.add(o.erf(u), slope), 1), dy), 0.5)];
  },
  Cast: ({ x: [a], y, dy }) => [isFloat(a.dtype) && isFloat(y.dtype) ? o.cast(dy, a.dtype) : null],
  // Softmax Jacobian-vector product: y * (dy - sum(dy * y)) over the softmax axis.
  Softmax: ({ node, y, dy }) => {
    const axis = normAxis(intAttr(node, 'axis', -1), y.rank);
    return [o.mul(y, o.sub(dy, o.reduceSum(o.mul(dy, y), [axis], true)))];
  },

  // Fused rather than composed (DESIGN §3): the composite costs ~5 forward and ~11 backward
  // full-size ops per layer norm and keeps its intermediates for backward; one kernel and the
  // rule below (8 full-size ops, reusing Mean/InvStdDev) cut the MiniLM step's (32 pairs × 64
  // tokens, 2-core CPU EP) non-matmul kernel time by ~50-100 ms and peak RSS from 2.65 to
  // 2.51 GiB.
  LayerNormalization: ({ node, x: [a, scale], dy }) => layerNormGradient(node, a, scale, dy),

  MatMul: ({ x: [a, b], dy }) => [
    o.sumToShape(o.matmul(dy, o.transposeLast2(b)), a.shape), // [..,M,N] x [..,N,K] -> [..,M,K]
    o.sumToShape(o.matmul(o.transposeLast2(a), dy), b.shape), // [..,K,M] x [..,M,N] -> [..,K,N]
  ],
  // Y = alpha·op(A)·op(B) + beta·C: each operand's gradient is one Gemm again, its transposes
  // chosen so no Transpose node is needed (dA = alpha·dY·op(B)ᵀ, dB = alpha·op(A)ᵀ·dY,
  // transposed back where the operand itself was transposed).
  Gemm: ({ node, x: [a, b, c], dy }) => {
    const ta = intAttr(node, 'transA', 0) === 1;
    const tb = intAttr(node, 'transB', 0) === 1;
    const alpha = floatAttr(node, 'alpha', 1);
    const beta = floatAttr(node, 'beta', 1);
    const da = ta ? o.gemm(b, dy, null, { transA: tb, transB: true, alpha }) : o.gemm(dy, b, null, { transB: !tb, alpha });
    const db = tb ? o.gemm(dy, a, null, { transA: true, transB: ta, alpha }) : o.gemm(a, dy, null, { transA: !ta, alpha });
    const dc = c ? (beta === 1 ? o.sumToShape(dy, c.shape) : o.mul(o.sumToShape(dy, c.shape), beta)) : null;
    return [da, db, dc];
  },
  ReduceSum: ({ node, x: [a], dy }) => [
    o.expand(intAttr(node, 'keepdims', 1) ? dy : keptDims(node, dy), a.shape),
    null,
  ],
  ReduceMean: ({ node, x: [a], y, dy }) => {
    const kept = intAttr(node, 'keepdims', 1) ? dy : keptDims(node, dy);
    return [o.expand(o.div(kept, numel(a.shape) / numel(y.shape)), a.shape), null];
  },
  // Like torch.amax: ties share the gradient evenly.
  ReduceMax: ({ node, x: [a], y, dy }) => {
    const keep = intAttr(node, 'keepdims', 1) === 1;
    const mask = o.cast(o.equal(a, keep ? y : keptDims(node, y)), a.dtype);
    const count = o.reduceSum(mask, reducedAxes(node), true);
    return [o.mul(mask, o.div(keep ? dy : keptDims(node, dy), count)), null];
  },

  Transpose: ({ node, dy }) => [o.transpose(dy, invertPerm(intsAttr(node, 'perm')))],
  Reshape: ({ x: [a], dy }) => [o.reshape(dy, a.shape), null],
  Unsqueeze: ({ x: [a], dy }) => [o.reshape(dy, a.shape), null],
  Squeeze: ({ x: [a], dy }) => [o.reshape(dy, a.shape), null],
  Expand: ({ x: [a], dy }) => [o.sumToShape(dy, a.shape), null],
  Concat: ({ node, x, dy }) => {
    const axis = normAxis(intAttr(node, 'axis'), dy.rank);
    let at = 0;
    return x.map((t) => {
      const part = o.slice(dy, [at], [at + t.shape[axis]], [axis]);
      at += t.shape[axis];
      return part;
    });
  },
  // The pieces' gradients put back together.
  Split: ({ node, x: [a], dys }) => [o.concat(dys, normAxis(intAttr(node, 'axis', 0), a.rank)), null],
  // The gradient of a slice is the slice's gradient padded back with zeros.
  Slice: ({ node, x: [a], dy }) => {
    const [, starts, ends, axesT] = node.inputs;
    const axes = normAxes(constInts(axesT, 'axes'), a.rank);
    const pads = new Array<number>(2 * a.rank).fill(0);
    const s = constInts(starts, 'starts');
    const e = constInts(ends, 'ends');
    axes.forEach((ax, i) => {
      const [lo, hi] = sliceRange(s[i], e[i], a.shape[ax]);
      pads[ax] = lo;
      pads[ax + a.rank] = a.shape[ax] - hi;
    });
    return [o.pad(dy, pads), null, null, null, null];
  },
  Pad: ({ node, x: [a], dy }) => {
    const pads = constInts(node.inputs[1], 'pads');
    if (pads.some((p) => p < 0)) throw ruleError(node, 'negative pads (cropping) have no gradient rule yet');
    const begins = pads.slice(0, a.rank);
    const inner = o.slice(dy, begins, begins.map((b, i) => b + a.shape[i]), a.shape.map((_, i) => i));
    // The pad value reached every padded element: its gradient is the sum of dy there.
    const dValue = node.inputs[2] ? o.sub(o.reduceSum(dy), o.reduceSum(inner)) : null;
    return [inner, null, dValue];
  },
  // Embedding lookup: scatter-add dy rows into a zero [V, R] table. ScatterElements, not
  // ScatterND, because ScatterND's add races on the multi-threaded CPU EP (onnxruntime #18048).
  Gather: ({ node, x: [table, idx], dy }) => {
    if (normAxis(intAttr(node, 'axis', 0), table.rank) !== 0) {
      throw ruleError(node, 'only axis 0 is supported; transpose the gathered axis to the front');
    }
    const rows = numel(idx.shape);
    const width = numel(table.shape.slice(1));
    const dy2 = o.reshape(dy, [rows, width]); // [...I, ...rest] -> [T, R]
    const vocab = table.shape[0];
    if (vocab <= SMALL_TABLE) {
      // A few rows (BERT's token types: 2): onehotᵀ · dy sums each row's gradients as one small
      // matmul. Scatter-add would write T·R updates into a tiny table after expanding the ids
      // to [T, R]: ~9 ms of the MiniLM step on the 2-core CPU for a 2-row table.
      const range = table.graph.constant(hostTensor(idx.dtype, [1, vocab], Array.from({ length: vocab }, (_, i) => i)));
      const onehot = o.cast(o.equal(o.reshape(idx, [rows, 1]), range), table.dtype); // [T, 1] vs [1, V] -> [T, V]
      return [o.reshape(o.matmul(o.transpose(onehot, [1, 0]), dy2), table.shape), null]; // [V, T] x [T, R] -> [V, ...rest]
    }
    const idx2 = o.expand(o.reshape(idx, [rows, 1]), [rows, width]); // [...I] -> [T, 1] -> [T, R]
    const zeros = o.full(table.graph, [table.shape[0], width], 0, table.dtype);
    const summed = o.scatterElements(zeros, idx2, dy2, 0, 'add'); // [V, R]
    return [o.reshape(summed, table.shape), null]; // [V, R] -> [V, ...rest]
  },
  GatherElements: ({ node, x: [a, idx], dy }) => [
    o.scatterElements(o.zerosLike(a), idx, dy, intAttr(node, 'axis', 0), 'add'),
    null,
  ],
  ScatterElements: ({ node, x: [data, idx, upd], dy }) => {
    const axis = intAttr(node, 'axis', 0);
    const dUpd = o.gatherElements(dy, idx, axis);
    if (stringAttr(node, 'reduction', 'none') === 'add') return [dy, null, dUpd];
    // reduction 'none' overwrote the scattered positions: no gradient reaches data there.
    const kept = o.scatterElements(o.full(data.graph, data.shape, 1, data.dtype), idx, o.zerosLike(upd), axis, 'none');
    return [o.mul(dy, kept), null, dUpd];
  },
};

/**
 * LayerNormalization over the last axis, torch's closed form. With xhat = (x - mean) r
 * (r = InvStdDev, both read from the forward node) and g = dy * scale:
 *   dBias = sum dy,  dScale = sum dy xhat  (over rows),
 *   dx = r (g - mean(g) - xhat mean(g xhat))   (means over the last axis, D).
 * Rows are flattened to [N, D]. The row means are matrix-vector products against scale with
 * 1/D as Gemm's alpha (sum_j g_j xhat_j = (dy xhat) . scale), and dy xhat serves dScale too:
 * 13 nodes, 8 of them full-size elementwise, where the form with c = x - mean and r^3 took 19.
 */
function layerNormGradient(node: Node, a: Tensor, scale: Tensor, dy: Tensor): Tensor[] {
  const [, meanOut, invOut] = node.outputs;
  const d = a.shape[a.rank - 1];
  const n = numel(a.shape) / d;
  const x = o.reshape(a, [n, d]); // [..., D] -> [N, D]
  const dy2 = o.reshape(dy, [n, d]); // [..., D] -> [N, D]
  const r = o.reshape(invOut, [n, 1]); // [..., 1] -> [N, 1]
  const xhat = o.mul(o.sub(x, o.reshape(meanOut, [n, 1])), r);
  const dyXhat = o.mul(dy2, xhat);
  const dScale = o.reduceSum(dyXhat, [0]); // [N, D] -> [D]
  const dBias = o.reduceSum(dy2, [0]); // [N, D] -> [D]
  const s = o.reshape(scale, [d, 1]); // [D] -> [D, 1]
  const meanGXhat = o.gemm(dyXhat, s, null, { alpha: 1 / d }); // [N, D] x [D, 1] -> [N, 1]
  const meanG = o.gemm(dy2, s, null, { alpha: 1 / d }); // [N, 1]
  const dx = o.mul(o.sub(o.sub(o.mul(dy2, scale), o.mul(xhat, meanGXhat)), meanG), r);
  return [o.reshape(dx, a.shape), dScale, dBias]; // [N, D] -> [..., D]
}

function ruleError(node: Node, msg: string): EngineError {
  return new EngineError('NOT_IMPLEMENTED', `gradient of ${node.op} node '${node.name}': ${msg}`, {
    node: node.name,
    op: node.op,
  });
}
