// `embedsmith eval` (DESIGN §6) on a stored dataset, with the model and the searcher injected
// (the CLI and the host wire them; tests pass a fake embedder and bruteForceTopK).
//
// Pairs, triplets and scored pairs follow sentence-transformers' InformationRetrievalEvaluator:
// the queries are the distinct anchors (exact text; rows repeating an anchor merge their
// positives), the corpus is every distinct positive and negative text of the whole dataset
// (plus the positive, negative and text fields of --corpus), and a query's relevant documents
// are its positives. As there, a query is not kept from retrieving its own text if that text
// is also in the corpus. With a split (data/split.ts) and split 'eval', only eval rows give
// queries; the corpus still holds every row's documents, so the search is as hard as in use.
// Labelled data: k-NN classification (classification.ts) and same- vs different-label
// similarities (evaluate-labeled.ts).
import { EngineError } from '../../../shared/errors.js';
import { EVAL_RANGES, rangeProblem } from '../../../shared/setting-ranges.js';
import { readDatasetMeta, readRows } from '../data/store.js';
import type { DatasetFormat, DatasetRow } from '../data/types.js';
import type { SearchFn } from '../search/top-k.js';
import type { ClassificationReport } from './classification.js';
import { readRowsWithEdits } from '../data/store.js';
import { type EmbedFn, type EvalProgress, embedChunked, readEvalRows, searchChunked, throwIfCancelled } from './embed-rows.js';
import { evaluateLabeled } from './evaluate-labeled.js';
import { cutoffsFor, retrievalMetrics, searchDepth } from './metrics.js';
import { type SimilarityReport, rowDot, similarityReport, withAuc } from './similarity.js';

export type { EmbedFn, EvalProgress } from './embed-rows.js';

export interface EvaluateOptions {
  dataDir: string;
  /** 'eval': only split.json's eval rows are queries (the default when the dataset has one); 'all': every row. */
  split?: 'eval' | 'all';
  embed: EmbedFn;
  search: SearchFn;
  /** The CLI's --k: added to every retrieval cut-off (default 10); for labelled data, the k-NN k (default 5). */
  k?: number;
  /** Another dataset folder whose texts join the corpus as distractors. */
  corpusDir?: string;
  signal?: AbortSignal;
  onProgress?: (p: EvalProgress) => void;
}

export interface PerQuery {
  query: string;
  /** Source line of the first row with this anchor. */
  line: number;
  relevant: string[];
  /** Per relevant document (same order): 1-based rank, null when beyond the search depth. */
  ranks: (number | null)[];
  /** This query's value of every metric. */
  values: Record<string, number>;
  /** The top RETRIEVED_SHOWN documents as ranked, with their scores (for the UI's expandable rows). */
  retrieved: { text: string; score: number; relevant: boolean }[];
}

/** How many ranked results each query keeps for display. */
export const RETRIEVED_SHOWN = 10;

export interface EvalCounts {
  /** Dataset rows on the query side (eval rows, or all). */
  rows: number;
  /** Distinct anchors (retrieval) or texts classified (labelled). */
  queries: number;
  /** Queries in the averages; the rest had no relevant document. */
  evaluated: number;
  noRelevant: number;
  /** Distinct documents searched (retrieval) or labelled rows voting (labelled). */
  corpus: number;
  /** Of those, how many only --corpus contributed. */
  corpusFromDir: number;
  /** Rows whose anchor repeated an earlier row's, their positives merged. */
  mergedAnchors: number;
}

export interface EvalResult {
  format: DatasetFormat;
  split: 'eval' | 'all';
  /** 'accuracy@1' … 'ndcg@10', 'mrr@10', 'map@100' (retrieval) or 'knn_accuracy', 'knn_macro_f1'; plus 'similarity_auc'. */
  metrics: Record<string, number>;
  perQuery: PerQuery[];
  classification?: { k: number; mode: 'leave-one-out' | 'split'; report: ClassificationReport; predictions: { line: number; text: string; label: string; predicted: string }[] };
  counts: EvalCounts;
  similarity: SimilarityReport;
}

