// NPY v1.0 against numpy's own bytes: `np.save(f, np.zeros((3, 32), '<f4'))` (numpy 1.24)
// writes exactly this 128-byte preamble, and a round trip keeps every value.
import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from './npy.js';

const NUMPY_3x32 = "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (3, 32), }" + ' '.repeat(57) + '\n';

describe('npy', () => {
  it("writes numpy's header byte for byte, data 64-byte aligned", () => {
    const data = Float32Array.from({ length: 96 }, (_, i) => i / 7 - 3);
    const bytes = encodeNpy(data, [3, 32]);
    expect(Array.from(bytes.subarray(0, 128))).toEqual(Array.from(NUMPY_3x32, (c) => c.charCodeAt(0)));
    expect(bytes.length).toBe(128 + 96 * 4);
    const back = decodeNpy(bytes);
    expect(back.shape).toEqual([3, 32]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });

  it('handles empty and 1-D shapes, and refuses a mismatch', () => {
    const empty = encodeNpy(new Float32Array(0), [0, 384]);
    expect((empty.length - 0) % 64).toBe(0);
    expect(decodeNpy(empty).shape).toEqual([0, 384]);
    expect(new TextDecoder().decode(encodeNpy(new Float32Array(5), [5]).subarray(10, 70))).toContain("'shape': (5,), }");
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/5 values/);
  });
});
