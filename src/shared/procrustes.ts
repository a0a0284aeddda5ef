// 2-D ordinary Procrustes analysis (Gower 1975; Schönemann 1966 for the orthogonal part):
// the rotation-or-reflection R, uniform scale s and shift t that carry one point set onto
// another in the least-squares sense, min Σ‖s·R·bᵢ + t − aᵢ‖². The engine projects 'before'
// and 'after' with separate UMAP runs, whose layouts are equal only up to such a transform
// (UMAP fixes neither orientation nor handedness), so the after view is aligned onto the
// before view, matching points by their text: in the renderer's Embeddings page and in the
// CLI's `umap --align` (one implementation, here in shared, for both).
//
// With A, B the centred sets, M = Σ aᵢ·bᵢᵀ = U·S·Vᵀ gives R = U·Vᵀ, s = tr(S)/Σ‖bᵢ‖² and
// t = ā − s·R·b̄. Reflections are allowed on purpose: a mirrored UMAP layout is as good as the
// original. The 2x2 SVD is the closed form below, not an iterative solver.

/** Row-major 2x2 matrix [m00, m01, m10, m11]. */
export type Mat2 = readonly [number, number, number, number];

export interface Svd2 {
  /** Left singular vectors (columns), orthogonal. */
  u: Mat2;
  /** Singular values, s[0] >= s[1] >= 0. */
  s: readonly [number, number];
  /** Vᵀ (rows are the right singular vectors), orthogonal. */
  vt: Mat2;
}

const rot = (a: number): Mat2 => [Math.cos(a), -Math.sin(a), Math.sin(a), Math.cos(a)];

export function mul2(p: Mat2, q: Mat2): Mat2 {
  return [p[0] * q[0] + p[1] * q[2], p[0] * q[1] + p[1] * q[3], p[2] * q[0] + p[3] * q[2], p[2] * q[1] + p[3] * q[3]];
}

/**
 * Closed-form SVD of a 2x2 matrix: any M is Rot(φ)·diag(sx, sy)·Rot(θ), with sx = Q + R,
 * sy = Q − R from the matrix's "conformal" (E, H) and "anti-conformal" (F, G) parts. A
 * negative sy (det M < 0) moves into U as a flipped second column, so S stays non-negative.
 */
export function svd2(m: Mat2): Svd2 {
  const [a, b, c, d] = m;
  const e = (a + d) / 2, f = (a - d) / 2, g = (c + b) / 2, h = (c - b) / 2;
  const q = Math.hypot(e, h), r = Math.hypot(f, g);
  const sx = q + r, sy = q - r;
  const a1 = Math.atan2(g, f), a2 = Math.atan2(h, e);
  const theta = (a2 - a1) / 2, phi = (a2 + a1) / 2;
  const sign = sy < 0 ? -1 : 1;
  const u = mul2(rot(phi), [1, 0, 0, sign]);
  return { u, s: [sx, Math.abs(sy)], vt: rot(theta) };
}

export interface Alignment {
  /** Apply as p' = scale·R·p + t. */
  rotation: Mat2;
  scale: number;
  translation: readonly [number, number];
  /** True when R is a reflection (det −1): the after layout was mirrored. */
  reflected: boolean;
  /** Angle of R's rotation part in degrees (after the mirroring, when reflected). */
  degrees: number;
  /** Points matched by text that the fit used. */
  matched: number;
  /** Root-mean-square distance of the matched points after alignment, over the before set's
   *  RMS radius: 0 is a perfect fit, 1 no better than shrinking the after set to one point
   *  (the least-squares scale makes that the worst case: unrelated layouts come near it). */
  relativeError: number;
}

/**
 * The alignment said for people: how much of where texts sit in the before map the aligned
 * after map reproduces, 1 − relativeError² (the share of the before map's spread explained,
 * Procrustes' R²), as a whole percent and in words.
 */
