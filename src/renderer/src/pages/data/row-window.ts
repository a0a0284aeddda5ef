// Windowing math for the dataset table: which rows to render for a scroll position, and which
// blocks of rows to ask the engine for. Only the visible rows (plus a little overscan) exist in
// the DOM, so 100k rows scroll like 100.
//
// Browsers cap an element's height (Chromium near 33.5M px, Firefox lower), so past MAX_PX the
// scroll range is compressed: the scrollbar maps linearly onto the rows, and the rendered rows
// are placed so the row at the virtual top sits exactly at the top of the viewport.

/** Tallest scroll content we create; safely under every browser's limit. */
export const MAX_PX = 8_000_000;

export interface WindowInput {
  scrollTop: number;
  /** Visible height of the scroll container, in px. */
  viewport: number;
  rowHeight: number;
  total: number;
  /** Extra rows rendered above and below, so fast scrolling shows no gaps. */
  overscan?: number;
}

export interface RowWindow {
  /** First row rendered (0-based) and one past the last. */
  start: number;
  end: number;
  /** Where the first rendered row goes, from the top of the content, in px. */
  offsetY: number;
  /** Height of the scroll content, in px. */
  contentHeight: number;
}

/** Height of all rows, capped at MAX_PX. */
export function contentHeight(total: number, rowHeight: number): number {
  return Math.min(total * rowHeight, MAX_PX);
}

/** The factor from scrollTop to the virtual top (1 below the cap). */
function scale(total: number, rowHeight: number, viewport: number): number {
  const full = total * rowHeight;
  const content = contentHeight(total, rowHeight);
  if (full <= content || content <= viewport) return 1;
  return (full - viewport) / (content - viewport);
}

export function rowWindow({ scrollTop, viewport, rowHeight, total, overscan = 6 }: WindowInput): RowWindow {
  const height = contentHeight(total, rowHeight);
  if (total <= 0 || rowHeight <= 0) return { start: 0, end: 0, offsetY: 0, contentHeight: 0 };
  // A scroll position past the end (content shrank under a filter) reads as the last page.
  const top = Math.max(0, Math.min(scrollTop, Math.max(0, height - viewport)));
  const virtualTop = top * scale(total, rowHeight, viewport);
  const first = Math.min(total - 1, Math.floor(virtualTop / rowHeight));
  const visible = Math.ceil(viewport / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(total, first + visible + overscan);
  // Align the virtual top with the scroll position, then step back over the overscan rows.
  const offsetY = top - (virtualTop - first * rowHeight) - (first - start) * rowHeight;
  return { start, end, offsetY, contentHeight: height };
}

/**
 * The scrollTop that brings row `index` fully into view, moving as little as possible; the
 * current scrollTop when it is already visible.
 */
export function scrollTopFor(index: number, { scrollTop, viewport, rowHeight, total }: WindowInput): number {
  const k = scale(total, rowHeight, viewport);
  const virtualTop = scrollTop * k;
  const rowTop = index * rowHeight;
  let target = virtualTop;
  if (rowTop < virtualTop) target = rowTop;
  else if (rowTop + rowHeight > virtualTop + viewport) target = rowTop + rowHeight - viewport;
  return Math.max(0, target / k);
}

/** The blocks (of `blockSize` rows) that hold rows [start, end). */
export function blocksFor(start: number, end: number, blockSize: number): number[] {
  if (end <= start) return [];
  const out: number[] = [];
  for (let b = Math.floor(start / blockSize); b <= Math.floor((end - 1) / blockSize); b++) out.push(b);
  return out;
}
