// The texts a projection plots, read from a dataset: one point per distinct text and role —
// labelled texts ('text'), anchors ('query') and, when asked, positives ('document') — each with
// its row's label (or null), in row order, up to `limit`. Shared by `embedsmith umap` and the
// EngineApi projection job so both plot the same points.
import { readDatasetMeta, readRows } from '../data/index.js';
import type { EmbedRole } from '../model/embed.js';

export interface ProjectionTexts {
  texts: string[];
  labels: (string | null)[];
  roles: EmbedRole[];
}

export async function projectionTexts(dataDir: string, opts: { positives?: boolean; limit?: number; label?: (row: { label?: string }, role: EmbedRole) => string | null } = {}): Promise<ProjectionTexts> {
  const meta = await readDatasetMeta(dataDir);
  const limit = opts.limit ?? Infinity;
  const label = opts.label ?? ((row) => row.label ?? null);
  const out: ProjectionTexts = { texts: [], labels: [], roles: [] };
  const seen = new Set<string>();
  const add = (t: string | undefined, role: EmbedRole, row: { label?: string }) => {
    if (t === undefined || seen.has(`${role}\u0000${t}`) || out.texts.length >= limit) return;
    seen.add(`${role}\u0000${t}`);
    out.texts.push(t);
    out.roles.push(role);
    out.labels.push(label(row, role));
  };
  for await (const r of readRows(dataDir)) {
    if (meta.format === 'labeled') add(r.text, 'text', r);
    else {
      add(r.anchor, 'query', r);
      if (opts.positives) add(r.positive, 'document', r);
    }
  }
  return out;
}

/** Embeddings of `p.texts`, each with its own role's template, in `p`'s order. */
export async function embedByRole(p: ProjectionTexts, dim: number, embed: (texts: string[], role: EmbedRole) => Promise<Float32Array>): Promise<Float32Array> {
  const out = new Float32Array(p.texts.length * dim);
  for (const role of ['query', 'document', 'text'] as const) {
    const idx = p.roles.flatMap((r, i) => (r === role ? [i] : []));
    if (idx.length === 0) continue;
    const e = await embed(idx.map((i) => p.texts[i]), role);
    idx.forEach((i, j) => out.set(e.subarray(j * dim, (j + 1) * dim), i * dim));
  }
  return out;
}