export async function evaluateDataset(opts: EvaluateOptions): Promise<EvalResult> {
  const kProblem = opts.k === undefined ? null : rangeProblem(opts.k, EVAL_RANGES.k, { cores: 1 });
  if (kProblem) throw new EngineError('BAD_INPUT', `${kProblem} Fix: give --k a value in that range, e.g. 10.`, { setting: 'k' });
  const meta = await readDatasetMeta(opts.dataDir);
  const rows: DatasetRow[] = [];
  const stable: number[] = [];
  // split.json names stable row indices (edits applied, deleted rows leave gaps), not positions.
  for await (const { index, row } of readRowsWithEdits(opts.dataDir, { onWarning: () => {} })) {
    rows.push(row);
    stable.push(index);
  }
  const evalStable = await readEvalRows(opts.dataDir);
  const evalRows = evalStable ? new Set(stable.flatMap((s, pos) => (evalStable.has(s) ? [pos] : []))) : null;
  if (opts.split === 'eval' && evalRows === null) {
    throw new EngineError('BAD_INPUT', `${opts.dataDir} has no split.json, so there are no eval rows. Fix: split the dataset first, or evaluate on all rows (split 'all').`, { setting: 'split' });
  }
  const split = opts.split ?? (evalRows ? 'eval' : 'all');
  const onQuerySide = (i: number) => split === 'all' || evalRows!.has(i);
  if (!rows.some((_, i) => onQuerySide(i))) {
    throw new EngineError('BAD_INPUT', `${opts.dataDir}: no rows to evaluate (${rows.length} rows, split '${split}'). Fix: import rows, or split with a larger eval fraction.`);
  }
  if (meta.format === 'labeled') return { format: meta.format, split, ...(await evaluateLabeled(rows, onQuerySide, split === 'eval', opts)) };
  return { format: meta.format, split, ...(await evaluateRetrieval(rows, onQuerySide, opts)) };
}

interface Query {
  text: string;
  line: number;
  relevant: number[];
  negatives: number[];
}

