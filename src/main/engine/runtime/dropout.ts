// Dropout keys and JS-drawn keep masks. engine/nn's step graphs hash their masks inside the
// graph (nn/device-dropout.ts) from dropoutKey(seed, step) alone, so nothing is drawn here or
// uploaded for them; graphs without dropoutInGraph (the toy step) take the masks below.
//
// Dropout keep masks generated in JS (the WebGPU EP has no random ops: DESIGN §3). Each
// mask is a pure function of (seed, step, input index), not of a running generator, so a
// run resumed from a checkpoint at step N draws exactly the masks the uninterrupted run
// drew, on every device (the bytes come from JS, not from an EP); the same seed gives the
// same run (STYLE habit 7).
//
// Masks are bool (1 byte, true = keep); the graph scales kept elements by 1/(1-p)
// (graph/composites.ts dropout). They used to be float32 0 or 1/(1-p): at MiniLM 32×64
// (19 sites, 39.3 M mask elements a step) that was 157 MB drawn and uploaded per step.
// Measured on an H200 host, WebGPU EP (bench/train-step.ts, steady step): float32 masks
// 605 ms with dropout 0.1 (842 ms in an earlier session), bool masks 248 ms, dropout 0 120 ms.

import { EngineError } from '../../../shared/errors.js';
import { mixSeed } from '../../../shared/random.js';
import { numel } from '../graph/dtype.js';
import type { DropoutSpec } from './contract.js';

/**
 * The int32 scalar a graph with in-graph dropout (contract.ts DropoutSpec) hashes its masks
 * from: a function of (seed, step) alone, so a resumed run feeds what the uninterrupted one fed.
 */
export function dropoutKey(seed: number, step: number): number {
  return mixSeed(seed, step) | 0;
}

/**
 * The 16-bit keep threshold for drop probability p: an element is kept when its 16-bit
 * uniform u satisfies u < keepThreshold(p), i.e. with probability round((1-p)·65536)/65536.
 * That differs from 1-p by at most 2^-17 (p = 0.1 keeps with 0.8999939 instead of 0.9),
 * far below what training can notice; the scale stays torch's exact 1/(1-p).
 */
export function keepThreshold(p: number): number {
  if (!(p >= 0 && p < 1)) throw new EngineError('BAD_INPUT', `dropout p = ${p} must be in [0, 1)`);
  return Math.round((1 - p) * 65536);
}

// Packed stores write element 4j+b as byte b of word j, which is that element's address on a
// little-endian machine only; elsewhere (or for an unaligned view) a byte loop writes the same mask.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** What mulberry32 (shared/random.ts) adds to its state before each output. */
const STREAM_INC = 0x6d2b79f5;

/**
 * Fills `out` with a keep mask for drop probability `p` (1 = keep, 0 = drop: a bool tensor's
 * bytes) and returns it. Element 2k is the low and 2k+1 the high 16 bits of the k-th output
 * of mulberry32(mixSeed(seed, step, index)), each compared with keepThreshold(p).
 *
 * Measured (bench/dropout-masks.ts, MiniLM 32×64: 19 sites, 39.3 M elements a step, Node 20):
 * the float32 generator this replaced (one draw and one branch per element into a fresh
 * Float32Array) took 298 ms a step on a 2-core VM and 342 ms on the H200 host; this one takes
 * 48 ms on both. Two elements per 32-bit draw halve the hashing; the compare is branchless
 * (the sign bit of u - thr, so p = 0.1 costs no mispredictions); four bytes go out in one
 * 32-bit store (89 -> 48 ms a step against byte stores); the loop is inlined, not a call per
 * element. xorshift32 was ~15% faster still, but its low bits are weak, and mulberry32 is the
 * stream the tests check against.
 */
