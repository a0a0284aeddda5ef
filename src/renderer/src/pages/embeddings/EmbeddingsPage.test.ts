// The Embeddings page against the fake engine: both models projected into PROJECT/cache, the
// files read back, the after view aligned onto the before view, and the interactions —
// hover, click and arrow keys to pick, neighbours in both views (by cosine from the files, with
// new/lost marks; the 2-D fallback for older files), search, lasso with copy and download.
// jsdom has no layout or canvas, so the plot box is given a width, the canvas a context that
// only counts, and ResizeObserver a stand-in.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProjectInfo, ProjectionView, UmapRequest } from '../../../../shared/api.js';
import { ViewScale, boundsOf, cloudFromPoints } from './scatter.js';
import { act, seedChoices, startApp, unmountApp, useApp } from '../../testing/app.js';
import { FakeEngine } from '../../testing/fake-engine.js';
import { button } from '../../testing/dom.js';

const PROJECT: ProjectInfo = { dir: '/p/legal', name: 'Legal', schemaVersion: 1, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' };
const CHOICES = { model: '/models/base', dataset: '/p/legal/datasets/faq', trained: '/p/legal/runs/r1/model' };
const WIDTH = 400; // the plot's box; its height is 0.8 of it

// Two clusters: "billing" texts near (0, 0), "login" texts near (10, 10).
const BEFORE: ProjectionView = {
  points: [[0, 0], [1, 0], [0, 1], [10, 10], [11, 10], [10, 11]],
  labels: ['billing', 'billing', 'billing', 'login', 'login', null],
  texts: ['refund my card', 'invoice copy', 'change plan', 'reset password', 'login fails', 'two factor code'],
};
// The same layout rotated 90°, mirrored, doubled and shifted, listed in another order: the
// alignment must undo all of it.
const AFTER: ProjectionView = (() => {
  const order = [5, 3, 1, 0, 4, 2];
  return {
    points: order.map((i) => [2 * BEFORE.points[i][1] + 7, 2 * BEFORE.points[i][0] - 3] as [number, number]),
    labels: order.map((i) => BEFORE.labels[i]),
    texts: order.map((i) => BEFORE.texts[i]),
  };
})();

/**
 * A view with embedding-space neighbours, k per point: `table` lists some texts' neighbours by
 * text with their cosine; every other point gets its first k other points at made-up scores.
 */
function withNeighbours(view: ProjectionView, k: number, table: Record<string, [string, number][]>): ProjectionView {
  const at = new Map(view.texts.map((t, i) => [t, i]));
  const indices: number[] = [], scores: number[] = [];
  view.texts.forEach((t, i) => {
    const row = table[t] ?? view.texts.flatMap((_, j) => (j === i ? [] : [[view.texts[j], 0.5 - 0.1 * j] as [string, number]])).slice(0, k);
    for (const [text, score] of row) {
      indices.push(at.get(text)!);
      scores.push(score);
    }
  });
  return { ...view, neighbours: { k, indices, scores } };
}
// Nearest by cosine, not by place on the plot: 'reset password' is in the far 2-D cluster.
const BEFORE_NB = withNeighbours(BEFORE, 3, { 'refund my card': [['invoice copy', 0.91], ['change plan', 0.82], ['reset password', 0.4]] });
const AFTER_NB = withNeighbours(AFTER, 3, { 'refund my card': [['change plan', 0.95], ['two factor code', 0.61], ['invoice copy', 0.55]] });

const rects: number[] = [];

beforeAll(() => {
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as unknown as typeof ResizeObserver;
  vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockImplementation(function (this: HTMLElement) {
    return this.classList.contains('plot') ? WIDTH : 0;
  });
  // A 2-D context that does nothing but count the points drawn.
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockImplementation(
    () =>
      new Proxy({ rect: (_x: number, _y: number, w: number) => rects.push(w) } as Record<string | symbol, unknown>, {
        get: (t, k) => (k in t ? t[k] : () => {}),
        set: () => true,
      }) as unknown as CanvasRenderingContext2D,
  );
});
afterAll(() => vi.restoreAllMocks());

function engineWithProject(): { engine: FakeEngine; requests: UmapRequest[] } {
  const engine = new FakeEngine();
  engine.projects.set(PROJECT.dir, PROJECT);
  engine.open = PROJECT;
  engine.datasets = [{ dir: CHOICES.dataset, name: 'faq', format: 'pairs', rows: 6, skipped: 0, warnings: 0, labels: null, mined: false, split: null, createdAt: '' }];
  engine.projections.set('/p/legal/cache/umap-before.json', BEFORE);
  engine.projections.set('/p/legal/cache/umap-after.json', AFTER);
  const requests: UmapRequest[] = [];
  const original = engine.projectEmbeddings.bind(engine);
  engine.projectEmbeddings = (r) => (requests.push(r), original(r));
  return { engine, requests };
}

function start(engine: FakeEngine, choices: object = CHOICES): Promise<HTMLElement> {
  seedChoices(PROJECT.dir, choices);
  return startApp(engine, '#/embeddings', 2);
}

async function projectBoth(engine: FakeEngine): Promise<void> {
  await act(() => button('Project both models').click());
  for (const j of [...engine.jobs.values()].filter((x) => x.kind === 'umap')) {
    const side = j.jobId === [...engine.jobs.keys()][0] ? 'before' : 'after';
    await act(() => engine.progressJob(j.jobId, { state: 'done', fraction: 1, message: 'Projected 6 texts', result: { file: `/p/legal/cache/umap-${side}.json`, points: 6 } }));
  }
  await act(() => {});
}

const canvases = () => [...document.querySelectorAll('canvas')];
/** Where a data point is drawn (both views share one scale). */
const screen = (x: number, y: number) => {
  const s = new ViewScale(boundsOf([cloudFromPoints(BEFORE.points)]), WIDTH, WIDTH * 0.8);
  return { clientX: s.px(x), clientY: s.py(y) };
};
const pointer = (el: Element, type: string, at: { clientX: number; clientY: number }, extra: PointerEventInit = {}) =>
  el.dispatchEvent(new PointerEvent(type, { bubbles: true, pointerId: 1, ...at, ...extra }));
const listed = (testid: string) => [...document.querySelectorAll(`[data-testid="${testid}"] li button`)].map((b) => b.textContent);
const items = (testid: string) => [...document.querySelectorAll<HTMLLIElement>(`[data-testid="${testid}"] li`)];
const headings = () => [...document.querySelectorAll('[aria-labelledby="picked-title"] h3')].map((h) => h.textContent!.replace(/\s+/g, ' ').trim());
async function pickAt(canvas: Element, x: number, y: number): Promise<void> {
  await act(() => pointer(canvas, 'pointerdown', screen(x, y)));
  await act(() => pointer(canvas, 'pointerup', screen(x, y)));
}

useApp();
beforeEach(() => (rects.length = 0));

describe('Embeddings page', () => {
  it('projects both models into the project cache, reads the files and draws both views', async () => {
    const { engine, requests } = engineWithProject();
    await start(engine);
    await projectBoth(engine);
    expect(requests).toEqual([
      { model: CHOICES.model, dataset: CHOICES.dataset, out: '/p/legal/cache/umap-before.json' },
      { model: CHOICES.trained, dataset: CHOICES.dataset, out: '/p/legal/cache/umap-after.json' },
    ]);
    expect(engine.calls.filter((c) => c.method === 'readProjection').map((c) => c.args[0])).toEqual(['/p/legal/cache/umap-before.json', '/p/legal/cache/umap-after.json']);
    expect(canvases().map((c) => c.getAttribute('aria-label'))).toEqual(['UMAP before training: 6 points', 'UMAP after training: 6 points']);
    expect(canvases().map((c) => c.dataset.drawn)).toEqual(['6', '6']);
    expect(JSON.parse(localStorage.getItem(`embedsmith.workbench.${PROJECT.dir}`)!)).toMatchObject({
      projectionBefore: '/p/legal/cache/umap-before.json',
      projectionAfter: '/p/legal/cache/umap-after.json',
    });
    // The legend: labels by frequency (per view: both show the same texts), then the unlabelled.
    expect([...document.querySelectorAll('[aria-label="Colours by label"] li')].map((li) => li.textContent!.replace(/\s+/g, ' ').trim())).toEqual([
      'billing (3)',
      'login (2)',
      'Other / no label (1)',
    ]);
    const note = document.querySelector('[data-testid="alignment"]')!.textContent!.replace(/\s+/g, ' ');
    // In plain words: how far the maps agree, and what was done to line them up.
    expect(note).toContain('The two maps agree 100% — nearly the same picture.');
    expect(note).toContain('flipped');
    expect(note).toContain('shrunk ×0.50');
    expect(note).toContain('using the 6 texts both show');
    expect(note).not.toMatch(/mismatch|spread/);
  });

  it('shows the text on hover and lists neighbours in both views on click, aligned alike', async () => {
    const { engine } = engineWithProject();
    await start(engine);
    await projectBoth(engine);
    const [before, after] = canvases();
    await act(() => pointer(before, 'pointermove', screen(10, 10)));
    expect(document.querySelector('[role="tooltip"]')!.textContent).toContain('reset password');
    // Aligned: the same place in the after view holds the same text.
    await act(() => pointer(after, 'pointermove', screen(10, 10)));
    expect(document.querySelector('[role="tooltip"]')!.textContent).toContain('reset password');
    await act(() => pointer(before, 'pointerleave', screen(10, 10)));
    await act(() => pointer(before, 'pointerdown', screen(0, 0)));
    await act(() => pointer(before, 'pointerup', screen(0, 0)));
    expect(document.querySelector('.picked')!.textContent).toBe('refund my card');
    // Nearest first in the 2-D layout: (1,0) and (0,1) tie at 1, then the far cluster.
    expect(listed('neighbours-before').slice(0, 2).sort()).toEqual(['change plan', 'invoice copy']);
    expect(listed('neighbours-before')).toHaveLength(5);
    // The same neighbours in the aligned after view (ties may come in either order).
    expect(listed('neighbours-after').slice(0, 2).sort()).toEqual(['change plan', 'invoice copy']);
    expect(listed('neighbours-after').sort()).toEqual(listed('neighbours-before').sort());
    // These files are from before neighbours were kept: the 2-D fallback, said as such, no scores.
    expect(headings()).toEqual(['Nearest in the 2-D layout — before training', 'Nearest in the 2-D layout — after training']);
    expect(document.querySelector('[data-testid="neighbours-fallback-before"]')!.textContent).toMatch(/older version and has no embedding-space neighbours/);
    expect(document.querySelector('[data-testid="neighbours-before"] .score')).toBeNull();
    expect(document.querySelector('[data-testid="neighbour-change"]')).toBeNull();
    await act(() => before.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true })));
    expect(document.querySelector('.picked')).toBeNull();
  });

  it('lists nearest texts by cosine under each model, with scores and what fine-tuning brought in or lost', async () => {
    const { engine } = engineWithProject();
    engine.projections.set('/p/legal/cache/umap-before.json', BEFORE_NB);
    engine.projections.set('/p/legal/cache/umap-after.json', AFTER_NB);
    await start(engine);
    await projectBoth(engine);
    await pickAt(canvases()[0], 0, 0);
    expect(document.querySelector('.picked')!.textContent).toBe('refund my card');
    expect(headings()).toEqual(['Nearest by cosine similarity — before training', 'Nearest by cosine similarity — after training']);
    // In the file's order (nearest first), not the 2-D layout's: the far 'reset password' is listed.
    expect(listed('neighbours-before')).toEqual(['invoice copy', 'change plan', 'reset password']);
    expect(listed('neighbours-after')).toEqual(['change plan', 'two factor code', 'invoice copy']);
    expect(document.querySelector('[data-testid="neighbours-before"]')!.getAttribute('data-source')).toBe('embedding');
    expect(items('neighbours-before').map((li) => li.querySelector('.score')!.textContent)).toEqual(['cosine 0.910', 'cosine 0.820', 'cosine 0.400']);
    expect(items('neighbours-after').map((li) => li.querySelector('.score')!.textContent)).toEqual(['cosine 0.950', 'cosine 0.610', 'cosine 0.550']);
    // Marked against the other model's list, by text (the two files order their texts differently).
    expect(items('neighbours-before').map((li) => li.querySelector('.mark')?.textContent ?? null)).toEqual([null, null, 'lost']);
    expect(items('neighbours-after').map((li) => li.querySelector('.mark')?.textContent ?? null)).toEqual([null, 'new', null]);
    expect(items('neighbours-after')[1].dataset.change).toBe('new');
    expect(document.querySelector('[data-testid="neighbour-change"]')!.textContent!.replace(/\s+/g, ' ').trim()).toBe(
      "Fine-tuning kept 2 of the base model's 3 nearest texts: 1 new, 1 lost.",
    );
    expect(document.querySelector('[data-testid^="neighbours-fallback"]')).toBeNull();

    // Keyboard: each neighbour is a focusable button; activating it (Enter on a native button is
    // a click) picks that text and puts focus on the new pick, whose neighbours are listed next.
    const next = items('neighbours-after')[1].querySelector('button')!;
    expect(next.tagName).toBe('BUTTON');
    expect(next.tabIndex).toBe(0);
    next.focus();
    await act(() => next.click());
    expect(document.querySelector('.picked')!.textContent).toBe('two factor code');
    expect(document.activeElement).toBe(document.querySelector('.picked'));
    expect(listed('neighbours-after')).toHaveLength(3);
    expect(listed('neighbours-after')).not.toContain('two factor code');
  });

  it('falls back to the 2-D layout only for the view whose file has no neighbours, and marks nothing', async () => {
    const { engine } = engineWithProject();
    engine.projections.set('/p/legal/cache/umap-after.json', AFTER_NB); // before stays an older file
    await start(engine);
    await projectBoth(engine);
    await pickAt(canvases()[0], 0, 0);
    expect(headings()).toEqual(['Nearest in the 2-D layout — before training', 'Nearest by cosine similarity — after training']);
    expect(document.querySelector('[data-testid="neighbours-fallback-before"]')).not.toBeNull();
    expect(document.querySelector('[data-testid="neighbours-fallback-after"]')).toBeNull();
    expect(listed('neighbours-after')).toEqual(['change plan', 'two factor code', 'invoice copy']);
    expect(document.querySelectorAll('.mark')).toHaveLength(0);
    expect(document.querySelector('[data-testid="neighbour-change"]')).toBeNull();
  });

  it('moves the pick with the arrow keys', async () => {
    const { engine } = engineWithProject();
    await start(engine);
    await projectBoth(engine);
    const [before] = canvases();
    const key = (k: string) => act(() => before.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true })));
    await key('ArrowRight'); // nothing picked: the point nearest the middle
    const first = document.querySelector('.picked')!.textContent;
    expect(['change plan', 'invoice copy', 'reset password', 'two factor code']).toContain(first);
    await key('ArrowLeft');
    await key('ArrowLeft');
    await key('ArrowDown');
    expect(document.querySelector('.picked')!.textContent).toBe('refund my card');
    await key('ArrowRight');
    expect(document.querySelector('.picked')!.textContent).toBe('invoice copy');
  });

  it('highlights search matches and picks one from the list', async () => {
    const { engine } = engineWithProject();
    await start(engine);
    await projectBoth(engine);
    const search = document.querySelector<HTMLInputElement>('input[type="search"]')!;
    const drawnBefore = rects.length;
    await act(() => {
      search.value = 'PASS';
      search.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(document.querySelector('main')!.textContent).toContain('1 text matches.');
    const drawn = rects.slice(drawnBefore);
    expect(drawn).toHaveLength(12); // both views redrawn: dimmed and emphasised passes
    // The match stands out: at least 9 px across (the others 5), once in each view.
    expect(drawn.filter((w) => w >= 9)).toHaveLength(2);
    expect(drawn.filter((w) => w < 9).every((w) => w === 5)).toBe(true);
    await act(() => button('reset password').click());
    expect(document.querySelector('.picked')!.textContent).toBe('reset password');
  });

  it('zooms both views with the wheel at the pointer (the page does not scroll), pans by dragging, and resets', async () => {
    const { engine } = engineWithProject();
    await start(engine);
    await projectBoth(engine);
    const [before, after] = canvases();
    expect(button('Reset zoom').disabled).toBe(true);
    const wheel = new WheelEvent('wheel', { bubbles: true, cancelable: true, deltaY: -400, ...screen(10, 10) });
    await act(() => before.dispatchEvent(wheel));
    expect(wheel.defaultPrevented).toBe(true); // the canvas takes the wheel, not the page
    const zoom = Number(before.dataset.zoom);
    expect(zoom).toBeGreaterThan(1.5);
    expect(after.dataset.zoom).toBe(before.dataset.zoom); // one zoom for both views
    // The point under the wheel stayed put: hovering the same pixel finds the same text.
    await act(() => pointer(before, 'pointermove', screen(10, 10)));
    expect(document.querySelector('[role="tooltip"]')!.textContent).toContain('reset password');
    // A drag of 40 px to the left carries the point under the pointer along.
    const from = screen(10, 10);
    await act(() => pointer(before, 'pointerdown', from));
    await act(() => pointer(before, 'pointermove', { clientX: from.clientX - 40, clientY: from.clientY }));
    await act(() => pointer(before, 'pointerup', { clientX: from.clientX - 40, clientY: from.clientY }));
    expect(document.querySelector('.picked')).toBeNull(); // a drag is not a click
    await act(() => pointer(before, 'pointermove', { clientX: from.clientX - 40, clientY: from.clientY }));
    expect(document.querySelector('[role="tooltip"]')!.textContent).toContain('reset password'); // the content moved with the pointer
    await act(() => button('Reset zoom').click());
    expect(before.dataset.zoom).toBe('1');
    await act(() => before.dispatchEvent(new KeyboardEvent('keydown', { key: '+', bubbles: true })));
    expect(Number(before.dataset.zoom)).toBe(1.5);
    await act(() => before.dispatchEvent(new KeyboardEvent('keydown', { key: '0', bubbles: true })));
    expect(before.dataset.zoom).toBe('1');
  });

  it('hides and shows a label from the legend, in both views', async () => {
    const { engine } = engineWithProject();
    await start(engine);
    await projectBoth(engine);
    const billing = [...document.querySelectorAll<HTMLButtonElement>('[aria-label="Colours by label"] button')].find((b) => b.textContent!.includes('billing'))!;
    expect(billing.getAttribute('aria-pressed')).toBe('true');
    await act(() => billing.click());
    expect(billing.getAttribute('aria-pressed')).toBe('false');
    expect(canvases().map((c) => c.dataset.drawn)).toEqual(['3', '3']);
    // A hidden point cannot be picked either.
    await pickAt(canvases()[0], 0, 0);
    expect(document.querySelector('.picked')).toBeNull();
    await act(() => billing.click());
    expect(canvases().map((c) => c.dataset.drawn)).toEqual(['6', '6']);
  });

  it('lassoes a cluster, shows it in both views, and copies or downloads its texts', async () => {
    const { engine } = engineWithProject();
    await start(engine);
    await projectBoth(engine);
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const blobs: Blob[] = [];
    URL.createObjectURL = vi.fn((b: Blob) => (blobs.push(b), `blob:test/${blobs.length}`));
    URL.revokeObjectURL = vi.fn();
    await act(() => button('Lasso select').click());
    expect(button('Lasso select').getAttribute('aria-pressed')).toBe('true');
    const [, after] = canvases();
    // A box around the "login" cluster, drawn in the after view.
    const corners = [screen(9, 9), screen(12, 9), screen(12, 12), screen(9, 12)];
    await act(() => pointer(after, 'pointerdown', corners[0]));
    for (const c of corners.slice(1)) await act(() => pointer(after, 'pointermove', c));
    await act(() => pointer(after, 'pointerup', corners[3]));
    expect(document.querySelector('#lasso-title')!.textContent).toBe('Selection: 3 texts');
    expect([...document.querySelectorAll('[data-testid="lasso-texts"] li')].map((li) => li.textContent).sort()).toEqual(['login fails', 'reset password', 'two factor code']);
    expect(document.querySelector('main')!.textContent).toContain('login: 2 · (no label): 1');
    await act(() => button('Copy texts').click());
    expect(writeText).toHaveBeenCalledOnce();
    expect((writeText.mock.calls[0] as unknown as [string])[0].split('\n').filter(Boolean).sort()).toEqual(['login fails', 'reset password', 'two factor code']);
    expect(document.querySelector('main')!.textContent).toContain('Copied 3 texts.');
    const link = document.querySelector<HTMLAnchorElement>('a[download="selection.txt"]')!;
    expect(link.textContent).toBe('Download as .txt');
    expect(link.getAttribute('href')).toBe(`blob:test/${blobs.length}`);
    expect(blobs.at(-1)!.type).toBe('text/plain;charset=utf-8');
    await act(() => button('Clear selection').click());
    expect(document.querySelector('#lasso-title')).toBeNull();
    expect(URL.revokeObjectURL).toHaveBeenCalled();
  });

  it('takes a finished job\'s file up once, leaving a projection chosen afterwards alone', async () => {
    const { engine } = engineWithProject();
    engine.projections.set('/elsewhere/older.json', { points: [[0, 0], [1, 1], [2, 0]], labels: [null, null, null], texts: ['a', 'b', 'c'] });
    await start(engine);
    await projectBoth(engine);
    const key = `embedsmith.workbench.${PROJECT.dir}`;
    unmountApp();
    // Chosen elsewhere after the job (e.g. another page): a reload must not put the job's file back.
    const choices = { ...JSON.parse(localStorage.getItem(key)!), projectionBefore: '/elsewhere/older.json' };
    await start(engine, choices);
    expect(JSON.parse(localStorage.getItem(key)!).projectionBefore).toBe('/elsewhere/older.json');
    expect(canvases().map((c) => c.getAttribute('aria-label'))).toEqual(['UMAP before training: 3 points', 'UMAP after training: 6 points']);
  });

  it("shows the engine's message when a projection file cannot be read", async () => {
    const { engine } = engineWithProject();
    engine.projections.delete('/p/legal/cache/umap-after.json');
    await start(engine, { ...CHOICES, projectionBefore: '/p/legal/cache/umap-before.json', projectionAfter: '/p/legal/cache/umap-after.json' });
    expect(canvases()).toHaveLength(1); // the before file still shows
    const alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain('The after projection could not be read');
    expect(alert.textContent).toContain('NOT_FOUND');
  });
});
