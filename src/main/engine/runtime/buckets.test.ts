// Shape buckets and padding (the seeded dropout masks: dropout.test.ts).

import { describe, expect, it } from 'vitest';
import { LENGTH_BUCKETS, bucketFor, padToBucket } from './buckets.js';

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
