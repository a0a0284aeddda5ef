// The scatter geometry against brute force (every point checked) and hand-worked shapes:
// scale round trips and aspect, grid hit-testing and k-nearest on clustered and degenerate
// data, lasso point-in-polygon on convex and concave shapes.
import { describe, expect, it } from 'vitest';
import { boundsOf, cloudFromPoints, colourByLabel, densityAlpha, densityGrid, GridIndex, OTHER_COLOUR, PALETTE, panBy, pointInPolygon, ViewScale, zoomAt, ZOOM_LIMITS, type Cloud } from './scatter.js';

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Clustered like a UMAP layout: dense blobs of different sizes plus sparse outliers. */
function umapLike(n: number, seed: number): Cloud {
  const r = rng(seed);
  const pts: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    if (i % 50 === 0) pts.push([r() * 40 - 20, r() * 30 - 15]);
    else {
      const c = i % 5;
      pts.push([c * 6 - 12 + r() * (c + 1), (c % 2) * 8 + r() * 0.5 * (c + 1)]);
    }
  }
  return cloudFromPoints(pts);
}

function bruteKNearest(c: Cloud, x: number, y: number, k: number, exclude = -1): number[] {
  return [...Array(c.n).keys()]
    .filter((i) => i !== exclude)
    .map((i) => ({ i, d: (c.x[i] - x) ** 2 + (c.y[i] - y) ** 2 }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .slice(0, k)
    .map((p) => p.i);
}

const dist2 = (c: Cloud, i: number, x: number, y: number) => (c.x[i] - x) ** 2 + (c.y[i] - y) ** 2;

describe('ViewScale', () => {
  it('maps the bounds into the box with margin, uniform in x and y, y up, and inverts', () => {
    const b = { minX: -2, minY: 10, maxX: 6, maxY: 12 }; // wide: width decides the scale
    const s = new ViewScale(b, 400, 300, 10);
    expect(s.k).toBeCloseTo(380 / 8, 12);
    expect(s.px(-2)).toBeCloseTo(10, 9);
    expect(s.px(6)).toBeCloseTo(390, 9);
    // Centred vertically; higher y is higher on screen (smaller pixel y).
    expect((s.py(10) + s.py(12)) / 2).toBeCloseTo(150, 9);
    expect(s.py(12)).toBeLessThan(s.py(10));
    expect(s.py(10) - s.py(12)).toBeCloseTo(2 * s.k, 9);
    for (const [x, y] of [[0, 11], [5.5, 10.2], [-1, 12]]) {
      expect(s.dataX(s.px(x))).toBeCloseTo(x, 9);
      expect(s.dataY(s.py(y))).toBeCloseTo(y, 9);
    }
  });

  it('handles a single point (zero extent) without dividing by zero', () => {
    const s = new ViewScale(boundsOf([cloudFromPoints([[3, 3]])]), 100, 100);
    expect(Number.isFinite(s.px(3))).toBe(true);
    expect(s.px(3)).toBeCloseTo(50, 6);
  });
});

describe('GridIndex', () => {
  const cloud = umapLike(3000, 4);
  const grid = new GridIndex(cloud);
  const r = rng(99);
  const queries = Array.from({ length: 200 }, () => [r() * 60 - 30, r() * 50 - 25] as const);

  it('k-nearest equals brute force, for queries inside and outside the data', () => {
    for (const [x, y] of queries) {
      const got = grid.kNearest(x, y, 10);
      const want = bruteKNearest(cloud, x, y, 10);
      // Same distances (ties may list equal-distance points in another order).
      expect(got.map((i) => dist2(cloud, i, x, y))).toEqual(want.map((i) => dist2(cloud, i, x, y)));
    }
  });

  it('neighbours of a point exclude the point itself', () => {
    for (const i of [0, 7, 1234, 2999]) {
      const got = grid.kNearest(cloud.x[i], cloud.y[i], 8, i);
      expect(got).not.toContain(i);
      expect(got.map((j) => dist2(cloud, j, cloud.x[i], cloud.y[i]))).toEqual(bruteKNearest(cloud, cloud.x[i], cloud.y[i], 8, i).map((j) => dist2(cloud, j, cloud.x[i], cloud.y[i])));
    }
  });

  it('hit-tests within a radius: the nearest point or none', () => {
    for (const [x, y] of queries) {
      const [want] = bruteKNearest(cloud, x, y, 1);
      const d = Math.sqrt(dist2(cloud, want, x, y));
      expect(grid.nearest(x, y, d + 1e-6)).toBe(grid.kNearest(x, y, 1)[0]);
      expect(dist2(cloud, grid.nearest(x, y, d + 1e-6), x, y)).toBeCloseTo(d * d, 9);
      if (d > 1e-3) expect(grid.nearest(x, y, d * 0.999)).toBe(-1);
    }
  });

  it('copes with every point on one spot, an empty cloud and k past n', () => {
    const same = new GridIndex(cloudFromPoints([[1, 1], [1, 1], [1, 1]]));
    expect(same.kNearest(5, 5, 10).sort()).toEqual([0, 1, 2]);
    expect(new GridIndex(cloudFromPoints([])).kNearest(0, 0, 3)).toEqual([]);
    expect(new GridIndex(cloudFromPoints([])).nearest(0, 0, 1)).toBe(-1);
  });

  it('lasso selects exactly the points brute-force point-in-polygon finds', () => {
    // A concave star around the middle cluster.
    const star: number[] = [];
    for (let k = 0; k < 10; k++) {
      const a = (k * Math.PI) / 5, rad = k % 2 ? 2 : 7;
      star.push(rad * Math.cos(a), 4 + rad * Math.sin(a));
    }
    const want = [...Array(cloud.n).keys()].filter((i) => pointInPolygon(cloud.x[i], cloud.y[i], star));
    expect(want.length).toBeGreaterThan(50);
    expect(grid.inPolygon(star)).toEqual(want);
    expect(grid.inPolygon([0, 0, 1, 1])).toEqual([]); // not a polygon yet
  });

  it('steps to the nearest point in an arrow direction', () => {
    const c = cloudFromPoints([[0, 0], [1, 0], [5, 0], [0, 2], [-3, 0.5], [0.2, -1]]);
    const g = new GridIndex(c, 1);
    expect(g.step(0, 1, 0)).toBe(1); // right
    expect(g.step(1, 1, 0)).toBe(2);
    expect(g.step(0, 0, -1)).toBe(3); // up on screen is +y in data
    expect(g.step(0, 0, 1)).toBe(5);
    expect(g.step(0, -1, 0)).toBe(4);
    expect(g.step(2, 1, 0)).toBe(-1); // nothing further right
  });
});

describe('pointInPolygon', () => {
  it('agrees with the circle it approximates, away from the edge', () => {
    const poly: number[] = [];
    for (let k = 0; k < 64; k++) poly.push(3 + 2 * Math.cos((k * Math.PI) / 32), -1 + 2 * Math.sin((k * Math.PI) / 32));
    const r = rng(5);
    for (let t = 0; t < 2000; t++) {
      const x = r() * 8 - 1, y = r() * 8 - 5;
      const d = Math.hypot(x - 3, y + 1);
      if (Math.abs(d - 2) < 0.01) continue; // between the polygon and the circle
      expect(pointInPolygon(x, y, poly)).toBe(d < 2);
    }
  });

  it('handles a concave U shape', () => {
    // U: outer 0..3 × 0..3 with a notch x 1..2, y 1..3.
    const u = [0, 0, 3, 0, 3, 3, 2, 3, 2, 1, 1, 1, 1, 3, 0, 3];
    expect(pointInPolygon(0.5, 2, u)).toBe(true);
    expect(pointInPolygon(2.5, 2, u)).toBe(true);
    expect(pointInPolygon(1.5, 0.5, u)).toBe(true);
    expect(pointInPolygon(1.5, 2, u)).toBe(false); // in the notch
    expect(pointInPolygon(4, 1, u)).toBe(false);
    expect(pointInPolygon(1.5, 1, u)).toBe(false); // ray through vertices counted once: on the notch floor, outside
  });
});

describe('colourByLabel', () => {
  it('gives the most frequent labels the palette in order and the rest grey, counting per view', () => {
    const labels = ['b', 'a', 'b', null, 'c', 'b', 'a'];
    // The second view has more 'a' than the first: the legend counts the larger.
    const { legend, index, other } = colourByLabel([labels, ['a', 'a', 'a', 'a', null]]);
    expect(legend.map((l) => [l.label, l.count])).toEqual([['a', 4], ['b', 3], ['c', 1]]);
    expect(legend[0].colour).toBe(PALETTE[0]);
    expect([...index[0]]).toEqual([1, 0, 1, PALETTE.length, 2, 1, 0]);
    expect([...index[1]]).toEqual([0, 0, 0, 0, PALETTE.length]);
    expect(other).toBe(1);
    const many = Array.from({ length: PALETTE.length + 3 }, (_, i) => `l${i}`);
    const m = colourByLabel([many]);
    expect(m.legend).toHaveLength(PALETTE.length);
    expect(m.other).toBe(3);
    expect(OTHER_COLOUR).toMatch(/^#/);
  });
});

describe('zoom and pan', () => {
  const b = { minX: -5, minY: -2, maxX: 15, maxY: 8 };
  const W = 400, H = 320;

  it('keeps the data point under the pointer in place while zooming, and zooms by the factor', () => {
    const fitted = new ViewScale(b, W, H);
    let view = zoomAt(b, W, H, null, 100, 50, 2);
    const dx = fitted.dataX(100), dy = fitted.dataY(50);
    let s = new ViewScale(b, W, H, 12, view);
    expect(s.k).toBeCloseTo(2 * fitted.k, 9);
    expect(s.px(dx)).toBeCloseTo(100, 9);
    expect(s.py(dy)).toBeCloseTo(50, 9);
    // A second step elsewhere compounds the zoom and pins that point instead.
    const before = s;
    view = zoomAt(b, W, H, view, 300, 250, 1.5);
    s = new ViewScale(b, W, H, 12, view);
    expect(s.k).toBeCloseTo(3 * fitted.k, 9);
    expect(s.px(before.dataX(300))).toBeCloseTo(300, 9);
    expect(s.py(before.dataY(250))).toBeCloseTo(250, 9);
  });

  it('stops at the zoom limits', () => {
    let view = null;
    for (let i = 0; i < 60; i++) view = zoomAt(b, W, H, view, 200, 160, 2);
    expect(view!.zoom).toBe(ZOOM_LIMITS.max);
    for (let i = 0; i < 60; i++) view = zoomAt(b, W, H, view, 200, 160, 0.5);
    expect(view!.zoom).toBe(ZOOM_LIMITS.min);
  });

  it('pans so the content follows the pointer, and zoom 1 at the box centre is the fitted view', () => {
    const fitted = new ViewScale(b, W, H);
    const same = new ViewScale(b, W, H, 12, { zoom: 1, cx: 5, cy: 3 });
    expect([same.k, same.ox, same.oy]).toEqual([fitted.k, fitted.ox, fitted.oy]);
    const moved = new ViewScale(b, W, H, 12, panBy(b, W, H, null, 30, -20));
    expect(moved.px(2)).toBeCloseTo(fitted.px(2) + 30, 9);
    expect(moved.py(2)).toBeCloseTo(fitted.py(2) - 20, 9);
  });
});

describe('density shading', () => {
  it('counts points per screen cell as a brute-force count does, leaving out hidden and off-canvas points', () => {
    const c = umapLike(3000, 4);
    const W = 300, H = 200, cell = 7;
    const scale = new ViewScale(boundsOf([c]), W, H, 12, { zoom: 2, cx: 0, cy: 4 }); // zoomed: some points fall outside
    const skip = (i: number) => i % 7 === 0;
    const g = densityGrid(c, scale, W, H, cell, skip);
    const want = new Uint32Array(g.cols * g.rows);
    let outside = 0;
    for (let i = 0; i < c.n; i++) {
      if (skip(i)) continue;
      const px = scale.px(c.x[i]), py = scale.py(c.y[i]);
      if (px < 0 || px >= W || py < 0 || py >= H) {
        outside++;
        continue;
      }
      want[Math.floor(py / cell) * g.cols + Math.floor(px / cell)]++;
    }
    expect(outside).toBeGreaterThan(0);
    expect([...g.counts]).toEqual([...want]);
    expect(g.max).toBe(Math.max(...want));
  });

  it('shades nothing for a lone point and more for fuller cells', () => {
    expect(densityAlpha(1, 50)).toBe(0);
    expect(densityAlpha(5, 1)).toBe(0);
    expect(densityAlpha(2, 50)).toBeGreaterThan(0);
    expect(densityAlpha(50, 50)).toBeGreaterThan(densityAlpha(10, 50));
    expect(densityAlpha(50, 50)).toBeLessThanOrEqual(0.4); // light enough for the points on top to keep their colours
  });
});
