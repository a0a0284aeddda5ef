// The generator and the seed mixer against known answers from an independent Python
// implementation (unbounded integers masked to 32 bits, no Math.imul), and the stream's
// basic statistics.
import { describe, expect, it } from 'vitest';
import { mixSeed, mulberry32 } from './random.js';

describe('mulberry32', () => {
  it.each([
    [0, [0.26642920868471265, 0.0003297457005828619, 0.2232720274478197]],
    [42, [0.6011037519201636, 0.44829055899754167, 0.8524657934904099]],
    [-1, [0.8964226141106337, 0.189478256739676, 0.7156526781618595]],
  ])('seed %i gives the reference stream', (seed, want) => {
    const r = mulberry32(seed);
    for (const w of want) expect(r()).toBe(w);
  });

  it('stays in [0, 1) with mean 1/2 and variance 1/12 over 1e5 draws', () => {
    const r = mulberry32(7);
    const n = 100_000;
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = r();
      expect(v >= 0 && v < 1).toBe(true);
      s += v;
      s2 += v * v;
    }
    const mean = s / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(s2 / n - mean * mean).toBeCloseTo(1 / 12, 3);
  });
});

describe('mixSeed', () => {
  it('matches the reference for no, one and several words (negative words as their 32-bit pattern)', () => {
    expect(mixSeed()).toBe(2654435769);
    expect(mixSeed(0)).toBe(493009611);
    expect(mixSeed(42, 7)).toBe(4056095047);
    expect(mixSeed(1, 2, 3)).toBe(2901138804);
    expect(mixSeed(-1)).toBe(4288662295);
  });

  it('depends on the order of the words', () => {
    expect(mixSeed(7, 42)).not.toBe(mixSeed(42, 7));
  });
});
