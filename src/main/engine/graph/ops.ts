// Builders for the primitive ops: one function per ONNX op, each adding one node (shape and
// dtype inferred in infer.ts). A number where a tensor is expected becomes a scalar constant of
// the other operand's dtype, so `mul(x, 0.5)` works for float32 and float64 graphs alike.
// Gradient rules for every op here live in gradients.ts.

import { EngineError } from '../../../shared/errors.js';
import { type DType, ONNX_DTYPE } from './dtype.js';
import { type Graph, type Tensor, attr, intsAttr } from './graph.js';
import { type Shape, normAxes, resolveReshape, sameShape } from './shape.js';

export type Operand = Tensor | number;

function lift(a: Operand, like: Tensor): Tensor {
  return typeof a === 'number' ? like.graph.scalar(a, like.dtype) : a;
}

function pair(a: Operand, b: Operand): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') {
    throw new EngineError('BAD_INPUT', 'an op needs at least one tensor operand to know its graph and dtype');
  }
  return typeof a === 'number' ? [lift(a, b as Tensor), b as Tensor] : [a, lift(b, a)];
}

function one(g: Graph, op: string, inputs: readonly Tensor[], attrs = {}): Tensor {
  return g.node(op, inputs, attrs)[0];
}

const bin =
  (op: string) =>
  (a: Operand, b: Operand): Tensor => {
    const [x, y] = pair(a, b);
    return one(x.graph, op, [x, y]);
  };

const un =
  (op: string) =>
  (x: Tensor): Tensor =>
    one(x.graph, op, [x]);

// Elementwise, numpy broadcasting.
export const add = bin('Add');
export const sub = bin('Sub');
export const mul = bin('Mul');
export const div = bin('Div');
export const pow = bin('Pow');
export const max = bin('Max');
export const min = bin('Min');
export const equal = bin('Equal');
export const less = bin('Less');
export const greater = bin('Greater');

export const neg = un('Neg');
export const abs = un('Abs');
export const sign = un('Sign');
export const relu = un('Relu');
export const exp = un('Exp');
export const log = un('Log');
export const sqrt = un('Sqrt');
export const erf = un('Erf');
export const tanh = un('Tanh');
export const sigmoid = un('Sigmoid');
export const reciprocal = un('Reciprocal');
export const identity = un('Identity');
/** Exact GELU, x Phi(x) with the erf form of Phi (ONNX Gelu, opset 20). */
export const gelu = un('Gelu');

export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const [x, y] = pair(a, b);
  return one(cond.graph, 'Where', [cond, x, y]);
}

export function cast(x: Tensor, dtype: DType): Tensor {
  return one(x.graph, 'Cast', [x], { to: attr.int(ONNX_DTYPE[dtype]) });
}

/** Softmax over one axis (opset 13+ semantics: not the old flatten-to-2-D one). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return one(x.graph, 'Softmax', [x], { axis: attr.int(axis) });
}

/**
 * ONNX LayerNormalization over the last axis: y = (x - mean) * invStdDev * scale + bias, with
 * invStdDev = 1 / sqrt(biased variance + eps); scale and bias are [D]. The statistics are the
 * node's extra outputs ([..., 1]); backward differentiates y only (its rule reuses them).
 * epsilon is stored as a float32 attribute, as ONNX defines it.
 */
export function layerNormalization(
  x: Tensor,
  scale: Tensor,
  bias: Tensor,
  eps: number,
): { y: Tensor; mean: Tensor; invStdDev: Tensor } {
  const [y, mean, invStdDev] = x.graph.node('LayerNormalization', [x, scale, bias], {
    axis: attr.int(-1),
    epsilon: attr.float(eps),
  });
  return { y, mean, invStdDev };
}

/** Batched matrix product: [..., M, K] x [..., K, N] -> [..., M, N], batch dims broadcast. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return one(a.graph, 'MatMul', [a, b]);
}

/**
 * ONNX Gemm: alpha·op(A)·op(B) (+ beta·C), 2-D, op = transpose where asked: torch.nn.Linear on [N, in]
 * rows is gemm(x, W, b, { transB: true }) in one node, where MatMul needs a Transpose of W and
 * an Add (and their gradients three more nodes).
 */
