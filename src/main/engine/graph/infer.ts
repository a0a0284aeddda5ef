// Shape and dtype inference, one row per supported ONNX op (opset 20 signatures: axes, shapes,
// starts/ends and pads are int64 *inputs*, which must be constants here because every shape in
// this IR is static). The builder runs a row when it adds a node; checkGraph runs it again
// before serialisation. Rows throw ShapeError; the graph adds the node's name.

import { type DType, ONNX_DTYPE, isFloat, numel, toNumbers } from './dtype.js';
import type { Attrs, Tensor, TensorType } from './graph.js';
import { ShapeError, broadcastShapes, fmt, normAxes, normAxis, resolveReshape, sameShape, sliceRange } from './shape.js';

type Infer = (inputs: readonly Tensor[], attrs: Attrs) => TensorType[];

// 20 for Gelu; nothing else this IR emits changed meaning between 18 and 20 (19 and 20 added
// float8 types, string Equal, Pad 'wrap', bool ReduceMax), and the CPU and WebGPU EPs run every
// node of the MiniLM step at 20 (runtime/nn-contract.test.ts checks the placement).
export const OPSET = 20;

function arity(inputs: readonly Tensor[], min: number, max = min): void {
  if (inputs.length < min || inputs.length > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw new ShapeError(`takes ${want} inputs, got ${inputs.length}`);
  }
}

function sameDtype(inputs: readonly Tensor[]): DType {
  const d = inputs[0].dtype;
  const odd = inputs.find((t) => t.dtype !== d);
  if (odd) throw new ShapeError(`mixes dtypes ${d} and ${odd.dtype}; Cast one side first`);
  return d;
}

function float(t: Tensor): DType {
  if (!isFloat(t.dtype)) throw new ShapeError(`needs a float input, got ${t.dtype}`);
  return t.dtype;
}

function numeric(t: Tensor): DType {
  if (t.dtype === 'bool') throw new ShapeError('does not take bool inputs');
  return t.dtype;
}

function indices(t: Tensor): void {
  if (t.dtype !== 'int32' && t.dtype !== 'int64') throw new ShapeError(`indices must be int32 or int64, got ${t.dtype}`);
}

/** The values of a constant int64 operand (shape, axes, starts …). */
export function constInts(t: Tensor | undefined, what: string): number[] {
  if (!t) throw new ShapeError(`${what} is missing`);
  if (t.value === null || t.dtype !== 'int64' || t.rank !== 1) {
    throw new ShapeError(`${what} must be a 1-D int64 constant (static shapes), got ${t}`);
  }
  return toNumbers(t.value);
}

function aInt(attrs: Attrs, name: string, fallback: number): number {
  const a = attrs[name];
  if (a === undefined) return fallback;
  if (a.type !== 'int') throw new ShapeError(`attribute '${name}' must be an int`);
  return a.value;
}

function aString(attrs: Attrs, name: string, fallback: string): string {
  const a = attrs[name];
  if (a === undefined) return fallback;
  if (a.type !== 'string') throw new ShapeError(`attribute '${name}' must be a string`);
  return a.value;
}

const binary =
  (out: 'same' | 'bool', check: (t: Tensor) => DType = numeric): Infer =>
  (inputs) => {
    arity(inputs, 2);
    const d = sameDtype(inputs);
    check(inputs[0]);
    return [{ dtype: out === 'bool' ? 'bool' : d, shape: broadcastShapes(inputs[0].shape, inputs[1].shape) }];
  };

const unary =
  (check: (t: Tensor) => DType): Infer =>
  (inputs) => {
    arity(inputs, 1);
    return [{ dtype: check(inputs[0]), shape: inputs[0].shape }];
  };

const reduce: Infer = (inputs, attrs) => {
  arity(inputs, 1, 2);
  const x = inputs[0];
  numeric(x);
  const keep = aInt(attrs, 'keepdims', 1) === 1;
  if (aInt(attrs, 'noop_with_empty_axes', 0) !== 0) throw new ShapeError('noop_with_empty_axes is not supported');
  const axes = inputs[1] ? normAxes(constInts(inputs[1], 'axes'), x.rank) : x.shape.map((_, i) => i);
  const shape = x.shape.flatMap((d, i) => (axes.includes(i) ? (keep ? [1] : []) : [d]));
  return [{ dtype: x.dtype, shape }];
};

const DTYPE_OF_CODE = new Map(Object.entries(ONNX_DTYPE).map(([k, v]) => [v, k as DType]));

