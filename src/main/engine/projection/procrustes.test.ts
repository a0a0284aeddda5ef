import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../shared/random.js';
import { alignProcrustes } from './procrustes.js';

function cloud(n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return new Float32Array(2 * n).map(() => 2 * rand() - 1);
}

/** s · p·R + t for each row, R rotation by `deg` (optionally after mirroring x). */
function transform(p: Float32Array, deg: number, s: number, t: [number, number], mirror = false): Float32Array {
  const c = Math.cos((deg * Math.PI) / 180), sn = Math.sin((deg * Math.PI) / 180);
  const out = new Float32Array(p.length);
  for (let i = 0; i < p.length / 2; i++) {
    const x = mirror ? -p[2 * i] : p[2 * i], y = p[2 * i + 1];
    out[2 * i] = s * (x * c - y * sn) + t[0];
    out[2 * i + 1] = s * (x * sn + y * c) + t[1];
  }
  return out;
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('alignProcrustes', () => {
  const ref = cloud(60, 1);

  it('recovers a rotated, scaled and translated copy to ~1e-6', () => {
    const moved = transform(ref, 37, 2.5, [3, -4]);
    const a = alignProcrustes(ref, moved);
    expect(maxAbsDiff(a.aligned, ref)).toBeLessThan(2e-6);
    expect(a.reflection).toBe(false);
    expect(a.scale).toBeCloseTo(1 / 2.5, 6);
    // Undoing a 37° turn is a −37° turn: R = [[cos, sin], [−sin, cos]] with angle −37°.
    expect(Math.atan2(a.rotation[1], a.rotation[0]) * (180 / Math.PI)).toBeCloseTo(-37, 4);
    expect(a.rmsd).toBeLessThan(1e-6);
  });

  it('recovers a mirror image when reflections are allowed, and cannot when not', () => {
    const mirrored = transform(ref, 120, 0.3, [-1, 2], true);
    const a = alignProcrustes(ref, mirrored);
    expect(a.reflection).toBe(true);
    expect(maxAbsDiff(a.aligned, ref)).toBeLessThan(2e-6);
    const b = alignProcrustes(ref, mirrored, { allowReflection: false });
    expect(b.reflection).toBe(false);
    expect(b.rmsd).toBeGreaterThan(0.1);
  });

  it('is a least-squares optimum on noisy data: nudging angle, scale or shift only adds error', () => {
    const rand = mulberry32(9);
    const noisy = transform(ref, -75, 1.7, [0.5, 0.25]).map((v) => v + 0.05 * (rand() - 0.5));
    const a = alignProcrustes(ref, noisy);
    const err = (p: Float32Array) => Math.sqrt(p.reduce((s, v, i) => s + (v - ref[i]) ** 2, 0) / (p.length / 2));
    expect(err(a.aligned)).toBeCloseTo(a.rmsd, 6);
    const cx = a.aligned.reduce((s, v, i) => (i % 2 === 0 ? s + v : s), 0) / 60;
    const cy = a.aligned.reduce((s, v, i) => (i % 2 === 1 ? s + v : s), 0) / 60;
    for (const [deg, s, dx] of [[0.5, 1, 0], [-0.5, 1, 0], [0, 1.01, 0], [0, 0.99, 0], [0, 1, 0.01]]) {
      // Perturb about the aligned centroid: rotation by deg, scale s, shift dx.
      const centred = a.aligned.map((v, i) => v - (i % 2 === 0 ? cx : cy));
      const p = transform(centred, deg, s, [cx + dx, cy]);
      expect(err(p)).toBeGreaterThan(a.rmsd);
    }
  });

  it('refuses mismatched or degenerate layouts', () => {
    expect(() => alignProcrustes(ref, ref.subarray(2))).toThrow(/same points/);
    expect(() => alignProcrustes(ref, new Float32Array(ref.length).fill(3))).toThrow(/all coincide/);
  });
});
