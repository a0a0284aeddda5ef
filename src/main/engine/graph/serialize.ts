// Graph -> ONNX ModelProto bytes (IR version 9, default-domain opset 20). Runs the pre-
// serialisation check, then legalises (dead-node elimination, float64 expansions), then
// encodes. Constant data goes in raw_data: fixed-width little-endian bytes, which is what
// typed arrays hold on every platform Node ships for.

import { ENGINE_VERSION } from '../version.js';
import { ONNX_DTYPE } from './dtype.js';
import type { Attr, Graph, Node, Tensor } from './graph.js';
import { checkGraph } from './check.js';
import { OPSET } from './infer.js';
import { legalize } from './legalize.js';
import { ATTRIBUTE_TYPE, ModelProto } from './onnx-schema.js';

export const IR_VERSION = 9; // the IR that ONNX released with opset 20 (onnx/docs/Versioning.md)

/**
 * Files other runtimes load (the exported model.onnx) declare opset 18 and IR 8, which
 * onnxruntime 1.14+ (transformers.js v2's onnxruntime-web included) reads: Gelu, the one
 * opset-20 op we emit, is composed from primitives there (onnxruntime fuses that pattern back
 * when it loads the file). The engine's own sessions use opset 20 and the fused Gelu.
 */
export const PORTABLE_OPSET = 18;
const PORTABLE_IR_VERSION = 8;

export interface SerializeOptions {
  /** Write for other runtimes: opset 18 / IR 8, opset-20 ops composed (see PORTABLE_OPSET). */
  portable?: boolean;
  /** Free text stored as the model's doc_string. */
  docString?: string;
  /** Stored as metadata_props (e.g. the base model's name). */
  metadata?: Record<string, string>;
}

function valueInfo(t: Tensor) {
  return {
    name: t.name,
    type: {
      tensor_type: {
        elem_type: ONNX_DTYPE[t.dtype],
        shape: { dim: t.shape.map((d) => ({ dim_value: d })) },
      },
    },
  };
}

function tensorProto(t: Tensor) {
  const v = t.value;
  if (!v) throw new Error(`constant ${t} has no value`);
  const bytes = new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength);
  return { name: t.name, dims: [...v.shape], data_type: ONNX_DTYPE[v.dtype], raw_data: bytes };
}

function attributeProto(name: string, a: Attr) {
  switch (a.type) {
    case 'int':
      return { name, type: ATTRIBUTE_TYPE.int, i: a.value };
    case 'ints':
      return { name, type: ATTRIBUTE_TYPE.ints, ints: [...a.value] };
    case 'float':
      return { name, type: ATTRIBUTE_TYPE.float, f: a.value };
    case 'string':
      return { name, type: ATTRIBUTE_TYPE.string, s: new TextEncoder().encode(a.value) };
  }
}

/**
 * Graph.output names a tensor through an Identity node. Where that tensor is also read by
 * other nodes (AdamW's new moments feed the update and are outputs), onnxruntime cannot drop
 * the Identity and copies the whole tensor every run: 2 × 47 MB for MiniLM's embedding
 * moments alone. So the producer's output takes the output's name instead, and the Identity
 * goes, when the tensor is a node output that no other graph output already names.
 */
function renameOutputs(g: Graph, nodes: readonly Node[]): { kept: Node[]; names: Map<Tensor, string> } {
  const outputs = new Set(g.outputs);
  const names = new Map<Tensor, string>();
  const dropped = new Set<Node>();
  for (const n of nodes) {
    const [src] = n.inputs;
    const out = n.outputs[0];
    if (n.op !== 'Identity' || !outputs.has(out) || src.kind !== 'node' || outputs.has(src) || names.has(src)) continue;
    names.set(src, out.name);
    dropped.add(n);
  }
  // A node reading a dropped Identity's output still finds it: the source now carries that name.
  return { kept: nodes.filter((n) => !dropped.has(n)), names };
}

/** The ONNX model bytes for `g`, ready for onnxruntime. */
export function serialize(g: Graph, opts: SerializeOptions = {}): Uint8Array {
  checkGraph(g);
  const nodes = legalize(g, opts.portable ? { compose: ['Gelu'] } : {});
  checkGraph(g, nodes); // the expansion is built by the same builder, but check what we ship
  const { kept, names } = renameOutputs(g, nodes);
  const name = (t: Tensor): string => names.get(t) ?? t.name;
  const used = new Set<Tensor>(kept.flatMap((n) => n.inputs));
  const message = ModelProto.fromObject({
    ir_version: opts.portable ? PORTABLE_IR_VERSION : IR_VERSION,
    producer_name: 'embedsmith',
    producer_version: ENGINE_VERSION,
    doc_string: opts.docString ?? '',
    opset_import: [{ domain: '', version: opts.portable ? PORTABLE_OPSET : OPSET }],
    metadata_props: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: g.name,
      node: kept.map((n) => ({
        name: n.name,
        op_type: n.op,
        input: n.inputs.map(name),
        output: n.outputs.map(name),
        attribute: Object.entries(n.attrs).map(([k, a]) => attributeProto(k, a)),
      })),
      initializer: g.constants.filter((t) => used.has(t)).map(tensorProto),
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
    },
  });
  return ModelProto.encode(message).finish();
}
