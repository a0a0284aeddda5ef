// `embedsmith mine` over a stored dataset (DESIGN §6): read the rows (edits applied), embed
// anchors and corpus with the injected model, mine (mine.ts), and write a NEW dataset folder
// through data/write-folder.ts (a temp folder renamed at the end), so a cancelled or failed
// run leaves nothing behind. The source folder is never touched.
//
// - pairs, triplets, scored: anchors are the distinct anchor texts; an anchor's positives are
//   the positive texts of all its rows (a scored pair's second text too, whatever its score).
//   The corpus is every distinct positive and negative text (as DESIGN §6 eval), then
//   --corpus. Anchors are embedded with the 'query' template, the corpus with 'document'.
// - labeled: anchors are the distinct (label, text) rows; a text's positives are the texts
//   carrying its label, withheld from its pool (itself included). The corpus is every
//   distinct text with the labels it carries, then --corpus, embedded once as 'query' (a
//   symmetric task has one side). --margin has no positive score to start from: refused.
// - --corpus adds documents only: a pairs/triplets/scored set's positives and negatives (its
//   anchors are queries), a labeled set's texts with their labels.
// - split.json: only train rows are anchors and only their texts (then --corpus) are the
//   corpus. Eval rows are held out: mining them, or mining train anchors against their texts,
//   would train the model on the documents it is later scored on. A text in both stays (it is a
//   train text too). Eval rows get no mined negatives; their own are scored as below, so their
//   anchors and own negatives are embedded (nothing else of theirs, and never searched).
// Output rows are the input rows in order, none dropped: the row's own negatives first (the
// user chose them; never mined again), then its anchor's mined ones. negativeScores hold this
// model's score for each; negativeRanks the mined rank, 0 for own negatives (not mined here).
import { copyFile, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ROW_FORMATS } from '../../../shared/dataset-formats.js';
import { EngineError } from '../../../shared/errors.js';
import { readDatasetMeta, readRowsWithEdits, type IndexedRow } from '../data/store.js';
import type { SplitFile } from '../data/split.js';
import type { DatasetMeta, DatasetRow } from '../data/types.js';
import { Sink, writeDatasetFolder } from '../data/write-folder.js';
import { ENGINE_VERSION } from '../version.js';
import { writeJsonAtomic } from '../workspace/atomic.js';
import { buildMineReport, type MineReport } from './mine-report.js';
import { type MineAnchor, type MineOptions, type ResolvedMineOptions, gatherRows, mineNegatives, resolveMineOptions } from './mine.js';
import type { SearchFn } from '../search/top-k.js';

/** Texts → float32 [texts, dim] embeddings under the mining model; the role picks its instruction template. */
export type EmbedFn = (texts: string[], role: 'query' | 'document') => Promise<Float32Array>;

export interface MineProgress {
  /** search counts anchors, embed texts, read and write rows. */
  phase: 'read' | 'embed' | 'search' | 'write';
  done: number;
  total: number;
}

export interface MineDatasetArgs {
  /** The dataset to mine: pairs, triplets, scored or labeled. */
  dataDir: string;
  /** The new dataset folder: absent or empty. */
  outDir: string;
  embed: EmbedFn;
  search: SearchFn;
  options?: MineOptions;
  /** --corpus: a dataset whose documents join the corpus. */
  corpusDir?: string;
  /** The mining model, stored verbatim in dataset.json's mining record (e.g. {path, name, sha256}). */
  model?: Record<string, unknown>;
  /** dataset.json's name (default: the out folder's name). */
  name?: string;
  onProgress?: (p: MineProgress) => void;
  signal?: AbortSignal;
  /** Texts equal under this key are duplicates too (mine.ts MineInput.textKey): pass ModelTools.documentKey. */
  textKey?: (text: string) => string;
}

/** dataset.json's record of how the negatives were mined (a later mining run replaces it). */
export interface MiningRecord {
  /** The mined dataset and the --corpus dataset, as absolute paths. */
  from: string;
  corpus?: string;
  options: ResolvedMineOptions;
  model: Record<string, unknown>;
  dim: number;
  /** anchors and corpus are train-side only; rows counts every row written; heldOut the eval rows (split.json) among them, mined nothing and kept out of the corpus; shortRows counts train rows only. */
  counts: { anchors: number; corpus: number; rows: number; heldOut: number; mined: number; shortAnchors: number; shortRows: number };
}

/** dataset.json of a mined dataset; createdAt is when it was mined. */
export interface MinedDatasetMeta extends DatasetMeta {
  mining: MiningRecord;
}

export interface MineDatasetResult {
  dir: string;
  meta: MinedDatasetMeta;
  report: MineReport;
}

