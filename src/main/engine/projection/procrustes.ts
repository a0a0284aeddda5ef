// Orthogonal Procrustes in 2-D with centring and uniform scaling (Schönemann 1966; with
// scale, Gower 1975): find the rotation or reflection R, scale s and translation t that
// minimise Σ ‖s·yᵢR + t − xᵢ‖² for a layout y onto a reference x (points as row vectors).
// With centred x̃, ỹ and M = Σ ỹᵢᵀx̃ᵢ (2×2), R = UVᵀ from M = UΣVᵀ and s = tr(ΣD)/Σ‖ỹᵢ‖².
// In 2-D the SVD has a closed form (Blinn, "Consider the lowly 2×2 matrix", 1996): with
//   E = (m00 + m11)/2, H = (m01 − m10)/2, F = (m00 − m11)/2, G = (m01 + m10)/2,
// M's singular values are √(E²+H²) ± √(F²+G²). The best rotation [[c, s], [−s, c]] has
// (c, s) ∝ (E, H) and reaches ⟨R, M⟩ = 2√(E²+H²); the best reflection [[c, s], [s, −c]] has
// (c, s) ∝ (F, G) and reaches 2√(F²+G²). Taking the larger is the SVD solution, with the
// determinant constraint applied by refusing the reflection when it is not allowed.
import { EngineError } from '../../../shared/errors.js';

export interface Alignment {
  /** [n, 2] the moving layout, transformed onto the reference. */
  aligned: Float32Array;
  /** Row-major 2×2 R, applied as p·R (row vector). */
  rotation: [number, number, number, number];
  scale: number;
  /** aligned = scale · moving · R + translation. */
  translation: [number, number];
  reflection: boolean;
  /** Root-mean-square distance between aligned and reference points. */
  rmsd: number;
}

/**
 * Aligns `moving` ([n, 2]) to `reference` ([n, 2], same points in the same order). Reflections
 * are allowed by default: a UMAP layout and its mirror image are equally valid.
 */
export function alignProcrustes(reference: Float32Array, moving: Float32Array, opts: { allowReflection?: boolean } = {}): Alignment {
  const allowReflection = opts.allowReflection ?? true;
  if (reference.length !== moving.length || reference.length % 2 !== 0 || reference.length === 0) {
    throw new EngineError('BAD_INPUT', `Procrustes needs two [n, 2] layouts of the same points; got ${reference.length} and ${moving.length} values`);
  }
  const n = reference.length / 2;
  let rx = 0, ry = 0, mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    rx += reference[2 * i];
    ry += reference[2 * i + 1];
    mx += moving[2 * i];
    my += moving[2 * i + 1];
  }
  rx /= n;
  ry /= n;
  mx /= n;
  my /= n;
  let m00 = 0, m01 = 0, m10 = 0, m11 = 0, yy = 0;
  for (let i = 0; i < n; i++) {
    const y0 = moving[2 * i] - mx, y1 = moving[2 * i + 1] - my;
    const x0 = reference[2 * i] - rx, x1 = reference[2 * i + 1] - ry;
    m00 += y0 * x0;
    m01 += y0 * x1;
    m10 += y1 * x0;
    m11 += y1 * x1;
    yy += y0 * y0 + y1 * y1;
  }
  if (yy === 0) throw new EngineError('BAD_INPUT', `the moving layout's ${n} points all coincide: there is no rotation or scale to find`);
  const e = (m00 + m11) / 2, h = (m01 - m10) / 2, f = (m00 - m11) / 2, g = (m01 + m10) / 2;
  const rot = Math.hypot(e, h), refl = Math.hypot(f, g);
  const reflection = allowReflection && refl > rot;
  // A zero cross-covariance leaves every R equally good: keep the identity.
  const [c, s] = reflection ? [f / refl, g / refl] : rot > 0 ? [e / rot, h / rot] : [1, 0];
  const R: [number, number, number, number] = reflection ? [c, s, s, -c] : [c, s, -s, c];
  const scale = (2 * (reflection ? refl : rot)) / yy;
  // t = x̄ − s·ȳR
  const t: [number, number] = [rx - scale * (mx * R[0] + my * R[2]), ry - scale * (mx * R[1] + my * R[3])];
  const aligned = new Float32Array(2 * n);
  let se = 0;
  for (let i = 0; i < n; i++) {
    const p0 = moving[2 * i], p1 = moving[2 * i + 1];
    const a0 = scale * (p0 * R[0] + p1 * R[2]) + t[0];
    const a1 = scale * (p0 * R[1] + p1 * R[3]) + t[1];
    aligned[2 * i] = a0;
    aligned[2 * i + 1] = a1;
    se += (a0 - reference[2 * i]) ** 2 + (a1 - reference[2 * i + 1]) ** 2;
  }
  return { aligned, rotation: R, scale, translation: t, reflection, rmsd: Math.sqrt(se / n) };
}