const INFER: Record<string, Infer> = {
  Add: binary('same'),
  Sub: binary('same'),
  Mul: binary('same'),
  Div: binary('same'),
  Pow: binary('same', float),
  Max: binary('same'),
  Min: binary('same'),
  Equal: binary('bool', (t) => t.dtype),
  Less: binary('bool'),
  Greater: binary('bool'),
  Neg: unary(numeric),
  Abs: unary(numeric),
  Sign: unary(numeric),
  Relu: unary(float),
  Exp: unary(float),
  Log: unary(float),
  Sqrt: unary(float),
  Erf: unary(float),
  Tanh: unary(float),
  Sigmoid: unary(float),
  Reciprocal: unary(float),
  Identity: unary((t) => t.dtype),
  // Opset 20 Gelu, exact (erf) form only; float64 is composed at serialisation (legalize.ts);
  // float16 is what mixed precision runs (graph/autocast.ts).
  Gelu: (inputs, attrs) => {
    arity(inputs, 1);
    if (aString(attrs, 'approximate', 'none') !== 'none') throw new ShapeError("only approximate 'none' (erf) is supported");
    const d = inputs[0].dtype;
    if (!isFloat(d)) throw new ShapeError(`takes a float, got ${d}`);
    return [{ dtype: d, shape: inputs[0].shape }];
  },
  Where: (inputs) => {
    arity(inputs, 3);
    if (inputs[0].dtype !== 'bool') throw new ShapeError(`condition must be bool, got ${inputs[0].dtype}`);
    const d = sameDtype(inputs.slice(1));
    return [{ dtype: d, shape: broadcastShapes(...inputs.map((t) => t.shape)) }];
  },
  Cast: (inputs, attrs) => {
    arity(inputs, 1);
    const dtype = DTYPE_OF_CODE.get(aInt(attrs, 'to', -1));
    if (!dtype) throw new ShapeError(`attribute 'to' names no supported dtype`);
    return [{ dtype, shape: inputs[0].shape }];
  },
  Softmax: (inputs, attrs) => {
    arity(inputs, 1);
    normAxis(aInt(attrs, 'axis', -1), inputs[0].rank);
    return [{ dtype: float(inputs[0]), shape: inputs[0].shape }];
  },
  MatMul: (inputs) => {
    arity(inputs, 2);
    const [a, b] = inputs;
    const d = sameDtype(inputs);
    numeric(a);
    if (a.rank < 2 || b.rank < 2) throw new ShapeError(`operands must have rank >= 2 (unsqueeze vectors first)`);
    const [m, k] = a.shape.slice(-2);
    const [k2, n] = b.shape.slice(-2);
    if (k !== k2) throw new ShapeError(`inner dimensions differ: ${fmt(a.shape)} x ${fmt(b.shape)}`);
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    return [{ dtype: d, shape: [...batch, m, n] }];
  },
  // 2-D only, alpha = beta = 1 (what ops.gemm emits); C broadcasts to [M, N] one way.
  Gemm: (inputs, attrs) => {
    arity(inputs, 2, 3);
    const [a, b, c] = inputs;
    const d = sameDtype(inputs);
    float(a);
    if (a.rank !== 2 || b.rank !== 2) throw new ShapeError(`operands must be 2-D, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
    const [m, k] = aInt(attrs, 'transA', 0) ? [a.shape[1], a.shape[0]] : a.shape;
    const [k2, n] = aInt(attrs, 'transB', 0) ? [b.shape[1], b.shape[0]] : b.shape;
    if (k !== k2) throw new ShapeError(`inner dimensions differ: ${k} vs ${k2}`);
    if (c && !sameShape(broadcastShapes(c.shape, [m, n]), [m, n])) throw new ShapeError(`C ${fmt(c.shape)} does not broadcast to [${m}, ${n}]`);
    return [{ dtype: d, shape: [m, n] }];
  },
  Transpose: (inputs, attrs) => {
    arity(inputs, 1);
    const x = inputs[0];
    const a = attrs.perm;
    const perm = a?.type === 'ints' ? a.value : x.shape.map((_, i) => x.rank - 1 - i);
    if (perm.length !== x.rank || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
      throw new ShapeError(`perm [${perm.join(', ')}] is not a permutation of rank ${x.rank}`);
    }
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
  },
  Reshape: (inputs) => {
    arity(inputs, 2);
    const target = constInts(inputs[1], 'shape');
    // ONNX reads a 0 as "copy this dimension" unless allowzero=1; we only emit resolved shapes.
    if (target.includes(0)) throw new ShapeError(`reshape target ${fmt(target)} must not contain 0`);
    return [{ dtype: inputs[0].dtype, shape: resolveReshape(numel(inputs[0].shape), target) }];
  },
  Unsqueeze: (inputs) => {
    arity(inputs, 2);
    const x = inputs[0];
    const axes = normAxes(constInts(inputs[1], 'axes'), x.rank + inputs[1].shape[0]);
    const shape: number[] = [];
    let k = 0;
    for (let i = 0; i < x.rank + axes.length; i++) shape.push(axes.includes(i) ? 1 : x.shape[k++]);
    return [{ dtype: x.dtype, shape }];
  },
  Squeeze: (inputs) => {
    arity(inputs, 2);
    const x = inputs[0];
    const axes = normAxes(constInts(inputs[1], 'axes'), x.rank);
    const bad = axes.find((a) => x.shape[a] !== 1);
    if (bad !== undefined) throw new ShapeError(`cannot squeeze axis ${bad} of size ${x.shape[bad]}`);
    return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.includes(i)) }];
  },
  Concat: (inputs, attrs) => {
    if (inputs.length < 1) throw new ShapeError('needs at least one input');
    const d = sameDtype(inputs);
    const first = inputs[0];
    const axis = normAxis(aInt(attrs, 'axis', 0), first.rank);
    let total = 0;
    for (const t of inputs) {
      if (t.rank !== first.rank || t.shape.some((s, i) => i !== axis && s !== first.shape[i])) {
        throw new ShapeError(`${fmt(t.shape)} does not match ${fmt(first.shape)} off axis ${axis}`);
      }
      total += t.shape[axis];
    }
    return [{ dtype: d, shape: first.shape.map((s, i) => (i === axis ? total : s)) }];
  },
  // Opset 18 form: the sizes as an int64 input; one output per size.
  Split: (inputs, attrs) => {
    arity(inputs, 2);
    const [x, sizesT] = inputs;
    const axis = normAxis(aInt(attrs, 'axis', 0), x.rank);
    const sizes = constInts(sizesT, 'split');
    if (sizes.some((n) => n < 0) || sizes.reduce((a, b) => a + b, 0) !== x.shape[axis]) {
      throw new ShapeError(`sizes [${sizes.join(', ')}] do not add up to ${x.shape[axis]} (axis ${axis} of ${fmt(x.shape)})`);
    }
    return sizes.map((n) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? n : d)) }));
  },
  Slice: (inputs) => {
    arity(inputs, 4, 5);
    const x = inputs[0];
    const starts = constInts(inputs[1], 'starts');
    const ends = constInts(inputs[2], 'ends');
    const axes = normAxes(constInts(inputs[3], 'axes'), x.rank);
    if (inputs[4] && constInts(inputs[4], 'steps').some((s) => s !== 1)) throw new ShapeError('only step 1 is supported');
    if (starts.length !== axes.length || ends.length !== axes.length) {
      throw new ShapeError('starts, ends and axes must have the same length');
    }
    const shape = [...x.shape];
    axes.forEach((a, i) => {
      const [s, e] = sliceRange(starts[i], ends[i], x.shape[a]);
      shape[a] = e - s;
    });
    return [{ dtype: x.dtype, shape }];
  },
  Pad: (inputs, attrs) => {
    arity(inputs, 2, 3);
    const x = inputs[0];
    if (aString(attrs, 'mode', 'constant') !== 'constant') throw new ShapeError("only mode 'constant' is supported");
    const pads = constInts(inputs[1], 'pads');
    if (pads.length !== 2 * x.rank) throw new ShapeError(`pads needs ${2 * x.rank} values, got ${pads.length}`);
    if (inputs[2] && (inputs[2].dtype !== x.dtype || inputs[2].rank !== 0)) {
      throw new ShapeError('constant_value must be a scalar of the data dtype');
    }
    const shape = x.shape.map((d, i) => d + pads[i] + pads[i + x.rank]);
    if (shape.some((d) => d < 0)) throw new ShapeError(`pads [${pads.join(', ')}] crop ${fmt(x.shape)} below zero`);
    return [{ dtype: x.dtype, shape }];
  },
  Gather: (inputs, attrs) => {
    arity(inputs, 2);
    const [x, idx] = inputs;
    indices(idx);
    const a = normAxis(aInt(attrs, 'axis', 0), x.rank);
    return [{ dtype: x.dtype, shape: [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)] }];
  },
  GatherElements: (inputs, attrs) => {
    arity(inputs, 2);
    const [x, idx] = inputs;
    indices(idx);
    normAxis(aInt(attrs, 'axis', 0), x.rank);
    if (idx.rank !== x.rank) throw new ShapeError(`indices rank ${idx.rank} differs from data rank ${x.rank}`);
    return [{ dtype: x.dtype, shape: idx.shape }];
  },
  ScatterElements: (inputs, attrs) => {
    arity(inputs, 3);
    const [x, idx, upd] = inputs;
    indices(idx);
    sameDtype([x, upd]);
    normAxis(aInt(attrs, 'axis', 0), x.rank);
    const reduction = aString(attrs, 'reduction', 'none');
    if (reduction !== 'none' && reduction !== 'add') throw new ShapeError(`reduction '${reduction}' is not supported`);
    if (!sameShape(idx.shape, upd.shape) || idx.rank !== x.rank) {
      throw new ShapeError(`indices ${fmt(idx.shape)} and updates ${fmt(upd.shape)} must match, with data's rank`);
    }
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  Expand: (inputs) => {
    arity(inputs, 2);
    return [{ dtype: inputs[0].dtype, shape: broadcastShapes(inputs[0].shape, constInts(inputs[1], 'shape')) }];
  },
  // K is a 1-element int64 constant (static shapes); values keep x's dtype, indices are int64.
  TopK: (inputs, attrs) => {
    arity(inputs, 2);
    const x = inputs[0];
    numeric(x);
    const axis = normAxis(aInt(attrs, 'axis', -1), x.rank);
    const k = constInts(inputs[1], 'K');
    if (k.length !== 1 || k[0] < 0 || k[0] > x.shape[axis]) {
      throw new ShapeError(`K [${k.join(', ')}] must be one value in [0, ${x.shape[axis]}] (axis ${axis} of ${fmt(x.shape)})`);
    }
    if (aInt(attrs, 'sorted', 1) !== 1) throw new ShapeError('only sorted=1 is supported (unsorted order is kernel-defined)');
    const shape = x.shape.map((d, i) => (i === axis ? k[0] : d));
    return [{ dtype: x.dtype, shape }, { dtype: 'int64', shape }];
  },
  ReduceSum: reduce,
  ReduceMean: reduce,
  ReduceMax: reduce,
  // Opset 17 LayerNormalization over the last axis only, with the optional Mean and InvStdDev
  // outputs ([..., 1]) always present, so the gradient rule can reuse them. ONNX types those
  // as float32 (stash_type 1); float64 gets float64 statistics, which no onnxruntime kernel
  // produces (stash_type 11 has none), so legalize.ts composes float64 nodes at serialisation.
  LayerNormalization: (inputs, attrs) => {
    arity(inputs, 3);
    const [x, scale, bias] = inputs;
    const d = sameDtype(inputs);
    if (d !== 'float32' && d !== 'float64') throw new ShapeError(`takes float32 or float64, got ${d}`);
    if (normAxis(aInt(attrs, 'axis', -1), x.rank) !== x.rank - 1) throw new ShapeError('only the last axis is supported');
    if (aInt(attrs, 'stash_type', 1) !== 1) throw new ShapeError('only stash_type 1 (float32 statistics) is supported');
    if (attrs.epsilon !== undefined && attrs.epsilon.type !== 'float') throw new ShapeError(`attribute 'epsilon' must be a float`);
    const last = x.shape.slice(-1);
    if (!sameShape(scale.shape, last) || !sameShape(bias.shape, last)) {
      throw new ShapeError(`scale ${fmt(scale.shape)} and bias ${fmt(bias.shape)} must both be ${fmt(last)}`);
    }
    const stats = { dtype: d, shape: [...x.shape.slice(0, -1), 1] };
    return [{ dtype: d, shape: x.shape }, stats, stats];
  },
};

export const INFERRED_OPS: readonly string[] = Object.keys(INFER);

export function inferNode(op: string, inputs: readonly Tensor[], attrs: Attrs): TensorType[] {
  const row = INFER[op];
  if (!row) throw new ShapeError(`op '${op}' is unknown to the graph builder (add a row to INFER in graph/infer.ts)`);
  return row(inputs, attrs);
}
