// The table's windowing math against a brute-force reference: every row that intersects the
// viewport must be rendered, at the pixel where a full-height list would put it (or, past the
// browser height cap, where the compressed scrollbar maps it), and no more than a screenful
// plus overscan may be.
import { describe, expect, it } from 'vitest';
import { MAX_PX, blocksFor, contentHeight, rowWindow, scrollTopFor } from './row-window.js';

const RH = 34;

/** Rows a full-height list shows between `top` and `top + viewport` (the reference). */
function visibleRows(top: number, viewport: number, total: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < total; i++) if (i * RH < top + viewport && (i + 1) * RH > top) out.push(i);
  return out;
}

describe('rowWindow', () => {
  it('renders exactly the rows a full list shows, placed where it shows them', () => {
    const total = 1000;
    for (const scrollTop of [0, 1, 33, 34, 35, 500, 12_345, total * RH - 400]) {
      const w = rowWindow({ scrollTop, viewport: 400, rowHeight: RH, total, overscan: 0 });
      const want = visibleRows(scrollTop, 400, total);
      expect(w.start).toBe(want[0]);
      // Every visible row is inside [start, end); at most one extra row below.
      expect(w.end).toBeGreaterThanOrEqual(want.at(-1)! + 1);
      expect(w.end - w.start).toBeLessThanOrEqual(want.length + 1);
      expect(w.offsetY).toBe(w.start * RH);
      expect(w.contentHeight).toBe(total * RH);
    }
  });

  it('adds overscan on both sides, clipped at the ends', () => {
    const w = rowWindow({ scrollTop: 100 * RH, viewport: 340, rowHeight: RH, total: 1000, overscan: 5 });
    expect(w.start).toBe(95);
    expect(w.end).toBe(100 + 11 + 5);
    expect(w.offsetY).toBe(95 * RH);
    const top = rowWindow({ scrollTop: 0, viewport: 340, rowHeight: RH, total: 1000, overscan: 5 });
    expect(top.start).toBe(0);
    const small = rowWindow({ scrollTop: 0, viewport: 340, rowHeight: RH, total: 3, overscan: 5 });
    expect([small.start, small.end, small.contentHeight]).toEqual([0, 3, 3 * RH]);
  });

  it('renders a screenful for 100k rows, never the whole list', () => {
    const w = rowWindow({ scrollTop: 50_000 * RH, viewport: 800, rowHeight: RH, total: 100_000 });
    expect(w.end - w.start).toBeLessThan(40);
    expect(w.start).toBe(50_000 - 6);
  });

  it('reads a scroll position past the end (the list shrank under a filter) as the last page', () => {
    const w = rowWindow({ scrollTop: 1e6, viewport: 340, rowHeight: RH, total: 20, overscan: 0 });
    expect(w.end).toBe(20);
    expect(w.start).toBe(20 - 10);
  });

  it('compresses past the height cap: the scrollbar spans every row, the viewport shows them exactly', () => {
    const total = 1_000_000; // 34M px uncapped: over Chromium's limit
    const viewport = 600;
    expect(contentHeight(total, RH)).toBe(MAX_PX);
    const range = MAX_PX - viewport;
    const full = total * RH - viewport;
    for (const f of [0, 0.25, 0.5, 0.999, 1]) {
      const scrollTop = f * range;
      const w = rowWindow({ scrollTop, viewport, rowHeight: RH, total, overscan: 0 });
      // The reference: the full list scrolled by the same fraction.
      const virtualTop = f * full;
      const want = visibleRows(virtualTop, viewport, total).length ? [Math.floor(virtualTop / RH)] : [];
      expect(w.start).toBe(want[0]);
      // The first row's top sits where the full list would put it relative to the viewport.
      expect(w.offsetY - scrollTop).toBeCloseTo(w.start * RH - virtualTop, 6);
      expect(w.offsetY + (w.end - w.start) * RH).toBeLessThanOrEqual(MAX_PX + RH);
    }
    const last = rowWindow({ scrollTop: range, viewport, rowHeight: RH, total, overscan: 0 });
    expect(last.end).toBe(total);
    // The last row ends exactly at the bottom of the content.
    expect(last.offsetY + (last.end - last.start) * RH).toBeCloseTo(MAX_PX, 6);
  });

  it('is empty for no rows', () => {
    expect(rowWindow({ scrollTop: 0, viewport: 400, rowHeight: RH, total: 0 })).toEqual({ start: 0, end: 0, offsetY: 0, contentHeight: 0 });
  });
});

describe('scrollTopFor', () => {
  const at = (scrollTop: number, total = 1000) => ({ scrollTop, viewport: 340, rowHeight: RH, total });
  it('leaves the scroll alone when the row is in view', () => {
    expect(scrollTopFor(3, at(0))).toBe(0);
    expect(scrollTopFor(9, at(0))).toBe(0); // 9*34+34 = 340: just fits
  });
  it('scrolls as little as possible: the row at the top when above, at the bottom when below', () => {
    expect(scrollTopFor(10, at(0))).toBe(11 * RH - 340);
    expect(scrollTopFor(5, at(50 * RH))).toBe(5 * RH);
  });
  it('maps through the compression past the cap, landing the row in view', () => {
    const total = 1_000_000;
    const top = scrollTopFor(total - 1, at(0, total));
    const w = rowWindow({ ...at(top, total), overscan: 0 });
    expect(w.end).toBe(total);
  });
});

describe('blocksFor', () => {
  it('names the blocks holding a range of rows', () => {
    expect(blocksFor(0, 1, 200)).toEqual([0]);
    expect(blocksFor(190, 230, 200)).toEqual([0, 1]);
    expect(blocksFor(200, 400, 200)).toEqual([1]);
    expect(blocksFor(5, 5, 200)).toEqual([]);
  });
});