export function gemm(
  a: Tensor,
  b: Tensor,
  c: Tensor | null,
  t: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {},
): Tensor {
  // alpha scales the product and beta C inside the kernel (float32 attributes): scales that
  // would otherwise be Mul nodes of their own.
  const attrs = {
    ...(t.transA ? { transA: attr.int(1) } : {}),
    ...(t.transB ? { transB: attr.int(1) } : {}),
    ...(t.alpha !== undefined && t.alpha !== 1 ? { alpha: attr.float(t.alpha) } : {}),
    ...(c && t.beta !== undefined && t.beta !== 1 ? { beta: attr.float(t.beta) } : {}),
  };
  return one(a.graph, 'Gemm', c ? [a, b, c] : [a, b], attrs);
}

function reduction(op: string) {
  // `axes` omitted reduces every axis; torch's default keepdim=False, not ONNX's keepdims=1.
  return (x: Tensor, axes?: readonly number[], keepdims = false): Tensor => {
    const inputs = axes === undefined ? [x] : [x, x.graph.int64s(normAxes(axes, x.rank))];
    return one(x.graph, op, inputs, { keepdims: attr.int(keepdims ? 1 : 0) });
  };
}
export const reduceSum = reduction('ReduceSum');
export const reduceMean = reduction('ReduceMean');
export const reduceMax = reduction('ReduceMax');

export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
  // Undoing a Transpose (a MatMul gradient through k's transpose in attention): its input, no node.
  const inner = x.producer?.op === 'Transpose' ? intsAttr(x.producer, 'perm') : null;
  if (inner && p.every((axis, i) => inner[axis] === i)) return x.producer!.inputs[0];
  return one(x.graph, 'Transpose', [x], { perm: attr.ints(p) });
}

/** Swaps the last two axes: [..., M, N] -> [..., N, M]. */
export function transposeLast2(x: Tensor): Tensor {
  const perm = x.shape.map((_, i) => i);
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
  return transpose(x, perm);
}

/** Reshape to `shape` (one -1 allowed); the node carries the resolved shape. Same shape: no node. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const target = resolveReshape(x.shape.reduce((p, d) => p * d, 1), shape);
  if (sameShape(target, x.shape)) return x;
  return one(x.graph, 'Reshape', [x, x.graph.int64s(target)]);
}

export function unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
  return one(x.graph, 'Unsqueeze', [x, x.graph.int64s(axes)]);
}

export function squeeze(x: Tensor, axes: readonly number[]): Tensor {
  return one(x.graph, 'Squeeze', [x, x.graph.int64s(axes)]);
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new EngineError('BAD_INPUT', 'concat needs at least one tensor');
  return one(xs[0].graph, 'Concat', xs, { axis: attr.int(axis) });
}

/**
 * Consecutive pieces of `x` along `axis`, one node for all of them (flat state's parameters:
 * one Split per buffer instead of a Slice per parameter; attention's q, k, v). Its gradient
 * is one Concat of the pieces' gradients.
 */
export function split(x: Tensor, sizes: readonly number[], axis = 0): Tensor[] {
  if (sizes.length <= SPLIT_MAX_OUTPUTS) return x.graph.node('Split', [x, x.graph.int64s(sizes)], { axis: attr.int(axis) });
  // More pieces: split into at most SPLIT_MAX_OUTPUTS runs of neighbours, then each run again.
  const per = Math.ceil(sizes.length / SPLIT_MAX_OUTPUTS);
  const runs: number[][] = [];
  for (let i = 0; i < sizes.length; i += per) runs.push(sizes.slice(i, i + per));
  const outer = split(x, runs.map((r) => r.reduce((a, b) => a + b, 0)), axis);
  return runs.flatMap((r, i) => (r.length === 1 ? [outer[i]] : split(outer[i], r, axis)));
}

/**
 * The WebGPU EP binds a Split's input and every output as storage buffers in one shader, at
 * most 16 per stage ("Too many storage buffers in shader. Current: 17, Max is 16" on lavapipe
 * for a 16-way split), so wider splits are made as a tree of these. Concat has no such limit.
 */
