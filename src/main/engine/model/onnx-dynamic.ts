// The encoder as ONE ONNX graph with dynamic batch and sequence axes, for export. Our graph
// IR is static-shape by design (every shape known at build time, DESIGN §3), so this builds
// the same forward graph (nn's encoderForward + pooling + normalisation, the code the engine
// runs) at two probe shapes and diffs the two serialised models:
//   - every int64 constant entry that differs (Reshape targets, Slice ends) must be the batch
//     B, the length L or B·L in both builds; it becomes a Concat of pieces computed from
//     Shape(input_ids) at run time;
//   - RoBERTa's position ids use a prefix sum written as MatMul with an upper-triangular
//     [L, L] constant; that MatMul becomes CumSum along L;
//   - input and output dims that differ become dim_param 'batch_size' / 'sequence_length'.
// Anything else that differs is an error: it would mean a shape baked into the graph that
// the diff cannot re-derive, and an exported model that only works at the probe shape.
import { EngineError } from '../../../shared/errors.js';
import { Graph, serialize } from '../graph/index.js';
import { type EncoderSpec, encoderForward, paramSpecs, positionsNeeded, sentenceEmbedding } from '../nn/index.js';
import { ONNX } from './onnx-proto.js';

/** A decoded ModelProto as plain objects (protobufjs toObject, int64 as numbers). */
/* eslint-disable @typescript-eslint/no-explicit-any */
export type ModelObject = Record<string, any>;
type Obj = Record<string, any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

export const BATCH_DIM = 'batch_size';
export const SEQUENCE_DIM = 'sequence_length';
const INT64 = 7;
const FLOAT = 1;
// Primes, so B, L and B·L of one probe never coincide with each other or with a model size.
const PROBES = [
  { batch: 3, length: 5 },
  { batch: 7, length: 11 },
];

/** Names of the exported graph's inputs: what transformers.js and HF optimum feed. */
export function onnxInputNames(spec: EncoderSpec): string[] {
  return ['input_ids', 'attention_mask', ...(spec.typeVocabSize > 1 ? ['token_type_ids'] : [])];
}

export interface DynamicModelOptions {
  /** Stored as metadata_props. */
  metadata?: Record<string, string>;
  /** Dtype of the data inputs: int64 for export (what the ecosystem feeds), int32 for the engine's own sessions. */
  idsDtype?: 'int64' | 'int32';
  /** Opset 18 / IR 8 for other runtimes (default); false keeps the engine's fused opset-20 ops. */
  portable?: boolean;
}

/**
 * The dynamic-axes encoder graph. Parameters are still graph INPUTS named by their HF keys
 * (export-onnx.ts turns them into initializers); data inputs are int64 (or int32) [batch_size,
 * sequence_length]; outputs sentence_embedding [batch_size, D] and token_embeddings
 * [batch_size, sequence_length, D].
 */
export function dynamicEncoderModel(spec: EncoderSpec, opts: DynamicModelOptions = {}): ModelObject {
  const { metadata = {}, idsDtype = 'int64', portable = true } = opts;
  if (spec.maxPositions < positionsNeeded(spec, PROBES[1].length)) {
    throw new EngineError('UNSUPPORTED', `the model has only ${spec.maxPositions} positions; ONNX export needs at least ${positionsNeeded(spec, PROBES[1].length)}`);
  }
  const [a, b] = PROBES.map((p) => decode(serialize(probeGraph(spec, p.batch, p.length, idsDtype), { docString: 'embedsmith sentence encoder (mean/cls pooling and normalisation inside)', metadata, portable })));
  const ga = a.graph as Obj;
  const gb = b.graph as Obj;
  const sym = symbolOf(PROBES[0], PROBES[1]);
  if (ga.node.length !== gb.node.length || ga.initializer.length !== gb.initializer.length) {
    throw new EngineError('INTERNAL', 'the encoder graph changes structure with its shape; ONNX export cannot make its axes dynamic');
  }
  const front: Obj[] = [];
  const need = new Set<'B' | 'L' | 'BL'>();
  const keep: Obj[] = [];
  const cumsumOf = new Set<string>();
  ga.initializer.forEach((ta: Obj, i: number) => {
    const tb = gb.initializer[i] as Obj;
    if (ta.name !== tb.name) throw new EngineError('INTERNAL', `initializer ${i} is '${ta.name}' in one build, '${tb.name}' in the other`);
    if (sameBytes(ta.raw_data, tb.raw_data) && sameInts(ta.dims, tb.dims)) return void keep.push(ta);
    if (ta.data_type === INT64 && ta.dims.length === 1 && ta.dims[0] === tb.dims[0]) {
      const va = int64s(ta.raw_data);
      const vb = int64s(tb.raw_data);
      const parts = va.map((v, k) => (v === vb[k] ? v : sym(v, vb[k], `constant '${ta.name}'`)));
      parts.forEach((p) => typeof p === 'string' && need.add(p));
      front.push(...concatNodes(ta.name, parts));
    } else if (ta.data_type === FLOAT && sameInts(ta.dims, [PROBES[0].length, PROBES[0].length]) && sameInts(tb.dims, [PROBES[1].length, PROBES[1].length])) {
      cumsumOf.add(ta.name); // RoBERTa's triangular prefix-sum matrix
    } else {
      throw new EngineError('INTERNAL', `initializer '${ta.name}' [${ta.dims}] depends on the probe shape in a way export cannot make dynamic`);
    }
  });
  const nodes = (ga.node as Obj[]).map((n) => {
    const hit = n.input.findIndex((x: string) => cumsumOf.has(x));
    if (hit < 0) return n;
    if (n.op_type !== 'MatMul' || hit !== 1) throw new EngineError('INTERNAL', `node '${n.name}' (${n.op_type}) uses the triangular constant; only MatMul(x, tri) can become CumSum`);
    return { name: n.name, op_type: 'CumSum', input: [n.input[0], 'dyn/axis_last'], output: n.output, attribute: [] };
  });
  if (cumsumOf.size) keep.push(int64Tensor('dyn/axis_last', [-1], []));
  const shapeNodes: Obj[] = [{ name: 'dyn/Shape', op_type: 'Shape', input: ['input_ids'], output: ['dyn/shape'], attribute: [] }];
  keep.push(int64Tensor('dyn/0', [0]), int64Tensor('dyn/1', [1]), int64Tensor('dyn/2', [2]));
  shapeNodes.push(
    { name: 'dyn/B', op_type: 'Slice', input: ['dyn/shape', 'dyn/0', 'dyn/1'], output: ['dyn/B'], attribute: [] }, // [1]
    { name: 'dyn/L', op_type: 'Slice', input: ['dyn/shape', 'dyn/1', 'dyn/2'], output: ['dyn/L'], attribute: [] }, // [1]
  );
  if (need.has('BL')) shapeNodes.push({ name: 'dyn/BL', op_type: 'Mul', input: ['dyn/B', 'dyn/L'], output: ['dyn/BL'], attribute: [] });
  ga.node = [...shapeNodes, ...front.filter((n) => n.op_type !== 'Constant'), ...nodes];
  keep.push(...front.filter((n) => n.op_type === 'Constant').map((n) => n.tensor));
  ga.initializer = keep;
  for (const [va, vb] of [[ga.input, gb.input], [ga.output, gb.output]] as Obj[][][]) {
    va.forEach((v, i) => {
      const dims = v.type.tensor_type.shape.dim as Obj[];
      const other = vb[i].type.tensor_type.shape.dim as Obj[];
      v.type.tensor_type.shape.dim = dims.map((d, k) => {
        if (d.dim_value === other[k].dim_value) return d;
        const s = sym(d.dim_value, other[k].dim_value, `'${v.name}' axis ${k}`);
        if (s === 'BL') throw new EngineError('INTERNAL', `'${v.name}' axis ${k} is batch × length`);
        return { dim_param: s === 'B' ? BATCH_DIM : SEQUENCE_DIM };
      });
    });
  }
  return a;
}