export function fillKeepMask(out: Uint8Array, p: number, seed: number, step: number, index: number, offset = 0): Uint8Array {
  if (!(Number.isInteger(offset) && offset >= 0)) throw new EngineError('INTERNAL', `mask offset ${offset} must be an integer >= 0`);
  const thr = keepThreshold(p);
  const n = out.length;
  // `offset` > 0 gives elements [offset, offset + n) of that mask without drawing the ones
  // before (gradient caching draws a chunk's rows): mulberry32 adds STREAM_INC to its state
  // before each output, so the state after m outputs is start + m·STREAM_INC mod 2^32.
  let a = (mixSeed(seed, step, index) + Math.imul(Math.floor(offset / 2), STREAM_INC)) | 0;
  let i = 0;
  if (offset % 2 === 1 && n > 0) {
    // The high half of a word split by the offset.
    a = (a + STREAM_INC) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    t ^= t >>> 14;
    out[i++] = ((t >>> 16) - thr) >>> 31;
  }
  if (i === 0 && LITTLE_ENDIAN && out.byteOffset % 4 === 0) {
    const words = new Uint32Array(out.buffer, out.byteOffset, n >>> 2);
    for (let j = 0; j < words.length; j++) {
      a = (a + STREAM_INC) | 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      t ^= t >>> 14;
      a = (a + STREAM_INC) | 0;
      let u = Math.imul(a ^ (a >>> 15), a | 1);
      u ^= u + Math.imul(u ^ (u >>> 7), u | 61);
      u ^= u >>> 14;
      // u16 - thr is negative exactly when u16 < thr: its sign bit is the keep flag.
      words[j] =
        (((t & 0xffff) - thr) >>> 31) |
        ((((t >>> 16) - thr) >>> 31) << 8) |
        ((((u & 0xffff) - thr) >>> 31) << 16) |
        ((((u >>> 16) - thr) >>> 31) << 24);
    }
    i = words.length * 4;
  }
  // The tail (or the whole mask without packed stores), continuing the same stream.
  for (; i < n; i += 2) {
    a = (a + STREAM_INC) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    t ^= t >>> 14;
    out[i] = ((t & 0xffff) - thr) >>> 31;
    if (i + 1 < n) out[i + 1] = ((t >>> 16) - thr) >>> 31;
  }
  return out;
}

/**
 * Keep-mask buffers reused from step to step. One ArrayBuffer serves every bucket (the
 * trainer runs one step at a time and ort is done with a feed when run() resolves), grown to
 * the largest bucket's need, so a step allocates nothing; each bucket's views are cached.
 */
export class KeepMaskBuffers {
  #buffer = new ArrayBuffer(0);
  #views = new Map<string, Uint8Array[]>();

  /** Draws this step's masks for `specs` (one bucket's, in graph order) into the shared buffer. */
  draw(bucket: string, specs: readonly DropoutSpec[], seed: number, step: number): Uint8Array[] {
    const views = this.#viewsFor(bucket, specs);
    specs.forEach((d, i) => fillKeepMask(views[i], d.p, seed, step, i));
    return views;
  }

  /** Bytes held (for diagnostics and benches). */
  get byteLength(): number {
    return this.#buffer.byteLength;
  }

  #viewsFor(bucket: string, specs: readonly DropoutSpec[]): Uint8Array[] {
    const cached = this.#views.get(bucket);
    if (cached) return cached;
    const sizes = specs.map((d) => numel(d.shape));
    const aligned = (n: number) => (n + 3) & ~3; // each view 4-byte aligned for fillKeepMask's word stores
    const total = sizes.reduce((s, n) => s + aligned(n), 0);
    if (total > this.#buffer.byteLength) {
      this.#buffer = new ArrayBuffer(total);
      this.#views.clear(); // views into the old buffer are stale
    }
    let offset = 0;
    const views = sizes.map((n) => {
      const v = new Uint8Array(this.#buffer, offset, n);
      offset += aligned(n);
      return v;
    });
    this.#views.set(bucket, views);
    return views;
  }
}
