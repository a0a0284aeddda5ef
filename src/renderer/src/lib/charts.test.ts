// Chart arithmetic against values worked out by hand (in the comments), not against itself.
import { describe, expect, it } from 'vitest';
import { extent, formatTick, histogramBars, linePath, linearScale, niceTicks, occupiedRange } from './charts.js';

describe('charts', () => {
  it('scales linearly, reversed ranges included (SVG y grows downwards)', () => {
    expect(linearScale([0, 10], [0, 100])(2.5)).toBe(25);
    expect(linearScale([0, 10], [100, 0])(2.5)).toBe(75); // 100 - 25
    expect(linearScale([-1, 1], [40, 440])(0.5)).toBe(340); // 40 + 1.5/2·400
    expect(linearScale([3, 3], [0, 100])(3)).toBe(50); // no width: the middle
  });

  it('finds the extent of the finite values only', () => {
    expect(extent([3, NaN, -2, Infinity, 7])).toEqual([-2, 7]);
    expect(extent([NaN])).toBeNull();
  });

  it('picks 1-2-5 ticks that cover the data', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]); // raw step 0.2
    // raw step (0.87 - 0.013)/4 = 0.214 → 0.5; floor(0.026) = 0 … ceil(1.74) = 2
    expect(niceTicks(0.013, 0.87, 4)).toEqual([0, 0.5, 1]);
    // a flat series: ±10% → [2.7, 3.3], raw 0.12 → step 0.2, 13·0.2 … 17·0.2 (no 2.6000000000000001)
    expect(niceTicks(3, 3, 5)).toEqual([2.6, 2.8, 3, 3.2, 3.4]);
    expect(niceTicks(0, 0, 2)).toEqual([-1, 0, 1]);
    // learning rates: 0 … 2e-5 in 4 → raw 5e-6, step 5e-6
    expect(niceTicks(0, 2e-5, 4)).toEqual([0, 5e-6, 1e-5, 1.5e-5, 2e-5]);
  });

  it('draws a path that breaks at NaN instead of dropping to the axis', () => {
    const pts = [{ x: 0, y: 0 }, { x: 1, y: 1 }, { x: 2, y: NaN }, { x: 3, y: 3 }, { x: 4, y: 2 }];
    expect(linePath(pts, (x) => x * 10, (y) => 100 - y * 10)).toBe('M0,100 L10,90 M30,70 L40,80');
    expect(linePath([], (x) => x, (y) => y)).toBe('');
  });

  it('bins as the mining report writes them', () => {
    expect(histogramBars([1, 2, 3, 4])).toEqual([
      { x0: -1, x1: -0.5, count: 1 },
      { x0: -0.5, x1: 0, count: 2 },
      { x0: 0, x1: 0.5, count: 3 },
      { x0: 0.5, x1: 1, count: 4 },
    ]);
  });

  it('zooms to the occupied bins, one bin of air each side', () => {
    const a = new Array(40).fill(0);
    const b = new Array(40).fill(0);
    a[32] = 5; // [0.60, 0.65)
    b[30] = 1; // [0.50, 0.55)
    b[35] = 2; // [0.75, 0.80)
    // bins 29 … 36 inclusive: -1 + 29·0.05 = 0.45 … -1 + 37·0.05 = 0.85
    expect(occupiedRange([a, b])).toEqual([0.45, 0.85]);
    const edge = new Array(40).fill(0);
    edge[39] = 1;
    expect(occupiedRange([edge])).toEqual([0.9, 1]); // no air past the end
    expect(occupiedRange([new Array(40).fill(0)])).toEqual([-1, 1]);
  });

  it('formats ticks short', () => {
    expect([0, 2e-5, 1.5e-5, 0.05, 0.123456, 12, 15000].map(formatTick)).toEqual(['0', '2e-5', '1.5e-5', '0.05', '0.123', '12', '15k']);
  });
});
