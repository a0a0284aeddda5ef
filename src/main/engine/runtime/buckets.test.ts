// Shape buckets, padding, and the seeded dropout masks.

import { describe, expect, it } from 'vitest';
import { LENGTH_BUCKETS, bucketFor, padToBucket } from './buckets.js';
import { dropoutMask, mixSeed, mulberry32 } from './dropout.js';

describe('buckets', () => {
  it('picks the smallest bucket that holds the length, and names the fix past the largest', () => {
    expect([1, 16, 17, 64, 65, 512].map((n) => bucketFor(n, LENGTH_BUCKETS))).toEqual([16, 16, 32, 64, 128, 512]);
    expect(() => bucketFor(513, LENGTH_BUCKETS)).toThrow(/length 513 is larger than the largest bucket 512; truncate first/);
    expect(() => bucketFor(3, [4, 2], 'batch')).not.toThrow();
    expect(bucketFor(3, [8, 4, 2], 'batch')).toBe(4);
  });

  it('pads ragged rows row-major into the bucket shape, padded rows included', () => {
    const b = padToBucket(
      { input_ids: [[101, 7, 102], [101, 102]], attention_mask: [[1, 1, 1], [1, 1]] },
      { lengths: [4, 8], batch: [3, 8], padValue: { input_ids: 0 } },
    );
    expect(b.shape).toEqual({ batch: 3, length: 4 });
    expect(b.rows).toBe(2);
    expect(b.lengths).toEqual([3, 2]);
    expect(Array.from(b.data.input_ids)).toEqual([101, 7, 102, 0, 101, 102, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(b.data.attention_mask)).toEqual([1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
    expect(padToBucket({ a: [[1]] }).shape).toEqual({ batch: 1, length: 16 });
  });

  it('rejects rows that disagree or do not fit', () => {
    expect(() => padToBucket({ a: [[1, 2]], b: [[1]] })).toThrow(/row 0: 'b' has 1 tokens, 'a' has 2/);
    expect(() => padToBucket({ a: [[1], [2]], b: [[1]] })).toThrow(/'b' has 1 rows, 'a' has 2/);
    expect(() => padToBucket({ a: [[1], [2]] }, { batch: 1 })).toThrow(/batch 2 exceeds the fixed batch 1/);
    expect(() => padToBucket({ a: [[1, 2, 3]] }, { lengths: 2 })).toThrow(/length 3 exceeds the fixed length 2/);
  });
});

describe('dropout masks', () => {
  it('drops about p of the elements and scales the rest by 1/(1-p), as float32', () => {
    const p = 0.1;
    const mask = dropoutMask(100_000, p, 42, 0, 0);
    const zeros = mask.filter((v) => v === 0).length;
    // Binomial(1e5, 0.1): sd ~95, so 5 sd is ~475.
    expect(Math.abs(zeros - 10_000)).toBeLessThan(475);
    expect(new Set(mask)).toEqual(new Set([0, Math.fround(1 / 0.9)]));
  });

  it('is a function of (seed, step, index): same inputs same mask, any change a new one', () => {
    const m = (seed: number, step: number, index: number) => Array.from(dropoutMask(64, 0.5, seed, step, index));
    expect(m(1, 2, 3)).toEqual(m(1, 2, 3));
    expect(m(1, 2, 3)).not.toEqual(m(2, 2, 3));
    expect(m(1, 2, 3)).not.toEqual(m(1, 3, 3));
    expect(m(1, 2, 3)).not.toEqual(m(1, 2, 4));
    expect(Array.from(dropoutMask(4, 0, 1, 1, 1))).toEqual([1, 1, 1, 1]);
    expect(() => dropoutMask(4, 1, 1, 1, 1)).toThrow(/dropout p = 1 must be in \[0, 1\)/);
  });
});

describe('dropout mask stream', () => {
  it('is mulberry32 seeded with mixSeed(seed, step, index), element by element', () => {
    const random = mulberry32(mixSeed(7, 3, 1));
    const want = Array.from({ length: 1000 }, () => (random() < 0.3 ? 0 : Math.fround(1 / 0.7)));
    expect(Array.from(dropoutMask(1000, 0.3, 7, 3, 1))).toEqual(want);
  });
});