const SPLIT_MAX_OUTPUTS = 15;

/** x[starts:ends] along `axes`, step 1 (ONNX clamping rules for out-of-range bounds). */
export function slice(x: Tensor, starts: readonly number[], ends: readonly number[], axes: readonly number[]): Tensor {
  const g = x.graph;
  return one(g, 'Slice', [x, g.int64s(starts), g.int64s(ends), g.int64s(axes)]);
}

/** Constant padding; `pads` is ONNX order [begin_0 … begin_r-1, end_0 … end_r-1]. */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  const g = x.graph;
  return one(g, 'Pad', [x, g.int64s(pads), g.scalar(value, x.dtype)], { mode: attr.string('constant') });
}

/** Rows of `x` picked by `indices` along `axis` (embedding lookup with axis 0). */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  return one(x.graph, 'Gather', [x, indices], { axis: attr.int(axis) });
}

export function gatherElements(x: Tensor, indices: Tensor, axis: number): Tensor {
  return one(x.graph, 'GatherElements', [x, indices], { axis: attr.int(axis) });
}

/**
 * The k largest (or smallest) entries along `axis`, sorted, with their int64 positions. Ties
 * keep the lower index first (ONNX TopK's rule; the CPU and WebGPU kernels follow it, see
 * search/search.test.ts). Not differentiable here: its rule refuses a loss that reaches
 * `values`; a loss may still use `indices` through Gather/GatherElements.
 */
export function topK(x: Tensor, k: number, axis = -1, largest = true): { values: Tensor; indices: Tensor } {
  const g = x.graph;
  const [values, indices] = g.node('TopK', [x, g.int64s([k])], {
    axis: attr.int(axis),
    largest: attr.int(largest ? 1 : 0),
    sorted: attr.int(1),
  });
  return { values, indices };
}

/**
 * data with `updates` written (or added) at `indices` along `axis`. Deliberately not ScatterND:
 * its reduction='add' races on the CPU EP with more than one thread (onnxruntime #18048),
 * giving wrong, non-deterministic embedding gradients (DESIGN §3).
 */
export function scatterElements(
  data: Tensor,
  indices: Tensor,
  updates: Tensor,
  axis: number,
  reduction: 'none' | 'add',
): Tensor {
  return one(data.graph, 'ScatterElements', [data, indices, updates], {
    axis: attr.int(axis),
    reduction: attr.string(reduction),
  });
}

/** Broadcast `x` to `shape` (numpy rules). Same shape: no node. */
export function expand(x: Tensor, shape: Shape): Tensor {
  if (sameShape(x.shape, shape)) return x;
  return one(x.graph, 'Expand', [x, x.graph.int64s(shape)]);
}

/** A tensor of one value without storing every element: a scalar constant expanded. */
export function full(g: Graph, shape: Shape, value: number, dtype: DType): Tensor {
  return expand(g.scalar(value, dtype), shape);
}

export function zerosLike(t: Tensor): Tensor {
  return full(t.graph, t.shape, 0, t.dtype);
}

/**
 * Sums a broadcast gradient back to the operand's shape: ReduceSum over the leading axes the
 * operand lacked and over the axes where it had size 1, then Reshape to drop the leading ones.
 */
export function sumToShape(t: Tensor, shape: Shape): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const lead = t.rank - shape.length;
  const bad = shape.findIndex((d, i) => d !== 1 && d !== t.shape[i + lead]);
  if (lead < 0 || bad >= 0) {
    throw new EngineError('INTERNAL', `cannot sum a gradient ${t} to shape [${shape.join(', ')}]`);
  }
  const axes = t.shape.map((_, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && t.shape[i] !== 1));
  // Only leading axes summed (a bias's gradient): the reduction drops them itself, no Reshape.
  if (axes.length === lead) return reduceSum(t, axes, false);
  const summed = axes.length ? reduceSum(t, axes, true) : t;
  return reshape(summed, shape); // [1.., ...kept] -> shape
}
