// Geometry for the UMAP scatter plots: points as typed arrays, one uniform data→pixel scale
// (x and y share it, so 2-D distances mean the same in every direction and in both views),
// a uniform-grid spatial index for hover, click, nearest neighbours and lasso at 50,000
// points (each query touches a few cells instead of every point), and point-in-polygon.

export interface Cloud {
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly n: number;
}

export function cloudFromPoints(points: readonly (readonly [number, number])[]): Cloud {
  const n = points.length;
  const x = new Float32Array(n), y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = points[i][0];
    y[i] = points[i][1];
  }
  return { x, y, n };
}

export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** The box around every point of the clouds; a unit box when there are none. */
export function boundsOf(clouds: readonly Cloud[]): Bounds {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const c of clouds) {
    for (let i = 0; i < c.n; i++) {
      const x = c.x[i], y = c.y[i];
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  if (minX > maxX) return { minX: 0, minY: 0, maxX: 1, maxY: 1 };
  return { minX, minY, maxX, maxY };
}

/**
 * Where the user zoomed and panned to: `zoom` × the fitted scale, with the data point
 * (cx, cy) at the canvas centre. Kept in data units, so both views (same axes) share one and
 * it survives a resize. Null: the whole cloud, fitted.
 */
export interface Zoom {
  zoom: number;
  cx: number;
  cy: number;
}

/** How far in and out the wheel goes, × the fitted view. */
export const ZOOM_LIMITS = { min: 0.5, max: 400 } as const;

/** Data → CSS pixels: uniform, centred, y up (as plots are read), `pad` pixels of margin; zoomed when asked. */
export class ViewScale {
  readonly k: number;
  readonly ox: number;
  readonly oy: number;

  constructor(b: Bounds, width: number, height: number, pad = 12, view: Zoom | null = null) {
    const w = Math.max(b.maxX - b.minX, 1e-9), h = Math.max(b.maxY - b.minY, 1e-9);
    const fitted = Math.max(1e-9, Math.min((width - 2 * pad) / w, (height - 2 * pad) / h));
    this.k = fitted * (view?.zoom ?? 1);
    // Centre the box (or the zoom's centre): the leftover space is split evenly on both sides.
    const cx = view ? view.cx : (b.minX + b.maxX) / 2, cy = view ? view.cy : (b.minY + b.maxY) / 2;
    this.ox = width / 2 - this.k * cx;
    this.oy = height / 2 + this.k * cy;
  }
  px(x: number): number {
    return this.ox + this.k * x;
  }
  py(y: number): number {
    return this.oy - this.k * y;
  }
  dataX(px: number): number {
    return (px - this.ox) / this.k;
  }
  dataY(py: number): number {
    return (this.oy - py) / this.k;
  }
}

/**
 * The zoom after a wheel step of `factor` at pixel (px, py): the data point under the pointer
 * stays under it. Clamped to ZOOM_LIMITS (a step past them keeps the limit).
 */
export function zoomAt(b: Bounds, width: number, height: number, view: Zoom | null, px: number, py: number, factor: number): Zoom {
  const before = new ViewScale(b, width, height, 12, view);
  const zoom = Math.min(ZOOM_LIMITS.max, Math.max(ZOOM_LIMITS.min, (view?.zoom ?? 1) * factor));
  const k = (before.k / (view?.zoom ?? 1)) * zoom;
  const dx = before.dataX(px), dy = before.dataY(py);
  return { zoom, cx: dx - (px - width / 2) / k, cy: dy + (py - height / 2) / k };
}

/** The view moved by a drag of (dx, dy) CSS pixels: the content follows the pointer. */
export function panBy(b: Bounds, width: number, height: number, view: Zoom | null, dx: number, dy: number): Zoom {
  const s = new ViewScale(b, width, height, 12, view);
  const zoom = view?.zoom ?? 1;
  const cx = view ? view.cx : (b.minX + b.maxX) / 2, cy = view ? view.cy : (b.minY + b.maxY) / 2;
  return { zoom, cx: cx - dx / s.k, cy: cy + dy / s.k };
}

/**
 * Points per screen cell of `cell` CSS pixels (row-major, cols × rows), for shading where
 * points pile up: at 300 points in a few blobs, single dots hide how many sit on each spot.
 * Points outside the canvas are not counted.
 */
export function densityGrid(cloud: Cloud, scale: ViewScale, width: number, height: number, cell: number, skip?: (i: number) => boolean): { cols: number; rows: number; counts: Uint32Array; max: number } {
  const cols = Math.max(1, Math.ceil(width / cell)), rows = Math.max(1, Math.ceil(height / cell));
  const counts = new Uint32Array(cols * rows);
  let max = 0;
  for (let i = 0; i < cloud.n; i++) {
    if (skip?.(i)) continue;
    const px = scale.px(cloud.x[i]), py = scale.py(cloud.y[i]);
    if (!(px >= 0 && px < width && py >= 0 && py < height)) continue;
    const c = Math.floor(py / cell) * cols + Math.floor(px / cell);
    if (++counts[c] > max) max = counts[c];
  }
  return { cols, rows, counts, max };
}

/**
 * Opacity of a density cell holding `count` points when the fullest holds `max`: none for a
 * lone point (it is drawn as itself), then rising with the logarithm so a 10× pile reads as
 * darker without hiding the small ones.
 */
export function densityAlpha(count: number, max: number): number {
  if (count < 2 || max < 2) return 0;
  return 0.06 + 0.3 * (Math.log(count) / Math.log(max));
}

/** Inside a polygon (flat [x0, y0, x1, y1, …], implicitly closed), by the even–odd rule. */
export function pointInPolygon(x: number, y: number, poly: ArrayLike<number>): boolean {
  let inside = false;
  const n = poly.length >> 1;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = poly[2 * i], yi = poly[2 * i + 1], xj = poly[2 * j], yj = poly[2 * j + 1];
    // Half-open test on y so a ray through a vertex counts it once.
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Points bucketed into a uniform grid over their bounds (about `perCell` points per cell on
 * average), stored CSR-style: cell c holds items[start[c] .. start[c + 1]).
 */
export class GridIndex {
  readonly cloud: Cloud;
  readonly cols: number;
  readonly rows: number;
  readonly cell: number;
  readonly #minX: number;
  readonly #minY: number;
  readonly #start: Int32Array;
  readonly #items: Int32Array;

  constructor(cloud: Cloud, perCell = 4) {
    this.cloud = cloud;
    const b = boundsOf([cloud]);
    const w = Math.max(b.maxX - b.minX, 1e-9), h = Math.max(b.maxY - b.minY, 1e-9);
    this.cell = Math.max(Math.sqrt((w * h * perCell) / Math.max(cloud.n, 1)), Math.max(w, h) / 2048, 1e-9);
    this.cols = Math.max(1, Math.ceil(w / this.cell));
    this.rows = Math.max(1, Math.ceil(h / this.cell));
    this.#minX = b.minX;
    this.#minY = b.minY;
    // Counting sort of the points by cell.
    const cellOf = new Int32Array(cloud.n);
    const start = new Int32Array(this.cols * this.rows + 1);
    for (let i = 0; i < cloud.n; i++) {
      const c = this.#cellAt(cloud.x[i], cloud.y[i]);
      cellOf[i] = c;
      start[c + 1]++;
    }
    for (let c = 0; c < this.cols * this.rows; c++) start[c + 1] += start[c];
    const fill = start.slice(0, -1);
    const items = new Int32Array(cloud.n);
    for (let i = 0; i < cloud.n; i++) items[fill[cellOf[i]]++] = i;
    this.#start = start;
    this.#items = items;
  }

  #col(x: number): number {
    return Math.min(this.cols - 1, Math.max(0, Math.floor((x - this.#minX) / this.cell)));
  }
  #row(y: number): number {
    return Math.min(this.rows - 1, Math.max(0, Math.floor((y - this.#minY) / this.cell)));
  }
  #cellAt(x: number, y: number): number {
    return this.#row(y) * this.cols + this.#col(x);
  }

  /** Calls `visit` for every point in the cells at Chebyshev ring `r` around (cx, cy). */
  #ring(cx: number, cy: number, r: number, visit: (i: number) => void): boolean {
    let any = false;
    for (let row = cy - r; row <= cy + r; row++) {
      if (row < 0 || row >= this.rows) continue;
      const edge = row === cy - r || row === cy + r;
      for (let col = cx - r; col <= cx + r; col += edge ? 1 : 2 * r || 1) {
        if (col < 0 || col >= this.cols) continue;
        any = true;
        const c = row * this.cols + col;
        for (let k = this.#start[c]; k < this.#start[c + 1]; k++) visit(this.#items[k]);
      }
    }
    return any;
  }

  /** The k points nearest (x, y), nearest first; `exclude` (e.g. the point itself) is skipped. */
  kNearest(x: number, y: number, k: number, exclude = -1): number[] {
    const best: { i: number; d: number }[] = [];
    if (k <= 0 || this.cloud.n === 0) return [];
    const { x: px, y: py } = this.cloud;
    const cx = this.#col(x), cy = this.#row(y);
    // A cell in ring r+1 or beyond differs from the query's cell by r+1 in a column or row, so
    // it lies at least r cells away (more for a query outside the grid, clamped to its edge).
    for (let r = 0; ; r++) {
      const any = this.#ring(cx, cy, r, (i) => {
        if (i === exclude) return;
        const d = (px[i] - x) ** 2 + (py[i] - y) ** 2;
        if (best.length < k || d < best[best.length - 1].d) {
          let at = best.length;
          while (at > 0 && best[at - 1].d > d) at--;
          best.splice(at, 0, { i, d });
          if (best.length > k) best.pop();
        }
      });
      const reach = r * this.cell;
      if (best.length === k && best[k - 1].d <= reach * reach) break;
      if (!any) break; // rings are centred on a cell inside the grid: an empty one means all were read
    }
    return best.map((b) => b.i);
  }

  /** The point nearest (x, y) within `maxDist` (data units), or −1. */
  nearest(x: number, y: number, maxDist: number): number {
    const [i] = this.kNearest(x, y, 1);
    if (i === undefined) return -1;
    return (this.cloud.x[i] - x) ** 2 + (this.cloud.y[i] - y) ** 2 <= maxDist * maxDist ? i : -1;
  }

  /** Every point inside the polygon (flat data coordinates), in index order. */
  inPolygon(poly: ArrayLike<number>): number[] {
    if (poly.length < 6) return [];
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (let i = 0; i < poly.length; i += 2) {
      minX = Math.min(minX, poly[i]);
      maxX = Math.max(maxX, poly[i]);
      minY = Math.min(minY, poly[i + 1]);
      maxY = Math.max(maxY, poly[i + 1]);
    }
    const out: number[] = [];
    const { x, y } = this.cloud;
    // Only the cells under the polygon's box are read.
    for (let row = this.#row(minY); row <= this.#row(maxY); row++) {
      for (let col = this.#col(minX); col <= this.#col(maxX); col++) {
        const c = row * this.cols + col;
        for (let k = this.#start[c]; k < this.#start[c + 1]; k++) {
          const i = this.#items[k];
          if (x[i] >= minX && x[i] <= maxX && y[i] >= minY && y[i] <= maxY && pointInPolygon(x[i], y[i], poly)) out.push(i);
        }
      }
    }
    return out.sort((a, b) => a - b);
  }

  /**
   * The nearest point from `from` in a screen direction (dx, dy: y down as on screen), within
   * a 45° cone either side, for moving through the plot with the arrow keys. −1 when none.
   */
  step(from: number, dx: number, dy: number, candidates = 64): number {
    const { x, y } = this.cloud;
    for (const i of this.kNearest(x[from], y[from], candidates, from)) {
      const vx = x[i] - x[from], vy = -(y[i] - y[from]); // data y is up; screen y is down
      const len = Math.hypot(vx, vy);
      if (len > 0 && (vx * dx + vy * dy) / len >= Math.SQRT1_2 * Math.hypot(dx, dy)) return i;
    }
    return -1;
  }
}

/** Colours for labels, distinct in light and dark themes (Tableau 10 plus two). */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#17becf', '#8c6d31', '#6b6ecf'];
/** Points without a label, and labels past the palette ("other"). */
export const OTHER_COLOUR = '#9a9a9a';

/**
 * The most frequent labels get the palette's colours in order; the rest share grey. Counts
 * are per view (the larger where the views differ), since the views show the same texts.
 * Returns the legend and a colour index per point of each view (PALETTE.length is grey).
 */
export function colourByLabel(views: readonly (readonly (string | null)[])[]): { legend: { label: string; colour: string; count: number }[]; index: Uint8Array[]; other: number } {
  const counts = new Map<string, number>();
  for (const labels of views) {
    const mine = new Map<string, number>();
    for (const l of labels) if (l !== null) mine.set(l, (mine.get(l) ?? 0) + 1);
    for (const [l, c] of mine) counts.set(l, Math.max(c, counts.get(l) ?? 0));
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, PALETTE.length);
  const slot = new Map(ranked.map(([l], i) => [l, i]));
  const index = views.map((labels) => Uint8Array.from(labels, (l) => (l === null ? PALETTE.length : (slot.get(l) ?? PALETTE.length))));
  const other = Math.max(0, ...views.map((labels) => labels.filter((l) => l === null || !slot.has(l)).length));
  return { legend: ranked.map(([label, count], i) => ({ label, colour: PALETTE[i], count })), index, other };
}
