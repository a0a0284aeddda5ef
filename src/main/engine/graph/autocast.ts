// Mixed precision as an op-level cast policy, in the manner of torch.autocast: inside
// `graph.autocast(policy, fn)` every node that `fn` builds passes through `castInputs`
// before it is added, so the layers in nn/ are written once, in float32, and run in float16
// without knowing it. Backward is built outside the region: every gradient rule keeps its
// node's dtype and Cast's rule casts the gradient back, so float32 master weights get float32
// gradients and float16 activations get float16 ones with no rule of their own.
//
// The policy (Micikevicius et al. 2018, "Mixed Precision Training"; PyTorch's autocast op
// lists): matrix products run in float16; softmax, layer norm, reductions and
// exp/log/sqrt/pow compute in float32 and hand float16 on; every other op runs in float16
// as soon as one of its float inputs is float16 (a float32 bias added to a float16 product
// is cast, not the product widened), else in its inputs' dtype (the embedding sums of float32
// tables stay float32 until the first layer norm). Casts of the same tensor are shared, so
// each float32 weight is cast once per graph, however many nodes read it.

import { EngineError } from '../../../shared/errors.js';
import { type DType, ONNX_DTYPE, isFloat } from './dtype.js';
import type { Attrs, Graph, Tensor } from './graph.js';

/** Ops whose float inputs are cast to the low dtype whatever they are. */
const LOW_OPS = new Set(['MatMul', 'Gemm']);
/**
 * Ops computed in float32 (their float16 inputs are cast up) whose first output is cast back
 * to the low dtype: accumulations and exponentials that lose range or digits in float16.
 * LayerNormalization's Mean/InvStdDev outputs stay float32 for its gradient rule.
 */
const FLOAT32_OPS = new Set(['Softmax', 'LayerNormalization', 'ReduceSum', 'ReduceMean', 'ReduceMax', 'Exp', 'Log', 'Sqrt', 'Pow', 'Reciprocal']);
/** Ops that move or pick data: they run in whatever dtype they are given. */
const PASS_OPS = new Set(['Cast', 'Gather', 'GatherElements', 'Reshape', 'Transpose', 'Slice', 'Split', 'Unsqueeze', 'Squeeze', 'Expand', 'Identity', 'TopK']);

export interface AutocastPolicy {
  /** The activation dtype: 'float16'. */
  readonly low: DType;
}

export const FLOAT16_AUTOCAST: AutocastPolicy = { low: 'float16' };

/** Per region: the policy and the casts made so far (tensor → dtype → cast). */
export class AutocastRegion {
  readonly #casts = new Map<Tensor, Map<DType, Tensor>>();

  constructor(
    readonly graph: Graph,
    readonly policy: AutocastPolicy,
  ) {
    if (!isFloat(policy.low)) throw new EngineError('INTERNAL', `autocast to ${policy.low}: the low dtype must be a float`);
  }

  /**
   * Adds `op` with its inputs cast as the policy says; `build` adds a node without the policy
   * (Graph.node with autocast paused). Returns the node's outputs, the first cast back to the
   * low dtype for float32 ops.
   */
  node(op: string, inputs: readonly Tensor[], attrs: Attrs, build: (op: string, inputs: readonly Tensor[], attrs: Attrs) => Tensor[]): Tensor[] {
    if (PASS_OPS.has(op)) return build(op, inputs, attrs);
    const { low } = this.policy;
    const floats = inputs.filter((t) => isFloat(t.dtype));
    let target: DType | null;
    if (LOW_OPS.has(op)) target = low;
    else if (FLOAT32_OPS.has(op)) target = floats.some((t) => t.dtype === low) ? 'float32' : null;
    else target = floats.some((t) => t.dtype === low) ? low : null;
    if (target === null) return build(op, inputs, attrs);
    const cast = (t: Tensor) => (isFloat(t.dtype) && t.dtype !== target ? this.#cast(t, target, build) : t);
    // Non-float inputs (Where's bool condition, ids) are left as they are.
    const outputs = build(op, inputs.map(cast), attrs);
    // A copy: the array is the node's own output list.
    return FLOAT32_OPS.has(op) ? [this.#cast(outputs[0], low, build), ...outputs.slice(1)] : outputs;
  }

  #cast(t: Tensor, to: DType, build: (op: string, inputs: readonly Tensor[], attrs: Attrs) => Tensor[]): Tensor {
    let byType = this.#casts.get(t);
    if (!byType) this.#casts.set(t, (byType = new Map()));
    let c = byType.get(to);
    if (!c) {
      // Constants too: onnxruntime's constant folding casts them once at session creation.
      c = build('Cast', [t], { to: { type: 'int', value: ONNX_DTYPE[to] } })[0];
      byType.set(to, c);
    }
    return c;
  }
}