function probeGraph(spec: EncoderSpec, batch: number, length: number, idsDtype: 'int64' | 'int32'): Graph {
  const g = new Graph('embedsmith-encoder');
  // The graph's Gathers, Casts and Equal take int32 and int64 ids alike.
  const names = onnxInputNames(spec);
  const t = Object.fromEntries(names.map((n) => [n, g.input(n, idsDtype, [batch, length])]));
  const P = Object.fromEntries(paramSpecs(spec).map((p) => [p.key, g.input(p.key, 'float32', p.shape)]));
  const inputs = { inputIds: t.input_ids, attentionMask: t.attention_mask, tokenTypeIds: t.token_type_ids };
  const hidden = g.scope('encoder', () => encoderForward(spec, P, inputs));
  g.output(g.scope('pool', () => sentenceEmbedding(spec, hidden, inputs.attentionMask, P)), 'sentence_embedding');
  g.output(hidden, 'token_embeddings');
  return g;
}

function decode(bytes: Uint8Array): ModelObject {
  return ONNX.ModelProto.toObject(ONNX.ModelProto.decode(bytes), { longs: Number, arrays: true, defaults: false });
}

function symbolOf(p: { batch: number; length: number }, q: { batch: number; length: number }) {
  return (va: number, vb: number, what: string): 'B' | 'L' | 'BL' => {
    if (va === p.batch && vb === q.batch) return 'B';
    if (va === p.length && vb === q.length) return 'L';
    if (va === p.batch * p.length && vb === q.batch * q.length) return 'BL';
    throw new EngineError('INTERNAL', `${what} is ${va} at probe ${p.batch}×${p.length} and ${vb} at ${q.batch}×${q.length}: not the batch, the length or their product`);
  };
}

/** Nodes (and Constant pseudo-nodes carrying initializers) computing a 1-D int64 tensor `name` from static and symbolic parts. */
function concatNodes(name: string, parts: Array<number | 'B' | 'L' | 'BL'>): Obj[] {
  const out: Obj[] = [];
  const inputs: string[] = [];
  let run: number[] = [];
  const flush = () => {
    if (!run.length) return;
    const c = `${name}/static${inputs.length}`;
    out.push({ op_type: 'Constant', tensor: int64Tensor(c, run) });
    inputs.push(c);
    run = [];
  };
  for (const p of parts) {
    if (typeof p === 'number') {
      run.push(p);
    } else {
      flush();
      inputs.push(`dyn/${p}`);
    }
  }
  flush();
  out.push({ name: `${name}/dyn`, op_type: 'Concat', input: inputs, output: [name], attribute: [{ name: 'axis', type: 2, i: 0 }] });
  return out;
}

function int64Tensor(name: string, values: number[], dims: number[] = [values.length]): Obj {
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  return { name, dims, data_type: INT64, raw_data: new Uint8Array(data.buffer) };
}

function int64s(bytes: Uint8Array): number[] {
  const copy = new Uint8Array(bytes); // aligned for the BigInt64Array view
  return Array.from(new BigInt64Array(copy.buffer), Number);
}

function sameBytes(x: Uint8Array | undefined, y: Uint8Array | undefined): boolean {
  if (!x || !y) return x === y;
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function sameInts(x: readonly number[] = [], y: readonly number[] = []): boolean {
  return x.length === y.length && x.every((v, i) => v === y[i]);
}
