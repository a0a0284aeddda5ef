// The shape/type check run before serialisation. The builder infers types as it goes, but
// rawNode declarations, capture() splicing and hand-made nodes can still disagree with the
// op's rules; here every node is re-inferred and its wiring verified, and the first problem
// is reported with the node's name, op and inputs, which onnxruntime's own errors often lack.

import { EngineError } from '../../../shared/errors.js';
import type { Graph, Node, Tensor } from './graph.js';
import { inferNode } from './infer.js';
import { fmt, sameShape } from './shape.js';

function fault(node: Node, msg: string): EngineError {
  const inputs = node.inputs.map(String).join(', ');
  return new EngineError('INTERNAL', `${node.op} node '${node.name}': ${msg} (inputs: ${inputs})`, {
    node: node.name,
    op: node.op,
  });
}

/** Throws EngineError naming the first node at fault; `nodes` defaults to the graph's list. */
export function checkGraph(g: Graph, nodes: readonly Node[] = g.nodes): void {
  const defined = new Set<Tensor>([...g.inputs, ...g.constants]);
  const names = new Set<string>([...defined].map((t) => t.name));
  for (const node of nodes) {
    for (const t of node.inputs) {
      if (t.graph !== g) throw fault(node, `input ${t} belongs to another graph`);
      if (!defined.has(t)) throw fault(node, `input ${t} is used before it is computed (or never is)`);
    }
    let inferred;
    try {
      inferred = inferNode(node.op, node.inputs, node.attrs);
    } catch (err) {
      throw fault(node, err instanceof Error ? err.message : String(err));
    }
    if (inferred.length !== node.outputs.length) {
      throw fault(node, `declares ${node.outputs.length} outputs, the op has ${inferred.length}`);
    }
    node.outputs.forEach((t, i) => {
      const want = inferred[i];
      if (t.dtype !== want.dtype || !sameShape(t.shape, want.shape)) {
        throw fault(node, `output ${t} should be ${want.dtype}${fmt(want.shape)}`);
      }
      if (names.has(t.name)) throw fault(node, `output name '${t.name}' is already taken`);
      names.add(t.name);
      defined.add(t);
    });
  }
  if (g.outputs.length === 0) throw new EngineError('BAD_INPUT', `graph '${g.name}' has no outputs; call graph.output()`);
  for (const t of g.outputs) {
    if (!defined.has(t)) throw new EngineError('INTERNAL', `graph output ${t} is not computed by any node`);
  }
}
