// The projection file: what `embedsmith umap --out FILE.json` and the Embeddings page's job
// write, and what readProjection gives the UI. JSON, one object:
//
//   schemaVersion  2 (absent in version-1 files, which have no neighbours)
//   points         [[x, y], …] one per point, 7 significant digits (float32 holds about that many)
//   labels         [label | null, …]
//   texts          [text, …]
//   neighbours     (version 2) each point's nearest other points in the embedding space, from the
//                  exact k-NN search UMAP's graph is built on (umap.ts):
//                  { k, metric: 'cosine',
//                    indices: base64 of little-endian int32 [n, k], nearest first, never the point,
//                    scores:  base64 of little-endian float32 [n, k], their cosine similarities }
//
// The neighbours are base64 typed arrays rather than JSON numbers: 50,000 points × 10 neighbours
// is 2.7 MB of each instead of ~3 MB of indices and ~9 MB of scores, and exact. A reader of
// version 1 files keeps working; a file from a newer Embedsmith is refused with the fix.
import { EngineError } from '../../../shared/errors.js';
import type { ProjectionNeighbours, ProjectionView } from '../../../shared/views.js';
import type { EmbeddingNeighbours } from './umap.js';

export const PROJECTION_SCHEMA_VERSION = 2;

type Label = string | null | undefined;

export interface UmapJson {
  schemaVersion?: number;
  /** [x, y] per point, 7 significant digits. */
  points: [number, number][];
  labels: (string | null)[];
  texts: string[];
  neighbours?: { k: number; metric: 'cosine'; indices: string; scores: string };
}

const round7 = (v: number) => Number(v.toPrecision(7));

/** The file's object (version 2 with `neighbours`; without them it is written as version 1 was). */
export function umapJson(points: Float32Array, labels: readonly Label[] | undefined, texts: readonly string[], neighbours?: EmbeddingNeighbours): UmapJson {
  const n = points.length / 2;
  if (texts.length !== n || (labels && labels.length !== n)) {
    throw new EngineError('INTERNAL', `${n} points, ${texts.length} texts, ${labels?.length ?? 'no'} labels: need one of each per point`);
  }
  const base = {
    points: Array.from({ length: n }, (_, i): [number, number] => [round7(points[2 * i]), round7(points[2 * i + 1])]),
    labels: Array.from({ length: n }, (_, i) => labels?.[i] ?? null),
    texts: [...texts],
  };
  if (!neighbours) return base;
  if (neighbours.n !== n) throw new EngineError('INTERNAL', `neighbours of ${neighbours.n} points for ${n} points`);
  const { k } = neighbours;
  const idx = Buffer.alloc(n * k * 4), sc = Buffer.alloc(n * k * 4);
  for (let e = 0; e < n * k; e++) {
    idx.writeInt32LE(neighbours.indices[e], 4 * e);
    sc.writeFloatLE(neighbours.scores[e], 4 * e);
  }
  return { schemaVersion: PROJECTION_SCHEMA_VERSION, ...base, neighbours: { k, metric: 'cosine', indices: idx.toString('base64'), scores: sc.toString('base64') } };
}

/**
 * A parsed projection file as the UI reads it: shape checked, neighbours decoded (scores to 7
 * significant digits, like the points). SCHEMA errors name the file, the fault and a fix.
 */
export function projectionView(raw: unknown, file: string): ProjectionView {
  const bad = (what: string, fix = 'make it again with the Embeddings page or `embedsmith umap --out FILE.json`'): never => {
    throw new EngineError('SCHEMA', `${file} is not a projection file we can read: ${what}. Fix: ${fix}.`, { path: file });
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('the top level must be a JSON object');
  const v = raw as Partial<UmapJson>;
  const version = v.schemaVersion ?? 1;
  if (!Number.isInteger(version) || version < 1) return bad(`schemaVersion is ${JSON.stringify(v.schemaVersion)}, which no Embedsmith version writes`);
  if (version > PROJECTION_SCHEMA_VERSION) {
    return bad(`it was written by a newer Embedsmith (schemaVersion ${version}; this one reads up to ${PROJECTION_SCHEMA_VERSION})`, 'update Embedsmith, or project again with this one');
  }
  if (!Array.isArray(v.points) || !Array.isArray(v.texts)) return bad('it needs "points" and "texts" arrays (and "labels")');
  const n = v.points.length;
  if (v.texts.length !== n) return bad(`${n} points but ${v.texts.length} texts`);
  if (Array.isArray(v.labels) && v.labels.length !== n) return bad(`${n} points but ${v.labels.length} labels`);
  const labels = Array.isArray(v.labels) ? v.labels : Array.from({ length: n }, () => null);
  const view: ProjectionView = { points: v.points, labels, texts: v.texts };
  // Version 1 files have no neighbours; the UI falls back to nearest points in the layout.
  if (version >= 2 && v.neighbours !== undefined) view.neighbours = decodeNeighbours(v.neighbours, n, bad);
  return view;
}

function decodeNeighbours(nb: unknown, n: number, bad: (what: string) => never): ProjectionNeighbours {
  const o = (typeof nb === 'object' && nb !== null ? nb : {}) as Partial<NonNullable<UmapJson['neighbours']>>;
  const { k } = o;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || (n > 0 && k >= n)) return bad(`neighbours.k is ${JSON.stringify(k)}; it must be a whole number below the ${n} points`);
  if (o.metric !== 'cosine') return bad(`neighbours.metric is ${JSON.stringify(o.metric)}; only 'cosine' is written`);
  if (typeof o.indices !== 'string' || typeof o.scores !== 'string') return bad('neighbours.indices and neighbours.scores must be base64 strings');
  const idx = Buffer.from(o.indices, 'base64'), sc = Buffer.from(o.scores, 'base64');
  if (idx.length !== n * k * 4 || sc.length !== n * k * 4) return bad(`neighbours hold ${idx.length / 4} indices and ${sc.length / 4} scores; ${n} points × ${k} need ${n * k} of each`);
  const indices = new Array<number>(n * k), scores = new Array<number>(n * k);
  for (let e = 0; e < n * k; e++) {
    const j = idx.readInt32LE(4 * e), s = sc.readFloatLE(4 * e);
    if (j < 0 || j >= n || j === Math.floor(e / k)) return bad(`point ${Math.floor(e / k)} lists neighbour ${j}, which is itself or not one of the ${n} points`);
    if (!Number.isFinite(s)) return bad(`point ${Math.floor(e / k)} has a non-finite neighbour score`);
    indices[e] = j;
    scores[e] = round7(s);
  }
  return { k, indices, scores };
}
