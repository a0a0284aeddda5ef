// The Embeddings page's state: the before and after UMAP projections read from the engine,
// the after one aligned onto the before one (shared/procrustes.ts) so the two views share axes and
// scale, and what the user picked, searched and lassoed. Points are matched across the views
// by text (both projections come from the same dataset), so a selection in one view shows in
// the other too. Big arrays are $state.raw: replaced whole, never proxied.
//
// A picked point's neighbours are its nearest texts in the embedding space (cosine), which the
// projection file keeps for each model; the before and after lists are compared by text to mark
// what fine-tuning brought in and pushed out. Files written before they were kept have none, and
// fall back to the nearest points in the 2-D layout (which UMAP distorts; the page says so).
import { SvelteSet } from 'svelte/reactivity';
import { EngineError, type EngineApi, type ErrorData, type ProjectionNeighbours, type ProjectionView } from '../../../../shared/api.js';
import { alignByText, applyAlignment, type Alignment } from '../../../../shared/procrustes.js';
import { boundsOf, cloudFromPoints, colourByLabel, GridIndex, PALETTE, type Bounds, type Cloud, type Zoom } from './scatter.js';

export type Side = 'before' | 'after';
export const SIDES: readonly Side[] = ['before', 'after'];

export interface Layout {
  texts: readonly string[];
  labels: readonly (string | null)[];
  /** Coordinates as drawn (after: aligned onto before). */
  cloud: Cloud;
  grid: GridIndex;
  byText: Map<string, number>;
  /** Point indices grouped by colour (index into PALETTE; the last group is grey), so a
   *  redraw sets each fill style once. */
  byColour: Int32Array[];
  /** Each point's colour group (index into PALETTE; PALETTE.length is grey). */
  colour: Uint8Array;
  /** Nearest texts in the embedding space; null for files written before they were kept. */
  neighbours: ProjectionNeighbours | null;
}

/** Neighbours listed when a point is picked (from the 2-D layout; embedding neighbours: as many as the file holds). */
export const NEIGHBOURS = 10;

export interface NeighbourItem {
  /** Index in that view's layout. */
  index: number;
  text: string;
  label: string | null;
  /** Cosine similarity in the embedding space; null for 2-D layout neighbours. */
  score: number | null;
  /** Against the other model's list, when both views have embedding neighbours for the pick:
   *  'new' in the after list (not a neighbour before), 'lost' in the before list (gone after). */
  change: 'new' | 'lost' | null;
}

export interface NeighbourList {
  /** 'embedding': nearest by cosine in the model's embedding space; 'layout': nearest in the 2-D layout (older files). */
  source: 'embedding' | 'layout';
  items: NeighbourItem[];
}

function layoutOf(view: ProjectionView, cloud: Cloud, colour: Uint8Array): Layout {
  const groups: number[][] = Array.from({ length: PALETTE.length + 1 }, () => []);
  colour.forEach((c, i) => groups[c].push(i));
  return {
    texts: view.texts,
    labels: view.labels,
    cloud,
    grid: new GridIndex(cloud),
    byText: new Map(view.texts.map((t, i) => [t, i])),
    byColour: groups.map((g) => Int32Array.from(g)),
    colour,
    neighbours: view.neighbours ?? null,
  };
}

/** Point i's embedding neighbours in a layout (nearest first), or null when the file has none. */
function embeddingNeighbours(l: Layout, i: number): { indices: number[]; scores: number[] } | null {
  const nb = l.neighbours;
  if (!nb || i < 0) return null;
  return { indices: nb.indices.slice(i * nb.k, (i + 1) * nb.k), scores: nb.scores.slice(i * nb.k, (i + 1) * nb.k) };
}

/** 1 for each text that is among `selected`. */
function maskOf(texts: readonly string[], selected: readonly string[]): Uint8Array {
  const inside = new Set(selected);
  return Uint8Array.from(texts, (t) => (inside.has(t) ? 1 : 0));
}

