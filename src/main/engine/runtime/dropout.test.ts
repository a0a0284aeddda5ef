// The seeded bool keep masks: their statistics (keep rate, independence of the two elements
// drawn from one 32-bit output), their layout against the plain mulberry32 stream, their
// dependence on (seed, step, index) alone, and the reused buffers.

import { describe, expect, it } from 'vitest';
import type { DropoutSpec } from './contract.js';
import { KeepMaskBuffers, fillKeepMask, keepThreshold } from './dropout.js';
import { mixSeed, mulberry32 } from '../../../shared/random.js';

const count = (m: Uint8Array): number => m.reduce((s, v) => s + v, 0);

describe('keep masks', () => {
  it('keep about 1-p of the elements: within 5 standard errors over 4 M draws, for several p', () => {
    const n = 4_000_000;
    for (const [i, p] of [0.1, 0.25, 0.5, 0.9].entries()) {
      const m = fillKeepMask(new Uint8Array(n), p, 42, 7, i);
      const se = Math.sqrt((p * (1 - p)) / n); // ~1.5e-4 at p = 0.1
      expect(Math.abs(count(m) / n - (1 - p)), `p = ${p}`).toBeLessThan(5 * se);
      expect(m.every((v) => v === 0 || v === 1)).toBe(true);
    }
  });

  it('draw the two elements of one 32-bit output independently (P(both kept) = (1-p)²)', () => {
    const n = 4_000_000;
    const p = 0.3;
    const m = fillKeepMask(new Uint8Array(n), p, 3, 1, 4);
    let both = 0;
    let next = 0; // neighbours from consecutive outputs
    for (let i = 0; i + 1 < n; i += 2) both += m[i] & m[i + 1];
    for (let i = 1; i + 1 < n; i += 2) next += m[i] & m[i + 1];
    const want = (1 - p) ** 2;
    const se = Math.sqrt((want * (1 - want)) / (n / 2));
    expect(Math.abs(both / (n / 2) - want)).toBeLessThan(5 * se);
    expect(Math.abs(next / (n / 2 - 1) - want)).toBeLessThan(5 * se);
  });

  it('are the low then high 16 bits of each mulberry32(mixSeed(seed, step, index)) output against the threshold', () => {
    const p = 0.37;
    const thr = keepThreshold(p);
    const random = mulberry32(mixSeed(9, 4, 2));
    const want: number[] = [];
    for (let k = 0; k < 501; k++) {
      const u = random() * 4294967296; // the raw 32-bit output
      want.push(u % 65536 < thr ? 1 : 0, Math.floor(u / 65536) < thr ? 1 : 0);
    }
    // Lengths around the 4-element word stores, and an unaligned view (byte loop only).
    for (const n of [1, 2, 3, 4, 5, 6, 7, 1000, 1001, 1002]) {
      expect(Array.from(fillKeepMask(new Uint8Array(n), p, 9, 4, 2)), `n = ${n}`).toEqual(want.slice(0, n));
    }
    expect(Array.from(fillKeepMask(new Uint8Array(new ArrayBuffer(1003), 1, 1001), p, 9, 4, 2))).toEqual(want.slice(0, 1001));
  });

  it('quantise 1-p to 16 bits: off by at most 2^-17, and refuse p outside [0, 1)', () => {
    for (const p of [0, 1e-6, 0.1, 0.2, 0.5, 0.9, 0.999]) {
      expect(Math.abs(keepThreshold(p) / 65536 - (1 - p)), `p = ${p}`).toBeLessThanOrEqual(2 ** -17);
    }
    expect(count(fillKeepMask(new Uint8Array(1000), 0, 1, 1, 1))).toBe(1000); // p = 0 keeps everything
    for (const p of [1, -0.1, NaN]) expect(() => fillKeepMask(new Uint8Array(4), p, 1, 1, 1)).toThrow(/dropout p = .* must be in \[0, 1\)/);
  });

  it('depend on (seed, step, index) only: same inputs same bytes, any change a different mask', () => {
    const m = (seed: number, step: number, index: number) => fillKeepMask(new Uint8Array(4096), 0.5, seed, step, index);
    const base = m(1, 2, 3);
    expect(m(1, 2, 3)).toEqual(base);
    for (const other of [m(2, 2, 3), m(1, 3, 3), m(1, 2, 4)]) {
      let differ = 0;
      for (let i = 0; i < other.length; i++) differ += other[i] ^ base[i];
      // Independent masks at p = 0.5 differ in half the elements (sd 32).
      expect(Math.abs(differ - 2048)).toBeLessThan(200);
    }
  });
});

describe('KeepMaskBuffers', () => {
  const specs = (...sizes: number[][]): DropoutSpec[] => sizes.map((shape, i) => ({ name: `d${i}`, shape, p: 0.1 + 0.1 * i }));

  it('draws what fillKeepMask draws, site by site, into the same buffers every step', () => {
    const buffers = new KeepMaskBuffers();
    const a = specs([2, 3, 5], [7]);
    const first = buffers.draw('2x3', a, 11, 0);
    const copy = first.map((v) => v.slice());
    a.forEach((d, i) => expect(first[i], d.name).toEqual(fillKeepMask(new Uint8Array(first[i].length), d.p, 11, 0, i)));
    const second = buffers.draw('2x3', a, 11, 1);
    expect(second[0]).toBe(first[0]); // reused, not reallocated
    expect(second[0].buffer).toBe(second[1].buffer);
    expect(second[0]).not.toEqual(copy[0]); // but redrawn for the new step
    expect(buffers.byteLength).toBe(32 + 8); // sizes 30 and 7, each rounded up to a 4-byte boundary
  });

  it('serves several buckets from one buffer, growing it for a larger bucket', () => {
    const buffers = new KeepMaskBuffers();
    const small = specs([4], [4]);
    const large = specs([40], [40]);
    buffers.draw('small', small, 1, 0);
    const big = buffers.draw('large', large, 1, 1);
    expect(buffers.byteLength).toBe(80);
    const again = buffers.draw('small', small, 1, 2);
    expect(again[0].buffer).toBe(big[0].buffer);
    small.forEach((d, i) => expect(again[i]).toEqual(fillKeepMask(new Uint8Array(4), d.p, 1, 2, i)));
    expect(buffers.byteLength).toBe(80);
  });
});
