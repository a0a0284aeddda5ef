// One scatter view at N points in the page, for run.mjs to time: `?view=ours|atlas&n=50000`.
// Points: 40 Gaussian blobs of different sizes plus 2 % uniform noise, seeded, with 12
// categories — what a UMAP of a labelled dataset looks like.
import { mount, tick } from 'svelte';
import { GridIndex, PALETTE, boundsOf } from '../../src/renderer/src/pages/embeddings/scatter.ts';
import Ours from './Ours.svelte';

const params = new URLSearchParams(location.search);
const n = Number(params.get('n') ?? 50000);
const view = params.get('view') ?? 'ours';

function points(count, seed) {
  let s = seed;
  const r = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
  const gauss = () => Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
  const centres = Array.from({ length: 40 }, () => [r() * 20 - 10, r() * 20 - 10, 0.1 + r() * 0.8]);
  const x = new Float32Array(count), y = new Float32Array(count), c = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    if (i % 50 === 0) {
      x[i] = r() * 24 - 12;
      y[i] = r() * 24 - 12;
    } else {
      const [cx, cy, sd] = centres[i % 40];
      x[i] = cx + gauss() * sd;
      y[i] = cy + gauss() * sd;
    }
    c[i] = (i % 40) % 12;
  }
  return { x, y, c };
}

const frame = () => new Promise((done) => requestAnimationFrame(() => done(performance.now())));
const target = document.getElementById('view');
const { x, y, c } = points(n, 7);

async function ours() {
  const cloud = { x, y, n };
  const byColour = Array.from({ length: PALETTE.length + 1 }, () => []);
  c.forEach((k, i) => byColour[k].push(i));
  const t0 = performance.now();
  const layout = { texts: [], labels: [], cloud, grid: new GridIndex(cloud), byText: new Map(), byColour: byColour.map((g) => Int32Array.from(g)), colour: c, neighbours: null };
  const bounds = boundsOf([cloud]);
  mount(Ours, { target, props: { layout, bounds } });
  await tick();
  await frame();
  const first = (await frame()) - t0;
  const steps = [];
  const cx = (bounds.minX + bounds.maxX) / 2, cy = (bounds.minY + bounds.maxY) / 2;
  for (let i = 1; i <= 20; i++) {
    const s = performance.now();
    window.benchSetZoom({ zoom: 1.15 ** i, cx, cy });
    await tick();
    await frame();
    steps.push((await frame()) - s);
  }
  return { first, steps };
}

async function atlas() {
  const { EmbeddingView } = await import('embedding-atlas');
  const t0 = performance.now();
  let viewport = null;
  const v = new EmbeddingView(target, { data: { x, y, category: c }, width: 600, height: 480, pixelRatio: 1, config: { mode: 'points', autoLabelEnabled: false }, onViewportState: (s) => (viewport = s) });
  await frame();
  await frame();
  const first = (await frame()) - t0;
  const base = viewport ?? { x: 0, y: 0, scale: 0.08 };
  const steps = [];
  for (let i = 1; i <= 20; i++) {
    const s = performance.now();
    v.update({ viewportState: { x: base.x, y: base.y, scale: base.scale * 1.15 ** i } });
    await frame();
    steps.push((await frame()) - s);
  }
  return { first, steps };
}

window.benchResult = (view === 'atlas' ? atlas() : ours()).catch((e) => ({ error: String(e?.stack ?? e) }));