/** How many of the texts carry each label in a layout, most first. */
export function labelCounts(layout: Layout, texts: readonly string[]): [string, number][] {
  // A prototype-less record: a label may be any string, "__proto__" included.
  const counts: Record<string, number> = Object.create(null);
  for (const t of texts) {
    const label = layout.labels[layout.byText.get(t) ?? -1] ?? '(no label)';
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return Object.entries(counts).sort((a, b) => b[1] - a[1]);
}

export class EmbeddingsView {
  #engine: EngineApi;
  #views = $state.raw<Record<Side, ProjectionView | null>>({ before: null, after: null });
  #errors = $state.raw<Record<Side, ErrorData | null>>({ before: null, after: null });
  /** What each side shows or is loading ("file#token"), so the same file is not read twice. */
  #keys: Record<Side, string | null> = { before: null, after: null };

  /** Case-insensitive substring over the texts; matches are emphasised in both views. */
  search = $state('');
  /** The picked point's text: ringed in both views, with its nearest neighbours. */
  picked = $state.raw<string | null>(null);
  /** A lasso selection: the view it was drawn in and the texts inside. */
  lassoed = $state.raw<{ side: Side; texts: string[] } | null>(null);
  /** The zoom both views share (they have the same axes); null: everything, fitted. */
  zoom = $state.raw<Zoom | null>(null);
  /** Legend entries switched off (colour groups: PALETTE index, PALETTE.length for grey). */
  readonly hidden = new SvelteSet<number>();

  /** Shows or hides one legend entry's points in both views. */
  toggleColour(colour: number): void {
    if (!this.hidden.delete(colour)) this.hidden.add(colour);
  }

  constructor(engine: EngineApi) {
    this.#engine = engine;
  }

  /** Reads a projection file into a side; `token` changes when the file was rewritten (a new job). */
  async load(side: Side, file: string | null, token = ''): Promise<void> {
    const key = file ? `${file}#${token}` : null;
    if (key === this.#keys[side]) return;
    this.#keys[side] = key;
    this.#errors = { ...this.#errors, [side]: null };
    if (!file) {
      this.#views = { ...this.#views, [side]: null };
      return;
    }
    try {
      const view = await this.#engine.readProjection(file);
      if (this.#keys[side] === key) this.#views = { ...this.#views, [side]: view };
    } catch (err) {
      if (this.#keys[side] !== key) return;
      this.#keys[side] = null; // so trying again reads it again
      this.#errors = { ...this.#errors, [side]: EngineError.toData(err) };
    }
  }

  error(side: Side): ErrorData | null {
    return this.#errors[side];
  }

  #built = $derived.by(() => {
    const { before, after } = this.#views;
    const rawBefore = before ? cloudFromPoints(before.points) : null;
    let rawAfter = after ? cloudFromPoints(after.points) : null;
    let alignment: Alignment | null = null;
    if (before && after && rawBefore && rawAfter) {
      alignment = alignByText({ texts: before.texts, ...rawBefore }, { texts: after.texts, ...rawAfter });
      if (alignment) rawAfter = { ...applyAlignment(alignment, rawAfter.x, rawAfter.y), n: rawAfter.n };
    }
    const colours = colourByLabel([before?.labels ?? [], after?.labels ?? []]);
    return {
      layouts: {
        before: before && rawBefore ? layoutOf(before, rawBefore, colours.index[0]) : null,
        after: after && rawAfter ? layoutOf(after, rawAfter, colours.index[1]) : null,
      } as Record<Side, Layout | null>,
      alignment,
      legend: colours.legend,
      other: colours.other,
      // One box for both, so equal positions mean equal places once aligned.
      bounds: boundsOf([rawBefore, rawAfter].filter((c): c is Cloud => c !== null)),
    };
  });

  layout(side: Side): Layout | null {
    return this.#built.layouts[side];
  }
  get alignment(): Alignment | null {
    return this.#built.alignment;
  }
  get legend(): { label: string; colour: string; count: number }[] {
    return this.#built.legend;
  }
  get unlabelled(): number {
    return this.#built.other;
  }
  get bounds(): Bounds {
    return this.#built.bounds;
  }

  #matches = $derived.by(() => {
    const needle = this.search.trim().toLowerCase();
    const out: Record<Side, Uint8Array | null> = { before: null, after: null };
    if (!needle) return out;
    for (const side of SIDES) {
      const l = this.#built.layouts[side];
      if (l) out[side] = Uint8Array.from(l.texts, (t) => (t.toLowerCase().includes(needle) ? 1 : 0));
    }
    return out;
  });

  /** Texts matching the search (from the before view, else the after view), for a list to pick from. */
  matchingTexts(limit: number): { texts: string[]; total: number } {
    const side = this.#built.layouts.before ? 'before' : 'after';
    const mask = this.#matches[side];
    const l = this.#built.layouts[side];
    if (!mask || !l) return { texts: [], total: 0 };
    const texts: string[] = [];
    let total = 0;
    mask.forEach((m, i) => m && total++ < limit && texts.push(l.texts[i]));
    return { texts, total };
  }

  #lassoMasks = $derived.by(() => {
    const out: Record<Side, Uint8Array | null> = { before: null, after: null };
    if (!this.lassoed) return out;
    for (const side of SIDES) {
      const l = this.#built.layouts[side];
      if (l) out[side] = maskOf(l.texts, this.lassoed.texts);
    }
    return out;
  });

  /** Points to draw strongly (the rest dimmed): search matches, else the lasso selection; null: all. */
  emphasis(side: Side): Uint8Array | null {
    return this.#matches[side] ?? this.#lassoMasks[side];
  }

  /** The picked text's index in a view, or −1. */
  pickedIndex(side: Side): number {
    return this.picked === null ? -1 : (this.#built.layouts[side]?.byText.get(this.picked) ?? -1);
  }

  /** The picked point's neighbours in a view: nearest in the embedding space, else (older files) in the 2-D layout. */
  neighbours(side: Side): number[] {
    const l = this.#built.layouts[side];
    const i = this.pickedIndex(side);
    if (!l || i < 0) return [];
    return embeddingNeighbours(l, i)?.indices ?? l.grid.kNearest(l.cloud.x[i], l.cloud.y[i], NEIGHBOURS, i);
  }

  /** The picked point's neighbours in a view as the page lists them; null when the pick is not in that view. */
  neighbourList(side: Side): NeighbourList | null {
    const l = this.#built.layouts[side];
    const i = this.pickedIndex(side);
    if (!l || i < 0) return null;
    const own = embeddingNeighbours(l, i);
    if (!own) return { source: 'layout', items: this.neighbours(side).map((j) => ({ index: j, text: l.texts[j], label: l.labels[j] ?? null, score: null, change: null })) };
    const otherSide: Side = side === 'before' ? 'after' : 'before';
    const other = this.#built.layouts[otherSide];
    const theirs = other && embeddingNeighbours(other, this.pickedIndex(otherSide));
    const theirTexts = other && theirs ? theirs.indices.map((j) => other.texts[j]) : null;
    const mark = side === 'after' ? 'new' : 'lost';
    return {
      source: 'embedding',
      items: own.indices.map((j, r) => ({
        index: j,
        text: l.texts[j],
        label: l.labels[j] ?? null,
        score: own.scores[r],
        change: theirTexts && !theirTexts.includes(l.texts[j]) ? mark : null,
      })),
    };
  }

  /** How fine-tuning changed the pick's embedding neighbours; null unless both views have them for the pick. */
  neighbourChange(): { kept: number; gained: number; lost: number; k: number } | null {
    const before = this.neighbourList('before'), after = this.neighbourList('after');
    if (before?.source !== 'embedding' || after?.source !== 'embedding') return null;
    const gained = after.items.filter((x) => x.change === 'new').length;
    return { kept: after.items.length - gained, gained, lost: before.items.filter((x) => x.change === 'lost').length, k: after.items.length };
  }

  lasso(side: Side, indices: readonly number[]): void {
    const l = this.#built.layouts[side];
    this.lassoed = l && indices.length ? { side, texts: indices.map((i) => l.texts[i]) } : null;
  }

  /** The lassoed texts as a .txt body: one per line (line breaks inside a text become spaces). */
  lassoText(): string {
    return this.lassoed ? this.lassoed.texts.map((t) => t.replace(/\s*[\r\n]+\s*/g, ' ')).join('\n') + '\n' : '';
  }
}
