// Labelled data (text, label): how well the embedding space groups texts by label.
//   - k-NN classification by cosine. With a split, eval rows are classified by the train rows'
//     votes; without one, leave-one-out over all rows, where a row never votes for itself or
//     for a text equal to it up to case and spacing (data/validate.ts normalizeText — the same
//     grouping the split uses), since such a twin would vote its own label at similarity ~1.
//   - Similarities of same-label against different-label pairs among the evaluated rows.
import { EngineError } from '../../../shared/errors.js';
import { normalizeText } from '../data/validate.js';
import type { DatasetRow } from '../data/types.js';
import type { SearchFn } from '../search/top-k.js';
import { classificationReport, knnClassify } from './classification.js';
import { type EvalProgress, embedChunked, searchChunked, throwIfCancelled } from './embed-rows.js';
import type { EvalResult, EvaluateOptions } from './evaluate.js';
import { labelPairSimilarities, similarityReport, withAuc } from './similarity.js';

interface Item {
  line: number;
  text: string;
  label: string;
  textId: number;
  group: number;
}

export async function evaluateLabeled(rows: DatasetRow[], onQuerySide: (i: number) => boolean, isSplit: boolean, opts: EvaluateOptions): Promise<Omit<EvalResult, 'format' | 'split'>> {
  if (opts.corpusDir !== undefined) {
    throw new EngineError('BAD_INPUT', `--corpus adds documents to retrieval datasets; ${opts.dataDir} is labelled (text, label). Fix: leave out --corpus.`, { setting: 'corpus' });
  }
  const k = opts.k ?? 5;
  const textId = new Map<string, number>();
  const groupId = new Map<string, number>();
  const texts: string[] = [];
  const queries: Item[] = [];
  const reference: Item[] = [];
  rows.forEach((r, i) => {
    if (r.text === undefined || r.label === undefined) return;
    let t = textId.get(r.text);
    if (t === undefined) textId.set(r.text, (t = texts.push(r.text) - 1));
    const norm = normalizeText(r.text);
    let g = groupId.get(norm);
    if (g === undefined) groupId.set(norm, (g = groupId.size));
    const item = { line: r.line, text: r.text, label: r.label, textId: t, group: g };
    const q = onQuerySide(i);
    if (q) queries.push(item);
    // Leave-one-out: every row votes (except for its own group); with a split, train rows vote.
    if (!isSplit || !q) reference.push(item);
  });
  if (queries.length === 0 || reference.length === 0) {
    throw new EngineError('BAD_INPUT', `${opts.dataDir}: ${queries.length} labelled rows to classify and ${reference.length} to vote; both are needed. Fix: import labelled rows, or split again.`);
  }

  let done = 0;
  const tick = (phase: EvalProgress['phase'], total: number) => (n: number) => opts.onProgress?.({ phase, done: (done += n), total });
  const { rows: emb, dim } = await embedChunked(opts.embed, texts, 'text', opts.signal, tick('embed', texts.length));
  const gather = (items: Item[]) => {
    const out = new Float32Array(items.length * dim);
    items.forEach((it, i) => out.set(emb.subarray(it.textId * dim, (it.textId + 1) * dim), i * dim));
    return out;
  };
  const qRows = gather(queries);
  done = 0;
  const search: SearchFn = (q, c, d, kk) => searchChunked(opts.search, q, c, d, kk, opts.signal, tick('search', queries.length));
  const predicted = await knnClassify({
    queries: qRows,
    reference: gather(reference),
    dim,
    referenceLabels: reference.map((x) => x.label),
    k,
    search,
    // With a split the sides share no group already (split.ts groups the same way); the check is harmless.
    queryGroups: queries.map((x) => x.group),
    referenceGroups: reference.map((x) => x.group),
  });
  throwIfCancelled(opts.signal);
  const report = classificationReport(
    queries.map((x) => x.label),
    predicted,
  );
  const pairs = labelPairSimilarities(
    qRows,
    dim,
    queries.map((x) => x.label),
  );
  const similarity = similarityReport(pairs.same, pairs.different, { positive: 'same label', negative: 'different label' });
  return {
    metrics: withAuc({ knn_accuracy: report.accuracy, knn_macro_f1: report.macroF1 }, similarity),
    perQuery: [],
    classification: {
      k,
      mode: isSplit ? 'split' : 'leave-one-out',
      report,
      predictions: queries.map((x, i) => ({ line: x.line, text: x.text, label: x.label, predicted: predicted[i] })),
    },
    counts: { rows: queries.length, queries: queries.length, evaluated: queries.length, noRelevant: 0, corpus: reference.length, corpusFromDir: 0, mergedAnchors: 0 },
    similarity,
  };
}
