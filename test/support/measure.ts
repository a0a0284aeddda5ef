// Error measures for comparing vectors in tests, written plainly (float64 sums, one loop) so
// they share nothing with the engine code they judge.

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** max |a[i] − b[i]| over the indices not in `skip`. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, skip?: Set<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) if (!skip?.has(i)) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Cosine similarity of two vectors. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}
