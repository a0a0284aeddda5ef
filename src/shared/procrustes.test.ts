// Procrustes checked against references that do not share its algebra: the SVD against the
// eigenvalues of MᵀM (quadratic formula) and reconstruction; the fit against a known planted
// transform and against a brute-force sweep over every rotation angle (with and without a
// mirror), each with its own least-squares scale and shift.
import { describe, expect, it } from 'vitest';
import { alignByText, applyAlignment, fitProcrustes, layoutAgreement, mul2, svd2, type Mat2 } from './procrustes.js';
import { mulberry32 } from './random.js';

const transpose = (m: Mat2): Mat2 => [m[0], m[2], m[1], m[3]];
const close = (p: Mat2, q: Mat2, digits = 9) => p.forEach((v, i) => expect(v).toBeCloseTo(q[i], digits));

describe('svd2 (closed-form 2x2 SVD)', () => {
  const random = mulberry32(7);
  const cases: Mat2[] = [
    [1, 0, 0, 1],
    [0, 0, 0, 0],
    [3, 0, 0, -2], // negative determinant
    [0, 2, 0, 0], // rank 1
    [1e-9, 4, -4, 1e-9],
    ...Array.from({ length: 50 }, () => [random() * 4 - 2, random() * 4 - 2, random() * 4 - 2, random() * 4 - 2] as Mat2),
  ];
  it.each(cases.map((m) => [m]))('factors %j', (m) => {
    const { u, s, vt } = svd2(m);
    close(mul2(mul2(u, [s[0], 0, 0, s[1]]), vt), m);
    close(mul2(transpose(u), u), [1, 0, 0, 1]);
    close(mul2(vt, transpose(vt)), [1, 0, 0, 1]);
    expect(s[0]).toBeGreaterThanOrEqual(s[1]);
    expect(s[1]).toBeGreaterThanOrEqual(0);
    // Independent: the squared singular values are the eigenvalues of MᵀM.
    const mtm = mul2(transpose(m), m);
    const tr = mtm[0] + mtm[3], det = mtm[0] * mtm[3] - mtm[1] * mtm[2];
    const disc = Math.sqrt(Math.max(0, tr * tr - 4 * det));
    expect(s[0] ** 2).toBeCloseTo((tr + disc) / 2, 7);
    expect(s[1] ** 2).toBeCloseTo(Math.max(0, (tr - disc) / 2), 7);
  });
});

/** Points with some structure (three blobs), flat [x, y, …]. */
function cloud(n: number, seed: number): number[] {
  const r = mulberry32(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    out.push(c * 5 + r() * 2, (c === 1 ? 4 : 0) + r() * 2);
  }
  return out;
}

function transform(p: number[], deg: number, mirror: boolean, s: number, t: [number, number], noise = 0, seed = 1): number[] {
  const r = mulberry32(seed);
  const a = (deg * Math.PI) / 180;
  const out: number[] = [];
  for (let i = 0; i < p.length; i += 2) {
    const x = p[i], y = mirror ? -p[i + 1] : p[i + 1];
    out.push(s * (Math.cos(a) * x - Math.sin(a) * y) + t[0] + (r() - 0.5) * noise, s * (Math.sin(a) * x + Math.cos(a) * y) + t[1] + (r() - 0.5) * noise);
  }
  return out;
}

/** Brute force: best residual over 7200 angles × {rotation, reflection}, each with its own optimal scale and shift. */
function bruteForce(a: number[], b: number[]): { residual: number; deg: number; mirror: boolean } {
  const n = a.length / 2;
  const mean = (p: number[], o: number) => p.filter((_, i) => i % 2 === o).reduce((s, v) => s + v, 0) / n;
  const [ax, ay, bx, by] = [mean(a, 0), mean(a, 1), mean(b, 0), mean(b, 1)];
  let best = { residual: Infinity, deg: 0, mirror: false };
  for (const mirror of [false, true]) {
    for (let step = 0; step < 7200; step++) {
      const deg = step / 20;
      const q = transform(b.map((v, i) => v - (i % 2 ? by : bx)), deg, mirror, 1, [0, 0]);
      let dot = 0, qq = 0;
      for (let i = 0; i < a.length; i++) {
        dot += (a[i] - (i % 2 ? ay : ax)) * q[i];
        qq += q[i] * q[i];
      }
      const s = Math.max(0, dot / qq);
      let res = 0;
      for (let i = 0; i < a.length; i++) res += (a[i] - (i % 2 ? ay : ax) - s * q[i]) ** 2;
      if (res < best.residual) best = { residual: res, deg, mirror };
    }
  }
  return best;
}

