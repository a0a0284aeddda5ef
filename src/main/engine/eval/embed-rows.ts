// The pieces evaluate.ts shares between its retrieval and classification paths: embedding in
// chunks (progress, cancellation), unit rows, chunked search, and reading split.json.
import { join } from 'node:path';
import { EngineError } from '../../../shared/errors.js';
import type { SplitFile } from '../data/split.js';
import type { SearchFn, TopK } from '../search/top-k.js';
import { parseJsonFile } from '../workspace/json-file.js';
import { readTextIfExists } from '../workspace/fs-errors.js';

/** The model, injected: one row per text, in order, [n, dim] row-major. */
export type EmbedFn = (texts: string[], role: 'query' | 'document' | 'text') => Promise<Float32Array>;

export interface EvalProgress {
  phase: 'embed' | 'search';
  done: number;
  total: number;
}

// Small enough that progress moves and a cancel lands within a batch or two of the model's.
const EMBED_CHUNK = 256;
const SEARCH_CHUNK = 256;

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new EngineError('CANCELLED', 'evaluation cancelled');
}

/** Embeds `texts` in chunks; `progress(n)` is called after each chunk with the texts done. */
export async function embedChunked(
  embed: EmbedFn,
  texts: readonly string[],
  role: 'query' | 'document' | 'text',
  signal: AbortSignal | undefined,
  progress: (n: number) => void,
): Promise<{ rows: Float32Array; dim: number }> {
  const parts: Float32Array[] = [];
  let dim = 0;
  for (let s = 0; s < texts.length; s += EMBED_CHUNK) {
    throwIfCancelled(signal);
    const chunk = texts.slice(s, s + EMBED_CHUNK);
    const out = await embed(chunk, role);
    if (out.length === 0 || out.length % chunk.length !== 0 || (dim !== 0 && out.length / chunk.length !== dim)) {
      throw new EngineError('INTERNAL', `the embedder returned ${out.length} values for ${chunk.length} texts (width so far ${dim || 'unknown'}); expected whole rows of one width`);
    }
    dim = out.length / chunk.length;
    parts.push(out);
    progress(chunk.length);
  }
  const rows = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    rows.set(p, at);
    at += p.length;
  }
  return { rows: normalizeRows(rows, dim), dim };
}

/**
 * L2-normalises rows in place (zero rows stay zero). The searcher scores by dot product and
 * the metrics mean cosine; a model folder without a Normalize module (DESIGN §5) would
 * otherwise rank by vector length too.
 */
export function normalizeRows(rows: Float32Array, dim: number): Float32Array {
  for (let r = 0; r < rows.length / dim; r++) {
    let ss = 0;
    for (let d = r * dim; d < (r + 1) * dim; d++) ss += rows[d] * rows[d];
    if (ss === 0) continue;
    const inv = 1 / Math.sqrt(ss);
    for (let d = r * dim; d < (r + 1) * dim; d++) rows[d] *= inv;
  }
  return rows;
}

/** search() over query chunks, concatenated: one TopK as if run at once. */
export async function searchChunked(search: SearchFn, queries: Float32Array, corpus: Float32Array, dim: number, k: number, signal: AbortSignal | undefined, progress: (n: number) => void): Promise<TopK> {
  const nq = queries.length / dim;
  const parts: TopK[] = [];
  for (let s = 0; s < nq; s += SEARCH_CHUNK) {
    throwIfCancelled(signal);
    const e = Math.min(nq, s + SEARCH_CHUNK);
    parts.push(await search(queries.subarray(s * dim, e * dim), corpus, dim, k));
    progress(e - s);
  }
  const kk = parts[0]?.k ?? Math.min(k, corpus.length / dim);
  const indices = new Int32Array(nq * kk);
  const scores = new Float32Array(nq * kk);
  let row = 0;
  for (const p of parts) {
    indices.set(p.indices, row * kk);
    scores.set(p.scores, row * kk);
    row += p.rows;
  }
  return { k: kk, rows: nq, indices, scores };
}

/** DATASET_DIR/split.json's eval row indices, or null when the dataset has no split. */
export async function readEvalRows(dataDir: string): Promise<Set<number> | null> {
  const path = join(dataDir, 'split.json');
  const text = await readTextIfExists(path);
  if (text === undefined) return null;
  const split = parseJsonFile(path, text) as SplitFile;
  if (!Array.isArray(split?.eval) || !split.eval.every((i) => Number.isInteger(i) && i >= 0)) {
    throw new EngineError('SCHEMA', `${path} has no list of eval row indices. Fix: split the dataset again.`, { path });
  }
  return new Set(split.eval);
}
