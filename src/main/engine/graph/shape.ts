// Static-shape helpers shared by shape inference, the gradient rules and the checker.
// Shape problems are thrown as ShapeError (a plain message); the graph wraps it into an
// EngineError that names the node, so this file never needs to know which node it serves.

export type Shape = readonly number[];

export class ShapeError extends Error {
  override name = 'ShapeError';
}

export function fmt(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Numpy/ONNX multidirectional broadcasting: align right, a 1 stretches to the other size. */
export function broadcastShapes(...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const k = s.length - rank + i;
      const e = k < 0 ? 1 : s[k];
      if (e === 1 || e === d) continue;
      if (d !== 1) throw new ShapeError(`shapes ${shapes.map(fmt).join(' and ')} do not broadcast`);
      d = e;
    }
    out.push(d);
  }
  return out;
}

/** An axis in [-rank, rank) as a non-negative index. */
export function normAxis(axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new ShapeError(`axis ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

export function normAxes(axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => normAxis(a, rank));
  if (new Set(out).size !== out.length) throw new ShapeError(`axes [${axes.join(', ')}] repeat an axis`);
  return out;
}

/** Resolves one -1 in a target shape against `count` elements. */
export function resolveReshape(count: number, target: readonly number[]): number[] {
  const free = target.indexOf(-1);
  if (target.some((d, i) => (d < 0 && i !== free) || !Number.isInteger(d))) {
    throw new ShapeError(`reshape target ${fmt(target)} may hold one -1 and otherwise non-negative integers`);
  }
  const known = target.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const out = [...target];
  if (free >= 0) {
    if (known === 0 || count % known !== 0) {
      throw new ShapeError(`cannot infer the -1 of ${fmt(target)} from ${count} elements`);
    }
    out[free] = count / known;
  }
  if (out.reduce((p, d) => p * d, 1) !== count) {
    throw new ShapeError(`cannot reshape ${count} elements to ${fmt(target)}`);
  }
  return out;
}

/** The inverse of a permutation (Transpose's gradient). */
export function invertPerm(perm: readonly number[]): number[] {
  const inv: number[] = new Array(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** ONNX Slice semantics for one axis with step 1: clamps starts/ends like the spec does. */
export function sliceRange(start: number, end: number, dim: number): [number, number] {
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
  const s = clamp(start);
  const e = Math.max(clamp(end), s);
  return [s, e];
}