export async function mineDataset(args: MineDatasetArgs): Promise<MineDatasetResult> {
  const options = resolveMineOptions(args.options); // a bad setting costs no embedding
  const meta = await readDatasetMeta(args.dataDir);
  const labeled = meta.format === 'labeled';
  if (!(ROW_FORMATS as readonly string[]).includes(meta.format)) {
    throw new EngineError('UNSUPPORTED', `${args.dataDir} is a '${meta.format}' dataset; mining takes pairs, triplets, scored or labeled rows. Fix: mine the pairs it was made from.`, { dir: args.dataDir });
  }
  if (labeled && (options.margin !== undefined || options.relativeMargin !== undefined)) {
    throw new EngineError(
      'BAD_INPUT',
      `${args.dataDir} is a labeled dataset: its texts have no single positive to measure --margin / --relative-margin from (same-label texts are never negatives anyway). Fix: drop the margin; --max-score still guards against near-copies.`,
      { setting: options.margin !== undefined ? 'margin' : 'relativeMargin' },
    );
  }
  const progress = (phase: MineProgress['phase'], done: number, total: number) => args.onProgress?.({ phase, done, total });
  const { dir, result } = await writeDatasetFolder(args.outDir, async (temp, target) => {
    const stop = (phase: string) => {
      if (args.signal?.aborted) throw new EngineError('CANCELLED', `mining cancelled while ${phase}; nothing was written to ${target}`, { phase });
    };
    const rows: IndexedRow[] = [];
    for await (const r of readRowsWithEdits(args.dataDir)) rows.push(r);
    const extra: DatasetRow[] = [];
    if (args.corpusDir) {
      await readDatasetMeta(args.corpusDir); // a clear error for a folder that is not a dataset
      for await (const r of readRowsWithEdits(args.corpusDir)) extra.push(r.row);
    }
    progress('read', rows.length, rows.length);
    const split = await readSplit(args.dataDir);
    const evalSet = new Set(split?.eval);
    const plan = planMining(args.dataDir, labeled, rows, extra, evalSet);
    if (plan.anchors.length === 0) {
      throw plan.heldOutRows > 0
        ? new EngineError('BAD_INPUT', `${args.dataDir}: split.json holds out all ${plan.heldOutRows} rows for eval, so no train row is left to mine. Fix: split again with a smaller --eval share.`, { dir: args.dataDir })
        : new EngineError('BAD_INPUT', `${args.dataDir} has no rows to mine. Fix: import or add rows first.`, { dir: args.dataDir });
    }
    stop('reading');

    // One embedding call per role: the corpus, then the texts only held-out rows need, scored but never searched.
    const docs = [...plan.corpus, ...plan.scoreOnly];
    const queries = [...plan.anchors.map((a) => a.text), ...plan.heldOut];
    const toEmbed = docs.length + (labeled ? 0 : queries.length);
    progress('embed', 0, toEmbed);
    const docEmb = await embedUnit(args.embed, docs, labeled ? 'query' : 'document');
    stop('embedding');
    const dim = docEmb.dim;
    const queryEmb = labeled ? { data: gatherRows(docEmb.data, queries.map((t) => plan.at.get(t)!), dim), dim } : await embedUnit(args.embed, queries, 'query');
    stop('embedding');
    if (queryEmb.dim !== dim) throw new EngineError('BAD_INPUT', `the model gave ${queryEmb.dim}-wide query embeddings but ${dim}-wide document embeddings; both sides must share one space`);
    progress('embed', toEmbed, toEmbed);
    const score = (q: number, text: string) => dot(queryEmb.data, q, docEmb.data, plan.at.get(text)!, dim);
    const anchors: MineAnchor[] = plan.anchors.map((a, i) => ({ ...a, positiveScores: a.positives.map((p) => score(i, p)) }));

    const mined = await mineNegatives(
      {
        anchors,
        corpus: plan.corpus,
        corpusLabels: plan.labels.some((l) => l.length > 0) ? plan.labels : undefined,
        anchorEmbeddings: queryEmb.data.subarray(0, anchors.length * dim), // [anchors, dim]: held-out queries are not mined
        corpusEmbeddings: docEmb.data.subarray(0, plan.corpus.length * dim), // [corpus, dim]: score-only texts are no candidates
        dim,
        search: args.search,
        signal: args.signal,
        textKey: args.textKey,
        onProgress: (d, t) => progress('search', d, t),
      },
      options,
    );
    stop('searching');

    const report = buildMineReport({ anchors, corpusSize: plan.corpus.length }, mined, { lines: plan.anchors.map((a) => a.line) });
    const sink = new Sink(join(temp, 'rows.jsonl'));
    let maxNegatives = 0;
    let shortRows = 0;
    const labels: Record<string, number> = {};
    try {
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i].row;
        const a = plan.rowAnchor[i];
        const mines = a >= 0 && a < anchors.length; // a train row; held-out rows keep their own negatives only
        const own = row.negatives ?? [];
        const found = mines ? mined.negatives[a] : [];
        if (mines && found.length < options.negatives) shortRows++;
        const out: DatasetRow = { ...row, negatives: [...own, ...found.map((n) => n.text)], negativeScores: [...own.map((n) => score(a, n)), ...found.map((n) => n.score)], negativeRanks: [...own.map(() => 0), ...found.map((n) => n.rank)] };
        maxNegatives = Math.max(maxNegatives, out.negatives!.length);
        if (out.negatives!.length === 0) for (const k of ['negatives', 'negativeScores', 'negativeRanks'] as const) delete out[k]; // a pair stays a pair
        if (labeled) labels[row.label!] = (labels[row.label!] ?? 0) + 1;
        await sink.write(JSON.stringify(out));
        if (i % 10_000 === 0) progress('write', i, rows.length);
      }
      await sink.close();
    } catch (err) {
      sink.destroy();
      throw err;
    }
    report.rows = { total: rows.length, short: shortRows, heldOut: plan.heldOutRows };
    // The import's findings still describe these rows.
    for (const f of ['report.json', 'skipped.jsonl']) await copyFile(join(args.dataDir, f), join(temp, f)).catch(absent);
    if (split) await carrySplit(split, temp, rows);
    await writeJsonAtomic(join(temp, 'mining-report.json'), report);
    const out: MinedDatasetMeta = {
      ...meta,
      name: args.name ?? basename(target),
      format: meta.format === 'pairs' ? 'triplets' : meta.format,
      // edits.ts allows a negatives field only where a negative role is mapped.
      roles: { ...meta.roles, negative: meta.roles.negative ?? ['negatives'] },
      counts: { ...meta.counts, rows: rows.length },
      labels: labeled ? labels : meta.labels,
      maxNegatives,
      createdAt: new Date().toISOString(),
      engineVersion: ENGINE_VERSION,
      mining: {
        from: resolve(args.dataDir),
        corpus: args.corpusDir === undefined ? undefined : resolve(args.corpusDir),
        options,
        model: args.model ?? {},
        dim,
        counts: { anchors: anchors.length, corpus: plan.corpus.length, rows: rows.length, heldOut: plan.heldOutRows, mined: report.totals.mined, shortAnchors: report.totals.short, shortRows },
      },
    };
    progress('write', rows.length, rows.length);
    stop('writing'); // the last moment a cancel can still leave no folder
    // dataset.json last: a folder without it is not a dataset.
    await writeJsonAtomic(join(temp, 'dataset.json'), out);
    return { meta: out, report };
  }, [{ path: args.dataDir, what: '--data' }, ...(args.corpusDir ? [{ path: args.corpusDir, what: '--corpus' }] : [])]);
  return { dir, ...result };
}

