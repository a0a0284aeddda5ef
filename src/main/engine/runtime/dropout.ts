// Dropout keep masks generated in JS (the WebGPU EP has no random ops: DESIGN §3). Each
// mask is a pure function of (seed, step, input index), not of a running generator, so a
// run resumed from a checkpoint at step N draws exactly the masks the uninterrupted run
// drew; the same seed gives the same run (STYLE habit 7).

import { EngineError } from '../../../shared/errors.js';

/** mulberry32 from a 32-bit state: small, fast, seeded; floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes several integers into one 32-bit seed (murmur3's finaliser after each word). */
export function mixSeed(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    h = Math.imul(h ^ (w >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/**
 * A keep mask of `n` elements for drop probability `p`: each element is 0 with probability p,
 * else 1/(1-p) (inverted dropout, as torch.nn.Dropout in training mode), as float32.
 */
export function dropoutMask(n: number, p: number, seed: number, step: number, index: number): Float32Array {
  if (!(p >= 0 && p < 1)) throw new EngineError('BAD_INPUT', `dropout p = ${p} must be in [0, 1)`);
  const out = new Float32Array(n);
  const keep = 1 / (1 - p);
  if (p === 0) return out.fill(1);
  // mulberry32 inlined, compared as an integer: ~1.4x faster than calling mulberry32() per
  // element, which matters at MiniLM scale (~40 M mask elements per 32 x 64 step).
  const threshold = p * 4294967296;
  let a = mixSeed(seed, step, index);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (t ^ (t >>> 14)) >>> 0 < threshold ? 0 : keep;
  }
  return out;
}