async function evaluateRetrieval(rows: DatasetRow[], onQuerySide: (i: number) => boolean, opts: EvaluateOptions): Promise<Omit<EvalResult, 'format' | 'split'>> {
  const cutoffs = cutoffsFor(opts.k ?? 10);
  const docId = new Map<string, number>();
  const docs: string[] = [];
  const addDoc = (t: string | undefined) => {
    if (t === undefined) return -1;
    let id = docId.get(t);
    if (id === undefined) docId.set(t, (id = docs.push(t) - 1));
    return id;
  };
  for (const r of rows) {
    addDoc(r.positive);
    for (const n of r.negatives ?? []) addDoc(n);
  }
  const ownDocs = docs.length;
  if (opts.corpusDir !== undefined) {
    await readDatasetMeta(opts.corpusDir); // a clear error for a folder that is not a dataset
    for await (const r of readRows(opts.corpusDir)) {
      addDoc(r.positive);
      for (const n of r.negatives ?? []) addDoc(n);
      addDoc(r.text);
    }
  }
  const byAnchor = new Map<string, Query>();
  let used = 0, merged = 0;
  rows.forEach((r, i) => {
    if (!onQuerySide(i) || r.anchor === undefined) return;
    used++;
    let q = byAnchor.get(r.anchor);
    if (q) merged++;
    else byAnchor.set(r.anchor, (q = { text: r.anchor, line: r.line, relevant: [], negatives: [] }));
    const p = addDoc(r.positive);
    if (p >= 0 && !q.relevant.includes(p)) q.relevant.push(p);
    for (const n of r.negatives ?? []) q.negatives.push(addDoc(n));
  });
  const queries = [...byAnchor.values()];
  if (queries.length === 0) throw new EngineError('BAD_INPUT', `${opts.dataDir}: no anchors among the ${used} rows to evaluate. Fix: map the anchor column when importing.`);
  if (docs.length === 0) throw new EngineError('BAD_INPUT', `${opts.dataDir} has no positive or negative texts to search. Fix: map the positive column when importing.`);

  const total = queries.length + docs.length;
  let done = 0;
  const tick = (phase: EvalProgress['phase'], of: number) => (n: number) => opts.onProgress?.({ phase, done: (done += n), total: of });
  const q = await embedChunked(opts.embed, queries.map((x) => x.text), 'query', opts.signal, tick('embed', total));
  const c = await embedChunked(opts.embed, docs, 'document', opts.signal, tick('embed', total));
  if (q.dim !== c.dim) throw new EngineError('INTERNAL', `query embeddings are ${q.dim} wide but document embeddings ${c.dim}`);
  done = 0;
  const top = await searchChunked(opts.search, q.rows, c.rows, q.dim, searchDepth(cutoffs), opts.signal, tick('search', queries.length));
  throwIfCancelled(opts.signal);

  const rankings = queries.map((x, i) => ({ retrieved: top.indices.subarray(i * top.k, (i + 1) * top.k), relevant: x.relevant }));
  const m = retrievalMetrics(rankings, cutoffs);
  if (m.counts.evaluated === 0) throw new EngineError('BAD_INPUT', `none of the ${queries.length} queries has a positive to find. Fix: map the positive column when importing.`);
  const perQuery: PerQuery[] = [];
  m.perQuery.forEach((s, i) => {
    if (!s) return;
    const shown = Math.min(RETRIEVED_SHOWN, top.k);
    const retrieved = Array.from({ length: shown }, (_, j) => {
      const d = top.indices[i * top.k + j];
      return { text: docs[d], score: top.scores[i * top.k + j], relevant: queries[i].relevant.includes(d) };
    });
    perQuery.push({ query: queries[i].text, line: queries[i].line, relevant: queries[i].relevant.map((d) => docs[d]), ranks: s.ranks, values: s.values, retrieved });
  });
  const similarity = retrievalSimilarity(queries, q.rows, c.rows, q.dim);
  return {
    metrics: withAuc(m.metrics, similarity),
    perQuery,
    counts: { rows: used, queries: queries.length, evaluated: m.counts.evaluated, noRelevant: m.counts.noRelevant, corpus: docs.length, corpusFromDir: docs.length - ownDocs, mergedAnchors: merged },
    similarity,
  };
}

/**
 * Anchor–positive against anchor–negative cosines. Datasets without negatives (pairs) compare
 * against another anchor's positive instead — query i with query i+1's first positive, unless
 * that is also one of its own — one per query, so both sides have about as many values.
 */
function retrievalSimilarity(queries: Query[], qRows: Float32Array, cRows: Float32Array, dim: number): SimilarityReport {
  const pos: number[] = [];
  const neg: number[] = [];
  const hasNegatives = queries.some((x) => x.negatives.length > 0);
  queries.forEach((x, i) => {
    for (const d of x.relevant) pos.push(rowDot(qRows, i, cRows, d, dim));
    if (hasNegatives) {
      // A text listed as both positive and negative of one anchor is counted once, as positive.
      for (const d of new Set(x.negatives)) if (!x.relevant.includes(d)) neg.push(rowDot(qRows, i, cRows, d, dim));
    } else if (queries.length > 1) {
      const other = queries[(i + 1) % queries.length].relevant[0];
      if (other !== undefined && !x.relevant.includes(other)) neg.push(rowDot(qRows, i, cRows, other, dim));
    }
  });
  return similarityReport(pos, neg, { positive: 'anchor–positive', negative: hasNegatives ? 'anchor–negative' : "anchor–another anchor's positive" });
}