interface Plan {
  /** Train rows' anchors: the ones mined. */
  anchors: (Omit<MineAnchor, 'positiveScores'> & { positives: string[]; existing: string[]; line: number })[];
  /** Held-out rows' anchors that have own negatives to score; query anchors.length + j. */
  heldOut: string[];
  /** Row i's query: < anchors.length a mined anchor, past it a heldOut one, -1 a held-out row with nothing to score. */
  rowAnchor: number[];
  /** Distinct documents (the search's candidates), the labels each carries. */
  corpus: string[];
  labels: string[][];
  /** Texts embedded only to score held-out rows (never candidates); document index corpus.length + j. */
  scoreOnly: string[];
  /** Each embedded document's index: corpus, then scoreOnly. */
  at: Map<string, number>;
  /** Rows split.json holds out for eval. */
  heldOutRows: number;
}

function planMining(dir: string, labeled: boolean, rows: IndexedRow[], extra: DatasetRow[], evalSet: ReadonlySet<number>): Plan {
  const p: Plan = { anchors: [], heldOut: [], rowAnchor: [], corpus: [], labels: [], scoreOnly: [], at: new Map(), heldOutRows: 0 };
  const doc = (text: string, label?: string) => {
    let c = p.at.get(text);
    if (c === undefined) {
      p.at.set(text, (c = p.corpus.length));
      p.corpus.push(text);
      p.labels.push([]);
    }
    if (label !== undefined && !p.labels[c].includes(label)) p.labels[c].push(label);
  };
  const addOnce = (list: string[], t: string) => void (list.includes(t) || list.push(t));
  const keys = new Map<string, number>();
  const held: { i: number; text: string; negatives: string[] }[] = [];
  for (const { index, row } of rows) {
    const text = labeled ? row.text : row.anchor;
    if (text === undefined || (labeled ? row.label === undefined : row.positive === undefined)) {
      throw new EngineError('BAD_INPUT', `${dir}: row ${index} (line ${row.line}) lacks its ${labeled ? 'text or label' : 'anchor or positive'}. Fix: edit or delete that row.`, { dir, index });
    }
    if (evalSet.has(index)) {
      p.heldOutRows++;
      held.push({ i: p.rowAnchor.length, text, negatives: row.negatives ?? [] });
      p.rowAnchor.push(-1); // set below, once the corpus is known
      continue;
    }
    const key = labeled ? `${row.label}\u0000${text}` : text;
    let a = keys.get(key);
    if (a === undefined) {
      keys.set(key, (a = p.anchors.length));
      p.anchors.push({ text, positives: [], existing: [], label: labeled ? row.label : undefined, line: row.line });
    }
    p.rowAnchor.push(a);
    if (labeled) doc(text, row.label);
    else {
      doc(row.positive!);
      addOnce(p.anchors[a].positives, row.positive!);
    }
    for (const n of row.negatives ?? []) {
      doc(n);
      addOnce(p.anchors[a].existing, n);
    }
  }
  for (const row of extra) {
    if (row.text !== undefined) doc(row.text, row.label);
    if (row.positive !== undefined) doc(row.positive);
    for (const n of row.negatives ?? []) doc(n);
  }
  // Held-out rows: only what scoring their own negatives takes (a labeled query is a 'query'-side document too).
  const scoreOnly = (t: string) => void (p.at.has(t) || (p.at.set(t, p.corpus.length + p.scoreOnly.length), p.scoreOnly.push(t)));
  const heldKeys = new Map<string, number>();
  for (const h of held) {
    if (h.negatives.length === 0) continue;
    let q = heldKeys.get(h.text);
    if (q === undefined) heldKeys.set(h.text, (q = p.anchors.length + p.heldOut.push(h.text) - 1));
    p.rowAnchor[h.i] = q;
    if (labeled) scoreOnly(h.text);
    for (const n of h.negatives) scoreOnly(n);
  }
  return p;
}

