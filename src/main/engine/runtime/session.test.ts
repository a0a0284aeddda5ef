// The onnxruntime wrapper: typed-array conversion for every dtype, fetches, and errors that
// say what was wrong (names, not ort's internals).

import { describe, expect, it } from 'vitest';
import { type DType, DTYPES, hostTensor, toNumbers } from '../graph/dtype.js';
import { Graph } from '../graph/graph.js';
import * as o from '../graph/ops.js';
import { serialize } from '../graph/serialize.js';
import { type DeviceTensor, createSession, toDeviceTensor, toHostTensor } from './session.js';

const ARRAY_TYPE: Record<DType, string> = {
  float32: 'Float32Array',
  float16: 'Uint16Array',
  float64: 'Float64Array',
  int32: 'Int32Array',
  int64: 'BigInt64Array',
  bool: 'Uint8Array',
};

describe('runtime session (CPU EP)', () => {
  it('feeds and returns every dtype as its typed array', async () => {
    const g = new Graph();
    for (const dtype of DTYPES) g.output(o.identity(g.input(dtype, dtype, [2, 2])), `out_${dtype}`);
    const session = await createSession(serialize(g), { device: 'cpu', threads: 1 });
    const values = [1, 0, -2, 3];
    const feeds = Object.fromEntries(
      DTYPES.map((d) => [d, hostTensor(d, [2, 2], d === 'bool' ? [1, 0, 0, 1] : values)]),
    );
    const out = await session.run(feeds);
    for (const dtype of DTYPES) {
      const t = out[`out_${dtype}`];
      expect(t.dtype).toBe(dtype);
      expect(t.shape).toEqual([2, 2]);
      expect(t.data.constructor.name, dtype).toBe(ARRAY_TYPE[dtype]);
      expect(toNumbers(t)).toEqual(dtype === 'bool' ? [1, 0, 0, 1] : values);
    }
    await session.release();
  });

  it('returns only the fetched outputs, and is repeatable when deterministic', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [64, 64]);
    g.output(o.reduceSum(o.matmul(x, x)), 'total');
    g.output(o.neg(x), 'negated');
    const session = await createSession(serialize(g), { device: 'cpu', threads: 2, deterministic: true });
    expect(session.outputNames).toEqual(['total', 'negated']);
    const feeds = { x: hostTensor('float32', [64, 64], Array.from({ length: 4096 }, (_, i) => Math.sin(i))) };
    const a = await session.run(feeds, ['total']);
    const b = await session.run(feeds, ['total']);
    expect(Object.keys(a)).toEqual(['total']);
    expect(a.total.data).toEqual(b.total.data);
    await session.release();
  });

  it('names missing, unknown and wrongly sized feeds and unknown fetches', async () => {
    const g = new Graph();
    g.output(o.neg(g.input('x', 'float32', [2])), 'y');
    const session = await createSession(serialize(g), { device: 'cpu' });
    await expect(session.run({})).rejects.toThrow(/missing \[x\], unknown \[\]/);
    const x = hostTensor('float32', [2], [1, 2]);
    await expect(session.run({ x, z: x })).rejects.toThrow(/unknown \[z\]/);
    await expect(session.run({ x }, ['nope'])).rejects.toThrow(/'nope' is not an output; outputs are: y/);
    await expect(session.run({ x: { dtype: 'float32', shape: [3], data: new Float32Array(2) } })).rejects.toThrow(
      /feed 'x': 2 values for shape \[3\]/,
    );
    await session.release();
  });

  it('reports a model onnxruntime cannot load, an unknown device, and refuses to read device memory', async () => {
    await expect(createSession(new Uint8Array([1, 2, 3]), { device: 'cpu' })).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/onnxruntime rejected the model/),
    });
    await expect(createSession(new Uint8Array(), { device: 'tpu' as 'cpu' })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: "device 'tpu' is not one of: cpu, webgpu, cuda",
    });
    // getData() on a gpu-buffer tensor aborts the process in ort-node 1.30: refuse before ort sees it.
    const fake = { location: 'gpu-buffer', type: 'float32', dims: [1] } as unknown as DeviceTensor;
    expect(() => toHostTensor('w', fake)).toThrow(/output 'w' lives in 'gpu-buffer' memory; read it back through StateStore\.read/);
  });

  it('hands ort tensors through runTensors, and copies host data into state tensors', async () => {
    const g = new Graph();
    g.output(o.mul(g.input('x', 'float32', [2]), 3), 'y');
    const session = await createSession(serialize(g), { device: 'cpu', threads: 1 });
    const data = new Float32Array([1, 2]);
    const x = toDeviceTensor('x', { dtype: 'float32', shape: [2], data });
    data[0] = 100; // a copy: later edits of the caller's array do not reach the tensor
    const { y } = await session.runTensors({ x }, ['y']);
    expect(y.location).toBe('cpu');
    expect(Array.from(toHostTensor('y', y).data as Float32Array)).toEqual([3, 6]);
    await session.release();
  });
});
