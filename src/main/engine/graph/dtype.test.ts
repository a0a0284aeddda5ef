import { describe, expect, it } from 'vitest';
import { fromHalfBits, toHalfBits, typedArrayFrom } from './dtype.js';

describe('dtype helpers', () => {
  it('converts to IEEE half bits like numpy.float16', () => {
    // Reference bit patterns: numpy.array([...], dtype=np.float16).view(np.uint16)
    const cases: [number, number][] = [
      [1, 0x3c00], [-2, 0xc000], [0.1, 0x2e66], [65504, 0x7bff], [70000, 0x7c00],
      [Infinity, 0x7c00], [6e-8, 0x0001], [1e-8, 0x0000], [0.333251953125, 0x3555], [-0, 0x8000],
    ];
    for (const [v, bits] of cases) expect(toHalfBits(v), String(v)).toBe(bits);
    expect(fromHalfBits(0x3555)).toBe(0.333251953125);
    expect(fromHalfBits(0x0001)).toBe(2 ** -24);
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).toBe(true);
  });

  it('refuses a non-integer int64', () => {
    expect(() => typedArrayFrom('int64', [1.5])).toThrow(/not an integer/);
    expect(Array.from(typedArrayFrom('int64', [-3, 2 ** 40]))).toEqual([-3n, 2n ** 40n]);
  });
});