/**
 * Embeds `texts`, L2-normalised so every score is a cosine whatever the model's last module.
 * Rows already of unit length (a model with a Normalize module) are used as they are; others
 * are normalised in a copy, never in the embedder's buffer (it may be a cache's).
 */
async function embedUnit(embed: EmbedFn, texts: string[], role: 'query' | 'document'): Promise<{ data: Float32Array; dim: number }> {
  const raw = await embed(texts, role);
  const dim = raw.length / texts.length;
  if (!Number.isInteger(dim) || dim < 1) throw new EngineError('BAD_INPUT', `the model gave ${raw.length} values for ${texts.length} ${role} texts, not whole rows`);
  const norms = new Float64Array(texts.length);
  let unit = true;
  for (let r = 0; r < texts.length; r++) {
    let s = 0;
    for (let d = r * dim; d < (r + 1) * dim; d++) s += raw[d] * raw[d];
    if (!(s > 0) || !Number.isFinite(s)) throw new EngineError('BAD_INPUT', `the model gave a zero or non-finite embedding for ${role} text ${r} ('${texts[r].slice(0, 80)}'); it cannot be ranked`);
    norms[r] = Math.sqrt(s);
    if (Math.abs(norms[r] - 1) > 1e-5) unit = false;
  }
  if (unit) return { data: raw, dim };
  const data = new Float32Array(raw.length);
  for (let r = 0; r < texts.length; r++) for (let d = r * dim; d < (r + 1) * dim; d++) data[d] = raw[d] / norms[r];
  return { data, dim };
}

/** float64 dot product rounded to float32: the same arithmetic as bruteForceTopK's scores. */
function dot(a: Float32Array, i: number, b: Float32Array, j: number, dim: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) s += a[i * dim + d] * b[j * dim + d];
  return Math.fround(s);
}

const absent = (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e));

async function readSplit(dir: string): Promise<SplitFile | null> {
  const text = await readFile(join(dir, 'split.json'), 'utf8').catch(absent);
  return text === null ? null : (JSON.parse(text) as SplitFile);
}

/** split.json names stable row indices of the source (edits leave gaps); here rows are 0..n-1. */
async function carrySplit(split: SplitFile, to: string, rows: IndexedRow[]): Promise<void> {
  const evalSet = new Set(split.eval);
  const evalRows = rows.flatMap((r, i) => (evalSet.has(r.index) ? [i] : []));
  await writeJsonAtomic(join(to, 'split.json'), { ...split, counts: { train: rows.length - evalRows.length, eval: evalRows.length }, eval: evalRows });
}