export function layoutAgreement(al: Pick<Alignment, 'relativeError'>): { percent: number; words: string } {
  const percent = Math.round(100 * Math.max(0, 1 - al.relativeError ** 2));
  const words =
    percent >= 90 ? 'nearly the same picture'
    : percent >= 60 ? 'the same broad shape, with groups shifted'
    : percent >= 30 ? 'partly rearranged: some groups kept together, others moved'
    : 'largely rearranged: fine-tuning changed which texts sit together';
  return { percent, words };
}

/** The fit of B onto A over matched pairs (a[i] ↔ b[i], flat [x0, y0, x1, y1, …]); null under 3 pairs. */
export function fitProcrustes(a: ArrayLike<number>, b: ArrayLike<number>): Alignment | null {
  const n = Math.min(a.length, b.length) >> 1;
  if (n < 3) return null;
  let ax = 0, ay = 0, bx = 0, by = 0;
  for (let i = 0; i < n; i++) {
    ax += a[2 * i]; ay += a[2 * i + 1];
    bx += b[2 * i]; by += b[2 * i + 1];
  }
  ax /= n; ay /= n; bx /= n; by /= n;
  // M = Σ aᵢ·bᵢᵀ over centred points; also Σ‖bᵢ‖² and Σ‖aᵢ‖² for the scale and the error.
  let m00 = 0, m01 = 0, m10 = 0, m11 = 0, bb = 0, aa = 0;
  for (let i = 0; i < n; i++) {
    const px = a[2 * i] - ax, py = a[2 * i + 1] - ay, qx = b[2 * i] - bx, qy = b[2 * i + 1] - by;
    m00 += px * qx; m01 += px * qy; m10 += py * qx; m11 += py * qy;
    bb += qx * qx + qy * qy; aa += px * px + py * py;
  }
  if (bb === 0 || aa === 0) return null; // all points on one spot: no orientation to find
  const { u, s, vt } = svd2([m00, m01, m10, m11]);
  const r = mul2(u, vt);
  const scale = (s[0] + s[1]) / bb;
  const t: [number, number] = [ax - scale * (r[0] * bx + r[1] * by), ay - scale * (r[2] * bx + r[3] * by)];
  const reflected = r[0] * r[3] - r[1] * r[2] < 0;
  // Residual in closed form: Σ‖a‖² − s·tr(S) (the cross term at the optimum).
  const residual = Math.max(0, aa - scale * (s[0] + s[1]));
  return {
    rotation: r,
    scale,
    translation: t,
    reflected,
    degrees: (Math.atan2(r[2], r[0]) * 180) / Math.PI,
    matched: n,
    relativeError: Math.sqrt(residual / aa),
  };
}

/** Applies an alignment to flat [x, y, …] coordinates, into new arrays. */
export function applyAlignment(al: Alignment, x: ArrayLike<number>, y: ArrayLike<number>): { x: Float32Array; y: Float32Array } {
  const [r0, r1, r2, r3] = al.rotation;
  const [tx, ty] = al.translation;
  const s = al.scale;
  const ox = new Float32Array(x.length), oy = new Float32Array(y.length);
  for (let i = 0; i < x.length; i++) {
    ox[i] = s * (r0 * x[i] + r1 * y[i]) + tx;
    oy[i] = s * (r2 * x[i] + r3 * y[i]) + ty;
  }
  return { x: ox, y: oy };
}

/**
 * Aligns the after projection onto the before one, pairing points by identical text (both
 * come from the same dataset, so normally every text pairs). Null when under 3 texts pair.
 */
export function alignByText(
  before: { texts: readonly string[]; x: ArrayLike<number>; y: ArrayLike<number> },
  after: { texts: readonly string[]; x: ArrayLike<number>; y: ArrayLike<number> },
): Alignment | null {
  const at = new Map<string, number>();
  before.texts.forEach((t, i) => at.set(t, i));
  const a: number[] = [], b: number[] = [];
  after.texts.forEach((t, j) => {
    const i = at.get(t);
    if (i === undefined) return;
    a.push(before.x[i], before.y[i]);
    b.push(after.x[j], after.y[j]);
  });
  return fitProcrustes(a, b);
}
