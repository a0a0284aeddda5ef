// Shape/type errors name the node at fault: at build time (inference) and before
// serialisation (checkGraph re-infers and checks the wiring).

import { describe, expect, it } from 'vitest';
import { checkGraph } from './check.js';
import { Graph } from './graph.js';
import * as o from './ops.js';
import { serialize } from './serialize.js';

describe('shape and type checks', () => {
  it('rejects a bad op at build time, naming the node and the shapes', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2, 3]);
    const b = g.input('b', 'float32', [4, 5]);
    expect(() => o.matmul(a, b)).toThrow(/MatMul node 'MatMul_\d+': inner dimensions differ: \[2, 3\] x \[4, 5\]/);
    expect(() => o.add(a, g.input('c', 'float64', [3]))).toThrow(/Add node 'Add_\d+': mixes dtypes float32 and float64/);
    expect(() => o.add(a, b)).toThrow(/shapes \[2, 3\] and \[4, 5\] do not broadcast/);
    expect(() => o.reshape(a, [4, -1])).toThrow(/cannot infer the -1/);
    expect(() => o.squeeze(a, [0])).toThrow(/Squeeze node 'Squeeze_\d+': cannot squeeze axis 0 of size 2/);
  });

  it('names the node whose declared output disagrees with inference', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2, 3]);
    const [bad] = g.rawNode('Add', [a, a], {}, [{ dtype: 'float32', shape: [3, 2] }]);
    g.output(o.relu(bad), 'y');
    expect(() => serialize(g)).toThrow(/Add node '(Add_\d+)': output 'Add_\d+' float32\[3, 2\] should be float32\[2, 3\]/);
  });

  it('names the node that uses a tensor from another graph or an unknown op', () => {
    const g = new Graph();
    const other = new Graph().input('elsewhere', 'float32', [2]);
    const [y] = g.rawNode('Neg', [other], {}, [{ dtype: 'float32', shape: [2] }]);
    g.output(y, 'y');
    expect(() => checkGraph(g)).toThrow(/Neg node 'Neg_\d+': input 'elsewhere' float32\[2\] belongs to another graph/);

    const h = new Graph();
    const x = h.input('x', 'float32', [2]);
    const [z] = h.rawNode('Frobnicate', [x], {}, [{ dtype: 'float32', shape: [2] }]);
    h.output(z, 'z');
    expect(() => serialize(h)).toThrow(/Frobnicate node 'Frobnicate_\d+': op 'Frobnicate' is unknown/);
  });

  it('requires outputs', () => {
    const g = new Graph('empty');
    o.neg(g.input('x', 'float32', [1]));
    expect(() => serialize(g)).toThrow(/graph 'empty' has no outputs/);
  });
});
