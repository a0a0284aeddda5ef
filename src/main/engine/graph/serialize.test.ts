// Serialisation: the bytes load in onnxruntime and carry every dtype's raw_data exactly;
// dead nodes are dropped; float64 Erf is expanded to a series accurate to ~1e-15, and float64
// LayerNormalization and Gelu are composed.

import { describe, expect, it } from 'vitest';
import { type DType, hostTensor, toNumbers } from './dtype.js';
import { Graph } from './graph.js';
import { OPSET } from './infer.js';
import { ModelProto } from './onnx-schema.js';
import * as o from './ops.js';
import { IR_VERSION, serialize } from './serialize.js';
import { evaluate } from '../../../../test/support/grad-check.js';

interface Decoded {
  ir_version: number;
  opset_import: { version: number }[];
  metadata_props: { key: string; value: string }[];
  graph: { node: { op_type: string; input: string[]; output: string[] }[]; initializer: { name: string; raw_data: Uint8Array }[] };
}
const decode = (bytes: Uint8Array): Decoded =>
  ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: true }) as unknown as Decoded;

describe('serialize', () => {
  it('round-trips constants of every dtype through onnxruntime', async () => {
    const values: Record<DType, number[]> = {
      float32: [1.5, -2.25, 3e-8],
      float16: [1, -0.5, 65504],
      float64: [Math.PI, -1e-300, 1e300],
      int32: [-7, 0, 2 ** 31 - 1],
      int64: [-(2 ** 40), 0, 2 ** 53 - 1],
      bool: [1, 0, 1],
    };
    const g = new Graph();
    for (const [dtype, vs] of Object.entries(values) as [DType, number[]][]) {
      g.output(g.initializer(`c_${dtype}`, hostTensor(dtype, [3], vs)), dtype);
    }
    const out = await evaluate(g, {});
    for (const [dtype, vs] of Object.entries(values) as [DType, number[]][]) {
      expect(out[dtype].dtype).toBe(dtype);
      const want = dtype === 'float32' ? Array.from(Float32Array.from(vs)) : vs;
      expect(toNumbers(out[dtype]), dtype).toEqual(want);
    }
  });

  it('writes IR version, opset, metadata and raw_data for large initializers', async () => {
    const big = Float32Array.from({ length: 100_000 }, (_, i) => i * 0.5);
    const g = new Graph();
    const w = g.initializer('w', { dtype: 'float32', shape: [1000, 100], data: big });
    g.output(o.reduceSum(w), 'total');
    const bytes = serialize(g, { metadata: { base_model: 'tiny' } });
    const m = decode(bytes);
    expect(m.ir_version).toBe(IR_VERSION);
    expect(m.opset_import[0].version).toBe(OPSET);
    expect(m.metadata_props).toEqual([{ key: 'base_model', value: 'tiny' }]);
    const init = m.graph.initializer.find((t) => t.name === 'w');
    expect(init?.raw_data.byteLength).toBe(400_000);
    const out = await evaluate(g, {});
    const want = (0.5 * 99_999 * 100_000) / 2;
    expect(Math.abs(toNumbers(out.total)[0] - want) / want).toBeLessThan(1e-5); // float32 sum
  });

  it('keeps fused LayerNormalization and Gelu in float32 and composes them in float64', () => {
    const ops = (dtype: 'float32' | 'float64') => {
      const g = new Graph();
      const x = g.input('x', dtype, [2, 4]);
      const w = g.input('w', dtype, [4]);
      g.output(o.gelu(o.layerNormalization(x, w, w, 1e-5).y), 'y');
      return new Set(decode(serialize(g)).graph.node.map((n) => n.op_type));
    };
    const f32 = ops('float32');
    const f64 = ops('float64');
    expect([f32.has('LayerNormalization'), f32.has('Gelu')]).toEqual([true, true]);
    expect([...f64].filter((op) => ['LayerNormalization', 'Gelu', 'Erf'].includes(op))).toEqual([]);
  });

  it('drops nodes no output depends on', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    o.exp(o.log(x)); // dead
    g.output(o.neg(x), 'y');
    expect(decode(serialize(g)).graph.node.map((n) => n.op_type)).toEqual(['Neg']); // Neg's output is named 'y'
  });

  it('names a shared node output after the graph output, without an Identity copy', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    const m = o.mul(x, 2);
    g.output(m, 'm_next'); // also read below: onnxruntime could not elide an Identity here
    g.output(o.add(m, 1), 'y');
    g.output(m, 'm_again'); // a second name for the same tensor keeps its Identity
    const nodes = decode(serialize(g)).graph.node;
    expect(nodes.map((n) => n.op_type)).toEqual(['Mul', 'Add', 'Identity']);
    expect(nodes[0].output).toEqual(['m_next']);
    expect(nodes[1].input[0]).toBe('m_next');
    const out = await evaluate(g, { x: hostTensor('float32', [2], [1, -3]) });
    expect([toNumbers(out.m_next), toNumbers(out.y), toNumbers(out.m_again)]).toEqual([[2, -6], [3, -5], [2, -6]]);
  });

  it('keeps the Identity when the output is a graph input passed through', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    g.output(x, 'same');
    expect(decode(serialize(g)).graph.node.map((n) => n.op_type)).toEqual(['Identity']);
    expect(toNumbers((await evaluate(g, { x: hostTensor('float32', [2], [4, 5]) })).same)).toEqual([4, 5]);
  });

  it('expands float64 Erf (no CPU kernel) into a series matching tabulated erf to 1e-15', async () => {
    const xs = [0.5, 1, -2, 3, 0, 7];
    const want = [0.5204998778130465, 0.8427007929497149, -0.9953222650189527, 0.9999779095030014, 0, 1];
    const g = new Graph();
    g.output(o.erf(g.input('x', 'float64', [6])), 'y');
    expect(decode(serialize(g)).graph.node.some((n) => n.op_type === 'Erf')).toBe(false);
    const out = await evaluate(g, { x: hostTensor('float64', [6], xs) });
    toNumbers(out.y).forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(1e-15));

    const h = new Graph();
    h.output(o.erf(h.input('x', 'float32', [6])), 'y');
    expect(decode(serialize(h)).graph.node.map((n) => n.op_type)).toContain('Erf');
  });
});