describe('fitProcrustes', () => {
  it('recovers a planted rotation, mirror, scale and shift exactly', () => {
    const b = cloud(60, 3);
    // a = T(b): the fit of b onto a must be T itself.
    const a = transform(b, 37, true, 2.5, [3, -1]);
    const al = fitProcrustes(a, b)!;
    expect(al.reflected).toBe(true);
    expect(al.scale).toBeCloseTo(2.5, 9);
    expect(al.relativeError).toBeLessThan(1e-7);
    const moved = applyAlignment(al, b.filter((_, i) => i % 2 === 0), b.filter((_, i) => i % 2 === 1));
    for (let i = 0; i < 60; i++) {
      expect(moved.x[i]).toBeCloseTo(a[2 * i], 4);
      expect(moved.y[i]).toBeCloseTo(a[2 * i + 1], 4);
    }
  });

  it.each([
    [120, false, 0.7],
    [-75, true, 1.3],
    [181, false, 1],
  ])('is no worse than a brute-force sweep over all angles (%s°, mirror %s, noisy)', (deg, mirror, s) => {
    const b = cloud(45, 11);
    const a = transform(b, deg, mirror, s, [-2, 8], 1.5, 5);
    const al = fitProcrustes(a, b)!;
    const brute = bruteForce(a, b);
    const aa = (() => {
      const n = a.length / 2;
      const mx = a.filter((_, i) => i % 2 === 0).reduce((p, v) => p + v, 0) / n;
      const my = a.filter((_, i) => i % 2 === 1).reduce((p, v) => p + v, 0) / n;
      return a.reduce((p, v, i) => p + (v - (i % 2 ? my : mx)) ** 2, 0);
    })();
    const ours = al.relativeError ** 2 * aa;
    expect(ours).toBeLessThanOrEqual(brute.residual + 1e-9);
    expect(ours).toBeGreaterThan(brute.residual * 0.99); // the sweep is fine enough to come close
    expect(al.reflected).toBe(brute.mirror);
    const diff = (((al.degrees - brute.deg) % 360) + 540) % 360 - 180;
    expect(Math.abs(diff)).toBeLessThan(0.5);
  });

  it('refuses fewer than three pairs and degenerate sets', () => {
    expect(fitProcrustes([0, 0, 1, 1], [0, 0, 1, 1])).toBeNull();
    expect(fitProcrustes([1, 1, 1, 1, 1, 1], [0, 0, 1, 0, 0, 1])).toBeNull();
  });
});

describe('alignByText', () => {
  it('pairs points by text whatever their order, ignoring texts only one side has', () => {
    const pts = cloud(30, 9);
    const texts = pts.filter((_, i) => i % 2 === 0).map((_, i) => `text ${i}`);
    const moved = transform(pts, -50, false, 0.5, [10, 10]);
    // After: reversed order, one text missing, one extra text far away.
    const order = texts.map((_, i) => i).reverse().filter((i) => i !== 4);
    const after = {
      texts: [...order.map((i) => texts[i]), 'only after'],
      x: [...order.map((i) => moved[2 * i]), 999],
      y: [...order.map((i) => moved[2 * i + 1]), -999],
    };
    const before = { texts, x: pts.filter((_, i) => i % 2 === 0), y: pts.filter((_, i) => i % 2 === 1) };
    const al = alignByText(before, after)!;
    expect(al.matched).toBe(29);
    expect(al.reflected).toBe(false);
    expect(al.scale).toBeCloseTo(2, 9);
    expect(al.degrees).toBeCloseTo(50, 6);
    const back = applyAlignment(al, after.x, after.y);
    expect(back.x[0]).toBeCloseTo(before.x[29], 4);
    expect(back.y[0]).toBeCloseTo(before.y[29], 4);
  });

  it('is null when the projections share no texts', () => {
    expect(alignByText({ texts: ['a', 'b', 'c'], x: [0, 1, 2], y: [0, 1, 0] }, { texts: ['x', 'y', 'z'], x: [0, 1, 2], y: [0, 1, 0] })).toBeNull();
  });
});

describe('layoutAgreement', () => {
  it('is 100% for a planted transform, near 0% for unrelated layouts, and 1 − e² between', () => {
    const b = cloud(400, 21);
    expect(layoutAgreement(fitProcrustes(transform(b, 33, true, 2.5, [4, -1], 0, 1), b)!)).toEqual({ percent: 100, words: 'nearly the same picture' });
    // Independent clouds: the least-squares scale all but vanishes, so nothing is explained.
    const r = mulberry32(22);
    const uniform = (n: number) => Array.from({ length: 2 * n }, () => r() * 10);
    const unrelated = fitProcrustes(uniform(400), uniform(400))!;
    expect(unrelated.relativeError).toBeGreaterThan(0.95);
    expect(unrelated.relativeError).toBeLessThanOrEqual(1);
    expect(layoutAgreement(unrelated).percent).toBeLessThan(10);
    expect(layoutAgreement({ relativeError: 0.62 })).toEqual({ percent: 62, words: 'the same broad shape, with groups shifted' });
    expect(layoutAgreement({ relativeError: 0.9 }).words).toMatch(/^largely rearranged/);
  });
});
