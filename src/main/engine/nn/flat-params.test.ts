// rowWidth: when FlatParams splits a slot as [rows, width] rather than flat. The values and
// gradients read through either view are checked against PyTorch by parity.test.ts (its
// tiny BERT's decay slot takes the row view: width 64).

import { describe, expect, it } from 'vitest';
import { rowWidth } from './flat-params.js';

const at = (shapes: number[][]) => {
  let start = 0;
  return shapes.map((shape) => {
    const p = { start, end: start + shape.reduce((a, b) => a * b, 1), shape };
    start = p.end;
    return p;
  });
};

describe('rowWidth', () => {
  it('takes the width most matrices share when that saves Reshapes, counting the tail split', () => {
    // BERT-like: embeddings and three [n, 4] matrices, one [4, 16]: 1 + 1 (tail) + 1 < 5.
    expect(rowWidth(at([[10, 4], [2, 4], [12, 4], [4, 4], [4, 16]]), true)).toBe(4);
    // Without a tail the Split is not needed: 2 < 3.
    expect(rowWidth(at([[3, 4], [5, 4], [4, 8]]), false)).toBe(4);
  });

  it('splits flat where the row view saves nothing or a piece is not row-aligned', () => {
    expect(rowWidth(at([[4], [4], [8]]), false)).toBe(1); // vectors need no Reshape flat
    expect(rowWidth(at([[3, 4], [4, 8]]), true)).toBe(1); // 1 + 1 + 1 = 3 > 2
    expect(rowWidth(at([[3], [2, 4], [2, 4], [2, 4]]), false)).toBe(1); // [3] puts the matrices off the 4-grid
  });
});
